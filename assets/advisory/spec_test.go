package advisory

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
)

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"V3.2.7", "V3.2.17", -1},
		{"V3.2.17", "3.2.17", 0},
		{"33.011", "33.11", 0},
		{"03.10.08", "3.10.8", 0},
		{"2.80", "2.8.1", 1},
		{"1.03", "1.03D", -1},
		{"1.03D", "1.03E", -1},
		{"V4.7", "V4.7 HF27", -1},
		{"V4.7 HF27", "V4.7 SP6 HF3", -1},
		{"V4.7 SP6 HF3", "V4.8", -1},
		{"V7.3 Update 15", "V7.4 SP1 Upd1", -1},
		{"V7.3 Update 14", "V7.3 Update 15", -1},
		{"R511.5_TCU4_HF4", "R511.5_TCU4_HF3", 1},
		{"R511.5 HF9", "R511.5_TCU1", -1},
		{"R9.85", "R9.90", -1},
		{"MX-V4.4.2.73", "MX-V4.4.2.73.r2", -1},
		{"MX-V5.4.9.4-r3", "MX-V5.4.9.4-r1", 1},
		{"6.0.0-1", "6.0.0-3", -1},
		{"V2010 SP2", "V2010 SP3", -1},
		{"3.1 Build 4022.4", "3.1 Build 4024", -1},
		{"02.07.07(10)", "02.07.07(11)", -1},
		{"V3.X.14", "V3.2.14", 0},
		{"8.1x", "8.15", 0},
		{"8.1x", "8.20", -1},
		{"R16x", "R162", 0},
		{"Version V4.3", "V4.3", 0},
		{"HiOS-2A 09.0.04", "HiOS 07.0.02", 1},
		{"SV03.10", "v3.10", 0},
		{"V5.5 build 20061114", "V5.5", 1},
		{"99999999999999999999.1", "99999999999999999998.9", 1},
	}
	for _, tt := range tests {
		t.Run(tt.a+" vs "+tt.b, func(t *testing.T) {
			got, err := CompareVersions(tt.a, tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
			}
			if back, _ := CompareVersions(tt.b, tt.a); back != -tt.want {
				t.Errorf("CompareVersions(%q, %q) = %d, not antisymmetric", tt.b, tt.a, back)
			}
		})
	}
	for _, bad := range []string{"", "abc", "Update", "V", "x.y"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) succeeded", bad)
		}
	}
}

func TestVersionSpecContains(t *testing.T) {
	type probe struct {
		v      string
		in, ok bool
	}
	tests := []struct {
		spec   string
		kind   SpecKind
		probes []probe
	}{
		{"vers:all/*", SpecAll, []probe{{"anything", true, true}}},
		{"vers:all/<V7.0.3", SpecRanges, []probe{{"V7.0.2", true, true}, {"V7.0.3", false, true}, {"6.0.9", true, true}}},
		{"< V4.5.0", SpecRanges, []probe{{"V4.4.9", true, true}, {"V4.5", false, true}}},
		{"<= 33", SpecRanges, []probe{{"33.11", true, true}, {"33.011", true, true}, {"34.1", false, true}, {"20.55", true, true}}},
		{"All versions < V14 SP1", SpecRanges, []probe{{"V14", true, true}, {"V14 SP1", false, true}, {"V13 SP2", true, true}}},
		{"All versions >= V2.0 and < V2.5", SpecRanges, []probe{{"V1.8", false, true}, {"V2.0", true, true}, {"V2.4.9", true, true}, {"V2.5", false, true}}},
		{"< V3.X.14", SpecRanges, []probe{{"V3.2.7", true, true}, {"V3.3.13", true, true}, {"V3.2.17", false, true}, {"V2.6.9", true, true}}},
		{"<= HiOS 07.0.02", SpecRanges, []probe{{"HiOS-2A 07.0.01", true, true}, {"09.0.04", false, true}}},
		{"<=3.1 Build 4022.4", SpecRanges, []probe{{"3.1.4022.2", true, true}, {"3.1.4024", false, true}, {"3.1 Build 4020", true, true}}},
		{">=1.220|<=1.281", SpecRanges, []probe{{"1.219", false, true}, {"1.250", true, true}, {"1.290", false, true}}},
		{"5.1.0-x | 5.1.1-x | >= 6.0.0-1 | <= 6.0.0-3", SpecRanges, []probe{{"5.1.0-7", true, true}, {"5.1.2-1", false, true}, {"6.0.0-2", true, true}, {"6.0.0-4", false, true}}},
		{"< 1.49 (1.29 for NX7)", SpecRanges, []probe{{"1.48", true, true}, {"1.49", false, true}}},
		{">= 2.8.1 (only affected by CVE-2019-10943)", SpecRanges, []probe{{"V2.9.4", true, true}, {"2.8.0", false, true}}},
		{"<v36.011_v35.013_v34.014", SpecRanges, []probe{{"33.11", true, true}, {"34.011", true, true}, {"34.014", false, true}, {"35.012", true, true}, {"35.013", false, true}, {"36.011", false, true}, {"37.1", false, true}}},
		{">FW16_up_to_and_including_FW26", SpecRanges, []probe{{"03.10.08(22)", true, true}, {"FW26", true, true}, {"FW16", false, true}, {"04.04.03(27)", false, true}, {"03.10.08", false, false}}},
		{"< 02.07.07(10)", SpecRanges, []probe{{"02.07.06(09)", true, true}, {"03.10.08(22)", false, true}}},
		{"< 8.1x", SpecRanges, []probe{{"7.40", true, true}, {"8.05", true, true}, {"8.10", false, true}, {"8.20", false, true}}},
		{">= 7.4x | <= 8.0x", SpecRanges, []probe{{"7.30", false, true}, {"7.41", true, true}, {"8.09", true, true}, {"8.10", false, true}}},
		{">=R16x|<=R162.10", SpecRanges, []probe{{"R151", false, true}, {"R160", true, true}, {"R162.10", true, true}, {"R162.11", false, true}}},
		{"R15x", SpecRanges, []probe{{"R151", true, true}, {"R160", false, true}}},
		{"<R511.5_TCU4_HF4", SpecRanges, []probe{{"R511.5 TCU4 HF3", true, true}, {"R511.5 TCU4 HF4", false, true}, {"R511.4", true, true}}},
		{"< V4.7 SP6 HF3", SpecRanges, []probe{{"V4.7 SP6 HF2", true, true}, {"V4.7.6", false, false}}},
		{"10.1", SpecRanges, []probe{{"10.1.0.1902", true, true}, {"10.2", false, true}}},
		{"9.0.1 | 9.0.2 | 9.0.3 | 9.0.5 | 9.0.6", SpecRanges, []probe{{"9.0.3", true, true}, {"9.0.4", false, true}}},
		{"V4.7: < V4.7 HF27", SpecRanges, []probe{{"V4.7 HF26", true, true}}},
		{"All versions < SIMATIC WinAC RTX 2010 SP3", SpecRanges, []probe{{"2010 SP2", true, true}}},
		{"<= 4.11.00 (Versions removed from the scope of this advisory)", SpecWithdrawn, []probe{{"4.0", false, true}}},
		{"<=the_first_5_digits_of_serial_number_22081", SpecSerial, []probe{{"V1", false, false}}},
		{"<=production_date_December_2020", SpecProductionDate, []probe{{"1.0", false, false}}},
		{"< 7.03 /7.04", SpecInvalid, []probe{{"7.01", false, false}}},
		{"All versions installed in conjunction with SIMATIC WinCC < V7.3 Update", SpecInvalid, nil},
		{"<=3.1 C++ / Matlab (TC1210/TC1220/TC1300/TC1320)", SpecRanges, []probe{{"3.1", true, true}}},
		{"", SpecInvalid, nil},
		{"< banana", SpecInvalid, nil},
		{"<1 | <2", SpecInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			s := ParseVersionSpec(tt.spec)
			if s.Kind != tt.kind {
				t.Fatalf("kind %v, want %v (problem %q)", s.Kind, tt.kind, s.Problem)
			}
			if s.Kind == SpecInvalid && s.Problem == "" {
				t.Errorf("invalid without a reason")
			}
			for _, p := range tt.probes {
				in, ok := s.Contains(p.v)
				if in != p.in || ok != p.ok {
					t.Errorf("Contains(%q) = %v, %v; want %v, %v (spec %s)", p.v, in, ok, p.in, p.ok, s)
				}
			}
		})
	}
	if s := ParseVersionSpec("* (only affected by CVE-2019-10943)"); s.Kind != SpecAll || !slices.Equal(s.OnlyCVEs, []string{"CVE-2019-10943"}) {
		t.Errorf("only-affected note: %+v", s)
	}
	s := ParseVersionSpec("<=the_first_5_digits_of_serial_number_22081")
	for serial, want := range map[string]bool{"22081xxxxx": true, "21123456": true, "22091000": false} {
		if in, ok := s.ContainsSerial(serial); !ok || in != want {
			t.Errorf("ContainsSerial(%q) = %v, %v; want %v", serial, in, ok, want)
		}
	}
}

// TestTruthVersionCoverage parses every version expression of the real CSAF
// set and reports how many are machine-readable, listing the rest.
func TestTruthVersionCoverage(t *testing.T) {
	rows := readTruth(t)
	kinds := map[string]int{}
	var unparsed []string
	seen := map[string]bool{}
	for _, r := range rows {
		var p Product
		var s VersionSpec
		switch {
		case r.category == "":
			kinds["no version node (all versions)"]++
			continue
		default:
			s = versionNode(r.vendor, r.category, r.expr, &p)
		}
		k := s.Kind.String()
		if len(p.ModelNumbers) > 0 {
			k = "article number given as version (all versions)"
		}
		kinds[k]++
		if !s.MachineReadable() {
			line := fmt.Sprintf("%-18s %q: %s", r.file, r.expr, s.Problem)
			if !seen[line] {
				seen[line] = true
				unparsed = append(unparsed, line)
			}
		}
	}
	total := len(rows)
	readable := kinds["all"] + kinds["ranges"] + kinds["withdrawn"] + kinds["no version node (all versions)"] + kinds["article number given as version (all versions)"]
	t.Logf("TRUTH.tsv: %d product rows; machine-readable %d/%d", total, readable, total)
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for _, k := range ks {
		t.Logf("  %-48s %d", k, kinds[k])
	}
	t.Logf("not machine-readable (distinct expressions):\n  %s", strings.Join(unparsed, "\n  "))
	if total != 843 {
		t.Errorf("%d rows, README says 843", total)
	}
	// Every row that is not a serial-number or production-date bound has a
	// defined meaning; only these two stay undecidable.
	if bad := total - readable - kinds["serial"] - kinds["production date"]; bad > 2 {
		t.Errorf("%d rows invalid, want at most 2", bad)
	}
}
