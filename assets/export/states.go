package export

import (
	"fmt"
	"io"
	"slices"
	"time"

	"otscope/assets/lifecycle"
	"otscope/model"
)

// StateRow is one asset's inventory state as States writes it.
type StateRow struct {
	ID      model.AssetID `json:"id"`
	Address string        `json:"address"`
	Name    string        `json:"name"`
	State   string        `json:"state"`
	// Since, By and Why are the last transition's (zero and "" for an
	// asset whose state was never tracked).
	Since time.Time `json:"since,omitzero"`
	By    string    `json:"by,omitempty"`
	Why   string    `json:"why,omitempty"`
}

// StateRows pairs each asset with the state its history ends in, sorted
// by address (CompareByAddress).
func StateRows(assets []model.Asset, hist map[model.AssetID]lifecycle.History) []StateRow {
	order := make([]*model.Asset, len(assets))
	for i := range assets {
		order[i] = &assets[i]
	}
	slices.SortStableFunc(order, CompareByAddress)
	rows := make([]StateRow, len(order))
	for i, a := range order {
		h := hist[a.ID]
		rows[i] = StateRow{ID: a.ID, Address: label(a), Name: assetName(a), State: h.Current().String()}
		if n := len(h); n > 0 {
			rows[i].Since, rows[i].By, rows[i].Why = h[n-1].At, h[n-1].By, h[n-1].Why
		}
	}
	return rows
}

// States writes every asset's inventory state in the named format: JSON
// (an array of StateRow), CSV or a table that fits 80 columns (names and
// reasons cut with "…"; the CSV and JSON keep them whole).
func States(w io.Writer, format string, rows []StateRow) error {
	switch format {
	case "json":
		if rows == nil {
			rows = []StateRow{}
		}
		return writeJSON(w, rows)
	case "csv":
		cw := newCSV(w)
		cw.Write([]string{"id", "address", "name", "state", "since", "by", "why"})
		for _, r := range rows {
			cw.Write([]string{string(r.ID), r.Address, r.Name, r.State, stamp(r.Since), r.By, r.Why})
		}
		cw.Flush()
		return cw.Error()
	case "table":
		if len(rows) == 0 {
			_, err := fmt.Fprintln(w, "no assets in this session yet")
			return err
		}
		counts := map[string]int{}
		for _, r := range rows {
			counts[r.State]++
		}
		fmt.Fprintf(w, "%d assets", len(rows))
		for s := lifecycle.State(0); ; s++ {
			if _, err := s.MarshalText(); err != nil {
				break // past the last state
			}
			if n := counts[s.String()]; n > 0 {
				fmt.Fprintf(w, " · %s %d", s, n)
			}
		}
		fmt.Fprintln(w)
		tw := newTable(w, 2)
		// 80 columns: an IPv4 address or a routed device's (up to 18),
		// name 14, state 14, the date, and why (who, for a person's)
		tw.row("ADDRESS", "NAME", "STATE", "SINCE", "WHY")
		for _, r := range rows {
			since, why := "-", r.Why
			if !r.Since.IsZero() {
				since = r.Since.Local().Format(time.DateOnly)
			}
			if r.By != "" && r.By != lifecycle.System {
				why = r.By + ": " + why
			}
			tw.row(r.Address, dash(clip(r.Name, 14)), r.State, since, dash(clip(why, 16)))
		}
		return tw.Flush()
	}
	return fmt.Errorf("%q: %w", format, ErrFormat)
}
