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
