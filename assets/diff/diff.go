// Package diff compares two sessions (two visits to a plant, or two jump
// hosts): assets that are new or vanished, identity that changed (firmware,
// order number, serial, name, IP, MAC: a device moved, a module swapped),
// services and conversations that appeared or went away (a new peer talking
// to a PLC), and changes of lifecycle phase, audit verdict, inventory state
// and violations. The Result is typed, for the TUI's "what changed since
// the last visit" view, and writes as a table, JSON or CSV.
package diff

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"otscope/assets/bundle"
	"otscope/assets/export"
	"otscope/model"
)

// Kind is what happened to a subject between the two sessions.
type Kind string

// The kinds of change.
const (
	New      Kind = "new"
	Vanished Kind = "vanished"
	Changed  Kind = "changed"
)

// Subject is what changed.
type Subject string

// The subjects of changes.
const (
	Asset        Subject = "asset"
	Service      Subject = "service"
	Conversation Subject = "conversation"
)

// Fields of an asset whose change is reported: its identity fields (the
// model's names) and its names, addresses, phase, verdict, state and
// violations.
const (
	FieldFirmware        = model.FieldFirmware
	FieldOrderNumber     = model.FieldOrderNumber
	FieldSerial          = model.FieldSerial
	FieldProduct         = model.FieldProduct
	FieldHardwareVersion = model.FieldHardwareVersion
	FieldName            = "name"
	FieldIP              = "ip"
	FieldMAC             = "mac"
	FieldPhase           = "lifecycle_phase"
	FieldVerdict         = "verdict"
	FieldState           = "state"
	FieldViolation       = "violation"
)

// Change is one difference. For a changed field Old and New hold its values
// in the first and second session; for a new or vanished service or
// conversation, Detail names it; for a violation change, Old or New is the
// rule that went away or came.
type Change struct {
	Kind    Kind          `json:"kind"`
	Subject Subject       `json:"subject"`
	Asset   model.AssetID `json:"asset"`
	// Label is a human name for the asset (name, else address).
	Label  string `json:"label"`
	Field  string `json:"field,omitempty"`
	Old    string `json:"old,omitempty"`
	New    string `json:"new,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Result is the difference between session From and session To.
type Result struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Changes []Change `json:"changes"`
	// Counts are the number of changes by kind.
	Counts map[Kind]int `json:"counts"`
	// Unchanged is the number of assets present in both with no change.
	Unchanged int `json:"unchanged"`
}

// Status is what the analysis says about an asset, for comparing phases,
// verdicts, states and violations. Callers build it from their analysis
// (StatusFromRecords does it from export records); nil maps compare
// nothing.
type Status struct {
	Phase      string
	Verdict    string
	State      string
	Violations []string // rule IDs, unwaived
}

// Options configure Sessions.
type Options struct {
	// Before and After are the assets' statuses in From and To (may be nil).
	Before, After map[model.AssetID]Status
}

// StatusFromRecords returns the statuses of enriched records for a report
// at the report's time and audit (see export.Record).
func StatusFromRecords(rep *export.Report) map[model.AssetID]Status {
	out := make(map[model.AssetID]Status, len(rep.Records))
	for i := range rep.Records {
		r := &rep.Records[i]
		st := Status{Phase: r.Phase(rep.Now), Verdict: r.Verdict(rep.Audited), State: r.State()}
		for _, v := range r.Violations {
			if v.Waived == nil && !slices.Contains(st.Violations, v.RuleID) {
				st.Violations = append(st.Violations, v.RuleID)
			}
		}
		slices.Sort(st.Violations)
		out[r.ID] = st
	}
	return out
}

// Sessions compares from with to. Assets are matched by ID, then by a
// shared MAC (the device moved to another IP), then by a shared IP (a new
// MAC on the same address: a module or device swapped).
func Sessions(from, to *bundle.Session, o Options) Result {
	res := Result{From: from.Name, To: to.Name, Counts: map[Kind]int{}}
	bIdx := make(map[model.AssetID]int, len(to.Assets))
	for i := range to.Assets {
		bIdx[to.Assets[i].ID] = i
	}
	pairOf := make([]int, len(from.Assets)) // index into to.Assets, or -1
	taken := make([]bool, len(to.Assets))
	for i := range from.Assets {
		pairOf[i] = -1
		if j, ok := bIdx[from.Assets[i].ID]; ok {
			pairOf[i], taken[j] = j, true
		}
	}
	// Second and third passes: by MAC, then by IP, among the unmatched.
	for pass := 0; pass < 2; pass++ {
		byAddr := map[string]int{}
		for j := range to.Assets {
			if taken[j] {
				continue
			}
			for _, k := range addrKeys(&to.Assets[j], pass) {
				if _, dup := byAddr[k]; !dup {
					byAddr[k] = j
				}
			}
		}
		for i := range from.Assets {
			if pairOf[i] >= 0 {
				continue
			}
			for _, k := range addrKeys(&from.Assets[i], pass) {
				if j, ok := byAddr[k]; ok && !taken[j] {
					pairOf[i], taken[j] = j, true
					break
				}
			}
		}
	}
	for i := range from.Assets {
		a := &from.Assets[i]
		if pairOf[i] < 0 {
			res.add(Change{Kind: Vanished, Subject: Asset, Asset: a.ID, Label: label(a), Detail: describe(a)})
			continue
		}
		b := &to.Assets[pairOf[i]]
		n := len(res.Changes)
		compareAssets(&res, a, b, o)
		if len(res.Changes) == n {
			res.Unchanged++
		}
	}
	for j := range to.Assets {
		if !taken[j] {
			b := &to.Assets[j]
			res.add(Change{Kind: New, Subject: Asset, Asset: b.ID, Label: label(b), Detail: describe(b)})
		}
	}
	compareConversations(&res, from, to)
	slices.SortStableFunc(res.Changes, func(x, y Change) int {
		return cmp.Or(cmp.Compare(x.Asset, y.Asset), cmp.Compare(x.Subject, y.Subject), cmp.Compare(x.Field, y.Field),
			cmp.Compare(x.Kind, y.Kind), cmp.Compare(x.Detail, y.Detail), cmp.Compare(x.Old, y.Old), cmp.Compare(x.New, y.New))
	})
	if res.Changes == nil {
		res.Changes = []Change{}
	}
	return res
}

func (r *Result) add(c Change) {
	r.Changes = append(r.Changes, c)
	r.Counts[c.Kind]++
}

// addrKeys are an asset's unicast MACs (pass 0) or IPs (pass 1).
func addrKeys(a *model.Asset, pass int) []string {
	var out []string
	if pass == 0 {
		for _, m := range a.MACs {
			if m.IsUnicast() {
				out = append(out, m.String())
			}
		}
		return out
	}
	if a.Gateway {
		return nil
	}
	for _, ip := range a.IPs {
		out = append(out, ip.String())
	}
	return out
}

func compareAssets(res *Result, a, b *model.Asset, o Options) {
	lbl := label(b)
	field := func(name, x, y string) {
		if x != y {
			res.add(Change{Kind: Changed, Subject: Asset, Asset: b.ID, Label: lbl, Field: name, Old: x, New: y})
		}
	}
	field(FieldFirmware, a.Firmware, b.Firmware)
	field(FieldOrderNumber, a.OrderNumber, b.OrderNumber)
	field(FieldSerial, a.Serial, b.Serial)
	field(FieldProduct, a.Product, b.Product)
	field(FieldHardwareVersion, a.HardwareVersion, b.HardwareVersion)
	field(FieldName, first(a.Names), first(b.Names))
	field(FieldIP, joinAddrs(a.IPs), joinAddrs(b.IPs))
	field(FieldMAC, joinMACs(a.MACs), joinMACs(b.MACs))
	if o.Before != nil || o.After != nil {
		x, y := o.Before[a.ID], o.After[b.ID]
		field(FieldPhase, x.Phase, y.Phase)
		field(FieldVerdict, x.Verdict, y.Verdict)
		field(FieldState, x.State, y.State)
		for _, v := range y.Violations {
			if !slices.Contains(x.Violations, v) {
				res.add(Change{Kind: New, Subject: Asset, Asset: b.ID, Label: lbl, Field: FieldViolation, New: v})
			}
		}
		for _, v := range x.Violations {
			if !slices.Contains(y.Violations, v) {
				res.add(Change{Kind: Vanished, Subject: Asset, Asset: b.ID, Label: lbl, Field: FieldViolation, Old: v})
			}
		}
	}
	// Services by transport and port (an address change is reported above).
	key := func(s model.Service) string { return s.Transport + "/" + fmt.Sprint(s.Port) }
	as := map[string]model.Service{}
	for _, s := range a.Services {
		as[key(s)] = s
	}
	bs := map[string]bool{}
	for _, s := range b.Services {
		k := key(s)
		bs[k] = true
		if _, ok := as[k]; !ok {
			res.add(Change{Kind: New, Subject: Service, Asset: b.ID, Label: lbl, Detail: k + " " + s.Protocol})
		}
	}
	for _, s := range a.Services {
		if k := key(s); !bs[k] {
			res.add(Change{Kind: Vanished, Subject: Service, Asset: b.ID, Label: lbl, Detail: k + " " + s.Protocol})
			bs[k] = true // once per key
		}
	}
}

// compareConversations reports conversations (client, server, transport,
// port) present in only one session, under the server's asset ID.
func compareConversations(res *Result, from, to *bundle.Session) {
	labels := map[model.AssetID]string{}
	for _, s := range []*bundle.Session{from, to} {
		for i := range s.Assets {
			labels[s.Assets[i].ID] = label(&s.Assets[i])
		}
	}
	keys := func(s *bundle.Session) map[string]*model.Conversation {
		m := make(map[string]*model.Conversation, len(s.Conversations))
		for i := range s.Conversations {
			m[s.Conversations[i].Key()] = &s.Conversations[i]
		}
		return m
	}
	fa, tb := keys(from), keys(to)
	describeConv := func(c *model.Conversation) string {
		cl, sv := endpoint(c.ClientIP, c.ClientMAC), endpoint(c.ServerIP, c.ServerMAC)
		return fmt.Sprintf("%s > %s %s/%d %s", cl, sv, c.Transport, c.Port, c.Protocol)
	}
	for k, c := range tb {
		if _, ok := fa[k]; !ok {
			res.add(Change{Kind: New, Subject: Conversation, Asset: c.Server, Label: labels[c.Server], Detail: describeConv(c)})
		}
	}
	for k, c := range fa {
		if _, ok := tb[k]; !ok {
			res.add(Change{Kind: Vanished, Subject: Conversation, Asset: c.Server, Label: labels[c.Server], Detail: describeConv(c)})
		}
	}
}

func endpoint(ip netip.Addr, mac model.MAC) string {
	if ip.IsValid() {
		return ip.String()
	}
	return mac.String()
}

func label(a *model.Asset) string { return a.Label() }

// describe summarises an asset that came or went.
func describe(a *model.Asset) string {
	var parts []string
	for _, s := range []string{a.Vendor, a.Product, a.OrderNumber, a.Firmware} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(a.IPs) > 0 {
		parts = append(parts, joinAddrs(a.IPs))
	}
	return strings.Join(parts, " ")
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func joinAddrs(ips []netip.Addr) string {
	parts := make([]string, len(ips))
	for i, ip := range ips {
		parts[i] = ip.String()
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

func joinMACs(ms []model.MAC) string {
	s := slices.Clone(ms)
	slices.SortFunc(s, func(x, y model.MAC) int { return bytes.Compare(x[:], y[:]) })
	parts := make([]string, len(s))
	for i, m := range s {
		parts[i] = m.String()
	}
	return strings.Join(parts, " ")
}

// FailOn is a set of change kinds that make a diff fail (exit 3).
type FailOn map[Kind]bool

// ErrFailOn is returned by ParseFailOn for an unknown kind.
var ErrFailOn = errors.New("unknown --fail-on kind (use new, vanished, changed or any)")

// ParseFailOn parses "new,vanished,changed" (or "any").
func ParseFailOn(s string) (FailOn, error) {
	out := FailOn{}
	for _, p := range strings.Split(s, ",") {
		switch k := Kind(strings.TrimSpace(strings.ToLower(p))); k {
		case New, Vanished, Changed:
			out[k] = true
		case "any":
			out[New], out[Vanished], out[Changed] = true, true, true
		case "":
		default:
			return nil, fmt.Errorf("%q: %w", p, ErrFailOn)
		}
	}
	return out, nil
}

// Fails reports whether r has a change of a kind in f.
func (r *Result) Fails(f FailOn) bool {
	for k := range f {
		if r.Counts[k] > 0 {
			return true
		}
	}
	return false
}
