package policy

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/interpreter"

	"otscope/model"
)

// MaxFlowEvidence is how many flows a conversation violation lists; the
// rest are counted in a last line.
const MaxFlowEvidence = 10

// activation resolves the variables of one evaluation without maps.
type activation struct {
	asset        *assetView
	conv         *convView
	zonesDefined types.Bool
	now          types.Timestamp
}

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case "asset":
		return a.asset, a.asset != nil
	case "conv":
		return a.conv, a.conv != nil
	case "zones_defined":
		return a.zonesDefined, true
	case "now":
		return a.now, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// zoneModel assigns zones to assets and addresses and checks conduits.
type zoneModel struct {
	zones      []*zoneVal // index i is pack.Zones[i]; last is Unassigned
	pack       *Pack
	byAsset    map[model.AssetID]int
	byIP       map[netip.Addr]int
	conduitMem map[conduitKey]bool
}

type conduitKey struct {
	from, to int
	proto    string
	port     uint16
}

func newZoneModel(p *Pack) *zoneModel {
	zm := &zoneModel{pack: p, byAsset: map[model.AssetID]int{}, byIP: map[netip.Addr]int{}, conduitMem: map[conduitKey]bool{}}
	for i, z := range p.Zones {
		zm.zones = append(zm.zones, &zoneVal{object{zoneType}, z.Name, z.Purdue})
		for _, a := range z.Assets {
			if _, ok := zm.byAsset[a]; !ok {
				zm.byAsset[a] = i
			}
		}
	}
	zm.zones = append(zm.zones, &zoneVal{object{zoneType}, Unassigned, -1})
	return zm
}

func (zm *zoneModel) unassigned() int { return len(zm.zones) - 1 }

// ipZone returns the zone whose longest subnet holds ip, or -1.
func (zm *zoneModel) ipZone(ip netip.Addr) int {
	if !ip.IsValid() || len(zm.pack.Zones) == 0 {
		return -1
	}
	if z, ok := zm.byIP[ip]; ok {
		return z
	}
	best, bits := -1, -1
	for i := range zm.pack.Zones {
		for _, s := range zm.pack.Zones[i].Subnets {
			if s.Bits() > bits && s.Contains(ip.Unmap()) {
				best, bits = i, s.Bits()
			}
		}
	}
	zm.byIP[ip] = best
	return best
}

// assetZone returns the zone of an asset: by ID, by address, by VLAN.
func (zm *zoneModel) assetZone(a *model.Asset) int {
	if len(zm.pack.Zones) == 0 {
		return zm.unassigned()
	}
	if z, ok := zm.byAsset[a.ID]; ok {
		return z
	}
	for _, ip := range a.IPs {
		if z := zm.ipZone(ip); z >= 0 {
			return z
		}
	}
	for i := range zm.pack.Zones {
		for _, v := range a.VLANs {
			if slices.Contains(zm.pack.Zones[i].VLANs, v) {
				return i
			}
		}
	}
	return zm.unassigned()
}

// endpointZone is the zone of one end of a conversation: the asset's own
// listing first, then the address the flow used, then the asset's zone.
func (zm *zoneModel) endpointZone(id model.AssetID, ip netip.Addr, asset *assetView) int {
	if len(zm.pack.Zones) == 0 {
		return zm.unassigned()
	}
	if z, ok := zm.byAsset[id]; ok {
		return z
	}
	if z := zm.ipZone(ip); z >= 0 {
		return z
	}
	return zm.zoneIndex(asset.zone)
}

func (zm *zoneModel) zoneIndex(z *zoneVal) int {
	for i, x := range zm.zones {
		if x == z {
			return i
		}
	}
	return zm.unassigned()
}

// allowed reports whether a flow from zone a to zone b on proto/port is
// allowed: inside one zone always, else by a conduit.
func (zm *zoneModel) allowed(a, b int, proto string, port uint16) bool {
	if a == b {
		return true
	}
	k := conduitKey{a, b, proto, port}
	if v, ok := zm.conduitMem[k]; ok {
		return v
	}
	from, to := zm.zones[a].name, zm.zones[b].name
	ok := false
	for _, c := range zm.pack.Conduits {
		dir := zoneIs(c.From, from) && zoneIs(c.To, to)
		rev := c.Bidirectional && zoneIs(c.From, to) && zoneIs(c.To, from)
		if !dir && !rev {
			continue
		}
		if (len(c.Protocols) == 0 && len(c.Ports) == 0) ||
			slices.ContainsFunc(c.Protocols, func(p string) bool { return strings.EqualFold(p, proto) }) ||
			slices.Contains(c.Ports, port) {
			ok = true
			break
		}
	}
	zm.conduitMem[k] = ok
	return ok
}

func zoneIs(pattern, name string) bool { return pattern == "*" || pattern == name }

// convKey is the projection of a conversation onto the fields a rule
// reads; rules that read no per-flow values are evaluated once per key.
type convKey struct {
	client, server int32
	transport      string
	protocol       string
	port           uint16
	cz, sz         int16
	allowed        bool
}

func projection(mask convField, cv *convView, ci, si int32, cz, sz int) convKey {
	var k convKey
	if mask&cfClient != 0 {
		k.client = ci
	}
	if mask&cfServer != 0 {
		k.server = si
	}
	if mask&cfTransport != 0 {
		k.transport = cv.c.Transport
	}
	if mask&cfProtocol != 0 {
		k.protocol = cv.c.Protocol
	}
	if mask&cfPort != 0 {
		k.port = cv.c.Port
	}
	if mask&cfClientZone != 0 {
		k.cz = int16(cz)
	}
	if mask&cfServerZone != 0 {
		k.sz = int16(sz)
	}
	if mask&cfAllowed != 0 {
		k.allowed = cv.allowed
	}
	return k
}

// auditor holds the state of one audit (one goroutine).
type auditor struct {
	in      *Input
	act     activation
	errs    map[string]bool
	report  *Report
	waivers []Waiver
}

func (au *auditor) evalBool(r *Rule, who model.AssetID) bool {
	out, _, err := r.when.Eval(&au.act)
	if err != nil {
		au.fail(r, who, err)
		return false
	}
	b, ok := out.(types.Bool)
	if !ok {
		au.fail(r, who, fmt.Errorf("when returned %s, not bool", out.Type().TypeName()))
		return false
	}
	return bool(b)
}

func (au *auditor) fail(r *Rule, who model.AssetID, err error) {
	if au.errs[r.ID] {
		return
	}
	au.errs[r.ID] = true
	au.report.Errors = append(au.report.Errors, Problem{File: r.File, Line: r.Line, Rule: r.ID,
		Reason: fmt.Sprintf("evaluation failed on %s: %v", who, err)})
}

func (au *auditor) evidence(r *Rule, who model.AssetID) []string {
	if r.evidence == nil {
		return nil
	}
	out, _, err := r.evidence.Eval(&au.act)
	if err != nil {
		au.fail(r, who, err)
		return nil
	}
	return evidenceStrings(out)
}

func evidenceStrings(v ref.Val) []string {
	switch x := v.(type) {
	case types.String:
		if x == "" {
			return nil
		}
		return []string{string(x)}
	case types.Null:
		return nil
	}
	if s, ok := v.Value().([]string); ok {
		return slices.Clone(s)
	}
	if l, ok := v.(interface {
		Size() ref.Val
		Get(ref.Val) ref.Val
	}); ok {
		n, _ := l.Size().Value().(int64)
		var out []string
		for i := int64(0); i < n; i++ {
			e := l.Get(types.Int(i))
			if s, ok := e.(types.String); ok {
				out = append(out, string(s))
			} else if ss := evidenceStrings(e); ss != nil {
				out = append(out, ss...)
			} else {
				out = append(out, fmt.Sprint(e.Value()))
			}
		}
		return out
	}
	return []string{fmt.Sprint(v.Value())}
}

// Audit evaluates every rule of pack over the input and applies the
// waivers that are still active at in.Now. Asset rules give one violation
// per asset; conversation rules one per client, server and rule, listing
// up to MaxFlowEvidence flows. A rule that fails to evaluate on an input
// is reported once in Report.Errors and keeps running on the others.
// Audit runs on the calling goroutine; it does not change its input.
func Audit(in Input, pack *Pack, waivers []Waiver) Report {
	start := time.Now()
	if in.Now.IsZero() {
		in.Now = start
	}
	rep := Report{ByRule: map[string]int{}, Assets: len(in.Assets), Convs: len(in.Conversations)}
	if pack == nil {
		pack = &Pack{}
	}
	rep.Rules = len(pack.Rules)
	au := &auditor{in: &in, errs: map[string]bool{}, report: &rep, waivers: waivers}
	au.act.zonesDefined = types.Bool(len(pack.Zones) > 0)
	au.act.now = types.Timestamp{Time: in.Now}

	var assetRules, convRules []*Rule
	for _, r := range pack.Rules {
		if r.Scope == ScopeConversation {
			convRules = append(convRules, r)
		} else {
			assetRules = append(assetRules, r)
		}
	}

	zm := newZoneModel(pack)
	views := make([]assetView, len(in.Assets))
	index := make(map[model.AssetID]int32, len(in.Assets))
	for i := range in.Assets {
		a := &in.Assets[i]
		views[i] = assetView{object: object{assetType}, a: a, in: &in, zone: zm.zones[zm.assetZone(a)]}
		index[a.ID] = int32(i)
	}

	// Asset rules.
	for i := range views {
		v := &views[i]
		au.act.asset, au.act.conv = v, nil
		for _, r := range assetRules {
			if !au.evalBool(r, v.a.ID) {
				continue
			}
			v.evFirst, v.evLast = time.Time{}, time.Time{}
			ev := au.evidence(r, v.a.ID)
			first, last := v.evFirst, v.evLast
			if first.IsZero() {
				first = v.a.FirstSeen
			}
			if last.IsZero() {
				last = v.a.LastSeen
			}
			rep.Violations = append(rep.Violations, Violation{RuleID: r.ID, Title: r.Title, Severity: r.Severity,
				AssetID: v.a.ID, Evidence: ev, FirstSeen: first, LastSeen: last})
		}
	}

	if len(convRules) > 0 {
		au.conversations(convRules, zm, views, index)
	}

	for i := range rep.Violations {
		v := &rep.Violations[i]
		if w := findWaiver(waivers, v, in.Now); w != nil {
			v.Waived = w
			rep.Waived++
			continue
		}
		rep.BySeverity[v.Severity]++
		rep.ByRule[v.RuleID]++
	}
	slices.SortStableFunc(rep.Violations, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.AssetID, b.AssetID), cmp.Compare(a.ServerID, b.ServerID))
	})
	rep.Elapsed = time.Since(start)
	return rep
}

// convGroup collects the flows of one (rule, client, server) violation.
type convGroup struct {
	v     int // index in Report.Violations
	flows int
}

func (au *auditor) conversations(rules []*Rule, zm *zoneModel, views []assetView, index map[model.AssetID]int32) {
	rep := au.report
	// Rules that read the same fields share one projection per flow.
	type memoSet struct {
		mask  convField
		rules []int
		memo  map[convKey][]bool // results of rules, by projection
	}
	var sets []*memoSet
	for i, r := range rules {
		if r.convMask&cfVolatile != 0 {
			continue
		}
		j := slices.IndexFunc(sets, func(s *memoSet) bool { return s.mask == r.convMask })
		if j < 0 {
			sets = append(sets, &memoSet{mask: r.convMask, memo: map[convKey][]bool{}})
			j = len(sets) - 1
		}
		sets[j].rules = append(sets[j].rules, i)
	}
	volatile := make([]int, 0)
	for i, r := range rules {
		if r.convMask&cfVolatile != 0 {
			volatile = append(volatile, i)
		}
	}
	// groups holds, per client and server, the violation of each rule
	// (one map lookup per flow, not per rule that fires).
	groups := map[uint64][]convGroup{}
	var pair []convGroup
	empty := assetView{object: object{assetType}, a: &model.Asset{}, in: au.in, zone: zm.zones[zm.unassigned()]}
	// Assets missing from the input get views numbered from len(views).
	var orphans []*assetView
	viewOf := func(id model.AssetID) (*assetView, int32) {
		i, ok := index[id]
		if !ok {
			i = int32(len(views) + len(orphans))
			index[id] = i
			orphans = append(orphans, &assetView{object: object{assetType}, a: &model.Asset{ID: id}, in: au.in, zone: empty.zone})
		}
		if int(i) < len(views) {
			return &views[i], i
		}
		return orphans[int(i)-len(views)], i
	}
	var cv convView
	cv.object = object{convType}
	var ci, si int32
	hit := func(ri int, c *model.Conversation) {
		r := rules[ri]
		if pair == nil {
			pk := uint64(uint32(ci))<<32 | uint64(uint32(si))
			if pair = groups[pk]; pair == nil {
				pair = make([]convGroup, len(rules))
				for i := range pair {
					pair[i].v = -1
				}
				groups[pk] = pair
			}
		}
		g := &pair[ri]
		if g.v < 0 {
			ev := au.evidence(r, c.Client)
			rep.Violations = append(rep.Violations, Violation{RuleID: r.ID, Title: r.Title, Severity: r.Severity,
				AssetID: c.Client, ClientID: c.Client, ServerID: c.Server, Evidence: ev,
				FirstSeen: c.FirstSeen, LastSeen: c.LastSeen})
			g.v = len(rep.Violations) - 1
		}
		v := &rep.Violations[g.v]
		g.flows++
		switch {
		case g.flows <= MaxFlowEvidence:
			v.Evidence = append(v.Evidence, flowLine(c, cv.clientZone, cv.serverZone))
		case g.flows == MaxFlowEvidence+1:
			v.Evidence = append(v.Evidence, "… 1 more flow")
		default:
			v.Evidence[len(v.Evidence)-1] = "… " + strconv.Itoa(g.flows-MaxFlowEvidence) + " more flows"
		}
		timeSpan(&v.FirstSeen, &v.LastSeen, c.FirstSeen, c.LastSeen)
	}
	for i := range au.in.Conversations {
		c := &au.in.Conversations[i]
		var client, server *assetView
		client, ci = viewOf(c.Client)
		server, si = viewOf(c.Server)
		cz := zm.endpointZone(c.Client, c.ClientIP, client)
		sz := zm.endpointZone(c.Server, c.ServerIP, server)
		cv.c, cv.client, cv.server = c, client, server
		cv.clientZone, cv.serverZone = zm.zones[cz], zm.zones[sz]
		cv.allowed = zm.allowed(cz, sz, c.Protocol, c.Port)
		au.act.asset, au.act.conv = nil, &cv
		pair = nil
		for _, s := range sets {
			k := projection(s.mask, &cv, ci, si, cz, sz)
			res, ok := s.memo[k]
			if !ok {
				res = make([]bool, len(s.rules))
				for j, ri := range s.rules {
					res[j] = au.evalBool(rules[ri], c.Client)
				}
				s.memo[k] = res
			}
			for j, ri := range s.rules {
				if res[j] {
					hit(ri, c)
				}
			}
		}
		for _, ri := range volatile {
			if au.evalBool(rules[ri], c.Client) {
				hit(ri, c)
			}
		}
	}
}

// flowLine formats a flow: "10.1.1.5 → 10.10.10.12 s7comm tcp/102, 40 pkts".
func flowLine(c *model.Conversation, cz, sz *zoneVal) string {
	end := func(ip netip.Addr, mac model.MAC, id model.AssetID) string {
		if ip.IsValid() {
			return ip.String()
		}
		if s := mac.String(); s != "" && s != "00:00:00:00:00:00" {
			return s
		}
		return string(id)
	}
	var b strings.Builder
	b.WriteString(end(c.ClientIP, c.ClientMAC, c.Client))
	if cz != nil && cz.name != Unassigned || sz != nil && sz.name != Unassigned {
		b.WriteString(" [" + cz.name + "]")
	}
	b.WriteString(" → ")
	b.WriteString(end(c.ServerIP, c.ServerMAC, c.Server))
	if cz != nil && cz.name != Unassigned || sz != nil && sz.name != Unassigned {
		b.WriteString(" [" + sz.name + "]")
	}
	b.WriteByte(' ')
	b.WriteString(c.Protocol)
	b.WriteByte(' ')
	b.WriteString(c.Transport)
	b.WriteByte('/')
	b.WriteString(strconv.Itoa(int(c.Port)))
	b.WriteString(", ")
	b.WriteString(strconv.FormatUint(c.Packets, 10))
	b.WriteString(" pkts")
	return b.String()
}

// findWaiver returns the active waiver for v (the latest expiry wins), or nil.
func findWaiver(ws []Waiver, v *Violation, now time.Time) *Waiver {
	var best *Waiver
	for i := range ws {
		w := &ws[i]
		if w.RuleID != v.RuleID || !w.Active(now) {
			continue
		}
		if w.AssetID != "*" && w.AssetID != v.AssetID && (v.ServerID == "" || w.AssetID != v.ServerID) {
			continue
		}
		if best == nil || !best.Until.IsZero() && (w.Until.IsZero() || w.Until.After(best.Until)) {
			best = w
		}
	}
	if best == nil {
		return nil
	}
	c := *best
	return &c
}
