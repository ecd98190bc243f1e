package store

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/dgraph-io/badger/v4/table"
	"github.com/dgraph-io/ristretto/v2/z"
)

// Small-footprint Badger settings: otscope runs on jump hosts and laptops,
// and every open session is its own database.
const (
	valueLogFileSize = 16 << 20
	// Badger's builder takes about three times memTableSize while it
	// turns a full memtable into a table; with 4 MiB rather than 8 a
	// 10,000-asset read peaks about 10 MB lower.
	memTableSize = 4 << 20
	// valueThreshold must fit Badger's largest batch, 15% of a memtable.
	valueThreshold = 256 << 10
	numMemtables   = 2
	blockCacheSize = 8 << 20
	indexCacheSize = 4 << 20
	numCompactors  = 2
	// level0Tables is how many tables level 0 holds before Badger's
	// compactors merge it into level 1, and level0Stall how many stall
	// writes until they have (Badger's defaults are 5 and 15). Each
	// writer's close adds a table, and a read of a 10,000-asset plant
	// writes six: with 5, the next writer to open the session (the TUI)
	// would merge them while it starts.
	level0Tables = 10
	level0Stall  = 20
	// level0MergeAtClose is how many level-0 tables a session must hold
	// when a writer opens it for that writer to merge level 0 when it
	// closes. Badger's compactors wait up to a second before their first
	// pass, so commands that write a little and exit (a small read, a
	// waiver, a walkdown edit) never merge: without this their tables
	// would pile up, each one more for every later open to check and every
	// load to read. A large read into a new or merged session does not pay
	// for the merge (about 0.3 of its 2.5 CPU-s at 10,000 assets); the next
	// writer to close does.
	level0MergeAtClose = 4
)

// dbDirName is the Badger directory inside a session directory.
const dbDirName = "db"

// mode says what acquire opens a session for.
type mode int

const (
	modeRead   mode = iota // read-only; the session must exist
	modeWrite              // read-write; the session must exist
	modeCreate             // read-write; create the session if missing
)

// handle is one session's open Badger database.
type handle struct {
	s        *Store
	name     string
	dir      string // the session directory ("" in memory)
	db       *badger.DB
	readOnly bool
	// tmpCopy is a private copy of the session's files opened instead of
	// them (a read of a database that was not closed cleanly); removed on
	// close.
	tmpCopy string
	// owner is the owner file this process wrote (read-write opens).
	owner string

	// refs counts the operations holding the handle (guarded by s.mu).
	refs int

	// mu is held for reading by every operation on the handle and for
	// writing by close. wmu serialises writers.
	mu  sync.RWMutex
	wmu sync.Mutex

	// meta is the session's metadata with its counts, kept current by
	// writers (read-write handles) and computed once by readers.
	metaMu     sync.Mutex
	meta       Meta
	metaLoaded bool

	// known holds the asset and conversation keys this writer has seen in
	// the database, so a flush that rewrites them (counters, last seen)
	// does not look each one up again to count new records. Guarded by
	// wmu: only writers use it.
	known map[string]struct{}
	// complete says known holds every asset and conversation key in the
	// database (loadMeta scans them when a writer opens), so a key missing
	// from it is new without a lookup. A failed write clears it: part of
	// its batch may have committed. Guarded by wmu.
	complete bool
	// counters holds the keys of the session's counter records (nil until
	// the first write reads them; see counterKeys). Guarded by wmu.
	counters map[string]struct{}

	done chan struct{} // closed by close to stop value-log GC
	wg   sync.WaitGroup
}

func (s *Store) badgerOptions(dir string, readOnly bool) badger.Options {
	var o badger.Options
	if s.root == "" {
		o = badger.DefaultOptions("").WithInMemory(true)
	} else {
		o = badger.DefaultOptions(dir).WithReadOnly(readOnly)
	}
	return o.
		WithLogger(newBadgerLogger(s.logger, s.opts.Verbose)).
		WithValueLogFileSize(valueLogFileSize).
		WithMemTableSize(memTableSize).
		WithValueThreshold(valueThreshold).
		WithNumMemtables(numMemtables).
		WithBlockCacheSize(blockCacheSize).
		WithIndexCacheSize(indexCacheSize).
		WithNumCompactors(numCompactors).
		WithNumLevelZeroTables(level0Tables).
		WithNumLevelZeroTablesStall(level0Stall).
		WithCompression(options.Snappy).
		// Flipped or missing bytes are an error, never silently fewer
		// records (issue 13, item 4): inspect has verified every table
		// before Badger opens them, so Badger checks each block as it reads
		// it rather than every table a second time at open.
		WithChecksumVerificationMode(options.OnBlockRead).
		WithVerifyValueChecksum(true).
		WithDetectConflicts(false). // one writer per session: the store serialises them
		WithMetricsEnabled(false).
		// A writer merges level 0 when it closes only if the session held
		// level0MergeAtClose tables when it opened (openDisk): merging at
		// every close cost a read of a 10,000-asset plant about 0.3 of its
		// 2.5 CPU-s. The merge writes at most those tables' size, which the
		// free-space margin (DefaultMinFree) covers as it covers any
		// compaction.
		WithCompactL0OnClose(false)
}

// openHandle opens the named session's database. The caller holds s.mu.
func (s *Store) openHandle(name string, m mode) (*handle, error) {
	h := &handle{s: s, name: name, readOnly: m == modeRead, done: make(chan struct{})}
	if s.root == "" {
		// In memory, a handle lives from creation to Close.
		if m != modeCreate {
			return nil, fmt.Errorf("session %q: %w", name, ErrNotFound)
		}
		db, err := openBadger(s.badgerOptions("", false))
		if err != nil {
			return nil, fmt.Errorf("open in-memory session %q: %w", name, oneLine{err})
		}
		h.db, h.readOnly = db, false
	} else if err := h.openDisk(m); err != nil {
		return nil, err
	}
	if err := h.checkSchema(); err != nil {
		_ = h.close()
		return nil, err
	}
	if !h.readOnly {
		// Readers compute the metadata when asked (currentMeta).
		if err := h.loadMeta(); err != nil {
			_ = h.close()
			return nil, err
		}
	}
	if !h.readOnly && h.dir != "" {
		tighten(h.dir)
		h.wg.Add(1)
		go h.gcLoop()
	}
	return h, nil
}

// openDisk opens the session's database on disk, after checking its files.
func (h *handle) openDisk(m mode) error {
	s, name := h.s, h.name
	h.dir = filepath.Join(s.root, name)
	dbDir := filepath.Join(h.dir, dbDirName)
	st, level0, err := inspect(dbDir, &s.verified)
	if err != nil {
		return damagedErr(name, h.dir, err)
	}
	if st == dirMissing && m != modeCreate {
		return fmt.Errorf("session %q: %w", name, ErrNotFound)
	}
	if m == modeRead {
		return h.openReadOnly(dbDir)
	}
	if st == dirMissing {
		if err := mkdirPrivate(h.dir); err != nil {
			return fmt.Errorf("create session %q: %w", name, err)
		}
	}
	if err := h.s.enoughSpace(h.dir, 0); err != nil {
		return fmt.Errorf("open session %q for writing: %w", name, err)
	}
	if err := mkdirPrivate(dbDir); err != nil {
		return fmt.Errorf("create session %q: %w", name, err)
	}
	db, err := openBadger(s.badgerOptions(dbDir, false).WithCompactL0OnClose(level0 >= level0MergeAtClose))
	if err != nil {
		return h.openErr(dbDir, st == dirDatabase, err)
	}
	h.db = db
	if err := h.claim(); err != nil {
		_ = db.Close()
		h.db = nil
		return err
	}
	return nil
}

// openReadOnly opens the database without changing it. Badger refuses a
// read-only open of a database that was not closed cleanly (its log needs
// truncating): then a private copy is opened instead, so the original stays
// as it is. On read-only media, where Badger cannot create its lock file,
// the lock is bypassed (nobody can be writing there).
func (h *handle) openReadOnly(dbDir string) error {
	o := h.s.badgerOptions(dbDir, true)
	if readOnlyFS(dbDir) {
		o = o.WithBypassLockGuard(true)
	}
	db, err := openBadger(o)
	if err == nil {
		h.db = db
		return nil
	}
	if !strings.Contains(err.Error(), truncateText) {
		return h.openErr(dbDir, true, err)
	}
	tmp, cerr := os.MkdirTemp("", "otscope-"+h.name+"-")
	if cerr != nil {
		return fmt.Errorf("session %q was not closed cleanly and cannot be copied for reading: %w", h.name, cerr)
	}
	if cerr = copyDBFiles(dbDir, tmp); cerr != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("session %q was not closed cleanly and cannot be copied for reading: %w", h.name, cerr)
	}
	db, err = openBadger(h.s.badgerOptions(tmp, false))
	if err != nil {
		_ = os.RemoveAll(tmp)
		return h.openErr(dbDir, true, err)
	}
	h.db, h.tmpCopy = db, tmp
	return nil
}

// openErr translates an error of badger.Open on the session's dbDir.
func (h *handle) openErr(dbDir string, existed bool, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, lockTextUnix) || strings.Contains(msg, lockTextWindows):
		return h.lockedErr()
	case strings.Contains(msg, noSpaceText):
		return fmt.Errorf("open session %q: %w: %w", h.name, ErrDiskFull, oneLine{err})
	}
	e := translateOpenErr(dbDir, existed, err)
	if errors.Is(e, ErrCorrupt) {
		return damagedErr(h.name, h.dir, oneLine{err})
	}
	return fmt.Errorf("session %q: %w", h.name, e)
}

// openBadger calls badger.Open and turns a panic inside it (Badger panics
// on some kinds of damaged files) into an error.
func openBadger(opts badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("badger failed while opening: %s", panicReason(r))
		}
	}()
	return badger.Open(opts)
}

// view runs fn in a read transaction. A fault while reading a memory-mapped
// file (a file truncated under the database) or a panic inside Badger on a
// damaged block becomes an error naming the session.
func (h *handle) view(fn func(txn *badger.Txn) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: reading failed: %s", ErrCorrupt, panicReason(r))
		}
	}()
	return h.db.View(fn)
}

// readErr wraps an error of a read of the session.
func (h *handle) readErr(what string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if errors.Is(err, ErrCorrupt) || isChecksumErr(err) {
		return damagedErr(h.name, h.dir, fmt.Errorf("%s: %w", what, oneLine{err}))
	}
	return fmt.Errorf("%s of session %q: %w", what, h.name, oneLine{err})
}

// writeErr wraps an error of a write to the session.
func (h *handle) writeErr(what string, err error) error {
	if strings.Contains(err.Error(), noSpaceText) {
		return fmt.Errorf("%s of session %q: %w", what, h.name, ErrDiskFull)
	}
	return fmt.Errorf("%s of session %q: %w", what, h.name, oneLine{err})
}

func isChecksumErr(err error) bool {
	m := strings.ToLower(err.Error())
	return strings.Contains(m, "checksum") || strings.Contains(m, "corrupt")
}

// sync flushes Badger's write-ahead log to disk (a no-op in memory).
func (h *handle) sync() error {
	if h.dir == "" {
		return nil
	}
	if err := h.db.Sync(); err != nil {
		return h.writeErr("sync", err)
	}
	return nil
}

// checkSpace returns ErrDiskFull unless the session's file system has room
// for a write of about n bytes plus the store's margin.
func (h *handle) checkSpace(n int64) error {
	if h.dir == "" {
		return nil
	}
	if err := h.s.enoughSpace(h.dir, n); err != nil {
		return fmt.Errorf("write to session %q: %w", h.name, err)
	}
	return nil
}

// close stops GC, closes the database and removes the owner file and any
// private copy. The caller holds h.mu for writing.
func (h *handle) close() error {
	if h.db == nil {
		return nil
	}
	close(h.done)
	h.wg.Wait()
	err := h.db.Close()
	h.db = nil
	if err != nil {
		err = fmt.Errorf("close session %q: %w", h.name, oneLine{err})
	}
	if h.tmpCopy != "" {
		_ = os.RemoveAll(h.tmpCopy)
	}
	if !h.readOnly && h.dir != "" {
		tighten(h.dir)
	}
	h.release()
	return err
}

// gcLoop runs value-log GC until close.
func (h *handle) gcLoop() {
	defer h.wg.Done()
	interval := h.s.opts.GCInterval
	if interval <= 0 {
		interval = DefaultGCInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
		}
		for {
			err := h.db.RunValueLogGC(0.5)
			if err != nil {
				if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) && h.s.logger != nil {
					h.s.logger.Printf("store: session %s: value-log GC: %v", h.name, err)
				}
				break
			}
			select {
			case <-h.done:
				return
			default:
			}
		}
	}
}

// dirState is what inspect found in a session's Badger directory.
type dirState int

const (
	dirMissing  dirState = iota // no directory, or an empty one
	dirDatabase                 // a database whose files agree with its MANIFEST
)

// inspect checks a Badger directory before Badger opens it, because Badger
// "repairs" what it does not expect: it deletes table files its MANIFEST
// does not name (even read-only) and truncates a MANIFEST with a partial
// last entry. A directory where that would lose data is reported as
// damaged and left alone: a missing MANIFEST beside data files, a MANIFEST
// that does not parse, table files it does not name, tables it names that
// are missing or empty.
//
// A table this store has verified before is not decompressed and checked
// again while its file is the same (see verifiedTables); vt may be nil.
// level0 is how many of the tables are in level 0.
func inspect(dir string, vt *verifiedTables) (st dirState, level0 int, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return dirMissing, 0, nil
	}
	if err != nil {
		return dirMissing, 0, err
	}
	var (
		hasManifest bool
		tables      = map[uint64]int64{}
		infos       = map[uint64]fs.FileInfo{}
		data        []string
	)
	for _, e := range entries {
		name := e.Name()
		switch {
		case name == "MANIFEST":
			hasManifest = true
		case strings.HasSuffix(name, ".sst"):
			var id uint64
			if _, err := fmt.Sscanf(name, "%06d.sst", &id); err != nil {
				return dirMissing, 0, fmt.Errorf("unexpected table file %s", name)
			}
			fi, err := e.Info()
			if err != nil {
				return dirMissing, 0, err
			}
			tables[id] = fi.Size()
			infos[id] = fi
			data = append(data, name)
		case strings.HasSuffix(name, ".vlog"), strings.HasSuffix(name, ".mem"):
			data = append(data, name)
		}
	}
	if !hasManifest {
		if len(data) > 0 {
			return dirMissing, 0, fmt.Errorf("MANIFEST is missing beside %d data files", len(data))
		}
		if len(entries) > 0 {
			return dirMissing, 0, fmt.Errorf("%s holds files but no database", dir)
		}
		return dirMissing, 0, nil
	}
	f, err := os.Open(filepath.Join(dir, "MANIFEST"))
	if err != nil {
		return dirMissing, 0, err
	}
	defer f.Close()
	mf, _, err := replayManifest(f)
	if err != nil {
		return dirMissing, 0, fmt.Errorf("MANIFEST is unreadable: %w", err)
	}
	var unnamed, missing, empty int
	for id := range tables {
		if _, ok := mf.Tables[id]; !ok {
			unnamed++
		}
	}
	for id := range mf.Tables {
		size, ok := tables[id]
		switch {
		case !ok:
			missing++
		case size == 0:
			empty++
		}
	}
	switch {
	case unnamed > 0:
		return dirMissing, 0, fmt.Errorf("MANIFEST does not name %d of %d table files (truncated or replaced)", unnamed, len(tables))
	case missing > 0:
		return dirMissing, 0, fmt.Errorf("%d table files named by MANIFEST are missing", missing)
	case empty > 0:
		return dirMissing, 0, fmt.Errorf("%d table files are empty", empty)
	}
	// Badger skips a table whose checksum fails ("Ignoring table") and
	// panics in its own goroutine on a truncated one: check every table
	// here first, where a failure is an error.
	// Tables are verified side by side, one per core; the first damaged
	// one by number is reported.
	ids := slices.Sorted(maps.Keys(mf.Tables))
	errs := make([]error, len(ids))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ids)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(ids); i = int(next.Add(1) - 1) {
				errs[i] = vt.verify(filepath.Join(dir, fmt.Sprintf("%06d.sst", ids[i])), infos[ids[i]], mf.Tables[ids[i]].Compression)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return dirMissing, 0, err
		}
	}
	for _, t := range mf.Tables {
		if t.Level == 0 {
			level0++
		}
	}
	return dirDatabase, level0, nil
}

// verifyTable opens a table file read-only with Badger's table reader and
// verifies the checksums of its index and every block.
func verifyTable(path string, c options.CompressionType) error {
	_, err := verifyTableSum(path, c)
	return err
}

// verifyTableSum is verifyTable that also returns the CRC-32C of the file's
// bytes as they were verified.
func verifyTableSum(path string, c options.CompressionType) (sum uint32, err error) {
	err = withTable(path, c, options.OnTableRead, func(_ *table.Table, data []byte) error {
		sum = crc32.Checksum(data, castagnoli)
		return nil
	})
	return sum, err
}

// withTable opens a table file read-only, checked by mode, and calls fn
// with it and the file's bytes. Badger's reader trusts the lengths and
// offsets it reads, so damaged bytes can make it panic or fault: that is
// returned as the table's damage, in words (panicReason).
func withTable(path string, c options.CompressionType, mode options.ChecksumVerificationMode, fn func(t *table.Table, data []byte) error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("table %s is damaged: %s", filepath.Base(path), panicReason(r))
		}
	}()
	mf, err := z.OpenMmapFile(path, os.O_RDONLY, 0)
	if err != nil {
		return fmt.Errorf("table %s: %w", filepath.Base(path), err)
	}
	t, err := table.OpenTable(mf, table.Options{ChkMode: mode, Compression: c, BlockSize: 4 << 10})
	if err != nil {
		// OpenTable has closed the file on most of its error paths; a
		// mapping left open here is never read again.
		return fmt.Errorf("table %s is damaged: %w", filepath.Base(path), oneLine{err})
	}
	defer t.MmapFile.Close(-1)
	return fn(t, mf.Data)
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// panicReason is what a user reads when Badger's reader panics on damaged
// bytes (it trusts lengths and offsets it read from the file): a runtime
// error (nil pointer, index out of range, fault) says the bytes do not
// decode, not where Badger crashed; any other panic value in one line.
func panicReason(r any) string {
	if _, ok := r.(runtime.Error); ok {
		return "its bytes do not decode, lengths or offsets in it are damaged"
	}
	return strings.Join(strings.Fields(fmt.Sprint(r)), " ")
}

// verifiedTables remembers the table files a store has verified, so a
// command that reads a session several times (its records, then each
// journal: every read opens the database anew) decompresses and checks
// each table once. Badger never rewrites a table file: a new table gets a
// new number. A table counts as verified again only while its file has
// the same size and modification time and its bytes the same CRC-32C as
// when it was verified: checking that reads the file once (a few
// milliseconds for a 10,000-asset session) instead of decompressing every
// block, so a flipped byte is still an error.
type verifiedTables struct {
	mu sync.Mutex
	m  map[string]tableStamp
}

// tableStamp identifies a table file's contents.
type tableStamp struct {
	size  int64
	mtime time.Time
	comp  options.CompressionType
	sum   uint32
}

// verify checks the table file at path (fi: its directory entry's
// information) as verifyTable does, unless this store verified the same
// bytes before. A nil vt always verifies.
func (vt *verifiedTables) verify(path string, fi fs.FileInfo, c options.CompressionType) error {
	if vt == nil {
		return verifyTable(path, c)
	}
	stamp := tableStamp{size: fi.Size(), mtime: fi.ModTime(), comp: c}
	vt.mu.Lock()
	known, seen := vt.m[path]
	vt.mu.Unlock()
	if stamp.sum = known.sum; seen && stamp == known {
		if sum, err := fileCRC(path); err == nil && sum == known.sum {
			return nil
		}
	}
	sum, err := verifyTableSum(path, c)
	vt.mu.Lock()
	defer vt.mu.Unlock()
	if err != nil {
		delete(vt.m, path)
		return err
	}
	if vt.m == nil {
		vt.m = map[string]tableStamp{}
	}
	stamp.sum = sum
	vt.m[path] = stamp
	return nil
}

// fileCRC returns the CRC-32C of the file's bytes.
func fileCRC(path string) (uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(h, f, buf); err != nil {
		return 0, err
	}
	return h.Sum32(), nil
}

// replayManifest parses a MANIFEST with Badger's own reader, turning a
// panic on garbage into an error.
func replayManifest(f *os.File) (mf badger.Manifest, off int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New(panicReason(r))
		}
	}()
	return badger.ReplayManifestFile(f, 0, badger.DefaultOptions(""))
}

// copyDBFiles copies the database files of src into dst (both directories).
func copyDBFiles(src, dst string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "LOCK" || !badgerFile(e.Name()) {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := out.ReadFrom(in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
