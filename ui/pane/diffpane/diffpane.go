// Package diffpane is the TUI's "what changed since the last visit" view:
// a diff.Result (an earlier session compared with the one open) rendered
// as a scrollable list, its counts on top. New and vanished assets,
// changed identity (firmware, order number, serial, product, hardware,
// name, IP, MAC), services, conversations, and review changes (lifecycle
// phase, verdict, inventory state, violations) each get a section.
//
// It is an overlay the root opens over the panes, not a tab: it has no
// place in the tab order and closes with esc.
package diffpane

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/diff"
	"otscope/model/safe"
	"otscope/ui/format"
	"otscope/ui/theme"
)

// KeyMap is the keys of the diff view.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End, Close key.Binding
}

// DefaultKeyMap returns the default keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b", "b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " ", "f"), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g", "top")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G", "bottom")),
		Close:    key.NewBinding(key.WithKeys("esc", "q", "backspace"), key.WithHelp("esc", "close")),
	}
}

// Model is the diff view.
type Model struct {
	keys   KeyMap
	st     *theme.Styles
	vp     viewport.Model
	res    *diff.Result
	lines  []string
	width  int
	height int
}

// header is the number of lines above the list: title, counts, rule.
const header = 3

// New returns an empty view styled with st.
func New(st *theme.Styles) *Model {
	m := &Model{keys: DefaultKeyMap(), st: st, vp: viewport.New(80, 20)}
	m.vp.KeyMap = viewport.KeyMap{}
	m.SetSize(80, 22)
	return m
}

// Show renders r and scrolls to its top.
func (m *Model) Show(r diff.Result) {
	m.res = &r
	m.render()
	m.vp.GotoTop()
}

// Result returns the result shown (nil before Show).
func (m *Model) Result() *diff.Result { return m.res }

// Lines returns the list's lines as rendered (for tests and a copy).
func (m *Model) Lines() []string { return m.lines }

// SetSize gives the view its box.
func (m *Model) SetSize(w, h int) {
	m.width, m.height = w, h
	m.vp.Width, m.vp.Height = w, max(1, h-header)
	m.render()
}

// Update handles a key and reports whether it closed the view.
func (m *Model) Update(msg tea.KeyMsg) (closed bool) {
	k := m.keys
	switch {
	case key.Matches(msg, k.Close):
		return true
	case key.Matches(msg, k.Up):
		m.vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		m.vp.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		m.vp.PageUp()
	case key.Matches(msg, k.PageDown):
		m.vp.PageDown()
	case key.Matches(msg, k.Home):
		m.vp.GotoTop()
	case key.Matches(msg, k.End):
		m.vp.GotoBottom()
	}
	return false
}

// ShortHelp is the view's keys for the status bar.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Close, m.keys.Down, m.keys.PageDown, m.keys.End}
}

// Summary is the tab bar's line while the view is open: the comparison and
// the scroll position.
func (m *Model) Summary() string {
	if m.res == nil {
		return ""
	}
	pos := "all"
	switch {
	case m.vp.TotalLineCount() <= m.vp.Height:
	case m.vp.AtTop():
		pos = "top ↓"
	case m.vp.AtBottom():
		pos = "end"
	default:
		pos = strconv.Itoa(int(m.vp.ScrollPercent()*100)) + "% ↓"
	}
	return "diff · " + pos + " · esc closes"
}

// View renders the view in its box.
func (m *Model) View() string {
	if m.res == nil {
		return ""
	}
	r := m.res
	title := " what changed: " + safe.Text(r.From) + " → " + safe.Text(r.To)
	n := assetCounts(r)
	counts := " assets: " + m.st.Good.Render(strconv.Itoa(n.added)+" new") + " · " +
		m.st.Warn.Render(strconv.Itoa(n.gone)+" vanished") + " · " +
		m.st.Section.Render(strconv.Itoa(n.changed)+" changed") + " · " +
		m.st.Muted.Render(strconv.Itoa(r.Unchanged)+" unchanged") + " │ " + strconv.Itoa(len(r.Changes)) + " changes in all"
	lines := []string{
		m.st.Section.Render(format.Truncate(title, m.width)),
		format.Truncate(counts, m.width),
		m.st.Muted.Render(strings.Repeat("─", max(0, m.width))),
	}
	return strings.Join(lines, "\n") + "\n" + m.vp.View()
}

// counts are the assets that came, went and changed.
type counts struct{ added, gone, changed int }

// assetCounts counts assets, not changes: an asset whose firmware and
// services changed is one changed asset. A conversation alone does not
// change its server.
func assetCounts(r *diff.Result) counts {
	var n counts
	changed := map[string]bool{}
	for _, c := range r.Changes {
		switch {
		case c.Subject == diff.Asset && c.Field == "" && c.Kind == diff.New:
			n.added++
		case c.Subject == diff.Asset && c.Field == "" && c.Kind == diff.Vanished:
			n.gone++
		case c.Subject != diff.Conversation:
			changed[string(c.Asset)] = true
		}
	}
	n.changed = len(changed)
	return n
}

// section is one block of the list.
type section struct {
	title string
	rows  []diff.Change
}

// sections sorts the changes into the view's blocks, in the order a
// person reads them: what came and went, what changed about a device,
// what it serves and who talks to it, and what the review says.
func sections(r *diff.Result) []section {
	out := []section{{title: "NEW ASSETS"}, {title: "VANISHED ASSETS"}, {title: "CHANGED IDENTITY"},
		{title: "SERVICES"}, {title: "CONVERSATIONS"}, {title: "LIFECYCLE, VERDICTS AND VIOLATIONS"}}
	for _, c := range r.Changes {
		i := 2
		switch {
		case c.Subject == diff.Service:
			i = 3
		case c.Subject == diff.Conversation:
			i = 4
		case isReview(c.Field):
			i = 5
		case c.Field != "":
			i = 2
		case c.Kind == diff.New:
			i = 0
		case c.Kind == diff.Vanished:
			i = 1
		}
		out[i].rows = append(out[i].rows, c)
	}
	return out
}

func isReview(field string) bool {
	switch field {
	case diff.FieldPhase, diff.FieldVerdict, diff.FieldState, diff.FieldViolation:
		return true
	}
	return false
}

// fieldNames are the words the view uses for the diff's field names.
var fieldNames = map[string]string{
	diff.FieldFirmware: "firmware", diff.FieldOrderNumber: "order number", diff.FieldSerial: "serial",
	diff.FieldProduct: "product", diff.FieldHardwareVersion: "hardware version", diff.FieldName: "name",
	diff.FieldIP: "IP", diff.FieldMAC: "MAC", diff.FieldPhase: "lifecycle phase", diff.FieldVerdict: "verdict",
	diff.FieldState: "state", diff.FieldViolation: "violation",
}

func fieldName(f string) string {
	if n, ok := fieldNames[f]; ok {
		return n
	}
	return strings.ReplaceAll(f, "_", " ")
}

// render lays the changes out at the current width.
func (m *Model) render() {
	if m.res == nil {
		return
	}
	r := m.res
	w := max(20, m.width)
	if len(r.Changes) == 0 {
		m.lines = []string{" " + m.st.Good.Render(format.Truncate("no changes: the "+strconv.Itoa(r.Unchanged)+
			" assets of both sessions are the same", w-1))}
		m.vp.SetContent(m.lines[0])
		return
	}
	labelW := min(22, max(10, w/4))
	var lines []string
	for _, s := range sections(r) {
		if len(s.rows) == 0 {
			continue
		}
		if len(lines) > 0 {
			lines = append(lines, "")
		}
		lines = append(lines, " "+m.st.Section.Render(s.title+" ("+strconv.Itoa(len(s.rows))+")"))
		for _, c := range s.rows {
			mark, style := "~", m.st.Label
			switch c.Kind {
			case diff.New:
				mark, style = "+", m.st.Good
			case diff.Vanished:
				mark, style = "-", m.st.Warn
			}
			lbl := safe.Text(c.Label)
			if lbl == "" {
				lbl = safe.Text(string(c.Asset))
			}
			what := format.Truncate(safe.Text(describe(c)), max(1, w-labelW-5))
			lines = append(lines, " "+style.Render(mark)+" "+format.Fit(lbl, labelW)+"  "+what)
		}
	}
	m.lines = lines
	m.vp.SetContent(strings.Join(lines, "\n"))
}

// describe says what changed, in words: "firmware V3.2.6 → V3.2.7",
// "new violation cleartext-telnet", "tcp/80 http".
func describe(c diff.Change) string {
	switch {
	case c.Field == diff.FieldViolation && c.Kind == diff.New:
		return "new violation " + c.New
	case c.Field == diff.FieldViolation:
		return "violation gone " + c.Old
	case c.Field != "":
		return fieldName(c.Field) + " " + dash(c.Old) + " → " + dash(c.New)
	case c.Subject == diff.Service && c.Kind == diff.New:
		return "new service " + c.Detail
	case c.Subject == diff.Service:
		return "service gone " + c.Detail
	case c.Subject == diff.Conversation && c.Kind == diff.New:
		return "new " + c.Detail
	case c.Subject == diff.Conversation:
		return "gone " + c.Detail
	}
	return c.Detail
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
