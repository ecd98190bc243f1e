package grid

import (
	"strings"

	"otscope/model/safe"
	"otscope/ui/format"
)

// Column describes one table column.
type Column struct {
	// Title is the header text.
	Title string
	// Width is the minimum width; Max caps growth (0: Width is fixed).
	Width, Max int
	// Flex is how many spare cells the column takes per round when growing
	// (0 counts as 1).
	Flex int
	// Right aligns the cells to the right (numbers).
	Right bool
}

// Layout returns each column's width for a table width cells wide with one
// space between columns. Space beyond the minimums goes to growable columns
// in turn, Flex cells at a time, until they reach Max. Minimums are not
// shrunk: callers choose a column set that fits.
func Layout(cols []Column, width int) []int {
	ws := make([]int, len(cols))
	used := max(0, len(cols)-1)
	for i, c := range cols {
		ws[i] = c.Width
		used += c.Width
	}
	spare := width - used
	for spare > 0 {
		grew := false
		for i, c := range cols {
			for range max(1, c.Flex) {
				if spare > 0 && c.Max > ws[i] {
					ws[i]++
					spare--
					grew = true
				}
			}
		}
		if !grew {
			break
		}
	}
	return ws
}

// Join fits each cell to its column width and joins them with single
// spaces. It is the table panes' boundary for text a device or a capture
// chose: every cell passes safe.Text (cells are plain text; rows are styled
// after joining).
func Join(cols []Column, widths []int, cells []string) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(' ')
		}
		cell := ""
		if i < len(cells) {
			cell = safe.Text(cells[i])
		}
		if c.Right {
			b.WriteString(format.FitRight(cell, widths[i]))
		} else {
			b.WriteString(format.Fit(cell, widths[i]))
		}
	}
	return b.String()
}

// Header renders the column titles with the same layout as Join.
func Header(cols []Column, widths []int) string {
	titles := make([]string, len(cols))
	for i, c := range cols {
		titles[i] = c.Title
	}
	return Join(cols, widths, titles)
}
