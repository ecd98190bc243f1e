// Package state is the TUI's own copy of a session: assets by ID,
// conversations by key, the counters of each packet source and a short
// history of packets per second. The root model applies each batch of
// model.Update to it and tells the panes what changed; panes read it.
//
//	st := state.New()
//	ch := st.Apply(batch)          // batch is []model.Update, oldest first
//	if ch.AssetChanged(id) { ... }
//
// A State is owned by the Bubble Tea goroutine: Apply, Sample and the
// readers must not be called concurrently. Values handed in by Apply are
// the engine's copies and are kept as they are, never mutated.
package state

import (
	"strings"
	"time"

	"otscope/assets/review"
	"otscope/model"
)

// HistoryLen is how many packets/s samples are kept per source (one per tick).
const HistoryLen = 120

// Change says what one Apply call touched.
type Change struct {
	// Reset is set when the whole state was replaced by a snapshot.
	Reset bool
	// Assets holds the IDs of assets added, changed or removed.
	Assets map[model.AssetID]struct{}
	// Conversations holds the keys of conversations added or changed.
	Conversations map[string]struct{}
	// Stats is set when any source's counters changed.
	Stats bool
	// Analysis is set when a new analysis (lifecycle, advisories, audit,
	// states) replaced the previous one.
	Analysis bool
}

// AssetChanged reports whether the asset id was touched (always true on Reset).
func (c Change) AssetChanged(id model.AssetID) bool {
	if c.Reset {
		return true
	}
	_, ok := c.Assets[id]
	return ok
}

// Empty reports whether nothing changed.
func (c Change) Empty() bool {
	return !c.Reset && len(c.Assets) == 0 && len(c.Conversations) == 0 && !c.Stats && !c.Analysis
}

// Source is one packet source: its latest counters and its rate history.
type Source struct {
	Stats model.CaptureStats
	// History holds packets/s, oldest first, one sample per Sample call.
	History []float64
	// lastPackets and lastTime are the counters at the previous sample.
	lastPackets uint64
	lastTime    time.Time
	sampled     bool
}

// PPS returns the most recent packets/s sample, or 0 before the first.
func (s *Source) PPS() float64 {
	if len(s.History) == 0 {
		return 0
	}
	return s.History[len(s.History)-1]
}

// Phase is the overall condition of the capture feeding the session.
type Phase uint8

// The phases, in the order a capture goes through them.
const (
	// Waiting: the feed is open but no source has reported yet.
	Waiting Phase = iota
	// Running: at least one source is still reading.
	Running
	// Finished: every source reached its end without error.
	Finished
	// Stopped: the feed closed before every source was done.
	Stopped
	// Failed: a source reported an error.
	Failed
	// Stored: there is no feed; the session was reopened from storage.
	Stored
	// Idle: the feed is open but no source was given and none has ever
	// reported, so nothing will arrive (an empty session opened on its own).
	Idle
)

var phaseNames = [...]string{"waiting", "running", "finished", "stopped", "error", "stored", "no source"}

// String returns the phase as the status bar shows it.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "unknown"
}

// State is the UI's copy of the session.
type State struct {
	assets map[model.AssetID]*model.Asset
	// search holds each asset's lower-cased SearchText, built when the
	// asset arrives or changes so filtering never rebuilds it per keystroke.
	search  map[model.AssetID]string
	convs   map[string]*model.Conversation
	convsOf map[model.AssetID][]string
	sources []*Source
	byName  map[string]int
	closed  bool
	noFeed  bool
	// noSources: nothing was asked to feed the session; loaded: the first
	// snapshot (a Reset) arrived.
	noSources bool
	loaded    bool
	// latest is the newest LastSeen or LastPacket applied.
	latest time.Time
	// analysis is the latest analysis of the inventory (nil before the first).
	analysis *review.Analysis
}

// New returns an empty State.
func New() *State {
	s := &State{}
	s.clear()
	return s
}

func (s *State) clear() {
	s.assets = make(map[model.AssetID]*model.Asset)
	s.search = make(map[model.AssetID]string)
	s.convs = make(map[string]*model.Conversation)
	s.convsOf = make(map[model.AssetID][]string)
	s.sources = nil
	s.byName = make(map[string]int)
	s.latest = time.Time{}
}

// Apply applies updates in order and returns what changed. A Reset update
// clears everything first, including changes gathered from earlier updates
// of the same batch.
func (s *State) Apply(updates []model.Update) Change {
	ch := Change{Assets: map[model.AssetID]struct{}{}, Conversations: map[string]struct{}{}}
	for i := range updates {
		u := &updates[i]
		if u.Reset {
			s.clear()
			s.loaded = true
			clear(ch.Assets)
			clear(ch.Conversations)
			ch.Reset, ch.Stats = true, true
		}
		for j := range u.Assets {
			a := &u.Assets[j]
			s.assets[a.ID] = a
			s.search[a.ID] = strings.ToLower(a.SearchText())
			s.seen(a.LastSeen)
			ch.Assets[a.ID] = struct{}{}
		}
		for _, id := range u.Removed {
			delete(s.assets, id)
			delete(s.search, id)
			ch.Assets[id] = struct{}{}
		}
		for j := range u.Conversations {
			c := &u.Conversations[j]
			k := c.Key()
			if _, ok := s.convs[k]; !ok {
				s.convsOf[c.Client] = append(s.convsOf[c.Client], k)
				if c.Server != c.Client {
					s.convsOf[c.Server] = append(s.convsOf[c.Server], k)
				}
			}
			s.convs[k] = c
			s.seen(c.LastSeen)
			ch.Conversations[k] = struct{}{}
		}
		for _, st := range u.Stats {
			s.setStats(st)
			ch.Stats = true
		}
	}
	return ch
}

func (s *State) seen(t time.Time) {
	if t.After(s.latest) {
		s.latest = t
	}
}

func (s *State) setStats(st model.CaptureStats) {
	s.seen(st.LastPacket)
	if i, ok := s.byName[st.Source]; ok {
		s.sources[i].Stats = st
		return
	}
	s.byName[st.Source] = len(s.sources)
	s.sources = append(s.sources, &Source{Stats: st})
}

// Sample records one packets/s value per source from the packet counters'
// growth since the previous Sample; call it once per tick with the tick time.
// The first call per source only sets the baseline.
func (s *State) Sample(now time.Time) {
	for _, src := range s.sources {
		p := src.Stats.Packets
		if src.sampled {
			dt := now.Sub(src.lastTime).Seconds()
			if dt <= 0 {
				continue
			}
			rate := 0.0
			if p > src.lastPackets {
				rate = float64(p-src.lastPackets) / dt
			}
			src.History = append(src.History, rate)
			if n := len(src.History); n > HistoryLen {
				src.History = append(src.History[:0], src.History[n-HistoryLen:]...)
			}
		}
		src.lastPackets, src.lastTime, src.sampled = p, now, true
	}
}

// SetClosed records that the update feed closed: the engine stopped.
func (s *State) SetClosed() { s.closed = true }

// SetNoFeed records that the session has no update feed at all.
func (s *State) SetNoFeed() { s.noFeed = true }

// SetNoSources records that no packet source was asked to feed the
// session: unless stored counters arrive, nothing will.
func (s *State) SetNoSources() { s.noSources = true }

// Latest returns the newest time in the data: the latest LastSeen of any
// asset or conversation or LastPacket of any source (zero when empty).
func (s *State) Latest() time.Time { return s.latest }

// LiveRunning reports whether a live capture is still running, so that
// the data is as recent as the wall clock.
func (s *State) LiveRunning() bool {
	if s.closed || s.noFeed {
		return false
	}
	for _, src := range s.sources {
		if src.Stats.Live && !src.Stats.Done && src.Stats.Err == "" {
			return true
		}
	}
	return false
}

// Closed reports whether the update feed closed.
func (s *State) Closed() bool { return s.closed }

// Phase sums up the sources and the feed.
func (s *State) Phase() Phase {
	allDone := len(s.sources) > 0
	for _, src := range s.sources {
		if src.Stats.Err != "" {
			return Failed
		}
		allDone = allDone && src.Stats.Done
	}
	switch {
	case s.noFeed:
		return Stored
	case len(s.sources) == 0 && s.noSources && (s.loaded || s.closed):
		return Idle
	case allDone:
		return Finished
	case s.closed:
		return Stopped
	case len(s.sources) == 0:
		return Waiting
	default:
		return Running
	}
}

// Err returns the first source error, or "".
func (s *State) Err() string {
	for _, src := range s.sources {
		if src.Stats.Err != "" {
			return src.Stats.Source + ": " + src.Stats.Err
		}
	}
	return ""
}

// Asset returns the asset with the given ID.
func (s *State) Asset(id model.AssetID) (*model.Asset, bool) {
	a, ok := s.assets[id]
	return a, ok
}

// SearchText returns the lower-cased model.Asset.SearchText of the asset
// id, cached when the asset last changed; match it with model.MatchesText.
func (s *State) SearchText(id model.AssetID) string { return s.search[id] }

// NumAssets returns how many assets are held.
func (s *State) NumAssets() int { return len(s.assets) }

// EachAsset calls f for every asset, in no particular order.
func (s *State) EachAsset(f func(*model.Asset)) {
	for _, a := range s.assets {
		f(a)
	}
}

// Label returns the asset's Label, or for an unknown asset (a multicast
// group, a host not yet merged) its ID without the "ip:" or "mac:" kind.
func (s *State) Label(id model.AssetID) string {
	if a, ok := s.assets[id]; ok {
		return a.Label()
	}
	for _, p := range []string{"ip:", "mac:"} {
		if rest, ok := strings.CutPrefix(string(id), p); ok {
			return rest
		}
	}
	return string(id)
}

// Conversation returns the conversation with the given key.
func (s *State) Conversation(key string) (*model.Conversation, bool) {
	c, ok := s.convs[key]
	return c, ok
}

// NumConversations returns how many conversations are held.
func (s *State) NumConversations() int { return len(s.convs) }

// EachConversation calls f for every conversation, in no particular order.
func (s *State) EachConversation(f func(key string, c *model.Conversation)) {
	for k, c := range s.convs {
		f(k, c)
	}
}

// ConversationsOf returns the keys of the conversations where id is the
// client or the server, in the order they were first seen. The slice must
// not be modified.
func (s *State) ConversationsOf(id model.AssetID) []string { return s.convsOf[id] }

// Sources returns the packet sources in the order they first reported.
// The slice must not be modified.
func (s *State) Sources() []*Source { return s.sources }

// Totals sums packets and the latest packets/s over all sources.
func (s *State) Totals() (packets uint64, pps float64) {
	for _, src := range s.sources {
		packets += src.Stats.Packets
		pps += src.PPS()
	}
	return packets, pps
}

// SetAnalysis replaces the analysis of the inventory (lifecycle verdicts,
// advisories, violations, inventory states). It is computed off the UI
// goroutine from copies and never changed afterwards.
func (s *State) SetAnalysis(a *review.Analysis) { s.analysis = a }

// Analysis returns the latest analysis, or nil before the first one.
func (s *State) Analysis() *review.Analysis { return s.analysis }

// AssetPointers returns every asset and conversation as pointers, for an
// analysis to read off the UI goroutine: Apply replaces values and never
// changes them, so the pointers stay valid and unchanged.
func (s *State) AssetPointers() ([]*model.Asset, []*model.Conversation) {
	as := make([]*model.Asset, 0, len(s.assets))
	for _, a := range s.assets {
		as = append(as, a)
	}
	cs := make([]*model.Conversation, 0, len(s.convs))
	for _, c := range s.convs {
		cs = append(cs, c)
	}
	return as, cs
}
