package lifecycle

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed catalog/default.yaml
var defaultYAML []byte

// DefaultName is the Catalog name of the built-in entries
// (assets/lifecycle/catalog/default.yaml).
const DefaultName = "default"

// DefaultEntries parses the built-in catalog. Its problems are empty (a
// test holds it to that); they are returned rather than hidden.
func DefaultEntries() ([]Entry, []Problem) {
	return ParseYAML(DefaultName, defaultYAML)
}

// Set is one catalog's entries under its name ("default", a file path).
type Set struct {
	Name    string
	Entries []Entry
}

// Catalog is a compiled, immutable set of entries ready for matching. It is
// safe for concurrent use by any number of goroutines.
type Catalog struct {
	entries []Entry
	rules   []*rule
	prec    []int // index of the Set each entry came from: later sets win ties

	prefixLens []int            // distinct order-prefix lengths, longest first
	prefixes   map[string][]int // alphanumeric order prefix -> entries
	orderREs   []int            // entries with an order pattern
	products   []int            // entries with a product pattern
	oses       []int            // entries with an OS pattern
	firmwares  []int            // entries with a firmware pattern
}

// Load builds the catalog from the built-in entries and the user catalog
// files (YAML or CSV, see ParseFile), in order: an entry of a later file
// replaces an earlier entry with the same ID. Bad entries and unreadable
// files are reported and skipped; Load never fails as a whole.
func Load(paths ...string) (*Catalog, []Problem) {
	def, probs := DefaultEntries()
	sets := []Set{{Name: DefaultName, Entries: def}}
	for _, p := range paths {
		es, ps := ParseFile(p)
		probs = append(probs, ps...)
		sets = append(sets, Set{Name: p, Entries: es})
	}
	c, ps := Build(sets...)
	return c, append(probs, ps...)
}

// Build compiles sets of entries into a catalog. Each entry's Catalog is
// set to its set's name. An entry replaces an entry of an earlier set with
// the same Key (and records that in Overrides); within one set the second
// entry with a Key is reported and skipped, as are invalid entries.
func Build(sets ...Set) (*Catalog, []Problem) {
	c := &Catalog{prefixes: map[string][]int{}}
	var probs []Problem
	where := map[string]int{} // key -> index in c.entries
	for si, s := range sets {
		first := map[string]int{} // key -> line, within this set
		size := 0                 // regexp program size of the set's patterns
		for _, e := range s.Entries {
			e.Catalog = s.Name
			r, err := compile(&e)
			if err != nil {
				probs = append(probs, Problem{File: s.Name, Line: e.Line, Reason: "entry " + strconv.Quote(e.Key()) + " skipped: " + strings.ReplaceAll(err.Error(), "\n", "; ")})
				continue
			}
			if size+r.size > maxCatalogSize {
				probs = append(probs, Problem{File: s.Name, Line: e.Line, Reason: fmt.Sprintf("entry %q skipped: the catalog's patterns would expand to more than %d regexp instructions in all", e.Key(), maxCatalogSize)})
				continue
			}
			size += r.size
			k := e.Key()
			if l, dup := first[k]; dup {
				probs = append(probs, Problem{File: s.Name, Line: e.Line, Reason: fmt.Sprintf("entry %q skipped: same id as the entry at line %d", k, l)})
				continue
			}
			first[k] = e.Line
			if i, ok := where[k]; ok {
				old := &c.entries[i]
				e.Overrides = old.Catalog + ":" + strconv.Itoa(old.Line)
				c.entries[i], c.rules[i], c.prec[i] = e, r, si
				continue
			}
			where[k] = len(c.entries)
			c.entries = append(c.entries, e)
			c.rules = append(c.rules, r)
			c.prec = append(c.prec, si)
		}
	}
	for i, r := range c.rules {
		for _, p := range r.prefixes {
			if !slices.Contains(c.prefixes[p], i) {
				c.prefixes[p] = append(c.prefixes[p], i)
			}
			if !slices.Contains(c.prefixLens, len(p)) {
				c.prefixLens = append(c.prefixLens, len(p))
			}
		}
		if r.orderRE != nil {
			c.orderREs = append(c.orderREs, i)
		}
		if r.productRE != nil {
			c.products = append(c.products, i)
		}
		if r.osRE != nil {
			c.oses = append(c.oses, i)
		}
		if r.fwRE != nil {
			c.firmwares = append(c.firmwares, i)
		}
	}
	slices.Sort(c.prefixLens)
	slices.Reverse(c.prefixLens)
	return c, probs
}

// Len is the number of entries.
func (c *Catalog) Len() int { return len(c.entries) }

// Entries returns a copy of the entries, in catalog order (built-in first,
// then new entries of each user file; a replaced entry keeps its place).
func (c *Catalog) Entries() []Entry { return slices.Clone(c.entries) }

// PhaseAt is the entry's phase at time now: the catalog's phase, raised to
// at least EndOfLife once the end of sale or the end of support has passed
// (a catalog older than its own dates still warns). It never lowers a phase.
func (e *Entry) PhaseAt(now time.Time) Phase {
	p := e.Phase
	if p < EndOfLife && (e.EndOfSale.Passed(now) || e.EndOfSupport.Passed(now)) {
		p = EndOfLife
	}
	return p
}
