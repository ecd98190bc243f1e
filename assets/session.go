package assets

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"otscope/assets/lifecycle"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/model"
)

// Persister is the part of store.Store a Session writes to.
type Persister interface {
	Save(session string, f store.Flush) error
}

// SessionOptions configure a Session.
type SessionOptions struct {
	// FlushEvery is how often changes are written to the store (at most 1 s,
	// so a kill -9 loses at most the last second). Default 500 ms.
	FlushEvery time.Duration
	// NotifyEvery is how often watchers get an update. Default 100 ms.
	NotifyEvery time.Duration
	// Vendor names MAC vendors (assets/oui.Lookup).
	Vendor VendorFunc
	// States and Waivers are the session's stored journals (ReadJournals).
	States  []review.StateRecord
	Waivers []review.WaiverRecord
	// MissingAfter is how long an asset may be silent before it is
	// missing (default review.DefaultMissingAfter; negative: never).
	MissingAfter time.Duration
	// SweepEvery is how often every asset's state is re-evaluated, so
	// silent assets go missing during a long capture. Default 1 min.
	SweepEvery time.Duration
	// CountersEvery is how often assets and conversations whose only change
	// is their counters and times (packets, bytes, last seen) are written
	// to the store; content changes (a new asset, fact, service, address)
	// go with every flush. Default 30 s: on a plant of 10,000 busy assets a
	// write of every asset and conversation costs about half a CPU-second,
	// more than decoding a million packets, so counters (never inventory
	// content) may lag on disk by that much after a kill -9; Close writes
	// everything. Watchers get counter changes at most once a second.
	CountersEvery time.Duration
	// MaxAssets and MaxConversations bound the inventory (default
	// DefaultMaxAssets, DefaultMaxConversations); what they refuse becomes
	// one finding, the statistics entry named OverflowSource.
	MaxAssets, MaxConversations int
}

// OverflowSource names the statistics entry that reports what the
// inventory's limits refused (its Err says how much and what to do).
const OverflowSource = "otscope: inventory limit"

// overflowStats is the statistics entry of an overflow finding.
func overflowStats(o Overflow) model.CaptureStats {
	msg := ""
	if o.Assets > 0 {
		msg = fmt.Sprintf("%d observations of new stations not added: the session holds its limit of %d assets "+
			"(a flood of made-up addresses or a sweep?)", o.Assets, o.MaxAssets)
	}
	if o.Conversations > 0 {
		if msg != "" {
			msg += "; "
		}
		msg += fmt.Sprintf("%d observations of new conversations not added: the session holds its limit of %d "+
			"conversations", o.Conversations, o.MaxConversations)
	}
	return model.CaptureStats{Source: OverflowSource, FirstPacket: o.First, LastPacket: o.Last, Updated: time.Now(),
		Done: true, Err: msg}
}

// Journaler is the part of store.Store that keeps a session's journals. A
// Persister that also implements it stores state transitions and waivers.
type Journaler interface {
	Append(session string, j store.Journal, records ...any) error
}

// Session owns the inventory of one named session: it merges batches from
// packet sources, persists changes at least once a second and feeds
// watchers. Batches go in through Ingest; Run is the only goroutine that
// touches the inventory.
type Session struct {
	name  string
	store Persister
	inv   *Inventory
	opts  SessionOptions
	in    chan model.Batch

	mu       sync.Mutex // guards watchers, saveErr and waivers
	watchers []chan model.Update
	saveErr  error
	waivers  []review.WaiverRecord

	// states tracks inventory states; latest is the newest packet time
	// seen, what the missing policy measures silence against (Run only).
	states *review.Tracker
	latest time.Time

	done chan struct{}

	// size is the number of assets plus conversations after the last
	// flush, readable from any goroutine (for memory budgeting).
	size atomic.Int64

	// storeCounters and uiCounters are when counter changes last went to
	// the store and to watchers (Run only).
	storeCounters, uiCounters time.Time
	// overflow is what the inventory's limits refused, as of the last flush
	// (guarded by mu).
	overflow Overflow
}

// Overflow returns what the inventory's limits refused, as of the last
// flush. Safe from any goroutine.
func (s *Session) Overflow() Overflow {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.overflow
}

// ingestDepth is how many batches may wait for Run. Two keep a decoder and
// the session busy at once; more only hold memory (a batch of 8192 frames
// on a large plant carries thousands of observations).
const ingestDepth = 2

// uiCountersEvery is how often watchers get counter-only changes.
const uiCountersEvery = time.Second

// Size returns the number of assets plus conversations, as of the last flush.
func (s *Session) Size() int64 { return s.size.Load() }

// ErrSave wraps a failure to persist a flush.
var ErrSave = errors.New("assets: saving the session failed")

// NewSession returns a session over snap (what the store already holds).
// p may be nil for a session that is not persisted (tests, benchmarks).
func NewSession(name string, p Persister, snap store.Snapshot, o SessionOptions) *Session {
	if o.FlushEvery <= 0 || o.FlushEvery > time.Second {
		o.FlushEvery = 500 * time.Millisecond
	}
	if o.NotifyEvery <= 0 {
		o.NotifyEvery = 100 * time.Millisecond
	}
	if o.MissingAfter == 0 {
		o.MissingAfter = review.DefaultMissingAfter
	}
	if o.SweepEvery <= 0 {
		o.SweepEvery = time.Minute
	}
	if o.CountersEvery <= 0 {
		o.CountersEvery = 30 * time.Second
	}
	inv := NewInventory(o.Vendor)
	inv.Restore(snap.Assets, snap.Conversations, snap.Stats)
	inv.SetLimits(o.MaxAssets, o.MaxConversations)
	inv.SetConsumers(ForStore) // ForUI joins when a watcher does (sendSnapshot)
	s := &Session{
		name:    name,
		store:   p,
		inv:     inv,
		opts:    o,
		in:      make(chan model.Batch, ingestDepth),
		done:    make(chan struct{}),
		waivers: slices.Clone(o.Waivers),
		latest:  review.NewestPacket(snap.Stats, snap.Assets),
	}
	var journal func(recs ...review.StateRecord) error
	if j, ok := p.(Journaler); ok {
		journal = func(recs ...review.StateRecord) error { return j.Append(name, store.StateHistory, anys(recs)...) }
	}
	s.states, _ = review.NewTracker(o.States, review.MissingPolicyFor(snap.Stats, max(0, o.MissingAfter)), journal)
	return s
}

func anys[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i := range xs {
		out[i] = xs[i]
	}
	return out
}

// Name returns the session name.
func (s *Session) Name() string { return s.name }

// Ingest returns the channel packet sources send batches to. Sending blocks
// when the session is behind (back-pressure for file reads).
func (s *Session) Ingest() chan<- model.Batch { return s.in }

// Watch returns a channel of updates: first a Reset snapshot, then changes.
// Slow watchers never block the session: changes accumulate until the
// watcher takes the next update. The channel is closed when Run ends.
func (s *Session) Watch() <-chan model.Update {
	ch := make(chan model.Update, 1)
	s.mu.Lock()
	s.watchers = append(s.watchers, ch)
	s.mu.Unlock()
	return ch
}

// Run merges batches until ctx is done or Close is called and the ingest
// channel is drained, then writes a final flush. It returns the first save
// error.
func (s *Session) Run(ctx context.Context) error {
	defer close(s.done)
	flush := time.NewTicker(s.opts.FlushEvery)
	notify := time.NewTicker(s.opts.NotifyEvery)
	sweep := time.NewTicker(s.opts.SweepEvery)
	defer flush.Stop()
	defer notify.Stop()
	defer sweep.Stop()
	s.sweep()
	s.sendSnapshot()
	s.storeCounters, s.uiCounters = time.Now(), time.Now()
	for {
		select {
		case b, ok := <-s.in:
			if !ok {
				return s.finish()
			}
			s.apply(b)
		case <-flush.C:
			s.persist()
		case <-notify.C:
			s.notify()
		case <-sweep.C:
			s.sweep()
		case <-ctx.Done():
			s.drain()
			return s.finish()
		}
	}
}

// apply merges one batch and hands its observations back to the pool.
func (s *Session) apply(b model.Batch) {
	s.inv.Apply(b)
	model.RecycleObservations(b.Obs)
}

// drain merges the batches already queued, without waiting for more.
func (s *Session) drain() {
	for {
		select {
		case b, ok := <-s.in:
			if !ok {
				return
			}
			s.apply(b)
		default:
			return
		}
	}
}

// Close says no more batches will come; Run drains, flushes and returns.
func (s *Session) Close() { close(s.in) }

// Done is closed when Run has returned.
func (s *Session) Done() <-chan struct{} { return s.done }

func (s *Session) finish() error {
	s.storeCounters, s.uiCounters = time.Time{}, time.Time{} // everything goes out now
	s.persist()
	s.notify()
	s.mu.Lock()
	for _, w := range s.watchers {
		close(w)
	}
	s.watchers = nil
	err := s.saveErr
	s.mu.Unlock()
	return err
}

// persist writes the store's share of the changes.
func (s *Session) persist() {
	s.size.Store(int64(s.inv.Len() + s.inv.ConversationCount()))
	if o := s.inv.Overflow(); o.Any() {
		s.mu.Lock()
		changed := o != s.overflow
		s.overflow = o
		s.mu.Unlock()
		if changed {
			s.inv.SetStats(overflowStats(o))
		}
	}
	counters := time.Since(s.storeCounters) >= s.opts.CountersEvery
	if counters {
		s.storeCounters = time.Now()
	}
	// The copies share the assets' slices: Save and track run here, before
	// the inventory changes again, and keep nothing.
	u := s.inv.changes(ForStore, counters, false)
	changed := make([]*model.Asset, 0, len(u.Assets)+len(u.AssetCounters))
	for i := range u.Assets {
		changed = append(changed, &u.Assets[i])
	}
	for i := range u.AssetCounters {
		if a := s.inv.assets[u.AssetCounters[i].ID]; a != nil {
			changed = append(changed, a)
		}
	}
	s.track(changed)
	if s.store == nil {
		return
	}
	if len(u.Assets)+len(u.AssetCounters)+len(u.Removed)+len(u.Conversations)+len(u.ConversationCounters)+len(u.Stats) == 0 {
		return
	}
	err := s.store.Save(s.name, storeFlush(u, time.Now()))
	if err != nil {
		s.mu.Lock()
		if s.saveErr == nil {
			s.saveErr = fmt.Errorf("%w: %w", ErrSave, err)
		}
		s.mu.Unlock()
		// keep the changes for the next attempt
		s.inv.remark(u)
	}
}

// storeFlush is the store's share of u, written at t.
func storeFlush(u model.Update, t time.Time) store.Flush {
	return store.Flush{
		Assets: u.Assets, AssetCounters: u.AssetCounters, Removed: u.Removed,
		Conversations: u.Conversations, ConversationCounters: u.ConversationCounters, Stats: u.Stats, Time: t,
	}
}

// track evaluates the automatic state transitions of assets (changed ones,
// or all on a sweep) and stores them.
func (s *Session) track(assets []*model.Asset) {
	for _, a := range assets {
		if a.LastSeen.After(s.latest) {
			s.latest = a.LastSeen
		}
	}
	if _, err := s.states.Observe(assets, s.latest, time.Now()); err != nil {
		s.fail(err)
	}
}

// sweep evaluates every asset: on open (missing since the last run) and
// periodically (silent for longer than the missing policy allows).
func (s *Session) sweep() {
	all := make([]*model.Asset, 0, len(s.inv.assets))
	for _, a := range s.inv.assets {
		all = append(all, a)
	}
	slices.SortFunc(all, func(x, y *model.Asset) int { return strings.Compare(string(x.ID), string(y.ID)) })
	s.track(all)
}

func (s *Session) fail(err error) {
	s.mu.Lock()
	if s.saveErr == nil {
		s.saveErr = fmt.Errorf("%w: %w", ErrSave, err)
	}
	s.mu.Unlock()
}

// States returns the session's inventory-state tracker. Its methods are
// safe from any goroutine.
func (s *Session) States() *review.Tracker { return s.states }

// SetState records a manual transition of an asset (by a person, for a
// reason), stored before it returns. Safe from any goroutine.
func (s *Session) SetState(id model.AssetID, to lifecycle.State, by, why string) (review.StateRecord, error) {
	return s.states.Set(id, to, by, why, time.Now())
}

// Waive stores a waiver record (a new waiver, a change or a revocation)
// in the session's journal before it returns. Safe from any goroutine.
func (s *Session) Waive(r review.WaiverRecord) error {
	if j, ok := s.store.(Journaler); ok {
		if err := j.Append(s.name, store.Waivers, r); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.waivers = append(s.waivers, r)
	s.mu.Unlock()
	return nil
}

// Waivers returns the session's waiver records, oldest first.
func (s *Session) Waivers() []review.WaiverRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.waivers)
}

func (s *Session) sendSnapshot() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.watchers) == 0 {
		return
	}
	s.inv.SetConsumers(allConsumers)
	snap := s.inv.Snapshot()
	s.inv.Changes(ForUI)
	for _, w := range s.watchers {
		w <- snap // buffered, empty: never blocks
	}
}

// notify hands the UI's share of the changes to watchers with room.
func (s *Session) notify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.watchers) == 0 {
		return // nothing is marked for a UI (SetConsumers)
	}
	if s.inv.want&ForUI == 0 {
		// the first watcher since Run started: it needs everything
		s.mu.Unlock()
		s.sendSnapshot()
		s.mu.Lock()
		return
	}
	for _, w := range s.watchers {
		if len(w) > 0 {
			return // still busy with the last one: keep accumulating
		}
	}
	counters := time.Since(s.uiCounters) >= uiCountersEvery
	if counters {
		s.uiCounters = time.Now()
	}
	u := s.inv.changes(ForUI, counters, true)
	if len(u.Assets)+len(u.Removed)+len(u.Conversations)+len(u.Stats) == 0 {
		return
	}
	for _, w := range s.watchers {
		w <- u
	}
}

// Inventory gives read access for headless commands after Run returned.
func (s *Session) Inventory() *Inventory { return s.inv }

// remark marks the assets, conversations and stats of u changed again for
// the store (after a failed save).
func (inv *Inventory) remark(u model.Update) {
	for _, a := range u.Assets {
		inv.dirtyAssets[a.ID] |= ForStore
	}
	for _, c := range u.AssetCounters {
		inv.warmAssets[c.ID] |= ForStore
	}
	if len(u.ConversationCounters) > 0 {
		// a failed save only: conversations are keyed by value here, by Key
		// in counters
		failed := make(map[string]bool, len(u.ConversationCounters))
		for _, c := range u.ConversationCounters {
			failed[c.Key] = true
		}
		for k, cv := range inv.convs {
			if failed[cv.Key()] {
				inv.warmConvs[k] |= ForStore
			}
		}
	}
	for _, id := range u.Removed {
		inv.removed[id] |= ForStore
	}
	for i := range u.Conversations {
		inv.dirtyConvs[keyOf(&u.Conversations[i])] |= ForStore
	}
	for _, st := range u.Stats {
		inv.dirtyStats[st.Source] |= ForStore
	}
}
