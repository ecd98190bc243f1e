package main

import (
	"bytes"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuf is a bytes.Buffer safe for the server goroutine and the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRunServesAndStops(t *testing.T) {
	var out syncBuf
	stop := make(chan os.Signal, 1)
	done := make(chan error, 1)
	go func() {
		done <- run([]string{"-iec104", "127.0.0.35:0", "-dnp3", "127.0.0.35:0", "-dnp3-address", "7"}, &out, stop)
	}()
	var addr string
	for deadline := time.Now().Add(5 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, l := range strings.Split(out.String(), "\n") {
			if a, ok := strings.CutPrefix(l, "otsim: iec104 on "); ok {
				addr = a
			}
		}
	}
	if addr == "" || !strings.Contains(out.String(), "otsim: dnp3 on 127.0.0.35:") {
		t.Fatalf("output %q", out.String())
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte{0x68, 4, 0x43, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	if _, err := c.Read(b); err != nil || !bytes.Equal(b, []byte{0x68, 4, 0x83, 0, 0, 0}) {
		t.Errorf("TESTFR con: % x %v", b, err)
	}
	c.Close()
	stop <- os.Interrupt
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still listening after the stop")
	}
}

func TestRunRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{nil, {"-dnp3", "127.0.0.35:0", "-dnp3-address", "65535"}, {"-bogus"}} {
		if err := run(args, &syncBuf{}, make(chan os.Signal)); err == nil {
			t.Errorf("%q: no error", args)
		}
	}
}
