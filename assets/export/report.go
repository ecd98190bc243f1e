package export

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"otscope/model"
)

// Verdicts of an asset's audit, as reports show them.
const (
	VerdictFail   = "fail"   // at least one violation that no active waiver covers
	VerdictWaived = "waived" // violations, every one waived
	VerdictPass   = "pass"   // audited, no violation
)

// Verdict returns the asset's audit verdict: VerdictFail, VerdictWaived or
// VerdictPass; "" when no audit ran (audited false).
func (r *Record) Verdict(audited bool) string {
	if !audited {
		return ""
	}
	if len(r.Violations) == 0 {
		return VerdictPass
	}
	for _, v := range r.Violations {
		if v.Waived == nil {
			return VerdictFail
		}
	}
	return VerdictWaived
}

// Phase returns the lifecycle phase of the asset at now ("" when the
// catalog has no verdict).
func (r *Record) Phase(now time.Time) string {
	if r.Lifecycle == nil {
		return ""
	}
	return r.Lifecycle.PhaseAt(now).String()
}

// Walkdown is what a person recorded about an asset on a walkdown: where
// it is, the state they found it in, when and who. Reports take it from the
// session's walkdown journal; an asset never walked has none.
type Walkdown struct {
	State    string    `json:"state"`
	Location string    `json:"location,omitempty"`
	Note     string    `json:"note,omitempty"`
	By       string    `json:"by,omitempty"`
	At       time.Time `json:"at,omitzero"`
}

// Location returns where the asset is: the walkdown's location, else what
// the device says (SNMP sysLocation), else "".
func Location(a *model.Asset, w *Walkdown) string {
	if w != nil && w.Location != "" {
		return w.Location
	}
	return a.Fact(model.FieldSNMPSysLocation)
}

// Report is the input of the report writers (HTML, CSV with identity
// columns, CycloneDX): the session's assets with what the catalogs and the
// audit say about them, and the session's context.
type Report struct {
	Session string
	Site    string
	Sensor  string
	// Otscope is the version that writes the report.
	Otscope string
	// Now is the report's time: lifecycle phases are computed for it.
	Now time.Time
	// Records are the enriched assets (Enricher.Enrich).
	Records []Record
	// Audited is set when the records' violations come from an audit (so
	// an asset without violations passed it).
	Audited bool
	// Walkdowns are the walkdown records by asset (may be nil).
	Walkdowns map[model.AssetID]Walkdown
	// Conversations and Stats are the session's, for the summary.
	Conversations []model.Conversation
	Stats         []model.CaptureStats
	// ScanLog is the active scanner's packet log (may be empty).
	ScanLog []model.ScanRecord
}

// walkdown returns the asset's walkdown record, or nil.
func (r *Report) walkdown(id model.AssetID) *Walkdown {
	if w, ok := r.Walkdowns[id]; ok {
		return &w
	}
	return nil
}

// sortByAddress sorts order, indices into recs, by the records' addresses
// (CompareByAddress).
func sortByAddress(recs []Record, order []int) {
	slices.SortStableFunc(order, func(x, y int) int { return CompareByAddress(&recs[x].Asset, &recs[y].Asset) })
}

// ReportFormats are the formats WriteReport writes.
var ReportFormats = []string{"json", "csv", "html", "cyclonedx", "cyclonedx-1.7"}

// WriteReport writes rep in the named format: "json" (the enriched records,
// RecordsJSON), "csv" (ReportCSV), "html" (HTML), "cyclonedx" (CycloneDX
// 1.6) or "cyclonedx-1.7". The bundle is written by assets/bundle.
func WriteReport(w io.Writer, format string, rep *Report) error {
	switch format {
	case "json":
		return RecordsJSON(w, rep.Records)
	case "csv":
		return ReportCSV(w, rep)
	case "html":
		return HTML(w, rep)
	case "cyclonedx":
		return CycloneDX(w, rep, CycloneDX16)
	case "cyclonedx-1.7":
		return CycloneDX(w, rep, CycloneDX17)
	}
	return fmt.Errorf("%q: %w", format, ErrReportFormat)
}

// ErrReportFormat is returned by WriteReport for an unknown format.
var ErrReportFormat = errors.New("unknown report format (use json, csv, html, cyclonedx or cyclonedx-1.7; bundle is written by the bundle package)")
