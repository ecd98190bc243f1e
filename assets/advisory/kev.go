package advisory

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// KEVEntry is one record of the CISA Known Exploited Vulnerabilities catalog.
type KEVEntry struct {
	CVE               string
	VendorProject     string
	Product           string
	Name              string // vulnerabilityName
	DateAdded         time.Time
	DueDate           time.Time
	RequiredAction    string
	RansomwareUse     string // knownRansomwareCampaignUse: "Known" or "Unknown"
	ShortDescription  string
	Notes             string
	CatalogVersion    string
	CatalogReleasedAt time.Time
}

// Ransomware reports whether the catalog lists known ransomware campaign use.
func (k *KEVEntry) Ransomware() bool { return strings.EqualFold(k.RansomwareUse, "Known") }

type kevCatalog struct {
	Title           string            `json:"title"`
	CatalogVersion  string            `json:"catalogVersion"`
	DateReleased    string            `json:"dateReleased"`
	Count           int               `json:"count"`
	Vulnerabilities []json.RawMessage `json:"vulnerabilities"`
}

type kevRecord struct {
	CVE              string `json:"cveID"`
	VendorProject    string `json:"vendorProject"`
	Product          string `json:"product"`
	Name             string `json:"vulnerabilityName"`
	DateAdded        string `json:"dateAdded"`
	DueDate          string `json:"dueDate"`
	RequiredAction   string `json:"requiredAction"`
	RansomwareUse    string `json:"knownRansomwareCampaignUse"`
	ShortDescription string `json:"shortDescription"`
	Notes            string `json:"notes"`
}

var reCVEID = regexp.MustCompile(`^CVE-\d{4}-\d{4,}$`)

// parseKEV decodes the KEV catalog; bad records are problems and skipped.
func parseKEV(data []byte, file string) (map[string]*KEVEntry, []error, error) {
	var c kevCatalog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if c.Vulnerabilities == nil {
		return nil, nil, fmt.Errorf("%w: no \"vulnerabilities\" list: not a KEV catalog", ErrMalformed)
	}
	released, _ := time.Parse(time.RFC3339Nano, c.DateReleased)
	out := make(map[string]*KEVEntry, len(c.Vulnerabilities))
	var problems []error
	for i, raw := range c.Vulnerabilities {
		where := fmt.Sprintf("vulnerabilities[%d]", i)
		var r kevRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			problems = append(problems, &EntryError{File: file, Entry: where, Err: fmt.Errorf("%w: %v", ErrMalformed, err)})
			continue
		}
		cve := strings.ToUpper(strings.TrimSpace(r.CVE))
		if !reCVEID.MatchString(cve) {
			problems = append(problems, &EntryError{File: file, Entry: where, Err: fmt.Errorf("%w: cveID %q", ErrMalformed, r.CVE)})
			continue
		}
		e := &KEVEntry{
			CVE: cve, VendorProject: r.VendorProject, Product: r.Product, Name: r.Name,
			RequiredAction: r.RequiredAction, RansomwareUse: r.RansomwareUse,
			ShortDescription: r.ShortDescription, Notes: r.Notes,
			CatalogVersion: c.CatalogVersion, CatalogReleasedAt: released,
		}
		var err error
		if e.DateAdded, err = time.Parse(time.DateOnly, r.DateAdded); err != nil {
			problems = append(problems, &EntryError{File: file, Entry: where + ".dateAdded", Err: fmt.Errorf("%w: %q", ErrMalformed, r.DateAdded)})
		}
		if r.DueDate != "" {
			if e.DueDate, err = time.Parse(time.DateOnly, r.DueDate); err != nil {
				problems = append(problems, &EntryError{File: file, Entry: where + ".dueDate", Err: fmt.Errorf("%w: %q", ErrMalformed, r.DueDate)})
			}
		}
		out[cve] = e
	}
	if c.Count != 0 && c.Count != len(c.Vulnerabilities) {
		problems = append(problems, &EntryError{File: file, Entry: "count", Err: fmt.Errorf("%w: count %d but %d records", ErrMalformed, c.Count, len(c.Vulnerabilities))})
	}
	return out, problems, nil
}
