package advisory

import (
	"os"
	"path/filepath"
	"testing"

	"otscope/model"
)

func FuzzParseVersionSpec(f *testing.F) {
	for _, s := range []string{"vers:all/*", "vers:all/<V7.0.3", "< V4.5.0", "<= 33", "All versions < V14 SP1",
		"All versions >= V2.0 and < V2.5", "< V3.X.14", "<= HiOS 07.0.02", "<=3.1 Build 4022.4", ">=1.220|<=1.281",
		"5.1.0-x | 5.1.1-x | >= 6.0.0-1 | <= 6.0.0-3", "< 1.49 (1.29 for NX7)", "<v36.011_v35.013_v34.014",
		">FW16_up_to_and_including_FW26", "< 02.07.07(10)", "<R511.5_TCU4_HF4", "MX-V4.4.2.73.r2", "R15x",
		"<=the_first_5_digits_of_serial_number_22081", "<= 15.2(6)E0a", "12.2(55)SE10", "(((", "vers:", "<", "| |", "x.x.x", "99999999999999999999"} {
		f.Add(s, "V3.2.7")
	}
	if _, err := os.Stat(filepath.Join(sharedDir, "csaf", "TRUTH.tsv")); err == nil {
		for _, r := range readTruth(f) {
			f.Add(r.expr, "1.0")
		}
	}
	f.Fuzz(func(t *testing.T, expr, version string) {
		s := ParseVersionSpec(expr)
		if s.Kind == SpecInvalid && s.Problem == "" {
			t.Fatalf("%q: invalid without a reason", expr)
		}
		if s.Kind == SpecRanges && len(s.Ranges) == 0 {
			t.Fatalf("%q: ranges kind without ranges", expr)
		}
		_ = s.String()
		in, ok := s.Contains(version)
		if !ok && in {
			t.Fatalf("%q contains %q without a decision", expr, version)
		}
		s.ContainsSerial(version)
		if v, err := ParseVersion(version); err == nil {
			if c, ok := Compare(v, v); ok && c != 0 {
				t.Fatalf("%q compares unequal to itself", version)
			}
		}
	})
}

func FuzzLoadCSAF(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"document":{"csaf_version":"2.0","tracking":{"id":"X"}},"product_tree":{"branches":[{"branches":[{"branches":[]}]}]}}`))
	if files, _ := filepath.Glob(filepath.Join(sharedDir, "csaf", "*.json")); len(files) > 0 {
		for _, file := range files {
			if st, err := os.Stat(file); err == nil && st.Size() < 40_000 {
				data, _ := os.ReadFile(file)
				f.Add(data)
			}
		}
	}
	assets := []model.Asset{
		{Vendor: "Siemens", Product: "CPU 315-2 PN/DP", OrderNumber: "6ES7 315-2EH14-0AB0", Firmware: "V3.2.7"},
		{Vendor: "Moxa", Product: "NPort 5110", Firmware: "2.2"},
		{Vendor: "Acme", Product: "x", Firmware: "1"},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, problems, err := parseCSAF(data, "fuzz.json")
		if err != nil {
			if a != nil {
				t.Fatal("advisory and error")
			}
			return
		}
		if a.ID == "" {
			t.Fatal("advisory without ID")
		}
		for _, p := range problems {
			if p == nil || p.Error() == "" {
				t.Fatal("empty problem")
			}
		}
		seen := map[string]bool{}
		for _, p := range a.Products {
			if p.ID == "" || seen[p.ID] {
				t.Fatalf("product id %q empty or duplicate", p.ID)
			}
			seen[p.ID] = true
		}
		db := &DB{byID: map[string]int{a.ID: 0}, advisories: []*Advisory{a}}
		db.reindex()
		for i := range assets {
			db.Match(&assets[i])
		}
		// An asset named like every product, to reach the version checks.
		for _, p := range a.Products {
			db.Match(&model.Asset{Vendor: p.Vendor, Product: p.Name, OrderNumber: first(p.ModelNumbers), Firmware: "1.0", Serial: "12345"})
		}
	})
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}
