package merge

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"otscope/model/safe"
)

// WriteReport writes what a merge did, as "table" (lines for a terminal:
// the totals, then each asset with conflicting facts and their values) or
// "json".
func WriteReport(w io.Writer, format, into string, r *Report) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	case "table", "":
		if _, err := fmt.Fprintf(w, "merged %s into %s: %d assets (%d joined across sessions), %d with conflicting facts\n",
			safe.Text(strings.Join(r.Inputs, ", ")), safe.Text(into), r.Assets, r.Joined, len(r.Conflicts)); err != nil {
			return err
		}
		for from, to := range r.Renamed {
			if _, err := fmt.Fprintf(w, "  %s of another site kept as %s\n", safe.Text(string(from)), safe.Text(string(to))); err != nil {
				return err
			}
		}
		for _, c := range r.Conflicts {
			if _, err := fmt.Fprintf(w, "  %s:\n", safe.Text(string(c.Asset))); err != nil {
				return err
			}
			for _, f := range c.Fields {
				if _, err := fmt.Fprintf(w, "    %s: %s\n", f, safe.Text(strings.Join(c.Values[f], " | "))); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return fmt.Errorf("%q: unknown format (use table or json)", format)
}
