package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/badger/v4/y"
)

// Badger's entry meta bits (badger/v4 value.go), for reading table files
// directly.
const (
	badgerBitDelete       = 1 << 0
	badgerBitValuePointer = 1 << 1
)

// ErrNothingReadable: Salvage found no record it could read, and made no
// session.
var ErrNothingReadable = errors.New("no record could be read")

// SalvageReport says what Salvage read.
type SalvageReport struct {
	// Records is the number of records written to the new session.
	Records int
	// Tables lists the table files read; Damaged those that failed their
	// checksums and were not read (with why); Lost counts records whose
	// value was in a value-log file (not read) or that were deleted.
	Tables  []string
	Damaged []string
	Lost    int
}

// Salvage reads what can be read of a damaged session into a new session
// into (which must not exist), leaving the damaged one as it is: every
// table file of it that passes its checksums, whether or not its MANIFEST
// still names it, newest version of each record first. Records that were
// only in the write-ahead log (.mem files: the writes since the last
// flush to a table) are not recovered.
func (s *Store) Salvage(name, into string) (SalvageReport, error) {
	var rep SalvageReport
	if err := ValidSessionName(name); err != nil {
		return rep, err
	}
	if err := ValidSessionName(into); err != nil {
		return rep, err
	}
	if s.opts.ReadOnly {
		return rep, ErrReadOnly
	}
	if s.root == "" {
		return rep, fmt.Errorf("in-memory store: %w", errors.ErrUnsupported)
	}
	if _, err := os.Lstat(filepath.Join(s.root, into)); err == nil {
		return rep, fmt.Errorf("salvage session %q: %q: %w", name, into, ErrExists)
	}
	if o, ok := s.SessionOwner(name); ok {
		return rep, fmt.Errorf("session %q is being written by %s: %w", name, o, ErrLocked)
	}
	dbDir := filepath.Join(s.root, name, dbDirName)
	compression := map[uint64]options.CompressionType{}
	if f, err := os.Open(filepath.Join(dbDir, "MANIFEST")); err == nil {
		if mf, _, err := replayManifest(f); err == nil {
			for id, tm := range mf.Tables {
				compression[id] = tm.Compression
			}
		}
		f.Close()
	}
	ssts, err := filepath.Glob(filepath.Join(dbDir, "*.sst"))
	if err != nil || len(ssts) == 0 {
		if _, serr := os.Stat(dbDir); serr != nil {
			return rep, fmt.Errorf("session %q: %w", name, ErrNotFound)
		}
	}
	type entry struct {
		version uint64
		meta    byte
		value   []byte
	}
	latest := map[string]entry{}
	for _, path := range ssts {
		id, ok := table.ParseFileID(path)
		if !ok {
			continue
		}
		c, ok := compression[id]
		if !ok {
			c = options.Snappy // what otscope writes
		}
		if err := verifyTable(path, c); err != nil {
			rep.Damaged = append(rep.Damaged, err.Error())
			continue
		}
		err := readTable(path, c, func(key []byte, vs y.ValueStruct) {
			k := string(y.ParseKey(key))
			v := y.ParseTs(key)
			if e, ok := latest[k]; ok && e.version >= v {
				return
			}
			latest[k] = entry{version: v, meta: vs.Meta, value: bytes.Clone(vs.Value)}
		})
		if err != nil {
			rep.Damaged = append(rep.Damaged, err.Error())
			continue
		}
		rep.Tables = append(rep.Tables, filepath.Base(path))
	}
	keys := make([]string, 0, len(latest))
	for k, e := range latest {
		switch {
		case strings.HasPrefix(k, "!badger!"):
		case e.meta&(badgerBitDelete|badgerBitValuePointer) != 0:
			rep.Lost++
		default:
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		// a session of no records would only hide the damage
		why := "no table file"
		if len(rep.Damaged) > 0 {
			why = strings.Join(rep.Damaged, "; ")
		}
		return rep, fmt.Errorf("salvage session %q: %w (%s); %s is left as it was: restore it from an exported bundle, or delete it", name, ErrNothingReadable, why, name)
	}
	slices.Sort(keys)
	want := map[byte]int{}
	fill := func(b *batch) error {
		for _, k := range keys {
			if k == string(schemaKey) {
				continue
			}
			if err := b.set([]byte(k), latest[k].value); err != nil {
				return err
			}
			want[k[0]]++
		}
		want[kindMeta]++
		return b.set(schemaKey, []byte(strconv.Itoa(SchemaVersion)))
	}
	if err := s.enoughSpace(s.root, 0); err != nil {
		return rep, fmt.Errorf("salvage session %q: %w", name, err)
	}
	tmp := filepath.Join(s.root, ".salvage-"+into+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := s.buildSession(tmp, fill); err != nil {
		_ = os.RemoveAll(tmp)
		return rep, fmt.Errorf("salvage session %q: %w", name, err)
	}
	if err := s.verifySession(tmp, want); err != nil {
		_ = os.RemoveAll(tmp)
		return rep, fmt.Errorf("salvage session %q: %w", name, err)
	}
	if err := os.Rename(tmp, filepath.Join(s.root, into)); err != nil {
		_ = os.RemoveAll(tmp)
		return rep, fmt.Errorf("salvage session %q: %w", name, err)
	}
	for _, n := range want {
		rep.Records += n
	}
	rep.Records-- // the schema version is not a record
	return rep, nil
}

// readTable calls fn for every entry of a table file (which passed
// verifyTable), read-only.
func readTable(path string, c options.CompressionType, fn func(key []byte, vs y.ValueStruct)) error {
	return withTable(path, c, options.OnBlockRead, func(t *table.Table, _ []byte) error {
		it := t.NewIterator(0)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			fn(it.Key(), it.ValueCopy())
		}
		return nil
	})
}
