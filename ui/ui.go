package ui

import (
	"strconv"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/lifecycle"
	"otscope/assets/review"
	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/ui/format"
	"otscope/ui/keys"
	"otscope/ui/pane"
	"otscope/ui/pane/assetpane"
	"otscope/ui/pane/capturepane"
	"otscope/ui/pane/detailpane"
	"otscope/ui/pane/lifecyclepane"
	"otscope/ui/pane/matrixpane"
	"otscope/ui/pane/scanpane"
	"otscope/ui/pane/violationspane"
	"otscope/ui/pane/walkdownpane"
	"otscope/ui/state"
	"otscope/ui/theme"
)

// MinWidth and MinHeight are the smallest terminal the UI draws panes in;
// below it shows a one-line notice instead.
const (
	MinWidth  = 40
	MinHeight = 10
)

// Config is what main passes to New.
type Config struct {
	// Session is the session name shown in the status bar.
	Session string
	// Updates delivers batches from the inventory and is closed when the
	// engine stops. A nil channel means a stored session with no engine.
	Updates <-chan model.Update
	// Sources names what feeds the session ("demo plant", "plant.pcap",
	// "iface:eth0"); empty for a reopened session.
	Sources []string
	// Version is otscope's version, shown in the help overlay.
	Version string
	// Now returns the current time; nil means time.Now. Tests pin it.
	Now func() time.Time
	// Analysis is what the inventory is analysed with: the lifecycle
	// catalog, advisories (nil: "no advisories loaded") and the policy pack
	// (nil: the default pack).
	Analysis review.Sources
	// Ledger keeps the session's inventory states and waivers (an
	// *assets.Session); nil shows no states and refuses waivers and
	// manual transitions.
	Ledger Ledger
	// User is who waivers and manual transitions are recorded as.
	User string
	// Scan drives the active scanner; nil: the scan pane explains that a
	// live session is needed.
	Scan scanpane.Control
	// Walkdown is the session's walkdown book (walkdown.Open); nil: the
	// Walkdown pane explains that a stored session is needed.
	Walkdown *walkdown.Book
	// Sessions lists the stored sessions for the session picker (key O);
	// it is called off the UI goroutine. nil: no picker.
	Sessions func() ([]SessionEntry, error)
	// Exporter writes the session to a file (`e`); Differ compares it with
	// another session (`d`). Nil: the keys explain that a stored session
	// is needed. See travel.go.
	Exporter Exporter
	Differ   Differ
}

// Ledger is the part of the session the UI records decisions in. Its
// methods are called off the UI goroutine (they write to disk).
type Ledger interface {
	States() *review.Tracker
	SetState(id model.AssetID, to lifecycle.State, by, why string) (review.StateRecord, error)
	Waive(r review.WaiverRecord) error
	Waivers() []review.WaiverRecord
}

// Focus identifies one of the panes, by its position in the tab bar.
type Focus int

// The panes, in tab order.
const (
	FocusAssets Focus = iota
	FocusDetail
	FocusMatrix
	FocusCapture
	FocusLifecycle
	FocusViolations
	FocusScan
	FocusWalkdown
)

var focusNames = [...]string{"assets", "detail", "matrix", "capture", "lifecycle", "violations", "scan", "walkdown"}

// String names the pane.
func (f Focus) String() string {
	if f >= 0 && int(f) < len(focusNames) {
		return focusNames[f]
	}
	return "pane " + strconv.Itoa(int(f)+1)
}

// Model is the root Bubble Tea model. It implements tea.Model. It holds
// its panes and state by pointer, so copies of a Model share them: keep
// only the Model the last Update returned, as the Bubble Tea runtime does.
type Model struct {
	cfg    Config
	styles *theme.Styles
	state  *state.State
	keys   keys.KeyMap

	panes      []pane.Pane
	assets     *assetpane.Model
	detail     *detailpane.Model
	matrix     *matrixpane.Model
	capture    *capturepane.Model
	lifecycle  *lifecyclepane.Model
	violations *violationspane.Model
	scan       *scanpane.Model
	walk       *walkdownpane.Model

	// an is the analysis loop's state (see analysis.go).
	an *analysisLoop
	// clk is the clock's state: the UI wakes only when something on
	// screen moves with time (see wake).
	clk *clock
	// tr is the export form and the diff view (see travel.go).
	tr *travel
	// notice is a one-line message in the tab bar until noticeUntil.
	notice      string
	noticeErr   bool
	noticeUntil time.Time

	focus    Focus
	back     Focus
	showHelp bool
	pick     picker
	width    int
	height   int
}

// New builds the UI for cfg. Run it with Run(New(cfg)).
func New(cfg Config) Model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	styles := theme.New()
	st := state.New()
	if cfg.Updates == nil {
		st.SetNoFeed()
	} else if len(cfg.Sources) == 0 {
		st.SetNoSources()
	}
	ctx := pane.Context{Styles: &styles, State: st, Now: cfg.Now, Session: cfg.Session}
	m := Model{cfg: cfg, styles: &styles, state: st}
	m.assets = assetpane.New(ctx)
	m.assets.SetWalkdown(cfg.Walkdown, cfg.User, cfg.Now)
	m.detail = detailpane.New(ctx)
	m.matrix = matrixpane.New(ctx)
	m.capture = capturepane.New(ctx, cfg.Sources)
	m.lifecycle = lifecyclepane.New(ctx)
	m.violations = violationspane.New(ctx)
	m.scan = scanpane.New(ctx, cfg.Scan)
	m.walk = walkdownpane.New(ctx, walkdownpane.Config{Book: cfg.Walkdown, User: cfg.User, Now: cfg.Now, States: func() walkdown.States {
		if cfg.Ledger == nil {
			return nil
		}
		return cfg.Ledger.States()
	}})
	// Tab order; add new panes here (and a Focus constant).
	m.panes = []pane.Pane{m.assets, m.detail, m.matrix, m.capture, m.lifecycle, m.violations, m.scan, m.walk}
	m.an = newAnalysisLoop(cfg)
	m.clk = &clock{}
	m.tr = newTravel(&styles)
	m.keys = keys.DefaultKeyMap(len(m.panes))
	m.keys.Open.SetEnabled(cfg.Sessions != nil)
	m.assets.Focus()
	m.resize(80, 24)
	m.width, m.height = 0, 0 // nothing is drawn until the terminal size is known
	return m
}

// UpdatesMsg carries the model.Updates that were queued on the channel,
// oldest first. Closed is set when the channel closed after them.
type UpdatesMsg struct {
	Updates []model.Update
	Closed  bool
}

// maxBatch bounds how many updates one UpdatesMsg carries, so a flood still
// lets keys through between batches.
const maxBatch = 1024

// WaitForUpdates returns a command that blocks for one update on ch, then
// takes every update already queued without blocking, and returns them as
// one UpdatesMsg (Closed when ch closed).
func WaitForUpdates(ch <-chan model.Update) tea.Cmd {
	return func() tea.Msg {
		u, ok := <-ch
		if !ok {
			return UpdatesMsg{Closed: true}
		}
		batch := []model.Update{u}
		for len(batch) < maxBatch {
			select {
			case u, ok := <-ch:
				if !ok {
					return UpdatesMsg{Updates: batch, Closed: true}
				}
				batch = append(batch, u)
			default:
				return UpdatesMsg{Updates: batch}
			}
		}
		return UpdatesMsg{Updates: batch}
	}
}

// clock is the UI's one timer. The UI does no periodic work while nothing
// changes: the timer runs once a second only while something on screen
// moves with the clock (a source or a scan running, ages and packets/s of a
// live capture) and for a few seconds after the last change, so throttled
// work (an analysis, a walkdown evaluation) catches up; otherwise it is
// armed only for what is due later (a notice to clear, a throttled
// analysis) and for a slow check of the session's inventory states.
type clock struct {
	pending bool      // a clockMsg of generation gen is on its way
	gen     int       // generation of the pending timer; older ones are dropped
	at      time.Time // when the pending timer fires (wall clock)
	// quietAt is when the UI goes quiet after its last change.
	quietAt time.Time
}

// clockMsg is the timer firing; only the latest generation counts.
type clockMsg struct {
	gen int
	at  time.Time
}

// Settle is how long the clock keeps ticking after the last change, so
// that work a pane throttles (walkdown evaluation, analysis) catches up.
const Settle = 5 * time.Second

// StatesEvery is how often an idle UI checks whether the session changed
// inventory states by itself (the missing policy's sweep).
const StatesEvery = 30 * time.Second

// active notes a change: the clock ticks for Settle after it.
func (m *Model) active() { m.clk.quietAt = time.Now().Add(Settle) }

// ticking reports whether the screen moves with the clock: a source or a
// scan running, or a change less than Settle ago.
func (m *Model) ticking() bool {
	if time.Now().Before(m.clk.quietAt) {
		return true
	}
	switch m.state.Phase() {
	case state.Running, state.Waiting:
		if !m.state.Closed() {
			return true
		}
	}
	return m.cfg.Scan != nil && m.cfg.Scan.Status().Running
}

// nextWake is how long until the UI has something to do by itself; ok is
// false when nothing will ever be due without an update or a key.
func (m *Model) nextWake() (d time.Duration, ok bool) {
	take := func(x time.Duration) {
		if !ok || x < d {
			d, ok = max(x, 10*time.Millisecond), true
		}
	}
	if m.ticking() {
		take(time.Second)
	}
	if m.notice != "" {
		if left := m.noticeUntil.Sub(m.cfg.Now()); left > 0 {
			take(left)
		}
	}
	if due, pending := m.an.due(); pending {
		take(due)
	}
	if m.cfg.Ledger != nil {
		take(StatesEvery)
	}
	return d, ok
}

// wake arms the timer for the next thing due, unless one that fires no
// later is already armed.
func (m *Model) wake() tea.Cmd {
	d, ok := m.nextWake()
	if !ok {
		return nil
	}
	at := time.Now().Add(d)
	if m.clk.pending && !m.clk.at.After(at) {
		return nil
	}
	m.clk.gen++
	m.clk.pending, m.clk.at = true, at
	gen := m.clk.gen
	return tea.Tick(d, func(t time.Time) tea.Msg { return clockMsg{gen: gen, at: t} })
}

// Init implements tea.Model: it starts reading updates and the clock.
func (m Model) Init() tea.Cmd {
	// mouse: click a tab or a row, wheel to scroll (shift+drag still
	// selects text in most terminals)
	m.active()
	if m.cfg.Updates == nil {
		return tea.Batch(m.wake(), tea.EnableMouseCellMotion)
	}
	return tea.Batch(WaitForUpdates(m.cfg.Updates), m.wake(), tea.EnableMouseCellMotion)
}

// Focused returns the focused pane.
func (m Model) Focused() Focus { return m.focus }

// HelpShown reports whether the help overlay is open.
func (m Model) HelpShown() bool { return m.showHelp }

// Update implements tea.Model. After each message it arms the clock for
// whatever is due next; with nothing changing and nothing live on screen
// it arms nothing (or only the slow check of StatesEvery).
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case clockMsg:
		if msg.gen != m.clk.gen {
			return m, nil // superseded by a sooner timer
		}
		m.clk.pending = false
		return m, tea.Batch(m.tick(msg.at), m.wake())
	case tea.KeyMsg, tea.MouseMsg, tea.WindowSizeMsg, AnalysisMsg, actionMsg, pane.NoticeMsg:
		m.active()
	}
	nm, cmd := m.update(msg)
	m = nm.(Model)
	return m, tea.Batch(cmd, m.wake())
}

// tick is the clock's work: a packets/s sample, the panes' ages and rates,
// an analysis that the throttle held back.
func (m *Model) tick(at time.Time) tea.Cmd {
	m.state.Sample(at)
	cmds := []tea.Cmd{m.an.maybe(m, false)}
	for _, p := range m.panes {
		cmds = append(cmds, p.Update(pane.TickMsg{Time: at}))
	}
	return tea.Batch(cmds...)
}

func (m Model) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if cmd, ok := m.travelMsg(msg); ok {
		return m, cmd
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.resize(msg.Width, msg.Height)
		return m, nil
	case UpdatesMsg:
		return m, m.apply(msg)
	case pane.TickMsg:
		return m, m.tick(msg.Time)
	case pane.OpenAssetMsg:
		m.assets.Select(msg.ID)
		m.detail.Show(msg.ID)
		if m.focus != FocusDetail {
			m.back = m.focus
		}
		m.setFocus(FocusDetail)
		return m, nil
	case pane.BackMsg:
		m.setFocus(m.back)
		return m, nil
	case AnalysisMsg:
		return m, m.an.done(&m, msg)
	case pane.SetStateMsg:
		return m, m.setState(msg)
	case pane.WaiveMsg:
		return m, m.waive(msg)
	case actionMsg:
		return m, m.actionDone(msg)
	case pane.NoticeMsg:
		m.setNotice(msg.Text, msg.Err)
		return m, nil
	case sessionsMsg:
		m.listed(msg)
		return m, nil
	case tea.KeyMsg:
		return m.key(msg)
	case tea.MouseMsg:
		return m.mouse(msg)
	}
	var cmds []tea.Cmd
	for _, p := range m.panes {
		cmds = append(cmds, p.Update(msg))
	}
	return m, tea.Batch(cmds...)
}

// apply hands a batch of updates to the state and the panes, and re-arms
// the wait unless the channel closed.
func (m *Model) apply(msg UpdatesMsg) tea.Cmd {
	if len(msg.Updates) > 0 {
		// counters alone (packets, bytes, last seen) change no analysis
		content := contentChanged(m.state, msg.Updates)
		ch := m.state.Apply(msg.Updates)
		if !ch.Empty() {
			m.active()
			for _, p := range m.panes {
				p.DataChanged(ch)
			}
			if ch.Reset || content {
				m.an.dirty = true
			}
		}
	}
	analyse := m.an.maybe(m, false)
	if msg.Closed {
		m.active()
		m.state.SetClosed()
		m.capture.DataChanged(state.Change{Stats: true})
		return analyse
	}
	return tea.Batch(WaitForUpdates(m.cfg.Updates), analyse)
}

// key routes a key: text input first, then global keys, then the focused pane.
func (m Model) key(msg tea.KeyMsg) (tea.Model, tea.Cmd) {
	if key.Matches(msg, m.keys.ForceQuit) {
		return m, tea.Quit
	}
	if m.tr.active() {
		return m, m.travelKey(msg)
	}
	p := m.panes[m.focus]
	if p.Capturing() {
		return m, p.Update(msg)
	}
	if m.pick.open {
		return m.pickerKey(msg)
	}
	if m.showHelp {
		switch {
		case key.Matches(msg, m.keys.Quit):
			return m, tea.Quit
		case key.Matches(msg, m.keys.Help), msg.Type == tea.KeyEsc:
			m.showHelp = false
		}
		return m, nil
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m, tea.Quit
	case key.Matches(msg, m.keys.Help):
		m.showHelp = true
	case key.Matches(msg, m.keys.Open):
		return m, m.openPicker()
	case key.Matches(msg, m.keys.Export):
		return m, m.openExport()
	case key.Matches(msg, m.keys.Diff):
		return m, m.openDiff()
	case key.Matches(msg, m.keys.Next):
		m.setFocus((m.focus + 1) % Focus(len(m.panes)))
	case key.Matches(msg, m.keys.Prev):
		m.setFocus((m.focus + Focus(len(m.panes)) - 1) % Focus(len(m.panes)))
	case key.Matches(msg, m.keys.Goto):
		if n, err := strconv.Atoi(msg.String()); err == nil {
			m.setFocus(Focus(n - 1))
		}
	default:
		return m, p.Update(msg)
	}
	return m, nil
}

// mouse routes a mouse event: a click on the tab bar focuses that pane;
// the wheel moves the focused pane's cursor (or scrolls it) as the arrow
// keys do; a click below the tab bar goes to the focused pane as a
// pane.ClickMsg with the row counted from the pane's first line.
func (m Model) mouse(msg tea.MouseMsg) (tea.Model, tea.Cmd) {
	p := m.panes[m.focus]
	if m.showHelp || p.Capturing() {
		return m, nil
	}
	switch msg.Button {
	case tea.MouseButtonWheelUp:
		return m, p.Update(tea.KeyMsg{Type: tea.KeyUp})
	case tea.MouseButtonWheelDown:
		return m, p.Update(tea.KeyMsg{Type: tea.KeyDown})
	case tea.MouseButtonLeft:
		if msg.Action != tea.MouseActionPress {
			return m, nil
		}
		if msg.Y == 0 {
			if f, ok := m.tabAt(msg.X); ok {
				m.setFocus(f)
			}
			return m, nil
		}
		if msg.Y < m.height-1 {
			return m, p.Update(pane.ClickMsg{Row: msg.Y - 1})
		}
	}
	return m, nil
}

// tabAt is the pane whose tab covers column x of the tab bar.
func (m Model) tabAt(x int) (Focus, bool) {
	level := 0
	for level < 2 && m.width-m.tabsWidth(level)-2 < minSummary {
		level++
	}
	at := 0
	for i, p := range m.panes {
		t := strconv.Itoa(i+1) + " " + tabTitle(p, level)
		if Focus(i) == m.focus {
			t = strconv.Itoa(i+1) + " " + p.Title()
		}
		w := format.Width(t) + 2
		if x >= at && x < at+w {
			return Focus(i), true
		}
		at += w
	}
	return 0, false
}

func (m *Model) setFocus(f Focus) {
	if f < 0 || int(f) >= len(m.panes) {
		return
	}
	if f == FocusDetail && m.detail.Shown() == "" {
		if id, ok := m.assets.Selected(); ok {
			m.detail.Show(id)
		}
	}
	m.panes[m.focus].Blur()
	m.focus = f
	m.panes[m.focus].Focus()
}

// resize gives every pane, hidden ones too, the box between the tab bar
// and the status bar.
func (m *Model) resize(w, h int) {
	m.width, m.height = w, h
	pw, ph := max(MinWidth, w), max(MinHeight, h)-2
	for _, p := range m.panes {
		p.SetSize(pw, ph)
	}
	m.tr.setSize(pw, ph)
}
