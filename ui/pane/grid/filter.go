package grid

import (
	"slices"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/ui/format"
	"otscope/ui/theme"
)

// FilterKeyMap is the keys of a filter input.
type FilterKeyMap struct {
	// Open starts typing a filter; Accept keeps it and returns to the table;
	// Clear drops the filter (while typing or after).
	Open, Accept, Clear key.Binding
	// EditKeyMap edits the text while typing.
	EditKeyMap
}

// DefaultFilterKeyMap returns "/" to open, enter to accept and esc to clear.
func DefaultFilterKeyMap() FilterKeyMap {
	return FilterKeyMap{
		Open:       key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Accept:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		Clear:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		EditKeyMap: DefaultEditKeyMap(),
	}
}

// Filter is a one-line filter input: closed, typing, or closed with a query
// kept. It edits with the Input the forms use too.
type Filter struct {
	KeyMap FilterKeyMap
	st     *theme.Styles
	in     Input
	typing bool
	width  int
}

// NewFilter returns a closed, empty filter styled with st.
func NewFilter(st *theme.Styles) Filter {
	return Filter{KeyMap: DefaultFilterKeyMap(), st: st, in: NewInput(), width: 20}
}

// Typing reports whether the input has focus.
func (f *Filter) Typing() bool { return f.typing }

// Query returns the current filter text.
func (f *Filter) Query() string { return f.in.Value() }

// Active reports whether a filter is shown: being typed or kept.
func (f *Filter) Active() bool { return f.typing || f.in.Value() != "" }

// SetWidth sets the width of the input line.
func (f *Filter) SetWidth(w int) { f.width = max(1, w) }

// SetQuery sets the filter text without opening the input.
func (f *Filter) SetQuery(q string) { f.in.SetValue(q) }

// Update handles a key. It reports whether the key was consumed and whether
// the query changed. While closed it consumes only Open, and Clear when a
// query is kept. Runes that end in a newline (a paste, a barcode scanner)
// are typed and accepted.
func (f *Filter) Update(msg tea.KeyMsg) (consumed, changed bool) {
	before := f.in.Value()
	if !f.typing {
		switch {
		case key.Matches(msg, f.KeyMap.Open):
			f.typing = true
			return true, false
		case key.Matches(msg, f.KeyMap.Clear) && before != "":
			f.in.SetValue("")
			return true, true
		}
		return false, false
	}
	switch {
	case key.Matches(msg, f.KeyMap.Accept):
		f.typing = false
		return true, false
	case key.Matches(msg, f.KeyMap.Clear):
		f.typing = false
		f.in.SetValue("")
		return true, before != ""
	case msg.Type == tea.KeyRunes && slices.ContainsFunc(msg.Runes, isNewline):
		line := msg.Runes[:slices.IndexFunc(msg.Runes, isNewline)]
		f.in.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: line}, f.KeyMap.EditKeyMap)
		f.typing = false
	default:
		f.in.Update(msg, f.KeyMap.EditKeyMap)
	}
	return true, f.in.Value() != before
}

// isNewline reports an end of line inside typed runes.
func isNewline(r rune) bool { return r == '\r' || r == '\n' }

// View renders the filter line in at most the width set by SetWidth. While
// typing, a block marks the cursor and its side of the text stays visible.
func (f *Filter) View() string {
	room := f.width - 1
	if f.typing && room < 2 || room < 1 {
		return f.st.Prompt.Render(format.Truncate("/", f.width))
	}
	return f.st.Prompt.Render("/") + f.in.View(f.st, room, f.typing)
}
