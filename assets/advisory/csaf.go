package advisory

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Advisory is one CSAF 2.0 security advisory, reduced to what matching and
// display need.
type Advisory struct {
	ID        string // document.tracking.id, e.g. "ICSA-18-079-02"
	Title     string
	Publisher string
	URL       string // the advisory's own web page (a "self" reference), if given
	Published time.Time
	Updated   time.Time
	File      string // where it was loaded from
	Products  []Product
	Vulns     []Vuln
}

// Product is one product leaf of the CSAF product tree (a vendor/product
// name/version branch, or an "installed_on" relationship).
type Product struct {
	ID     string // product_id, unique inside the advisory
	Vendor string // vendor branch name, as written
	Family string // product_family branch name, if any
	Name   string // product_name branch name, trimmed
	// FullName is product.name ("SIMATIC S7-300 CPU 315-2 PN/DP (6ES7315-2EH14-0AB0)").
	FullName string
	// Category is the version node's category: "product_version",
	// "product_version_range", or "" when the product has no version node.
	Category string
	// Raw is the version expression as written (the branch name).
	Raw      string
	Versions VersionSpec
	// ModelNumbers are order numbers from product_identification_helper
	// (and Phoenix Contact article numbers CISA wrote as versions).
	ModelNumbers []string
	SKUs         []string
	// Relationship describes an installed_on/default_component_of product:
	// "Mobotix P3 Firmware MX-V4.0.1.15 installed on Mobotix P3 D24M".
	Relationship string
}

// Vuln is one vulnerability of an advisory.
type Vuln struct {
	CVE    string
	Title  string
	CWE    string
	CVSS   float64 // highest CVSS base score given (v3 preferred over v2)
	Vector string  // its vector string
	// KnownAffected lists product IDs (known_affected, first_affected,
	// last_affected).
	KnownAffected []string
	Fixed         []string
	NotAffected   []string
	Remediations  []Remediation
	// KEV is set when the CVE is in the loaded KEV catalog.
	KEV *KEVEntry
}

// Remediation is a CSAF remediation: its category ("vendor_fix",
// "mitigation", "workaround", "no_fix_planned", "none_available"), text, URL
// and the products it applies to.
type Remediation struct {
	Category   string
	Details    string
	URL        string
	ProductIDs []string
}

// affects reports whether the vulnerability is known to affect product id.
func (v *Vuln) affects(id string) bool { return slices.Contains(v.KnownAffected, id) }

// CSAF JSON, as far as we read it. Lists of entries stay raw so that one bad
// entry is reported and skipped instead of failing the file.
type csafDoc struct {
	Document struct {
		Category    string `json:"category"`
		CSAFVersion string `json:"csaf_version"`
		Title       string `json:"title"`
		Publisher   struct {
			Name string `json:"name"`
		} `json:"publisher"`
		Tracking struct {
			ID                 string `json:"id"`
			InitialReleaseDate string `json:"initial_release_date"`
			CurrentReleaseDate string `json:"current_release_date"`
		} `json:"tracking"`
		References []json.RawMessage `json:"references"`
	} `json:"document"`
	ProductTree struct {
		Branches         []json.RawMessage `json:"branches"`
		FullProductNames []json.RawMessage `json:"full_product_names"`
		Relationships    []json.RawMessage `json:"relationships"`
	} `json:"product_tree"`
	Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
}

type csafReference struct {
	Category string `json:"category"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
}

type csafBranch struct {
	Category string            `json:"category"`
	Name     string            `json:"name"`
	Product  *csafFullProduct  `json:"product"`
	Branches []json.RawMessage `json:"branches"`
}

type csafFullProduct struct {
	Name   string `json:"name"`
	ID     string `json:"product_id"`
	Helper *struct {
		ModelNumbers []string `json:"model_numbers"`
		SKUs         []string `json:"skus"`
	} `json:"product_identification_helper"`
}

type csafRelationship struct {
	Category        string          `json:"category"`
	FullProductName csafFullProduct `json:"full_product_name"`
	ProductRef      string          `json:"product_reference"`
	RelatesTo       string          `json:"relates_to_product_reference"`
}

type csafVuln struct {
	CVE   string `json:"cve"`
	Title string `json:"title"`
	CWE   *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"cwe"`
	ProductStatus map[string][]string `json:"product_status"`
	Remediations  []json.RawMessage   `json:"remediations"`
	Scores        []json.RawMessage   `json:"scores"`
}

type csafRemediation struct {
	Category   string   `json:"category"`
	Details    string   `json:"details"`
	URL        string   `json:"url"`
	ProductIDs []string `json:"product_ids"`
}

type csafScore struct {
	V3 *struct {
		BaseScore    float64 `json:"baseScore"`
		VectorString string  `json:"vectorString"`
	} `json:"cvss_v3"`
	V2 *struct {
		BaseScore    float64 `json:"baseScore"`
		VectorString string  `json:"vectorString"`
	} `json:"cvss_v2"`
}

// maxBranchDepth bounds the product tree depth we follow (CSAF trees are 3
// or 4 levels deep).
const maxBranchDepth = 32

// parseCSAF decodes one CSAF document. A document that is not CSAF 2.0 is an
// error; bad entries inside are returned as problems and skipped.
func parseCSAF(data []byte, file string) (*Advisory, []error, error) {
	var doc csafDoc
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	d := &doc.Document
	if d.CSAFVersion == "" && d.Tracking.ID == "" {
		return nil, nil, ErrNotCSAF
	}
	if d.CSAFVersion != "2.0" {
		return nil, nil, fmt.Errorf("%w: csaf_version %q", ErrNotCSAF, d.CSAFVersion)
	}
	if strings.TrimSpace(d.Tracking.ID) == "" {
		return nil, nil, fmt.Errorf("%w: document.tracking.id missing", ErrMalformed)
	}
	a := &Advisory{
		ID:        strings.TrimSpace(d.Tracking.ID),
		Title:     strings.TrimSpace(d.Title),
		Publisher: d.Publisher.Name,
		File:      file,
	}
	var problems []error
	entry := func(where string, err error) {
		problems = append(problems, &EntryError{File: file, Advisory: a.ID, Entry: where, Err: err})
	}
	var err error
	if a.Published, err = parseTime(d.Tracking.InitialReleaseDate); err != nil {
		entry("document.tracking.initial_release_date", err)
	}
	if a.Updated, err = parseTime(d.Tracking.CurrentReleaseDate); err != nil {
		entry("document.tracking.current_release_date", err)
	}
	for i, raw := range d.References {
		var r csafReference
		if err := json.Unmarshal(raw, &r); err != nil {
			entry(fmt.Sprintf("document.references[%d]", i), err)
			continue
		}
		if r.Category == "self" && a.URL == "" && strings.HasPrefix(r.URL, "http") && !strings.HasSuffix(r.URL, ".json") {
			a.URL = r.URL
		}
	}

	w := treeWalker{a: a, entry: entry, seen: map[string]int{}}
	for i, raw := range doc.ProductTree.Branches {
		w.branch(raw, fmt.Sprintf("product_tree.branches[%d]", i), branchCtx{}, 0)
	}
	for i, raw := range doc.ProductTree.FullProductNames {
		var fp csafFullProduct
		if err := json.Unmarshal(raw, &fp); err != nil {
			entry(fmt.Sprintf("product_tree.full_product_names[%d]", i), err)
			continue
		}
		w.add(fmt.Sprintf("product_tree.full_product_names[%d]", i), Product{Name: strings.TrimSpace(fp.Name), Versions: AllVersions()}, &fp)
	}
	for i, raw := range doc.ProductTree.Relationships {
		w.relationship(raw, fmt.Sprintf("product_tree.relationships[%d]", i))
	}

	for i, raw := range doc.Vulnerabilities {
		where := fmt.Sprintf("vulnerabilities[%d]", i)
		var cv csafVuln
		if err := json.Unmarshal(raw, &cv); err != nil {
			entry(where, err)
			continue
		}
		v := Vuln{CVE: strings.ToUpper(strings.TrimSpace(cv.CVE)), Title: cv.Title}
		if v.CVE == "" {
			v.CVE = strings.TrimSpace(cv.Title)
		}
		if v.CVE == "" {
			entry(where, fmt.Errorf("%w: vulnerability without cve or title", ErrMalformed))
			continue
		}
		if cv.CWE != nil {
			v.CWE = strings.TrimSpace(cv.CWE.ID + " " + cv.CWE.Name)
		}
		for status, ids := range cv.ProductStatus {
			switch status {
			case "known_affected", "first_affected", "last_affected":
				v.KnownAffected = append(v.KnownAffected, ids...)
			case "fixed", "first_fixed":
				v.Fixed = append(v.Fixed, ids...)
			case "known_not_affected":
				v.NotAffected = append(v.NotAffected, ids...)
			}
		}
		slices.Sort(v.KnownAffected)
		v.KnownAffected = slices.Compact(v.KnownAffected)
		for j, raw := range cv.Remediations {
			var r csafRemediation
			if err := json.Unmarshal(raw, &r); err != nil {
				entry(fmt.Sprintf("%s.remediations[%d]", where, j), err)
				continue
			}
			v.Remediations = append(v.Remediations, Remediation{
				Category: r.Category, Details: strings.TrimSpace(r.Details), URL: r.URL, ProductIDs: r.ProductIDs,
			})
		}
		for j, raw := range cv.Scores {
			var s csafScore
			if err := json.Unmarshal(raw, &s); err != nil {
				entry(fmt.Sprintf("%s.scores[%d]", where, j), err)
				continue
			}
			switch {
			case s.V3 != nil && validScore(s.V3.BaseScore):
				if s.V3.BaseScore > v.CVSS || v.Vector == "" || !strings.HasPrefix(v.Vector, "CVSS:3") {
					v.CVSS, v.Vector = s.V3.BaseScore, s.V3.VectorString
				}
			case s.V2 != nil && validScore(s.V2.BaseScore) && !strings.HasPrefix(v.Vector, "CVSS:3"):
				if s.V2.BaseScore > v.CVSS {
					v.CVSS, v.Vector = s.V2.BaseScore, s.V2.VectorString
				}
			case s.V3 != nil || s.V2 != nil:
				entry(fmt.Sprintf("%s.scores[%d]", where, j), fmt.Errorf("%w: CVSS base score out of range", ErrMalformed))
			}
		}
		a.Vulns = append(a.Vulns, v)
	}
	return a, problems, nil
}

func validScore(f float64) bool { return f >= 0 && f <= 10 }

func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: date %q", ErrMalformed, s)
	}
	return t, nil
}

type branchCtx struct{ vendor, family, name string }

type treeWalker struct {
	a     *Advisory
	entry func(where string, err error)
	seen  map[string]int // product id -> index in a.Products
}

func (w *treeWalker) branch(raw json.RawMessage, where string, ctx branchCtx, depth int) {
	if depth > maxBranchDepth {
		w.entry(where, fmt.Errorf("%w: product tree deeper than %d", ErrMalformed, maxBranchDepth))
		return
	}
	var b csafBranch
	if err := json.Unmarshal(raw, &b); err != nil {
		w.entry(where, err)
		return
	}
	switch b.Category {
	case "vendor":
		ctx.vendor = b.Name
	case "product_family":
		ctx.family = strings.TrimSpace(b.Name)
	case "product_name":
		ctx.name = strings.TrimSpace(b.Name)
	}
	if b.Product != nil {
		p := Product{Vendor: ctx.vendor, Family: ctx.family, Name: ctx.name}
		switch b.Category {
		case "product_version", "product_version_range":
			p.Category, p.Raw = b.Category, b.Name
			p.Versions = versionNode(ctx.vendor, b.Category, b.Name, &p)
		default:
			if p.Name == "" {
				p.Name = strings.TrimSpace(b.Name)
			}
			p.Versions = AllVersions()
		}
		if p.Name == "" {
			p.Name = strings.TrimSpace(b.Product.Name)
		}
		w.add(where, p, b.Product)
	}
	for i, c := range b.Branches {
		w.branch(c, fmt.Sprintf("%s.branches[%d]", where, i), ctx, depth+1)
	}
}

// versionNode interprets a version branch. Phoenix Contact advisories carry
// seven-digit article numbers where the version belongs (ICSA-22-172-05:
// "AXC 1050" version "2700988"): those become model numbers, all versions.
func versionNode(vendor, category, expr string, p *Product) VersionSpec {
	e := strings.TrimSpace(expr)
	if category == "product_version" && len(e) == 7 && allDigits(e) && vendorKeys(vendor)[0] == "phoenix contact" {
		p.ModelNumbers = append(p.ModelNumbers, e)
		s := AllVersions()
		s.Raw = expr
		s.Note = "Phoenix Contact article number " + e + " given as the version"
		return s
	}
	return ParseVersionSpec(expr)
}

func (w *treeWalker) add(where string, p Product, fp *csafFullProduct) {
	p.ID = strings.TrimSpace(fp.ID)
	if p.ID == "" {
		w.entry(where, fmt.Errorf("%w: product without product_id", ErrMalformed))
		return
	}
	if _, dup := w.seen[p.ID]; dup {
		w.entry(where, fmt.Errorf("%w: duplicate product_id %q", ErrMalformed, p.ID))
		return
	}
	w.seen[p.ID] = len(w.a.Products)
	p.FullName = strings.TrimSpace(fp.Name)
	if fp.Helper != nil {
		for _, m := range fp.Helper.ModelNumbers {
			if m = strings.TrimSpace(m); m != "" && !slices.Contains(p.ModelNumbers, m) {
				p.ModelNumbers = append(p.ModelNumbers, m)
			}
		}
		p.SKUs = fp.Helper.SKUs
	}
	if p.Versions.Kind == SpecInvalid && p.Raw != "" {
		w.entry(where, &VersionError{Product: p.Name, Raw: p.Raw, Problem: p.Versions.Problem})
	}
	w.a.Products = append(w.a.Products, p)
}

// relationship turns "X installed_on Y" into a product: Y's vendor, family
// and name, with X's version (Mobotix: camera D24M with firmware
// MX-V4.0.1.15).
func (w *treeWalker) relationship(raw json.RawMessage, where string) {
	var r csafRelationship
	if err := json.Unmarshal(raw, &r); err != nil {
		w.entry(where, err)
		return
	}
	ci, okc := w.seen[r.ProductRef]
	hi, okh := w.seen[r.RelatesTo]
	if !okc || !okh {
		w.entry(where, fmt.Errorf("%w: relationship refers to unknown products %q, %q", ErrMalformed, r.ProductRef, r.RelatesTo))
		return
	}
	comp, host := w.a.Products[ci], w.a.Products[hi]
	p := Product{
		Vendor:       host.Vendor,
		Family:       host.Family,
		Name:         host.Name,
		Category:     comp.Category,
		Raw:          comp.Raw,
		Versions:     comp.Versions,
		ModelNumbers: slices.Clone(host.ModelNumbers),
		Relationship: strings.TrimSpace(r.FullProductName.Name),
	}
	if p.Relationship == "" {
		p.Relationship = comp.FullName + " " + r.Category + " " + host.FullName
	}
	if comp.Category == "" {
		p.Versions = host.Versions
		p.Category, p.Raw = host.Category, host.Raw
	}
	w.add(where, p, &r.FullProductName)
}
