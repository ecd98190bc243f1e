package probe

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"otscope/model/safe"
)

// The probe registry: each probe file registers its probe in init.
var (
	regMu    sync.RWMutex
	registry = map[string]Probe{}
)

// Register adds p under p.Name(). Call from init; a duplicate panics.
func Register(p Probe) {
	regMu.Lock()
	defer regMu.Unlock()
	name := p.Name()
	if name == "" {
		panic("probe: a probe without a name")
	}
	if _, dup := registry[name]; dup {
		panic("probe: two probes named " + name)
	}
	registry[name] = p
}

// Probes returns every registered probe, by name.
func Probes() []Probe {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Probe, 0, len(registry))
	for _, p := range registry {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Probe) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// Lookup returns the named probes in the order given (duplicates once); no
// names means every probe. An unknown name is an error that lists the
// known ones.
func Lookup(names []string) ([]Probe, error) {
	if len(names) == 0 {
		return Probes(), nil
	}
	regMu.RLock()
	defer regMu.RUnlock()
	var out []Probe
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" || seen[n] {
			continue
		}
		p, ok := registry[n]
		if !ok {
			known := make([]string, 0, len(registry))
			for k := range registry {
				known = append(known, k)
			}
			slices.Sort(known)
			return nil, fmt.Errorf("unknown probe %q (known: %s)", n, strings.Join(known, ", "))
		}
		seen[n] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no probe named")
	}
	return out, nil
}

// TargetPlan is what the scan would send to one target.
type TargetPlan struct {
	Target  Target
	Probes  []Planned
	Packets int
}

// Requests counts the planned requests (steps other than connect/close).
func (tp *TargetPlan) Requests() int {
	n := 0
	for i := range tp.Probes {
		n += requests(&tp.Probes[i])
	}
	return n
}

func requests(p *Planned) int {
	n := 0
	for _, s := range p.Steps {
		if s.Kind != KindTCPConnect && s.Kind != KindTCPClose {
			n++
		}
	}
	return n
}

// Plan is what a scan would send, before anything is sent.
type Plan struct {
	// Targets are those with something to ask, in scope order.
	Targets []TargetPlan
	// Nothing counts the targets no probe applies to.
	Nothing int
	// Probes counts planned probes; Packets bounds the packets.
	Probes, Packets int
	// Duration estimates the scan from the caps (answer waits not counted).
	Duration time.Duration
	Budget   BudgetOptions

	probes map[string]Probe
}

// BuildPlan asks each probe what it would send to each target.
func BuildPlan(targets []Target, probes []Probe, o *PlanOptions, b BudgetOptions) *Plan {
	if o == nil {
		o = &PlanOptions{}
	}
	oc := *o
	oc.planned = map[string]bool{}
	o = &oc
	b = b.withDefaults()
	p := &Plan{Budget: b, probes: map[string]Probe{}}
	maxHost := 0
	for _, t := range targets {
		tp := TargetPlan{Target: t}
		for _, pr := range probes {
			pl, ok := pr.Plan(&tp.Target, o)
			if !ok {
				continue
			}
			if pl.Probe == "" {
				pl.Probe = pr.Name()
			}
			p.probes[pl.Probe] = pr
			tp.Probes = append(tp.Probes, pl)
			tp.Packets += pl.Packets()
		}
		if len(tp.Probes) == 0 {
			p.Nothing++
			continue
		}
		p.Probes += len(tp.Probes)
		p.Packets += tp.Packets
		maxHost = max(maxHost, tp.Packets)
		p.Targets = append(p.Targets, tp)
	}
	// The per-host cap bounds each target; InFlight targets share the
	// global cap.
	rate := min(float64(b.Rate-b.globalHeadroom()), float64(b.InFlight*b.MaxReserve()))
	secs := math.Max(float64(p.Packets)/rate, float64(maxHost)/float64(b.MaxReserve()))
	p.Duration = time.Duration(secs * float64(time.Second)).Round(time.Second)
	return p
}

// Write prints the plan as a table that fits 80 columns and a summary.
func (p *Plan) Write(w io.Writer) error {
	var sb strings.Builder
	if len(p.Targets) > 0 {
		fmt.Fprintf(&sb, "%-15s %-14s %-7s %5s %3s %4s %s\n", "TARGET", "ASSET", "PROBE", "PORT", "REQ", "PKTS", "WHY")
	}
	for i := range p.Targets {
		tp := &p.Targets[i]
		for j := range tp.Probes {
			pl := &tp.Probes[j]
			addr, asset := "", ""
			if j == 0 {
				addr, asset = tp.Target.Addr.String(), assetLabel(&tp.Target)
			}
			port := "-"
			if pl.Port != 0 {
				port = fmt.Sprint(pl.Port)
			}
			// WHY is wrapped under its column, never cut: it is the change
			// record's reason
			why := wrapWords(pl.why(), 80-54)
			fmt.Fprintf(&sb, "%-15s %-14s %-7s %5s %3d %4d %s\n", clip(addr, 15), clip(asset, 14), clip(pl.Probe, 7),
				port, requests(pl), pl.Packets(), why[0])
			for _, w := range why[1:] {
				fmt.Fprintf(&sb, "%54s%s\n", "", w)
			}
		}
	}
	if p.Nothing > 0 {
		fmt.Fprintf(&sb, "%s: nothing to ask\n", plural(p.Nothing, "target"))
	}
	// Duration is the packets at the caps: an upper bound on the sending,
	// not on the scan (answers and timeouts take their time; absent
	// devices are skipped after one ARP)
	fmt.Fprintf(&sb, "%s, %s: at most %d packets\n", plural(len(p.Targets), "target"), plural(p.Probes, "probe"), p.Packets)
	fmt.Fprintf(&sb, "sending them takes up to %s at %d pps, %d per host (answers add to it)\n",
		fmtDuration(p.Duration), p.Budget.Rate, p.Budget.PerHost)
	_, err := io.WriteString(w, sb.String())
	return err
}

// why is the planned probe's reason as the plan shows it.
func (p *Planned) why() string {
	if p.IfOpen {
		return "if open; " + p.Why
	}
	return p.Why
}

// PlanRow is one planned probe of a plan, as WriteJSON and WriteCSV give
// it for a change record.
type PlanRow struct {
	Target    string `json:"target"`
	Asset     string `json:"asset"`
	Probe     string `json:"probe"`
	Transport string `json:"transport"`
	Port      uint16 `json:"port,omitempty"`
	IfOpen    bool   `json:"if_open"`
	Requests  int    `json:"requests"`
	Packets   int    `json:"packets"`
	Why       string `json:"why"`
}

// Rows lists the planned probes, target by target.
func (p *Plan) Rows() []PlanRow {
	var out []PlanRow
	for i := range p.Targets {
		tp := &p.Targets[i]
		for j := range tp.Probes {
			pl := &tp.Probes[j]
			out = append(out, PlanRow{Target: tp.Target.Addr.String(), Asset: assetLabel(&tp.Target), Probe: pl.Probe,
				Transport: pl.Transport.String(), Port: pl.Port, IfOpen: pl.IfOpen, Requests: requests(pl), Packets: pl.Packets(), Why: pl.Why})
		}
	}
	return out
}

// WriteJSON writes the plan as one JSON object: the planned probes and the
// totals.
func (p *Plan) WriteJSON(w io.Writer) error {
	rows := p.Rows()
	if rows == nil {
		rows = []PlanRow{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Probes       []PlanRow `json:"probes"`
		Targets      int       `json:"targets"`
		NothingToAsk int       `json:"targets_nothing_to_ask"`
		Packets      int       `json:"max_packets"`
		Seconds      float64   `json:"max_send_seconds"`
		Rate         int       `json:"rate_pps"`
		PerHost      int       `json:"per_host_pps"`
	}{rows, len(p.Targets), p.Nothing, p.Packets, p.Duration.Seconds(), p.Budget.Rate, p.Budget.PerHost})
}

// WriteCSV writes the planned probes as CSV with a header row; text a
// device controls is escaped for spreadsheets.
func (p *Plan) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"target", "asset", "probe", "transport", "port", "if_open", "requests", "packets", "why"})
	for _, r := range p.Rows() {
		port := ""
		if r.Port != 0 {
			port = strconv.Itoa(int(r.Port))
		}
		_ = cw.Write([]string{r.Target, safe.CSV(r.Asset), r.Probe, r.Transport, port, strconv.FormatBool(r.IfOpen),
			strconv.Itoa(r.Requests), strconv.Itoa(r.Packets), safe.CSV(r.Why)})
	}
	cw.Flush()
	return cw.Error()
}

// wrapWords breaks s into lines of at most n runes at spaces (a longer
// word is split); always at least one line.
func wrapWords(s string, n int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		for utf8.RuneCountInString(w) > n {
			if line != "" {
				out, line = append(out, line), ""
			}
			r := []rune(w)
			out, w = append(out, string(r[:n])), string(r[n:])
		}
		switch {
		case line == "":
			line = w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= n:
			line += " " + w
		default:
			out, line = append(out, line), w
		}
	}
	if line != "" || len(out) == 0 {
		out = append(out, line)
	}
	return out
}

// assetLabel is the vendor and product of a target's asset, or its name,
// made safe for a terminal (the device chose them).
func assetLabel(t *Target) string {
	a := t.Asset
	if a == nil {
		return "-"
	}
	parts := []string{}
	if a.Vendor != "" {
		parts = append(parts, a.Vendor)
	}
	if a.Product != "" {
		parts = append(parts, a.Product)
	} else if len(a.Names) > 0 {
		parts = append(parts, a.Names[0])
	}
	if len(parts) == 0 {
		return "-"
	}
	return safe.Text(strings.Join(parts, " "))
}

// clip cuts s to n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "1s"
	case d < time.Minute:
		return d.Round(time.Second).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// plural returns "1 target" or "3 targets".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// AssetLabel is the vendor and product of the target's asset, or its name
// ("-" when the session knows nothing of it): the ASSET column of a plan.
func (t *Target) AssetLabel() string { return assetLabel(t) }

// Requests counts the planned requests (steps other than connect/close).
func (p *Planned) Requests() int { return requests(p) }
