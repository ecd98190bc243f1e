package policy

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// A prefilter is a necessary condition of an asset rule, derived from its
// expression when the pack is parsed: a conjunction of clauses, each a
// disjunction of features ("has a fact smb.version", "has the role plc").
// An asset whose features miss a whole clause cannot satisfy the rule, and
// CEL would return a plain false for it (its && and || are commutative:
// false wins over errors), so the audit skips the evaluation.

// featKind is what a feature tests on an asset.
type featKind uint8

const (
	featFact        featKind = iota // a fact with this field
	featFunction                    // a "<protocol>.function" fact with this category (folded)
	featService                     // a service with this protocol (folded)
	featServicePort                 // a service on this transport (folded) and port: "tcp/23"
	featRole                        // this role (folded)
	featProtocol                    // this protocol (folded)
	featEqual                       // a string path with this value: "path\x00value"
	featNonEmpty                    // a non-empty string or list path
	featZones                       // zones_defined
)

type feature struct {
	kind featKind
	key  string
}

// clause holds when the asset has at least one of its features.
type clause []feature

// maxClauses bounds the clauses one rule keeps (|| multiplies them).
const maxClauses = 16

// stringPaths and listPaths are the asset paths feature tests read.
var (
	stringPaths = map[string]func(*assetView) string{
		"id":                       func(v *assetView) string { return string(v.a.ID) },
		"vendor":                   func(v *assetView) string { return v.a.Vendor },
		"product":                  func(v *assetView) string { return v.a.Product },
		"order_number":             func(v *assetView) string { return v.a.OrderNumber },
		"firmware":                 func(v *assetView) string { return v.a.Firmware },
		"hardware_version":         func(v *assetView) string { return v.a.HardwareVersion },
		"device_type":              func(v *assetView) string { return v.a.DeviceType },
		"operating_mode":           func(v *assetView) string { return v.a.OperatingMode },
		"lifecycle.phase":          func(v *assetView) string { return v.lifecycle().(*lifecycleVal).f.phase },
		"lifecycle.end_of_support": func(v *assetView) string { return v.lifecycle().(*lifecycleVal).f.endOfSupport },
	}
	listPaths = map[string]func(*assetView) bool{
		"ips":        func(v *assetView) bool { return len(v.a.IPs) > 0 },
		"macs":       func(v *assetView) bool { return len(v.a.MACs) > 0 },
		"names":      func(v *assetView) bool { return len(v.a.Names) > 0 },
		"roles":      func(v *assetView) bool { return len(v.a.Roles) > 0 },
		"protocols":  func(v *assetView) bool { return len(v.a.Protocols) > 0 },
		"vlans":      func(v *assetView) bool { return len(v.a.VLANs) > 0 },
		"services":   func(v *assetView) bool { return len(v.a.Services) > 0 },
		"advisories": func(v *assetView) bool { return listSize(v.advisoryList()) > 0 },
		"functions":  func(v *assetView) bool { return listSize(v.functionList()) > 0 },
	}
)

// prefilterOf derives the clauses of an asset rule's condition; nil means
// no necessary condition was found (evaluate on every asset).
func prefilterOf(e ast.Expr) []clause {
	cs, ok := clausesOf(e)
	if !ok {
		return nil
	}
	return cs
}

// clausesOf returns the CNF of a necessary condition of e, ok false when
// e gives none.
func clausesOf(e ast.Expr) ([]clause, bool) {
	switch e.Kind() {
	case ast.IdentKind:
		if e.AsIdent() == "zones_defined" {
			return []clause{{{featZones, ""}}}, true
		}
	case ast.ComprehensionKind:
		// exists(), exists_one() and similar: a comprehension starting from
		// false and returning its accumulator is false over an empty range.
		c := e.AsComprehension()
		init, res := c.AccuInit(), c.Result()
		if init.Kind() == ast.LiteralKind && init.AsLiteral() == types.False &&
			res.Kind() == ast.IdentKind && res.AsIdent() == c.AccuVar() {
			if p, ok := assetPath(c.IterRange()); ok && listPaths[p] != nil {
				return []clause{{{featNonEmpty, p}}}, true
			}
		}
	case ast.CallKind:
		return callClauses(e.AsCall())
	}
	return nil, false
}

func callClauses(c ast.CallExpr) ([]clause, bool) {
	args := c.Args()
	switch c.FunctionName() {
	case "_&&_":
		var out []clause
		for _, a := range args {
			if cs, ok := clausesOf(a); ok {
				out = append(out, cs...)
			}
		}
		if len(out) == 0 {
			return nil, false
		}
		// Any subset of a conjunction's clauses is still necessary.
		return out[:min(len(out), maxClauses)], true
	case "_||_":
		// (A1 ∧ A2) ∨ (B1 ∧ B2) implies every (Ai ∨ Bj).
		out := []clause{nil}
		for _, a := range args {
			cs, ok := clausesOf(a)
			if !ok {
				return nil, false
			}
			var next []clause
			for _, x := range out {
				for _, y := range cs {
					next = append(next, append(append(clause{}, x...), y...))
				}
			}
			if len(next) > maxClauses {
				return nil, false
			}
			out = next
		}
		return out, true
	case "_==_":
		if len(args) == 2 {
			for _, i := range []int{0, 1} {
				p, ok := assetPath(args[i])
				s, lit := stringLit(args[1-i])
				if ok && lit && stringPaths[p] != nil {
					return []clause{{{featEqual, p + "\x00" + s}}}, true
				}
			}
		}
	case "_!=_":
		if len(args) == 2 {
			for _, i := range []int{0, 1} {
				p, ok := assetPath(args[i])
				s, lit := stringLit(args[1-i])
				if ok && lit && s == "" && stringPaths[p] != nil {
					return []clause{{{featNonEmpty, p}}}, true
				}
			}
		}
	case "@in":
		if len(args) != 2 {
			break
		}
		lits, ok := stringList(args[1])
		if !ok || len(lits) == 0 {
			break
		}
		if p, ok := assetPath(args[0]); ok && stringPaths[p] != nil {
			var cl clause
			for _, s := range lits {
				cl = append(cl, feature{featEqual, p + "\x00" + s})
			}
			return []clause{cl}, true
		}
		// upperAscii/lowerAscii/trim of a path: the empty string maps to
		// itself, so a list without "" needs a non-empty path.
		if c := args[0]; c.Kind() == ast.CallKind && c.AsCall().IsMemberFunction() && len(c.AsCall().Args()) == 0 {
			switch c.AsCall().FunctionName() {
			case "upperAscii", "lowerAscii", "trim":
				p, ok := assetPath(c.AsCall().Target())
				if ok && stringPaths[p] != nil && !containsEmpty(lits) {
					return []clause{{{featNonEmpty, p}}}, true
				}
			}
		}
	}
	if !c.IsMemberFunction() || !isAsset(c.Target()) {
		return nil, false
	}
	strArg := func(i int) (string, bool) {
		if i >= len(args) {
			return "", false
		}
		return stringLit(args[i])
	}
	switch c.FunctionName() {
	case "has_fact", "fact_matches":
		if f, ok := strArg(0); ok {
			return []clause{{{featFact, f}}}, true
		}
	case "has_function":
		if cat, ok := strArg(len(args) - 1); ok {
			return []clause{{{featFunction, fold(cat)}}}, true
		}
	case "has_service":
		if len(args) == 1 {
			if p, ok := strArg(0); ok {
				return []clause{{{featService, fold(p)}}}, true
			}
		} else if tr, ok := strArg(0); ok && len(args) == 2 && args[1].Kind() == ast.LiteralKind {
			if port, ok := args[1].AsLiteral().(types.Int); ok {
				return []clause{{{featServicePort, fold(tr) + "/" + strconv.FormatInt(int64(port), 10)}}}, true
			}
		}
	case "has_role":
		if r, ok := strArg(0); ok {
			return []clause{{{featRole, fold(r)}}}, true
		}
	case "has_any_role":
		if rs, ok := stringList(args[0]); ok && len(args) == 1 {
			cl := clause{}
			for _, r := range rs {
				cl = append(cl, feature{featRole, fold(r)})
			}
			return []clause{cl}, true // an empty list: never holds
		}
	case "has_protocol":
		if p, ok := strArg(0); ok {
			return []clause{{{featProtocol, fold(p)}}}, true
		}
	}
	return nil, false
}

func isAsset(e ast.Expr) bool { return e.Kind() == ast.IdentKind && e.AsIdent() == "asset" }

// assetPath returns "field" for asset.field and "a.b" for asset.a.b.
func assetPath(e ast.Expr) (string, bool) {
	if e.Kind() != ast.SelectKind || e.AsSelect().IsTestOnly() {
		return "", false
	}
	s := e.AsSelect()
	if isAsset(s.Operand()) {
		return s.FieldName(), true
	}
	if p, ok := assetPath(s.Operand()); ok {
		return p + "." + s.FieldName(), true
	}
	return "", false
}

func stringLit(e ast.Expr) (string, bool) {
	if e.Kind() != ast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

func stringList(e ast.Expr) ([]string, bool) {
	if e.Kind() != ast.ListKind || len(e.AsList().OptionalIndices()) > 0 {
		return nil, false
	}
	var out []string
	for _, x := range e.AsList().Elements() {
		s, ok := stringLit(x)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

func containsEmpty(l []string) bool {
	for _, s := range l {
		if s == "" {
			return true
		}
	}
	return false
}

// fold returns a canonical form of s under Unicode simple case folding:
// fold(a) == fold(b) exactly when strings.EqualFold(a, b). Each rune maps
// to the ASCII lower-case letter of its folding orbit, else to the
// orbit's smallest rune; invalid bytes map to U+FFFD as in EqualFold.
func fold(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || 'A' <= c && c <= 'Z' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < utf8.RuneSelf {
			return foldRune(f)
		}
		least = min(least, f)
	}
	return least
}

// bitset is a set of feature indices.
type bitset []uint64

func (b bitset) set(i int) { b[i>>6] |= 1 << (i & 63) }
func (b bitset) intersects(o bitset) bool {
	for i, w := range o {
		if b[i]&w != 0 {
			return true
		}
	}
	return false
}

// featureDict numbers the features of a pack's prefilters and computes
// an asset's set.
type featureDict struct {
	n        int
	fact     map[string]int
	function map[string]int
	service  map[string]int
	svcPort  map[svcPortKey]int
	role     map[string]int
	protocol map[string]int
	equal    map[string]map[string]int // path -> value -> feature
	nonEmpty map[string]int
	zones    int // -1 when no rule reads zones_defined

	// eqs and nonEmpties are equal and nonEmpty as lists (see finish).
	eqs        []eqPath
	nonEmpties []nonEmptyPath
}

type svcPortKey struct {
	transport string
	port      uint16
}

type eqPath struct {
	get    func(*assetView) string
	values map[string]int
}

type nonEmptyPath struct {
	feature int
	str     func(*assetView) string
	list    func(*assetView) bool
}

func newFeatureDict() *featureDict {
	return &featureDict{fact: map[string]int{}, function: map[string]int{}, service: map[string]int{},
		svcPort: map[svcPortKey]int{}, role: map[string]int{}, protocol: map[string]int{},
		equal: map[string]map[string]int{}, nonEmpty: map[string]int{}, zones: -1}
}

// index returns the number of feature f, adding it if new; ok is false for
// a feature no asset can have (a port out of range).
func (d *featureDict) index(f feature) (int, bool) {
	get := func(m map[string]int, k string) int { return intern(m, k, &d.n) }
	switch f.kind {
	case featFact:
		return get(d.fact, f.key), true
	case featFunction:
		return get(d.function, f.key), true
	case featService:
		return get(d.service, f.key), true
	case featServicePort:
		tr, port, _ := strings.Cut(f.key, "/")
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil {
			return 0, false
		}
		return intern(d.svcPort, svcPortKey{tr, uint16(p)}, &d.n), true
	case featRole:
		return get(d.role, f.key), true
	case featProtocol:
		return get(d.protocol, f.key), true
	case featEqual:
		path, val, _ := strings.Cut(f.key, "\x00")
		m := d.equal[path]
		if m == nil {
			m = map[string]int{}
			d.equal[path] = m
		}
		return get(m, val), true
	case featNonEmpty:
		return get(d.nonEmpty, f.key), true
	case featZones:
		if d.zones < 0 {
			d.zones = d.n
			d.n++
		}
		return d.zones, true
	}
	return 0, false
}

// intern returns the number m gives k, giving it the next number *n when k
// is new.
func intern[K comparable](m map[K]int, k K, n *int) int {
	if i, ok := m[k]; ok {
		return i
	}
	m[k] = *n
	*n++
	return m[k]
}

// finish turns the path maps into lists, in a fixed order.
func (d *featureDict) finish() {
	for _, p := range slices.Sorted(maps.Keys(d.equal)) {
		d.eqs = append(d.eqs, eqPath{stringPaths[p], d.equal[p]})
	}
	for _, p := range slices.Sorted(maps.Keys(d.nonEmpty)) {
		d.nonEmpties = append(d.nonEmpties, nonEmptyPath{d.nonEmpty[p], stringPaths[p], listPaths[p]})
	}
}

func (d *featureDict) words() int { return (d.n + 63) / 64 }

// filter returns the bitsets of a rule's clauses.
func (d *featureDict) filter(cs []clause) *ruleFilter {
	if cs == nil {
		return nil
	}
	ids := make([][]int, len(cs))
	for i, c := range cs {
		for _, f := range c {
			if j, ok := d.index(f); ok {
				ids[i] = append(ids[i], j)
			}
		}
	}
	return &ruleFilter{ids: ids}
}

// features fills b (zeroed, d.words() long) with the features of v.
func (d *featureDict) features(v *assetView, zonesDefined bool, b bitset) {
	a := v.a
	if len(d.fact) > 0 || len(d.function) > 0 {
		for i := range a.Facts {
			f := &a.Facts[i]
			if j, ok := d.fact[f.Field]; ok {
				b.set(j)
			}
			if len(d.function) > 0 && strings.HasSuffix(f.Field, ".function") {
				if j, ok := d.function[fold(f.Detail)]; ok {
					b.set(j)
				}
			}
		}
	}
	if len(d.service) > 0 || len(d.svcPort) > 0 {
		for i := range a.Services {
			s := &a.Services[i]
			if j, ok := d.service[fold(s.Protocol)]; ok {
				b.set(j)
			}
			if j, ok := d.svcPort[svcPortKey{fold(s.Transport), s.Port}]; ok {
				b.set(j)
			}
		}
	}
	if len(d.role) > 0 {
		for _, r := range a.Roles {
			if j, ok := d.role[fold(r)]; ok {
				b.set(j)
			}
		}
	}
	if len(d.protocol) > 0 {
		for _, p := range a.Protocols {
			if j, ok := d.protocol[fold(p)]; ok {
				b.set(j)
			}
		}
	}
	for _, e := range d.eqs {
		if j, ok := e.values[e.get(v)]; ok {
			b.set(j)
		}
	}
	for _, p := range d.nonEmpties {
		if p.str != nil && p.str(v) != "" || p.list != nil && p.list(v) {
			b.set(p.feature)
		}
	}
	if d.zones >= 0 && zonesDefined {
		b.set(d.zones)
	}
}

// ruleFilter is a rule's prefilter over one dictionary: the feature
// numbers of each clause, and as bitsets once the dictionary is complete.
type ruleFilter struct {
	ids   [][]int
	masks []bitset
}

func (f *ruleFilter) compile(words int) {
	for _, ids := range f.ids {
		m := make(bitset, words)
		for _, j := range ids {
			m.set(j)
		}
		f.masks = append(f.masks, m)
	}
}

// admits reports whether an asset with features b may satisfy the rule.
func (f *ruleFilter) admits(b bitset) bool {
	for _, c := range f.masks {
		if !b.intersects(c) {
			return false
		}
	}
	return true
}

func listSize(l ref.Val) int {
	if s, ok := l.(traits.Sizer); ok {
		n, _ := s.Size().(types.Int)
		return int(n)
	}
	return 0
}
