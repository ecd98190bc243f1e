package grid

import (
	"iter"
	"slices"

	"otscope/ui/format"
	"otscope/ui/theme"
)

// Table is the column layout of a table pane at its width: which of the
// pane's columns (C names them) are shown, their widths, the header with
// the sort arrow, and a generation that moves with every layout so the
// rows' cached text (Cache) is rebuilt only then. The last column is drawn
// every frame (it ages with the clock: seen); the others are cached.
type Table[C comparable] struct {
	st     *theme.Styles
	cols   []C
	defs   []Column
	widths []int
	header string
	gen    int
}

// Cache is a row's text in a Table: every column but the last, joined for
// one layout.
type Cache struct {
	line string
	gen  int
}

// NewTable returns a table without columns, drawn with st.
func NewTable[C comparable](st *theme.Styles) Table[C] {
	return Table[C]{st: st}
}

// SetColumns shows cols, def giving each one's definition, in width cells,
// and drops the rows' cached text. The header has no arrow until SetSort.
func (t *Table[C]) SetColumns(cols []C, def func(C) Column, width int) {
	t.cols = cols
	t.defs = make([]Column, len(cols))
	for i, c := range cols {
		t.defs[i] = def(c)
	}
	t.widths = Layout(t.defs, width)
	t.gen++
	t.SetSort("")
}

// Cols returns the columns shown. The slice must not be modified.
func (t *Table[C]) Cols() []C { return t.cols }

// LastWidth is the width of the last column.
func (t *Table[C]) LastWidth() int { return t.widths[len(t.widths)-1] }

// SetSort renders the header with arrow after the titles of the columns
// in sorted that are shown: a sort key's column, or its stand-ins in
// layouts without it. A key shown in no column marks none.
func (t *Table[C]) SetSort(arrow string, sorted ...C) {
	defs := slices.Clone(t.defs)
	for i, c := range t.cols {
		if slices.Contains(sorted, c) {
			defs[i].Title += arrow
		}
	}
	t.header = t.st.Header.Render(" " + Header(defs, t.widths))
}

// Header returns the header line built by SetSort.
func (t *Table[C]) Header() string { return t.header }

// Row draws a row on screen: a one-cell mark ("▸" on the cursor row when
// mark is ""), the row's cached text, rebuilt from cell(i, column) only when
// the layout changed, and last, the last column now, fitted right. The
// cursor row is styled Selected.
func (t *Table[C]) Row(c *Cache, cell func(i int, col C) string, last, mark string, cursor bool) string {
	n := len(t.cols) - 1
	if c.gen != t.gen {
		cells := make([]string, n)
		for i, col := range t.cols[:n] {
			cells[i] = cell(i, col)
		}
		c.line, c.gen = Join(t.defs[:n], t.widths[:n], cells), t.gen
	}
	if mark == "" {
		mark = " "
		if cursor {
			mark = "▸"
		}
	}
	line := mark + c.line + " " + format.FitRight(last, t.widths[n])
	if cursor {
		return t.st.Selected.Render(line)
	}
	return line
}

// Width returns the width of the i-th column shown.
func (t *Table[C]) Width(i int) int { return t.widths[i] }

// Visible yields the keys of the rows on screen, in order, and whether
// each is under the cursor.
func (m *Model[K]) Visible() iter.Seq2[K, bool] {
	return func(yield func(K, bool) bool) {
		start, end := m.Window()
		for i := start; i < end; i++ {
			if !yield(m.keys[i], i == m.cursor) {
				return
			}
		}
	}
}
