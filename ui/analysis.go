package ui

import (
	"errors"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/review"
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
	now      func() time.Time
	// dirty: the data changed since the running or last analysis.
	dirty, running, urgent bool
	last                   time.Time // wall clock, for the throttle
	states                 uint64    // tracker version the last job saw
}

func newAnalysisLoop(cfg Config) *analysisLoop {
	return &analysisLoop{analyzer: review.NewAnalyzer(cfg.Analysis), ledger: cfg.Ledger, now: cfg.Now}
}

// maybe starts an analysis when one is due and none runs. It copies only
// pointers on the UI goroutine; the analyzer reads the values, which the
// state never changes.
func (l *analysisLoop) maybe(m *Model, force bool) tea.Cmd {
	if l.ledger != nil && l.ledger.States().Version() != l.states {
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
	az := l.analyzer
	return func() tea.Msg { return AnalysisMsg{Analysis: az.Run(job)} }
}

func (l *analysisLoop) job(st *state.State) review.Job {
	as, cs := st.AssetPointers()
	j := review.Job{Assets: as, Conversations: cs, Now: l.now()}
	if l.ledger != nil {
		l.states = l.ledger.States().Version()
		j.States = l.ledger.States().Snapshot()
		j.Waivers = l.ledger.Waivers()
	}
	return j
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
	m.an.done(m, AnalysisMsg{Analysis: m.an.analyzer.Run(job)})
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
