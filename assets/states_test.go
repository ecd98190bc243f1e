package assets

import (
	"context"
	"testing"
	"time"

	"otscope/assets/lifecycle"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/model"
)

// runSession runs a session over what st holds for "s", feeds it batches
// and closes it.
func runSession(t *testing.T, st *store.Store, o SessionOptions, batches ...model.Batch) *Session {
	t.Helper()
	snap, err := st.Load("s")
	if err != nil {
		t.Fatal(err)
	}
	j, err := ReadJournals(st, "s")
	if err != nil {
		t.Fatal(err)
	}
	o.States, o.Waivers = j.States, j.Waivers
	o.FlushEvery = 20 * time.Millisecond
	sess := NewSession("s", st, snap, o)
	done := make(chan error, 1)
	go func() { done <- sess.Run(context.Background()) }()
	for _, b := range batches {
		sess.Ingest() <- b
	}
	sess.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	return sess
}

// TestStateHistoryPersists: assets get discovered and identified while
// batches arrive, a manual verification is stored, and a reopened session
// has the same states and history; a session fed again without an asset
// marks it missing.
func TestStateHistoryPersists(t *testing.T) {
	st := memSession(t)
	plc, hmi := model.MACAssetID(macPLC), model.MACAssetID(macHMI)
	first := model.Batch{
		Obs: []model.Observation{host(macHMI, "10.10.1.20"), fact(macPLC, "10.10.1.10", model.FieldProduct, "CPU 315-2 PN/DP", 7)},
		Stats: model.CaptureStats{Source: "a.pcap", Packets: 2, FirstPacket: t0, LastPacket: t0,
			Started: time.Now().Add(-time.Hour), Done: true},
	}
	sess := runSession(t, st, SessionOptions{}, first)
	if got := sess.States().Current(plc); got != lifecycle.Identified {
		t.Fatalf("PLC state %s, want identified", got)
	}
	if got := sess.States().Current(hmi); got != lifecycle.Discovered {
		t.Fatalf("HMI state %s, want discovered", got)
	}
	if _, err := sess.SetState(plc, lifecycle.Verified, "ana", "walkdown, cabinet 3"); err != nil {
		t.Fatal(err)
	}
	// (a manual missing is the walkdown's: see assets/lifecycle's state
	// tests; here the HMI goes missing by the sweep below)
	want := sess.States().History(plc)
	if len(want) != 2 || want[1].By != "ana" || want[1].Why != "walkdown, cabinet 3" {
		t.Fatalf("PLC history %+v", want)
	}

	// Reopened: nothing new arrives, history intact, nothing appended.
	before, _, _ := store.ReadJournal[review.StateRecord](st, "s", store.StateHistory)
	sess = runSession(t, st, SessionOptions{})
	got := sess.States().History(plc)
	if len(got) != len(want) || got[1].To != lifecycle.Verified || !got[1].At.Equal(want[1].At) || got[1].By != "ana" {
		t.Fatalf("reopened PLC history %+v, want %+v", got, want)
	}
	after, _, _ := store.ReadJournal[review.StateRecord](st, "s", store.StateHistory)
	if len(after) != len(before) {
		t.Fatalf("reopening without data appended %d transitions", len(after)-len(before))
	}

	// A second run sees only the PLC; at the next open the HMI, absent
	// from the last run, is missing and the verified PLC stays verified.
	second := model.Batch{
		Obs: []model.Observation{func() model.Observation {
			o := host(macPLC, "10.10.1.10")
			o.First, o.Last = t0.Add(24*time.Hour), t0.Add(24*time.Hour)
			return o
		}()},
		Stats: model.CaptureStats{Source: "b.pcap", Packets: 1, FirstPacket: t0.Add(24 * time.Hour),
			LastPacket: t0.Add(24 * time.Hour), Started: time.Now(), Done: true},
	}
	runSession(t, st, SessionOptions{}, second)
	sess = runSession(t, st, SessionOptions{})
	if got := sess.States().Current(hmi); got != lifecycle.Missing {
		t.Fatalf("HMI state after a run without it: %s, want missing (%+v)", got, sess.States().History(hmi))
	}
	if got := sess.States().Current(plc); got != lifecycle.Verified {
		t.Fatalf("PLC state %s, want verified", got)
	}
	// The HMI comes back: discovered again.
	back := host(macHMI, "10.10.1.20")
	back.First, back.Last = t0.Add(25*time.Hour), t0.Add(25*time.Hour)
	sess = runSession(t, st, SessionOptions{}, model.Batch{Obs: []model.Observation{back}})
	if h := sess.States().History(hmi); h.Current() != lifecycle.Discovered || h[len(h)-2].To != lifecycle.Missing {
		t.Fatalf("HMI history after it came back: %+v", h)
	}
}

// TestMissingAfterSilence: a sweep marks an asset missing once it has been
// silent longer than MissingAfter, measured against the newest packet.
func TestMissingAfterSilence(t *testing.T) {
	st := memSession(t)
	late := host(macHMI, "10.10.1.20")
	late.First, late.Last = t0.Add(3*time.Hour), t0.Add(3*time.Hour)
	runSession(t, st, SessionOptions{MissingAfter: 2 * time.Hour},
		model.Batch{Obs: []model.Observation{host(macPLC, "10.10.1.10"), late}})
	// the PLC went silent 3 h before the HMI's packet: missing on the next sweep (open)
	sess := runSession(t, st, SessionOptions{MissingAfter: 2 * time.Hour})
	if got := sess.States().Current(model.MACAssetID(macPLC)); got != lifecycle.Missing {
		t.Fatalf("PLC state %s, want missing", got)
	}
	if got := sess.States().Current(model.MACAssetID(macHMI)); got != lifecycle.Discovered {
		t.Fatalf("HMI state %s, want discovered", got)
	}
}

// TestSessionWaivers: waivers are stored in the journal and come back with
// the session.
func TestSessionWaivers(t *testing.T) {
	st := memSession(t)
	sess := runSession(t, st, SessionOptions{})
	now := time.Now()
	w, err := review.NewWaiver("cleartext-telnet", "*", "switch replaced in May", "ana", now.Add(24*time.Hour), now)
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.Waive(w); err != nil {
		t.Fatal(err)
	}
	if err := sess.Waive(review.Revoke(review.KeyOf(w.Waiver), "", "bo", now.Add(time.Minute))); err != nil {
		t.Fatal(err)
	}
	j, err := ReadJournals(st, "s")
	if err != nil || len(j.Waivers) != 2 {
		t.Fatalf("journal: %v, %d waivers", err, len(j.Waivers))
	}
	if g := j.Waivers[0]; g.RuleID != "cleartext-telnet" || g.AssetID != "*" || g.Reason != "switch replaced in May" ||
		g.By != "ana" || !g.Until.Equal(w.Until) || !g.At.Equal(w.At) {
		t.Fatalf("stored waiver %+v", j.Waivers[0])
	}
	if eff := review.Effective(j.Waivers, now.Add(2*time.Minute)); len(eff) != 0 {
		t.Fatalf("revoked waiver still effective: %+v", eff)
	}
	if got := runSession(t, st, SessionOptions{}).Waivers(); len(got) != 2 || !got[1].Revoked() {
		t.Fatalf("reopened waivers %+v", got)
	}
}
