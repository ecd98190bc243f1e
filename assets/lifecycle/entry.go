package lifecycle

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
)

// Entry is one catalog line: a product line (or OS release) of one vendor,
// how to recognise it on an asset, and its lifecycle facts with their
// source.
//
// At least one match rule is needed. Rules of one entry are alternatives:
// any of them matching selects the entry, and the most specific rule that
// matched is reported.
type Entry struct {
	// ID names the entry; a user catalog entry with the same ID (compared
	// case-insensitively) replaces the default one. Derived from Vendor and
	// Family when empty ("siemens-simatic-s7-300-cpu").
	ID string `json:"id"`
	// Vendor is the vendor's name as shown ("Siemens").
	Vendor string `json:"vendor"`
	// VendorAliases are further names the asset's vendor may be reported
	// under ("Allen-Bradley" for Rockwell). Product and firmware rules only
	// match assets whose vendor contains Vendor or one of these
	// (case-insensitively).
	VendorAliases []string `json:"vendor_aliases,omitempty"`
	// Family is the product line or release the entry describes
	// ("SIMATIC S7-300 CPU", "Windows 7").
	Family string `json:"family"`

	// OrderPrefixes match order/catalog numbers that start with one of
	// them, compared on letters and digits only, in upper case: "6ES7 31",
	// "6ES731" and "6es7-31" are the same prefix. A trailing '*' is allowed.
	OrderPrefixes []string `json:"order_prefixes,omitempty"`
	// OrderPattern is a regular expression matched against the canonical
	// order number: upper case, Siemens MLFBs written "6ES7 315-2EH14-0AB0",
	// other numbers with their whitespace removed ("140CPU65150", "1756-L61").
	OrderPattern string `json:"order_pattern,omitempty"`
	// ProductPattern is a case-insensitive regular expression matched
	// against product names (and SNMP/LLDP system descriptions, CDP
	// platforms) of assets and modules of this vendor.
	ProductPattern string `json:"product_pattern,omitempty"`
	// OSPattern is a case-insensitive regular expression matched against
	// the asset's operating-system facts ("Windows 7 Professional 7601
	// Service Pack 1", "Cisco IOS XE 17.3.4"), whatever the vendor.
	OSPattern string `json:"os_pattern,omitempty"`
	// FirmwarePattern is a case-insensitive regular expression matched
	// against firmware versions of assets of this vendor ("^v?7\.0\.").
	FirmwarePattern string `json:"firmware_pattern,omitempty"`

	Phase Phase `json:"phase"`
	// VendorTerm is the vendor's own word for the phase ("PM410",
	// "Active Mature", "end of extended support").
	VendorTerm string `json:"vendor_term,omitempty"`
	// Announced is when the vendor announced the current phase (the
	// phase-out or discontinuation notice).
	Announced Date `json:"announced,omitzero"`
	// EndOfSale is the last day the product can be ordered as new.
	EndOfSale Date `json:"end_of_sale,omitzero"`
	// EndOfSupport is when the vendor's support ends: spare parts and
	// repairs for hardware, security updates for software (paid extensions
	// are in Notes).
	EndOfSupport Date   `json:"end_of_support,omitzero"`
	Successor    string `json:"successor,omitempty"`
	// Source names where the facts come from: a URL or a document.
	Source string `json:"source"`
	// AsOf is when the facts were taken from Source.
	AsOf  Date   `json:"as_of"`
	Notes string `json:"notes,omitempty"`

	// Catalog names the catalog the entry came from: "default" or the
	// user file's path. Line is the entry's line in it (0 when built in Go).
	Catalog string `json:"catalog"`
	Line    int    `json:"line,omitempty"`
	// Overrides is set when this entry replaced another catalog's entry
	// with the same ID: "default:12" (catalog and line).
	Overrides string `json:"overrides,omitempty"`
}

// Key is the entry's identity for overriding: its ID, or one derived from
// Vendor and Family, in lower case.
func (e *Entry) Key() string {
	if e.ID != "" {
		return strings.ToLower(strings.TrimSpace(e.ID))
	}
	return slug(e.Vendor + " " + e.Family)
}

// slug lower-cases s and joins its words of letters and digits with '-'.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

// rule is an Entry compiled for matching.
type rule struct {
	prefixes                           []string          // alphanumeric, upper case
	written                            map[string]string // prefixes as written in the entry, by alphanumeric form
	orderRE, productRE, osRE, fwRE     *regexp.Regexp
	vendors                            []string // lower case
	productPF, osPF, fwPF              prefilter
	orderLiteral                       string // the literal every match of orderRE begins with
	orderSrc, productSrc, osSrc, fwSrc string
	// size is the patterns' program size (patternSize), counted against
	// the catalog's maxCatalogSize.
	size int
}

// Bounds on user regular expressions. RE2 runs in time linear in the input
// and the program, but the program is what a pattern expands to: a 790-byte
// `^(P000|P001|…){1,1000}$` compiles to about a million instructions (4 MB,
// and as much work per matched string). So the pattern's length, each
// repetition count and the program it expands to are capped, per pattern
// and per catalog. The built-in catalog's largest pattern is 69
// instructions, all of its patterns 2,427.
const (
	maxPatternLen  = 1000
	maxRepeat      = 100
	maxPatternSize = 2000
	maxCatalogSize = 50000
)

// patternSize estimates the instructions src compiles to, from its syntax
// tree and without compiling it: repetitions multiply their operand.
// The estimate saturates at limit+1.
func patternSize(re *syntax.Regexp, limit int) int {
	n := 1
	switch re.Op {
	case syntax.OpLiteral:
		n = len(re.Rune)
	case syntax.OpRepeat:
		times := max(re.Min, re.Max)
		if re.Max < 0 {
			times = re.Min + 1
		}
		sub := patternSize(re.Sub[0], limit)
		if times > 0 && sub > limit/times {
			return limit + 1
		}
		n = times*(sub+1) + 1
	default:
		for _, sub := range re.Sub {
			n += patternSize(sub, limit) + 1
			if n > limit {
				return limit + 1
			}
		}
	}
	return min(n, limit+1)
}

// maxRepeatOf returns the largest repetition count in re.
func maxRepeatOf(re *syntax.Regexp) int {
	m := 0
	if re.Op == syntax.OpRepeat {
		m = max(re.Min, re.Max)
	}
	for _, sub := range re.Sub {
		m = max(m, maxRepeatOf(sub))
	}
	return m
}

// compile checks an entry and compiles its rules. Its errors are the
// reasons a catalog reports for skipping the entry.
func compile(e *Entry) (*rule, error) {
	var errs []error
	if strings.TrimSpace(e.Vendor) == "" {
		errs = append(errs, errors.New("vendor is empty"))
	}
	if strings.TrimSpace(e.Family) == "" {
		errs = append(errs, errors.New("family is empty"))
	}
	if e.Key() == "" {
		errs = append(errs, errors.New("id is empty and cannot be derived from vendor and family"))
	}
	if strings.HasPrefix(strings.TrimSpace(e.ID), "#") {
		errs = append(errs, errors.New("id must not start with '#' (a comment in CSV catalogs)"))
	}
	if int(e.Phase) >= len(phaseNames) {
		errs = append(errs, fmt.Errorf("invalid phase %d", e.Phase))
	}
	if strings.TrimSpace(e.Source) == "" {
		errs = append(errs, errors.New("source is empty: every entry needs the URL or document its facts come from"))
	}
	if e.AsOf.IsZero() {
		errs = append(errs, errors.New("as_of is empty: every entry needs the date its facts are valid for"))
	}
	r := &rule{written: map[string]string{}}
	for _, v := range append([]string{e.Vendor}, e.VendorAliases...) {
		if v = strings.ToLower(strings.TrimSpace(v)); v != "" {
			r.vendors = append(r.vendors, v)
		}
	}
	for _, p := range e.OrderPrefixes {
		n := alnum(strings.TrimSuffix(strings.TrimSpace(p), "*"))
		if len(n) < 2 {
			errs = append(errs, fmt.Errorf("order prefix %q: needs at least 2 letters or digits", p))
			continue
		}
		r.prefixes = append(r.prefixes, n)
		r.written[n] = strings.TrimSuffix(strings.TrimSpace(p), "*")
	}
	re := func(name, src string, fold bool) *regexp.Regexp {
		if src == "" {
			return nil
		}
		if len(src) > maxPatternLen {
			errs = append(errs, fmt.Errorf("%s: longer than %d characters", name, maxPatternLen))
			return nil
		}
		if fold {
			src = "(?i)" + src
		}
		tree, err := syntax.Parse(src, syntax.Perl)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", name, err))
			return nil
		}
		if n := maxRepeatOf(tree); n > maxRepeat {
			errs = append(errs, fmt.Errorf("%s: repetition count %d is more than %d", name, n, maxRepeat))
			return nil
		}
		size := patternSize(tree, maxPatternSize)
		if size > maxPatternSize {
			errs = append(errs, fmt.Errorf("%s: expands to more than %d regexp instructions (use fewer alternatives or smaller repetition counts)", name, maxPatternSize))
			return nil
		}
		x, err := regexp.Compile(src)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", name, err))
			return nil
		}
		r.size += size
		if x.MatchString("") {
			errs = append(errs, fmt.Errorf("%s %q matches the empty string, so it would match every asset", name, src))
			return nil
		}
		return x
	}
	r.orderRE = re("order_pattern", e.OrderPattern, false)
	r.productRE = re("product_pattern", e.ProductPattern, true)
	r.osRE = re("os_pattern", e.OSPattern, true)
	r.fwRE = re("firmware_pattern", e.FirmwarePattern, true)
	r.orderSrc, r.productSrc, r.osSrc, r.fwSrc = e.OrderPattern, e.ProductPattern, e.OSPattern, e.FirmwarePattern
	if r.orderRE != nil {
		r.orderLiteral, _ = r.orderRE.LiteralPrefix()
	}
	if r.productRE != nil {
		r.productPF = newPrefilter(r.productRE.String())
	}
	if r.osRE != nil {
		r.osPF = newPrefilter(r.osRE.String())
	}
	if r.fwRE != nil {
		r.fwPF = newPrefilter(r.fwRE.String())
	}
	if len(e.OrderPrefixes) == 0 && e.OrderPattern == "" && e.ProductPattern == "" && e.OSPattern == "" && e.FirmwarePattern == "" {
		errs = append(errs, errors.New("no match rule: give order_prefix, order_pattern, product_pattern, os_pattern or firmware_pattern"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return r, nil
}

// alnum keeps the letters and digits of s, in upper case.
func alnum(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			b = append(b, c-'a'+'A')
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			b = append(b, c)
		}
	}
	return string(b)
}

// CanonicalOrderNumber writes an order number the way order patterns see it:
// upper case; a Siemens MLFB (16 letters and digits starting with "6" and a
// letter group, with or without separators) as "6ES7 315-2EH14-0AB0"; any
// other number with its whitespace removed.
func CanonicalOrderNumber(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if n := alnum(s); isMLFB(n) {
		return n[:4] + " " + n[4:7] + "-" + n[7:12] + "-" + n[12:]
	}
	return strings.Join(strings.Fields(s), "")
}

// isMLFB reports whether n (letters and digits, upper case) has the shape
// of a Siemens order number: "6" + two letters + a digit or letter group of
// four, 16 characters in all ("6ES73152EH140AB0", "6GK52080BA002AC2").
func isMLFB(n string) bool {
	if len(n) != 16 || n[0] != '6' {
		return false
	}
	return isUpper(n[1]) && isUpper(n[2])
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
