package diff

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"otscope/model/safe"
)

// Formats are the output formats of Write.
var Formats = []string{"table", "json", "csv"}

// ErrFormat is returned for an unknown format.
var ErrFormat = fmt.Errorf("unknown format (use %s)", strings.Join(Formats, ", "))

// CSVHeader is the header row of the CSV format.
var CSVHeader = []string{"kind", "subject", "asset", "label", "field", "old", "new", "detail"}

// Write writes r in the named format. Device-controlled text is passed
// through safe.Text (table) or safe.CSV (CSV); JSON escapes it itself.
func Write(w io.Writer, format string, r *Result) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "csv":
		cw := csv.NewWriter(w)
		if err := cw.Write(CSVHeader); err != nil {
			return err
		}
		for _, c := range r.Changes {
			row := []string{string(c.Kind), string(c.Subject), string(c.Asset), c.Label, c.Field, c.Old, c.New, c.Detail}
			for i := range row {
				row[i] = safe.CSV(row[i])
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	case "table":
		return table(w, r)
	}
	return fmt.Errorf("%q: %w", format, ErrFormat)
}

// table writes one line per change, at most 80 columns: the summary line,
// then KIND, the asset's label and what changed.
func table(w io.Writer, r *Result) error {
	if _, err := fmt.Fprintf(w, "%s -> %s: %d new, %d vanished, %d changed, %d assets unchanged\n",
		safe.Text(r.From), safe.Text(r.To), r.Counts[New], r.Counts[Vanished], r.Counts[Changed], r.Unchanged); err != nil {
		return err
	}
	for _, c := range r.Changes {
		var what string
		switch {
		case c.Field != "" && c.Kind == Changed:
			what = c.Field + ": " + dash(c.Old) + " -> " + dash(c.New)
		case c.Field != "":
			what = c.Field + " " + c.Old + c.New
		case c.Subject == Asset:
			what = "asset " + c.Detail
		default:
			what = string(c.Subject) + " " + c.Detail
		}
		line := fmt.Sprintf("%-8s %-22s %s", c.Kind, clip(safe.Text(c.Label), 22), safe.Text(what))
		if _, err := fmt.Fprintln(w, clip(line, 80)); err != nil {
			return err
		}
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// clip cuts s to n runes, marking the cut with "…".
func clip(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}
