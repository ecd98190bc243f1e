package grid

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/ui/format"
)

// SortKeyMap is the keys of a sortable table.
type SortKeyMap struct {
	// Sort cycles the sort column; Reverse flips the order.
	Sort, Reverse key.Binding
}

// DefaultSortKeyMap returns s to cycle the sort and S to reverse it.
func DefaultSortKeyMap() SortKeyMap {
	return SortKeyMap{
		Sort:    key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "sort")),
		Reverse: key.NewBinding(key.WithKeys("S"), key.WithHelp("S", "reverse sort")),
	}
}

// SortName returns names[k], the name a table's summary gives its sort key
// k, or "unknown" past the end.
func SortName(names []string, k int) string {
	if k >= 0 && k < len(names) {
		return names[k]
	}
	return "unknown"
}

// Directed turns c, an ascending comparison of two rows, into the table's
// order: largest first for a key that sorts descending (recent, busy), and
// the other way round when the user reversed it.
func Directed(c int, descending, reverse bool) int {
	if descending != reverse {
		return -c
	}
	return c
}

// Arrow is the mark of that order in the header and the summary: "↓" when
// the largest comes first, "↑" otherwise.
func Arrow(descending, reverse bool) string {
	if descending != reverse {
		return "↓"
	}
	return "↑"
}

// SortKey is a table's sort key: its keys are 0 to n-1, each named and
// sorting largest first (Descending: recent, busy) or smallest first.
type SortKey interface {
	~uint8
	String() string
	Descending() bool
}

// Sort is a table's order: a key, and whether the user reversed its
// natural direction.
type Sort[S SortKey] struct {
	By      S
	Reverse bool
}

// Arrow is the mark of the order in the header and the summary.
func (s Sort[S]) Arrow() string { return Arrow(s.By.Descending(), s.Reverse) }

// Directed turns c, an ascending comparison of two rows by the key, into
// the table's order.
func (s Sort[S]) Directed(c int) int { return Directed(c, s.By.Descending(), s.Reverse) }

// String is the order as a summary gives it: "last seen ↓".
func (s Sort[S]) String() string { return s.By.String() + " " + s.Arrow() }

// Update handles k's keys in a table of n sort keys and reports whether msg
// was one: Sort moves to the next key in its natural direction, Reverse
// flips the order.
func (s *Sort[S]) Update(k SortKeyMap, msg tea.KeyMsg, n S) bool {
	switch {
	case key.Matches(msg, k.Sort):
		s.By, s.Reverse = (s.By+1)%n, false
	case key.Matches(msg, k.Reverse):
		s.Reverse = !s.Reverse
	default:
		return false
	}
	return true
}

// Lines is how many lines the filter takes above the table: one while it
// is shown (typed or kept), none otherwise.
func (f *Filter) Lines() int {
	if f.Active() {
		return 1
	}
	return 0
}

// Line renders the filter line with count (" 3 of 40") at its right, in
// the width set by SetWidth.
func (f *Filter) Line(count string) string {
	return format.Truncate(f.View(), f.width-format.Width(count)) + f.st.Muted.Render(count)
}

// FilterKey hands k to the filter f above grid g and reports whether f took
// it. Then g gets its new height from rowsHeight when the filter line came
// or went, and a changed query re-filters the rows with refresh: a new list
// starts at its top unless the selected row is still in it.
func FilterKey[K comparable](f *Filter, g *Model[K], k tea.KeyMsg, rowsHeight func() int, refresh func()) bool {
	wasActive := f.Active()
	consumed, changed := f.Update(k)
	if !consumed {
		return false
	}
	if f.Active() != wasActive {
		g.SetHeight(rowsHeight())
	}
	if changed {
		sel, had := g.Selected()
		refresh()
		if now, ok := g.Selected(); had && (!ok || now != sel) {
			g.Top()
		}
	}
	return true
}

// SetFilter sets the query of the filter f above grid g, as if typed and
// accepted: g gets its new height from rowsHeight (the filter line may
// have come or gone) and refresh re-filters the rows.
func SetFilter[K comparable](f *Filter, g *Model[K], q string, rowsHeight func() int, refresh func()) {
	f.SetQuery(q)
	g.SetHeight(rowsHeight())
	refresh()
}
