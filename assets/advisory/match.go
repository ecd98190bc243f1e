package advisory

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"otscope/model"
)

// Confidence says how sure a match is.
type Confidence int

// Confidence levels, weakest first.
const (
	// ConfidenceName: the product matches (by name or order number) but the
	// version could not be decided: the range is not machine-readable, the
	// firmware is unknown, or the two cannot be compared.
	ConfidenceName Confidence = iota + 1
	// ConfidenceNameVersion: the product name matches and the firmware is
	// in the affected range (or all versions are affected).
	ConfidenceNameVersion
	// ConfidenceOrderNumber: the order number is one the advisory lists and
	// the firmware is in the affected range (or all versions are affected).
	ConfidenceOrderNumber
)

func (c Confidence) String() string {
	switch c {
	case ConfidenceName:
		return "product, version not decided"
	case ConfidenceNameVersion:
		return "product name + version"
	case ConfidenceOrderNumber:
		return "order number + version"
	}
	return fmt.Sprintf("Confidence(%d)", int(c))
}

// Match is an advisory that applies to an asset, with the evidence.
type Match struct {
	AdvisoryID string
	Title      string
	URL        string
	Published  time.Time
	Updated    time.Time
	// ProductID and ProductName are the advisory product that matched best;
	// Versions is its version expression as written.
	ProductID   string
	ProductName string
	Versions    string
	// Module is "" when the asset itself matched, else the module:
	// "module 0/2 CPU 315-2 PN/DP".
	Module string
	CVEs   []string
	// MaxCVSS is the highest CVSS base score of CVEs, Vector its vector.
	MaxCVSS float64
	Vector  string
	// KEV is set when a CVE is in the KEV catalog; KEVCVEs lists those,
	// KEVDateAdded is the earliest dateAdded, Ransomware is set when the
	// catalog lists known ransomware use, RequiredAction is its text.
	KEV            bool
	KEVCVEs        []string
	KEVDateAdded   time.Time
	Ransomware     bool
	RequiredAction string
	// Remediation is the most useful remediation text: the vendor fix, else
	// a mitigation; Remediations are all that name the product.
	Remediation  string
	Remediations []Remediation
	// Reason explains the match: "vendor Siemens, order number 6ES7
	// 315-2EH14-0AB0 in model numbers, firmware V3.2.7 < V3.2.16".
	Reason     string
	Confidence Confidence
}

// identity is the asset or one of its modules, as matching sees it.
type identity struct {
	label    string // "" for the asset, "module 0/2 CPU 315-2 PN/DP"
	product  string
	orders   []string // normOrder
	rawOrder map[string]string
	tokens   map[string]bool
	codes    []string // upper-case tokens and order numbers for patterns
	derived  []string // "order number 6ES7 516-3AN02-0AB0 is a SIMATIC S7-1500"
	firmware string
	fw       Version // firmware parsed; fwErr when it does not parse
	fwErr    error
	serial   string
	series   string
}

// Match returns the advisories that apply to asset a, strongest first (KEV,
// then confidence, then CVSS). The asset's vendor must be known; the asset
// and each of its modules (with their own order numbers and firmware) are
// matched. Match only reads db and a.
func (db *DB) Match(a *model.Asset) []Match {
	if a == nil || len(db.vendors) == 0 {
		return nil
	}
	vendors := []string{a.Vendor}
	for _, v := range a.FactValues(model.FieldVendor) {
		if !slices.Contains(vendors, v) {
			vendors = append(vendors, v)
		}
	}
	var keys []string
	for _, v := range vendors {
		if strings.TrimSpace(v) == "" {
			continue
		}
		for _, k := range vendorKeys(v) {
			if !slices.Contains(keys, k) && db.vendors[k] != nil {
				keys = append(keys, k)
			}
		}
	}
	if len(keys) == 0 {
		return nil
	}
	ids := identities(a, keys)
	best := map[*Advisory]*candidate{}
	for _, id := range ids {
		for _, k := range keys {
			for _, r := range db.vendors[k].candidates(id) {
				c := r.check(id)
				if c == nil {
					continue
				}
				c.vendor = a.Vendor
				if b := best[r.adv]; b == nil || c.score > b.score {
					best[r.adv] = c
				} else if c.score == b.score {
					b.others = append(b.others, c)
				}
			}
		}
	}
	out := make([]Match, 0, len(best))
	for adv, c := range best {
		if m, ok := c.match(adv); ok {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(x, y Match) int {
		switch {
		case x.KEV != y.KEV:
			if x.KEV {
				return -1
			}
			return 1
		case x.Confidence != y.Confidence:
			return int(y.Confidence - x.Confidence)
		case x.MaxCVSS != y.MaxCVSS:
			if x.MaxCVSS > y.MaxCVSS {
				return -1
			}
			return 1
		}
		return strings.Compare(x.AdvisoryID, y.AdvisoryID)
	})
	return out
}

// identities returns the asset and its modules as matching sees them.
func identities(a *model.Asset, keys []string) []*identity {
	products := []string{a.Product}
	for _, p := range a.FactValues(model.FieldProduct) {
		if !slices.Contains(products, p) {
			products = append(products, p)
		}
	}
	orders := []string{a.OrderNumber}
	for _, o := range a.FactValues(model.FieldOrderNumber) {
		if !slices.Contains(orders, o) {
			orders = append(orders, o)
		}
	}
	ids := []*identity{newIdentity("", products, orders, a.Firmware, a.Serial, a.HardwareVersion, keys)}
	for _, m := range a.Modules {
		if m.Product == "" && m.OrderNumber == "" {
			continue
		}
		if normOrder(m.OrderNumber) == normOrder(a.OrderNumber) && m.Firmware == a.Firmware {
			continue // the module the asset is (a CPU reporting itself)
		}
		label := fmt.Sprintf("module %d/%d %s", m.Rack, m.Slot, strings.TrimSpace(m.Product+" "+m.OrderNumber))
		ids = append(ids, newIdentity(label, []string{m.Product}, []string{m.OrderNumber}, m.Firmware, m.Serial, "", keys))
	}
	return ids
}

func newIdentity(label string, products, orders []string, fw, serial, hw string, keys []string) *identity {
	id := &identity{label: label, tokens: map[string]bool{}, rawOrder: map[string]string{}, firmware: strings.TrimSpace(fw), serial: serial}
	id.fw, id.fwErr = parseAssetVersion(id.firmware)
	for _, p := range products {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if id.product == "" {
			id.product = p
		}
		id.addText(p)
		if id.series == "" {
			id.series = assetSeries(hw, p)
		}
		for _, fam := range derive(keys, strings.ToUpper(p)) {
			id.addText(fam)
			id.derived = append(id.derived, fmt.Sprintf("%q is a %s", p, fam))
		}
	}
	if id.series == "" {
		id.series = assetSeries(hw, "")
	}
	for _, o := range orders {
		n := normOrder(o)
		if n == "" || slices.Contains(id.orders, n) {
			continue
		}
		id.orders = append(id.orders, n)
		id.rawOrder[n] = strings.TrimSpace(o)
		id.addText(o)
		id.addText(n)
		for _, fam := range derive(keys, n) {
			id.addText(fam)
			id.derived = append(id.derived, fmt.Sprintf("order number %s is a %s", strings.TrimSpace(o), fam))
		}
	}
	return id
}

// addText adds the tokens of a name: each token, its parts split at '-'
// and '/', and its prefixes at those boundaries ("eds-g516e-4gsfp" gives
// "eds", "eds-g516e", "g516e", "4gsfp").
func (id *identity) addText(s string) {
	for _, t := range tokenize(s) {
		id.tokens[t] = true
		up := strings.ToUpper(t)
		if !slices.Contains(id.codes, up) {
			id.codes = append(id.codes, up)
		}
		start := 0
		for i := 0; i < len(t); i++ {
			if t[i] == '-' || t[i] == '/' {
				if i > start {
					id.tokens[t[start:i]] = true
				}
				id.tokens[t[:i]] = true
				start = i + 1
			}
		}
		if start > 0 && start < len(t) {
			id.tokens[t[start:]] = true
		}
	}
}

// candidates returns the products of one company an identity may match.
func (vi *vendorIndex) candidates(id *identity) []*prodRef {
	var out []*prodRef
	seen := map[*prodRef]bool{}
	add := func(rs []*prodRef) {
		for _, r := range rs {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	for _, o := range id.orders {
		add(vi.byModel[o])
	}
	for t := range id.tokens {
		add(vi.byToken[t])
	}
	for _, c := range id.codes {
		for n := minPrefix; n <= maxPrefix && n <= len(c); n++ {
			add(vi.byPrefix[c[:n]])
		}
	}
	add(vi.scan)
	return out
}

// candidate is a product that matched an identity, before the advisory's
// matches are combined.
type candidate struct {
	r       *prodRef
	id      *identity
	vendor  string
	order   bool   // matched by order number
	how     int    // how*: which rule matched
	code    string // the asset's order number that matched
	pattern string // the advisory's part-number pattern that matched
	generic bool   // matched by vendor only (the product is "OS")
	score   int
	verdict checkResult
	others  []*candidate // equally specific products of the same advisory
}

// check decides whether product r matches identity id, and how well. The
// rules, in order:
//  1. The advisory lists order numbers (model numbers, or part numbers in
//     the product name) and the asset has one: they decide.
//  2. Otherwise a part-number pattern matching a code in the asset's
//     product name, or every significant word of the product name present
//     in the asset's names (with families derived from order numbers:
//     6ES7 516-... is an S7-1500), matches.
//  3. "except ..." exclusions, a Rockwell series ("MicroLogix 1400 B/C")
//     and product lines in the name ("S7-400 PN/DP V6") must not contradict
//     the asset.
func (r *prodRef) check(id *identity) *candidate {
	c := &candidate{r: r, id: id}
	hasModels := len(r.models) > 0 || len(r.globs) > 0
	hasCodes := len(r.name.codes) > 0
	matched := 0
	switch {
	case hasModels && len(id.orders) > 0:
		o, ok := r.matchModel(id)
		if !ok {
			return nil
		}
		c.order, c.how, c.code = true, howModel, o
	case hasCodes && len(id.orders) > 0:
		o, code, ok := r.matchCode(id.orders)
		if !ok {
			return nil
		}
		c.order, c.how, c.code, c.pattern = true, howOrderCode, o, code
	case r.name.generic:
		c.generic, c.how = true, howGeneric
	default:
		if _, code, ok := r.matchCode(id.codes); ok {
			c.how, c.pattern = howProductCode, code
			break
		}
		n, ok := r.matchName(id)
		if !ok {
			return nil
		}
		matched, c.how = n, howName
	}
	for _, ex := range r.name.exclusions {
		if allIn(ex, id.tokens) {
			return nil
		}
	}
	if len(r.name.series) > 0 && id.series != "" && !slices.Contains(r.name.series, id.series) {
		return nil
	}
	if id.firmware != "" && id.fwErr == nil {
		for _, l := range r.name.lines {
			if cmp, ok := compareAt(id.fw, l.v); ok && !opHolds(l.op, cmp) {
				return nil
			}
		}
	}
	switch spec := &r.p.Versions; {
	case spec.Kind == SpecSerial:
		if in, ok := spec.ContainsSerial(id.serial); ok {
			c.verdict = checkResult{in: in, ok: true}
			if in {
				c.verdict.why = fmt.Sprintf("serial %s: %s", id.serial, spec.Problem)
			}
		} else {
			c.verdict = checkResult{why: "affected " + spec.Problem + ", serial number unknown"}
		}
	case id.firmware == "" && spec.Kind == SpecRanges:
		c.verdict = checkResult{why: "firmware unknown, affected " + spec.String()}
	default:
		c.verdict = spec.checkParsed(id.firmware, id.fw, id.fwErr)
	}
	if c.verdict.ok && !c.verdict.in {
		return nil
	}
	if c.order || matched == 0 {
		// Among products found by order number or part number, the one
		// whose name the asset also has is the better one (ControlLogix
		// 5580 rather than GuardLogix 5580 for a 1756-L83E).
		for _, t := range r.name.required {
			if id.tokens[t] {
				matched++
			}
		}
	}
	for _, t := range r.name.optional {
		if id.tokens[t] {
			matched++
		}
	}
	c.score = matched
	if c.order {
		c.score += 1000
	}
	if c.verdict.ok {
		c.score += 100
	}
	return c
}

// Ways a product matched, for the reason text.
const (
	howModel       = iota + 1 // order number in the model numbers
	howOrderCode              // order number matches a part-number pattern of the name
	howProductCode            // a code in the product name matches a part-number pattern
	howName                   // the product name's words
	howGeneric                // the advisory's product is only "OS"
)

// describe says how the candidate matched, in words.
func (c *candidate) describe() string {
	id := c.id
	switch c.how {
	case howModel:
		return fmt.Sprintf("order number %s in model numbers", id.rawOrder[c.code])
	case howOrderCode:
		return fmt.Sprintf("order number %s matches part number %s", id.rawOrder[c.code], c.pattern)
	case howProductCode:
		return fmt.Sprintf("product %q matches part number %s", id.product, c.pattern)
	case howGeneric:
		return fmt.Sprintf("the advisory names the product only as %q, which every %s device runs", strings.TrimSpace(c.r.p.Name), c.r.p.Vendor)
	}
	s := fmt.Sprintf("product name matches %q", id.product)
	if len(id.derived) > 0 {
		s += " (" + strings.Join(id.derived, "; ") + ")"
	}
	return s
}

// matchModel matches the identity's order numbers against the model numbers.
func (r *prodRef) matchModel(id *identity) (string, bool) {
	for _, o := range id.orders {
		if slices.Contains(r.models, o) {
			return o, true
		}
		for _, g := range r.globs {
			if g.MatchString(o) {
				return o, true
			}
		}
	}
	return "", false
}

// matchCode matches codes against the part-number patterns of the name.
func (r *prodRef) matchCode(codes []string) (code, pattern string, ok bool) {
	for _, o := range codes {
		for i, re := range r.name.codes {
			if re.MatchString(o) {
				return o, r.name.codeText[i], true
			}
		}
	}
	return "", "", false
}

// matchName reports whether every required token and pattern of the product
// name is among the identity's tokens, and how many matched.
func (r *prodRef) matchName(id *identity) (int, bool) {
	for _, f := range r.name.families {
		for t := range id.tokens {
			if strings.HasPrefix(t, f) && (len(t) == len(f) || isDigit(t[len(f)])) {
				return 1, true
			}
		}
	}
	n := len(r.name.required) + len(r.name.globs)
	if n == 0 {
		return 0, false
	}
	if !allIn(r.name.required, id.tokens) {
		return 0, false
	}
	for _, g := range r.name.globs {
		found := false
		for t := range id.tokens {
			if g.re.MatchString(t) {
				found = true
				break
			}
		}
		if !found {
			return 0, false
		}
	}
	return n, true
}

func allIn(ts []string, set map[string]bool) bool {
	for _, t := range ts {
		if !set[t] {
			return false
		}
	}
	return true
}

// match turns the best candidate (and equally good ones) of an advisory
// into a Match.
func (c *candidate) match(adv *Advisory) (Match, bool) {
	all := append([]*candidate{c}, c.others...)
	p := c.r.p
	m := Match{
		AdvisoryID: adv.ID, Title: adv.Title, URL: adv.URL, Published: adv.Published, Updated: adv.Updated,
		ProductID: p.ID, ProductName: displayName(p), Versions: strings.TrimSpace(p.Raw), Module: c.id.label,
	}
	switch {
	case !c.verdict.ok || c.generic:
		m.Confidence = ConfidenceName
	case c.order:
		m.Confidence = ConfidenceOrderNumber
	default:
		m.Confidence = ConfidenceNameVersion
	}
	var vulns []*Vuln
	for _, x := range all {
		for _, v := range x.r.vulns {
			if !slices.Contains(vulns, v) {
				vulns = append(vulns, v)
			}
		}
	}
	for _, v := range vulns {
		m.CVEs = append(m.CVEs, v.CVE)
		if v.CVSS > m.MaxCVSS {
			m.MaxCVSS, m.Vector = v.CVSS, v.Vector
		}
		if k := v.KEV; k != nil {
			m.KEV = true
			m.KEVCVEs = append(m.KEVCVEs, v.CVE)
			if m.KEVDateAdded.IsZero() || k.DateAdded.Before(m.KEVDateAdded) {
				m.KEVDateAdded = k.DateAdded
			}
			m.Ransomware = m.Ransomware || k.Ransomware()
			if m.RequiredAction == "" {
				m.RequiredAction = k.RequiredAction
			}
		}
		for _, rem := range v.Remediations {
			if !applies(rem, all) || slices.ContainsFunc(m.Remediations, func(x Remediation) bool {
				return x.Category == rem.Category && x.Details == rem.Details && x.URL == rem.URL
			}) {
				continue
			}
			m.Remediations = append(m.Remediations, rem)
		}
	}
	slices.Sort(m.CVEs)
	m.CVEs = slices.Compact(m.CVEs)
	slices.Sort(m.KEVCVEs)
	m.KEVCVEs = slices.Compact(m.KEVCVEs)
	m.Remediation = bestRemediation(m.Remediations)

	var why []string
	why = append(why, "vendor "+strings.TrimSpace(c.vendor))
	if c.id.label != "" {
		why = append(why, c.id.label)
	}
	why = append(why, c.describe())
	if c.verdict.why != "" {
		v := c.verdict.why
		if c.verdict.ok && c.verdict.in && p.Versions.Kind == SpecRanges && !strings.HasPrefix(v, "serial") {
			v = "firmware " + v
		}
		why = append(why, v)
	}
	if n := p.Versions.Note; n != "" && !reOnlyCVE.MatchString(n) {
		why = append(why, "note: "+n)
	}
	if len(p.Versions.OnlyCVEs) > 0 {
		why = append(why, "only "+strings.Join(p.Versions.OnlyCVEs, ", "))
	}
	for _, n := range c.r.name.notes {
		why = append(why, "product note: "+n)
	}
	if len(c.r.name.series) > 0 && c.id.series == "" {
		why = append(why, "series "+strings.Join(c.r.name.series, "/")+" not known for the asset")
	}
	m.Reason = strings.Join(why, ", ")
	return m, true
}

func displayName(p *Product) string {
	if p.Relationship != "" {
		return p.Relationship
	}
	if p.FullName != "" {
		return p.FullName
	}
	return p.Name
}

func applies(rem Remediation, cs []*candidate) bool {
	if len(rem.ProductIDs) == 0 {
		return true
	}
	for _, c := range cs {
		if slices.Contains(rem.ProductIDs, c.r.p.ID) {
			return true
		}
	}
	return false
}

// bestRemediation picks the text to show first: a vendor fix, then a
// workaround or mitigation, then "no fix planned".
func bestRemediation(rs []Remediation) string {
	for _, cat := range []string{"vendor_fix", "workaround", "mitigation", "no_fix_planned", "none_available"} {
		for _, r := range rs {
			if r.Category == cat {
				s := r.Details
				if r.URL != "" {
					s += " (" + r.URL + ")"
				}
				return s
			}
		}
	}
	return ""
}
