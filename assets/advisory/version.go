package advisory

import (
	"fmt"
	"strings"
)

// Version is a firmware or software version as OT vendors write it: a core
// of dotted or dashed components ("V3.2.17", "03.10.08", "6.0.0-1",
// "R162.10", "1.03D"), then qualifiers in fixed slots (service pack,
// update, hotfix, patch, revision, build: "V4.7 SP6 HF3", "V7.3 Update 15",
// "R511.5_TCU4_HF4", "3.1 Build 4022.4", "MX-V5.4.9.4-r3"), and a WAGO
// firmware index ("03.10.08(22)" is FW22; "FW16" is the index alone).
//
// Components compare numerically when they are numbers (leading zeros do not
// count: "33.011" == "33.11"), a number with a letter suffix after the plain
// number ("1.03" < "1.03D"), and "x" is a wildcard: "3.X.14" has any minor,
// "8.1x" any 8.10-8.19, "R16x" any of R160-R169.
//
// Cisco IOS writes a release train: "15.2(6)E0a" is major 15, minor 2,
// maintenance release 6 of train E, rebuild 0a; "12.2(55)SE10". The core is
// then 15.2.6.0a and the train ("e") must match to compare: releases of
// different trains are different code lines, so "15.2(7)E1" and
// "15.2(4)M12" cannot be ordered.
//
// The zero Version is empty; use ParseVersion.
type Version struct {
	raw   string
	core  []string
	quals [numSlots][]string
	fw    int    // WAGO firmware index; -1 when absent
	train string // Cisco IOS release train, lower case; "" when absent
}

// Qualifier slots, in the order they refine a version: "V4.7 SP6 HF3" is
// service pack 6, hotfix 3 of V4.7, newer than "V4.7 HF27".
const (
	slotSP = iota
	slotUpdate
	slotHF
	slotPatch
	slotRev
	slotBuild
	numSlots
)

var qualifierWords = map[string]int{
	"sp": slotSP, "servicepack": slotSP,
	"update": slotUpdate, "upd": slotUpdate, "tcu": slotUpdate,
	"hf": slotHF, "hotfix": slotHF,
	"patch": slotPatch,
	"r":     slotRev, "rev": slotRev, "revision": slotRev,
	"build": slotBuild, "b": slotBuild, "bld": slotBuild,
}

// maxVersionLen bounds the text ParseVersion looks at; real versions are a
// few dozen characters.
const maxVersionLen = 256

// ParseVersion parses a version string strictly: leading words ("Version",
// "HiOS-2A", "SIMATIC WinAC RTX") are skipped, a "V", "R", "SV", "MX-V"
// prefix is dropped, and anything after the version that is not a known
// qualifier is an error.
func ParseVersion(s string) (Version, error) { return parseVersion(s, false) }

// parseAssetVersion parses what a device reported, ignoring trailing text it
// does not understand ("PLCnext 2022.0 LTS" is 2022.0).
func parseAssetVersion(s string) (Version, error) { return parseVersion(s, true) }

func parseVersion(s string, lenient bool) (Version, error) {
	v := Version{raw: strings.TrimSpace(s), fw: -1}
	if len(s) > maxVersionLen {
		return v, fmt.Errorf("version longer than %d bytes", maxVersionLen)
	}
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.ReplaceAll(t, "_", " ")
	// Skip leading words that are not a version ("Version V4.3", "HiOS 07.0.02").
	for !startsVersion(t) {
		i := strings.IndexAny(t, " \t")
		if i < 0 {
			return v, fmt.Errorf("no version number in %q", s)
		}
		t = strings.TrimLeft(t[i+1:], " \t")
	}
	// Prefixes.
	switch {
	case strings.HasPrefix(t, "fw") && len(t) > 2 && isDigit(t[2]):
		n, rest := readDigits(t[2:])
		v.fw = atoiSat(n)
		if rest = strings.TrimSpace(rest); rest != "" && !lenient {
			return v, fmt.Errorf("unexpected %q after FW index", rest)
		}
		return v, nil
	case dashVPrefix(t) > 0:
		t = t[dashVPrefix(t):]
	default:
		for _, p := range []string{"sv", "v", "r"} {
			if strings.HasPrefix(t, p) && len(t) > len(p) && isDigit(t[len(p)]) {
				t = t[len(p):]
				break
			}
		}
	}
	// Core components.
	i := 0
	for {
		c, n := readComponent(t[i:])
		if n == 0 {
			break
		}
		v.core = append(v.core, c)
		i += n
		if i+1 < len(t) && (t[i] == '.' || t[i] == '-') && componentStart(t[i+1:]) {
			i++
			continue
		}
		break
	}
	if len(v.core) == 0 {
		return v, fmt.Errorf("no version number in %q", s)
	}
	// Qualifiers.
	last := -1
	for i < len(t) {
		ch := t[i]
		switch {
		case ch == ' ' || ch == '.' || ch == '-' || ch == ',' || ch == '\t':
			i++
		case ch == '(' && last < 0 && v.fw < 0 && v.train == "" && len(v.core) == 2 && ciscoTrain(t[i:]) > 0:
			n := ciscoTrain(t[i:])
			d, _ := readDigits(t[i+1:])
			v.core = append(v.core, d)
			k := i + 1 + len(d) + 1
			j := k
			for j < i+n && isLetter(t[j]) {
				j++
			}
			v.train = t[k:j]
			if j < i+n {
				v.core = append(v.core, t[j:i+n])
			}
			i += n
		case ch == '(':
			j := strings.IndexByte(t[i:], ')')
			if j < 0 {
				return v, endOrErr(lenient, fmt.Errorf("unclosed '(' in %q", s))
			}
			inner := strings.TrimSpace(t[i+1 : i+j])
			if inner == "" || !allDigits(inner) {
				return v, endOrErr(lenient, fmt.Errorf("unexpected %q in %q", t[i:i+j+1], s))
			}
			v.fw = atoiSat(inner)
			i += j + 1
		case isLetter(ch):
			j := i
			for j < len(t) && isLetter(t[j]) {
				j++
			}
			word := t[i:j]
			slot, ok := qualifierWords[word]
			if !ok {
				return v, endOrErr(lenient, fmt.Errorf("unknown word %q in %q", word, s))
			}
			for j < len(t) && t[j] == ' ' {
				j++
			}
			comps, n := readDotted(t[j:])
			if n == 0 {
				return v, endOrErr(lenient, fmt.Errorf("%q without a number in %q", word, s))
			}
			if v.quals[slot] != nil {
				return v, endOrErr(lenient, fmt.Errorf("%q twice in %q", word, s))
			}
			v.quals[slot] = comps
			last = slot
			i = j + n
		case isDigit(ch) && last >= 0 && v.quals[slotBuild] == nil:
			// A bare number after a qualifier is a build: "2.11 R3 2259".
			comps, n := readDotted(t[i:])
			v.quals[slotBuild] = comps
			last = slotBuild
			i += n
		default:
			return v, endOrErr(lenient, fmt.Errorf("unexpected %q in %q", t[i:], s))
		}
	}
	return v, nil
}

// ciscoTrain returns the length of a Cisco IOS release and train at t
// ("(6)e0a", "(55)se10", "(24)t"): a parenthesised number directly
// followed by train letters and an optional rebuild, then the end, a space
// or a comma. 0 when t is not one.
func ciscoTrain(t string) int {
	d, rest := readDigits(t[1:])
	if d == "" || rest == "" || rest[0] != ')' {
		return 0
	}
	k := 1 + len(d) + 1
	j := k
	for j < len(t) && isLetter(t[j]) {
		j++
	}
	if j == k || j-k > 4 {
		return 0
	}
	if _, n := readComponent(t[j:]); n > 0 {
		j += n
	}
	if j < len(t) && t[j] != ' ' && t[j] != ',' {
		return 0
	}
	return j
}

// endOrErr returns nil in lenient mode (keep what was parsed) and err otherwise.
func endOrErr(lenient bool, err error) error {
	if lenient {
		return nil
	}
	return err
}

// startsVersion reports whether t begins with something that reads as a
// version: a digit, or a short prefix before one ("V3", "R9", "SV03",
// "FW16", "MX-V5").
func startsVersion(t string) bool {
	if t == "" {
		return false
	}
	if isDigit(t[0]) {
		return true
	}
	if dashVPrefix(t) > 0 {
		return true
	}
	for _, p := range []string{"fw", "sv", "v", "r"} {
		if strings.HasPrefix(t, p) && len(t) > len(p) && isDigit(t[len(p)]) {
			return true
		}
	}
	return false
}

// dashVPrefix returns the length of a vendor prefix of the form "mx-v"
// (one to three letters, a dash, v) directly before a digit, or 0.
func dashVPrefix(t string) int {
	j := 0
	for j < len(t) && j < 4 && isLetter(t[j]) {
		j++
	}
	if j == 0 || j > 3 || j+2 >= len(t) || t[j] != '-' || t[j+1] != 'v' || !isDigit(t[j+2]) {
		return 0
	}
	return j + 2
}

// componentStart reports whether a core component starts at t: a digit, or
// an "x"/"*" wildcard that is not the start of a word.
func componentStart(t string) bool {
	if t == "" {
		return false
	}
	if isDigit(t[0]) {
		return true
	}
	if t[0] == 'x' || t[0] == '*' {
		return len(t) == 1 || !isLetter(t[1])
	}
	return false
}

// readComponent reads one core component: digits with an optional letter
// suffix ("17", "03d", "16x"), or a lone wildcard ("x", "*").
func readComponent(t string) (string, int) {
	if t == "" {
		return "", 0
	}
	if t[0] == 'x' || t[0] == '*' {
		if len(t) == 1 || !isLetter(t[1]) {
			return "x", 1
		}
		return "", 0
	}
	j := 0
	for j < len(t) && isDigit(t[j]) {
		j++
	}
	if j == 0 {
		return "", 0
	}
	k := j
	for k < len(t) && isLetter(t[k]) {
		k++
	}
	// A letter run that is a qualifier word ("4sp1") belongs to the qualifiers.
	if k > j {
		if _, ok := qualifierWords[t[j:k]]; ok && k < len(t) && isDigit(t[k]) {
			k = j
		}
	}
	return t[:k], k
}

// readDotted reads a number with optional dotted parts: "4022.4", "15", "01".
func readDotted(t string) ([]string, int) {
	var comps []string
	i := 0
	for {
		d, _ := readDigits(t[i:])
		if d == "" {
			break
		}
		comps = append(comps, d)
		i += len(d)
		if i+1 < len(t) && t[i] == '.' && isDigit(t[i+1]) {
			i++
			continue
		}
		break
	}
	return comps, i
}

func readDigits(t string) (string, string) {
	j := 0
	for j < len(t) && isDigit(t[j]) {
		j++
	}
	return t[:j], t[j:]
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// atoiSat converts a digit string, saturating instead of overflowing.
func atoiSat(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if n > 1e8 {
			return 1e9
		}
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// String returns the version as it was written.
func (v Version) String() string { return v.raw }

// IsZero reports whether v holds no version.
func (v Version) IsZero() bool { return len(v.core) == 0 && v.fw < 0 }

// lastSlot returns the last qualifier slot that is set, or -1.
func (v Version) lastSlot() int {
	for s := numSlots - 1; s >= 0; s-- {
		if v.quals[s] != nil {
			return s
		}
	}
	return -1
}

// Compare compares a and b completely (missing components count as zero):
// -1, 0 or +1. ok is false when the two cannot be ordered: one is only a
// WAGO FW index and the other has none.
func Compare(a, b Version) (c int, ok bool) {
	if a.train != b.train && a.train != "" && b.train != "" {
		return 0, false
	}
	if len(a.core) == 0 || len(b.core) == 0 {
		if a.fw < 0 || b.fw < 0 {
			return 0, false
		}
		return cmpInt(a.fw, b.fw), true
	}
	if c := cmpComps(a.core, b.core, max(len(a.core), len(b.core))); c != 0 {
		return c, true
	}
	for s := range numSlots {
		if c := cmpComps(a.quals[s], b.quals[s], max(len(a.quals[s]), len(b.quals[s]))); c != 0 {
			return c, true
		}
	}
	if a.fw >= 0 && b.fw >= 0 {
		return cmpInt(a.fw, b.fw), true
	}
	return 0, true
}

// CompareVersions parses and compares two version strings.
func CompareVersions(a, b string) (int, error) {
	va, err := ParseVersion(a)
	if err != nil {
		return 0, err
	}
	vb, err := ParseVersion(b)
	if err != nil {
		return 0, err
	}
	c, ok := Compare(va, vb)
	if !ok {
		return 0, fmt.Errorf("%q and %q cannot be compared", a, b)
	}
	return c, nil
}

// compareAt compares v with bound b at b's precision: "10.1.0.1902" equals
// "10.1" and "33.011" equals "33" (a build of a release is that release),
// while "V4.7 SP6 HF3" is above "V4.7 HF27". ok is false when the two
// cannot be ordered: a FW index against a version without one, or extra
// core components against a bound with service packs or hotfixes
// ("V4.7.6" against "V4.7 SP6 HF3"), or a bound on a Cisco IOS train and
// a version of another train or of none.
func compareAt(v, b Version) (int, bool) {
	if b.train != "" && v.train != b.train {
		return 0, false
	}
	if len(b.core) == 0 || len(v.core) == 0 {
		if b.fw < 0 || v.fw < 0 {
			return 0, false
		}
		return cmpInt(v.fw, b.fw), true
	}
	if c := cmpComps(v.core, b.core, len(b.core)); c != 0 {
		return c, true
	}
	last := b.lastSlot()
	if last < 0 {
		if b.fw >= 0 && v.fw >= 0 && len(v.core) <= len(b.core) {
			return cmpInt(v.fw, b.fw), true
		}
		return 0, true
	}
	quals := v.quals
	if len(v.core) > len(b.core) && v.lastSlot() < 0 {
		// "3.1.4022.4" against "3.1 Build 4022.4": the extra components are
		// the build. Against service packs or hotfixes they mean nothing
		// certain.
		if last != slotBuild || b.quals[slotBuild] == nil {
			return 0, false
		}
		quals[slotBuild] = v.core[len(b.core):]
	}
	for s := 0; s <= last; s++ {
		n := len(b.quals[s])
		if b.quals[s] == nil {
			n = len(quals[s])
		}
		if c := cmpComps(quals[s], b.quals[s], n); c != 0 {
			return c, true
		}
	}
	return 0, true
}

// cmpComps compares the first n components of a and b; missing ones are "0".
func cmpComps(a, b []string, n int) int {
	for i := range n {
		x, y := "0", "0"
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmpPart(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// cmpPart compares two components: wildcards equal anything; "16x" equals
// any component whose leading digits are "16"; numbers compare by value; a
// number with a letter suffix compares by number, then suffix ("03" < "03d").
func cmpPart(a, b string) int {
	if a == "x" || b == "x" {
		return 0
	}
	if isDigitWild(a) {
		return -cmpDigitWild(b, a)
	}
	if isDigitWild(b) {
		return cmpDigitWild(a, b)
	}
	an, as := splitNum(a)
	bn, bs := splitNum(b)
	switch {
	case an == "" && bn != "":
		return -1
	case an != "" && bn == "":
		return 1
	}
	if c := cmpNum(an, bn); c != 0 {
		return c
	}
	return strings.Compare(as, bs)
}

// isDigitWild reports a component of digits followed only by x: "16x", "1xx".
func isDigitWild(s string) bool {
	d, rest := readDigits(s)
	return d != "" && rest != "" && strings.Trim(rest, "x") == ""
}

// cmpDigitWild compares component o with digit pattern p ("16x").
func cmpDigitWild(o, p string) int {
	pd, _ := readDigits(p)
	od, _ := readDigits(o)
	if isDigitWild(o) && len(od) < len(pd) {
		pd = pd[:len(od)]
	}
	if len(od) >= len(pd) {
		return strings.Compare(od[:len(pd)], pd)
	}
	if c := cmpNum(od, pd); c != 0 {
		return c
	}
	return -1
}

func splitNum(s string) (string, string) {
	d, rest := readDigits(s)
	return d, rest
}

// cmpNum compares two digit strings by value, without overflow.
func cmpNum(a, b string) int {
	a = strings.TrimLeft(a, "0")
	b = strings.TrimLeft(b, "0")
	if len(a) != len(b) {
		return cmpInt(len(a), len(b))
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
