package export

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// errDiskFull is what failAfter's writer returns once its budget is spent.
var errDiskFull = errors.New("no space left on device")

// failAfter returns a writer that accepts n bytes and then fails, like a
// disk that fills up.
type failAfter struct {
	w io.Writer
	n int
}

func (f *failAfter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k, _ := f.w.Write(p[:f.n])
		f.n = 0
		return k, errDiskFull
	}
	f.n -= len(p)
	return f.w.Write(p)
}

func TestWriteFileFullDiskLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.html")
	if err := os.WriteFile(path, []byte("previous export"), 0o600); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1<<16)
	for _, n := range []int{0, 1, 100, 1 << 15} {
		err := writeFileVia(path, func(w io.Writer) io.Writer { return &failAfter{w: w, n: n} }, func(w io.Writer) error {
			_, err := io.WriteString(w, big)
			return err
		})
		if !errors.Is(err, errDiskFull) {
			t.Fatalf("n=%d: err = %v, want the disk-full error", n, err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != "previous export" {
			t.Fatalf("n=%d: the previous file was changed to %d bytes", n, len(got))
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("n=%d: %d files left in the directory, want only the previous export", n, len(entries))
		}
	}
	if err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, big); return err }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != big {
		t.Fatalf("wrote %d bytes, want %d", len(got), len(big))
	}
}
