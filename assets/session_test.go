package assets

import (
	"context"
	"errors"
	"testing"
	"time"

	"otscope/assets/store"
	"otscope/model"
)

// memSession is an in-memory store holding an empty session "s", closed
// when the test ends.
func memSession(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.EnsureSession("s", t0); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSessionPersistsAndNotifies(t *testing.T) {
	st := memSession(t)
	sess := NewSession("s", st, store.Snapshot{}, SessionOptions{FlushEvery: 50 * time.Millisecond, NotifyEvery: 10 * time.Millisecond})
	updates := sess.Watch()
	done := make(chan error, 1)
	go func() { done <- sess.Run(context.Background()) }()
	if u := <-updates; !u.Reset {
		t.Fatal("first update is not a snapshot")
	}
	sess.Ingest() <- model.Batch{Obs: []model.Observation{host(macPLC, "10.10.1.10")}, Stats: model.CaptureStats{Source: "x.pcap", Packets: 1}}
	deadline := time.After(2 * time.Second)
	var got model.Update
	for len(got.Assets) == 0 {
		select {
		case got = <-updates:
		case <-deadline:
			t.Fatal("no update within 2 s")
		}
	}
	if got.Assets[0].ID != model.MACAssetID(macPLC) {
		t.Errorf("update = %+v", got.Assets)
	}
	// the store has it within the flush interval, before Close
	var (
		snap store.Snapshot
		err  error
	)
	for i := 0; i < 100; i++ {
		if snap, err = st.Load("s"); err == nil && len(snap.Assets) == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(snap.Assets) != 1 {
		t.Fatalf("store holds %d assets after 1 s, want 1", len(snap.Assets))
	}
	sess.Ingest() <- model.Batch{Obs: []model.Observation{host(macHMI, "10.10.1.20")}}
	sess.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if snap, _ = st.Load("s"); len(snap.Assets) != 2 || len(snap.Stats) != 1 {
		t.Errorf("after Close the store holds %d assets and %d stats, want 2 and 1", len(snap.Assets), len(snap.Stats))
	}
	for range updates {
	}
	// reopening restores the inventory
	sess2 := NewSession("s", st, snap, SessionOptions{})
	if sess2.Inventory().Len() != 2 {
		t.Errorf("restored %d assets", sess2.Inventory().Len())
	}
}

// recordingStore passes saves to a store and hands each flush to a
// channel.
type recordingStore struct {
	*store.Store
	flushes chan store.Flush
}

func (r *recordingStore) Save(name string, f store.Flush) error {
	err := r.Store.Save(name, f)
	r.flushes <- f
	return err
}

// TestSessionSavesCountersApart: an asset whose only change since its last
// save is its traffic goes to the store as counters, not as the whole
// asset, and loads back with them.
func TestSessionSavesCountersApart(t *testing.T) {
	rec := &recordingStore{Store: memSession(t), flushes: make(chan store.Flush, 100)}
	sess := NewSession("s", rec, store.Snapshot{}, SessionOptions{FlushEvery: 10 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- sess.Run(context.Background()) }()
	plc := model.MACAssetID(macPLC)
	poll := conv(macHMI, macPLC, "10.10.1.20", "10.10.1.10", 502, "modbus")
	sess.Ingest() <- model.Batch{Obs: []model.Observation{host(macPLC, "10.10.1.10"), host(macHMI, "10.10.1.20"), poll}}
	for f := range rec.flushes {
		if len(f.Assets) == 2 && len(f.Conversations) == 1 {
			break
		}
	}
	later := host(macPLC, "10.10.1.10")
	later.Packets, later.Last = 4, t0.Add(time.Minute)
	first := poll.Packets
	poll.Packets, poll.Last = 6, t0.Add(time.Minute)
	sess.Ingest() <- model.Batch{Obs: []model.Observation{later, poll}}
	sess.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	close(rec.flushes)
	var last store.Flush
	for f := range rec.flushes {
		last = f
	}
	if len(last.Assets) != 0 || len(last.AssetCounters) != 1 || last.AssetCounters[0].ID != plc || last.AssetCounters[0].Packets != 5 {
		t.Fatalf("final flush: assets %+v, counters %+v; want only the PLC's counters, 5 packets", last.Assets, last.AssetCounters)
	}
	if len(last.Conversations) != 0 || len(last.ConversationCounters) != 1 {
		t.Fatalf("final flush: conversations %+v, counters %+v; want only the poll's counters", last.Conversations, last.ConversationCounters)
	}
	snap, err := rec.Load("s")
	if err != nil || len(snap.Assets) != 2 || len(snap.Conversations) != 1 {
		t.Fatalf("Load: %d assets, %d conversations, %v", len(snap.Assets), len(snap.Conversations), err)
	}
	for _, a := range snap.Assets {
		if a.ID == plc && (a.Packets != 5 || !a.LastSeen.Equal(t0.Add(time.Minute))) {
			t.Errorf("loaded PLC: %d packets, last seen %v; want 5, %v", a.Packets, a.LastSeen, t0.Add(time.Minute))
		}
	}
	if c := snap.Conversations[0]; c.Packets != first+6 || !c.LastSeen.Equal(poll.Last) {
		t.Errorf("loaded poll: %d packets, last seen %v; want %d, %v", c.Packets, c.LastSeen, first+6, poll.Last)
	}
}

type failingStore struct{ calls int }

func (f *failingStore) Save(string, store.Flush) error {
	f.calls++
	return errors.New("disk full")
}

func TestSessionReportsSaveErrorsAndKeepsChanges(t *testing.T) {
	fs := &failingStore{}
	sess := NewSession("s", fs, store.Snapshot{}, SessionOptions{FlushEvery: 10 * time.Millisecond})
	done := make(chan error, 1)
	go func() { done <- sess.Run(context.Background()) }()
	sess.Ingest() <- model.Batch{Obs: []model.Observation{host(macPLC, "10.10.1.10")}}
	time.Sleep(50 * time.Millisecond)
	sess.Close()
	err := <-done
	if !errors.Is(err, ErrSave) {
		t.Fatalf("Run = %v, want ErrSave", err)
	}
	if fs.calls < 2 {
		t.Errorf("save tried %d times; a failed flush must be retried", fs.calls)
	}
}

// TestSessionRunDrainsOnCancel: a cancelled Run still merges and saves the
// batches already queued, then stops without waiting for Close.
func TestSessionRunDrainsOnCancel(t *testing.T) {
	st := memSession(t)
	sess := NewSession("s", st, store.Snapshot{}, SessionOptions{})
	sess.Ingest() <- model.Batch{Obs: []model.Observation{host(macPLC, "10.10.1.10")}}
	sess.Ingest() <- model.Batch{Obs: []model.Observation{host(macHMI, "10.10.1.20")}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sess.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if snap, err := st.Load("s"); err != nil || len(snap.Assets) != 2 {
		t.Fatalf("after a cancelled Run the store holds %d assets (%v), want the 2 queued", len(snap.Assets), err)
	}
}
