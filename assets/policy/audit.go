package policy

import (
	"context"
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
	zones   []*zoneVal // index i is pack.Zones[i]; last is Unassigned
	pack    *Pack
	byAsset map[model.AssetID]int
	byIP    map[netip.Addr]int
	// pairs holds, per ordered zone pair (from*len(zones)+to), what the
	// conduits between them allow; built on first use.
	pairs []*pairRule
}

// pairRule is the union of the conduits from one zone to another.
type pairRule struct {
	all    bool
	ports  []uint16
	protos []string
}

func newZoneModel(p *Pack) *zoneModel {
	zm := &zoneModel{pack: p, byAsset: map[model.AssetID]int{}, byIP: map[netip.Addr]int{}}
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
	if zm.pairs == nil {
		zm.pairs = make([]*pairRule, len(zm.zones)*len(zm.zones))
	}
	pr := zm.pairs[a*len(zm.zones)+b]
	if pr == nil {
		pr = &pairRule{}
		from, to := zm.zones[a].name, zm.zones[b].name
		for _, c := range zm.pack.Conduits {
			dir := zoneIs(c.From, from) && zoneIs(c.To, to)
			rev := c.Bidirectional && zoneIs(c.From, to) && zoneIs(c.To, from)
			if !dir && !rev {
				continue
			}
			pr.all = pr.all || len(c.Protocols) == 0 && len(c.Ports) == 0
			pr.ports = append(pr.ports, c.Ports...)
			pr.protos = append(pr.protos, c.Protocols...)
		}
		zm.pairs[a*len(zm.zones)+b] = pr
	}
	return pr.all || slices.Contains(pr.ports, port) ||
		slices.ContainsFunc(pr.protos, func(p string) bool { return strings.EqualFold(p, proto) })
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

// numProjection is projection for masks without strings, as two words.
func numProjection(mask convField, cv *convView, ci, si int32, cz, sz int) [2]uint64 {
	var k [2]uint64
	if mask&cfClient != 0 {
		k[0] |= uint64(uint32(ci)) << 32
	}
	if mask&cfServer != 0 {
		k[0] |= uint64(uint32(si))
	}
	if mask&cfPort != 0 {
		k[1] |= uint64(cv.c.Port) << 48
	}
	if mask&cfClientZone != 0 {
		k[1] |= uint64(uint16(cz)) << 32
	}
	if mask&cfServerZone != 0 {
		k[1] |= uint64(uint16(sz)) << 16
	}
	if mask&cfAllowed != 0 && cv.allowed {
		k[1] |= 1
	}
	return k
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
// up to MaxFlowEvidence flows. A rule that fails to evaluate is reported
// once in Report.Errors (naming the first failing asset in ID order) and
// keeps running on the other inputs. Audit runs on the calling goroutine;
// it does not change its input. For repeated audits of a changing
// inventory, an Auditor re-evaluates only what changed.
func Audit(in Input, pack *Pack, waivers []Waiver) Report {
	start := time.Now()
	if in.Now.IsZero() {
		in.Now = start
	}
	if pack == nil {
		pack = &Pack{}
	}
	e := newEngine(pack)
	ctx, cancel := context.WithTimeout(context.Background(), AuditTimeout)
	defer cancel()
	r := run{ctx: ctx}
	e.newRun(&in, &r)
	assets := make([]result, len(in.Assets))
	for i := range assets {
		r.evalAsset(int32(i), e.assetRules, &assets[i])
	}
	var groups [][]*result
	if len(e.convRules) > 0 {
		r.groupFlows(nil)
		res := make([]result, len(r.groups))
		for i := range r.groups {
			g := &r.groups[i]
			res[i].client, res[i].server = r.id(g.ci), r.id(g.si)
			g.res, g.dirty = &res[i], true
		}
		r.evalGroups()
		groups = append(groups, r.sortedGroups())
	}
	order := assetOrder(in.Assets)
	byID := make([]*result, len(order))
	for k, i := range order {
		byID[k] = &assets[i]
	}
	rep := Report{ByRule: map[string]int{}, Assets: len(in.Assets), Convs: len(in.Conversations), Rules: len(pack.Rules)}
	e.assemble(append([][]*result{byID}, groups...), waivers, in.Now, &rep)
	rep.Elapsed = time.Since(start)
	return rep
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
func findWaiver(ws []*Waiver, v *Violation, now time.Time) *Waiver {
	var best *Waiver
	for _, w := range ws {
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
