package ui

import (
	"errors"
	"slices"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/review"
	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/ui/pane"
	"otscope/ui/state"
)

// AnalyseEvery is the least time between two analyses while the inventory
// keeps changing: an audit of a large plant takes a while, and the panes
// need not change faster than a person reads them.
const AnalyseEvery = 2 * time.Second

// noticeFor is how long a notice stays in the tab bar.
const noticeFor = 6 * time.Second

// AnalysisMsg delivers an analysis computed off the UI goroutine.
type AnalysisMsg struct{ Analysis *review.Analysis }

// actionMsg reports the outcome of a waiver or a manual transition that
// was stored off the UI goroutine.
type actionMsg struct {
	text string
	err  error
}

// analysisLoop runs the lifecycle/advisory/audit analysis off the UI
// goroutine: at most one at a time, at most one per AnalyseEvery while
// the data changes, and again at once after the user waived a violation
// or changed a state. A keypress never waits for it.
type analysisLoop struct {
	analyzer *review.Analyzer
	ledger   Ledger
	// book is the session's walkdown: the audit sees it as the CLI's
	// reports do (walkdown.Book.Review). nil: no walkdown.
	book *walkdown.Book
	now  func() time.Time
	// dirty: the data changed since the running or last analysis.
	dirty, running, urgent bool
	last                   time.Time // wall clock, for the throttle
	states                 uint64    // tracker version the last job saw
	walked                 uint64    // walkdown book version the last job saw
	// runs counts the analyses started (tests hold idle at zero).
	runs int
}

func newAnalysisLoop(cfg Config) *analysisLoop {
	return &analysisLoop{analyzer: review.NewAnalyzer(cfg.Analysis), ledger: cfg.Ledger, book: cfg.Walkdown, now: cfg.Now}
}

// run analyses job off the UI goroutine, with the walkdown in it: the
// same analysis the CLI's reports make of a stored session.
func (l *analysisLoop) run(job review.Job) *review.Analysis {
	if l.book == nil {
		return l.analyzer.Run(job)
	}
	as := make([]model.Asset, len(job.Assets))
	for i, a := range job.Assets {
		as[i] = *a
	}
	audited, notes := l.book.Review(as)
	job.Assets = make([]*model.Asset, len(audited))
	for i := range audited {
		job.Assets[i] = &audited[i]
	}
	an := l.analyzer.Run(job)
	an.Walkdown = notes
	return an
}

// maybe starts an analysis when one is due and none runs. It copies only
// pointers on the UI goroutine; the analyzer reads the values, which the
// state never changes.
func (l *analysisLoop) maybe(m *Model, force bool) tea.Cmd {
	if l.ledger != nil && l.ledger.States().Version() != l.states {
		l.dirty = true
	}
	if l.book != nil && l.book.Version() != l.walked {
		l.dirty = true
	}
	if force {
		l.dirty, l.urgent = true, true
	}
	if !l.dirty || l.running || (!l.urgent && time.Since(l.last) < AnalyseEvery) {
		return nil
	}
	job := l.job(m.state)
	l.dirty, l.urgent, l.running = false, false, true
	l.runs++
	return func() tea.Msg { return AnalysisMsg{Analysis: l.run(job)} }
}

func (l *analysisLoop) job(st *state.State) review.Job {
	as, cs := st.AssetPointers()
	j := review.Job{Assets: as, Conversations: cs, Now: l.now()}
	if l.book != nil {
		l.walked = l.book.Version()
	}
	if l.ledger != nil {
		l.states = l.ledger.States().Version()
		j.States = l.ledger.States().Snapshot()
		j.Waivers = l.ledger.Waivers()
	}
	return j
}

// due is how long until the throttle lets a pending analysis start; ok is
// false when none is pending (nothing changed, or one is running and done
// starts the next).
func (l *analysisLoop) due() (time.Duration, bool) {
	if !l.dirty || l.running {
		return 0, false
	}
	if l.urgent {
		return 0, true
	}
	return max(0, AnalyseEvery-time.Since(l.last)), true
}

// contentChanged reports whether updates change what an analysis reads:
// an asset or conversation added or removed, or one whose content (not only
// its packet and byte counters and times) changed. A capture that only
// counts traffic of known devices re-runs no audit.
func contentChanged(st *state.State, updates []model.Update) bool {
	for i := range updates {
		u := &updates[i]
		if u.Reset || len(u.Removed) > 0 {
			return true
		}
		for j := range u.Assets {
			old, ok := st.Asset(u.Assets[j].ID)
			if !ok || !sameAssetContent(old, &u.Assets[j]) {
				return true
			}
		}
		for j := range u.Conversations {
			c := &u.Conversations[j]
			old, ok := st.Conversation(c.Key())
			if !ok || old.ClientIP != c.ClientIP || old.ServerIP != c.ServerIP || old.ClientMAC != c.ClientMAC ||
				old.ServerMAC != c.ServerMAC || old.Protocol != c.Protocol {
				return true
			}
		}
	}
	return false
}

// sameAssetContent compares two versions of an asset, leaving out what
// traffic alone moves: packets, bytes, last-seen times (of the asset, its
// services and facts), how often a fact was seen and where last.
func sameAssetContent(a, b *model.Asset) bool {
	if a.ID != b.ID || a.Vendor != b.Vendor || a.Gateway != b.Gateway || !a.FirstSeen.Equal(b.FirstSeen) ||
		a.Product != b.Product || a.OrderNumber != b.OrderNumber || a.Firmware != b.Firmware ||
		a.HardwareVersion != b.HardwareVersion || a.Serial != b.Serial || a.DeviceType != b.DeviceType ||
		a.OperatingMode != b.OperatingMode ||
		!slices.Equal(a.MACs, b.MACs) || !slices.Equal(a.IPs, b.IPs) || !slices.Equal(a.VLANs, b.VLANs) ||
		!slices.Equal(a.Names, b.Names) || !slices.Equal(a.Roles, b.Roles) || !slices.Equal(a.Protocols, b.Protocols) ||
		!slices.Equal(a.Modules, b.Modules) || !equalProtocolIDs(a.ProtocolIDs, b.ProtocolIDs) {
		return false
	}
	if !slices.EqualFunc(a.Services, b.Services, func(x, y model.Service) bool {
		return x.Transport == y.Transport && x.Port == y.Port && x.Protocol == y.Protocol && x.IP == y.IP
	}) {
		return false
	}
	return slices.EqualFunc(a.Facts, b.Facts, func(x, y model.Fact) bool {
		return x.Field == y.Field && x.Value == y.Value && x.Detail == y.Detail
	})
}

func equalProtocolIDs(a, b *model.ProtocolIDs) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.CIPVendorID == b.CIPVendorID && a.CIPProductCode == b.CIPProductCode && a.BACnetInstance == b.BACnetInstance &&
		a.BACnetVendorID == b.BACnetVendorID && a.ProfinetStationName == b.ProfinetStationName &&
		a.ProfinetVendorID == b.ProfinetVendorID && a.ProfinetDeviceID == b.ProfinetDeviceID &&
		slices.Equal(a.ModbusUnitIDs, b.ModbusUnitIDs) && slices.Equal(a.DNP3Addresses, b.DNP3Addresses) &&
		slices.Equal(a.IEC104CommonAddresses, b.IEC104CommonAddresses) && a.AMSNetID == b.AMSNetID &&
		a.OPCUAApplicationURI == b.OPCUAApplicationURI && a.SNMPSysObjectID == b.SNMPSysObjectID
}

// done installs a finished analysis and starts the next one if the data
// changed meanwhile and the throttle allows.
func (l *analysisLoop) done(m *Model, msg AnalysisMsg) tea.Cmd {
	l.running, l.last = false, time.Now()
	m.state.SetAnalysis(msg.Analysis)
	for _, p := range m.panes {
		p.DataChanged(state.Change{Analysis: true})
	}
	return l.maybe(m, false)
}

// analyseNow runs an analysis on the calling goroutine and installs it
// (tests, and nothing else: it blocks).
func (m *Model) analyseNow() {
	job := m.an.job(m.state)
	m.an.dirty = false
	m.an.done(m, AnalysisMsg{Analysis: m.an.run(job)})
}

func (m *Model) setNotice(text string, isErr bool) {
	m.notice, m.noticeErr, m.noticeUntil = text, isErr, m.cfg.Now().Add(noticeFor)
}

var errNoLedger = errors.New("this view keeps no session: waivers and states cannot be recorded")

// setState records a manual transition off the UI goroutine.
func (m *Model) setState(msg pane.SetStateMsg) tea.Cmd {
	ledger, user := m.cfg.Ledger, m.user()
	if ledger == nil {
		m.setNotice(errNoLedger.Error(), true)
		return nil
	}
	label := m.state.Label(msg.ID)
	return func() tea.Msg {
		r, err := ledger.SetState(msg.ID, msg.To, user, msg.Why)
		if err != nil {
			return actionMsg{err: errors.New(label + ": " + err.Error())}
		}
		return actionMsg{text: label + ": " + r.Transition.From.String() + " → " + r.Transition.To.String()}
	}
}

// waive stores a waiver record off the UI goroutine.
func (m *Model) waive(msg pane.WaiveMsg) tea.Cmd {
	ledger, user := m.cfg.Ledger, m.user()
	if ledger == nil {
		m.setNotice(errNoLedger.Error(), true)
		return nil
	}
	now := m.cfg.Now()
	var rec review.WaiverRecord
	text := "waived " + msg.Rule + " for " + m.state.Label(msg.Asset)
	if msg.Revoke {
		rec = review.Revoke(review.Key{Rule: msg.Rule, Asset: msg.Asset}, msg.Reason, user, now)
		text = "revoked the waiver of " + msg.Rule + " for " + m.state.Label(msg.Asset)
	} else {
		var err error
		if rec, err = review.NewWaiver(msg.Rule, msg.Asset, msg.Reason, user, msg.Until, now); err != nil {
			m.setNotice(err.Error(), true)
			return nil
		}
	}
	return func() tea.Msg {
		if err := ledger.Waive(rec); err != nil {
			return actionMsg{err: err}
		}
		return actionMsg{text: text}
	}
}

// actionDone shows the outcome and re-analyses at once.
func (m *Model) actionDone(msg actionMsg) tea.Cmd {
	if msg.err != nil {
		m.setNotice("✗ "+msg.err.Error(), true)
		return nil
	}
	m.setNotice("✓ "+msg.text, false)
	return m.an.maybe(m, true)
}

func (m *Model) user() string {
	if m.cfg.User != "" {
		return m.cfg.User
	}
	return "operator"
}
