package export

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"otscope/assets/policy"
	"otscope/model"
)

// violationJSON is one violation as exported.
type violationJSON struct {
	Rule      string         `json:"rule"`
	Title     string         `json:"title"`
	Severity  string         `json:"severity"`
	Asset     model.AssetID  `json:"asset"`
	Client    model.AssetID  `json:"client,omitempty"`
	Server    model.AssetID  `json:"server,omitempty"`
	Evidence  []string       `json:"evidence"`
	FirstSeen time.Time      `json:"first_seen,omitzero"`
	LastSeen  time.Time      `json:"last_seen,omitzero"`
	Waived    *policy.Waiver `json:"waived,omitempty"`
}

// Audit writes an audit report: every violation with its rule, severity,
// asset and evidence, in the named format; the table ends with counts per
// severity.
func Audit(w io.Writer, format string, rep policy.Report) error {
	switch format {
	case "json":
		out := struct {
			Assets     int             `json:"assets"`
			Rules      int             `json:"rules"`
			Violations []violationJSON `json:"violations"`
			Waived     int             `json:"waived"`
		}{Assets: rep.Assets, Rules: rep.Rules, Violations: []violationJSON{}, Waived: rep.Waived}
		for _, v := range rep.Violations {
			ev := v.Evidence
			if ev == nil {
				ev = []string{}
			}
			out.Violations = append(out.Violations, violationJSON{Rule: v.RuleID, Title: v.Title, Severity: v.Severity.String(),
				Asset: v.AssetID, Client: v.ClientID, Server: v.ServerID, Evidence: ev, FirstSeen: v.FirstSeen,
				LastSeen: v.LastSeen, Waived: v.Waived})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	case "csv":
		cw := newCSV(w)
		cw.Write([]string{"severity", "rule", "title", "asset", "client", "server", "evidence", "first_seen", "last_seen", "waived"})
		for _, v := range rep.Violations {
			cw.Write([]string{v.Severity.String(), v.RuleID, v.Title, string(v.AssetID), string(v.ClientID), string(v.ServerID),
				strings.Join(v.Evidence, " | "), stamp(v.FirstSeen), stamp(v.LastSeen), fmt.Sprint(v.Waived != nil)})
		}
		cw.Flush()
		return cw.Error()
	case "table":
		tw := newTable(w, 2)
		tw.row("SEVERITY", "RULE", "ASSET", "EVIDENCE")
		for _, v := range rep.Violations {
			sev := v.Severity.String()
			if v.Waived != nil {
				sev += " (waived)"
			}
			ev := ""
			if len(v.Evidence) > 0 {
				ev = v.Evidence[0]
				if len(v.Evidence) > 1 {
					ev += fmt.Sprintf(" (+%d)", len(v.Evidence)-1)
				}
			}
			asset := string(v.AssetID)
			if v.ServerID != "" {
				asset = string(v.ClientID) + " → " + string(v.ServerID)
			}
			tw.row(sev, v.RuleID, asset, ev)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		var parts []string
		for _, s := range []policy.Severity{policy.Critical, policy.High, policy.Medium, policy.Low, policy.Info} {
			if n := rep.BySeverity[s]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", s, n))
			}
		}
		_, err := fmt.Fprintf(w, "%d violations of %d rules over %d assets and %d conversations (%s), %d waived\n",
			len(rep.Violations)-rep.Waived, rep.Rules, rep.Assets, rep.Convs, strings.Join(parts, ", "), rep.Waived)
		return err
	}
	return fmt.Errorf("%q: %w", format, ErrFormat)
}
