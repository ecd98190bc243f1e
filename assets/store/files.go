package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// mkdirPrivate creates dir (and parents) if needed and makes the directory
// itself mode 0700, whatever the umask or its previous mode: session
// directories hold a plant's inventory.
func mkdirPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Chmod(dir, 0o700)
}

// tighten makes the files otscope keeps under dir mode 0600 and its
// directories 0700: Badger creates its files with 0666 less the umask.
func tighten(dir string) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi, err := d.Info(); err == nil && fi.Mode().Perm() != want {
			_ = os.Chmod(path, want)
		}
		return nil
	})
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory and a rename, so readers see the old or the new content, never
// a part. The file is mode 0600.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(b); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// readOnlyFS reports whether dir is on a file system mounted read-only.
func readOnlyFS(dir string) bool {
	return errors.Is(syscall.Access(dir, 2 /* W_OK */), syscall.EROFS)
}

// DefaultMinFree is the free space the store keeps on the database's file
// system: Badger writes its write-ahead log and tables through memory
// maps, and a write to a memory map on a full disk kills the process
// (SIGBUS). The margin covers one preallocated log (2 × memtable), one
// memtable flushed to a table and a compaction's output.
const DefaultMinFree = 4*memTableSize + 16<<20

// enoughSpace returns ErrDiskFull unless the file system holding dir has
// n bytes plus the margin free.
func (s *Store) enoughSpace(dir string, n int64) error {
	min := s.opts.MinFree
	if min <= 0 {
		min = DefaultMinFree
	}
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return nil // unknown: let the write report its own error
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	if free < min+2*n {
		return fmt.Errorf("%s has %s free, otscope keeps %s: %w", dir, mib(free), mib(min+2*n), ErrDiskFull)
	}
	return nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
