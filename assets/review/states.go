package review

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"otscope/assets/lifecycle"
	"otscope/model"
)

// StateRecord is one inventory-state transition of one asset, as the
// store.StateHistory journal keeps it.
type StateRecord struct {
	AssetID    model.AssetID        `json:"asset_id"`
	Transition lifecycle.Transition `json:"transition"`
}

// DefaultMissingAfter is how long an asset may stay silent before it is
// missing, measured against the newest packet of the session (not the
// wall clock, so reopening an old capture marks nothing missing).
const DefaultMissingAfter = 7 * 24 * time.Hour

// ErrUnknownAsset is returned by Set for an asset the caller does not know.
var ErrUnknownAsset = errors.New("no such asset in the session")

// Tracker holds the state history of every asset of a session. It is safe
// for concurrent use: the session's goroutine records automatic
// transitions while the TUI or a command records manual ones.
type Tracker struct {
	mu     sync.Mutex
	hist   map[model.AssetID]lifecycle.History
	policy lifecycle.MissingPolicy
	// journal appends records durably; a record is kept in memory only
	// once it is stored. Nil keeps them in memory only.
	journal func(recs ...StateRecord) error
	version atomic.Uint64
}

// NewTracker replays stored records (oldest first) under policy. Records
// that no longer follow from the history before them (a damaged journal)
// are skipped and counted. journal, if not nil, stores new records.
func NewTracker(recs []StateRecord, policy lifecycle.MissingPolicy, journal func(recs ...StateRecord) error) (*Tracker, int) {
	t := &Tracker{hist: map[model.AssetID]lifecycle.History{}, policy: policy, journal: journal}
	skipped := 0
	for _, r := range recs {
		h := t.hist[r.AssetID]
		if r.AssetID == "" || h.Record(r.Transition) != nil {
			skipped++
			continue
		}
		t.hist[r.AssetID] = h
	}
	return t, skipped
}

// Policy returns the missing policy.
func (t *Tracker) Policy() lifecycle.MissingPolicy { return t.policy }

// Version changes whenever a transition is recorded; readers that cache
// states compare it.
func (t *Tracker) Version() uint64 { return t.version.Load() }

// Current returns the asset's state (Untracked when it has no history).
func (t *Tracker) Current(id model.AssetID) lifecycle.State {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.hist[id].Current()
}

// History returns a copy of the asset's transitions, oldest first.
func (t *Tracker) History(id model.AssetID) lifecycle.History {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.hist[id])
}

// Snapshot returns every asset's history. The histories are shared with
// the tracker but clipped, so later transitions never show through them;
// they must not be modified.
func (t *Tracker) Snapshot() map[model.AssetID]lifecycle.History {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := maps.Clone(t.hist)
	for id, h := range out {
		out[id] = slices.Clip(h)
	}
	return out
}

// Observe evaluates the automatic transitions of assets: ref is the time
// the missing policy measures silence against (the session's newest
// packet), at the wall-clock time the transitions are stamped with. It
// stores and returns the transitions made; on a storage error none is kept
// (they are made again next time) and the error is returned.
func (t *Tracker) Observe(assets []*model.Asset, ref, at time.Time) ([]StateRecord, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var recs []StateRecord
	for _, a := range assets {
		h := t.hist[a.ID]
		cur := h.Current()
		to, why, changed := h.Next(a, a.LastSeen, ref, t.policy)
		if !changed {
			continue
		}
		tr := lifecycle.Transition{From: cur, To: to, At: after(h, at), By: lifecycle.System, Why: why}
		if h.Record(tr) != nil {
			continue
		}
		recs = append(recs, StateRecord{AssetID: a.ID, Transition: tr})
	}
	if len(recs) == 0 {
		return nil, nil
	}
	if t.journal != nil {
		if err := t.journal(recs...); err != nil {
			return nil, err
		}
	}
	for _, r := range recs {
		h := t.hist[r.AssetID]
		t.hist[r.AssetID] = append(h, r.Transition)
	}
	t.version.Add(1)
	return recs, nil
}

// Set records a manual transition of asset id to state to, made by a
// person (by) for a reason (why) at time at. It returns the stored record,
// or why the transition is refused (lifecycle.ErrNotAllowed,
// lifecycle.ErrBadManual) or could not be stored.
func (t *Tracker) Set(id model.AssetID, to lifecycle.State, by, why string, at time.Time) (StateRecord, error) {
	if id == "" {
		return StateRecord{}, ErrUnknownAsset
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	h := slices.Clone(t.hist[id])
	tr := lifecycle.Transition{From: h.Current(), To: to, At: after(h, at), By: by, Why: why}
	if err := h.Record(tr); err != nil {
		return StateRecord{}, fmt.Errorf("%s → %s: %w", tr.From, to, err)
	}
	rec := StateRecord{AssetID: id, Transition: tr}
	if t.journal != nil {
		if err := t.journal(rec); err != nil {
			return StateRecord{}, err
		}
	}
	t.hist[id] = append(t.hist[id], tr)
	t.version.Add(1)
	return rec, nil
}

// after returns at, or the last transition's time when the clock stepped
// back (a history never goes back in time).
func after(h lifecycle.History, at time.Time) time.Time {
	if n := len(h); n > 0 && at.Before(h[n-1].At) {
		return h[n-1].At
	}
	return at
}

// Counts returns how many of ids are in each state.
func Counts(hist map[model.AssetID]lifecycle.History, ids []model.AssetID) map[lifecycle.State]int {
	out := map[lifecycle.State]int{}
	for _, id := range ids {
		out[hist[id].Current()]++
	}
	return out
}

// MissingPolicyFor builds the missing policy of a session from its stored
// capture statistics: silence longer than after, and, when the session has
// been fed by more than one run, not seen since the first packet of the
// latest run (so assets absent from the last capture are missing).
func MissingPolicyFor(stats []model.CaptureStats, after time.Duration) lifecycle.MissingPolicy {
	p := lifecycle.MissingPolicy{After: after}
	if len(stats) < 2 {
		return p
	}
	latest := stats[0]
	for _, s := range stats[1:] {
		if s.Started.After(latest.Started) {
			latest = s
		}
	}
	p.Since = latest.FirstPacket
	return p
}

// NewestPacket returns the newest packet time of a session: the latest LastPacket
// of its sources or LastSeen of its assets.
func NewestPacket(stats []model.CaptureStats, assets []model.Asset) time.Time {
	var t time.Time
	for _, s := range stats {
		if s.LastPacket.After(t) {
			t = s.LastPacket
		}
	}
	for i := range assets {
		if assets[i].LastSeen.After(t) {
			t = assets[i].LastSeen
		}
	}
	return t
}
