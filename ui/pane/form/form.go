// Package form is the small modal form panes open for an action that needs
// a confirmation and a few words from the user: acknowledging a violation
// (reason, expiry), verifying or decommissioning an asset (reason). It is
// drawn at the bottom of the pane that owns it and takes every key while
// open: tab/↑/↓ move between fields, enter goes to the next field or
// submits from the last, esc cancels.
//
// Fields are one-line inputs that edit at the end of the line, like the
// table filter (bubbles/textinput would pull in a clipboard module the
// build does not carry).
package form

import (
	"strings"
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/ui/format"
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
	Next, Prev, Confirm, Cancel, DeleteWord, DeleteAll key.Binding
}

// DefaultKeyMap returns the default form keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Next:       key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		Prev:       key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous field")),
		Confirm:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		Cancel:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
		DeleteWord: key.NewBinding(key.WithKeys("ctrl+w", "alt+backspace"), key.WithHelp("ctrl+w", "delete word")),
		DeleteAll:  key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "delete all")),
	}
}

// Model is a form, closed until Open.
type Model struct {
	KeyMap KeyMap
	st     *theme.Styles
	title  string
	info   []string
	fields []Field
	values [][]rune
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
	f.values = make([][]rune, len(fields))
	for i, fl := range fields {
		f.values[i] = []rune(fl.Value)
	}
	f.focus, f.err = 0, ""
}

// Active reports whether the form is open.
func (f *Model) Active() bool { return f.open }

// Close closes the form without submitting.
func (f *Model) Close() { f.open = false }

// Values returns the current field values.
func (f *Model) Values() []string {
	out := make([]string, len(f.values))
	for i, v := range f.values {
		out[i] = string(v)
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
	case len(f.fields) == 0:
	case key.Matches(msg, k.DeleteAll):
		f.values[f.focus] = f.values[f.focus][:0]
	case key.Matches(msg, k.DeleteWord):
		t := strings.TrimRightFunc(string(f.values[f.focus]), unicode.IsSpace)
		f.values[f.focus] = []rune(t[:strings.LastIndexFunc(t, unicode.IsSpace)+1])
	case msg.Type == tea.KeyBackspace:
		if v := f.values[f.focus]; len(v) > 0 {
			f.values[f.focus] = v[:len(v)-1]
		}
	case msg.Type == tea.KeyRunes || msg.Type == tea.KeySpace:
		for _, r := range msg.Runes {
			if unicode.IsPrint(r) {
				f.values[f.focus] = append(f.values[f.focus], r)
			}
		}
		if msg.Type == tea.KeySpace && len(msg.Runes) == 0 {
			f.values[f.focus] = append(f.values[f.focus], ' ')
		}
	}
	return nil
}

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
		text, tail := string(f.values[i]), ""
		if i == f.focus {
			tail = "█"
		}
		v := st.Input.Render(tailFit(text, room-format.Width(tail)) + tail)
		if text == "" && fl.Hint != "" {
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
	// enter moves to the next field and confirms only on the last one:
	// the hint says which it does now
	hint := "enter next field · shift+tab back · esc cancel"
	if f.focus >= len(f.fields)-1 {
		hint = "enter confirm · shift+tab back · esc cancel"
	}
	lines = append(lines, " "+st.Muted.Render(format.Truncate(hint, width-1)))
	return lines
}

// tailFit keeps the end of s in room cells, an ellipsis in front when cut.
func tailFit(s string, room int) string {
	if room < 1 {
		return ""
	}
	if format.Width(s) <= room {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && format.Width(string(r)) > room-1 {
		r = r[1:]
	}
	return format.Ellipsis + string(r)
}

// Help returns the form's keys for the status bar.
func (f *Model) Help() []key.Binding {
	return []key.Binding{f.KeyMap.Confirm, f.KeyMap.Next, f.KeyMap.Cancel}
}
