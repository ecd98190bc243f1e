package lifecycle

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"otscope/model"
)

// Evidence is the asset value a rule matched.
type Evidence struct {
	// Field is the fact field ("order_number", "product", "os", "firmware",
	// "snmp.sys_descr", ...); for a module, "module 0/2 order_number".
	Field string `json:"field"`
	Value string `json:"value"`
	// Source is the provenance of the fact holding the value; zero when the
	// value came from the asset's summary fields or a module alone.
	Source model.Source `json:"source,omitzero"`
}

// Result is the lifecycle verdict for an asset or module: the matching
// catalog entry (its phase, vendor term, dates, successor, source, as-of
// date and the catalog it came from), the rule that matched and the value
// it matched.
type Result struct {
	Entry
	// Rule describes the rule that matched:
	// "order number 6ES7 31* → SIMATIC S7-300 CPU".
	Rule     string   `json:"rule"`
	Evidence Evidence `json:"evidence"`
	// Why explains the choice when several entries matched (or says that
	// only one did).
	Why string `json:"why"`
	// Also lists the other entries that matched, most specific first, as
	// "<rule> (<phase>)".
	Also []string `json:"also,omitempty"`
}

// ModuleResult is the verdict for one module of a modular asset.
type ModuleResult struct {
	Module model.Module `json:"module"`
	Result
}

// rule kinds, most specific highest.
const (
	kindOS      = 1 // OS or firmware family
	kindProduct = 2
	kindOrder   = 3
)

var kindWords = [...]string{"", "OS/firmware", "product-name", "order-number"}

// value is one asset value to match, with its provenance.
type value struct {
	field string
	text  string
	src   model.Source
	lower string // text in lower case, for prefilters
	ascii bool   // text is pure ASCII
}

// newValue fills in the lower-case form.
func newValue(field, text string, src model.Source) value {
	ascii := true
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	return value{field: field, text: text, src: src, lower: strings.ToLower(text), ascii: ascii}
}

// subject is what a match looks at: the values of an asset or module.
type subject struct {
	orders, products, oses, firmwares []value
	vendors                           []string // lower case
}

// candidate is the best match of one entry.
type candidate struct {
	idx   int
	kind  int
	score int // letters and digits in the matched span
	rule  string
	ev    Evidence
}

// Match finds the catalog entry for the asset: by order number (asset and
// order-number facts), product name, OS facts and firmware. The most
// specific rule wins: an order-number rule over a product-name rule over an
// OS/firmware rule; within a kind, the longer match (letters and digits of
// the matched text, e.g. a longer order prefix); then the later catalog
// (user files over the default), then the later phase (the more cautious
// verdict), then the ID. ok is false when nothing matched.
func (c *Catalog) Match(a *model.Asset) (Result, bool) {
	var s subject
	s.fromAsset(a)
	return c.match(&s)
}

// MatchModules matches each module of the asset (its order number, and its
// product name with the asset's vendor) and returns the modules that
// matched, in rack/slot order: a rack whose CPU is current can still hold a
// discontinued module.
func (c *Catalog) MatchModules(a *model.Asset) []ModuleResult {
	if len(a.Modules) == 0 {
		return nil
	}
	vendors := assetVendors(a)
	var out []ModuleResult
	for _, m := range a.Modules {
		where := "module " + strconv.Itoa(m.Rack) + "/" + strconv.Itoa(m.Slot) + " "
		s := subject{vendors: vendors}
		if m.OrderNumber != "" {
			s.orders = []value{newValue(where+model.FieldOrderNumber, m.OrderNumber, model.Source{})}
		}
		if m.Product != "" {
			s.products = []value{newValue(where+model.FieldProduct, m.Product, model.Source{})}
		}
		if m.Firmware != "" {
			s.firmwares = []value{newValue(where+model.FieldFirmware, m.Firmware, model.Source{})}
		}
		if r, ok := c.match(&s); ok {
			out = append(out, ModuleResult{Module: m, Result: r})
		}
	}
	return out
}

// fromAsset collects the asset's values: facts first (they carry
// provenance), then the summary fields when no fact holds the same value.
func (s *subject) fromAsset(a *model.Asset) {
	add := func(list *[]value, field, text string, src model.Source) {
		if strings.TrimSpace(text) == "" {
			return
		}
		for _, v := range *list {
			if v.text == text {
				return
			}
		}
		*list = append(*list, newValue(field, text, src))
	}
	for i := range a.Facts {
		f := &a.Facts[i]
		switch f.Field {
		case model.FieldOrderNumber:
			add(&s.orders, f.Field, f.Value, f.Source)
		case model.FieldProduct, model.FieldSNMPSysDescr, model.FieldLLDPSysDesc, model.FieldCDPPlatform:
			add(&s.products, f.Field, f.Value, f.Source)
		case model.FieldOS, model.FieldCDPSoftware:
			add(&s.oses, f.Field, f.Value, f.Source)
		case model.FieldFirmware:
			add(&s.firmwares, f.Field, f.Value, f.Source)
		}
	}
	add(&s.orders, model.FieldOrderNumber, a.OrderNumber, model.Source{})
	add(&s.products, model.FieldProduct, a.Product, model.Source{})
	add(&s.firmwares, model.FieldFirmware, a.Firmware, model.Source{})
	s.vendors = assetVendors(a)
}

// assetVendors returns the asset's vendor names, lower case.
func assetVendors(a *model.Asset) []string {
	var out []string
	add := func(v string) {
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			return
		}
		for _, o := range out {
			if o == v {
				return
			}
		}
		out = append(out, v)
	}
	add(a.Vendor)
	for i := range a.Facts {
		if a.Facts[i].Field == model.FieldVendor {
			add(a.Facts[i].Value)
		}
	}
	return out
}

// vendorOK reports whether one of the subject's vendors names the entry's
// vendor or an alias, at the start of a word: "ge" matches "GE Fanuc" and
// "General Electric" but not "Netgear".
func (s *subject) vendorOK(r *rule) bool {
	for _, v := range s.vendors {
		for _, want := range r.vendors {
			if wordPrefix(v, want) {
				return true
			}
		}
	}
	return false
}

// wordPrefix reports whether w occurs in s where a word starts.
func wordPrefix(s, w string) bool {
	for off := 0; ; {
		i := strings.Index(s[off:], w)
		if i < 0 {
			return false
		}
		i += off
		if i == 0 || !isWordByte(s[i-1]) {
			return true
		}
		off = i + 1
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func (c *Catalog) match(s *subject) (Result, bool) {
	best := map[int]candidate{}
	offer := func(cd candidate) {
		if old, ok := best[cd.idx]; !ok || cd.kind > old.kind || (cd.kind == old.kind && cd.score > old.score) {
			best[cd.idx] = cd
		}
	}
	for _, v := range s.orders {
		n := alnum(v.text)
		for _, l := range c.prefixLens {
			if len(n) < l {
				continue
			}
			for _, i := range c.prefixes[n[:l]] {
				offer(candidate{idx: i, kind: kindOrder, score: l, ev: v.evidence(),
					rule: "order number " + c.rules[i].written[n[:l]] + "* → " + c.entries[i].Family})
			}
		}
		if len(c.orderREs) == 0 {
			continue
		}
		canon := CanonicalOrderNumber(v.text)
		for _, i := range c.orderREs {
			r := c.rules[i]
			// the literal every match starts with must occur somewhere
			// (anywhere: the pattern need not be anchored)
			if !strings.Contains(canon, r.orderLiteral) {
				continue
			}
			if loc := r.orderRE.FindStringIndex(canon); loc != nil {
				offer(candidate{idx: i, kind: kindOrder, score: len(alnum(canon[loc[0]:loc[1]])), ev: v.evidence(),
					rule: "order number ~ /" + r.orderSrc + "/ → " + c.entries[i].Family})
			}
		}
	}
	c.regexps(s, s.products, c.products, kindProduct, "product", true,
		func(r *rule) (*regexp.Regexp, prefilter, string) { return r.productRE, r.productPF, r.productSrc }, offer)
	c.regexps(s, s.oses, c.oses, kindOS, "OS", false,
		func(r *rule) (*regexp.Regexp, prefilter, string) { return r.osRE, r.osPF, r.osSrc }, offer)
	c.regexps(s, s.firmwares, c.firmwares, kindOS, "firmware", true,
		func(r *rule) (*regexp.Regexp, prefilter, string) { return r.fwRE, r.fwPF, r.fwSrc }, offer)
	if len(best) == 0 {
		return Result{}, false
	}
	cands := make([]candidate, 0, len(best))
	for _, cd := range best {
		cands = append(cands, cd)
	}
	sortCandidates(c, cands)
	w := cands[0]
	res := Result{Entry: c.entries[w.idx], Rule: w.rule, Evidence: w.ev, Why: c.why(cands)}
	for _, o := range cands[1:] {
		res.Also = append(res.Also, o.rule+" ("+c.entries[o.idx].Phase.String()+")")
	}
	return res, true
}

// regexps runs one kind of the entries' patterns over vals.
func (c *Catalog) regexps(s *subject, vals []value, idxs []int, kind int, what string, needVendor bool,
	pick func(*rule) (*regexp.Regexp, prefilter, string), offer func(candidate)) {
	if len(vals) == 0 {
		return
	}
	for _, i := range idxs {
		r := c.rules[i]
		if needVendor && !s.vendorOK(r) {
			continue
		}
		re, pf, pat := pick(r)
		for _, v := range vals {
			if !pf.mayMatch(v.lower, v.ascii) {
				continue
			}
			if loc := re.FindStringIndex(v.text); loc != nil {
				offer(candidate{idx: i, kind: kind, score: len(alnum(v.text[loc[0]:loc[1]])), ev: v.evidence(),
					rule: what + " ~ /" + pat + "/ → " + c.entries[i].Family})
			}
		}
	}
}

func (v value) evidence() Evidence { return Evidence{Field: v.field, Value: v.text, Source: v.src} }

// less orders candidates: most specific first, see Match.
func (c *Catalog) less(a, b candidate) bool {
	if a.kind != b.kind {
		return a.kind > b.kind
	}
	if a.score != b.score {
		return a.score > b.score
	}
	if c.prec[a.idx] != c.prec[b.idx] {
		return c.prec[a.idx] > c.prec[b.idx]
	}
	if pa, pb := c.entries[a.idx].Phase, c.entries[b.idx].Phase; pa != pb {
		return pa > pb
	}
	return c.entries[a.idx].Key() < c.entries[b.idx].Key()
}

func sortCandidates(c *Catalog, cs []candidate) {
	// insertion sort: a handful of candidates
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && c.less(cs[j], cs[j-1]); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// why explains why cs[0] beat cs[1].
func (c *Catalog) why(cs []candidate) string {
	if len(cs) == 1 {
		return "only matching entry"
	}
	w, r := cs[0], cs[1]
	other := strconv.Quote(c.entries[r.idx].Family)
	n := strconv.Itoa(len(cs)) + " entries matched; "
	switch {
	case w.kind != r.kind:
		return n + "an " + kindWords[w.kind] + " rule is more specific than the " + kindWords[r.kind] + " rule of " + other
	case w.score != r.score:
		return fmt.Sprintf("%slonger %s match (%d vs %d letters and digits) than %s", n, kindWords[w.kind], w.score, r.score, other)
	case c.prec[w.idx] != c.prec[r.idx]:
		return n + "tie with " + other + " (same rule kind and length): catalog " + strconv.Quote(c.entries[w.idx].Catalog) +
			" was loaded later and wins over " + strconv.Quote(c.entries[r.idx].Catalog)
	case c.entries[w.idx].Phase != c.entries[r.idx].Phase:
		return n + "tie with " + other + " (same rule kind, length and catalog): the later phase (" +
			c.entries[w.idx].Phase.String() + " over " + c.entries[r.idx].Phase.String() + ") is reported, to be safe"
	}
	return n + "tie with " + other + " (same rule kind, length, catalog and phase): first by id"
}
