package grid

import (
	"unicode"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/ui/format"
	"otscope/ui/theme"
)

// Input is the one-line editor the table filter and the forms share:
// bubbles/textinput edits (cursor movement, word and line deletion, typed
// and pasted runes), and Input draws it in the theme's styles with a block
// cursor, the end of a long line visible. The clipboard key is off: over
// SSH there is no clipboard to read; a terminal's paste arrives as runes.
type Input struct {
	ti textinput.Model
}

// NewInput returns an empty input.
func NewInput() Input {
	ti := textinput.New()
	ti.Prompt = ""
	ti.KeyMap.Paste.SetEnabled(false)
	ti.KeyMap.AcceptSuggestion.SetEnabled(false)
	ti.KeyMap.NextSuggestion.SetEnabled(false)
	ti.KeyMap.PrevSuggestion.SetEnabled(false)
	ti.Focus() // edits whenever its owner hands it a key; the owner draws focus
	return Input{ti: ti}
}

// Value returns the text.
func (in *Input) Value() string { return in.ti.Value() }

// SetValue replaces the text and puts the cursor at its end.
func (in *Input) SetValue(s string) {
	in.ti.SetValue(s)
	in.ti.CursorEnd()
}

// EditKeyMap is the editing keys of an Input that are not textinput's own.
type EditKeyMap struct {
	// DeleteWord deletes the word before the cursor; DeleteAll empties the line.
	DeleteWord, DeleteAll key.Binding
}

// DefaultEditKeyMap returns ctrl+w (or alt+backspace) and ctrl+u.
func DefaultEditKeyMap() EditKeyMap {
	return EditKeyMap{
		DeleteWord: key.NewBinding(key.WithKeys("ctrl+w", "alt+backspace"), key.WithHelp("ctrl+w", "delete word")),
		DeleteAll:  key.NewBinding(key.WithKeys("ctrl+u"), key.WithHelp("ctrl+u", "delete all")),
	}
}

// Update applies one editing key: k's DeleteAll empties the line, its
// DeleteWord deletes the word before the cursor, printable runes are
// inserted at the cursor, other keys move it or delete (textinput's keys).
func (in *Input) Update(msg tea.KeyMsg, k EditKeyMap) {
	switch {
	case key.Matches(msg, k.DeleteAll):
		in.ti.SetValue("")
		return
	case msg.Type == tea.KeySpace && len(msg.Runes) == 0:
		msg.Runes = []rune{' '}
	case msg.Type == tea.KeyRunes:
		printable := msg.Runes[:0:0]
		for _, r := range msg.Runes {
			if unicode.IsPrint(r) {
				printable = append(printable, r)
			}
		}
		if len(printable) == 0 {
			return
		}
		msg.Runes = printable
	}
	in.ti.KeyMap.DeleteWordBackward = k.DeleteWord
	in.ti.KeyMap.DeleteBeforeCursor.SetEnabled(false) // DeleteAll's job
	in.ti, _ = in.ti.Update(msg)
}

// View draws the text in at most room cells; with the cursor, a block
// marks it (at the end of the text, or over the character under it), and
// the cursor's side of a long line stays visible.
func (in *Input) View(st *theme.Styles, room int, cursor bool) string {
	r := []rune(in.ti.Value())
	if !cursor {
		return st.Input.Render(tailFit(string(r), room))
	}
	pos := min(in.ti.Position(), len(r))
	if pos == len(r) {
		return st.Input.Render(tailFit(string(r), room-1) + "█")
	}
	before, at, after := string(r[:pos]), string(r[pos]), string(r[pos+1:])
	left := tailFit(before, room-format.Width(at)-1)
	right := format.Truncate(after, max(0, room-format.Width(left)-format.Width(at)))
	return st.Input.Render(left) + st.Input.Reverse(true).Render(at) + st.Input.Render(right)
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
