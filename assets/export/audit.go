package export

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"otscope/assets/policy"
	"otscope/model"
)

// violationJSON is one violation as exported: its own JSON form, with its
// evidence lines tidied, and the asset in words.
type violationJSON struct {
	policy.Violation
	// Address and Name say which asset in words (its first IP or MAC, its
	// name); for a conversation, the client's and the server's.
	Address string `json:"address,omitempty"`
	Name    string `json:"name,omitempty"`
}

// Audit writes an audit report: every violation with its rule, severity,
// asset and evidence, in the named format; the table ends with counts per
// severity. Assets are named by address and name from assets (the audited
// ones; an asset not among them is named by its ID).
func Audit(w io.Writer, format string, rep policy.Report, assets []model.Asset) error {
	byID := make(map[model.AssetID]*model.Asset, len(assets))
	for i := range assets {
		byID[assets[i].ID] = &assets[i]
	}
	addr := func(id model.AssetID) string {
		if a := byID[id]; a != nil {
			return label(a)
		}
		return string(id)
	}
	name := func(id model.AssetID) string {
		if a := byID[id]; a != nil {
			return assetName(a)
		}
		return ""
	}
	// ref is "address name" for the table, the name cut to fit
	ref := func(id model.AssetID) string {
		if n := name(id); n != "" {
			return addr(id) + " " + clip(n, 20)
		}
		return addr(id)
	}
	subject := func(v *policy.Violation) (string, string) {
		if v.ServerID != "" {
			return addr(v.ClientID) + " → " + addr(v.ServerID), strings.TrimSpace(name(v.ClientID) + " → " + name(v.ServerID))
		}
		return addr(v.AssetID), name(v.AssetID)
	}
	switch format {
	case "json":
		out := struct {
			Assets     int             `json:"assets"`
			Rules      int             `json:"rules"`
			Violations []violationJSON `json:"violations"`
			Waived     int             `json:"waived"`
		}{Assets: rep.Assets, Rules: rep.Rules, Violations: []violationJSON{}, Waived: rep.Waived}
		for i := range rep.Violations {
			v := &rep.Violations[i]
			ev := evidenceLines(v.Evidence)
			a, n := subject(v)
			if n == "→" {
				n = ""
			}
			vj := violationJSON{Violation: *v, Address: a, Name: n}
			vj.Evidence = ev
			out.Violations = append(out.Violations, vj)
		}
		return writeJSON(w, out)
	case "csv":
		cw := newCSV(w)
		// address and name come last, so that scripts reading the
		// columns by position keep working
		cw.Write([]string{"severity", "rule", "title", "asset", "client", "server", "evidence", "first_seen", "last_seen", "waived", "address", "name"})
		for i := range rep.Violations {
			v := &rep.Violations[i]
			a, n := subject(v)
			if n == "→" {
				n = ""
			}
			cw.Write([]string{v.Severity.String(), v.RuleID, v.Title, string(v.AssetID), string(v.ClientID), string(v.ServerID),
				strings.Join(evidenceLines(v.Evidence), " | "), stamp(v.FirstSeen), stamp(v.LastSeen), fmt.Sprint(v.Waived != nil), a, n})
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
			if lines := evidenceLines(v.Evidence); len(lines) > 0 {
				ev = lines[0]
				if len(lines) > 1 {
					ev += fmt.Sprintf(" (+%d)", len(lines)-1)
				}
			}
			asset := ref(v.AssetID)
			if v.ServerID != "" {
				asset = ref(v.ClientID) + " → " + ref(v.ServerID)
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
		breakdown := ""
		if len(parts) > 0 {
			breakdown = " (" + strings.Join(parts, ", ") + ")"
		}
		_, err := fmt.Fprintf(w, "%d violations of %d rules over %d assets and %d conversations%s, %d waived\n",
			len(rep.Violations)-rep.Waived, rep.Rules, rep.Assets, rep.Convs, breakdown, rep.Waived)
		return err
	}
	return fmt.Errorf("%q: %w", format, ErrFormat)
}

// assetName is the name an asset goes by: its first name, else its
// PROFINET station name, else its BACnet device instance ("" when it has
// none of these).
func assetName(a *model.Asset) string {
	switch {
	case len(a.Names) > 0:
		return a.Names[0]
	case a.ProtocolIDs != nil && a.ProfinetStationName != "":
		return a.ProfinetStationName
	case a.ProtocolIDs != nil && a.BACnetInstance != "":
		return "bacnet:" + a.BACnetInstance
	}
	return ""
}

// clip cuts s to at most n runes, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// emptyLabel is an identity field's label whose value a rule's evidence
// left empty: "firmware : lifecycle …" (the word, a space, the colon).
var emptyLabel = regexp.MustCompile(`(^|\s)(product|order(?:_number| number)?|firmware|hardware(?:_version)?|serial)\s+:`)

// evidenceLines tidies a violation's evidence for people: runs of spaces
// that empty fields leave become one, a label whose value is empty is
// dropped with it, and empty lines go. A nil list stays an empty one.
func evidenceLines(ev []string) []string {
	out := make([]string, 0, len(ev))
	for _, line := range ev {
		line = strings.Join(strings.Fields(line), " ")
		for {
			next := emptyLabel.ReplaceAllString(line, ":")
			if next == line {
				break
			}
			line = next
		}
		line = strings.TrimSpace(strings.TrimPrefix(line, ":"))
		if line != "" {
			out = append(out, line)
		}
	}
	return out
}
