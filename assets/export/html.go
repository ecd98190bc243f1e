package export

import (
	"bufio"
	_ "embed"
	"html/template"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"otscope/assets/lifecycle"
	"otscope/model"
	"otscope/model/safe"
)

//go:embed report.html.tmpl
var reportTemplate string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"t":     safe.Text,
	"stamp": stamp,
	"join":  func(sep string, s []string) string { return strings.Join(s, sep) },
	"svc":   func(s model.Service) string { return s.Transport + "/" + strconv.Itoa(int(s.Port)) + " " + s.Protocol },
	"date":  func(d lifecycle.Date) string { return d.String() },
	"cvss":  func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) },
	"dict":  func(k string, v []count) map[string][]count { return map[string][]count{k: v} },
}).Parse(reportTemplate))

func joinStringers[T interface{ String() string }](lst []T) string {
	parts := make([]string, len(lst))
	for i, v := range lst {
		parts[i] = v.String()
	}
	return strings.Join(parts, ", ")
}

// htmlAsset is one asset as the HTML report shows it.
type htmlAsset struct {
	Anchor   string
	Label    string
	IPs      string
	MACs     string
	Phase    string
	Verdict  string
	Location string
	Walkdown *Walkdown
	Conflict []string
	// FactRows are the rows of the facts table, each cell escaped by
	// html/template's own escaper: an asset has dozens of facts, and one
	// action per table instead of nine per fact keeps a 10,000-asset
	// report fast.
	FactRows template.HTML
	*Record
}

// PhaseOf returns a lifecycle result's phase at the report's time.
func (d *htmlData) PhaseOf(e lifecycle.Entry) string { return e.PhaseAt(d.Now).String() }

// count is one line of a summary table.
type count struct {
	Name string
	N    int
}

type htmlScan struct {
	Scan     string
	Records  int
	Targets  int
	Packets  int
	Errors   int
	First    time.Time
	Last     time.Time
	Requests map[string]int
}

type htmlData struct {
	*Report
	Generated     string
	Assets        []htmlAsset
	Vendors       []count
	Roles         []count
	Phases        []count
	Verdicts      []count
	Severities    []count
	Violations    int
	Advisories    int
	Packets       uint64
	Scans         []htmlScan
	ScanRecords   int
	ScanPackets   int
	Conversations int
}

// HTML writes the report as one self-contained HTML file: no external
// requests (a Content-Security-Policy forbids them), readable without
// JavaScript (an optional inline script sorts and filters the asset table).
// It holds the summary counts by vendor, role, lifecycle phase, verdict and
// severity; the asset table, in address order; a section per asset with
// its identity and every fact's provenance, lifecycle, violations with
// their evidence, advisories and walkdown state; the capture statistics and
// the scan log's summary. Every device-controlled string is passed through
// safe.Text and escaped by html/template.
func HTML(w io.Writer, rep *Report) error {
	d := htmlData{Report: rep, Generated: stamp(rep.Now), Conversations: len(rep.Conversations)}
	order := make([]int, len(rep.Records))
	for i := range order {
		order[i] = i
	}
	sortByAddress(rep.Records, order)
	var sb strings.Builder
	vendors, roles, phases, verdicts, sev := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	for n, i := range order {
		r := &rep.Records[i]
		a := htmlAsset{Anchor: "asset-" + strconv.Itoa(n+1), Label: r.Label(), IPs: joinStringers(r.IPs), MACs: joinStringers(r.MACs),
			Phase: r.Phase(rep.Now), Verdict: r.Verdict(rep.Audited), Walkdown: rep.walkdown(r.ID), Conflict: r.Conflicts(), Record: r}
		a.Location = Location(&r.Asset, a.Walkdown)
		a.FactRows = factRows(&sb, r.Facts)
		d.Assets = append(d.Assets, a)
		vendors[orNone(r.Vendor)]++
		if len(r.Roles) == 0 {
			roles["(none)"]++
		}
		for _, role := range r.Roles {
			roles[role]++
		}
		phases[orNone(a.Phase)]++
		if rep.Audited {
			verdicts[a.Verdict]++
		}
		for _, v := range r.Violations {
			if v.Waived == nil {
				sev[v.Severity.String()]++
			}
			d.Violations++
		}
		d.Advisories += len(r.Advisories)
	}
	d.Vendors, d.Roles, d.Phases, d.Verdicts, d.Severities = counts(vendors), counts(roles), counts(phases), counts(verdicts), counts(sev)
	for _, s := range rep.Stats {
		d.Packets += s.Packets
	}
	d.Scans, d.ScanRecords, d.ScanPackets = scanSummary(rep.ScanLog)
	bw := bufio.NewWriterSize(w, 1<<16)
	if err := htmlTemplate.Execute(bw, &d); err != nil {
		return err
	}
	return bw.Flush()
}

// factRows renders the facts table's rows: field, value (and detail), how
// it was learnt, protocol, origin, frame, first and last seen, count. Every
// device string goes through safe.Text and template.HTMLEscapeString.
func factRows(sb *strings.Builder, facts []model.Fact) template.HTML {
	sb.Reset()
	cell := func(s string) {
		sb.WriteString("<td>")
		sb.WriteString(template.HTMLEscapeString(safe.Text(s)))
		sb.WriteString("</td>")
	}
	for i := range facts {
		f := &facts[i]
		sb.WriteString("<tr>")
		cell(f.Field)
		sb.WriteString("<td>")
		sb.WriteString(template.HTMLEscapeString(safe.Text(f.Value)))
		if f.Detail != "" {
			sb.WriteString(` <span class="muted">(`)
			sb.WriteString(template.HTMLEscapeString(safe.Text(f.Detail)))
			sb.WriteString(")</span>")
		}
		sb.WriteString("</td>")
		cell(f.Source.Kind.String())
		cell(f.Source.Protocol)
		cell(f.Source.Origin)
		sb.WriteString(`<td class="num">`)
		if f.Source.Frame != 0 {
			sb.WriteString(strconv.FormatUint(f.Source.Frame, 10))
		}
		sb.WriteString("</td>")
		cell(stamp(f.Source.Time))
		cell(stamp(f.LastSeen))
		sb.WriteString(`<td class="num">`)
		sb.WriteString(strconv.FormatUint(f.Count, 10))
		sb.WriteString("</td></tr>\n")
	}
	return template.HTML(sb.String())
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// counts sorts a tally by count (most first), then by name.
func counts(m map[string]int) []count {
	out := make([]count, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, count{Name: k, N: m[k]})
	}
	slices.SortStableFunc(out, func(a, b count) int { return b.N - a.N })
	return out
}

// scanSummary sums the scan log per scan run.
func scanSummary(log []model.ScanRecord) (scans []htmlScan, records, packets int) {
	idx := map[string]int{}
	targets := map[string]map[string]bool{}
	for _, r := range log {
		i, ok := idx[r.Scan]
		if !ok {
			i = len(scans)
			idx[r.Scan] = i
			scans = append(scans, htmlScan{Scan: r.Scan, First: r.Time, Last: r.Time, Requests: map[string]int{}})
			targets[r.Scan] = map[string]bool{}
		}
		s := &scans[i]
		s.Records++
		s.Packets += r.Packets
		if r.Error != "" {
			s.Errors++
		}
		if r.Time.Before(s.First) {
			s.First = r.Time
		}
		if r.Time.After(s.Last) {
			s.Last = r.Time
		}
		s.Requests[r.Kind]++
		targets[r.Scan][r.Target.String()] = true
		records++
		packets += r.Packets
	}
	for i := range scans {
		scans[i].Targets = len(targets[scans[i].Scan])
	}
	return scans, records, packets
}
