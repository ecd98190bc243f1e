package export

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"otscope/assets/advisory"
	"otscope/assets/internal/par"
	"otscope/assets/lifecycle"
	"otscope/assets/policy"
	"otscope/assets/review"
	"otscope/model"
)

// Record is an asset with what the session's analysis (review.Analysis,
// the one the TUI renders) says of it: its product lifecycle (and its
// modules'), the advisories that name it, its inventory-state history and
// the policy violations that name it (as the client, or as the server of a
// conversation rule), waived ones included with their waiver. JSON inlines
// the asset's own fields (docs/schema.md).
type Record struct {
	model.Asset
	Lifecycle       *lifecycle.Result
	ModuleLifecycle []lifecycle.ModuleResult
	Advisories      []advisory.Match
	StateHistory    lifecycle.History
	Violations      []policy.Violation
	// Walkdown is where a person placed the asset, its walkdown verdict
	// and the documented row it matched (nil: no walkdown).
	Walkdown *model.Walkdown
}

// Records pairs each asset with what an says of it; an may be nil.
func Records(assets []model.Asset, an *review.Analysis) []Record {
	out := make([]Record, len(assets))
	for i := range assets {
		r := Record{Asset: assets[i]}
		if an != nil {
			id := assets[i].ID
			r.Lifecycle, r.ModuleLifecycle, r.Advisories, r.StateHistory = an.Lifecycle[id], an.Modules[id], an.Advisories[id], an.States[id]
			for _, k := range an.ByAsset[id] {
				r.Violations = append(r.Violations, an.Report.Violations[k])
			}
			if w, ok := an.Walkdown[id]; ok {
				r.Walkdown = &w
			}
		}
		out[i] = r
	}
	return out
}

// State is the asset's inventory state: the last transition of its
// history, "" when it has none.
func (r *Record) State() string {
	if len(r.StateHistory) == 0 {
		return ""
	}
	return r.StateHistory.Current().String()
}

// MarshalJSON writes the asset's fields and then lifecycle,
// module_lifecycle, advisories, state, state_history, violations and the
// walkdown's location, verdict and documented.
func (r Record) MarshalJSON() ([]byte, error) {
	a := r.Asset
	fillLists(&a)
	ab, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	ext := struct {
		Lifecycle       *lifecycle.Result        `json:"lifecycle,omitempty"`
		ModuleLifecycle []lifecycle.ModuleResult `json:"module_lifecycle,omitempty"`
		Advisories      []any                    `json:"advisories,omitempty"`
		State           string                   `json:"state,omitempty"`
		StateHistory    []lifecycle.Transition   `json:"state_history,omitempty"`
		Violations      []any                    `json:"violations,omitempty"`
		model.Walkdown
	}{Lifecycle: r.Lifecycle, ModuleLifecycle: r.ModuleLifecycle, StateHistory: r.StateHistory}
	if r.Walkdown != nil {
		ext.Walkdown = *r.Walkdown
	}
	ext.State = r.State()
	for i := range r.Advisories {
		ext.Advisories = append(ext.Advisories, advisoryJSON(&r.Advisories[i]))
	}
	for i := range r.Violations {
		ext.Violations = append(ext.Violations, assetViolationJSON(r.ID, &r.Violations[i]))
	}
	eb, err := json.Marshal(ext)
	if err != nil || len(eb) <= 2 || len(ab) < 2 {
		return ab, err
	}
	return append(append(ab[:len(ab)-1:len(ab)-1], ','), eb[1:]...), nil
}

// advisoryJSON is an advisory match in the export schema (docs/schema.md).
func advisoryJSON(m *advisory.Match) any {
	return struct {
		ID             string   `json:"id"`
		Title          string   `json:"title"`
		URL            string   `json:"url,omitempty"`
		Product        string   `json:"product"`
		Versions       string   `json:"versions,omitempty"`
		Module         string   `json:"module,omitempty"`
		CVEs           []string `json:"cves"`
		CVSS           float64  `json:"cvss"`
		Vector         string   `json:"cvss_vector,omitempty"`
		KEV            bool     `json:"kev"`
		KEVCVEs        []string `json:"kev_cves,omitempty"`
		RequiredAction string   `json:"kev_required_action,omitempty"`
		Remediation    string   `json:"remediation,omitempty"`
		Reason         string   `json:"reason"`
		Confidence     string   `json:"confidence"`
	}{m.AdvisoryID, m.Title, m.URL, m.ProductName, m.Versions, m.Module, m.CVEs, m.MaxCVSS, m.Vector, m.KEV, m.KEVCVEs,
		m.RequiredAction, m.Remediation, m.Reason, m.Confidence.String()}
}

// assetViolationJSON is a violation as the asset id sees it in the
// export schema: peer is the other end of a conversation rule's violation.
func assetViolationJSON(id model.AssetID, v *policy.Violation) any {
	peer := v.ServerID
	if v.AssetID != id {
		peer = v.AssetID
	}
	ev := v.Evidence
	if ev == nil {
		ev = []string{}
	}
	return struct {
		Rule      string          `json:"rule"`
		Title     string          `json:"title"`
		Severity  policy.Severity `json:"severity"`
		Evidence  []string        `json:"evidence"`
		FirstSeen time.Time       `json:"first_seen,omitzero"`
		LastSeen  time.Time       `json:"last_seen,omitzero"`
		Peer      model.AssetID   `json:"peer,omitempty"`
		Waived    *policy.Waiver  `json:"waived,omitempty"`
	}{v.RuleID, v.Title, v.Severity, ev, v.FirstSeen, v.LastSeen, peer, v.Waived}
}

// RecordsJSON writes enriched assets as one JSON array.
//
// The bytes are those of encoding the slice whole with two-space indent.
// Records are encoded a window at a time, the window's chunks on all
// cores, and written in order: a 10,000-asset session's 24 MB document
// never sits in memory whole. Record.MarshalJSON's output is valid and
// HTML-escaped already, so it is indented once rather than compacted again
// by an Encoder.
func RecordsJSON(w io.Writer, recs []Record) error {
	if len(recs) == 0 {
		_, err := io.WriteString(w, "[]\n")
		return err
	}
	const chunk = 64
	bufs := make([]bytes.Buffer, par.Slots(len(recs), chunk))
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("[\n")
	err := par.Windows(len(recs), chunk, func(slot, lo, hi int) error {
		return indentRecords(&bufs[slot], recs[lo:hi], hi == len(recs))
	}, func(slot, _, _ int) error {
		_, err := bw.Write(bufs[slot].Bytes())
		return err
	})
	if err != nil {
		return err
	}
	bw.WriteString("]\n")
	return bw.Flush()
}

// indentRecords writes recs to buf as array elements, each followed by a
// comma unless last holds the array's final record.
func indentRecords(buf *bytes.Buffer, recs []Record, last bool) error {
	buf.Reset()
	for i := range recs {
		b, err := recs[i].MarshalJSON()
		if err != nil {
			return err
		}
		buf.WriteString("  ")
		if err := json.Indent(buf, b, "  ", "  "); err != nil {
			return err
		}
		if last && i == len(recs)-1 {
			buf.WriteString("\n")
		} else {
			buf.WriteString(",\n")
		}
	}
	return nil
}

// Lifecycle writes the lifecycle view of assets: one row per asset (and per
// module with a verdict of its own), with phase, vendor term, dates, rule and
// source, in the named format.
func Lifecycle(w io.Writer, format string, recs []Record, now time.Time) error {
	type row struct {
		asset, addr, product, module, phase, term, eos, eosale, successor, rule, source, asOf string
	}
	var rows []row
	for _, r := range recs {
		addr := label(&r.Asset)
		add := func(module string, res *lifecycle.Result) {
			rows = append(rows, row{
				asset: string(r.ID), addr: addr, product: firstNonEmpty(r.Product, r.OrderNumber, strings.Join(r.Names, ",")),
				module: module, phase: res.PhaseAt(now).String(), term: res.VendorTerm, eos: res.EndOfSupport.String(),
				eosale: res.EndOfSale.String(), successor: res.Successor, rule: res.Rule, source: res.Source,
				asOf: res.AsOf.String(),
			})
		}
		if r.Lifecycle != nil {
			add("", r.Lifecycle)
		}
		for i := range r.ModuleLifecycle {
			m := r.ModuleLifecycle[i].Module
			add(fmt.Sprintf("%d/%d %s", m.Rack, m.Slot, firstNonEmpty(m.Product, m.OrderNumber)), &r.ModuleLifecycle[i].Result)
		}
	}
	switch format {
	case "json":
		type out struct {
			ID        model.AssetID            `json:"id"`
			Lifecycle *lifecycle.Result        `json:"lifecycle"`
			Modules   []lifecycle.ModuleResult `json:"module_lifecycle,omitempty"`
		}
		var list []out
		for _, r := range recs {
			if r.Lifecycle != nil || len(r.ModuleLifecycle) > 0 {
				list = append(list, out{ID: r.ID, Lifecycle: r.Lifecycle, Modules: r.ModuleLifecycle})
			}
		}
		if list == nil {
			list = []out{}
		}
		return writeJSON(w, list)
	case "csv":
		cw := newCSV(w)
		cw.Write([]string{"id", "address", "product", "module", "phase", "vendor_term", "end_of_sale", "end_of_support", "successor", "rule", "source", "as_of"})
		for _, x := range rows {
			cw.Write([]string{x.asset, x.addr, x.product, x.module, x.phase, x.term, x.eosale, x.eos, x.successor, x.rule, x.source, x.asOf})
		}
		cw.Flush()
		return cw.Error()
	case "table":
		counts := map[string]int{}
		for _, x := range rows {
			counts[x.phase]++
		}
		// assets and modules are counted apart: a chassis with two rated
		// modules is one asset, and three verdicts
		rated, modules := 0, 0
		for i := range recs {
			if recs[i].Lifecycle != nil || len(recs[i].ModuleLifecycle) > 0 {
				rated++
			}
			modules += len(recs[i].ModuleLifecycle)
		}
		fmt.Fprintf(w, "%d assets, %d with a lifecycle verdict", len(recs), rated)
		if modules > 0 {
			fmt.Fprintf(w, " (+%d modules)", modules)
		}
		for _, p := range []lifecycle.Phase{lifecycle.Discontinued, lifecycle.EndOfLife, lifecycle.Mature, lifecycle.Active} {
			if n := counts[p.String()]; n > 0 {
				fmt.Fprintf(w, " · %s %d", p, n)
			}
		}
		fmt.Fprintln(w)
		tw := newTable(w, 2)
		tw.row("ADDRESS", "PRODUCT", "MODULE", "PHASE", "VENDOR TERM", "END OF SUPPORT", "RULE")
		for _, x := range rows {
			tw.row(x.addr, dash(x.product), dash(x.module), x.phase, dash(x.term), dash(x.eos), x.rule)
		}
		return tw.Flush()
	}
	return fmt.Errorf("%q: %w", format, ErrFormat)
}

// Advisories writes the advisory matches of assets in the named format.
func Advisories(w io.Writer, format string, recs []Record) error {
	switch format {
	case "json":
		type out struct {
			ID         model.AssetID `json:"id"`
			Advisories []any         `json:"advisories"`
		}
		list := []out{}
		for _, r := range recs {
			if len(r.Advisories) > 0 {
				o := out{ID: r.ID}
				for i := range r.Advisories {
					o.Advisories = append(o.Advisories, advisoryJSON(&r.Advisories[i]))
				}
				list = append(list, o)
			}
		}
		return writeJSON(w, list)
	case "csv":
		cw := newCSV(w)
		cw.Write([]string{"id", "address", "advisory", "title", "product", "module", "cves", "cvss", "kev", "confidence", "reason", "remediation"})
		for _, r := range recs {
			for _, a := range r.Advisories {
				cw.Write([]string{string(r.ID), label(&r.Asset), a.AdvisoryID, a.Title, a.ProductName, a.Module, strings.Join(a.CVEs, ";"),
					strconv.FormatFloat(a.MaxCVSS, 'f', 1, 64), strconv.FormatBool(a.KEV), a.Confidence.String(), a.Reason, a.Remediation})
			}
		}
		cw.Flush()
		return cw.Error()
	case "table":
		tw := newTable(w, 2)
		tw.row("ADDRESS", "ADVISORY", "CVSS", "KEV", "CVES", "CONFIDENCE", "REASON")
		n := 0
		for _, r := range recs {
			for _, a := range r.Advisories {
				n++
				kev := "-"
				if a.KEV {
					kev = "KEV"
				}
				tw.row(label(&r.Asset), a.AdvisoryID, strconv.FormatFloat(a.MaxCVSS, 'f', 1, 64), kev, strconv.Itoa(len(a.CVEs)), a.Confidence.String(), a.Reason)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		_, err := fmt.Fprintf(w, "%d advisory matches\n", n)
		return err
	}
	return fmt.Errorf("%q: %w", format, ErrFormat)
}

func label(a *model.Asset) string {
	if len(a.IPs) > 0 {
		return a.IPs[0].String()
	}
	if len(a.MACs) > 0 {
		return a.MACs[0].String()
	}
	// a device behind a protocol router: its router's address and its
	// own on the routed network, "10.10.50.10|net5:4" (not the ID's
	// "sub:10.10.50.10|bacnet-net5:4")
	if rest, ok := strings.CutPrefix(string(a.ID), "sub:"); ok {
		return strings.Replace(rest, "|bacnet-", "|", 1)
	}
	return string(a.ID)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
