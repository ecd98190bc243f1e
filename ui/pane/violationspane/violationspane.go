// Package violationspane is the policy violations pane of the otscope TUI:
// every violation of the policy pack with its severity, rule, asset and
// first/last seen, ordered by severity, rule, asset or last seen (s), the
// group column written once per run so the rows read as groups. Waived
// violations are dimmed and counted apart (w hides them).
//
// Enter shows a violation's evidence (the facts with their frames, the
// flows), the rule's rationale and remediation, and the waiver; Enter again
// opens the asset. a acknowledges the selected violation with a reason and
// an expiry (stored as a waiver in the session), u revokes its waiver.
//
// The audit runs off the UI goroutine (the root throttles it); rows are
// rebuilt when a new report arrives, and View renders the visible ones.
package violationspane

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"otscope/assets/policy"
	"otscope/assets/review"
	"otscope/model"
	"otscope/ui/format"
	"otscope/ui/pane"
	"otscope/ui/pane/form"
	"otscope/ui/pane/grid"
	"otscope/ui/state"
)

// Order is how the violations are sorted and grouped.
type Order uint8

// The orders, in the order the Sort key cycles through them.
const (
	BySeverity Order = iota
	ByRule
	ByAsset
	ByLastSeen
	numOrders
)

var orderNames = [...]string{"severity", "rule", "asset", "last seen"}

// String names the order.
func (o Order) String() string { return grid.SortName(orderNames[:], int(o)) }

// descending reports whether the order puts the largest first: the highest
// severity, the latest seen.
func (o Order) descending() bool { return o == BySeverity || o == ByLastSeen }

// KeyMap is the keys of the violations pane.
type KeyMap struct {
	Move grid.KeyMap
	// Open shows the evidence, and from there the asset; Back leaves the evidence.
	Open, Back key.Binding
	// Sort cycles the order; Waived shows or hides waived violations.
	Sort, Waived key.Binding
	// Ack acknowledges (waives) the selected violation; Revoke ends its waiver.
	Ack, Revoke key.Binding
}

// DefaultKeyMap returns the default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Move:   grid.DefaultKeyMap(),
		Open:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "evidence")),
		Back:   key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Sort:   key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "order")),
		Waived: key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "show/hide waived")),
		Ack:    key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "acknowledge")),
		Revoke: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "revoke waiver")),
	}
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.form.Active() {
		return m.form.Help()
	}
	if m.detail != "" {
		return []key.Binding{m.keys.Open, m.keys.Ack, m.keys.Back}
	}
	return []key.Binding{m.keys.Open, m.keys.Ack, m.keys.Sort, m.keys.Waived}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.keys.Move.Bindings(), {m.keys.Open, m.keys.Back, m.keys.Sort, m.keys.Waived, m.keys.Ack, m.keys.Revoke}}
}

var cols = []grid.Column{
	{Title: "", Width: 1},
	{Title: "SEV", Width: 4},
	{Title: "RULE", Width: 14, Max: 34, Flex: 1},
	{Title: "ASSET", Width: 14, Max: 40, Flex: 1},
	{Title: "FIRST", Width: 8, Max: 16},
	{Title: "SEEN", Width: 4, Right: true},
}

var sevShort = [...]string{"info", "low", "med", "high", "crit"}

// row is one violation with its sort keys.
type row struct {
	key   string
	v     *policy.Violation
	asset string // label of the asset (client → server for flows)
}

// Model is the violations pane.
type Model struct {
	ctx      pane.Context
	keys     KeyMap
	grid     grid.Model[string]
	form     form.Model
	vp       viewport.Model
	rows     map[string]*row
	an       *review.Analysis
	order    Order
	hideWaiv bool
	pane.Focusable
	stale bool
	// detail is the key of the violation whose evidence is shown ("" for the list).
	detail string
	width  int
	height int
	widths []int
}

// New returns an empty violations pane.
func New(ctx pane.Context) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap(), grid: grid.New[string](), form: form.New(ctx.Styles),
		vp: grid.NewViewport(), rows: map[string]*row{}}
	m.SetSize(80, 20)
	return m
}

// Title implements pane.Pane.
func (m *Model) Title() string { return "Violations" }

// ShortTitle is the tab name when the tab bar is crowded.
func (m *Model) ShortTitle() string { return "Viol" }

// Summary implements pane.Pane.
func (m *Model) Summary() string {
	if m.an == nil {
		return "auditing…"
	}
	r := &m.an.Report
	s := strconv.Itoa(len(r.Violations)-r.Waived) + " open · " + strconv.Itoa(r.Waived) + " waived"
	if m.hideWaiv {
		s += " (hidden)"
	}
	return s
}

// Capturing implements pane.Pane: true while the acknowledge form is open.
func (m *Model) Capturing() bool { return m.form.Active() }

// SetSize implements pane.Pane.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(1, width), max(1, height)
	m.widths = grid.Layout(cols, m.width-1)
	m.vp.Width, m.vp.Height = m.width, m.height
	m.grid.SetHeight(m.rowsHeight())
	if m.detail != "" {
		m.buildDetail()
	}
}

func (m *Model) rowsHeight() int { return max(1, m.height-1-m.form.Height()) }

// DataChanged implements pane.Pane.
func (m *Model) DataChanged(c state.Change) {
	if c.Analysis || c.Reset {
		m.stale = true
		m.rebuild()
	}
}

// SetOrder sorts the list by o.
func (m *Model) SetOrder(o Order) {
	m.order = o
	m.stale = true
	m.rebuild()
}

// Rows returns the keys of the rows shown, in order.
func (m *Model) Rows() []string { return m.grid.Rows() }

// Select moves the cursor to the violation of rule by asset.
func (m *Model) Select(rule string, asset model.AssetID) bool {
	for _, k := range m.grid.Rows() {
		if r := m.rows[k]; r.v.RuleID == rule && r.v.AssetID == asset {
			return m.grid.Select(k)
		}
	}
	return false
}

// Selected returns the violation under the cursor.
func (m *Model) Selected() (*policy.Violation, bool) {
	k, ok := m.grid.Selected()
	if !ok {
		return nil, false
	}
	return m.rows[k].v, true
}

func keyOf(v *policy.Violation) string {
	return v.RuleID + "|" + string(v.AssetID) + "|" + string(v.ServerID)
}

func (m *Model) rebuild() {
	if !m.stale {
		return
	}
	m.stale = false
	m.an = m.ctx.State.Analysis()
	clear(m.rows)
	if m.an == nil {
		m.grid.SetRows(nil)
		return
	}
	st := m.ctx.State
	list := make([]*row, 0, len(m.an.Report.Violations))
	for i := range m.an.Report.Violations {
		v := &m.an.Report.Violations[i]
		if m.hideWaiv && v.Waived != nil {
			continue
		}
		r := &row{key: keyOf(v), v: v, asset: st.Label(v.AssetID)}
		if v.ServerID != "" {
			r.asset = st.Label(v.ClientID) + " → " + st.Label(v.ServerID)
		}
		m.rows[r.key] = r
		list = append(list, r)
	}
	bySev := func(x, y *row) int { return cmp.Compare(y.v.Severity, x.v.Severity) }
	byRule := func(x, y *row) int { return strings.Compare(x.v.RuleID, y.v.RuleID) }
	byAsset := func(x, y *row) int { return strings.Compare(x.asset, y.asset) }
	waived := func(x, y *row) int { return cmp.Compare(boolInt(x.v.Waived != nil), boolInt(y.v.Waived != nil)) }
	slices.SortStableFunc(list, func(x, y *row) int {
		if c := waived(x, y); c != 0 {
			return c // waived ones after the open ones
		}
		switch m.order {
		case ByRule:
			return cmp.Or(byRule(x, y), bySev(x, y), byAsset(x, y))
		case ByAsset:
			return cmp.Or(byAsset(x, y), bySev(x, y), byRule(x, y))
		case ByLastSeen:
			return cmp.Or(y.v.LastSeen.Compare(x.v.LastSeen), bySev(x, y), byRule(x, y))
		}
		return cmp.Or(bySev(x, y), byRule(x, y), byAsset(x, y))
	})
	keys := make([]string, len(list))
	for i, r := range list {
		keys[i] = r.key
	}
	m.grid.SetRows(keys)
	if m.detail != "" {
		if _, ok := m.rows[m.detail]; !ok {
			m.detail = ""
		} else {
			m.buildDetail()
		}
	}
}

// Update implements pane.Pane.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := m.Key(msg, func(line int) {
		if !m.form.Active() && m.detail == "" {
			m.grid.Click(line - 1)
		}
	})
	if !ok {
		return nil
	}
	if m.form.Active() {
		cmd := m.form.Update(k)
		m.grid.SetHeight(m.rowsHeight())
		return cmd
	}
	if m.detail != "" {
		return m.updateDetail(k)
	}
	switch {
	case m.grid.Update(k):
	case key.Matches(k, m.keys.Open):
		if key, ok := m.grid.Selected(); ok {
			m.detail = key
			m.buildDetail()
			m.vp.GotoTop()
		}
	case key.Matches(k, m.keys.Sort):
		m.SetOrder((m.order + 1) % numOrders)
	case key.Matches(k, m.keys.Waived):
		m.hideWaiv = !m.hideWaiv
		m.stale = true
		m.rebuild()
	case key.Matches(k, m.keys.Ack):
		return m.acknowledge()
	case key.Matches(k, m.keys.Revoke):
		return m.revoke()
	}
	return nil
}

func (m *Model) updateDetail(k tea.KeyMsg) tea.Cmd {
	r := m.rows[m.detail]
	switch {
	case key.Matches(k, m.keys.Back):
		m.detail = ""
	case key.Matches(k, m.keys.Open):
		return pane.OpenAsset(r.v.AssetID)
	case key.Matches(k, m.keys.Ack):
		return m.acknowledge()
	case key.Matches(k, m.keys.Revoke):
		return m.revoke()
	case key.Matches(k, m.keys.Move.Up):
		m.vp.ScrollUp(1)
	case key.Matches(k, m.keys.Move.Down):
		m.vp.ScrollDown(1)
	case key.Matches(k, m.keys.Move.PageUp):
		m.vp.PageUp()
	case key.Matches(k, m.keys.Move.PageDown):
		m.vp.PageDown()
	}
	return nil
}

// selectedRow is the violation the actions apply to: the one shown, else
// the one under the cursor.
func (m *Model) selectedRow() *row {
	if m.detail != "" {
		return m.rows[m.detail]
	}
	if k, ok := m.grid.Selected(); ok {
		return m.rows[k]
	}
	return nil
}

// acknowledge opens the waiver form for the selected violation.
func (m *Model) acknowledge() tea.Cmd {
	r := m.selectedRow()
	if r == nil {
		return nil
	}
	v := r.v
	info := []string{strings.ToUpper(v.Severity.String()) + " " + v.Title}
	if v.Waived != nil {
		info = append(info, "replaces the waiver by "+v.Waived.By+": "+v.Waived.Reason)
	}
	asset := v.AssetID
	m.form.Open("Acknowledge "+v.RuleID+" on "+r.asset, info, []form.Field{
		{Label: "reason", Hint: "why it is accepted, e.g. isolated test bench"},
		{Label: "expires", Value: "30d", Hint: "30d, 2w, 2027-01-31, or empty: never"},
		{Label: "scope", Value: "this asset", Hint: "this asset, or all (every asset)"},
	}, func(vals []string) (tea.Cmd, error) {
		reason := strings.TrimSpace(vals[0])
		if reason == "" {
			return nil, errors.New("a reason is required")
		}
		until, err := review.ParseExpiry(vals[1], m.ctx.Now())
		if err != nil {
			return nil, err
		}
		target := asset
		switch strings.ToLower(strings.TrimSpace(vals[2])) {
		case "this asset", "this", "":
		case "all", "*", "every asset":
			target = "*"
		default:
			return nil, errors.New("scope: \"this asset\" or \"all\"")
		}
		return pane.Send(pane.WaiveMsg{Rule: v.RuleID, Asset: target, Reason: reason, Until: until}), nil
	})
	m.grid.SetHeight(m.rowsHeight())
	return nil
}

// revoke ends the waiver of the selected violation.
func (m *Model) revoke() tea.Cmd {
	r := m.selectedRow()
	if r == nil {
		return nil
	}
	if r.v.Waived == nil {
		return pane.Notice(r.v.RuleID+" on "+r.asset+" is not waived", true)
	}
	return pane.Send(pane.WaiveMsg{Rule: r.v.RuleID, Asset: r.v.Waived.AssetID, Revoke: true, Reason: "revoked in the TUI"})
}

// View implements pane.Pane.
func (m *Model) View() string {
	m.rebuild()
	st := m.ctx.Styles
	if m.an == nil {
		return st.Muted.Render(format.Truncate(" Auditing the inventory against the policy pack…", m.width))
	}
	var lines []string
	if m.detail != "" {
		h := m.height - m.form.Height()
		m.vp.Height = max(1, h)
		lines = strings.Split(m.vp.View(), "\n")
		if len(lines) > h {
			lines = lines[:h]
		}
	} else {
		lines = m.listLines()
	}
	for len(lines) < m.height-m.form.Height() {
		lines = append(lines, "")
	}
	lines = append(lines, m.form.View(m.width)...)
	return strings.Join(lines, "\n")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// header marks the column the list is ordered by.
func (m *Model) header() string {
	hc := slices.Clone(cols)
	hc[map[Order]int{BySeverity: 1, ByRule: 2, ByAsset: 3, ByLastSeen: 5}[m.order]].Title += grid.Arrow(m.order.descending(), false)
	return " " + grid.Header(hc, m.widths)
}

func (m *Model) listLines() []string {
	st := m.ctx.Styles
	lines := []string{st.Header.Render(format.Truncate(m.header(), m.width))}
	keys := m.grid.Rows()
	if len(keys) == 0 {
		text := " No violations: every rule of the pack holds."
		if m.hideWaiv && m.an.Report.Waived > 0 {
			text = " No open violations (" + strconv.Itoa(m.an.Report.Waived) + " waived, hidden: w shows them)."
		}
		return append(lines, st.Good.Render(format.Truncate(text, m.width)))
	}
	now, _ := m.ctx.Ref()
	start, end := m.grid.Window()
	cursor := m.grid.Cursor()
	var prev *row
	if start > 0 {
		prev = m.rows[keys[start-1]]
	}
	for i := start; i < end; i++ {
		r := m.rows[keys[i]]
		v := r.v
		flag := ""
		if v.Waived != nil {
			flag = "~"
		}
		sev, rule, asset := sevShort[min(int(v.Severity), len(sevShort)-1)], v.RuleID, r.asset
		// the group column is written once per run
		if prev != nil && i != cursor {
			switch {
			case m.order == BySeverity && prev.v.Severity == v.Severity:
				sev = ""
			case m.order == ByRule && prev.v.RuleID == v.RuleID:
				rule = ""
			case m.order == ByAsset && prev.asset == r.asset:
				asset = ""
			}
		}
		line := grid.Join(cols, m.widths, []string{flag, sev, rule, asset, format.Clock(now, v.FirstSeen), format.Ago(now, v.LastSeen)})
		switch {
		case i == cursor:
			line = st.Selected.Render(format.Truncate("▸"+line, m.width))
		case v.Waived != nil:
			line = " " + st.Muted.Render(format.Truncate(line, m.width-1))
		case v.Severity >= policy.High:
			line = " " + st.Warn.Render(format.Truncate(line, m.width-1))
		default:
			line = " " + line
		}
		lines = append(lines, line)
		prev = r
	}
	return lines
}

// buildDetail renders the evidence of the violation shown.
func (m *Model) buildDetail() {
	r := m.rows[m.detail]
	if r == nil {
		return
	}
	st := m.ctx.Styles
	v := r.v
	now, _ := m.ctx.Ref()
	w := m.width
	var lines []string
	add := func(s string) { lines = append(lines, format.Truncate(s, w)) }
	wrapped := func(indent int, s string, style func(...string) string) {
		for _, l := range strings.Split(ansi.Wrap(s, max(8, w-indent), ""), "\n") {
			add(strings.Repeat(" ", indent) + style(l))
		}
	}
	plain := func(s ...string) string { return strings.Join(s, "") }
	sev := strings.ToUpper(v.Severity.String())
	if v.Severity >= policy.High {
		sev = st.Warn.Render(sev)
	}
	add(" " + sev + "  " + st.Section.Render(v.RuleID) + "  " + v.Title)
	label := func(s string) string { return " " + st.Label.Render(format.Fit(s, 9)) + " " }
	add(label("Asset") + r.asset + "  " + st.Muted.Render(string(v.AssetID)))
	add(label("Seen") + "first " + format.Clock(now, v.FirstSeen) + " · last " + format.Clock(now, v.LastSeen) + " (" + format.Ago(now, v.LastSeen) + " ago)")
	if wv := v.Waived; wv != nil {
		until := "no expiry"
		if !wv.Until.IsZero() {
			until = "until " + wv.Until.Local().Format("2006-01-02 15:04")
		}
		scope := ""
		if wv.AssetID == "*" {
			scope = " (every asset)"
		}
		wrapped(0, label("Waived")+"by "+wv.By+", "+until+scope+": "+wv.Reason, st.Muted.Render)
	}
	lines = append(lines, "", " "+st.Section.Render("EVIDENCE ("+strconv.Itoa(len(v.Evidence))+")"))
	if len(v.Evidence) == 0 {
		add("   " + st.Muted.Render("the rule holds for the asset as a whole"))
	}
	for _, e := range v.Evidence {
		wrapped(3, e, plain)
	}
	if rule := m.an.Rules[v.RuleID]; rule != nil {
		for _, sec := range []struct{ title, text string }{{"WHY", rule.Rationale}, {"REMEDIATION", rule.Remediation}} {
			if strings.TrimSpace(sec.text) == "" {
				continue
			}
			lines = append(lines, "", " "+st.Section.Render(sec.title))
			wrapped(3, strings.Join(strings.Fields(sec.text), " "), plain)
		}
		if len(rule.References) > 0 {
			lines = append(lines, "", " "+st.Section.Render("REFERENCES"))
			for _, ref := range rule.References {
				wrapped(3, ref, st.Muted.Render)
			}
		}
	}
	lines = append(lines, "", " "+st.Muted.Render(format.Truncate("enter opens the asset · a acknowledge · u revoke · esc back", w-1)))
	m.vp.SetContent(strings.Join(lines, "\n"))
}

// Legend explains the pane in the help overlay.
const Legend = "~ waived (dimmed, counted apart). SEV: crit, high, med, low, info. FIRST/SEEN: when the evidence " +
	"was first and last seen. a stores a waiver in the session (reason, expiry: 30d, 2w, 2027-01-31, empty for " +
	"none; scope this asset or all); a later waiver of the same rule and asset replaces it; u ends it now."

// Legend implements the help overlay's optional legend.
func (m *Model) Legend() string { return Legend }
