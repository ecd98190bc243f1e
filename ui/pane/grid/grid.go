// Package grid is the machinery shared by the otscope table panes (assets,
// communication matrix): a cursor over an ordered list of row keys that
// stays on the same key when the order changes, scrolling that exposes only
// the visible window, a filter input, fixed-width column layout, and the
// one-line editor (Input, on bubbles/textinput) that the filter and the
// forms (ui/pane/form) share.
//
// A pane owns its rows and their cached text; grid only holds keys, so
// re-sorting 10,000 rows moves keys, not strings, and View touches only the
// rows in Window. Models are used from the Bubble Tea goroutine only.
package grid

import (
	"slices"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"
)

// KeyMap is the cursor movement of a grid.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Home, End key.Binding
}

// DefaultKeyMap returns arrows and vi-style movement keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Up:       key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:     key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		PageUp:   key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown: key.NewBinding(key.WithKeys("pgdown", "ctrl+f", " "), key.WithHelp("pgdn", "page down")),
		Home:     key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first row")),
		End:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last row")),
	}
}

// NewViewport returns the scroll area of a pane that shows text, with no
// keys of its own: the pane matches them (Scroll), with g/G added.
func NewViewport() viewport.Model {
	vp := viewport.New(80, 20)
	vp.KeyMap = viewport.KeyMap{}
	return vp
}

// Scroll moves vp for a movement key and reports whether msg was one: the
// panes that show text scroll with the keys the tables move with.
func (k KeyMap) Scroll(vp *viewport.Model, msg tea.KeyMsg) bool {
	switch {
	case key.Matches(msg, k.Up):
		vp.ScrollUp(1)
	case key.Matches(msg, k.Down):
		vp.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		vp.PageUp()
	case key.Matches(msg, k.PageDown):
		vp.PageDown()
	case key.Matches(msg, k.Home):
		vp.GotoTop()
	case key.Matches(msg, k.End):
		vp.GotoBottom()
	default:
		return false
	}
	return true
}

// Bindings lists the movement keys for help.
func (k KeyMap) Bindings() []key.Binding {
	return []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Home, k.End}
}

// Model is a cursor over an ordered list of keys.
type Model[K comparable] struct {
	// KeyMap is the movement keys; change it before use to rebind.
	KeyMap KeyMap
	keys   []K
	cursor int
	offset int
	height int
	// moved is set once the user moved the cursor or a row was selected;
	// until then the cursor stays on the first row while rows arrive, so a
	// table filling up keeps its top on screen.
	moved bool
}

// New returns an empty grid with the default keys.
func New[K comparable]() Model[K] {
	return Model[K]{KeyMap: DefaultKeyMap(), height: 1}
}

// SetRows replaces the ordered keys. Until the cursor has been moved it
// stays on the first row. After that it stays on the key it was on when
// that key is still present, at the same screen row where possible;
// otherwise it keeps its index, clamped. The grid keeps keys; the caller
// must not modify it afterwards.
func (m *Model[K]) SetRows(keys []K) {
	sel, had := m.Selected()
	screenRow := m.cursor - m.offset
	m.keys = keys
	if !m.moved {
		m.cursor, m.offset = 0, 0
	} else if had {
		if i := slices.Index(keys, sel); i >= 0 {
			m.cursor = i
			m.offset = m.cursor - screenRow
		}
	}
	m.clamp()
}

// Rows returns the ordered keys. The slice must not be modified.
func (m *Model[K]) Rows() []K { return m.keys }

// Len returns the number of rows.
func (m *Model[K]) Len() int { return len(m.keys) }

// SetHeight sets how many rows fit on screen.
func (m *Model[K]) SetHeight(h int) {
	m.height = max(1, h)
	m.clamp()
}

// Height returns how many rows fit on screen.
func (m *Model[K]) Height() int { return m.height }

// Cursor returns the index of the selected row (0 when empty).
func (m *Model[K]) Cursor() int { return m.cursor }

// Selected returns the key under the cursor.
func (m *Model[K]) Selected() (K, bool) {
	if m.cursor < 0 || m.cursor >= len(m.keys) {
		var zero K
		return zero, false
	}
	return m.keys[m.cursor], true
}

// Select moves the cursor to k and reports whether k is a row.
func (m *Model[K]) Select(k K) bool {
	i := slices.Index(m.keys, k)
	if i < 0 {
		return false
	}
	m.cursor = i
	m.moved = true
	m.clamp()
	return true
}

// Top moves the cursor to the first row, as if the rows were new: it stays
// there while rows change until the user moves it again.
func (m *Model[K]) Top() {
	m.cursor, m.offset, m.moved = 0, 0, false
}

// Click selects the row shown on screen line line of the window (0: the
// first row shown) and reports whether there is one.
func (m *Model[K]) Click(line int) bool {
	i := m.offset + line
	if line < 0 || line >= m.height || i >= len(m.keys) {
		return false
	}
	m.cursor, m.moved = i, true
	m.clamp()
	return true
}

// Window returns the half-open range of row indexes that are on screen.
func (m *Model[K]) Window() (start, end int) {
	return m.offset, min(len(m.keys), m.offset+m.height)
}

// Update moves the cursor for a movement key and reports whether msg was one.
func (m *Model[K]) Update(msg tea.Msg) bool {
	k, ok := msg.(tea.KeyMsg)
	if !ok {
		return false
	}
	switch {
	case key.Matches(k, m.KeyMap.Up):
		m.cursor--
	case key.Matches(k, m.KeyMap.Down):
		m.cursor++
	case key.Matches(k, m.KeyMap.PageUp):
		m.cursor -= m.height
		m.offset -= m.height
	case key.Matches(k, m.KeyMap.PageDown):
		m.cursor += m.height
		m.offset += m.height
	case key.Matches(k, m.KeyMap.Home):
		m.cursor = 0
	case key.Matches(k, m.KeyMap.End):
		m.cursor = len(m.keys) - 1
	default:
		return false
	}
	m.moved = true
	m.clamp()
	return true
}

// clamp keeps cursor inside the rows and the window around the cursor.
func (m *Model[K]) clamp() {
	m.cursor = max(0, min(m.cursor, len(m.keys)-1))
	if m.cursor < m.offset {
		m.offset = m.cursor
	}
	if m.cursor >= m.offset+m.height {
		m.offset = m.cursor - m.height + 1
	}
	m.offset = max(0, min(m.offset, len(m.keys)-m.height))
}
