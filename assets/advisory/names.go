package advisory

import (
	"regexp"
	"strings"
	"unicode"
)

// vendorAliases maps vendor names as advisories and devices write them to
// one key per company. A vendor string gets every key whose phrase occurs in
// it as whole words: "General Electric (GE) and Emerson" is both GE and
// Emerson, "Hirschmann Automation and Control GmbH, Belden Inc." and a plain
// "Belden" are Hirschmann.
var vendorAliases = []struct {
	key     string
	phrases []string
}{
	{"siemens", []string{"siemens"}},
	{"schneider electric", []string{"schneider", "telemecanique", "modicon"}},
	{"rockwell automation", []string{"rockwell", "allen bradley"}},
	{"moxa", []string{"moxa"}},
	{"mitsubishi electric", []string{"mitsubishi"}},
	{"ge", []string{"general electric", "ge", "ge fanuc", "ge vernova"}},
	{"emerson", []string{"emerson"}},
	{"hirschmann", []string{"hirschmann", "belden"}},
	{"johnson controls", []string{"johnson controls", "jci"}},
	{"wago", []string{"wago"}},
	{"phoenix contact", []string{"phoenix contact"}},
	{"beckhoff", []string{"beckhoff"}},
	{"omron", []string{"omron"}},
	{"abb", []string{"abb"}},
	{"honeywell", []string{"honeywell"}},
	{"unitronics", []string{"unitronics"}},
	{"mobotix", []string{"mobotix"}},
	{"cisco", []string{"cisco"}},
	{"palo alto networks", []string{"palo alto"}},
}

// legalWords are dropped from vendor names no alias knows.
var legalWords = map[string]bool{
	"inc": true, "llc": true, "ltd": true, "gmbh": true, "co": true, "kg": true, "ag": true, "corp": true,
	"corporation": true, "company": true, "sa": true, "se": true, "srl": true, "bv": true, "limited": true,
	"the": true, "plc": true, "oy": true, "ab": true, "as": true, "spa": true, "kk": true,
}

// simplify lower-cases s and turns everything but letters and digits into
// single spaces, with a space at both ends.
func simplify(s string) string {
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// vendorKeys returns the company keys of a vendor name; never empty. Names
// no alias knows give one key: the name without legal forms ("Acme
// Controls GmbH & Co. KG" is "acme controls").
func vendorKeys(vendor string) []string {
	s := simplify(vendor)
	var keys []string
	for _, a := range vendorAliases {
		for _, p := range a.phrases {
			if strings.Contains(s, " "+p+" ") {
				keys = append(keys, a.key)
				break
			}
		}
	}
	if len(keys) > 0 {
		return keys
	}
	var words []string
	for _, w := range strings.Fields(s) {
		if !legalWords[w] {
			words = append(words, w)
		}
	}
	return []string{strings.Join(words, " ")}
}

// stopWords carry no product identity: "SIMATIC S7-1500 CPU family" names
// the same products as "S7-1500".
var stopWords = map[string]bool{
	"family": true, "series": true, "cpu": true, "cpus": true, "controller": true, "controllers": true,
	"device": true, "devices": true, "module": true, "modules": true, "product": true, "products": true,
	"incl": true, "including": true, "and": true, "or": true, "the": true, "of": true, "for": true,
	"with": true, "w": true, "all": true, "versions": true, "version": true, "related": true,
	"variants": true, "variant": true, "plc": true, "plcs": true, "engine": true, "engines": true,
	"unit": true, "units": true, "switch": true, "switches": true, "model": true, "models": true,
	"firmware": true, "based": true, "type": true, "-": true, "/": true, "&": true, "only": true,
}

// brandWords are umbrella brands and vendor names: they count when present
// but are not required ("SIMATIC ET200SP" names an asset that says
// "ET 200SP").
var brandWords = map[string]bool{
	"simatic": true, "modicon": true, "melsec": true, "sysmac": true, "siemens": true, "schneider": true,
	"electric": true, "rockwell": true, "automation": true, "allen": true, "bradley": true, "moxa": true,
	"wago": true, "mitsubishi": true, "omron": true, "honeywell": true, "abb": true, "mobotix": true,
	"beckhoff": true, "unitronics": true, "ge": true, "phoenix": true, "contact": true, "hirschmann": true,
}

var (
	reParen      = regexp.MustCompile(`\s\(([^()]*)\)`)
	reOpenParen  = regexp.MustCompile(`\s\(([^()]*)$`) // truncated: "... (incl. related ET200 CPUs and SIPLUS"
	reSerialTail = regexp.MustCompile(`(?i),?\s*serial number .*$`)
	reLinePrior  = regexp.MustCompile(`(?i)\bprior to (v\d+(?:\.\d+)*)`)
	reLineAndOld = regexp.MustCompile(`(?i)\b(v\d+(?:\.\d+)*) and (?:prior|earlier)(?: versions)?`)
	reLineExact  = regexp.MustCompile(`(?i)(?:^|\s)(v\d+(?:\.\d+)*(?:\s+(?:sp|hf|upd|update)\s?\d+)*)\b`)
	reSeries     = regexp.MustCompile(`\s([A-Z](?:/[A-Z])*)$`)
	reBoxes      = regexp.MustCompile(`\s*□\s*`)
	reSpaceDash  = regexp.MustCompile(`\s+-\s+`)
	reAssetSer   = regexp.MustCompile(`(?i)\bseries\s+([A-Z])\b`)
	reCatSeries  = regexp.MustCompile(`^[0-9]{4}-[A-Z0-9]+/([A-Z])\b`)
)

// lineCons is a product line named inside a product name: "SIMATIC S7-400
// PN/DP V6 CPU family" (= V6), "SINAMICS S120 prior to V4.7" (< V4.7).
type lineCons struct {
	op string
	v  Version
}

// productName is an advisory product name taken apart for matching.
type productName struct {
	required   []string // tokens an asset must have
	globs      []tokenGlob
	optional   []string // brand words
	codes      []*regexp.Regexp
	codeText   []string
	exclusions [][]string
	lines      []lineCons
	series     []string
	notes      []string
	// families is a name that lists product families ("RSP RSPE RSPS
	// RSPL MSP EES EESX GRS OS RED"): any one of them matches.
	families []string
	// generic is a name that only says "OS" or "Firmware": every device of
	// the vendor runs one, so the vendor alone matches, with low confidence.
	generic bool
}

var genericNames = map[string]bool{"os": true, "firmware": true, "operating system": true, "software": true}

// familyList returns the families of a name made only of three or more
// upper-case family codes, or nil.
func familyList(s string) []string {
	fields := strings.Fields(s)
	if len(fields) < 3 {
		return nil
	}
	var out []string
	for _, f := range fields {
		if len(f) < 2 || len(f) > 5 || !isAlpha(f) || strings.ToUpper(f) != f {
			return nil
		}
		if l := strings.ToLower(f); !containsStr(out, l) {
			out = append(out, l)
		}
	}
	return out
}

type tokenGlob struct {
	text string
	re   *regexp.Regexp
}

// parseProductName takes an advisory product name apart: codes in
// parentheses ("(part numbers BMEP* and BMEH*)", "(1756 - L8z)") become
// order-number patterns, "except ..." exclusions, "V6"/"prior to V4.7"
// product-line constraints, a trailing "A" or "B/C" a Rockwell series, and
// the rest tokens.
func parseProductName(name string) productName {
	var pn productName
	s := strings.TrimSpace(name)
	s = reBoxes.ReplaceAllString(s, "□")
	s = reSpaceDash.ReplaceAllString(s, "-")
	if m := reSerialTail.FindString(s); m != "" {
		pn.notes = append(pn.notes, strings.TrimLeft(strings.TrimSpace(m), ", "))
		s = s[:len(s)-len(m)]
	}
	if m := reOpenParen.FindStringSubmatch(s); m != nil {
		s = s[:len(s)-len(m[0])] + " (" + m[1] + ")"
	}
	for _, m := range reParen.FindAllStringSubmatch(s, -1) {
		inner := strings.TrimSpace(m[1])
		lower := strings.ToLower(inner)
		if i := strings.Index(lower, "except "); i >= 0 {
			for _, ex := range regexp.MustCompile(`(?i),|\band\b`).Split(inner[i+len("except "):], -1) {
				if toks := tokenize(ex); len(toks) > 0 {
					pn.exclusions = append(pn.exclusions, toks)
				}
			}
			continue
		}
		if strings.HasPrefix(lower, "incl") {
			continue
		}
		found := false
		for _, f := range strings.FieldsFunc(inner, func(r rune) bool { return r == ' ' || r == ',' || r == '/' }) {
			if isCode(f) {
				pn.codes = append(pn.codes, compilePattern(f, true))
				pn.codeText = append(pn.codeText, f)
				found = true
			}
		}
		if !found {
			pn.notes = append(pn.notes, inner)
		}
	}
	s = strings.TrimSpace(reParen.ReplaceAllString(s, " "))
	if genericNames[strings.ToLower(s)] {
		pn.generic = true
		return pn
	}
	if pn.families = familyList(s); pn.families != nil {
		return pn
	}
	if m := reSeries.FindStringSubmatch(s); m != nil && len(strings.Fields(s)) > 2 {
		pn.series = strings.Split(m[1], "/")
		s = s[:len(s)-len(m[0])]
	}
	for _, re := range []struct {
		re *regexp.Regexp
		op string
	}{{reLinePrior, "<"}, {reLineAndOld, "<="}, {reLineExact, "="}} {
		for _, m := range re.re.FindAllStringSubmatch(s, -1) {
			if v, err := ParseVersion(m[1]); err == nil {
				pn.lines = append(pn.lines, lineCons{op: re.op, v: v})
			}
		}
		s = re.re.ReplaceAllString(s, " ")
	}
	for _, t := range tokenize(s) {
		switch {
		case brandWords[t]:
			pn.optional = append(pn.optional, t)
		case isGlobToken(t):
			pn.globs = append(pn.globs, tokenGlob{text: t, re: compilePattern(t, false)})
		default:
			pn.required = append(pn.required, t)
		}
	}
	return pn
}

// tokenize lower-cases a name and splits it into tokens, joining a short
// word with a following number ("ET 200SP" and "ET200SP" are both
// "et200sp", "CPU 315-2" is "cpu315-2") and dropping stop words.
func tokenize(s string) []string {
	if strings.Contains(s, "□") {
		s = reBoxes.ReplaceAllString(s, "□")
	}
	s = strings.ToLower(s)
	fields := strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || r == ',' || r == ';' })
	var out []string
	for i := 0; i < len(fields); i++ {
		f := strings.Trim(fields[i], ".:'\"")
		if i+1 < len(fields) && len(f) <= 3 && isAlpha(f) && f != "" && !stopWords[f] && startsDigit(fields[i+1]) {
			f += strings.Trim(fields[i+1], ".:'\"")
			i++
		}
		if f == "" || stopWords[f] {
			continue
		}
		out = append(out, f)
	}
	return out
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return true
}

func startsDigit(s string) bool { return s != "" && isDigit(s[0]) }

// isCode reports whether a word looks like an order number or part number
// pattern: letters and digits mixed, or digits with a dash, or a long
// number; "BMEP*", "6ES7414-3EM07-0AB0", "1756-L8z", "2700988".
func isCode(f string) bool {
	if len(f) < 4 {
		return false
	}
	letters, digits := false, false
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case isDigit(c):
			digits = true
		case isLetter(c):
			letters = true
		}
	}
	return digits && letters || digits && strings.Contains(f, "-") || len(f) >= 6 && allDigits(f) ||
		letters && strings.HasSuffix(f, "*")
}

// isGlobToken reports tokens with wildcards: "□", "*", "(EN)" optional
// parts, or x after a digit ("1x0", "3xx").
func isGlobToken(t string) bool {
	if strings.ContainsAny(t, "*□?(") {
		return true
	}
	for i := 1; i < len(t); i++ {
		if t[i] == 'x' && isDigit(t[i-1]) {
			return true
		}
	}
	return false
}

// normOrder normalises an order number: upper case, no spaces, plain
// dashes ("6ES7 315-2EH14-0AB0" is "6ES7315-2EH14-0AB0").
func normOrder(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
		case r == '‐' || r == '‑' || r == '–' || r == '—':
			b.WriteByte('-')
		default:
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// compilePattern turns a model number or token into an anchored regular
// expression: "*" (and Rockwell's lower-case "z" in "1756-L8z") any run,
// "□" and "?" one character, "x" after a digit one character (Siemens
// "6ES7214-1AG40-0XB0", Phoenix "ILC 1x0"), "(EN)" or "(C/P/D)" optional.
// prefix lets the pattern continue after it ("5069-L4" matches
// "5069-L46ERM").
func compilePattern(p string, prefix bool) *regexp.Regexp {
	hasUpper := strings.ToLower(p) != p
	var b strings.Builder
	b.WriteString("^")
	rs := []rune(p)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '*':
			b.WriteString(".*")
		case r == 'z' && hasUpper:
			b.WriteString(".*")
		case r == '□' || r == '?':
			b.WriteString(".")
		case (r == 'x' || r == 'X') && i > 0 && (unicode.IsDigit(rs[i-1]) || rs[i-1] == 'x' || rs[i-1] == 'X'):
			b.WriteString("[0-9A-Z]")
		case r == '(':
			j := i + 1
			for j < len(rs) && rs[j] != ')' {
				j++
			}
			if j == len(rs) {
				b.WriteString(regexp.QuoteMeta(string(r)))
				continue
			}
			alts := strings.Split(string(rs[i+1:j]), "/")
			for k, a := range alts {
				alts[k] = regexp.QuoteMeta(strings.ToUpper(a))
			}
			b.WriteString("(?:" + strings.Join(alts, "|") + ")?")
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(strings.ToUpper(string(r))))
		}
	}
	if prefix {
		b.WriteString(".*")
	} else {
		b.WriteString("(?:[-/].*)?")
	}
	b.WriteString("$")
	return regexp.MustCompile("(?i)" + b.String())
}

// isPattern reports whether a model number has wildcards.
func isPattern(m string) bool {
	return isGlobToken(strings.ToLower(m)) || strings.ContainsAny(m, "*□?z")
}

// derivation says which product family an order number or product name
// belongs to, for one vendor: "order number 6ES7 516-3AN02-0AB0 is a SIMATIC
// S7-1500 CPU" lets the asset match "SIMATIC S7-1500 CPU family".
type derivation struct {
	vendor string
	re     *regexp.Regexp
	family string
}

var derivations = []derivation{
	// Siemens order numbers (MLFB) and CPU names.
	{"siemens", regexp.MustCompile(`^6(ES7|AG1|AG2)51[0-8]`), "SIMATIC S7-1500"},
	{"siemens", regexp.MustCompile(`^6(ES7|AG1|AG2)21[1-7]`), "SIMATIC S7-1200"},
	{"siemens", regexp.MustCompile(`^6(ES7|AG1)31[2-9]`), "SIMATIC S7-300"},
	{"siemens", regexp.MustCompile(`^6(ES7|AG1)15[14]-8`), "SIMATIC S7-300"},
	{"siemens", regexp.MustCompile(`^6(ES7|AG1)41[2-7]-\dH`), "SIMATIC S7-400 H"},
	{"siemens", regexp.MustCompile(`^6(ES7|AG1)41[2-7]`), "SIMATIC S7-400"},
	{"siemens", regexp.MustCompile(`^6(ES7|AG1)410`), "SIMATIC S7-410"},
	{"siemens", regexp.MustCompile(`^CPU ?15\d\d`), "SIMATIC S7-1500"},
	{"siemens", regexp.MustCompile(`^CPU ?12\d\d`), "SIMATIC S7-1200"},
	{"siemens", regexp.MustCompile(`^CPU ?31\d`), "SIMATIC S7-300"},
	{"siemens", regexp.MustCompile(`^CPU ?41\d-\dH`), "SIMATIC S7-400 H"},
	{"siemens", regexp.MustCompile(`^CPU ?41\d`), "SIMATIC S7-400"},
	// Rockwell catalog numbers.
	{"rockwell automation", regexp.MustCompile(`^1756-L8\d+[A-Z]*S`), "GuardLogix 5580"},
	{"rockwell automation", regexp.MustCompile(`^1756-L8`), "ControlLogix 5580"},
	{"rockwell automation", regexp.MustCompile(`^1756-L7\d+[A-Z]*S`), "GuardLogix 5570"},
	{"rockwell automation", regexp.MustCompile(`^1756-L7`), "ControlLogix 5570"},
	{"rockwell automation", regexp.MustCompile(`^1756-L6`), "ControlLogix 5560"},
	{"rockwell automation", regexp.MustCompile(`^5069-L3\d+.*S2`), "Compact GuardLogix 5380"},
	{"rockwell automation", regexp.MustCompile(`^5069-L3`), "CompactLogix 5380"},
	{"rockwell automation", regexp.MustCompile(`^5069-L4`), "CompactLogix 5480"},
	{"rockwell automation", regexp.MustCompile(`^1769-L3\d+.*MS`), "Compact GuardLogix 5370"},
	{"rockwell automation", regexp.MustCompile(`^1769-L([123])`), "CompactLogix 5370 L$1"},
	{"rockwell automation", regexp.MustCompile(`^1766-L32`), "MicroLogix 1400"},
	{"rockwell automation", regexp.MustCompile(`^1763-L16`), "MicroLogix 1100"},
	{"rockwell automation", regexp.MustCompile(`^1762-L`), "MicroLogix 1200"},
	// Schneider Electric part numbers.
	{"schneider electric", regexp.MustCompile(`^BME[PH]58`), "Modicon M580"},
	{"schneider electric", regexp.MustCompile(`^BMXP34`), "Modicon M340"},
	{"schneider electric", regexp.MustCompile(`^140CPU`), "Modicon Quantum"},
	{"schneider electric", regexp.MustCompile(`^TSXP57`), "Modicon Premium"},
	{"schneider electric", regexp.MustCompile(`^BMKC80`), "Modicon MC80"},
	{"schneider electric", regexp.MustCompile(`^171CBU`), "Modicon Momentum"},
	// Johnson Controls Metasys engines.
	{"johnson controls", regexp.MustCompile(`^MS-(NAE|NIE)(\d\d)`), "Metasys $1$2"},
	{"johnson controls", regexp.MustCompile(`^(?:MS-|F4-)?(SNE|SNC)`), "Metasys $1"},
	// WAGO controllers.
	{"wago", regexp.MustCompile(`^750-82\d\d`), "PFC200"},
	{"wago", regexp.MustCompile(`^750-81\d\d`), "PFC100"},
	{"wago", regexp.MustCompile(`^751-93`), "Compact Controller CC100"},
	{"wago", regexp.MustCompile(`^752-8303`), "Edge Controller"},
}

// derive returns the families a code (order number or product name, upper
// case) belongs to for the given vendor keys, each with its explanation.
func derive(keys []string, code string) (families []string) {
	for _, d := range derivations {
		if !containsStr(keys, d.vendor) {
			continue
		}
		if m := d.re.FindStringSubmatchIndex(code); m != nil {
			fam := string(d.re.ExpandString(nil, d.family, code, m))
			if !containsStr(families, fam) {
				families = append(families, fam)
			}
			if d.vendor == "siemens" || d.vendor == "rockwell automation" {
				// Rules are ordered most specific first: a GuardLogix is not
				// also a ControlLogix, an S7-400 H not another S7-400.
				break
			}
		}
	}
	return families
}

func containsStr(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// assetSeries returns the Rockwell hardware series an identity states:
// "Series B" in the hardware version, or "1756-L83E/B".
func assetSeries(hw, product string) string {
	if m := reAssetSer.FindStringSubmatch(hw); m != nil {
		return strings.ToUpper(m[1])
	}
	if m := reCatSeries.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(product))); m != nil {
		return m[1]
	}
	return ""
}
