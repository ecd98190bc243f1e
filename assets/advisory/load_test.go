package advisory

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"otscope/model"
)

// fixtureCSAF is a small CSAF 2.0 advisory the tests write themselves.
// extra lets a test add broken entries.
func fixtureCSAF(id, updated string, extraBranches, extraVulns []any) map[string]any {
	branches := []any{
		map[string]any{"category": "vendor", "name": "Acme Automation GmbH", "branches": append([]any{
			map[string]any{"category": "product_name", "name": "Widget PLC 100", "branches": []any{
				map[string]any{"category": "product_version_range", "name": "All versions < V2.0 SP1",
					"product": map[string]any{"name": "Acme Widget PLC 100", "product_id": "P1"}},
			}},
			map[string]any{"category": "product_name", "name": "Widget PLC 200 (ACM 214-1AG40-0XB0)", "branches": []any{
				map[string]any{"category": "product_version_range", "name": "vers:all/<V3.1.4",
					"product": map[string]any{"name": "Acme Widget PLC 200", "product_id": "P2",
						"product_identification_helper": map[string]any{"model_numbers": []string{"ACM 214-1AG40-0XB0"}}}},
			}},
			map[string]any{"category": "product_name", "name": "Widget HMI", "branches": []any{
				map[string]any{"category": "product_version", "name": "4.2",
					"product": map[string]any{"name": "Acme Widget HMI 4.2", "product_id": "P3"}},
			}},
		}, extraBranches...)},
	}
	vulns := append([]any{
		map[string]any{
			"cve":            "CVE-2099-0001",
			"cwe":            map[string]any{"id": "CWE-20", "name": "Improper Input Validation"},
			"product_status": map[string]any{"known_affected": []string{"P1", "P2"}, "fixed": []string{"P3"}},
			"scores": []any{map[string]any{"products": []string{"P1", "P2"},
				"cvss_v3": map[string]any{"baseScore": 7.5, "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}}},
			"remediations": []any{
				map[string]any{"category": "mitigation", "details": "Block port 102.", "product_ids": []string{"P1", "P2"}},
				map[string]any{"category": "vendor_fix", "details": "Update to V2.0 SP1.", "url": "https://acme.example/fix", "product_ids": []string{"P1"}},
			},
		},
		map[string]any{
			"cve":            "CVE-2099-0002",
			"product_status": map[string]any{"known_affected": []string{"P2", "P3"}},
			"scores":         []any{map[string]any{"cvss_v3": map[string]any{"baseScore": 9.1, "vectorString": "CVSS:3.1/AV:N"}}},
		},
	}, extraVulns...)
	return map[string]any{
		"document": map[string]any{
			"category": "csaf_security_advisory", "csaf_version": "2.0", "title": "Acme Widget PLCs",
			"publisher":  map[string]any{"name": "CISA"},
			"tracking":   map[string]any{"id": id, "initial_release_date": "2099-01-01T00:00:00Z", "current_release_date": updated},
			"references": []any{map[string]any{"category": "self", "summary": "ICS Advisory", "url": "https://www.cisa.gov/news-events/ics-advisories/" + strings.ToLower(id)}},
		},
		"product_tree":    map[string]any{"branches": branches},
		"vulnerabilities": vulns,
	}
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLoadFixtureAndMatch(t *testing.T) {
	dir := t.TempDir()
	writeJSON(t, filepath.Join(dir, "acme-1.json"), fixtureCSAF("ACME-99-001", "2099-02-01T00:00:00Z", nil, nil))
	db, errs := Load(dir)
	if len(errs) != 0 {
		t.Fatalf("problems: %v", errs)
	}
	a := db.Advisory("ACME-99-001")
	if db.Len() != 1 || a == nil || len(a.Products) != 3 || len(a.Vulns) != 2 {
		t.Fatalf("loaded %+v", a)
	}
	if a.URL == "" || a.Published.IsZero() || a.Updated.Year() != 2099 || a.Publisher != "CISA" {
		t.Errorf("document fields: %+v", a)
	}
	if p := a.Products[1]; p.ModelNumbers[0] != "ACM 214-1AG40-0XB0" || p.Versions.Kind != SpecRanges || p.Vendor != "Acme Automation GmbH" {
		t.Errorf("product: %+v", p)
	}
	if v := a.Vulns[0]; v.CVSS != 7.5 || v.CWE != "CWE-20 Improper Input Validation" || len(v.Remediations) != 2 {
		t.Errorf("vuln: %+v", v)
	}

	// The vendor spelled differently, the order number without the space
	// and with 0AB0 where the advisory has the wildcard 0XB0.
	m := db.Match(&model.Asset{Vendor: "ACME AUTOMATION", Product: "Widget PLC 200", OrderNumber: "ACM214-1AG40-0AB0", Firmware: "V3.1.2"})
	if len(m) != 1 || m[0].Confidence != ConfidenceOrderNumber || m[0].MaxCVSS != 9.1 ||
		strings.Join(m[0].CVEs, ",") != "CVE-2099-0001,CVE-2099-0002" ||
		!strings.Contains(m[0].Reason, "order number ACM214-1AG40-0AB0 in model numbers, firmware V3.1.2 < V3.1.4") ||
		m[0].Remediation != "Block port 102." {
		t.Fatalf("order number match: %+v", m)
	}
	if m := db.Match(&model.Asset{Vendor: "Acme Automation", Product: "Widget PLC 200", OrderNumber: "ACM214-1AG40-0AB0", Firmware: "V3.1.4"}); len(m) != 0 {
		t.Errorf("fixed firmware matched: %+v", m)
	}
	m = db.Match(&model.Asset{Vendor: "Acme Automation", Product: "Widget PLC 100", Firmware: "V2.0 HF3"})
	if len(m) != 1 || m[0].Confidence != ConfidenceNameVersion || m[0].Remediation != "Update to V2.0 SP1. (https://acme.example/fix)" ||
		strings.Join(m[0].CVEs, ",") != "CVE-2099-0001" || m[0].KEV {
		t.Fatalf("name match: %+v", m)
	}
	// Widget HMI 4.2 is affected by CVE-2099-0002 only; 4.3 by nothing.
	if m := db.Match(&model.Asset{Vendor: "Acme Automation", Product: "Widget HMI", Firmware: "4.2.7"}); len(m) != 1 || m[0].CVEs[0] != "CVE-2099-0002" {
		t.Errorf("HMI 4.2.7: %+v", m)
	}
	if m := db.Match(&model.Asset{Vendor: "Acme Automation", Product: "Widget HMI", Firmware: "4.3"}); len(m) != 0 {
		t.Errorf("HMI 4.3: %+v", m)
	}

	// KEV: a catalog with a bad record; the good ones flag the vulnerability.
	kev := map[string]any{
		"title": "CISA Catalog of Known Exploited Vulnerabilities", "catalogVersion": "2099.01.01",
		"dateReleased": "2099-01-01T00:00:00.000Z", "count": 3,
		"vulnerabilities": []any{
			map[string]any{"cveID": "CVE-2099-0001", "vendorProject": "Acme", "product": "Widget", "dateAdded": "2099-01-02",
				"dueDate": "2099-01-23", "requiredAction": "Apply the update.", "knownRansomwareCampaignUse": "Known"},
			map[string]any{"cveID": "not-a-cve", "dateAdded": "2099-01-02"},
			"garbage",
		},
	}
	kevPath := filepath.Join(t.TempDir(), "kev.json")
	writeJSON(t, kevPath, kev)
	errs = db.LoadKEV(kevPath)
	if db.KEVLen() != 1 || len(errs) != 2 || !errors.Is(errs[0], ErrMalformed) || !errors.Is(errs[1], ErrMalformed) {
		t.Fatalf("KEV: %d entries, problems %v", db.KEVLen(), errs)
	}
	m = db.Match(&model.Asset{Vendor: "Acme Automation", Product: "Widget PLC 100", Firmware: "1.0"})
	if len(m) != 1 || !m[0].KEV || !m[0].Ransomware || m[0].RequiredAction != "Apply the update." ||
		m[0].KEVDateAdded.Format("2006-01-02") != "2099-01-02" || m[0].KEVCVEs[0] != "CVE-2099-0001" {
		t.Fatalf("KEV match: %+v", m)
	}
	// A failed catalog load keeps the previous catalog.
	if errs := db.LoadKEV(filepath.Join(dir, "missing.json")); len(errs) != 1 || db.KEVLen() != 1 {
		t.Errorf("missing KEV file: %v, %d entries", errs, db.KEVLen())
	}
}

func TestLoadBadInput(t *testing.T) {
	dir := t.TempDir()
	badBranches := []any{
		"not an object",
		map[string]any{"category": "product_name", "name": 42},
		map[string]any{"category": "product_name", "name": "No ID", "branches": []any{
			map[string]any{"category": "product_version", "name": "1.0", "product": map[string]any{"name": "x"}}}},
		map[string]any{"category": "product_name", "name": "Dup", "branches": []any{
			map[string]any{"category": "product_version", "name": "1.0", "product": map[string]any{"name": "dup", "product_id": "P1"}}}},
		map[string]any{"category": "product_name", "name": "Odd range", "branches": []any{
			map[string]any{"category": "product_version_range", "name": "< 7.03 /7.04", "product": map[string]any{"name": "odd", "product_id": "P9"}}}},
	}
	badVulns := []any{
		map[string]any{"cve": 123},
		map[string]any{"product_status": map[string]any{"known_affected": []string{"P1"}}},
		map[string]any{"cve": "CVE-2099-0003", "scores": []any{map[string]any{"cvss_v3": map[string]any{"baseScore": 99.0}}},
			"remediations": []any{"nope"}},
	}
	writeJSON(t, filepath.Join(dir, "a-bad-entries.json"), fixtureCSAF("ACME-99-002", "2099-02-01T00:00:00Z", badBranches, badVulns))
	// Not JSON, JSON but not CSAF, CSAF 1.2, an empty object: skipped.
	os.WriteFile(filepath.Join(dir, "b-garbage.json"), []byte("{\"document\": [1, 2"), 0o644)
	writeJSON(t, filepath.Join(dir, "c-kev.json"), map[string]any{"vulnerabilities": []any{}})
	writeJSON(t, filepath.Join(dir, "d-old.json"), map[string]any{"document": map[string]any{"csaf_version": "1.2", "tracking": map[string]any{"id": "X"}}})
	os.WriteFile(filepath.Join(dir, "e-empty.json"), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored: not .json"), 0o644)
	// Too large: a sparse file one byte over the limit.
	big := filepath.Join(dir, "f-big.json")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	// The same advisory, older and newer: the newer wins whatever the order.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	writeJSON(t, filepath.Join(sub, "g-old.json"), fixtureCSAF("ACME-99-001", "2099-01-01T00:00:00Z", nil, nil))
	newer := fixtureCSAF("ACME-99-001", "2099-03-01T00:00:00Z", nil, nil)
	newer["document"].(map[string]any)["title"] = "Acme Widget PLCs (Update A)"
	writeJSON(t, filepath.Join(dir, "a-newer.json"), newer)

	db, errs := Load(dir, filepath.Join(dir, "does-not-exist"))
	for _, e := range errs {
		t.Logf("reported: %v", e)
	}
	if db.Len() != 2 {
		t.Fatalf("%d advisories, want 2", db.Len())
	}
	if a := db.Advisory("ACME-99-001"); a.Title != "Acme Widget PLCs (Update A)" {
		t.Errorf("kept %q, want the newer revision", a.Title)
	}
	count := func(target error) int {
		n := 0
		for _, e := range errs {
			if errors.Is(e, target) {
				n++
			}
		}
		return n
	}
	var fileErrs, entryErrs int
	for _, e := range errs {
		var fe *FileError
		var ee *EntryError
		switch {
		case errors.As(e, &fe):
			fileErrs++
		case errors.As(e, &ee):
			entryErrs++
			if ee.Advisory != "ACME-99-002" || ee.Entry == "" {
				t.Errorf("entry error without its place: %v", e)
			}
		}
	}
	if fileErrs != 6 { // garbage, kev, old, empty, big, missing
		t.Errorf("%d file errors, want 6", fileErrs)
	}
	if entryErrs != 9 { // 2 bad branches, no id, dup id, odd range, cve 123, no cve, score, remediation
		t.Errorf("%d entry errors, want 9", entryErrs)
	}
	if count(ErrTooLarge) != 1 || count(ErrNotCSAF) != 3 || count(ErrVersionRange) != 1 {
		t.Errorf("too large %d, not CSAF %d, version %d", count(ErrTooLarge), count(ErrNotCSAF), count(ErrVersionRange))
	}
	a := db.Advisory("ACME-99-002")
	if len(a.Products) != 4 || len(a.Vulns) != 3 {
		t.Fatalf("bad-entry advisory kept %d products, %d vulns; want 4, 3", len(a.Products), len(a.Vulns))
	}
	// The product with the unreadable range is kept and matches with the
	// range quoted.
	odd := db.Match(&model.Asset{Vendor: "Acme Automation", Product: "Odd range", Firmware: "7.01"})
	if len(odd) != 0 {
		t.Errorf("odd range matched without a vulnerability: %+v", odd)
	}
}

func TestReadLimitedDirectory(t *testing.T) {
	if _, err := readLimited(t.TempDir()); err == nil {
		t.Error("reading a directory succeeded")
	}
}
