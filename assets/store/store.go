package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// SchemaVersion is the version of the key and value layout this package
// writes in a session database. Version 1 was one database for every
// session (migrated on Open); version 2 is one database per session.
const SchemaVersion = 2

// DefaultGCInterval is how often the store runs Badger's value-log garbage
// collection on sessions open for writing when Options.GCInterval is zero.
const DefaultGCInterval = 5 * time.Minute

// DefaultDir returns the default store directory:
// $XDG_DATA_HOME/otscope/sessions, or ~/.local/share/otscope/sessions when
// XDG_DATA_HOME is unset or not absolute (as the XDG base directory spec
// requires). The database of earlier versions, in the sibling directory
// "db", is migrated into it on the first Open.
func DefaultDir() (string, error) {
	base, err := dataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "sessions"), nil
}

// legacyDefaultDir is where otscope kept its one database before sessions
// had their own.
func legacyDefaultDir() (string, error) {
	base, err := dataDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "db"), nil
}

func dataDir() (string, error) {
	if x := os.Getenv("XDG_DATA_HOME"); x != "" && filepath.IsAbs(x) {
		return filepath.Join(x, "otscope"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the default database directory (pass --db DIR): %w", err)
	}
	return filepath.Join(home, ".local", "share", "otscope"), nil
}

// Options configure Open.
type Options struct {
	// Dir is the store directory (one subdirectory per session); "" means
	// DefaultDir(). It is created (mode 0700) unless ReadOnly is set.
	// Ignored when InMemory.
	Dir string
	// InMemory keeps everything in memory (tests, the demo); nothing is
	// written to disk.
	InMemory bool
	// Logger receives Badger's log lines, prefixed "badger: ", and the
	// store's notes (migration, stale owners). nil discards them.
	Logger *log.Logger
	// Verbose also passes Badger's Info and Debug lines to Logger.
	Verbose bool
	// ReadOnly never opens a session for writing: writes fail with
	// ErrReadOnly. Without it, sessions are still opened read-only until
	// the first write, so reading commands never change a database.
	ReadOnly bool
	// GCInterval is the period of value-log garbage collection; 0 means
	// DefaultGCInterval.
	GCInterval time.Duration
	// MinFree is the free space (bytes) the file system must keep beyond
	// what a write needs before the store writes; 0 means DefaultMinFree.
	MinFree int64
}

// Store is a directory of sessions, each its own Badger database opened
// lazily: read-only for reads, read-write (with an exclusive lock and an
// owner file) from the first write. Its methods are safe for concurrent use.
type Store struct {
	root   string // "" in memory
	opts   Options
	logger *log.Logger

	mu     sync.Mutex // guards open and closed
	open   map[string]*handle
	closed bool

	// verified holds the table files this store has checked (inspect).
	verified verifiedTables
}

// Open opens (creating if needed) the store described by o. An old
// single-database layout (schema 1) found in Dir, or in the default
// location of earlier versions, is migrated first (see migrate.go). Open
// itself opens no session database.
func Open(o Options) (*Store, error) {
	s := &Store{opts: o, logger: o.Logger, open: map[string]*handle{}}
	if o.InMemory {
		return s, nil
	}
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	dir = filepath.Clean(dir)
	s.root = dir
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if o.ReadOnly && !s.hasLegacy() {
			return nil, fmt.Errorf("no database in %s: %w", dir, ErrNotFound)
		}
	case err != nil:
		return nil, fmt.Errorf("open %s: %w", dir, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("%s is a file: %w", dir, ErrNotDatabase)
	}
	if err := s.checkRoot(); err != nil {
		return nil, err
	}
	if err := s.migrateIfNeeded(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) && !o.ReadOnly {
		if err := mkdirPrivate(dir); err != nil {
			return nil, fmt.Errorf("create database directory (pass --db DIR for another place): %w", err)
		}
	}
	return s, nil
}

// checkRoot refuses a directory that holds files that are neither
// sessions, store bookkeeping nor an old-layout database.
func (s *Store) checkRoot() error {
	entries, err := os.ReadDir(s.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open %s: %w", s.root, err)
	}
	for _, e := range entries {
		n := e.Name()
		switch {
		case e.IsDir():
		case strings.HasPrefix(n, "."):
		case badgerFile(n):
		default:
			return fmt.Errorf("%s holds %s: %w", s.root, n, ErrNotDatabase)
		}
	}
	return nil
}

// badgerFile reports whether name is a file Badger keeps in its directory.
func badgerFile(name string) bool {
	switch name {
	case "MANIFEST", "MANIFEST-REWRITE", "LOCK", "KEYREGISTRY", "KEYREGISTRY-REWRITE", "DISCARD":
		return true
	}
	switch filepath.Ext(name) {
	case ".sst", ".vlog", ".mem":
		return true
	}
	return false
}

// Dir returns the store directory, or "" for an in-memory store.
func (s *Store) Dir() string { return s.root }

// SessionDir returns the directory of the named session ("" in memory).
func (s *Store) SessionDir(name string) string {
	if s.root == "" {
		return ""
	}
	return filepath.Join(s.root, name)
}

// Close closes every open session database, waiting for operations in
// flight. Later calls return ErrClosed from every method; Close itself may
// be called again.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	hs := s.open
	s.open = nil
	s.mu.Unlock()
	var errs []error
	for _, h := range hs {
		h.mu.Lock()
		errs = append(errs, h.close())
		h.mu.Unlock()
	}
	return errors.Join(errs...)
}

// acquire returns the session's open database, opening it (read-only for
// reads, read-write for writes) if needed, with the handle held for an
// operation; call end when done. A read-only handle is closed when its
// last operation ends, so a reading store never keeps another process
// from writing the session; a read-write handle stays open (and the
// session locked) until Close. A write on a session open read-only waits
// for the reads in flight and reopens it read-write.
func (s *Store) acquire(name string, m mode) (h *handle, end func(), err error) {
	write := m != modeRead
	if err := ValidSessionName(name); err != nil {
		return nil, nil, err
	}
	if write && s.opts.ReadOnly {
		return nil, nil, ErrReadOnly
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, nil, ErrClosed
		}
		h = s.open[name]
		if h != nil && write && h.readOnly {
			delete(s.open, name)
			s.mu.Unlock()
			h.mu.Lock()
			_ = h.close()
			h.mu.Unlock()
			continue
		}
		break
	}
	if h == nil {
		if h, err = s.openHandle(name, m); err != nil {
			s.mu.Unlock()
			return nil, nil, err
		}
		s.open[name] = h
	}
	h.refs++
	h.mu.RLock()
	s.mu.Unlock()
	if write {
		h.wmu.Lock()
	}
	return h, func() {
		if write {
			h.wmu.Unlock()
		}
		h.mu.RUnlock()
		s.mu.Lock()
		h.refs--
		idle := h.readOnly && h.refs == 0 && s.open[h.name] == h
		if idle {
			delete(s.open, h.name)
		}
		s.mu.Unlock()
		if idle {
			h.mu.Lock()
			_ = h.close()
			h.mu.Unlock()
		}
	}, nil
}

// release closes the session's database if this store has it open, so its
// directory can be renamed, copied or deleted.
func (s *Store) release(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	h := s.open[name]
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(s.open, name)
	return h.close()
}

// sessionNames returns the names of the sessions on disk (or in memory),
// sorted.
func (s *Store) sessionNames() ([]string, error) {
	if s.root == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return nil, ErrClosed
		}
		var out []string
		for n := range s.open {
			out = append(out, n)
		}
		slices.Sort(out)
		return out, nil
	}
	entries, err := os.ReadDir(s.root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list sessions in %s: %w", s.root, err)
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && ValidSessionName(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	return out, nil
}
