// Package lifecyclepane is the lifecycle pane of the otscope TUI: where the
// plant's products stand in their vendors' lifecycles, and where the
// assets stand in the inventory.
//
//   - counts per phase (discontinued, end-of-life, mature, active,
//     unknown) and per inventory state (discovered, identified, verified,
//     missing, decommissioned);
//   - the ends of support coming in the next 24 months, soonest first;
//   - every asset by phase, furthest towards the end first, with its
//     vendor term, end of support and inventory state; Enter opens it.
//
// Verdicts come from the analysis (the embedded catalog plus the user's),
// recomputed off the UI goroutine; rows are rebuilt when a new analysis
// arrives, and View renders only the visible ones.
package lifecyclepane

import (
	"cmp"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/lifecycle"
	"otscope/assets/review"
	"otscope/model"
	"otscope/ui/format"
	"otscope/ui/pane"
	"otscope/ui/pane/grid"
	"otscope/ui/state"
)

// Horizon is how far ahead the upcoming ends of support are listed.
const Horizon = 24 // months

// KeyMap is the keys of the lifecycle pane.
type KeyMap struct {
	Move grid.KeyMap
	Open key.Binding
}

// DefaultKeyMap returns the default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{Move: grid.DefaultKeyMap(), Open: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail"))}
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.keys.Open, m.keys.Move.PageDown} }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.keys.Move.Bindings(), {m.keys.Open}}
}

// phaseOrder lists the phases as the pane counts them, most urgent first.
var phaseOrder = []lifecycle.Phase{lifecycle.Discontinued, lifecycle.EndOfLife, lifecycle.Mature, lifecycle.Active, lifecycle.Unknown}

// stateOrder lists the inventory states as the pane counts them.
var stateOrder = []lifecycle.State{lifecycle.Discovered, lifecycle.Identified, lifecycle.Verified, lifecycle.Missing, lifecycle.Decommissioned}

var cols = []grid.Column{
	{Title: "PHASE", Width: 12},
	{Title: "ADDRESS", Width: 15},
	{Title: "PRODUCT", Width: 12, Max: 32, Flex: 2},
	{Title: "VENDOR TERM", Width: 10, Max: 40, Flex: 2},
	{Title: "END SUPPORT", Width: 11},
	{Title: "STATE", Width: 10, Max: 14},
}

// row is one asset with its sort keys; its line is built when it is
// first shown.
type row struct {
	id    model.AssetID
	phase lifecycle.Phase
	eos   time.Time // end of the end-of-support period (zero: unknown)
	addr  string
	ip    netip.Addr // the address as a number, for sorting (invalid: a MAC)
	cells []string
	line  string
}

// upcoming is one end of support within the horizon.
type upcoming struct {
	when  time.Time
	date  string
	label string
	what  string
}

// Model is the lifecycle pane.
type Model struct {
	ctx  pane.Context
	keys KeyMap
	grid grid.Model[model.AssetID]
	rows map[model.AssetID]*row
	pane.Focusable
	width  int
	height int
	widths []int
	stale  bool

	phases   map[lifecycle.Phase]int
	states   map[lifecycle.State]int
	untrack  int
	upcoming []upcoming
	passed   int
	an       *review.Analysis
}

// New returns an empty lifecycle pane.
func New(ctx pane.Context) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap(), grid: grid.New[model.AssetID](), rows: map[model.AssetID]*row{}}
	m.SetSize(80, 20)
	return m
}

// Title implements pane.Pane.
func (m *Model) Title() string { return "Lifecycle" }

// ShortTitle is the tab name when the tab bar is crowded.
func (m *Model) ShortTitle() string { return "Life" }

// Summary implements pane.Pane.
func (m *Model) Summary() string {
	if m.an == nil {
		return "analysing…"
	}
	n := m.phases[lifecycle.Discontinued] + m.phases[lifecycle.EndOfLife]
	return strconv.Itoa(n) + " past EoL · " + strconv.Itoa(len(m.upcoming)) + " ending ≤" + strconv.Itoa(Horizon) + "mo"
}

// Capturing implements pane.Pane.
func (m *Model) Capturing() bool { return false }

// SetSize implements pane.Pane.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(1, width), max(1, height)
	m.widths = grid.Layout(cols, m.width-1)
	for _, r := range m.rows {
		r.line = ""
	}
	m.grid.SetHeight(m.rowsHeight())
}

// DataChanged implements pane.Pane: rows follow the analysis, which
// follows the inventory. They are rebuilt when next shown, so a new
// analysis costs nothing while the pane is hidden.
func (m *Model) DataChanged(c state.Change) {
	if c.Analysis || c.Reset {
		m.stale = true
	}
}

// Update implements pane.Pane.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := m.Key(msg, func(line int) { m.grid.Click(line - m.headLines() - 1) })
	if !ok {
		return nil
	}
	m.rebuild()
	switch {
	case m.grid.Update(k):
	case key.Matches(k, m.keys.Open):
		if id, ok := m.grid.Selected(); ok {
			return pane.OpenAsset(id)
		}
	}
	return nil
}

// Selected returns the asset under the cursor.
func (m *Model) Selected() (model.AssetID, bool) {
	m.rebuild()
	return m.grid.Selected()
}

// headLines is how many lines the counts and upcoming list take.
func (m *Model) headLines() int {
	return 4 + m.upcomingShown()
}

// upcomingShown is how many upcoming ends of support are listed: all that
// fit in a fifth of the height, at least one.
func (m *Model) upcomingShown() int {
	return min(len(m.upcoming), max(1, m.height/5))
}

func (m *Model) rowsHeight() int { return max(1, m.height-m.headLines()-1) }

// rebuild recounts and rebuilds every row from the analysis.
func (m *Model) rebuild() {
	if !m.stale {
		return
	}
	m.stale = false
	st := m.ctx.State
	an := st.Analysis()
	m.an = an
	m.phases, m.states, m.untrack = map[lifecycle.Phase]int{}, map[lifecycle.State]int{}, 0
	m.upcoming, m.passed = m.upcoming[:0], 0
	clear(m.rows)
	if an == nil {
		m.grid.SetRows(nil)
		return
	}
	now := an.Now
	horizon := now.AddDate(0, Horizon, 0)
	list := make([]*row, 0, st.NumAssets())
	st.EachAsset(func(a *model.Asset) {
		r := &row{id: a.ID, phase: lifecycle.Unknown, addr: address(a)}
		if len(a.IPs) > 0 {
			r.ip = a.IPs[0]
		}
		term, eos := "", ""
		res := an.Lifecycle[a.ID]
		if res != nil {
			r.phase, term, eos = res.PhaseAt(now), res.VendorTerm, res.EndOfSupport.String()
			r.eos = res.EndOfSupport.End()
			switch {
			case res.EndOfSupport.IsZero():
			case res.EndOfSupport.Passed(now):
				m.passed++
			case r.eos.Before(horizon):
				m.upcoming = append(m.upcoming, upcoming{when: r.eos, date: eos, label: a.Label(), what: res.Family})
			}
		}
		m.phases[r.phase]++
		s := an.State(a.ID)
		if s == lifecycle.Untracked {
			m.untrack++
		} else {
			m.states[s]++
		}
		stateText := s.String()
		if s == lifecycle.Untracked {
			stateText = "-"
		}
		product := a.Product
		if product == "" && res != nil {
			product = res.Family
		}
		if product == "" && len(a.Names) > 0 {
			product = a.Names[0] // its name, not its address again
		}
		r.cells = []string{r.phase.String(), r.addr, product, term, eos, stateText}
		m.rows[a.ID] = r
		list = append(list, r)
	})
	slices.SortFunc(list, func(x, y *row) int {
		if c := cmp.Compare(y.phase, x.phase); c != 0 {
			return c
		}
		if c := compareTime(x.eos, y.eos); c != 0 {
			return c
		}
		return cmp.Or(compareAddr(x, y), strings.Compare(string(x.id), string(y.id)))
	})
	slices.SortFunc(m.upcoming, func(x, y upcoming) int { return cmp.Or(x.when.Compare(y.when), strings.Compare(x.label, y.label)) })
	keys := make([]model.AssetID, len(list))
	for i, r := range list {
		keys[i] = r.id
	}
	m.grid.SetHeight(m.rowsHeight())
	m.grid.SetRows(keys)
}

// compareAddr orders rows by address as numbers (10.10.1.2 before
// 10.10.1.101), IPv4 before IPv6, then rows known only by MAC.
func compareAddr(x, y *row) int {
	if x.ip.IsValid() != y.ip.IsValid() {
		if x.ip.IsValid() {
			return -1
		}
		return 1
	}
	if x.ip.IsValid() {
		return x.ip.Compare(y.ip)
	}
	return strings.Compare(x.addr, y.addr)
}

// compareTime orders known times first, earliest first.
func compareTime(x, y time.Time) int {
	if x.IsZero() != y.IsZero() {
		if x.IsZero() {
			return 1
		}
		return -1
	}
	return x.Compare(y)
}

func address(a *model.Asset) string {
	switch {
	case len(a.IPs) > 0:
		return a.IPs[0].String()
	case len(a.MACs) > 0:
		return a.MACs[0].String()
	}
	return string(a.ID)
}

// View implements pane.Pane.
func (m *Model) View() string {
	m.rebuild()
	st := m.ctx.Styles
	if m.an == nil {
		return st.Muted.Render(format.Truncate(" Analysing the inventory against the lifecycle catalog…", m.width))
	}
	var lines []string
	add := func(s string) { lines = append(lines, format.Truncate(s, m.width)) }
	label := func(s string) string { return st.Label.Render(format.Fit(s, 6)) }
	var ph []string
	for _, p := range phaseOrder {
		t := p.String() + " " + strconv.Itoa(m.phases[p])
		if (p == lifecycle.Discontinued || p == lifecycle.EndOfLife) && m.phases[p] > 0 {
			t = st.Warn.Render(t)
		}
		ph = append(ph, t)
	}
	add(" " + label("PHASE") + " " + strings.Join(ph, " · "))
	var ss []string
	for _, s := range stateOrder {
		if s == lifecycle.Decommissioned && m.states[s] == 0 {
			continue // rare; listed once there is one
		}
		t := s.String() + " " + strconv.Itoa(m.states[s])
		if s == lifecycle.Missing && m.states[s] > 0 {
			t = st.Warn.Render(t)
		}
		ss = append(ss, t)
	}
	if m.untrack > 0 {
		ss = append(ss, "untracked "+strconv.Itoa(m.untrack))
	}
	add(" " + label("STATE") + " " + strings.Join(ss, " · "))
	head := "END OF SUPPORT in the next " + strconv.Itoa(Horizon) + " months"
	if m.passed > 0 {
		head += " (" + strconv.Itoa(m.passed) + " already passed)"
	}
	add(" " + st.Section.Render(head))
	if len(m.upcoming) == 0 {
		add("   " + st.Muted.Render("none"))
	}
	n := m.upcomingShown()
	for i, u := range m.upcoming[:n] {
		t := "   " + format.Fit(u.date, 10) + "  " + u.label + "  " + st.Muted.Render(u.what)
		if i == n-1 && n < len(m.upcoming) {
			t += st.Muted.Render("  … " + strconv.Itoa(len(m.upcoming)-n) + " more")
		}
		add(t)
	}
	if !m.an.CatalogLoaded {
		add(" " + st.Muted.Render("no lifecycle catalog loaded"))
	} else {
		add("")
	}
	lines = append(lines, st.Header.Render(format.Truncate(" "+grid.Header(cols, m.widths), m.width)))
	start, end := m.grid.Window()
	keys := m.grid.Rows()
	cursor := m.grid.Cursor()
	for i := start; i < end; i++ {
		r := m.rows[keys[i]]
		if r.line == "" {
			r.line = grid.Join(cols, m.widths, r.cells)
		}
		line := r.line
		if i == cursor {
			lines = append(lines, st.Selected.Render(format.Truncate("▸"+line, m.width)))
			continue
		}
		if r.phase >= lifecycle.EndOfLife {
			line = st.Warn.Render(format.Truncate(line, m.width-1))
		}
		lines = append(lines, " "+line)
	}
	return strings.Join(lines, "\n")
}

// Legend explains the pane in the help overlay.
const Legend = "Phases are otscope's scale over the vendors' own terms (shown as VENDOR TERM): mature = successor " +
	"named or phase-out announced; end-of-life = no longer sold, support ending; discontinued = no support. " +
	"A phase is raised to end-of-life once its end of sale or support has passed. STATE is the inventory state: " +
	"v verifies and D decommissions an asset from the Assets or Detail pane."

// Legend implements the help overlay's optional legend.
func (m *Model) Legend() string { return Legend }
