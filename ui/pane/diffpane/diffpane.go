// Package diffpane is the TUI's "what changed since the last visit" view:
// a diff.Result (an earlier session compared with the one open) rendered
// as a scrollable list, its counts on top. New and vanished assets,
// changed identity (firmware, order number, serial, product, hardware,
// name, IP, MAC), services, conversations, and review changes (lifecycle
// phase, verdict, inventory state, violations) each get a section.
//
// It is an overlay the root opens over the panes, not a tab: it has no
// place in the tab order and closes with esc. A cursor walks the changes;
// enter asks the root for the detail of the change's asset.
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
	"otscope/ui/pane/grid"
	"otscope/ui/theme"
)

// KeyMap is the keys of the diff view.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End, Open, Close key.Binding
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
		Open:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "asset detail")),
		Close:    key.NewBinding(key.WithKeys("esc", "q", "backspace"), key.WithHelp("esc", "close")),
	}
}

// Model is the diff view.
type Model struct {
	keys  KeyMap
	st    *theme.Styles
	vp    viewport.Model
	res   *diff.Result
	lines []string
	// rows are the line numbers of the changes in lines, changes the
	// changes they show; sel indexes both (the cursor).
	rows    []int
	changes []diff.Change
	bare    []string // the changes' lines without the cursor cell
	sel     int
	width   int
	height  int
}

// header is the number of lines above the list: title, counts, rule.
const header = 3

// New returns an empty view styled with st.
func New(st *theme.Styles) *Model {
	m := &Model{keys: DefaultKeyMap(), st: st, vp: grid.NewViewport()}
	m.SetSize(80, 22)
	return m
}

// Show renders r and scrolls to its top.
func (m *Model) Show(r diff.Result) {
	m.res, m.sel = &r, 0
	m.render()
	m.vp.GotoTop()
}

// Selected returns the change under the cursor.
func (m *Model) Selected() (diff.Change, bool) {
	if m.sel < 0 || m.sel >= len(m.changes) {
		return diff.Change{}, false
	}
	return m.changes[m.sel], true
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

// Action is what a key asks of the view's owner.
type Action int

// The actions.
const (
	None Action = iota
	// Close: the user closed the view.
	Close
	// Open: the user asked for the detail of the selected change's asset.
	Open
)

// Update handles a key: the cursor moves over the changes (the list
// scrolls with it); enter and esc are the owner's to act on.
func (m *Model) Update(msg tea.KeyMsg) Action {
	k := m.keys
	page := max(1, m.vp.Height-1)
	switch {
	case key.Matches(msg, k.Close):
		return Close
	case key.Matches(msg, k.Open):
		if _, ok := m.Selected(); ok {
			return Open
		}
	case key.Matches(msg, k.Up):
		m.move(m.sel - 1)
	case key.Matches(msg, k.Down):
		m.move(m.sel + 1)
	case key.Matches(msg, k.PageUp):
		m.moveLine(-page)
	case key.Matches(msg, k.PageDown):
		m.moveLine(page)
	case key.Matches(msg, k.Home):
		m.move(0)
		m.vp.GotoTop()
	case key.Matches(msg, k.End):
		m.move(len(m.rows) - 1)
		m.vp.GotoBottom()
	}
	return None
}

// moveLine moves the cursor by about n lines: to the first change at or
// after (n > 0), or the last at or before (n < 0), the line n away.
func (m *Model) moveLine(n int) {
	if len(m.rows) == 0 {
		return
	}
	target := m.rows[m.sel] + n
	i := m.sel
	if n > 0 {
		for i < len(m.rows)-1 && m.rows[i] < target {
			i++
		}
	} else {
		for i > 0 && m.rows[i] > target {
			i--
		}
	}
	m.move(i)
}

// move puts the cursor on change i and scrolls it into view.
func (m *Model) move(i int) {
	if len(m.rows) == 0 {
		return
	}
	i = max(0, min(i, len(m.rows)-1))
	if i == m.sel {
		return
	}
	m.mark(m.sel, " ")
	m.sel = i
	m.mark(m.sel, "▸")
	off := m.vp.YOffset
	m.vp.SetContent(strings.Join(m.lines, "\n"))
	line := m.rows[i]
	if i == 0 {
		line = 0 // the first change shows its section title too
	}
	switch {
	case line < off:
		off = line
	case m.rows[i] >= off+m.vp.Height:
		off = m.rows[i] - m.vp.Height + 1
	}
	m.vp.SetYOffset(off)
}

// mark sets the first cell of change i's line.
func (m *Model) mark(i int, c string) {
	if i < 0 || i >= len(m.rows) {
		return
	}
	m.lines[m.rows[i]] = c + m.bare[i]
}

// ShortHelp is the view's keys for the status bar.
func (m *Model) ShortHelp() []key.Binding {
	return []key.Binding{m.keys.Close, m.keys.Open, m.keys.Down, m.keys.PageDown}
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
	m.rows, m.changes, m.bare = m.rows[:0], m.changes[:0], m.bare[:0]
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
			cursor := " "
			if len(m.rows) == m.sel {
				cursor = "▸"
			}
			bare := style.Render(mark) + " " + format.Fit(lbl, labelW) + "  " + what
			m.rows, m.changes, m.bare = append(m.rows, len(lines)), append(m.changes, c), append(m.bare, bare)
			lines = append(lines, cursor+bare)
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
		return fieldName(c.Field) + " " + format.Dash(c.Old) + " → " + format.Dash(c.New)
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
