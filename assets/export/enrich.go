package export

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"otscope/assets/advisory"
	"otscope/assets/lifecycle"
	"otscope/assets/policy"
	"otscope/model"
)

// Record is an asset with what the offline catalogs say about it: its
// product lifecycle (and its modules') and the advisories that name it. The
// asset's own fields are inlined in JSON.
type Record struct {
	model.Asset
	Lifecycle       *lifecycle.Result        `json:"lifecycle,omitempty"`
	ModuleLifecycle []lifecycle.ModuleResult `json:"module_lifecycle,omitempty"`
	Advisories      []Advisory               `json:"advisories,omitempty"`
	// State is the inventory state (the last transition of StateHistory,
	// from the session's journal); absent when the asset has no history.
	State        string                 `json:"state,omitempty"`
	StateHistory []lifecycle.Transition `json:"state_history,omitempty"`
	// Violations are the policy violations that name the asset (as the
	// client, or as the server of a conversation rule), waived ones
	// included with their waiver.
	Violations []Violation `json:"violations,omitempty"`
}

// Violation is one policy violation of an asset, as exported.
type Violation struct {
	Rule      string    `json:"rule"`
	Title     string    `json:"title"`
	Severity  string    `json:"severity"`
	Evidence  []string  `json:"evidence"`
	FirstSeen time.Time `json:"first_seen,omitzero"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	// Peer is the other end of a conversation rule's violation.
	Peer   model.AssetID  `json:"peer,omitempty"`
	Waived *policy.Waiver `json:"waived,omitempty"`
}

// Advisory is one advisory match, as exported.
type Advisory struct {
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
}

// Enricher holds the offline catalogs used to enrich assets. Either may be
// nil.
type Enricher struct {
	Catalog    *lifecycle.Catalog
	Advisories *advisory.DB
	// States are the assets' inventory-state histories (may be nil).
	States map[model.AssetID]lifecycle.History
	// Audit, when set, is the session's audit: each asset's record lists
	// the violations that name it.
	Audit *policy.Report
}

// Enrich builds the records of a list of assets.
func (e Enricher) Enrich(assets []model.Asset) []Record {
	byAsset := map[model.AssetID][]Violation{}
	if e.Audit != nil {
		for _, v := range e.Audit.Violations {
			ev := Violation{Rule: v.RuleID, Title: v.Title, Severity: v.Severity.String(), Evidence: v.Evidence,
				FirstSeen: v.FirstSeen, LastSeen: v.LastSeen, Waived: v.Waived}
			if ev.Evidence == nil {
				ev.Evidence = []string{}
			}
			mine := ev
			mine.Peer = v.ServerID
			byAsset[v.AssetID] = append(byAsset[v.AssetID], mine)
			if v.ServerID != "" && v.ServerID != v.AssetID {
				theirs := ev
				theirs.Peer = v.AssetID
				byAsset[v.ServerID] = append(byAsset[v.ServerID], theirs)
			}
		}
	}
	out := make([]Record, len(assets))
	for i := range assets {
		r := Record{Asset: assets[i], Violations: byAsset[assets[i].ID]}
		if h := e.States[assets[i].ID]; len(h) > 0 {
			r.State, r.StateHistory = h.Current().String(), h
		}
		if e.Catalog != nil {
			if res, ok := e.Catalog.Match(&assets[i]); ok {
				r.Lifecycle = &res
			}
			r.ModuleLifecycle = e.Catalog.MatchModules(&assets[i])
		}
		if e.Advisories != nil {
			for _, m := range e.Advisories.Match(&assets[i]) {
				r.Advisories = append(r.Advisories, Advisory{
					ID: m.AdvisoryID, Title: m.Title, URL: m.URL, Product: m.ProductName, Versions: m.Versions,
					Module: m.Module, CVEs: m.CVEs, CVSS: m.MaxCVSS, Vector: m.Vector, KEV: m.KEV, KEVCVEs: m.KEVCVEs,
					RequiredAction: m.RequiredAction, Remediation: m.Remediation, Reason: m.Reason,
					Confidence: m.Confidence.String(),
				})
			}
		}
		out[i] = r
	}
	return out
}

// RecordsJSON writes enriched assets as one JSON array (the asset schema
// plus lifecycle, module_lifecycle and advisories).
func RecordsJSON(w io.Writer, recs []Record) error {
	for i := range recs {
		fillLists(&recs[i].Asset)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(recs)
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
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
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
		return enc.Encode(list)
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
		fmt.Fprintf(w, "%d assets, %d with a lifecycle verdict", len(recs), len(rows))
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
			Advisories []Advisory    `json:"advisories"`
		}
		list := []out{}
		for _, r := range recs {
			if len(r.Advisories) > 0 {
				list = append(list, out{ID: r.ID, Advisories: r.Advisories})
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	case "csv":
		cw := newCSV(w)
		cw.Write([]string{"id", "address", "advisory", "title", "product", "module", "cves", "cvss", "kev", "confidence", "reason", "remediation"})
		for _, r := range recs {
			for _, a := range r.Advisories {
				cw.Write([]string{string(r.ID), label(&r.Asset), a.ID, a.Title, a.Product, a.Module, strings.Join(a.CVEs, ";"),
					strconv.FormatFloat(a.CVSS, 'f', 1, 64), strconv.FormatBool(a.KEV), a.Confidence, a.Reason, a.Remediation})
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
				tw.row(label(&r.Asset), a.ID, strconv.FormatFloat(a.CVSS, 'f', 1, 64), kev, strconv.Itoa(len(a.CVEs)), a.Confidence, a.Reason)
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
