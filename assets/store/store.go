package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

// SchemaVersion is the version of the key and value layout this package
// writes. A database with a higher version is refused with ErrSchema.
const SchemaVersion = 1

// DefaultGCInterval is how often the store runs Badger's value-log garbage
// collection when Options.GCInterval is zero.
const DefaultGCInterval = 5 * time.Minute

// Small-footprint Badger settings: otscope runs on jump hosts and laptops.
const (
	valueLogFileSize = 64 << 20
	memTableSize     = 16 << 20
	numMemtables     = 2
	blockCacheSize   = 16 << 20
	indexCacheSize   = 8 << 20
	numCompactors    = 2
)

// DefaultDir returns the default database directory:
// $XDG_DATA_HOME/otscope/db, or ~/.local/share/otscope/db when XDG_DATA_HOME
// is unset or not absolute (as the XDG base directory spec requires).
func DefaultDir() (string, error) {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "otscope", "db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the default database directory (pass --db DIR): %w", err)
	}
	return filepath.Join(home, ".local", "share", "otscope", "db"), nil
}

// Options configure Open.
type Options struct {
	// Dir is the database directory; "" means DefaultDir(). It is created
	// (with its parents) unless ReadOnly is set. Ignored when InMemory.
	Dir string
	// InMemory keeps everything in memory (tests, the demo); nothing is
	// written to disk.
	InMemory bool
	// Logger receives Badger's log lines, prefixed "badger: ". nil discards
	// them. Badger never writes to the terminal.
	Logger *log.Logger
	// Verbose also passes Badger's Info and Debug lines to Logger; by default
	// only warnings and errors are logged.
	Verbose bool
	// ReadOnly opens an existing database without changing it (for export
	// and listing commands). Badger still takes a shared lock on the
	// directory, so a read-only open fails with ErrLocked while a
	// read-write otscope holds the database (several read-only opens may
	// share it). A database that was not closed cleanly gives ErrUnclean.
	// Read-only mode is not supported by Badger on Windows.
	ReadOnly bool
	// GCInterval is the period of value-log garbage collection; 0 means
	// DefaultGCInterval. GC does not run for InMemory or ReadOnly stores.
	GCInterval time.Duration
}

// Store is an open otscope database. Its methods are safe for concurrent use.
type Store struct {
	db       *badger.DB
	dir      string
	readOnly bool
	logger   *log.Logger

	// mu is held for reading by every operation and for writing by Close,
	// so Close waits for operations in flight and later ones get ErrClosed.
	// It guards isClosed.
	mu       sync.RWMutex
	isClosed bool
	// wmu serialises writers (Save, EnsureSession, DeleteSession), so that
	// the read-modify-write of session meta records never conflicts. Taken
	// after mu.
	wmu sync.Mutex

	done      chan struct{}  // closed by Close to stop the GC goroutine
	wg        sync.WaitGroup // the GC goroutine
	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the database described by o, checks or
// sets its schema version and starts value-log GC. Errors wrap ErrLocked,
// ErrCorrupt, ErrSchema, ErrNotDatabase, ErrUnclean or (read-only open of a
// missing database) ErrNotFound. Open never deletes or rewrites existing
// data when it fails.
func Open(o Options) (s *Store, err error) {
	var bopts badger.Options
	dir := ""
	existed := false
	if o.InMemory {
		bopts = badger.DefaultOptions("").WithInMemory(true)
	} else {
		dir = o.Dir
		if dir == "" {
			if dir, err = DefaultDir(); err != nil {
				return nil, err
			}
		}
		if existed, err = prepareDir(dir, o.ReadOnly); err != nil {
			return nil, err
		}
		bopts = badger.DefaultOptions(dir).WithReadOnly(o.ReadOnly)
	}
	bopts = bopts.
		WithLogger(newBadgerLogger(o.Logger, o.Verbose)).
		WithValueLogFileSize(valueLogFileSize).
		WithMemTableSize(memTableSize).
		WithNumMemtables(numMemtables).
		WithBlockCacheSize(blockCacheSize).
		WithIndexCacheSize(indexCacheSize).
		WithNumCompactors(numCompactors).
		WithCompression(options.Snappy).
		WithMetricsEnabled(false)

	db, err := openBadger(bopts)
	if err != nil {
		if o.InMemory {
			return nil, fmt.Errorf("open in-memory database: %w", oneLine{err})
		}
		return nil, translateOpenErr(dir, existed, err)
	}
	s = &Store{db: db, dir: dir, readOnly: o.ReadOnly, logger: o.Logger, done: make(chan struct{})}
	if err := s.checkSchema(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if !o.InMemory && !o.ReadOnly {
		interval := o.GCInterval
		if interval <= 0 {
			interval = DefaultGCInterval
		}
		s.wg.Add(1)
		go s.gcLoop(interval)
	}
	return s, nil
}

// openBadger calls badger.Open and turns a panic inside it (Badger panics
// on some kinds of damaged files) into an error.
func openBadger(opts badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("badger panicked while opening: %v", r)
		}
	}()
	return badger.Open(opts)
}

// badgerFile reports whether name is a file Badger keeps in its directory.
func badgerFile(name string) bool {
	switch name {
	case badger.ManifestFilename, "MANIFEST-REWRITE", "LOCK", "KEYREGISTRY", "KEYREGISTRY-REWRITE", "DISCARD":
		return true
	}
	switch filepath.Ext(name) {
	case ".sst", ".vlog", ".mem":
		return true
	}
	return false
}

// prepareDir checks dir before Badger touches it: it must be a directory
// that is empty, new, or a Badger database. It creates dir unless readOnly.
// existed reports whether dir already held a Badger MANIFEST.
func prepareDir(dir string, readOnly bool) (existed bool, err error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if readOnly {
			return false, fmt.Errorf("no database in %s: %w", dir, ErrNotFound)
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return false, fmt.Errorf("create database directory (pass --db DIR for another place): %w", err)
		}
		return false, nil
	case err != nil:
		return false, fmt.Errorf("open %s: %w", dir, err)
	case !fi.IsDir():
		return false, fmt.Errorf("%s is a file: %w", dir, ErrNotDatabase)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("open %s: %w", dir, err)
	}
	for _, e := range entries {
		if e.Name() == badger.ManifestFilename {
			existed = true
		}
	}
	if existed {
		return true, nil
	}
	for _, e := range entries {
		if !badgerFile(e.Name()) {
			return false, fmt.Errorf("%s holds %s: %w", dir, e.Name(), ErrNotDatabase)
		}
	}
	if readOnly {
		return false, fmt.Errorf("no database in %s: %w", dir, ErrNotFound)
	}
	return false, nil
}

// checkSchema reads the schema version; on a new, empty database it writes
// SchemaVersion.
func (s *Store) checkSchema() error {
	var (
		found   bool
		version string
		empty   = true
	)
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(schemaKey)
		switch {
		case err == nil:
			found = true
			return item.Value(func(v []byte) error {
				version = string(v)
				return nil
			})
		case !errors.Is(err, badger.ErrKeyNotFound):
			return err
		}
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	if err != nil {
		return s.corrupt(fmt.Errorf("read schema version: %w", err))
	}
	if !found {
		if !empty {
			return fmt.Errorf("%s has no otscope schema version: %w", s.where(), ErrNotDatabase)
		}
		if s.readOnly {
			return nil
		}
		if err := s.db.Update(func(txn *badger.Txn) error {
			return txn.Set(schemaKey, []byte(strconv.Itoa(SchemaVersion)))
		}); err != nil {
			return fmt.Errorf("write schema version to %s: %w", s.where(), oneLine{err})
		}
		return s.sync()
	}
	v, err := strconv.Atoi(strings.TrimSpace(version))
	if err != nil || v < 1 {
		return s.corrupt(fmt.Errorf("schema version %q is not a number", version))
	}
	if v > SchemaVersion {
		return fmt.Errorf("%s has schema %d, this otscope knows %d: %w", s.where(), v, SchemaVersion, ErrSchema)
	}
	return nil
}

// where names the database in messages.
func (s *Store) where() string {
	if s.dir == "" {
		return "in-memory database"
	}
	return s.dir
}

// corrupt wraps cause in ErrCorrupt with the advice for this store.
func (s *Store) corrupt(cause error) error {
	return corruptErr(s.where(), oneLine{cause})
}

// sync flushes Badger's write-ahead log to disk (a no-op in memory).
func (s *Store) sync() error {
	if s.dir == "" {
		return nil
	}
	if err := s.db.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", s.dir, oneLine{err})
	}
	return nil
}

// Dir returns the database directory, or "" for an in-memory store.
func (s *Store) Dir() string { return s.dir }

// Close stops value-log GC, waits for operations in flight and closes the
// database. It is safe to call more than once; later calls return the first
// call's result. Methods called after Close return ErrClosed.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.wg.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		s.isClosed = true
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close %s: %w", s.where(), oneLine{err})
		}
	})
	return s.closeErr
}

// hold read-locks mu for an operation, or returns ErrClosed. On success the
// caller must call s.mu.RUnlock.
func (s *Store) hold() error {
	s.mu.RLock()
	if s.isClosed {
		s.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

// gcLoop runs value-log GC every interval until Close. Each round rewrites
// value-log files until Badger reports there is nothing worth rewriting.
func (s *Store) gcLoop(interval time.Duration) {
	defer s.wg.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		for {
			err := s.db.RunValueLogGC(0.5)
			if err != nil {
				if !errors.Is(err, badger.ErrNoRewrite) && !errors.Is(err, badger.ErrRejected) && s.logger != nil {
					s.logger.Printf("store: value-log GC: %v", err)
				}
				break
			}
			select {
			case <-s.done:
				return
			default:
			}
		}
	}
}

// badgerLogger adapts a *log.Logger to badger.Logger.
type badgerLogger struct {
	l       *log.Logger
	verbose bool
}

// newBadgerLogger returns nil (Badger then logs nothing) when l is nil.
func newBadgerLogger(l *log.Logger, verbose bool) badger.Logger {
	if l == nil {
		return nil
	}
	return &badgerLogger{l: l, verbose: verbose}
}

// print writes one log line per line of the message, each prefixed, so
// Badger's multi-line reports stay greppable in otscope's log file.
func (b *badgerLogger) print(level, format string, args []any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	for line := range strings.SplitSeq(msg, "\n") {
		b.l.Print("badger: " + level + line)
	}
}

// Errorf implements badger.Logger.
func (b *badgerLogger) Errorf(format string, args ...any) { b.print("ERROR: ", format, args) }

// Warningf implements badger.Logger.
func (b *badgerLogger) Warningf(format string, args ...any) { b.print("WARNING: ", format, args) }

// Infof implements badger.Logger; it logs only when Options.Verbose is set.
func (b *badgerLogger) Infof(format string, args ...any) {
	if b.verbose {
		b.print("INFO: ", format, args)
	}
}

// Debugf implements badger.Logger; it logs only when Options.Verbose is set.
func (b *badgerLogger) Debugf(format string, args ...any) {
	if b.verbose {
		b.print("DEBUG: ", format, args)
	}
}
