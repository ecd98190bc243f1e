package walkdown

import (
	"net/netip"
	"slices"
	"strings"

	"otscope/assets/lifecycle"
	"otscope/model"
)

// Item is one line of a walkdown: an asset with the documented row it
// matched, a documented row no asset matched, or an asset no row matched.
type Item struct {
	// Key is the asset ID, or DocTarget(tag) for a row without an asset.
	Key   string
	Asset *model.Asset // with its manual facts; nil for an unmatched row
	Doc   *model.DocumentedDevice
	// Location is where a person placed the asset, else where the
	// documentation says it is.
	Location model.Location
	// MatchedBy says how the row was matched: "mac", "ip", "serial",
	// "order number + location" ("" when not matched).
	MatchedBy string
	// Ambiguous lists the other side's candidates when the match was
	// ambiguous (asset IDs for a row, tags for an asset); nothing is
	// merged then.
	Ambiguous []string
	Verdict   model.Verdict
}

// Label is the item's short name: the tag, else the asset's label.
func (it *Item) Label() string {
	if it.Doc != nil && it.Doc.Tag != "" {
		return it.Doc.Tag
	}
	if it.Asset != nil {
		return it.Asset.Label()
	}
	return it.Key
}

// Walked reports whether a person gave the item its verdict.
func (it *Item) Walked() bool { return it.Verdict.By != lifecycle.System && it.Verdict.By != "" }

// Evaluation is the walkdown of a session at one moment: every item with
// its verdict.
type Evaluation struct {
	Items []Item
	index map[string]int
	// Documented reports whether any documented inventory was loaded.
	Documented bool
}

// Find returns the index of the item with key, or -1.
func (e *Evaluation) Find(key string) int {
	if i, ok := e.index[key]; ok {
		return i
	}
	return -1
}

// Walkdown returns what the walkdown adds to an asset's export: its
// location, verdict and documented row.
func (e *Evaluation) Walkdown(id model.AssetID) (model.Walkdown, bool) {
	i := e.Find(string(id))
	if i < 0 {
		return model.Walkdown{}, false
	}
	it := &e.Items[i]
	v := it.Verdict
	return model.Walkdown{Location: it.Location.String(), Verdict: &v, Documented: it.Doc}, true
}

// Counts returns how many items have each verdict.
func (e *Evaluation) Counts() map[model.VerdictValue]int {
	out := map[model.VerdictValue]int{}
	for i := range e.Items {
		out[e.Items[i].Verdict.Value]++
	}
	return out
}

// Evaluate matches the documented rows with the assets (the discovered
// ones and the book's manual ones) and gives every item its verdict. It
// reads the book once and runs without holding it.
func (b *Book) Evaluate(assets []model.Asset) *Evaluation {
	docs, facts, verdicts, manual := b.snapshot()
	all := make([]model.Asset, 0, len(assets)+len(manual))
	for i := range assets {
		a := &assets[i]
		if fs := facts[a.ID]; len(fs) > 0 {
			c := *a
			c.Facts = append(slices.Clip(a.Facts), fs...)
			all = append(all, c)
		} else {
			all = append(all, *a)
		}
	}
	all = append(all, manual...)
	locs := make([]model.Location, len(all))
	for i := range all {
		locs[i] = lastLocation(facts[all[i].ID])
	}
	m := newMatcher(all, locs)
	ev := &Evaluation{Documented: len(docs) > 0, index: make(map[string]int, len(all)+len(docs))}
	claims := make([][]int, len(all)) // asset → documented rows that matched it
	type hit struct {
		asset int
		by    string
		amb   []int
	}
	hits := make([]hit, len(docs))
	for i := range docs {
		a, by, amb := m.match(&docs[i])
		hits[i] = hit{a, by, amb}
		if a >= 0 {
			claims[a] = append(claims[a], i)
		}
	}
	docItem := func(i int, h hit) Item {
		d := &docs[i]
		it := Item{Key: DocTarget(d.Tag), Doc: d, Location: model.ParseLocation(d.Location)}
		for _, a := range h.amb {
			it.Ambiguous = append(it.Ambiguous, string(all[a].ID))
		}
		if len(h.amb) > 0 {
			it.MatchedBy = h.by
		}
		return it
	}
	for i := range docs {
		h := hits[i]
		if h.asset >= 0 && len(claims[h.asset]) > 1 {
			// several rows claim one asset: ambiguous for all of them
			it := docItem(i, hit{-1, h.by, []int{h.asset}})
			it.Verdict = model.Verdict{Value: model.VerdictUnverified, Basis: model.BasisNetwork, By: lifecycle.System,
				Why: "ambiguous: " + strings.Join(tagsOf(docs, claims[h.asset]), ", ") + " all match " + all[h.asset].Label() + " by " + h.by}
			ev.add(it, verdicts)
			continue
		}
		if h.asset >= 0 {
			continue // added with its asset below
		}
		it := docItem(i, h)
		if len(h.amb) > 0 {
			it.Verdict = model.Verdict{Value: model.VerdictUnverified, Basis: model.BasisNetwork, By: lifecycle.System,
				Why: "ambiguous: " + strings.Join(it.Ambiguous, ", ") + " all match by " + h.by}
		} else {
			it.Verdict = model.Verdict{Value: model.VerdictUnseen, Basis: model.BasisNetwork, By: lifecycle.System,
				Why: "documented, not seen on the network"}
		}
		ev.add(it, verdicts)
	}
	ambiguousAsset := make(map[int][]string)
	for i := range docs {
		for _, a := range hits[i].amb {
			ambiguousAsset[a] = append(ambiguousAsset[a], docs[i].Tag)
		}
		if a := hits[i].asset; a >= 0 && len(claims[a]) > 1 {
			ambiguousAsset[a] = append(ambiguousAsset[a], docs[i].Tag)
		}
	}
	for i := range all {
		a := &all[i]
		it := Item{Key: string(a.ID), Asset: a, Location: locs[i]}
		switch {
		case len(claims[i]) == 1:
			d := &docs[claims[i][0]]
			it.Doc, it.MatchedBy = d, hits[claims[i][0]].by
			if it.Location == nil {
				it.Location = model.ParseLocation(d.Location)
			}
			it.Verdict = Compare(d, a)
		case len(ambiguousAsset[i]) > 0:
			it.Ambiguous = ambiguousAsset[i]
			it.Verdict = model.Verdict{Value: model.VerdictUnverified, Basis: model.BasisNetwork, By: lifecycle.System,
				Why: "ambiguous: documented rows " + strings.Join(it.Ambiguous, ", ") + " match it"}
		case ev.Documented:
			it.Verdict = model.Verdict{Value: model.VerdictNew, Basis: basisOf(a), By: lifecycle.System, Why: "not in the documented inventory"}
		default:
			it.Verdict = model.Verdict{Value: model.VerdictUnverified, Basis: basisOf(a), By: lifecycle.System, Why: "no documented inventory imported"}
		}
		ev.add(it, verdicts)
	}
	return ev
}

func tagsOf(docs []model.DocumentedDevice, idx []int) []string {
	out := make([]string, len(idx))
	for i, j := range idx {
		out[i] = docs[j].Tag
	}
	return out
}

// basisOf is walkdown for a device a person added, else network.
func basisOf(a *model.Asset) string {
	if strings.HasPrefix(string(a.ID), "manual:") {
		return model.BasisWalkdown
	}
	return model.BasisNetwork
}

// add appends an item, applying a person's verdict on it.
func (e *Evaluation) add(it Item, verdicts map[string]Record) {
	applyPerson(&it, verdicts[it.Key])
	e.index[it.Key] = len(e.Items)
	e.Items = append(e.Items, it)
}

// applyPerson puts a person's verdict over the computed one, keeping the
// fields compared.
func applyPerson(it *Item, r Record) {
	if r.Kind != KindVerdict || r.Verdict == model.VerdictUnverified {
		return
	}
	it.Verdict = model.Verdict{Value: r.Verdict, Basis: model.BasisWalkdown, Compared: it.Verdict.Compared, By: r.By, At: r.At, Why: r.Why}
}

// Refresh re-evaluates one item after a person changed it (a verdict, a
// nameplate value, a location) without evaluating the others.
func (b *Book) Refresh(e *Evaluation, key string) {
	i := e.Find(key)
	if i < 0 {
		return
	}
	it := &e.Items[i]
	b.mu.Lock()
	if it.Asset != nil {
		a := *it.Asset
		// the asset's facts: its own, then the manual ones now known
		own := a.Facts[:0:0]
		for _, f := range a.Facts {
			if f.Source.Kind != model.Manual || (f.Field == model.FieldParent || f.Field == model.FieldSlot) {
				own = append(own, f)
			}
		}
		a.Facts = append(own, b.facts[a.ID]...)
		if m := b.manual[a.ID]; m != nil {
			a = b.manualAsset(m)
		}
		it.Asset = &a
		if l := b.location(a.ID); l != nil {
			it.Location = l
		}
	}
	r, _ := b.personVerdict(key)
	b.mu.Unlock()
	switch {
	case it.Asset != nil && it.Doc != nil && len(it.Ambiguous) == 0:
		it.Verdict = Compare(it.Doc, it.Asset)
	case it.Verdict.By != lifecycle.System:
		// recompute what the machine says without the person's verdict
		switch {
		case len(it.Ambiguous) > 0:
			it.Verdict = model.Verdict{Value: model.VerdictUnverified, Basis: model.BasisNetwork, By: lifecycle.System, Why: "ambiguous"}
		case it.Asset == nil:
			it.Verdict = model.Verdict{Value: model.VerdictUnseen, Basis: model.BasisNetwork, By: lifecycle.System, Why: "documented, not seen on the network"}
		case e.Documented:
			it.Verdict = model.Verdict{Value: model.VerdictNew, Basis: basisOf(it.Asset), By: lifecycle.System, Why: "not in the documented inventory"}
		default:
			it.Verdict = model.Verdict{Value: model.VerdictUnverified, Basis: basisOf(it.Asset), By: lifecycle.System, Why: "no documented inventory imported"}
		}
	}
	applyPerson(it, r)
}

func lastLocation(fs []model.Fact) model.Location {
	for i := len(fs) - 1; i >= 0; i-- {
		if fs[i].Field == model.FieldLocation {
			return model.ParseLocation(fs[i].Value)
		}
	}
	return nil
}

// matcher indexes assets by the keys documented rows are matched with.
type matcher struct {
	assets   []model.Asset
	locs     []model.Location
	byMAC    map[model.MAC][]int
	byIP     map[netip.Addr][]int
	bySerial map[string][]int
	byOrder  map[string][]int
}

func newMatcher(assets []model.Asset, locs []model.Location) *matcher {
	m := &matcher{assets: assets, locs: locs, byMAC: map[model.MAC][]int{}, byIP: map[netip.Addr][]int{},
		bySerial: map[string][]int{}, byOrder: map[string][]int{}}
	for i := range assets {
		a := &assets[i]
		if a.Gateway {
			// a router's MAC carries many hosts: match its IPs only
		} else {
			for _, mac := range a.MACs {
				m.byMAC[mac] = append(m.byMAC[mac], i)
			}
		}
		for _, ip := range a.IPs {
			m.byIP[ip] = append(m.byIP[ip], i)
		}
		for _, s := range observed(a, model.FieldSerial) {
			k := strings.ToUpper(s.value)
			if !slices.Contains(m.bySerial[k], i) {
				m.bySerial[k] = append(m.bySerial[k], i)
			}
		}
		for _, o := range observed(a, model.FieldOrderNumber) {
			k := lifecycle.CanonicalOrderNumber(o.value)
			if !slices.Contains(m.byOrder[k], i) {
				m.byOrder[k] = append(m.byOrder[k], i)
			}
		}
	}
	return m
}

// match finds the asset of a documented row: by MAC, then IP (in the same
// site), then serial, then order number and location. It returns the
// asset's index (-1: none) and how, or the candidates when ambiguous.
func (m *matcher) match(d *model.DocumentedDevice) (int, string, []int) {
	site := model.ParseLocation(d.Location).Site()
	try := func(cands []int, by string, keep func(int) bool) (int, string, []int, bool) {
		var c []int
		for _, i := range cands {
			if keep == nil || keep(i) {
				c = append(c, i)
			}
		}
		switch len(c) {
		case 0:
			return -1, "", nil, false
		case 1:
			return c[0], by, nil, true
		}
		return -1, by, c, true
	}
	if d.MAC != "" {
		if mac, err := model.ParseMAC(d.MAC); err == nil {
			if a, by, amb, ok := try(m.byMAC[mac], "mac", nil); ok {
				return a, by, amb
			}
		}
	}
	if d.IP != "" {
		if ip, err := netip.ParseAddr(d.IP); err == nil {
			sameSite := func(i int) bool {
				s := m.locs[i].Site()
				return site == "" || s == "" || strings.EqualFold(s, site)
			}
			if a, by, amb, ok := try(m.byIP[ip], "ip", sameSite); ok {
				return a, by, amb
			}
		}
	}
	if d.Serial != "" {
		if a, by, amb, ok := try(m.bySerial[strings.ToUpper(d.Serial)], "serial", nil); ok {
			return a, by, amb
		}
	}
	if d.OrderNumber != "" && d.Location != "" {
		loc := model.ParseLocation(d.Location)
		if a, by, amb, ok := try(m.byOrder[lifecycle.CanonicalOrderNumber(d.OrderNumber)], "order number + location",
			func(i int) bool { return m.locs[i].Equal(loc) }); ok {
			return a, by, amb
		}
	}
	return -1, "", nil
}

// obsValue is one observed value of a field and where it came from.
type obsValue struct {
	value, source string
}

// observed returns an asset's values of field: the newest manual one
// (what a person read on the nameplate), then the network's (the summary
// field, the best value discovery has).
func observed(a *model.Asset, field string) []obsValue {
	var out []obsValue
	for i := len(a.Facts) - 1; i >= 0; i-- {
		f := &a.Facts[i]
		if f.Field == field && f.Source.Kind == model.Manual && f.Value != "" {
			out = append(out, obsValue{f.Value, "manual"})
			break
		}
	}
	if strings.HasPrefix(string(a.ID), "manual:") {
		return out
	}
	var net string
	switch field {
	case model.FieldVendor:
		net = a.Vendor
	case model.FieldOrderNumber:
		net = a.OrderNumber
	case model.FieldSerial:
		net = a.Serial
	case model.FieldFirmware:
		net = a.Firmware
	}
	if net != "" && (len(out) == 0 || out[0].value != net) {
		out = append(out, obsValue{net, "network"})
	}
	return out
}

// agree compares a documented value with an observed one.
func agree(field, doc, obs string) bool {
	switch field {
	case model.FieldVendor:
		return sameVendor(doc, obs)
	case model.FieldOrderNumber:
		return lifecycle.CanonicalOrderNumber(doc) == lifecycle.CanonicalOrderNumber(obs)
	case model.FieldSerial:
		return strings.EqualFold(strings.Join(strings.Fields(doc), ""), strings.Join(strings.Fields(obs), ""))
	}
	return model.SameValue(field, doc, obs)
}

// sameVendor compares vendor names by their first word ("Siemens" and
// "Siemens AG", "Rockwell" and "Rockwell Automation").
func sameVendor(x, y string) bool {
	first := func(s string) string {
		s = strings.ToLower(s)
		s = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 || r == ' ' {
				return r
			}
			return ' '
		}, s)
		if f := strings.Fields(s); len(f) > 0 {
			return f[0]
		}
		return ""
	}
	a, b := first(x), first(y)
	return a != "" && a == b
}

// compared lists the identity fields a verdict compares.
var compared = []string{model.FieldVendor, model.FieldOrderNumber, model.FieldSerial, model.FieldFirmware}

// Compare gives the verdict of an asset against its documented row, after
// OPC 10000-81: match when vendor and order number agree and serial and
// firmware agree where both sides have them; compatible when vendor and
// order number agree but serial or firmware differ; mismatch when vendor
// or order number differ; unverified when the order number cannot be
// compared. Manual (nameplate) and network values are both compared where
// they disagree; the basis is walkdown when a manual value was compared.
func Compare(d *model.DocumentedDevice, a *model.Asset) model.Verdict {
	v := model.Verdict{Basis: basisOf(a), By: lifecycle.System}
	differ := map[string]bool{}
	known := map[string]bool{}
	for _, field := range compared {
		dv := d.Field(field)
		if dv == "" {
			continue
		}
		for _, o := range observed(a, field) {
			ok := agree(field, dv, o.value)
			v.Compared = append(v.Compared, model.Comparison{Field: field, Documented: dv, Observed: o.value, Source: o.source, Agree: ok})
			known[field] = true
			if !ok {
				differ[field] = true
			}
			if o.source == "manual" {
				v.Basis = model.BasisWalkdown
			}
		}
	}
	switch {
	case differ[model.FieldVendor] || differ[model.FieldOrderNumber]:
		v.Value, v.Why = model.VerdictMismatch, "documented "+differs(differ, model.FieldVendor, model.FieldOrderNumber)+" differs"
	case !known[model.FieldOrderNumber]:
		v.Value, v.Why = model.VerdictUnverified, "no order number to compare"
	case differ[model.FieldSerial] || differ[model.FieldFirmware]:
		v.Value, v.Why = model.VerdictCompatible, "same vendor and order number; "+differs(differ, model.FieldSerial, model.FieldFirmware)+" differs"
	default:
		v.Value, v.Why = model.VerdictMatch, "vendor and order number agree"
	}
	return v
}

func differs(differ map[string]bool, fields ...string) string {
	var out []string
	for _, f := range fields {
		if differ[f] {
			out = append(out, strings.ReplaceAll(f, "_", " "))
		}
	}
	return strings.Join(out, " and ")
}
