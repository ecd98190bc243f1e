package export

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"text/tabwriter"

	"otscope/model/safe"
)

// The two boundaries of this package's text outputs. Every CSV row goes
// through csvWriter.Write (each cell through safe.CSV: no terminal escapes,
// no spreadsheet formulas) and every table row through table.row (each cell
// through safe.Text), so a name, banner or file name a device or a capture
// chose cannot reach a terminal or a spreadsheet as anything but text.
// JSON is left as it is: it is data for programs, escaped by the encoder.

// csvWriter is a csv.Writer whose cells are made spreadsheet-safe.
type csvWriter struct {
	*csv.Writer
	cells []string
}

func newCSV(w io.Writer) *csvWriter { return &csvWriter{Writer: csv.NewWriter(w)} }

// writeJSON writes v as indented JSON, the form of every JSON output here.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Write writes one row, each cell through safe.CSV.
func (c *csvWriter) Write(row []string) error {
	c.cells = c.cells[:0]
	for _, s := range row {
		c.cells = append(c.cells, safe.CSV(s))
	}
	return c.Writer.Write(c.cells)
}

// table is an aligned text table whose cells are made terminal-safe.
type table struct {
	tw  *tabwriter.Writer
	err error
}

func newTable(w io.Writer, padding int) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, padding, ' ', 0)}
}

// row writes one row, each cell through safe.Text (which also turns tabs
// and line breaks into spaces, so a cell cannot add columns or rows).
func (t *table) row(cells ...string) {
	if t.err != nil {
		return
	}
	for i := range cells {
		cells[i] = safe.Text(cells[i])
	}
	_, t.err = io.WriteString(t.tw, strings.Join(cells, "\t")+"\n")
}

// Flush writes the table out.
func (t *table) Flush() error {
	if t.err != nil {
		return t.err
	}
	return t.tw.Flush()
}
