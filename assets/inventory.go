package assets

import (
	"net/netip"
	"slices"
	"strings"
	"time"

	"otscope/model"
)

// Consumer is a bit naming who takes changes from the inventory.
type Consumer uint8

// The consumers of inventory changes.
const (
	ForStore Consumer = 1 << iota
	ForUI
	allConsumers = ForStore | ForUI
)

// maxPendingIPs bounds facts kept about addresses that are not assets yet
// (a DNS answer for a host that has not sent a frame).
const (
	maxPendingIPs     = 4096
	maxPendingPerIP   = 16
	maxFactsPerAsset  = 512
	maxAssetsPerIndex = 1 << 20
)

// DefaultMaxAssets and DefaultMaxConversations bound an inventory (see
// SetLimits): a flood of made-up stations (a million ARP frames from
// distinct MACs, an address sweep) becomes one Overflow finding instead of a
// million assets, and memory stays bounded by design. At about 2 KB per
// asset and 300 B per conversation the defaults cost at most ~150 MB, far
// above the largest plants otscope is measured on (30,000 assets).
const (
	DefaultMaxAssets        = 1 << 16
	DefaultMaxConversations = 1 << 18
)

// Overflow is the finding an inventory keeps when its limits refuse new
// assets or conversations: how many observations were not added, and when.
type Overflow struct {
	MaxAssets, MaxConversations int
	// Assets and Conversations count observations that would have created
	// a new asset or conversation past the limit.
	Assets, Conversations uint64
	First, Last           time.Time
}

// Any reports whether anything was refused.
func (o Overflow) Any() bool { return o.Assets+o.Conversations > 0 }

// VendorFunc names the vendor of a MAC from its OUI ("" when unknown).
type VendorFunc func(model.MAC) string

// macInfo is what the inventory knows about one MAC address.
type macInfo struct {
	asset   model.AssetID
	ips     []ipUse // addresses seen with this MAC; a handful, so a slice
	gateway bool
}

// ipUse is an address a MAC sent from, and whether the MAC claimed it (ARP,
// DHCP) rather than just carrying it.
type ipUse struct {
	ip      netip.Addr
	claimed bool
}

// use returns the entry for ip, or nil.
func (mi *macInfo) use(ip netip.Addr) *ipUse {
	for i := range mi.ips {
		if mi.ips[i].ip == ip {
			return &mi.ips[i]
		}
	}
	return nil
}

// claimed reports whether the MAC claimed ip.
func (mi *macInfo) claimed(ip netip.Addr) bool {
	u := mi.use(ip)
	return u != nil && u.claimed
}

// Inventory merges observations into assets. Not safe for concurrent use.
type Inventory struct {
	assets  map[model.AssetID]*model.Asset
	byMAC   map[model.MAC]*macInfo
	byIP    map[netip.Addr]model.AssetID
	convs   map[convKey]*model.Conversation
	stats   map[string]model.CaptureStats
	pending map[netip.Addr][]model.Observation
	clients map[model.AssetID]clientUse // industrial servers each client polls
	vendor  VendorFunc

	// Changes are tracked as they happen, per consumer: dirtyAssets and
	// dirtyConvs hold content changes (a new asset, fact, service, address,
	// protocol); warmAssets and warmConvs hold entries whose only change is
	// their counters and times (packets, bytes, last seen), which consumers
	// may take less often. want is who is marked (see SetConsumers).
	dirtyAssets map[model.AssetID]Consumer
	warmAssets  map[model.AssetID]Consumer
	removed     map[model.AssetID]Consumer
	dirtyConvs  map[convKey]Consumer
	warmConvs   map[convKey]Consumer
	dirtyStats  map[string]Consumer
	want        Consumer

	maxAssets, maxConvs int
	overflow            Overflow
	refused             bool // the last resolve was refused by the limit
}

// NewInventory returns an empty inventory. vendor may be nil.
func NewInventory(vendor VendorFunc) *Inventory {
	if vendor == nil {
		vendor = func(model.MAC) string { return "" }
	}
	return &Inventory{
		assets:      map[model.AssetID]*model.Asset{},
		byMAC:       map[model.MAC]*macInfo{},
		byIP:        map[netip.Addr]model.AssetID{},
		convs:       map[convKey]*model.Conversation{},
		stats:       map[string]model.CaptureStats{},
		pending:     map[netip.Addr][]model.Observation{},
		clients:     map[model.AssetID]clientUse{},
		vendor:      vendor,
		dirtyAssets: map[model.AssetID]Consumer{},
		warmAssets:  map[model.AssetID]Consumer{},
		removed:     map[model.AssetID]Consumer{},
		dirtyConvs:  map[convKey]Consumer{},
		warmConvs:   map[convKey]Consumer{},
		dirtyStats:  map[string]Consumer{},
		want:        allConsumers,
		maxAssets:   DefaultMaxAssets,
		maxConvs:    DefaultMaxConversations,
	}
}

// SetLimits sets how many assets and conversations the inventory holds at
// most (values <= 0 keep the current limit). Assets and conversations
// already held stay; only new ones are refused, each counted in Overflow.
func (inv *Inventory) SetLimits(maxAssets, maxConversations int) {
	if maxAssets > 0 {
		inv.maxAssets = maxAssets
	}
	if maxConversations > 0 {
		inv.maxConvs = maxConversations
	}
}

// Overflow returns what the limits refused so far.
func (inv *Inventory) Overflow() Overflow {
	o := inv.overflow
	o.MaxAssets, o.MaxConversations = inv.maxAssets, inv.maxConvs
	return o
}

// full reports whether no new asset may be created, and notes the refusal.
func (inv *Inventory) full() bool {
	if len(inv.assets) < inv.maxAssets {
		return false
	}
	inv.refused = true
	return true
}

// refuse counts an observation the limits kept out.
func (inv *Inventory) refuse(o *model.Observation, conversation bool) {
	if conversation {
		inv.overflow.Conversations++
	} else {
		inv.overflow.Assets++
	}
	t := o.Last
	if t.IsZero() {
		t = o.First
	}
	if !t.IsZero() && (inv.overflow.First.IsZero() || t.Before(inv.overflow.First)) {
		inv.overflow.First = t
	}
	if t.After(inv.overflow.Last) {
		inv.overflow.Last = t
	}
}

// SetConsumers says who takes changes from now on (default: everyone). A
// consumer left out is not marked, so a session without watchers keeps no
// changes for a UI; marks already made for it are dropped.
func (inv *Inventory) SetConsumers(c Consumer) {
	inv.want = c & allConsumers
	if gone := allConsumers &^ inv.want; gone != 0 {
		drop(inv.dirtyAssets, gone)
		drop(inv.warmAssets, gone)
		drop(inv.removed, gone)
		drop(inv.dirtyConvs, gone)
		drop(inv.warmConvs, gone)
		drop(inv.dirtyStats, gone)
	}
}

// Len returns the number of assets.
func (inv *Inventory) Len() int { return len(inv.assets) }

// ConversationCount returns the number of conversations.
func (inv *Inventory) ConversationCount() int { return len(inv.convs) }

// Asset returns a copy of one asset.
func (inv *Inventory) Asset(id model.AssetID) (model.Asset, bool) {
	a, ok := inv.assets[id]
	if !ok {
		return model.Asset{}, false
	}
	return a.Clone(), true
}

// Assets returns copies of all assets, sorted by ID.
func (inv *Inventory) Assets() []model.Asset {
	out := make([]model.Asset, 0, len(inv.assets))
	for _, a := range inv.assets {
		out = append(out, a.Clone())
	}
	slices.SortFunc(out, func(a, b model.Asset) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// Conversations returns copies of all conversations, sorted by key.
func (inv *Inventory) Conversations() []model.Conversation {
	out := make([]model.Conversation, 0, len(inv.convs))
	for _, c := range inv.convs {
		out = append(out, *c)
	}
	slices.SortFunc(out, func(a, b model.Conversation) int { return strings.Compare(a.Key(), b.Key()) })
	return out
}

// Stats returns the counters of every source, sorted by name.
func (inv *Inventory) Stats() []model.CaptureStats {
	out := make([]model.CaptureStats, 0, len(inv.stats))
	for _, s := range inv.stats {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b model.CaptureStats) int { return strings.Compare(a.Source, b.Source) })
	return out
}

// Apply merges one batch.
func (inv *Inventory) Apply(b model.Batch) {
	for i := range b.Obs {
		inv.Observe(&b.Obs[i])
	}
	if b.Stats.Source != "" {
		inv.SetStats(b.Stats)
	}
}

// SetStats records the counters of one source.
func (inv *Inventory) SetStats(s model.CaptureStats) {
	inv.stats[s.Source] = s
	if inv.want != 0 {
		inv.dirtyStats[s.Source] = inv.want
	}
}

// Observe merges one observation.
func (inv *Inventory) Observe(o *model.Observation) {
	inv.refused = false
	switch o.Kind {
	case model.ObsHost:
		a := inv.resolve(o.Subject, o.Binding == model.BindClaimed, true)
		if a == nil {
			if inv.refused {
				inv.refuse(o, false)
			}
			return
		}
		inv.seen(a, o.First, o.Last)
		a.Packets += o.Packets
		a.Bytes += o.Bytes
		grew := false
		if o.Subject.VLAN != 0 {
			n := len(a.VLANs)
			a.VLANs = addSorted(a.VLANs, o.Subject.VLAN)
			grew = len(a.VLANs) != n
		}
		if o.Protocol != "" {
			n := len(a.Protocols)
			a.Protocols = addString(a.Protocols, o.Protocol)
			grew = grew || len(a.Protocols) != n
		}
		inv.changed(a, grew)
	case model.ObsFact:
		a := inv.resolve(o.Subject, false, o.Subject.MAC.IsUnicast())
		if a == nil {
			if inv.refused {
				inv.refuse(o, false)
				return
			}
			inv.pend(o)
			return
		}
		grew := inv.addFact(a, o.Fact)
		inv.seen(a, o.First, o.Last)
		inv.changed(a, grew)
	case model.ObsService:
		a := inv.resolve(o.Subject, false, true)
		if a == nil {
			if inv.refused {
				inv.refuse(o, false)
			}
			return
		}
		grew := inv.addService(a, o.Service, o.Identified)
		inv.seen(a, o.First, o.Last)
		inv.changed(a, grew)
	case model.ObsConversation:
		inv.addConversation(o)
	}
}

// seen widens an asset's first/last seen times.
func (inv *Inventory) seen(a *model.Asset, first, last time.Time) {
	if !first.IsZero() && (a.FirstSeen.IsZero() || first.Before(a.FirstSeen)) {
		a.FirstSeen = first
	}
	if last.After(a.LastSeen) {
		a.LastSeen = last
	}
}

// touch marks a content change of a.
func (inv *Inventory) touch(a *model.Asset) {
	if inv.want != 0 {
		inv.dirtyAssets[a.ID] = inv.want
	}
}

// changed marks a: its content when grew, else only its counters (unless
// its content is already marked, which carries the counters too).
func (inv *Inventory) changed(a *model.Asset, grew bool) {
	switch {
	case inv.want == 0:
	case grew:
		inv.dirtyAssets[a.ID] = inv.want
	default:
		if inv.dirtyAssets[a.ID] != inv.want {
			inv.warmAssets[a.ID] = inv.want
		}
	}
}

// pend keeps a fact about an address that is not an asset yet.
func (inv *Inventory) pend(o *model.Observation) {
	ip := o.Subject.IP
	if !ip.IsValid() {
		return
	}
	lst, ok := inv.pending[ip]
	if !ok && len(inv.pending) >= maxPendingIPs {
		return
	}
	if len(lst) >= maxPendingPerIP {
		return
	}
	inv.pending[ip] = append(lst, *o)
}

// addFact merges a fact: the same field and value count up; a new value is
// kept beside the old ones, never overwriting them. It reports whether the
// asset's content changed (more than a count or a time).
func (inv *Inventory) addFact(a *model.Asset, f model.Fact) bool {
	if f.Value == "" {
		return false
	}
	if f.Count == 0 {
		f.Count = 1
	}
	if f.LastSeen.IsZero() {
		f.LastSeen = f.Source.Time
	}
	for i := range a.Facts {
		e := &a.Facts[i]
		if e.Field == f.Field && e.Value == f.Value {
			if e.Source.Kind == model.Derived && f.Source.Kind == model.Passive {
				// A frame is better provenance than a derivation, and the
				// fact becomes the frame's whole (its explanation, count
				// and time). An inferred role also leaves its place for
				// the one a new fact takes: what the fact is then does not
				// depend on whether a role was inferred before the frame
				// came.
				if inferredRole(e) {
					a.Facts = slices.Delete(a.Facts, i, i+1)
					a.Facts = insertFact(a.Facts, f)
				} else {
					*e = f
				}
				derive(a)
				return true
			}
			e.Count += f.Count
			if f.LastSeen.After(e.LastSeen) {
				e.LastSeen = f.LastSeen
			}
			return false
		}
	}
	if len(a.Facts) >= maxFactsPerAsset {
		return false
	}
	a.Facts = insertFact(a.Facts, f)
	derive(a)
	return true
}

// insertFact adds f before the inferred roles, which stand last (see
// inferRoles).
func insertFact(facts []model.Fact, f model.Fact) []model.Fact {
	at := len(facts)
	for at > 0 && inferredRole(&facts[at-1]) {
		at--
	}
	facts = appendFact(facts, f)
	if at < len(facts)-1 {
		copy(facts[at+1:], facts[at:len(facts)-1])
		facts[at] = f
	}
	return facts
}

// appendFact grows the facts list one element at a time up to eight, then
// by a quarter, rather than doubling: assets gain facts rarely, and memory
// per asset (10,000s of assets on a jump host) matters more than the copy.
func appendFact(facts []model.Fact, f model.Fact) []model.Fact {
	if len(facts) == cap(facts) {
		extra := 1
		if len(facts) >= 8 {
			extra = len(facts) / 4
		}
		grown := make([]model.Fact, len(facts), len(facts)+extra)
		copy(grown, facts)
		facts = grown
	}
	return append(facts, f)
}

// addService merges a service and reports whether the asset's content
// changed (a new service or a newly identified protocol).
func (inv *Inventory) addService(a *model.Asset, s model.Service, identified bool) bool {
	for i := range a.Services {
		e := &a.Services[i]
		if e.Port == s.Port && e.Transport == s.Transport && e.IP == s.IP {
			if s.LastSeen.After(e.LastSeen) {
				e.LastSeen = s.LastSeen
			}
			if (identified || e.Protocol == e.Transport) && s.Protocol != s.Transport && s.Protocol != e.Protocol {
				e.Protocol = s.Protocol
				a.Protocols = addString(a.Protocols, s.Protocol)
				return true
			}
			return false
		}
	}
	a.Services = append(a.Services, s)
	slices.SortFunc(a.Services, model.Service.Compare)
	a.Protocols = addString(a.Protocols, s.Protocol)
	return true
}

func (inv *Inventory) addConversation(o *model.Observation) {
	// the key first: a known conversation (the usual case) builds nothing
	k := convKey{clientIP: o.Subject.IP, serverIP: o.Peer.IP, port: o.Port, transport: o.Transport}
	if !k.clientIP.IsValid() {
		k.clientMAC = o.Subject.MAC
	}
	if !k.serverIP.IsValid() {
		k.serverMAC = o.Peer.MAC
	}
	e, ok := inv.convs[k]
	if !ok {
		if len(inv.convs) >= inv.maxConvs {
			inv.refuse(o, true)
			return
		}
		e = &model.Conversation{Transport: o.Transport, Port: o.Port, Protocol: o.Protocol,
			ClientIP: k.clientIP, ServerIP: k.serverIP, ClientMAC: k.clientMAC, ServerMAC: k.serverMAC, FirstSeen: o.First}
		inv.convs[k] = e
	}
	if o.Identified && o.Protocol != "" && e.Protocol != o.Protocol {
		e.Protocol = o.Protocol
		ok = false // announce the new protocol on both assets
	}
	e.Client = inv.owner(o.Subject)
	e.Server = inv.owner(o.Peer)
	inv.noteClient(e.Client, e.Server, e.Protocol)
	e.Packets += o.Packets
	e.Bytes += o.Bytes
	e.Flows += o.Flows
	if !o.First.IsZero() && (e.FirstSeen.IsZero() || o.First.Before(e.FirstSeen)) {
		e.FirstSeen = o.First
	}
	if o.Last.After(e.LastSeen) {
		e.LastSeen = o.Last
	}
	if inv.want != 0 {
		if !ok {
			inv.dirtyConvs[k] = inv.want
		} else if inv.dirtyConvs[k] != inv.want {
			inv.warmConvs[k] = inv.want
		}
	}
	if !ok {
		for _, id := range []model.AssetID{e.Client, e.Server} {
			if a := inv.assets[id]; a != nil && o.Protocol != "" && !slices.Contains(a.Protocols, o.Protocol) {
				a.Protocols = addString(a.Protocols, o.Protocol)
				inv.touch(a)
			}
		}
	}
}

// convKey identifies a conversation in memory; it is model.Conversation.Key
// as a comparable value, so looking one up allocates nothing.
type convKey struct {
	clientIP, serverIP   netip.Addr
	clientMAC, serverMAC model.MAC
	port                 uint16
	transport            string
}

func keyOf(c *model.Conversation) convKey {
	return convKey{clientIP: c.ClientIP, serverIP: c.ServerIP, clientMAC: c.ClientMAC, serverMAC: c.ServerMAC,
		port: c.Port, transport: c.Transport}
}

// owner names the asset an endpoint belongs to without creating one: the
// owner of its IP, else its MAC's asset, else the ID it would get.
func (inv *Inventory) owner(ep model.Endpoint) model.AssetID {
	if ep.IP.IsValid() {
		if id, ok := inv.byIP[ep.IP]; ok {
			return id
		}
		if mi := inv.byMAC[ep.MAC]; mi != nil && !mi.gateway {
			return mi.asset
		}
		return model.IPAssetID(ep.IP)
	}
	if mi := inv.byMAC[ep.MAC]; mi != nil {
		return mi.asset
	}
	if ep.MAC.IsUnicast() {
		return model.MACAssetID(ep.MAC)
	}
	return ""
}

// addString inserts s into a sorted set.
func addString(lst []string, s string) []string {
	i, found := slices.BinarySearch(lst, s)
	if found {
		return lst
	}
	return slices.Insert(lst, i, s)
}

func addSorted[T int | uint16](lst []T, v T) []T {
	i, found := slices.BinarySearch(lst, v)
	if found {
		return lst
	}
	return slices.Insert(lst, i, v)
}

func addAddr(lst []netip.Addr, a netip.Addr) []netip.Addr {
	i, found := slices.BinarySearchFunc(lst, a, netip.Addr.Compare)
	if found {
		return lst
	}
	return slices.Insert(lst, i, a)
}
