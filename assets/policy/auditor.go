package policy

import (
	"context"
	"encoding/binary"
	"hash/maphash"
	"math/bits"
	"time"

	"otscope/model"
)

// Auditor audits a changing inventory repeatedly, as the live violations
// pane does during a capture: it keeps each asset's and each
// client/server pair's results between calls and re-evaluates only the
// assets and pairs whose content changed. Its reports equal those of
// Audit on the same input.
//
// Change is decided by a 64-bit hash of everything a rule can read: all
// fields of the asset, and for a pair all fields of its flows (in input
// order) and the hashes of both assets. Hashing 10,000 assets takes about
// a millisecond, far less than evaluating them. Rules that read "now" are
// re-evaluated on every asset (or, for conversation rules, every pair)
// when Input.Now moves.
//
// Input.Lifecycle and Input.Advisories must depend only on the asset they
// are given; call Reset when their data changes (a new catalog or
// advisory import). An Auditor is not safe for concurrent use.
type Auditor struct {
	e       *engine
	rules   int
	waivers []Waiver
	seed    maphash.Seed
	assets  map[model.AssetID]*result
	pairs   map[[2]model.AssetID]*result
	now     time.Time
	gen     uint32
	r       run
	hashes  []uint64
	results []*result
	evals   int       // rule evaluations of the last call
	sorted  []*result // the groups with results, by client and server
}

// NewAuditor returns an Auditor for pack (nil: no rules) that applies
// waivers.
func NewAuditor(pack *Pack, waivers []Waiver) *Auditor {
	if pack == nil {
		pack = &Pack{}
	}
	a := &Auditor{e: newEngine(pack), rules: len(pack.Rules), seed: maphash.MakeSeed()}
	a.SetWaivers(waivers)
	a.Reset()
	return a
}

// SetWaivers replaces the waivers (they apply from the next Audit; no
// rule is re-evaluated).
func (a *Auditor) SetWaivers(ws []Waiver) { a.waivers = append([]Waiver(nil), ws...) }

// Reset forgets every kept result: the next Audit evaluates everything.
func (a *Auditor) Reset() {
	a.assets = map[model.AssetID]*result{}
	a.pairs = map[[2]model.AssetID]*result{}
	a.sorted = nil
}

// Audit audits in like Audit(in, pack, waivers), re-evaluating only what
// changed since the previous call. The report shares its evidence slices
// with the Auditor's kept results: treat them as read-only.
func (a *Auditor) Audit(in Input) Report {
	start := time.Now()
	if in.Now.IsZero() {
		in.Now = start
	}
	e := a.e
	a.gen++
	nowMoved := !in.Now.Equal(a.now)
	a.now = in.Now
	r := &a.r
	ctx, cancel := context.WithTimeout(context.Background(), AuditTimeout)
	defer cancel()
	r.ctx = ctx
	e.newRun(&in, r)
	defer r.done()

	// Assets: reuse the result of an unchanged asset.
	n := len(in.Assets)
	a.hashes = resize(a.hashes, n)
	a.results = resize(a.results, n)
	for i := range in.Assets {
		as := &in.Assets[i]
		h := hashAsset(a.seed, as)
		a.hashes[i] = h
		res := a.assets[as.ID]
		switch {
		case res != nil && res.gen == a.gen:
			// A second asset with the same ID: evaluated, never kept.
			res = &result{}
			r.evalAsset(int32(i), e.assetRules, res)
		case res == nil || res.key != h:
			res = &result{key: h}
			r.evalAsset(int32(i), e.assetRules, res)
			a.assets[as.ID] = res
		case nowMoved && len(e.nowAsset) > 0:
			res = a.reevaluate(int32(i), res)
			a.assets[as.ID] = res
		}
		res.gen = a.gen
		a.results[i] = res
	}
	for id, res := range a.assets {
		if res.gen != a.gen {
			delete(a.assets, id)
		}
	}

	// Conversations: reuse the result of an unchanged client/server pair.
	var groups []*result
	if len(e.convRules) > 0 {
		r.groupFlows(a.flowHash)
		dirty := false
		for i := range r.groups {
			g := &r.groups[i]
			key := mixHash(mixHash(g.hash, a.assetKey(g.ci)), a.assetKey(g.si))
			pair := [2]model.AssetID{r.id(g.ci), r.id(g.si)}
			res := a.pairs[pair]
			if res == nil || res.key != key || nowMoved && e.nowConv {
				res = &result{key: key, client: pair[0], server: pair[1]}
				a.pairs[pair] = res
				g.dirty, dirty = true, true
			}
			res.gen = a.gen
			g.res = res
		}
		if dirty {
			r.evalGroups()
		}
		for pair, res := range a.pairs {
			if res.gen != a.gen {
				delete(a.pairs, pair)
				dirty = true
			}
		}
		// The same results as last time: reuse their order.
		if dirty || a.sorted == nil {
			a.sorted = r.sortedGroups()
		}
		groups = a.sorted
	} else {
		clear(a.pairs)
	}

	order := assetOrder(in.Assets)
	byID := make([]*result, len(order))
	for k, i := range order {
		byID[k] = a.results[i]
	}
	clear(a.results)
	rep := Report{ByRule: map[string]int{}, Assets: len(in.Assets), Convs: len(in.Conversations), Rules: a.rules}
	e.assemble([][]*result{byID, groups}, a.waivers, in.Now, &rep)
	a.evals = r.evals
	rep.Elapsed = time.Since(start)
	return rep
}

// flowHash hashes a conversation but for its client and server IDs,
// which name its group. It is written out (wyhash-style multiply-folds of
// word pairs) because it runs on every flow of every call and the generic
// hash of the struct costs several times more. Times are hashed as
// instants.
func (a *Auditor) flowHash(c *model.Conversation) uint64 {
	ci, si := c.ClientIP.As16(), c.ServerIP.As16()
	h := mum(maphash.String(a.seed, c.Protocol), maphash.String(a.seed, c.Transport))
	h ^= mum(binary.LittleEndian.Uint64(ci[:8]), binary.LittleEndian.Uint64(ci[8:])^uint64(c.ClientIP.BitLen()))
	h ^= mum(binary.LittleEndian.Uint64(si[:8])+h, binary.LittleEndian.Uint64(si[8:])^uint64(c.ServerIP.BitLen()))
	h ^= mum(macWord(c.ClientMAC)<<16|uint64(c.Port)+h, macWord(c.ServerMAC))
	h ^= mum(c.Packets+h, c.Bytes^c.Flows<<40)
	h ^= mum(uint64(c.FirstSeen.Unix())+h, uint64(c.LastSeen.Unix()))
	h ^= mum(uint64(c.FirstSeen.Nanosecond())+h, uint64(c.LastSeen.Nanosecond()))
	if c.ClientIP.Is6() && c.ClientIP.Zone() != "" || c.ServerIP.Is6() && c.ServerIP.Zone() != "" {
		h ^= mum(maphash.String(a.seed, c.ClientIP.Zone())+h, maphash.String(a.seed, c.ServerIP.Zone()))
	}
	return h
}

// mum multiplies two words (with fixed odd keys mixed in) and folds the
// 128-bit product.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a^0xa0761d6478bd642f, b^0xe7037ed1a0b428db)
	return hi ^ lo
}

func macWord(m model.MAC) uint64 {
	var w uint64
	for _, b := range m {
		w = w<<8 | uint64(b)
	}
	return w
}

// assetKey is the content key of view i: the asset's hash, or for an ID
// missing from the input a key of the ID alone.
func (a *Auditor) assetKey(i int32) uint64 {
	if int(i) < len(a.hashes) {
		return a.hashes[i]
	}
	return maphash.Comparable(a.seed, a.r.id(i)) ^ 0x6f727068616e // "orphan"
}

// reevaluate returns old with the rules that read "now" evaluated again
// on asset i (a new result: reports already returned keep the old one).
func (a *Auditor) reevaluate(i int32, old *result) *result {
	e := a.e
	fresh := &result{}
	a.r.evalAsset(i, e.nowAsset, fresh)
	isNow := make(map[int32]bool, len(e.nowAsset))
	for _, ri := range e.nowAsset {
		isNow[ri] = true
	}
	res := &result{key: old.key}
	// Merge the kept and the new violations by rule index (both sorted).
	j := 0
	for k, ri := range old.rules {
		if isNow[ri] {
			continue
		}
		for j < len(fresh.rules) && fresh.rules[j] < ri {
			res.rules, res.viols = append(res.rules, fresh.rules[j]), append(res.viols, fresh.viols[j])
			j++
		}
		res.rules, res.viols = append(res.rules, ri), append(res.viols, old.viols[k])
	}
	res.rules, res.viols = append(res.rules, fresh.rules[j:]...), append(res.viols, fresh.viols[j:]...)
	for _, x := range old.errs {
		if !isNow[x.rule] {
			res.errs = append(res.errs, x)
		}
	}
	res.errs = append(res.errs, fresh.errs...)
	return res
}

// hashAsset hashes every field of an asset: what rules read, and what the
// Lifecycle and Advisories callbacks may read.
func hashAsset(seed maphash.Seed, a *model.Asset) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	maphash.WriteComparable(&h, struct {
		id                                     model.AssetID
		vendor, product, order, fw, hw, serial string
		devType, mode                          string
		first, last                            time.Time
		packets, bytes                         uint64
		gateway                                bool
	}{a.ID, a.Vendor, a.Product, a.OrderNumber, a.Firmware, a.HardwareVersion, a.Serial,
		a.DeviceType, a.OperatingMode, a.FirstSeen, a.LastSeen, a.Packets, a.Bytes, a.Gateway})
	writeAll(&h, a.MACs)
	writeAll(&h, a.IPs)
	writeAll(&h, a.VLANs)
	writeAll(&h, a.Names)
	writeAll(&h, a.Roles)
	writeAll(&h, a.Services)
	writeAll(&h, a.Protocols)
	writeAll(&h, a.Modules)
	writeAll(&h, a.Facts)
	if p := a.ProtocolIDs; p != nil {
		maphash.WriteComparable(&h, struct {
			a, b, c, d, e, f, g, h, i, j string
		}{p.CIPVendorID, p.CIPProductCode, p.BACnetInstance, p.BACnetVendorID, p.ProfinetStationName,
			p.ProfinetVendorID, p.ProfinetDeviceID, p.AMSNetID, p.OPCUAApplicationURI, p.SNMPSysObjectID})
		writeAll(&h, p.ModbusUnitIDs)
		writeAll(&h, p.DNP3Addresses)
		writeAll(&h, p.IEC104CommonAddresses)
	}
	return h.Sum64()
}

func writeAll[T comparable](h *maphash.Hash, s []T) {
	maphash.WriteComparable(h, len(s))
	for _, x := range s {
		maphash.WriteComparable(h, x)
	}
}
