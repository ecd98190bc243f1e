package advisory

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// SpecKind says what a version expression constrains.
type SpecKind int

// Kinds of version expression.
const (
	// SpecInvalid: not machine-readable; VersionSpec.Problem says why.
	SpecInvalid SpecKind = iota
	// SpecAll: every version ("vers:all/*", "All versions", "*").
	SpecAll
	// SpecRanges: a union of version ranges and single versions.
	SpecRanges
	// SpecWithdrawn: the versions were removed from the advisory's scope;
	// nothing is affected.
	SpecWithdrawn
	// SpecSerial: the bound is on the serial number
	// ("<=the_first_5_digits_of_serial_number_22081"), see ContainsSerial.
	SpecSerial
	// SpecProductionDate: the bound is on the production date
	// ("<=production_date_December_2020"), which the network never shows.
	SpecProductionDate
)

var specKindNames = [...]string{"invalid", "all", "ranges", "withdrawn", "serial", "production date"}

func (k SpecKind) String() string {
	if k >= 0 && int(k) < len(specKindNames) {
		return specKindNames[k]
	}
	return fmt.Sprintf("SpecKind(%d)", int(k))
}

// Bound is one side of a range: an operator ("<", "<=", ">", ">=") and a version.
type Bound struct {
	Op string
	V  Version
}

// Range is a set of versions: an exact version (at its own precision, with
// wildcards), or the versions between two optional bounds.
type Range struct {
	Exact *Version
	Lower *Bound
	Upper *Bound
}

// VersionSpec is a parsed CSAF version expression (a product_version or
// product_version_range branch name).
type VersionSpec struct {
	Raw    string
	Kind   SpecKind
	Ranges []Range
	// Note is text beside the versions that restricts or explains them:
	// "1.29 for NX7", "C++ / Matlab (TC1210/...)", "line V4.7".
	Note string
	// OnlyCVEs lists the CVEs the expression restricts itself to
	// ("(only affected by CVE-2019-10943)"); nil means all of the product's.
	OnlyCVEs []string
	// Problem says why the expression is SpecInvalid, or what the serial or
	// production-date bound is.
	Problem string

	serialDigits int
	serialMax    string
}

// AllVersions is the spec of a product that has no version node.
func AllVersions() VersionSpec { return VersionSpec{Kind: SpecAll} }

// MachineReadable reports whether Contains can decide for a version: the
// spec is all versions, ranges, or withdrawn.
func (s VersionSpec) MachineReadable() bool {
	return s.Kind == SpecAll || s.Kind == SpecRanges || s.Kind == SpecWithdrawn
}

// Contains reports whether version v is in the spec. ok is false when it
// cannot be decided: the spec is not machine-readable, v does not parse, or
// v cannot be ordered against a bound.
func (s VersionSpec) Contains(v string) (in, ok bool) {
	r := s.check(v)
	return r.in, r.ok
}

// checkResult is the verdict of a spec on a version, with the range that
// decided it, in words.
type checkResult struct {
	in, ok bool
	why    string
}

func (s VersionSpec) check(v string) checkResult {
	pv, err := parseAssetVersion(v)
	return s.checkParsed(v, pv, err)
}

// checkParsed is check with v already parsed (pv, err).
func (s VersionSpec) checkParsed(v string, pv Version, err error) checkResult {
	switch s.Kind {
	case SpecAll:
		return checkResult{in: true, ok: true, why: "all versions affected"}
	case SpecWithdrawn:
		return checkResult{ok: true, why: "versions removed from the advisory's scope"}
	case SpecRanges:
	default:
		return checkResult{why: "version range not machine-readable: " + strings.TrimSpace(s.Raw)}
	}
	if err != nil || pv.IsZero() {
		return checkResult{why: fmt.Sprintf("firmware %q not understood", v)}
	}
	undecided := ""
	for _, r := range s.Ranges {
		in, ok := r.contains(pv)
		if !ok {
			undecided = r.String()
			continue
		}
		if in {
			return checkResult{in: true, ok: true, why: fmt.Sprintf("%s %s", strings.TrimSpace(v), r.String())}
		}
	}
	if undecided != "" {
		return checkResult{why: fmt.Sprintf("firmware %s cannot be compared with %s", strings.TrimSpace(v), undecided)}
	}
	return checkResult{ok: true}
}

// ContainsSerial decides a SpecSerial bound for a device's serial number:
// its first N characters compared with the bound. ok is false for other
// kinds or a serial that is too short.
func (s VersionSpec) ContainsSerial(serial string) (in, ok bool) {
	if s.Kind != SpecSerial {
		return false, false
	}
	var b strings.Builder
	for i := 0; i < len(serial) && b.Len() < s.serialDigits; i++ {
		c := serial[i]
		if isDigit(c) || isLetter(c) {
			b.WriteByte(upper(c))
		}
	}
	if b.Len() < s.serialDigits {
		return false, false
	}
	return b.String() <= s.serialMax, true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

func (r Range) contains(v Version) (bool, bool) {
	if r.Exact != nil {
		c, ok := compareAt(v, *r.Exact)
		return ok && c == 0, ok
	}
	for _, b := range []*Bound{r.Lower, r.Upper} {
		if b == nil {
			continue
		}
		c, ok := compareAt(v, b.V)
		if !ok {
			return false, false
		}
		if !opHolds(b.Op, c) {
			return false, true
		}
	}
	return true, true
}

func opHolds(op string, c int) bool {
	switch op {
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "=":
		return c == 0
	}
	return false
}

// String renders the range: "< V3.2.16", ">= V2.0, < V2.5", "= 9.0.1".
func (r Range) String() string {
	if r.Exact != nil {
		return "= " + r.Exact.String()
	}
	var parts []string
	for _, b := range []*Bound{r.Lower, r.Upper} {
		if b != nil {
			parts = append(parts, b.Op+" "+b.V.String())
		}
	}
	return strings.Join(parts, ", ")
}

// String renders the spec in a normal form.
func (s VersionSpec) String() string {
	switch s.Kind {
	case SpecAll:
		return "all versions"
	case SpecRanges:
		parts := make([]string, len(s.Ranges))
		for i, r := range s.Ranges {
			parts[i] = r.String()
		}
		return strings.Join(parts, " | ")
	case SpecWithdrawn:
		return "withdrawn"
	}
	return strings.TrimSpace(s.Raw)
}

// maxSpecLen bounds the expressions ParseVersionSpec reads.
const maxSpecLen = 1024

var (
	reSerial   = regexp.MustCompile(`^(<=|<)\s*the first (\d{1,2}) digits of serial number (\w+)$`)
	reProdDate = regexp.MustCompile(`^(<=|<|>=|>)\s*production date (\w+ \d{4})$`)
	reOnlyCVE  = regexp.MustCompile(`(?i)^only affected by\b`)
	reCVE      = regexp.MustCompile(`(?i)CVE-\d{4}-\d{4,}`)
	reLineTag  = regexp.MustCompile(`^[vV]?\d[\w.]*:\s*`)
	reAllVers  = regexp.MustCompile(`(?i)^all versions?\b\s*`)
)

// ParseVersionSpec parses a CSAF version expression as CISA writes them:
// "vers:" strings ("vers:all/<V7.0.3"), comparisons ("< V4.5.0", "<= 33"),
// "All versions < V14 SP1", conjunctions ("All versions >= V2.0 and < V2.5",
// ">FW16_up_to_and_including_FW26"), '|' lists of bounds and versions
// (">=1.220|<=1.281", "5.1.0-x | 5.1.1-x | >= 6.0.0-1 | <= 6.0.0-3"), fixed
// versions per release line ("<v36.011_v35.013_v34.014"), single versions,
// notes in parentheses ("(only affected by CVE-2019-10943)") and bounds on
// serial numbers or production dates. What it cannot interpret is
// SpecInvalid with a reason; it never guesses.
func ParseVersionSpec(raw string) VersionSpec {
	s := VersionSpec{Raw: raw}
	t := strings.TrimSpace(raw)
	if t == "" {
		return s.invalid("empty version expression")
	}
	if len(t) > maxSpecLen {
		return s.invalid(fmt.Sprintf("longer than %d bytes", maxSpecLen))
	}
	if strings.HasPrefix(strings.ToLower(t), "vers:") {
		return s.parseVers(t)
	}
	t = strings.ReplaceAll(t, "_", " ")
	lower := strings.ToLower(t)
	if strings.Contains(lower, "in conjunction with") || strings.Contains(lower, "installed with") {
		return s.invalid("the range is on another product's version (" + t + ")")
	}
	// Trailing notes in parentheses, when separated by a space: "(1.29 for
	// NX7)", "(only affected by ...)"; "02.07.07(10)" is a version.
	for {
		t = strings.TrimSpace(t)
		if !strings.HasSuffix(t, ")") {
			break
		}
		open := strings.LastIndexByte(t, '(')
		if open <= 0 || t[open-1] != ' ' {
			break
		}
		s.addNote(strings.TrimSpace(t[open+1 : len(t)-1]))
		t = t[:open]
	}
	if strings.Contains(strings.ToLower(s.Note), "removed from the scope") {
		s.Kind = SpecWithdrawn
		return s
	}
	if m := reLineTag.FindString(t); m != "" {
		s.addNote("line " + strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m), ":")))
		t = t[len(m):]
	}
	t = strings.TrimSpace(reAllVers.ReplaceAllString(t, ""))
	lower = strings.ToLower(t)
	if t == "" || t == "*" {
		s.Kind = SpecAll
		return s
	}
	if m := reSerial.FindStringSubmatch(lower); m != nil {
		s.Kind = SpecSerial
		s.serialDigits = atoiSat(m[2])
		s.serialMax = strings.ToUpper(m[3])
		if len(s.serialMax) != s.serialDigits {
			return s.invalid(fmt.Sprintf("serial bound %q does not have %d characters", m[3], s.serialDigits))
		}
		s.Problem = fmt.Sprintf("bound on the first %d characters of the serial number (%s %s)", s.serialDigits, m[1], s.serialMax)
		return s
	}
	if m := reProdDate.FindStringSubmatch(lower); m != nil {
		s.Kind = SpecProductionDate
		s.Problem = "bound on the production date (" + m[1] + " " + m[2] + "), which the network does not reveal"
		return s
	}
	t = replaceFold(t, " up to and including ", " and <= ")
	var singles []Bound
	for _, alt := range strings.Split(t, "|") {
		alt = strings.TrimSpace(alt)
		if alt == "" {
			return s.invalid("empty alternative in '|' list")
		}
		if op, _ := splitOp(alt); op == "" {
			v, note, err := parseSpecVersion(alt)
			if err != nil {
				return s.invalid(err.Error())
			}
			s.addNote(note)
			s.Ranges = append(s.Ranges, Range{Exact: &v})
			continue
		}
		parts := splitFold(alt, " and ")
		if len(parts) == 1 {
			bounds, branches, note, err := parseConstraint(alt)
			if err != nil {
				return s.invalid(err.Error())
			}
			s.addNote(note)
			if branches != nil {
				s.Ranges = append(s.Ranges, branches...)
				continue
			}
			singles = append(singles, bounds)
			continue
		}
		if len(parts) != 2 {
			return s.invalid("more than two conditions joined by 'and'")
		}
		var r Range
		for _, p := range parts {
			b, branches, note, err := parseConstraint(strings.TrimSpace(p))
			if err != nil {
				return s.invalid(err.Error())
			}
			if branches != nil {
				return s.invalid("a list of fixed versions inside 'and'")
			}
			s.addNote(note)
			if err := r.set(b); err != nil {
				return s.invalid(err.Error())
			}
		}
		s.Ranges = append(s.Ranges, r)
	}
	return s.ranges(singles)
}

// ranges ends a spec of ranges: the single bounds are paired into ranges
// and added to those already parsed.
func (s VersionSpec) ranges(singles []Bound) VersionSpec {
	paired, err := pairBounds(singles)
	if err != nil {
		return s.invalid(err.Error())
	}
	s.Ranges = append(s.Ranges, paired...)
	s.Kind = SpecRanges
	return s
}

func (s VersionSpec) invalid(why string) VersionSpec {
	s.Kind = SpecInvalid
	s.Ranges = nil
	s.Problem = why
	return s
}

func (s *VersionSpec) addNote(n string) {
	n = strings.TrimSpace(n)
	if n == "" {
		return
	}
	if reOnlyCVE.MatchString(n) {
		for _, c := range reCVE.FindAllString(n, -1) {
			c = strings.ToUpper(c)
			if !slices.Contains(s.OnlyCVEs, c) {
				s.OnlyCVEs = append(s.OnlyCVEs, c)
			}
		}
	}
	if s.Note != "" {
		s.Note += "; "
	}
	s.Note += n
}

// parseVers parses a vers: URI ("vers:all/<V7.0.3", "vers:generic/>=1.0|<2.0").
func (s VersionSpec) parseVers(t string) VersionSpec {
	rest := t[len("vers:"):]
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return s.invalid("vers: without '/'")
	}
	cons := strings.TrimSpace(rest[slash+1:])
	if cons == "*" {
		s.Kind = SpecAll
		return s
	}
	var singles []Bound
	for _, c := range strings.Split(cons, "|") {
		c = strings.TrimSpace(c)
		op, v := splitOp(c)
		if op == "" || op == "=" {
			pv, err := ParseVersion(v)
			if err != nil {
				return s.invalid(err.Error())
			}
			s.Ranges = append(s.Ranges, Range{Exact: &pv})
			continue
		}
		if op == "!=" {
			return s.invalid("'!=' constraints are not supported")
		}
		pv, err := ParseVersion(v)
		if err != nil {
			return s.invalid(err.Error())
		}
		singles = append(singles, Bound{Op: op, V: pv})
	}
	return s.ranges(singles)
}

// splitOp splits a leading comparison operator from s.
func splitOp(s string) (op, rest string) {
	s = strings.TrimSpace(s)
	for _, o := range []string{"<=", ">=", "!=", "==", "<", ">", "="} {
		if strings.HasPrefix(s, o) {
			if o == "==" {
				o = "="
			}
			return o, strings.TrimSpace(s[len(o):])
		}
	}
	return "", s
}

// parseConstraint parses "op version" or "op v1 v2 v3" (fixed versions per
// release line: "<v36.011_v35.013_v34.014").
func parseConstraint(c string) (Bound, []Range, string, error) {
	op, rest := splitOp(c)
	if op == "" {
		return Bound{}, nil, "", fmt.Errorf("%q has no comparison", c)
	}
	if op == "!=" || op == "=" {
		return Bound{}, nil, "", fmt.Errorf("%q: '%s' inside a range", c, op)
	}
	if fields := strings.FieldsFunc(rest, func(r rune) bool { return r == ' ' || r == '/' || r == ',' }); len(fields) > 1 && allDotted(fields) {
		if op != "<" && op != "<=" {
			return Bound{}, nil, "", fmt.Errorf("%q: several versions after %q", c, op)
		}
		r, err := branchRanges(op, fields)
		return Bound{}, r, "", err
	}
	v, note, err := parseSpecVersion(rest)
	if err != nil {
		return Bound{}, nil, "", err
	}
	return Bound{Op: op, V: v}, nil, note, nil
}

// parseSpecVersion parses a version in an expression; text without digits
// after it ("3.1 C++ / Matlab") becomes a note.
func parseSpecVersion(t string) (Version, string, error) {
	v, err := ParseVersion(t)
	if err == nil {
		return v, "", nil
	}
	fields := strings.Fields(t)
	for n := len(fields) - 1; n >= 1; n-- {
		tail := strings.Join(fields[n:], " ")
		if strings.ContainsAny(tail, "0123456789") {
			continue
		}
		if v2, err2 := ParseVersion(strings.Join(fields[:n], " ")); err2 == nil {
			return v2, tail, nil
		}
	}
	return v, "", err
}

func allDotted(fields []string) bool {
	for _, f := range fields {
		if !strings.Contains(f, ".") {
			return false
		}
		if _, err := ParseVersion(f); err != nil {
			return false
		}
	}
	return true
}

// branchRanges turns fixed versions on several release lines into ranges:
// for "< v36.011 v35.013 v34.014", everything below v34.014, v35.x below
// v35.013 and v36.x below v36.011.
func branchRanges(op string, fields []string) ([]Range, error) {
	vs := make([]Version, 0, len(fields))
	for _, f := range fields {
		v, err := ParseVersion(f)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	var sortErr error
	slices.SortFunc(vs, func(a, b Version) int {
		c, ok := Compare(a, b)
		if !ok {
			sortErr = fmt.Errorf("%s and %s cannot be ordered", a, b)
		}
		return c
	})
	if sortErr != nil {
		return nil, sortErr
	}
	for i := 1; i < len(vs); i++ {
		if len(vs[i].core) == 0 || len(vs[i-1].core) == 0 || cmpPart(vs[i].core[0], vs[i-1].core[0]) == 0 {
			return nil, fmt.Errorf("ambiguous: fixed versions %s and %s are on the same release line", vs[i-1], vs[i])
		}
	}
	out := []Range{{Upper: &Bound{Op: op, V: vs[0]}}}
	for _, v := range vs[1:] {
		line := Version{raw: v.raw + " line", core: v.core[:1], fw: -1}
		out = append(out, Range{Lower: &Bound{Op: ">=", V: line}, Upper: &Bound{Op: op, V: v}})
	}
	return out, nil
}

func (r *Range) set(b Bound) error {
	switch b.Op {
	case ">", ">=":
		if r.Lower != nil {
			return fmt.Errorf("two lower bounds")
		}
		r.Lower = &b
	case "<", "<=":
		if r.Upper != nil {
			return fmt.Errorf("two upper bounds")
		}
		r.Upper = &b
	default:
		return fmt.Errorf("operator %q inside 'and'", b.Op)
	}
	return nil
}

// pairBounds turns single bounds into ranges the way vers does: sorted by
// version, a lower bound opens a range the next upper bound closes; an upper
// bound first is open below, a lower bound last open above.
func pairBounds(bs []Bound) ([]Range, error) {
	if len(bs) == 0 {
		return nil, nil
	}
	var sortErr error
	slices.SortStableFunc(bs, func(a, b Bound) int {
		c, ok := Compare(a.V, b.V)
		if !ok {
			sortErr = fmt.Errorf("%s and %s cannot be ordered", a.V, b.V)
		}
		return c
	})
	if sortErr != nil {
		return nil, sortErr
	}
	var out []Range
	var open *Bound
	for i := range bs {
		b := bs[i]
		lower := b.Op == ">" || b.Op == ">="
		switch {
		case lower && open != nil:
			return nil, fmt.Errorf("two lower bounds (%s %s, %s %s) without an upper bound between", open.Op, open.V, b.Op, b.V)
		case lower:
			open = &b
		case open != nil:
			out = append(out, Range{Lower: open, Upper: &b})
			open = nil
		case len(out) == 0:
			out = append(out, Range{Upper: &b})
		default:
			return nil, fmt.Errorf("two upper bounds (%s %s) without a lower bound between", b.Op, b.V)
		}
	}
	if open != nil {
		out = append(out, Range{Lower: open})
	}
	return out, nil
}

// replaceFold replaces old (ASCII, lower case) in s case-insensitively.
func replaceFold(s, old, repl string) string {
	parts := splitFold(s, old)
	return strings.Join(parts, repl)
}

// splitFold splits s around sep (ASCII, lower case) case-insensitively.
func splitFold(s, sep string) []string {
	lower := strings.ToLower(s)
	if len(lower) != len(s) {
		return strings.Split(s, sep)
	}
	var out []string
	for {
		i := strings.Index(lower, sep)
		if i < 0 {
			return append(out, s)
		}
		out = append(out, s[:i])
		s, lower = s[i+len(sep):], lower[i+len(sep):]
	}
}
