package capture

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/gopacket/layers"
)

// A read of a FIFO whose writer is silent returns ErrIdle within about
// pipeIdle instead of blocking (so Ctrl-C is seen), and the packets that
// come later are all read (issue 13 item 13).
func TestIdlePipeIsInterruptible(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "feed")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	frames := testFrames(t, 5)
	file := writePcap(t, layers.LinkTypeEthernet, frames)
	cut := 24 + 16 + len(frames[0]) // header and the first record
	wrote := make(chan error, 1)
	more := make(chan struct{})
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			wrote <- err
			return
		}
		defer w.Close()
		if _, err := w.Write(file[:cut]); err != nil {
			wrote <- err
			return
		}
		<-more // silent until the reader has seen it idle
		_, err = w.Write(file[cut:])
		wrote <- err
	}()
	s := mustOpen(t, fifo, Options{})
	if _, _, err := s.ZeroCopyReadPacketData(); err != nil {
		t.Fatalf("first frame: %v", err)
	}
	start := time.Now()
	if _, _, err := s.ZeroCopyReadPacketData(); !errors.Is(err, ErrIdle) {
		t.Fatalf("silent writer: %v, want ErrIdle", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("ErrIdle after %v", d)
	}
	close(more)
	n := 1
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, _, err := s.ZeroCopyReadPacketData()
		if errors.Is(err, ErrIdle) {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != len(frames) {
		t.Errorf("%d frames, want %d", n, len(frames))
	}
	if err := <-wrote; err != nil {
		t.Fatal(err)
	}
}
