package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// Migration from the schema-1 layout (one Badger database holding every
// session, keys "s\x00<session>\x00...") to one database per session.
//
// The old database is only ever opened read-only (or, when it was not
// closed cleanly, a private copy of it is opened), so it is never changed.
// Every session is written into a new database out of sight
// (<root>/.incoming/<name>), its records are counted against the old
// database, and only when every session checks out is the old database
// moved aside (never deleted) and the new sessions moved into place. A
// marker file (<root>/.migration) records the progress, so an interrupted
// migration resumes on the next Open:
//
//	stage "building": the new databases are being written; start again.
//	stage "moving":   every session checked out; finish moving.
//
// Where the old database is the store directory itself (--db pointing at
// an old database), its files are moved into <root>/.old-layout-<time>/.
// Otherwise (the old default $XDG_DATA_HOME/otscope/db) the directory is
// renamed to db.migrated-<time> beside it.
const (
	migrationMarker = ".migration"
	incomingDir     = ".incoming"
)

type migration struct {
	Source string `json:"source"` // the old database
	Aside  string `json:"aside"`  // where it goes when done
	Stage  string `json:"stage"`
}

// hasLegacy reports whether there is an old database to migrate.
func (s *Store) hasLegacy() bool {
	src, _ := s.legacySource()
	return src != ""
}

// legacySource returns the old database to migrate ("" for none) and
// whether it is the store directory itself.
func (s *Store) legacySource() (string, bool) {
	if fileExists(filepath.Join(s.root, "MANIFEST")) {
		return s.root, true
	}
	if def, err := DefaultDir(); err == nil && filepath.Clean(def) == s.root {
		if old, err := legacyDefaultDir(); err == nil && fileExists(filepath.Join(old, "MANIFEST")) {
			return old, false
		}
	}
	return "", false
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// migrateIfNeeded runs or resumes a migration.
func (s *Store) migrateIfNeeded() error {
	marker := filepath.Join(s.root, migrationMarker)
	var m migration
	b, err := os.ReadFile(marker)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("read %s: %w (a migration was interrupted; move the file aside to retry it)", marker, err)
		}
	case errors.Is(err, fs.ErrNotExist):
		src, _ := s.legacySource()
		if src == "" {
			return nil
		}
		stamp := time.Now().UTC().Format("20060102-150405")
		m = migration{Source: src, Stage: "building"}
		if src == s.root {
			m.Aside = filepath.Join(s.root, ".old-layout-"+stamp)
		} else {
			m.Aside = src + ".migrated-" + stamp
		}
	default:
		return fmt.Errorf("read %s: %w", marker, err)
	}
	if s.opts.ReadOnly && readOnlyFS(filepath.Dir(s.root)) {
		return fmt.Errorf("%s holds a database of an older otscope on read-only media; copy it to a writable disk and open it there to migrate it: %w", m.Source, ErrSchema)
	}
	if err := mkdirPrivate(s.root); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Source, err)
	}
	if m.Stage == "building" {
		if err := s.writeMarker(m); err != nil {
			return err
		}
		if err := s.buildMigration(m); err != nil {
			// Take back what this attempt wrote; the old database is as it was.
			_ = os.RemoveAll(filepath.Join(s.root, incomingDir))
			_ = os.Remove(filepath.Join(s.root, migrationMarker))
			return fmt.Errorf("migrate the sessions of %s (it is unchanged): %w", m.Source, err)
		}
		m.Stage = "moving"
		if err := s.writeMarker(m); err != nil {
			return err
		}
	}
	if err := s.finishMigration(m); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Source, err)
	}
	if s.logger != nil {
		s.logger.Printf("store: migrated the sessions of %s into %s; the old database is kept in %s", m.Source, s.root, m.Aside)
	}
	return nil
}

func (s *Store) writeMarker(m migration) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(s.root, migrationMarker), b); err != nil {
		return fmt.Errorf("migrate %s: %w", m.Source, err)
	}
	return nil
}

// legacyRecord is one record of the old database.
type legacyRecord struct {
	kind byte
	id   string
	val  []byte
}

// buildMigration writes every session of the old database into
// <root>/.incoming/<name> and verifies it.
func (s *Store) buildMigration(m migration) error {
	inc := filepath.Join(s.root, incomingDir)
	if err := os.RemoveAll(inc); err != nil { // a previous, unfinished attempt of ours
		return err
	}
	if err := mkdirPrivate(inc); err != nil {
		return err
	}
	db, cleanup, err := s.openLegacy(m.Source)
	if err != nil {
		return err
	}
	defer cleanup()
	sessions := map[string][]legacyRecord{}
	hasMeta := map[string]bool{}
	var size int64
	err = db.View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte("m\x00schema"))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("%s has no otscope schema version: %w", m.Source, ErrNotDatabase)
		}
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		v, _ := item.ValueCopy(nil)
		if n, err := strconv.Atoi(strings.TrimSpace(string(v))); err != nil || n != 1 {
			return fmt.Errorf("old database has schema %q, this otscope migrates schema 1: %w", v, ErrSchema)
		}
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, Prefix: legacySessionsPrefix})
		defer it.Close()
		for it.Seek(legacySessionsPrefix); it.ValidForPrefix(legacySessionsPrefix); it.Next() {
			name, kind, id, ok := splitLegacyKey(it.Item().Key())
			if !ok || ValidSessionName(name) != nil {
				return fmt.Errorf("unexpected key %q", it.Item().Key())
			}
			val, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			size += int64(len(val) + len(id))
			if kind == kindMeta {
				hasMeta[name] = true
			}
			sessions[name] = append(sessions[name], legacyRecord{kind: kind, id: id, val: val})
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.enoughSpace(s.root, size); err != nil {
		return err
	}
	names := make([]string, 0, len(sessions))
	for n := range sessions {
		if hasMeta[n] { // records without meta were left by an interrupted delete
			names = append(names, n)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		recs := sessions[name]
		want := map[byte]int{kindMeta: 2}
		fill := func(b *batch) error {
			if err := b.set(schemaKey, []byte(strconv.Itoa(SchemaVersion))); err != nil {
				return err
			}
			for _, r := range recs {
				if r.kind == kindMeta {
					var old struct {
						Created time.Time `json:"created"`
						Updated time.Time `json:"updated"`
					}
					_ = decodeValue(r.val, &old)
					v, err := encodeValue(dbMeta{Created: old.Created, Updated: old.Updated})
					if err != nil {
						return err
					}
					if err := b.set(metaKey, v); err != nil {
						return err
					}
					continue
				}
				want[r.kind]++
				if err := b.set(recordKey(r.kind, r.id), r.val); err != nil {
					return err
				}
			}
			return nil
		}
		dir := filepath.Join(inc, name)
		if err := s.buildSession(dir, fill); err != nil {
			return fmt.Errorf("session %q: %w", name, err)
		}
		if err := s.verifySession(dir, want); err != nil {
			return fmt.Errorf("session %q: %w", name, err)
		}
	}
	return nil
}

// openLegacy opens the old database without changing it: read-only, or a
// private copy when it was not closed cleanly.
func (s *Store) openLegacy(src string) (*badger.DB, func(), error) {
	if _, _, err := inspect(src, nil); err != nil {
		return nil, nil, fmt.Errorf("%w: %v; otscope left it untouched", ErrCorrupt, err)
	}
	o := s.badgerOptions(src, true)
	if readOnlyFS(src) {
		o = o.WithBypassLockGuard(true)
	}
	db, err := openBadger(o)
	if err == nil {
		return db, func() { _ = db.Close() }, nil
	}
	if strings.Contains(err.Error(), lockTextUnix) {
		return nil, nil, fmt.Errorf("an older otscope has %s open; close it first: %w", src, ErrLocked)
	}
	if !strings.Contains(err.Error(), truncateText) {
		return nil, nil, translateOpenErr(src, true, err)
	}
	tmp := filepath.Join(s.root, ".legacy-copy")
	_ = os.RemoveAll(tmp)
	if err := mkdirPrivate(tmp); err != nil {
		return nil, nil, err
	}
	if err := copyDBFiles(src, tmp); err != nil {
		_ = os.RemoveAll(tmp)
		return nil, nil, err
	}
	db, err = openBadger(s.badgerOptions(tmp, false))
	if err != nil {
		_ = os.RemoveAll(tmp)
		return nil, nil, translateOpenErr(src, true, err)
	}
	return db, func() { _ = db.Close(); _ = os.RemoveAll(tmp) }, nil
}

// finishMigration moves the old database aside and the new sessions into
// place; every step can be repeated after an interruption.
func (s *Store) finishMigration(m migration) error {
	if m.Source == s.root {
		if err := mkdirPrivate(m.Aside); err != nil {
			return err
		}
		entries, err := os.ReadDir(s.root)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.IsDir() && badgerFile(e.Name()) {
				if err := os.Rename(filepath.Join(s.root, e.Name()), filepath.Join(m.Aside, e.Name())); err != nil {
					return err
				}
			}
		}
	} else if fileExists(m.Source) {
		if err := os.Rename(m.Source, m.Aside); err != nil {
			return err
		}
	}
	inc := filepath.Join(s.root, incomingDir)
	entries, err := os.ReadDir(inc)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, e := range entries {
		dst := filepath.Join(s.root, e.Name())
		if fileExists(dst) {
			return fmt.Errorf("session %q exists in %s already; the migrated copy is kept in %s", e.Name(), s.root, filepath.Join(inc, e.Name()))
		}
		if err := os.Rename(filepath.Join(inc, e.Name()), dst); err != nil {
			return err
		}
	}
	if err := os.Remove(inc); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Remove(filepath.Join(s.root, migrationMarker))
}
