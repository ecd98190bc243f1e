package grid

import (
	"strings"
	"unicode"

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
	// DeleteWord and DeleteAll edit the text while typing.
	DeleteWord, DeleteAll key.Binding
}

// DefaultFilterKeyMap returns "/" to open, enter to accept and esc to clear.
func DefaultFilterKeyMap() FilterKeyMap {
	return FilterKeyMap{
		Open:       key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		Accept:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep filter")),
		Clear:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		DeleteWord: key.NewBinding(key.WithKeys("ctrl+w", "alt+backspace"), key.WithHelp("ctrl+w", "delete word")),
		DeleteAll:  key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "delete all")),
	}
}

// Filter is a one-line filter input: closed, typing, or closed with a query
// kept. It edits at the end of the line only, which is all a filter needs.
// (bubbles/textinput would pull in a clipboard module the build does not
// carry.)
type Filter struct {
	KeyMap FilterKeyMap
	st     *theme.Styles
	text   []rune
	typing bool
	width  int
}

// NewFilter returns a closed, empty filter styled with st.
func NewFilter(st *theme.Styles) Filter {
	return Filter{KeyMap: DefaultFilterKeyMap(), st: st, width: 20}
}

// Typing reports whether the input has focus.
func (f *Filter) Typing() bool { return f.typing }

// Query returns the current filter text.
func (f *Filter) Query() string { return string(f.text) }

// Active reports whether a filter is shown: being typed or kept.
func (f *Filter) Active() bool { return f.typing || len(f.text) > 0 }

// SetWidth sets the width of the input line.
func (f *Filter) SetWidth(w int) { f.width = max(1, w) }

// SetQuery sets the filter text without opening the input.
func (f *Filter) SetQuery(q string) { f.text = []rune(q) }

// Update handles a key. It reports whether the key was consumed and whether
// the query changed. While closed it consumes only Open, and Clear when a
// query is kept.
func (f *Filter) Update(msg tea.KeyMsg) (consumed, changed bool) {
	before := len(f.text)
	if !f.typing {
		switch {
		case key.Matches(msg, f.KeyMap.Open):
			f.typing = true
			return true, false
		case key.Matches(msg, f.KeyMap.Clear) && before > 0:
			f.text = f.text[:0]
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
		f.text = f.text[:0]
		return true, before > 0
	case key.Matches(msg, f.KeyMap.DeleteAll):
		f.text = f.text[:0]
	case key.Matches(msg, f.KeyMap.DeleteWord):
		t := strings.TrimRightFunc(string(f.text), unicode.IsSpace)
		i := strings.LastIndexFunc(t, unicode.IsSpace)
		f.text = []rune(t[:i+1])
	case msg.Type == tea.KeyBackspace:
		if before > 0 {
			f.text = f.text[:before-1]
		}
	case msg.Type == tea.KeyRunes || msg.Type == tea.KeySpace:
		for _, r := range msg.Runes {
			if unicode.IsPrint(r) {
				f.text = append(f.text, r)
			}
		}
	}
	return true, len(f.text) != before
}

// View renders the filter line in at most the width set by SetWidth. While
// typing, the end of the text stays visible and a block marks the cursor.
func (f *Filter) View() string {
	text := string(f.text)
	tail := ""
	if f.typing {
		tail = "█"
	}
	room := f.width - 1 - format.Width(tail)
	if room < 1 {
		return f.st.Prompt.Render(format.Truncate("/", f.width))
	}
	if w := format.Width(text); w > room {
		r := []rune(text)
		for format.Width(string(r)) > room-1 && len(r) > 0 {
			r = r[1:]
		}
		text = format.Ellipsis + string(r)
	}
	return f.st.Prompt.Render("/") + f.st.Input.Render(text+tail)
}
