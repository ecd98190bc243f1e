package assets_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"otscope/assets"
	"otscope/assets/store"
	"otscope/model"
	"otscope/scan"
	"otscope/scan/capture"
	"otscope/scan/testenv"
)

// arpCapture returns a pcap of n ARP frames. distinct: each from its own MAC
// and address (a flood of made-up stations); otherwise n identical replies.
func arpCapture(tb testing.TB, n int, distinct bool) []byte {
	tb.Helper()
	var buf bytes.Buffer
	buf.Grow(n * 58)
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	frame := make([]byte, 42)
	t0 := time.Date(2024, 3, 4, 6, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		mac := [6]byte{0x02, 0x00, 0x5e, 0x10, 0x00, 0x01}
		ip := [4]byte{10, 20, 0, 1}
		if distinct {
			mac = [6]byte{0x02, 0x01, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
			ip = [4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}
		}
		copy(frame[0:6], []byte{0x00, 0x1b, 0x1b, 0x00, 0x00, 0x01}) // to the asking station
		copy(frame[6:12], mac[:])
		binary.BigEndian.PutUint16(frame[12:], 0x0806)
		binary.BigEndian.PutUint16(frame[14:], 1)      // Ethernet
		binary.BigEndian.PutUint16(frame[16:], 0x0800) // IPv4
		frame[18], frame[19] = 6, 4
		binary.BigEndian.PutUint16(frame[20:], 2) // reply
		copy(frame[22:28], mac[:])
		copy(frame[28:32], ip[:])
		copy(frame[32:38], []byte{0x00, 0x1b, 0x1b, 0x00, 0x00, 0x01})
		copy(frame[38:42], []byte{10, 20, 0, 200})
		ci := gopacket.CaptureInfo{Timestamp: t0.Add(time.Duration(i) * time.Microsecond), CaptureLength: 42, Length: 42}
		if err := w.WritePacket(ci, frame); err != nil {
			tb.Fatal(err)
		}
	}
	return buf.Bytes()
}

// ingestMemory reads a pcap held in memory into an unpersisted session and
// returns the session after Run ended, with the CPU time the read took.
func ingestMemory(tb testing.TB, raw []byte, o assets.SessionOptions) (*assets.Session, time.Duration) {
	tb.Helper()
	runtime.GC()
	before := testenv.CPUTime()
	sess := assets.NewSession("flood", nil, store.Snapshot{}, o)
	done := make(chan error, 1)
	go func() { done <- sess.Run(context.Background()) }()
	src, err := capture.OpenReader("flood.pcap", bytes.NewReader(raw), capture.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := scan.Ingest(context.Background(), src, sess.Ingest(), scan.IngestOptions{}); err != nil {
		tb.Fatal(err)
	}
	sess.Close()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	return sess, testenv.CPUTime() - before
}

// A flood of stations past the inventory's limit becomes one finding (a
// statistics entry saying how much was refused), not assets without end.
func TestFloodBecomesOneFinding(t *testing.T) {
	const limit, n = 2000, 50_000
	sess, _ := ingestMemory(t, arpCapture(t, n, true), assets.SessionOptions{MaxAssets: limit})
	inv := sess.Inventory()
	if inv.Len() != limit {
		t.Errorf("%d assets, want the limit %d", inv.Len(), limit)
	}
	o := sess.Overflow()
	if o.Assets < n-limit || o.MaxAssets != limit {
		t.Errorf("overflow %+v, want at least %d refused observations and the limit %d", o, n-limit, limit)
	}
	var finding *model.CaptureStats
	for _, st := range inv.Stats() {
		if st.Source == assets.OverflowSource {
			finding = &st
		}
	}
	if finding == nil || !strings.Contains(finding.Err, "limit of 2000 assets") || finding.LastPacket.IsZero() {
		t.Fatalf("overflow finding %+v, want one statistics entry naming the limit", finding)
	}
	if got := len(inv.Stats()); got != 2 {
		t.Errorf("%d statistics entries, want the capture's and one finding", got)
	}
}

// TestSpeedARPFlood: a million ARP frames from distinct MACs stay within the
// default limit, with the inventory's memory bounded by it.
func TestSpeedARPFlood(t *testing.T) {
	skipUnlessSpeed(t)
	raw := arpCapture(t, 1_000_000, true)
	sess, cpu := ingestMemory(t, raw, assets.SessionOptions{})
	raw = nil
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	inv := sess.Inventory()
	t.Logf("1M distinct-MAC ARP frames: %.2f CPU-s (%.2f M/CPU-s), %d assets, %d refused, live heap %.0f MB",
		cpu.Seconds(), 1/cpu.Seconds(), inv.Len(), sess.Overflow().Assets, float64(ms.HeapAlloc)/(1<<20))
	if inv.Len() != assets.DefaultMaxAssets {
		t.Errorf("%d assets, want the default limit %d", inv.Len(), assets.DefaultMaxAssets)
	}
	if max := uint64(64<<20 + 2<<10*assets.DefaultMaxAssets); ms.HeapAlloc > max {
		t.Errorf("live heap %d MB, want at most %d MB (64 MB + 2 KB per asset)", ms.HeapAlloc>>20, max>>20)
	}
	runtime.KeepAlive(sess)
}

// TestSpeedIdenticalARP: a million identical ARP replies read at the small
// plant's floor (each batch carries one claim, not one per frame).
func TestSpeedIdenticalARP(t *testing.T) {
	skipUnlessSpeed(t)
	sess, cpu := ingestMemory(t, arpCapture(t, 1_000_000, false), assets.SessionOptions{})
	per := 1e6 / cpu.Seconds()
	t.Logf("1M identical ARP replies: %.2f CPU-s, %.2f M packets per CPU-second, %d assets", cpu.Seconds(), per/1e6, sess.Inventory().Len())
	if per < 1.5e6 {
		t.Errorf("%.2f M packets per CPU-second, want at least 1.5 M", per/1e6)
	}
}
