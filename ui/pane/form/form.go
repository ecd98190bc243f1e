// Package form is the small modal form panes open for an action that needs
// a confirmation and a few words from the user: acknowledging a violation
// (reason, expiry), verifying or decommissioning an asset (reason). It is
// drawn at the bottom of the pane that owns it and takes every key while
// open: tab/↑/↓ move between fields, enter goes to the next field or
// submits from the last, esc cancels.
//
// Fields are the one-line editor the table filter uses too (grid.Input, on
// bubbles/textinput). Typed runes that carry a newline, as a keyboard-wedge
// barcode scanner or a paste sends them, fill the field up to the newline,
// which then acts as enter: a scanned nameplate code fills its field and
// moves on.
package form

import (
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/ui/format"
	"otscope/ui/pane/grid"
	"otscope/ui/theme"
)

// Field is one input: its label, an initial value and a hint shown while
// it is empty.
type Field struct {
	Label, Value, Hint string
}

// Submit is called with the field values when the user confirms. It returns
// the command to run, or an error that is shown in the form, which stays
// open so the user can correct it.
type Submit func(values []string) (tea.Cmd, error)

// KeyMap is the form's keys.
type KeyMap struct {
	Next, Prev, Confirm, Cancel key.Binding
	// EditKeyMap edits the focused field.
	grid.EditKeyMap
}

// DefaultKeyMap returns the default form keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Next:       key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		Prev:       key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous field")),
		Confirm:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		Cancel:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		EditKeyMap: grid.DefaultEditKeyMap(),
	}
}

// Model is a form, closed until Open.
type Model struct {
	KeyMap KeyMap
	st     *theme.Styles
	title  string
	info   []string
	fields []Field
	inputs []grid.Input
	focus  int
	err    string
	submit Submit
	open   bool
}

// New returns a closed form styled with st.
func New(st *theme.Styles) Model { return Model{KeyMap: DefaultKeyMap(), st: st} }

// Open shows the form: a title ("Acknowledge cleartext-telnet on sw-cellb"),
// info lines under it and the fields; submit runs on confirmation.
func (f *Model) Open(title string, info []string, fields []Field, submit Submit) {
	f.title, f.info, f.fields, f.submit, f.open = title, info, fields, submit, true
	f.inputs = make([]grid.Input, len(fields))
	for i, fl := range fields {
		f.inputs[i] = grid.NewInput()
		f.inputs[i].SetValue(fl.Value)
	}
	f.focus, f.err = 0, ""
}

// Active reports whether the form is open.
func (f *Model) Active() bool { return f.open }

// Close closes the form without submitting.
func (f *Model) Close() { f.open = false }

// Values returns the current field values.
func (f *Model) Values() []string {
	out := make([]string, len(f.inputs))
	for i := range f.inputs {
		out[i] = f.inputs[i].Value()
	}
	return out
}

// Update handles a key while the form is open and returns the submit's
// command when the user confirmed.
func (f *Model) Update(msg tea.KeyMsg) tea.Cmd {
	if !f.open {
		return nil
	}
	k := f.KeyMap
	switch {
	case key.Matches(msg, k.Cancel):
		f.open = false
	case key.Matches(msg, k.Next):
		f.focus = (f.focus + 1) % max(1, len(f.fields))
	case key.Matches(msg, k.Prev):
		f.focus = (f.focus + len(f.fields) - 1) % max(1, len(f.fields))
	case key.Matches(msg, k.Confirm):
		return f.confirm()
	case len(f.fields) == 0:
	case msg.Type == tea.KeyRunes && slices.ContainsFunc(msg.Runes, isNewline):
		return f.typeLines(msg.Runes)
	default:
		f.inputs[f.focus].Update(msg, k.EditKeyMap)
	}
	return nil
}

// confirm goes to the next field, or submits from the last.
func (f *Model) confirm() tea.Cmd {
	if f.focus < len(f.fields)-1 {
		f.focus++
		return nil
	}
	cmd, err := f.submit(f.Values())
	if err != nil {
		f.err = err.Error()
		return nil
	}
	f.open = false
	return cmd
}

// typeLines types runes that carry newlines (a barcode scanner's burst, a
// paste): each line goes into the focused field and its newline confirms
// it, as enter would; "\r\n" is one newline.
func (f *Model) typeLines(rs []rune) tea.Cmd {
	var cmd tea.Cmd
	for len(rs) > 0 && f.open {
		i := slices.IndexFunc(rs, isNewline)
		if i < 0 {
			f.inputs[f.focus].Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: rs}, f.KeyMap.EditKeyMap)
			break
		}
		if i > 0 {
			f.inputs[f.focus].Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: rs[:i]}, f.KeyMap.EditKeyMap)
		}
		if rs[i] == '\r' && i+1 < len(rs) && rs[i+1] == '\n' {
			i++
		}
		rs = rs[i+1:]
		cmd = f.confirm()
	}
	return cmd
}

func isNewline(r rune) bool { return r == '\r' || r == '\n' }

// Height is the number of lines View returns.
func (f *Model) Height() int {
	if !f.open {
		return 0
	}
	h := 3 + len(f.info) + len(f.fields) // rule, title, info, fields, keys
	if f.err != "" {
		h++
	}
	return h
}

// View renders the open form in width cells, one string per line.
func (f *Model) View(width int) []string {
	if !f.open {
		return nil
	}
	st := f.st
	lines := []string{st.Muted.Render(strings.Repeat("─", width)), " " + st.Section.Render(format.Truncate(f.title, width-1))}
	for _, l := range f.info {
		lines = append(lines, " "+st.Muted.Render(format.Truncate(l, width-1)))
	}
	lw := 0
	for _, fl := range f.fields {
		lw = max(lw, format.Width(fl.Label))
	}
	for i, fl := range f.fields {
		room := width - lw - 4
		v := f.inputs[i].View(st, room, i == f.focus)
		if f.inputs[i].Value() == "" && fl.Hint != "" {
			tail := ""
			if i == f.focus {
				tail = "█"
			}
			v = tail + st.Muted.Render(format.Truncate(fl.Hint, max(1, room-1)))
		}
		marker := " "
		if i == f.focus {
			marker = st.Prompt.Render("▸")
		}
		lines = append(lines, marker+st.Label.Render(format.Fit(fl.Label, lw))+"  "+v)
	}
	if f.err != "" {
		lines = append(lines, " "+st.Error.Render(format.Truncate("✗ "+f.err, width-1)))
	}
	lines = append(lines, " "+st.Muted.Render(format.Truncate(f.keysLine(), width-1)))
	return lines
}

// last reports whether the focus is on the last field, where enter submits.
func (f *Model) last() bool { return f.focus >= len(f.fields)-1 }

// keysLine says what enter does now: it moves to the next field until the
// last, where it confirms.
func (f *Model) keysLine() string {
	switch {
	case !f.last():
		return "enter/tab next field · esc cancel"
	case len(f.fields) > 1:
		return "enter confirm · shift+tab previous field · esc cancel"
	}
	return "enter confirm · esc cancel"
}

// Help returns the form's keys for the status bar.
func (f *Model) Help() []key.Binding {
	if f.last() {
		if len(f.fields) > 1 {
			return []key.Binding{f.KeyMap.Confirm, f.KeyMap.Prev, f.KeyMap.Cancel}
		}
		return []key.Binding{f.KeyMap.Confirm, f.KeyMap.Cancel}
	}
	next := f.KeyMap.Confirm
	next.SetHelp(next.Help().Key, "next field")
	return []key.Binding{next, f.KeyMap.Cancel}
}
