package advisory

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// MaxFileSize is the largest advisory or catalog file Load and LoadKEV read
// (CISA's largest CSAF files are a few MiB, the KEV catalog about 1.3 MiB).
const MaxFileSize = 64 << 20

// DB holds imported advisories and the KEV catalog, indexed for matching.
//
// Load, Add and LoadKEV change the DB; Match and the accessors only read it,
// so a DB that is no longer being loaded is safe for concurrent matching.
type DB struct {
	advisories []*Advisory
	byID       map[string]int
	kev        map[string]*KEVEntry
	// vendors indexes every affected product by company key (vendorKeys).
	vendors map[string]*vendorIndex
}

// vendorIndex finds the candidate products of one company for an asset.
type vendorIndex struct {
	byModel  map[string][]*prodRef // exact order numbers (normOrder)
	byToken  map[string][]*prodRef // one required name token per product
	byPrefix map[string][]*prodRef // literal prefixes (4-8 chars) of order and part number patterns
	scan     []*prodRef            // products only a scan can find
}

// Pattern prefixes are indexed at minPrefix to maxPrefix characters.
const (
	minPrefix = 4
	maxPrefix = 8
)

// literalPrefix returns the upper-case text of a pattern before its first
// wildcard ("BMEP" of "BMEP*", "6ES7214-1AG40-0" of "6ES7214-1AG40-0XB0"),
// at most maxPrefix characters.
func literalPrefix(p string) string {
	p = normOrder(p)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '*' || c == '?' || c == '(' || c >= 0x80 || c == 'X' && i > 0 && (isDigit(p[i-1]) || p[i-1] == 'X') {
			p = p[:i]
			break
		}
	}
	if len(p) > maxPrefix {
		p = p[:maxPrefix]
	}
	return p
}

// prodRef is an affected advisory product, prepared for matching.
type prodRef struct {
	adv    *Advisory
	p      *Product
	name   productName
	models []string         // normOrder of exact model numbers
	globs  []*regexp.Regexp // model numbers with wildcards
	cves   []string         // CVEs known to affect it (after OnlyCVEs)
	vulns  []*Vuln
}

// Load reads CSAF 2.0 advisories from files and directories (searched
// recursively for *.json) into a new DB. Problems do not stop it: a file
// that cannot be read or is not CSAF is skipped, a bad entry inside a file
// (a product branch, a vulnerability) is skipped and the rest imported, a
// version range that is not machine-readable is kept and reported. Every
// problem is in the returned list (FileError, EntryError, VersionError).
func Load(paths ...string) (*DB, []error) {
	db := &DB{}
	errs := db.Add(paths...)
	return db, errs
}

// Add loads more advisories into db, like Load. An advisory already loaded
// (same tracking ID) is replaced when the new one is as recent or newer.
func (db *DB) Add(paths ...string) []error {
	var errs []error
	if db.byID == nil {
		db.byID = map[string]int{}
	}
	for _, path := range paths {
		for _, file := range db.expand(path, &errs) {
			data, err := readLimited(file)
			if err != nil {
				errs = append(errs, &FileError{File: file, Err: err})
				continue
			}
			a, problems, err := safeParseCSAF(data, file)
			errs = append(errs, problems...)
			if err != nil {
				errs = append(errs, &FileError{File: file, Err: err})
				continue
			}
			if i, ok := db.byID[a.ID]; ok {
				if a.Updated.Before(db.advisories[i].Updated) {
					continue
				}
				db.advisories[i] = a
				continue
			}
			db.byID[a.ID] = len(db.advisories)
			db.advisories = append(db.advisories, a)
		}
	}
	db.reindex()
	return errs
}

// expand turns a path into the files to read: the path itself, or the
// *.json files under a directory in lexical order.
func (db *DB) expand(path string, errs *[]error) []string {
	st, err := os.Stat(path)
	if err != nil {
		*errs = append(*errs, &FileError{File: path, Err: err})
		return nil
	}
	if !st.IsDir() {
		return []string{path}
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			*errs = append(*errs, &FileError{File: p, Err: err})
			return nil
		}
		if !d.IsDir() && strings.EqualFold(filepath.Ext(p), ".json") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		*errs = append(*errs, &FileError{File: path, Err: err})
	}
	return files
}

// readLimited reads a file of at most MaxFileSize bytes.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, st.Size(), MaxFileSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxFileSize)
	}
	return data, nil
}

// safeParseCSAF is parseCSAF with a last line of defence: an imported file
// must never bring the program down. The fuzz tests call parseCSAF itself.
func safeParseCSAF(data []byte, file string) (a *Advisory, problems []error, err error) {
	defer func() {
		if r := recover(); r != nil {
			a, err = nil, fmt.Errorf("%w: internal error reading the file: %v", ErrMalformed, r)
		}
	}()
	return parseCSAF(data, file)
}

// LoadKEV reads the CISA Known Exploited Vulnerabilities catalog (JSON)
// and flags the vulnerabilities of loaded and later loaded advisories. A
// malformed record is reported and skipped; a file that cannot be read or
// is not a catalog leaves the previously loaded catalog in place.
func (db *DB) LoadKEV(path string) []error {
	data, err := readLimited(path)
	if err != nil {
		return []error{&FileError{File: path, Err: err}}
	}
	kev, problems, err := parseKEV(data, path)
	if err != nil {
		return append(problems, &FileError{File: path, Err: err})
	}
	db.kev = kev
	db.reindex()
	return problems
}

// Len returns the number of advisories loaded.
func (db *DB) Len() int { return len(db.advisories) }

// KEVLen returns the number of KEV catalog entries loaded.
func (db *DB) KEVLen() int { return len(db.kev) }

// Advisories returns the loaded advisories, sorted by ID. They are shared:
// do not modify them.
func (db *DB) Advisories() []*Advisory {
	out := slices.Clone(db.advisories)
	slices.SortFunc(out, func(a, b *Advisory) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Advisory returns the advisory with a tracking ID, or nil.
func (db *DB) Advisory(id string) *Advisory {
	if i, ok := db.byID[id]; ok {
		return db.advisories[i]
	}
	return nil
}

// KEV returns the KEV catalog entry of a CVE, or nil.
func (db *DB) KEV(cve string) *KEVEntry { return db.kev[strings.ToUpper(cve)] }

// reindex flags KEV vulnerabilities and rebuilds the vendor index.
func (db *DB) reindex() {
	db.vendors = map[string]*vendorIndex{}
	for _, a := range db.advisories {
		for i := range a.Vulns {
			a.Vulns[i].KEV = db.kev[a.Vulns[i].CVE]
		}
		// The vulnerabilities of each product, indexed once: an advisory
		// can name hundreds of thousands of products, and asking every
		// vulnerability about every product was quadratic.
		affected := make(map[string][]int32, len(a.Products))
		for j := range a.Vulns {
			for _, id := range a.Vulns[j].KnownAffected {
				if l := affected[id]; len(l) == 0 || l[len(l)-1] != int32(j) {
					affected[id] = append(l, int32(j))
				}
			}
		}
		for i := range a.Products {
			p := &a.Products[i]
			r := &prodRef{adv: a, p: p}
			for _, j := range affected[p.ID] {
				v := &a.Vulns[j]
				if len(p.Versions.OnlyCVEs) > 0 && !slices.Contains(p.Versions.OnlyCVEs, v.CVE) {
					continue
				}
				r.vulns = append(r.vulns, v)
				r.cves = append(r.cves, v.CVE)
			}
			if len(r.vulns) == 0 || p.Versions.Kind == SpecWithdrawn {
				continue // a product no vulnerability affects matches nothing
			}
			name := p.Name
			if name == "" {
				name = p.FullName
			}
			r.name = parseProductName(name)
			if p.Family != "" {
				r.name.optional = append(r.name.optional, tokenize(p.Family)...)
			}
			for _, m := range p.ModelNumbers {
				if isPattern(m) {
					r.globs = append(r.globs, compilePattern(normOrder(m), false))
				} else {
					r.models = append(r.models, normOrder(m))
				}
			}
			for _, k := range vendorKeys(p.Vendor) {
				db.index(k, r)
			}
		}
	}
}

func (db *DB) index(key string, r *prodRef) {
	vi := db.vendors[key]
	if vi == nil {
		vi = &vendorIndex{byModel: map[string][]*prodRef{}, byToken: map[string][]*prodRef{}, byPrefix: map[string][]*prodRef{}}
		db.vendors[key] = vi
	}
	for _, m := range r.models {
		vi.byModel[m] = append(vi.byModel[m], r)
	}
	// Patterns are found by their literal prefix; one that is too short
	// to index sends the product to the scan list.
	scan := r.name.generic || len(r.name.families) > 0
	for _, p := range append(slices.Clone(r.p.ModelNumbers), r.name.codeText...) {
		if !isPattern(p) && !slices.Contains(r.name.codeText, p) {
			continue // exact model numbers are in byModel
		}
		pre := r.prefixOf(p)
		if len(pre) < minPrefix {
			scan = true
			continue
		}
		// r's own keys are added one after the other: checking the last
		// entry keeps the list free of duplicates in constant time.
		if l := vi.byPrefix[pre]; len(l) == 0 || l[len(l)-1] != r {
			vi.byPrefix[pre] = append(l, r)
		}
	}
	switch {
	case scan:
		vi.scan = append(vi.scan, r)
	case len(r.name.required) > 0:
		// The last required token is usually the most specific one
		// ("SIMATIC S7-1500 CPU family" -> "s7-1500").
		t := r.name.required[len(r.name.required)-1]
		vi.byToken[t] = append(vi.byToken[t], r)
	case len(r.name.globs) > 0:
		vi.scan = append(vi.scan, r)
	}
}

// prefixOf returns the literal prefix of a model number or part-number
// pattern, stopping at Rockwell's lower-case z as well.
func (r *prodRef) prefixOf(p string) string {
	if i := strings.IndexByte(p, 'z'); i > 0 && strings.ToLower(p) != p {
		p = p[:i]
	}
	return literalPrefix(p)
}
