package export

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes a report or bundle to path atomically: write fills a
// temporary file beside path, which is synced and then renamed over path.
// When write fails (a full disk, an encoding error) or the sync or rename
// fails, the temporary file is removed and path is left as it was: there is
// never a half-written export.
func WriteFile(path string, write func(io.Writer) error) error {
	return writeFileVia(path, nil, write)
}

// writeFileVia is WriteFile with an optional wrapper around the temporary
// file, which tests use to simulate a disk that fills.
func writeFileVia(path string, wrap func(io.Writer) io.Writer, write func(io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	var w io.Writer = f
	if wrap != nil {
		w = wrap(f)
	}
	if err := write(w); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
