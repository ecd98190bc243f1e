package store

import (
	"errors"
	"testing"
)

type logRec struct {
	N    int    `json:"n"`
	Kind string `json:"kind"`
}

func TestJournalAppendRead(t *testing.T) {
	s := openMem(t)
	if err := s.Append("nope", ScanLog, logRec{N: 1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("append to a missing session: %v", err)
	}
	if _, err := s.EnsureSession("a", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.Append("a", ScanLog, logRec{1, "x"}, logRec{2, "y"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append("a", ScanLog, logRec{3, "z"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Append("a", Waivers, logRec{9, "w"}); err != nil {
		t.Fatal(err)
	}
	got, skipped, err := ReadJournal[logRec](s, "a", ScanLog)
	if err != nil || skipped != 0 {
		t.Fatal(err, skipped)
	}
	if len(got) != 3 || got[0].N != 1 || got[1].N != 2 || got[2].N != 3 {
		t.Fatalf("scan log = %+v, want 1,2,3 in order", got)
	}
	w, _, _ := ReadJournal[logRec](s, "a", Waivers)
	if len(w) != 1 || w[0].N != 9 {
		t.Fatalf("waivers = %+v", w)
	}
	// journals are not assets: Load skips nothing and the inventory is empty
	snap, err := s.Load("a")
	if err != nil || snap.Skipped != 0 || len(snap.Assets) != 0 {
		t.Fatalf("load: %v skipped=%d assets=%d", err, snap.Skipped, len(snap.Assets))
	}
	if err := s.Append("a", Journal('q'), logRec{}); err == nil {
		t.Fatal("unknown journal accepted")
	}
	// sequence numbers keep growing past 255 (big-endian keys sort in order)
	for i := 4; i <= 300; i++ {
		if err := s.Append("a", ScanLog, logRec{N: i}); err != nil {
			t.Fatal(err)
		}
	}
	got, _, _ = ReadJournal[logRec](s, "a", ScanLog)
	for i, r := range got {
		if r.N != i+1 {
			t.Fatalf("record %d = %d, out of order", i, r.N)
		}
	}
	if err := s.DeleteSession("a"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadJournal[logRec](s, "a", ScanLog); !errors.Is(err, ErrNotFound) {
		t.Fatalf("read after delete: %v", err)
	}
}
