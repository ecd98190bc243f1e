package cli

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"text/tabwriter"
)

// writeJSON writes v as indented JSON: every -f json listing of the CLI.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeJSONList writes a listing as writeJSON does; an empty one is [],
// never null.
func writeJSONList[T any](w io.Writer, list []T) error {
	if list == nil {
		list = []T{}
	}
	return writeJSON(w, list)
}

// writeCSV writes a header row and rows: every -f csv listing of the CLI.
// The caller escapes device-controlled cells (safe.CSV).
func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	cw.Write(header)
	for _, r := range rows {
		cw.Write(r)
	}
	cw.Flush()
	return cw.Error()
}

// newTable returns the tab-aligned writer of every table listing of the
// CLI (two spaces between columns); the caller flushes it.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}
