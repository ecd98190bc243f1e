// Package merge joins sessions (from two jump hosts, or two visits) into
// one: assets are matched by MAC, then by IP within a site; their facts are
// unioned with their provenance, so conflicting values are kept side by
// side; services, conversations and capture statistics are unioned with
// their counters added; journals (waivers, state history, scan log and any
// other) are merged by time.
package merge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"otscope/assets/bundle"
	"otscope/model"
)

// ErrSelf is returned when a session is given twice.
var ErrSelf = errors.New("a session cannot be merged with itself")

// ErrNothing is returned for fewer than two sessions.
var ErrNothing = errors.New("merge needs at least two sessions")

// Report says what a merge did.
type Report struct {
	// Inputs are the merged sessions' names, in order.
	Inputs []string `json:"inputs"`
	// Assets is the number of assets after the merge; Joined counts the
	// input assets that were joined to one from an earlier input.
	Assets int `json:"assets"`
	Joined int `json:"joined"`
	// Conflicts are the assets whose devices' statements disagree after the
	// merge (another firmware, serial or order number), with the fields.
	Conflicts []Conflict `json:"conflicts"`
	// Renamed are assets whose ID was taken by a different device of
	// another site: they keep their identity under ID@site.
	Renamed map[model.AssetID]model.AssetID `json:"renamed,omitempty"`
}

// Conflict is one asset with disagreeing identity facts.
type Conflict struct {
	Asset  model.AssetID `json:"asset"`
	Fields []string      `json:"fields"`
	// Values are the distinct values of each field, with where each came from.
	Values map[string][]string `json:"values"`
}

// Sessions merges the sessions, in order, into a new session named into.
// Inputs are not changed. A name given twice is refused with ErrSelf.
func Sessions(into string, in ...bundle.Session) (bundle.Session, Report, error) {
	rep := Report{Renamed: map[model.AssetID]model.AssetID{}}
	if len(in) < 2 {
		return bundle.Session{}, rep, ErrNothing
	}
	for i := range in {
		rep.Inputs = append(rep.Inputs, in[i].Name)
		for j := range i {
			if in[i].Name == in[j].Name {
				return bundle.Session{}, rep, fmt.Errorf("%q: %w", in[i].Name, ErrSelf)
			}
		}
	}
	m := &merger{byMAC: map[siteMAC]int{}, byIP: map[siteIP]int{}, byID: map[model.AssetID]int{}}
	out := bundle.Session{Name: into, Site: in[0].Site, Sensor: in[0].Sensor}
	for i := range in {
		s := &in[i]
		if s.Site != out.Site {
			out.Site = ""
		}
		if s.Sensor != out.Sensor {
			out.Sensor = ""
		}
		if out.Created.IsZero() || (!s.Created.IsZero() && s.Created.Before(out.Created)) {
			out.Created = s.Created
		}
		if s.Updated.After(out.Updated) {
			out.Updated = s.Updated
		}
		remap := map[model.AssetID]model.AssetID{}
		for k := range s.Assets {
			id, joined := m.add(s.Site, s.Assets[k].Clone(), rep.Renamed)
			remap[s.Assets[k].ID] = id
			if joined {
				rep.Joined++
			}
		}
		m.addConversations(s.Conversations, remap)
		m.addStats(s.Name, s.Stats)
		m.addJournals(s.Journals, remap)
	}
	out.Assets = m.assets
	for i := range out.Assets {
		finish(&out.Assets[i])
		if f := out.Assets[i].Conflicts(); len(f) > 0 {
			c := Conflict{Asset: out.Assets[i].ID, Fields: f, Values: map[string][]string{}}
			for _, field := range f {
				for _, fact := range out.Assets[i].Facts {
					if fact.Field == field && fact.Source.Kind != model.Derived {
						c.Values[field] = append(c.Values[field], fact.Value+" ("+fact.Source.Kind.String()+" "+fact.Source.Protocol+", "+fact.Source.Origin+")")
					}
				}
			}
			rep.Conflicts = append(rep.Conflicts, c)
		}
	}
	for _, c := range m.convs {
		out.Conversations = append(out.Conversations, *c)
	}
	out.Stats = m.stats
	out.Journals = m.journals()
	out.Normalize()
	slices.SortFunc(rep.Conflicts, func(a, b Conflict) int { return strings.Compare(string(a.Asset), string(b.Asset)) })
	rep.Assets = len(out.Assets)
	if len(rep.Renamed) == 0 {
		rep.Renamed = nil
	}
	return out, rep, nil
}

type siteMAC struct {
	site string
	mac  model.MAC
}

type siteIP struct {
	site string
	ip   netip.Addr
}

type merger struct {
	assets []model.Asset
	site   []string // of each asset
	byMAC  map[siteMAC]int
	byIP   map[siteIP]int
	byID   map[model.AssetID]int
	convs  map[string]*model.Conversation
	stats  []model.CaptureStats
	jnames []string
	jrecs  map[string][]json.RawMessage
}

// add merges a into the asset of the same device at the site, or adds it.
func (m *merger) add(site string, a model.Asset, renamed map[model.AssetID]model.AssetID) (model.AssetID, bool) {
	at := -1
	for _, mac := range a.MACs {
		if i, ok := m.byMAC[siteMAC{site, mac}]; ok && mac.IsUnicast() {
			at = i
			break
		}
	}
	if at < 0 && !a.Gateway {
		for _, ip := range a.IPs {
			if i, ok := m.byIP[siteIP{site, ip}]; ok && !m.assets[i].Gateway {
				at = i
				break
			}
		}
	}
	if at < 0 {
		if i, ok := m.byID[a.ID]; ok && m.site[i] == site && len(a.MACs) == 0 && len(a.IPs) == 0 {
			at = i // sub-devices behind a router: same ID, same site
		}
	}
	if at >= 0 {
		join(&m.assets[at], &a)
		m.index(at, site)
		return m.assets[at].ID, true
	}
	if _, taken := m.byID[a.ID]; taken {
		old := a.ID
		a.ID = model.AssetID(string(a.ID) + "@" + site)
		for n := 2; ; n++ {
			if _, taken := m.byID[a.ID]; !taken {
				break
			}
			a.ID = model.AssetID(fmt.Sprintf("%s@%s#%d", old, site, n))
		}
		renamed[old] = a.ID
	}
	m.assets = append(m.assets, a)
	m.site = append(m.site, site)
	m.index(len(m.assets)-1, site)
	return a.ID, false
}

func (m *merger) index(i int, site string) {
	a := &m.assets[i]
	m.byID[a.ID] = i
	for _, mac := range a.MACs {
		if mac.IsUnicast() {
			m.byMAC[siteMAC{site, mac}] = i
		}
	}
	if !a.Gateway {
		for _, ip := range a.IPs {
			m.byIP[siteIP{site, ip}] = i
		}
	}
}

// join adds src's addresses, facts, services and counters to dst, with the
// inventory's rules: a fact is one field and value, its counts added and
// its latest sighting kept; a service is one transport, address and port.
func join(dst, src *model.Asset) {
	dst.MACs = union(dst.MACs, src.MACs, func(x, y model.MAC) int { return bytes.Compare(x[:], y[:]) })
	dst.IPs = union(dst.IPs, src.IPs, netip.Addr.Compare)
	dst.VLANs = union(dst.VLANs, src.VLANs, func(x, y uint16) int { return int(x) - int(y) })
	dst.Protocols = union(dst.Protocols, src.Protocols, strings.Compare)
	dst.Gateway = dst.Gateway || src.Gateway
	if dst.FirstSeen.IsZero() || (!src.FirstSeen.IsZero() && src.FirstSeen.Before(dst.FirstSeen)) {
		dst.FirstSeen = src.FirstSeen
	}
	if src.LastSeen.After(dst.LastSeen) {
		dst.LastSeen = src.LastSeen
	}
	dst.Packets += src.Packets
	dst.Bytes += src.Bytes
	for _, f := range src.Facts {
		i := slices.IndexFunc(dst.Facts, func(e model.Fact) bool { return e.Field == f.Field && e.Value == f.Value })
		if i < 0 {
			dst.Facts = append(dst.Facts, f)
			continue
		}
		e := &dst.Facts[i]
		e.Count += max(f.Count, 1)
		if f.LastSeen.After(e.LastSeen) {
			e.LastSeen = f.LastSeen
		}
		if rank(f.Source.Kind) > rank(e.Source.Kind) ||
			(rank(f.Source.Kind) == rank(e.Source.Kind) && f.Source.Time.Before(e.Source.Time) && !f.Source.Time.IsZero()) {
			e.Source = f.Source // better provenance, or the first sighting
		}
	}
	for _, s := range src.Services {
		i := slices.IndexFunc(dst.Services, func(e model.Service) bool { return e.Key() == s.Key() })
		if i < 0 {
			dst.Services = append(dst.Services, s)
			continue
		}
		e := &dst.Services[i]
		if s.FirstSeen.Before(e.FirstSeen) && !s.FirstSeen.IsZero() {
			e.FirstSeen = s.FirstSeen
		}
		if s.LastSeen.After(e.LastSeen) {
			e.LastSeen = s.LastSeen
		}
		if e.Protocol == e.Transport && s.Protocol != s.Transport {
			e.Protocol = s.Protocol
		}
	}
	slices.SortFunc(dst.Services, model.Service.Compare)
	dst.Names = appendNew(dst.Names, src.Names)
	dst.Roles = appendNew(dst.Roles, src.Roles)
	if dst.Vendor == "" {
		dst.Vendor = src.Vendor
	}
	if src.ProtocolIDs != nil && dst.ProtocolIDs == nil {
		ids := *src.ProtocolIDs
		dst.ProtocolIDs = &ids
	}
	for _, mod := range src.Modules {
		if !slices.Contains(dst.Modules, mod) {
			dst.Modules = append(dst.Modules, mod)
		}
	}
	// Identity fields are settled by finish, from the facts; a field with
	// no fact keeps the first input's value, else the second's.
	from := []string{src.Product, src.OrderNumber, src.Firmware, src.HardwareVersion, src.Serial, src.DeviceType, src.OperatingMode}
	for i, f := range []*string{&dst.Product, &dst.OrderNumber, &dst.Firmware, &dst.HardwareVersion, &dst.Serial, &dst.DeviceType, &dst.OperatingMode} {
		if *f == "" {
			*f = from[i]
		}
	}
}

// identityFields are the asset fields that mirror an identity fact.
var identityFields = []struct {
	field string
	get   func(*model.Asset) *string
}{
	{model.FieldProduct, func(a *model.Asset) *string { return &a.Product }},
	{model.FieldOrderNumber, func(a *model.Asset) *string { return &a.OrderNumber }},
	{model.FieldFirmware, func(a *model.Asset) *string { return &a.Firmware }},
	{model.FieldHardwareVersion, func(a *model.Asset) *string { return &a.HardwareVersion }},
	{model.FieldSerial, func(a *model.Asset) *string { return &a.Serial }},
	{model.FieldDeviceType, func(a *model.Asset) *string { return &a.DeviceType }},
}

// finish settles a merged asset's display values: a value a person entered
// (a walkdown's manual fact) wins; otherwise the device's own statement
// seen most often, which is what the inventory shows.
func finish(a *model.Asset) {
	for _, idf := range identityFields {
		best, bestRank, bestCount := "", -1, uint64(0)
		for _, f := range a.Facts {
			if f.Field != idf.field {
				continue
			}
			r := 1
			switch {
			case f.Source.Kind == model.Manual:
				r = 3
			case f.Source.Kind == model.Derived:
				r = 0
			case f.Detail == "":
				r = 2
			}
			if r > bestRank || (r == bestRank && f.Count > bestCount) {
				best, bestRank, bestCount = f.Value, r, f.Count
			}
		}
		if bestRank >= 0 {
			*idf.get(a) = best
		}
	}
	bestVendor := 0
	for _, f := range a.Facts {
		if f.Field != model.FieldVendor {
			continue
		}
		r := 1
		switch f.Source.Kind {
		case model.Manual:
			r = 3
		case model.Derived:
		default:
			r = 2
		}
		if r > bestVendor {
			a.Vendor, bestVendor = f.Value, r
		}
	}
	for _, f := range a.Facts {
		if f.Source.Kind == model.Manual && (f.Field == model.FieldHostname || f.Field == model.FieldStationName) {
			a.Names = slices.Insert(slices.DeleteFunc(a.Names, func(n string) bool { return n == f.Value }), 0, f.Value)
		}
	}
}

func rank(k model.SourceKind) int {
	switch k {
	case model.Manual:
		return 3
	case model.Active:
		return 2
	case model.Passive:
		return 2
	}
	return 0
}

func union[T comparable](a, b []T, cmp func(T, T) int) []T {
	for _, v := range b {
		if !slices.Contains(a, v) {
			a = append(a, v)
		}
	}
	slices.SortFunc(a, cmp)
	return a
}

func appendNew(a, b []string) []string {
	for _, v := range b {
		if !slices.Contains(a, v) {
			a = append(a, v)
		}
	}
	return a
}

func (m *merger) addConversations(cs []model.Conversation, remap map[model.AssetID]model.AssetID) {
	if m.convs == nil {
		m.convs = map[string]*model.Conversation{}
	}
	for _, c := range cs {
		if id, ok := remap[c.Client]; ok {
			c.Client = id
		}
		if id, ok := remap[c.Server]; ok {
			c.Server = id
		}
		k := c.Key()
		e, ok := m.convs[k]
		if !ok {
			cc := c
			m.convs[k] = &cc
			continue
		}
		e.Packets += c.Packets
		e.Bytes += c.Bytes
		e.Flows += c.Flows
		if !c.FirstSeen.IsZero() && c.FirstSeen.Before(e.FirstSeen) {
			e.FirstSeen = c.FirstSeen
		}
		if c.LastSeen.After(e.LastSeen) {
			e.LastSeen = c.LastSeen
		}
		if e.Protocol == e.Transport && c.Protocol != c.Transport {
			e.Protocol = c.Protocol
		}
	}
}

// addStats adds the capture statistics of one session; a source name that
// another session used for other counters gets the session's name.
func (m *merger) addStats(session string, st []model.CaptureStats) {
	for _, s := range st {
		i := slices.IndexFunc(m.stats, func(e model.CaptureStats) bool { return e.Source == s.Source })
		if i >= 0 && m.stats[i] == s {
			continue
		}
		if i >= 0 {
			s.Source += "@" + session
		}
		m.stats = append(m.stats, s)
	}
}

func (m *merger) addJournals(js []bundle.Journal, remap map[model.AssetID]model.AssetID) {
	if m.jrecs == nil {
		m.jrecs = map[string][]json.RawMessage{}
	}
	var pairs []string
	for from, to := range remap {
		if from != to {
			fq, _ := json.Marshal(string(from))
			tq, _ := json.Marshal(string(to))
			pairs = append(pairs, string(fq), string(tq))
		}
	}
	rep := strings.NewReplacer(pairs...)
	for _, j := range js {
		if _, ok := m.jrecs[j.Name]; !ok {
			m.jnames = append(m.jnames, j.Name)
		}
		for _, r := range j.Records {
			if len(pairs) > 0 {
				r = json.RawMessage(rep.Replace(string(r)))
			}
			m.jrecs[j.Name] = append(m.jrecs[j.Name], r)
		}
	}
}

// journals returns the merged journals: each one's records by time (the
// record's "at" or "time", or its transition's "at"), identical records
// once.
func (m *merger) journals() []bundle.Journal {
	var out []bundle.Journal
	for _, name := range m.jnames {
		recs := m.jrecs[name]
		type rec struct {
			t time.Time
			r json.RawMessage
		}
		rs := make([]rec, 0, len(recs))
		seen := map[string]bool{}
		for _, r := range recs {
			if seen[string(r)] {
				continue
			}
			seen[string(r)] = true
			rs = append(rs, rec{RecordTime(r), r})
		}
		slices.SortStableFunc(rs, func(a, b rec) int { return a.t.Compare(b.t) })
		j := bundle.Journal{Name: name}
		for _, r := range rs {
			j.Records = append(j.Records, r.r)
		}
		out = append(out, j)
	}
	return out
}

// RecordTime returns the time of a journal record: its "at" or "time"
// field, or its transition's "at"; the zero Time when it has none.
func RecordTime(r json.RawMessage) time.Time {
	var v struct {
		At         time.Time `json:"at"`
		Time       time.Time `json:"time"`
		Transition struct {
			At time.Time `json:"at"`
		} `json:"transition"`
	}
	if json.Unmarshal(r, &v) != nil {
		return time.Time{}
	}
	for _, t := range []time.Time{v.At, v.Time, v.Transition.At} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
