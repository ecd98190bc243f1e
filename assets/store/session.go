package store

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	badger "github.com/dgraph-io/badger/v4"
)

// MaxSessionNameLen is the longest session name ValidSessionName accepts.
const MaxSessionNameLen = 64

// ValidSessionName returns nil when name is 1-64 characters of
// [A-Za-z0-9._-] and does not start with '.'; otherwise an error wrapping
// ErrBadName. A valid name is a safe directory name.
func ValidSessionName(name string) error {
	if name == "" || len(name) > MaxSessionNameLen || name[0] == '.' {
		return fmt.Errorf("%q: %w", name, ErrBadName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return fmt.Errorf("%q: %w", name, ErrBadName)
		}
	}
	return nil
}

// EnsureSession creates the session named name unless it exists. created
// reports whether it was created (with Created and Updated set to now).
// It opens the session for writing.
func (s *Store) EnsureSession(name string, now time.Time) (created bool, err error) {
	h, end, err := s.acquire(name, modeCreate)
	if err != nil {
		return false, err
	}
	defer end()
	err = h.db.Update(func(txn *badger.Txn) error {
		_, found, err := readDBMeta(txn)
		if err != nil || found {
			return err
		}
		v, err := encodeValue(dbMeta{Created: now.Round(0), Updated: now.Round(0)})
		if err != nil {
			return err
		}
		created = true
		return txn.Set(metaKey, v)
	})
	if err != nil {
		return false, h.writeErr("create", err)
	}
	if created {
		h.metaMu.Lock()
		h.meta.Created, h.meta.Updated = now.Round(0), now.Round(0)
		h.metaMu.Unlock()
		if err := h.sync(); err != nil {
			return false, err
		}
	}
	return created, h.writeMetaFile()
}

// exclusive closes this store's handle on the session after proving that
// no other process has it open (by opening it for writing), then holds
// Badger's directory lock itself while fn moves the session's files. The
// caller must not hold s.mu.
func (s *Store) exclusive(name string, fn func(dir string) error) error {
	if s.root == "" {
		return fmt.Errorf("in-memory store: %w", errors.ErrUnsupported)
	}
	if _, end, err := s.acquire(name, modeWrite); err != nil {
		return err
	} else {
		end()
	}
	if err := s.release(name); err != nil {
		return err
	}
	dir := filepath.Join(s.root, name)
	f, err := os.Open(filepath.Join(dir, dbDirName))
	if err != nil {
		return fmt.Errorf("session %q: %w", name, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("session %q was opened by another process meanwhile: %w", name, ErrLocked)
	}
	return fn(dir)
}

// DeleteSession removes the named session and all its records, or returns
// an error wrapping ErrNotFound (or ErrLocked while another otscope has
// it open). The session directory is first renamed out of sight, so an
// interrupted delete never leaves half a session.
func (s *Store) DeleteSession(name string) error {
	return s.alter(name, nil, func(h *handle) error {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(s.open, name)
		return h.close()
	}, func() error {
		trash := filepath.Join(s.root, ".deleted-"+name+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
		if err := s.exclusive(name, func(dir string) error { return os.Rename(dir, trash) }); err != nil {
			return err
		}
		if err := os.RemoveAll(trash); err != nil {
			return fmt.Errorf("delete session %q: remove %s: %w", name, trash, err)
		}
		return nil
	})
}

// alter runs a change of session name (and the other names it involves,
// validated too): on a store held in memory, mem with the store locked and
// the session's handle; on disk, disk. A read-only store refuses.
func (s *Store) alter(name string, other []string, mem func(h *handle) error, disk func() error) error {
	for _, n := range append(other, name) {
		if err := ValidSessionName(n); err != nil {
			return err
		}
	}
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if s.root != "" {
		return disk()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	h, err := s.memSession(name)
	if err != nil {
		return err
	}
	return mem(h)
}

// memSession returns the named session of a store without a directory
// (held in memory); the caller holds s.mu.
func (s *Store) memSession(name string) (*handle, error) {
	if s.closed {
		return nil, ErrClosed
	}
	h := s.open[name]
	if h == nil {
		return nil, fmt.Errorf("session %q: %w", name, ErrNotFound)
	}
	return h, nil
}

// Rename renames session from to to, which must not exist (ErrExists).
func (s *Store) Rename(from, to string) error {
	return s.alter(from, []string{to}, func(h *handle) error {
		if s.open[to] != nil {
			return fmt.Errorf("session %q: %w", to, ErrExists)
		}
		delete(s.open, from)
		h.name = to
		h.meta.Name = to
		s.open[to] = h
		return nil
	}, func() error {
		dst := filepath.Join(s.root, to)
		if _, err := os.Lstat(dst); !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rename session %q: %q: %w", from, to, ErrExists)
		}
		return s.exclusive(from, func(dir string) error {
			// Rename refuses to replace a non-empty directory, so a session
			// created under the new name meanwhile is never overwritten.
			if err := os.Rename(dir, dst); err != nil {
				return fmt.Errorf("rename session %q to %q: %w", from, to, err)
			}
			return nil
		})
	})
}

// Copy copies session from into a new session to (ErrExists if it
// exists). It reads one consistent snapshot of from (a transaction; from
// may be open for writing by this store), writes it to a new database out
// of sight, checks that every record arrived, and only then gives it its
// name.
func (s *Store) Copy(from, to string) error {
	if err := ValidSessionName(to); err != nil {
		return err
	}
	if s.opts.ReadOnly {
		return ErrReadOnly
	}
	if _, err := s.SessionMeta(to); err == nil {
		return fmt.Errorf("copy session %q: %q: %w", from, to, ErrExists)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	h, end, err := s.acquire(from, modeRead)
	if err != nil {
		return err
	}
	defer end()
	var want map[byte]int
	fill := func(b *batch) error {
		var err error
		want, err = copyRecords(h, b)
		return err
	}
	if s.root == "" {
		dst, dend, err := s.acquire(to, modeCreate)
		if err != nil {
			return err
		}
		defer dend()
		b := newBatch(dst.db)
		defer b.discard()
		if err := fill(b); err != nil {
			return err
		}
		if err := b.commit(); err != nil {
			return err
		}
		return dst.loadMeta()
	}
	if err := s.enoughSpace(s.root, 0); err != nil {
		return fmt.Errorf("copy session %q: %w", from, err)
	}
	tmp := filepath.Join(s.root, ".copy-"+to+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := s.buildSession(tmp, fill); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("copy session %q to %q: %w", from, to, err)
	}
	if err := s.verifySession(tmp, want); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("copy session %q to %q: %w", from, to, err)
	}
	if err := os.Rename(tmp, filepath.Join(s.root, to)); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("copy session %q to %q: %w", from, to, err)
	}
	return nil
}

// copyRecords writes every record of h's database (a consistent snapshot)
// into b and returns the number of records per kind.
func copyRecords(h *handle, b *batch) (map[byte]int, error) {
	counts := map[byte]int{}
	err := h.view(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			v, err := item.ValueCopy(nil)
			if err != nil {
				return err
			}
			k := item.KeyCopy(nil)
			if err := b.set(k, v); err != nil {
				return err
			}
			counts[k[0]]++
		}
		return nil
	})
	if err != nil {
		return nil, h.readErr("copy", err)
	}
	return counts, nil
}

// buildSession creates a session directory dir with a new database, fills
// it through fn and closes it. The files are private (0600/0700).
func (s *Store) buildSession(dir string, fn func(b *batch) error) error {
	dbDir := filepath.Join(dir, dbDirName)
	if err := mkdirPrivate(dir); err != nil {
		return err
	}
	if err := mkdirPrivate(dbDir); err != nil {
		return err
	}
	db, err := openBadger(s.badgerOptions(dbDir, false))
	if err != nil {
		return fmt.Errorf("create database in %s: %w", dir, oneLine{err})
	}
	werr := func() error {
		b := newBatch(db)
		defer b.discard()
		if err := fn(b); err != nil {
			return err
		}
		return b.commit()
	}()
	if werr == nil {
		werr = db.Sync()
	}
	if err := db.Close(); werr == nil && err != nil {
		werr = err
	}
	if werr != nil {
		return werr
	}
	// Open it the way a writer would, to write its metadata file.
	h := &handle{s: s, name: filepath.Base(dir), dir: dir, done: make(chan struct{})}
	if h.db, err = openBadger(s.badgerOptions(dbDir, false)); err != nil {
		return fmt.Errorf("reopen %s: %w", dir, oneLine{err})
	}
	if err := h.checkSchema(); err != nil {
		_ = h.close()
		return err
	}
	err = h.loadMeta()
	if cerr := h.close(); err == nil {
		err = cerr
	}
	tighten(dir)
	return err
}

// verifySession opens the database in dir read-only and checks that it
// holds want records of each kind.
func (s *Store) verifySession(dir string, want map[byte]int) error {
	db, err := openBadger(s.badgerOptions(filepath.Join(dir, dbDirName), true))
	if err != nil {
		return fmt.Errorf("verify %s: %w", dir, oneLine{err})
	}
	defer db.Close()
	got := map[byte]int{}
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			got[it.Item().Key()[0]]++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("verify %s: %w", dir, oneLine{err})
	}
	if !maps.Equal(got, want) {
		return fmt.Errorf("verify %s: records per kind %v, want %v", dir, fmtCounts(got), fmtCounts(want))
	}
	return nil
}

func fmtCounts(m map[byte]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[string(rune(k))] = v
	}
	return out
}
