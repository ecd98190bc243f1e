package advisory

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"otscope/model"
)

var (
	realOnce sync.Once
	realDB   *DB
	realErrs []error
)

// loadReal loads the 42 real CSAF files and the KEV catalog once.
func loadReal(t testing.TB) *DB {
	t.Helper()
	dir := needShared(t)
	realOnce.Do(func() {
		realDB, realErrs = Load(filepath.Join(dir, "csaf"))
		realErrs = append(realErrs, realDB.LoadKEV(filepath.Join(dir, "kev", "known_exploited_vulnerabilities.json"))...)
	})
	return realDB
}

func TestLoadRealSet(t *testing.T) {
	db := loadReal(t)
	if db.Len() != 42 {
		t.Fatalf("loaded %d advisories, want 42", db.Len())
	}
	if db.KEVLen() != 1404 {
		t.Errorf("KEV entries %d, want 1404", db.KEVLen())
	}
	// The only problems in the real set are the two version expressions
	// without a defined machine-readable meaning.
	for _, e := range realErrs {
		t.Logf("reported: %v", e)
	}
	if len(realErrs) != 2 {
		t.Errorf("%d problems, want the 2 unreadable version expressions", len(realErrs))
	}
	// Every product leaf and its known-affected CVEs as TRUTH.tsv lists them.
	type key struct{ id, pid string }
	got := map[key]string{}
	for _, a := range db.Advisories() {
		for _, p := range a.Products {
			if p.Relationship != "" {
				continue
			}
			var cves []string
			for _, v := range a.Vulns {
				if v.affects(p.ID) {
					cves = append(cves, v.CVE)
				}
			}
			sort.Strings(cves)
			got[key{a.ID, p.ID}] = strings.Join(cves, ",")
		}
	}
	rows := readTruth(t)
	for _, r := range rows {
		want := strings.Split(r.cves, ",")
		if r.cves == "" {
			want = nil
		}
		sort.Strings(want)
		g, ok := got[key{r.id, r.productID}]
		if !ok {
			t.Errorf("%s %s (%s) not loaded", r.id, r.productID, r.product)
			continue
		}
		if g != strings.Join(want, ",") {
			t.Errorf("%s %s: CVEs %q, TRUTH %q", r.id, r.productID, g, strings.Join(want, ","))
		}
	}
	if len(got) != len(rows) {
		t.Errorf("%d branch products loaded, TRUTH has %d", len(got), len(rows))
	}
	// KEV flags as the README lists them.
	kevs := map[string][]string{}
	for _, a := range db.Advisories() {
		for _, v := range a.Vulns {
			if v.KEV != nil {
				kevs[a.ID] = append(kevs[a.ID], v.CVE)
			}
		}
	}
	want := map[string][]string{
		"ICSA-23-297-01": {"CVE-2023-20198", "CVE-2023-20273"},
		"ICSA-23-348-15": {"CVE-2023-6448"},
		"ICSA-24-116-03": {"CVE-2024-3400"},
	}
	for id, cves := range want {
		slices.Sort(kevs[id])
		if !slices.Equal(kevs[id], cves) {
			t.Errorf("%s KEV CVEs %v, want %v", id, kevs[id], cves)
		}
	}
	if len(kevs) != len(want) {
		t.Errorf("advisories with KEV CVEs: %v", kevs)
	}
	k := db.KEV("CVE-2023-20198")
	if k == nil || k.DateAdded.Format("2006-01-02") != "2023-10-16" || k.RequiredAction == "" || k.RansomwareUse == "" {
		t.Errorf("KEV entry CVE-2023-20198: %+v", k)
	}
}

// TestMatchRealisticAssets matches devices an OT network really has against
// the real advisories: the advisories an OT engineer expects, and no others.
func TestMatchRealisticAssets(t *testing.T) {
	db := loadReal(t)
	type want struct {
		id         string
		conf       Confidence
		product    string   // substring of the matched product name
		reason     []string // substrings of the reason
		cves       []string // exact CVEs when given
		kev        bool
		remediates string // substring of the remediation
	}
	tests := []struct {
		name  string
		asset model.Asset
		want  []want
	}{
		{"S7-300 CPU 315-2 PN/DP V3.2.7",
			model.Asset{Vendor: "Siemens", Product: "CPU 315-2 PN/DP", OrderNumber: "6ES7 315-2EH14-0AB0", Firmware: "V3.2.7"},
			[]want{
				{id: "ICSA-18-079-02", conf: ConfidenceOrderNumber, product: "CPU 315-2 PN/DP (6ES7315-2EH14-0AB0)",
					reason: []string{"vendor Siemens", "order number 6ES7 315-2EH14-0AB0 in model numbers", "firmware V3.2.7 < V3.2.16"},
					cves:   []string{"CVE-2018-4843"}, remediates: "Update to V3.2.16"},
				{id: "ICSA-17-129-02", conf: ConfidenceNameVersion, product: "S7-300 CPU family",
					reason: []string{"is a SIMATIC S7-300", "V3.2.7 < V3.X.14"}, cves: []string{"CVE-2017-2680", "CVE-2017-2681"}},
				{id: "ICSA-20-252-02", conf: ConfidenceNameVersion, product: "S7-300 CPU family", reason: []string{"all versions affected"}},
			}},
		{"S7-300 CPU 315-2 PN/DP V3.2.17 (patched)",
			model.Asset{Vendor: "Siemens", Product: "CPU 315-2 PN/DP", OrderNumber: "6ES7 315-2EH14-0AB0", Firmware: "V3.2.17"},
			[]want{{id: "ICSA-20-252-02", conf: ConfidenceNameVersion}}},
		{"S7-1500 CPU 1516-3 PN/DP V2.9.4",
			model.Asset{Vendor: "Siemens", Product: "CPU 1516-3 PN/DP", OrderNumber: "6ES7 516-3AN02-0AB0", Firmware: "V2.9.4"},
			[]want{
				{id: "ICSA-24-284-01", conf: ConfidenceOrderNumber, product: "(6ES7516-3AN02-0AB0)", cves: []string{"CVE-2024-46886"}},
				{id: "ICSA-19-344-06", conf: ConfidenceNameVersion, product: "S7-1500 CPU family",
					reason: []string{"V2.9.4 >= 2.8.1", "only CVE-2019-10943"}, cves: []string{"CVE-2019-10943"}},
			}},
		{"S7-1500 known only by name, V2.0",
			model.Asset{Vendor: "Siemens AG", Product: "CPU 1516-3 PN/DP", Firmware: "V2.0"},
			[]want{
				{id: "ICSA-17-129-02", conf: ConfidenceNameVersion}, {id: "ICSA-18-282-05", conf: ConfidenceNameVersion},
				{id: "ICSA-19-344-06", conf: ConfidenceNameVersion, cves: []string{"CVE-2019-10929", "CVE-2019-10943"}},
				{id: "ICSA-22-286-04", conf: ConfidenceNameVersion},
				{id: "ICSA-24-284-01", conf: ConfidenceNameVersion, product: "CPU 1516-3 PN/DP"},
			}},
		{"ControlLogix 1756-L83E/B 33.11",
			model.Asset{Vendor: "Rockwell Automation/Allen-Bradley", Product: "1756-L83E/B", OrderNumber: "1756-L83E", Firmware: "33.11", HardwareVersion: "Series B"},
			[]want{{id: "ICSA-24-226-09", conf: ConfidenceOrderNumber, product: "ControlLogix 5580",
				reason: []string{"order number 1756-L83E matches part number 1756-L8z", "33.11 < v34.014"}}}},
		{"ControlLogix 1756-L83E 34.011",
			model.Asset{Vendor: "Rockwell Automation", Product: "1756-L83E/B", OrderNumber: "1756-L83E", Firmware: "34.011"},
			[]want{{id: "ICSA-24-163-01", conf: ConfidenceNameVersion, product: "ControlLogix 5580"},
				{id: "ICSA-24-226-09", conf: ConfidenceOrderNumber}}},
		{"ControlLogix 5570 1756-L73 33.11",
			model.Asset{Vendor: "Rockwell Automation/Allen-Bradley", Product: "1756-L73/B", OrderNumber: "1756-L73", Firmware: "33.11"},
			[]want{{id: "ICSA-21-061-02", conf: ConfidenceNameVersion, product: "ControlLogix 5570", reason: []string{"33.11 <= 33"}}}},
		{"Modicon M580 BMEP582040 v3.10",
			model.Asset{Vendor: "Schneider Electric", Product: "Modicon M580", OrderNumber: "BMEP582040", Firmware: "v3.10"},
			[]want{
				{id: "ICSA-21-194-02", conf: ConfidenceOrderNumber, reason: []string{"matches part number BMEP*"}, remediates: "SEVD-2021-194-01"},
				{id: "ICSA-23-227-01", conf: ConfidenceOrderNumber, product: "BMEP* and BMEH*"},
			}},
		{"Modicon M580 BMEP582040 v2.70",
			model.Asset{Vendor: "Schneider Electric", Product: "BMEP582040", OrderNumber: "BMEP582040", Firmware: "SV02.70"},
			[]want{{id: "ICSA-20-016-01", conf: ConfidenceNameVersion, reason: []string{"is a Modicon M580", "< 2.80"}},
				{id: "ICSA-21-194-02", conf: ConfidenceOrderNumber}, {id: "ICSA-23-227-01", conf: ConfidenceOrderNumber}}},
		{"WAGO PFC200 750-8212 03.10.08(22)",
			model.Asset{Vendor: "WAGO Kontakttechnik GmbH & Co. KG", Product: "PFC200 CS 2ETH RS", OrderNumber: "750-8212", Firmware: "03.10.08(22)"},
			[]want{{id: "ICSA-23-325-01", conf: ConfidenceNameVersion, product: "PFC200", reason: []string{"03.10.08(22) > FW16, <= FW26"}}}},
		{"WAGO PFC200 750-8206 02.07.07(09)",
			model.Asset{Vendor: "WAGO", Product: "PFC200 CS 2ETHRS", OrderNumber: "750-8206", Firmware: "02.07.07(09)"},
			[]want{{id: "ICSA-18-044-01", conf: ConfidenceNameVersion, product: "750-8206"}}},
		{"Moxa EDS-510E (not an EDS-G5xxE)",
			model.Asset{Vendor: "Moxa", Product: "EDS-510E-3GTXSFP", Firmware: "V5.5 build 20061114"}, nil},
		{"Moxa EDS-G516E V5.2",
			model.Asset{Vendor: "MOXA Inc.", Product: "EDS-G516E-4GSFP", Firmware: "V5.2 build 19011716"},
			[]want{{id: "ICSA-19-353-01", conf: ConfidenceNameVersion, product: "EDS-G516E", reason: []string{"<= 6.0"}}}},
		{"Moxa NPort 5110 2.2",
			model.Asset{Vendor: "Moxa", Product: "NPort 5110", Firmware: "2.2"},
			[]want{{id: "ICSA-17-320-01", conf: ConfidenceNameVersion, reason: []string{"= 2.2"}}}},
		{"MicroLogix 1400 Series B 21.3",
			model.Asset{Vendor: "Rockwell Automation/Allen-Bradley", Product: "1766-L32BXB B/21.03", OrderNumber: "1766-L32BXB", Firmware: "21.3", HardwareVersion: "Series B"},
			[]want{{id: "ICSA-22-354-04", conf: ConfidenceNameVersion, product: "MicroLogix 1400 B/C", reason: []string{"21.3 <= 21.007"}}}},
		{"MicroLogix 1400 Series A 7.0",
			model.Asset{Vendor: "Rockwell Automation/Allen-Bradley", Product: "1766-L32BWA A/7.00", OrderNumber: "1766-L32BWA", Firmware: "7.0", HardwareVersion: "Series A"},
			[]want{{id: "ICSA-22-354-04", conf: ConfidenceNameVersion, product: "MicroLogix 1400 A"}}},
		{"MicroLogix 1400 Series B 21.8 (fixed)",
			model.Asset{Vendor: "Rockwell Automation", Product: "1766-L32BXB", OrderNumber: "1766-L32BXB", Firmware: "21.008", HardwareVersion: "Series B"}, nil},
		{"Metasys NAE55 10.1",
			model.Asset{Vendor: "Johnson Controls, Inc.", Product: "MS-NAE5510-3", Firmware: "10.1.0.1902"},
			[]want{{id: "ICSA-23-341-03", conf: ConfidenceNameVersion, product: "NAE55", reason: []string{"is a Metasys NAE55", "< 11.0.6"}}}},
		{"Hirschmann GRS1040 HiOS 07.0.01",
			model.Asset{Vendor: "Hirschmann Automation and Control GmbH", Product: "GRS1040", Firmware: "HiOS-2A 07.0.01"},
			[]want{{id: "ICSA-20-091-01", conf: ConfidenceNameVersion}}},
		{"Hirschmann GRS1040 HiOS 09.0.04 (fixed)",
			model.Asset{Vendor: "Belden", Product: "GRS1040", Firmware: "HiOS-2A 09.0.04"}, nil},
		{"Stratix 5800 (Cisco IOS XE, KEV)",
			model.Asset{Vendor: "Rockwell Automation", Product: "Stratix 5800", Firmware: "17.12.1"},
			[]want{{id: "ICSA-23-297-01", conf: ConfidenceNameVersion, kev: true, cves: []string{"CVE-2023-20198", "CVE-2023-20273"}}}},
		{"Unitronics Vision (KEV, product only named OS)",
			model.Asset{Vendor: "Unitronics", Product: "V570-57-T20B", Firmware: "OS 9.8.64"},
			[]want{{id: "ICSA-23-348-15", conf: ConfidenceName, kev: true, reason: []string{`only as "OS"`}}}},
		{"RUGGEDCOM APE1808 (PAN-OS, KEV)",
			model.Asset{Vendor: "Siemens", Product: "RUGGEDCOM APE1808", Firmware: "V2.0"},
			[]want{{id: "ICSA-24-116-03", conf: ConfidenceNameVersion, kev: true}}},
		{"SCALANCE XC208: no advisory in the set",
			model.Asset{Vendor: "Siemens", Product: "SCALANCE XC208", OrderNumber: "6GK5 208-0BA00-2AC2", Firmware: "V4.3"}, nil},
		{"vendor unknown: nothing",
			model.Asset{Product: "CPU 315-2 PN/DP", OrderNumber: "6ES7 315-2EH14-0AB0", Firmware: "V3.2.7"}, nil},
		{"another vendor with the same product words: nothing",
			model.Asset{Vendor: "Acme", Product: "SIMATIC S7-300 CPU 315-2 PN/DP", Firmware: "V1.0"}, nil},
		{"S7-300 firmware unknown: product matches, version not decided",
			model.Asset{Vendor: "Siemens", Product: "CPU 315-2 PN/DP", OrderNumber: "6ES7 315-2EH14-0AB0"},
			[]want{{id: "ICSA-18-079-02", conf: ConfidenceName, reason: []string{"firmware unknown"}},
				{id: "ICSA-17-129-02", conf: ConfidenceName}, {id: "ICSA-20-252-02", conf: ConfidenceNameVersion}}},
		{"SINAUT ST7CC: range not machine-readable",
			model.Asset{Vendor: "Siemens", Product: "SINAUT ST7CC", Firmware: "V3.0"},
			[]want{{id: "ICSA-17-129-01", conf: ConfidenceName, reason: []string{"version range not machine-readable: All versions installed in conjunction"}}}},
		{"Mitsubishi Q03UDECPU by serial number",
			model.Asset{Vendor: "Mitsubishi Electric Corporation", Product: "Q03UDECPU", Serial: "21081xxxxxx", Firmware: "1.0"},
			[]want{{id: "ICSA-20-245-01", conf: ConfidenceNameVersion, reason: []string{"serial 21081"}}}},
		{"Mobotix P3 camera on vulnerable firmware",
			model.Asset{Vendor: "MOBOTIX AG", Product: "D24M", Firmware: "MX-V4.4.2.73"},
			[]want{{id: "ICSA-24-235-03", conf: ConfidenceNameVersion, product: "installed on Mobotix P3 D24M", reason: []string{"= MX-V4.4.2.73"}}}},
		{"Mobotix P3 camera on fixed firmware",
			model.Asset{Vendor: "MOBOTIX AG", Product: "D24M", Firmware: "MX-V4.7.2.18"}, nil},
		{"Omron CJ2M-CPU33 (□ wildcards)",
			model.Asset{Vendor: "OMRON Corporation", Product: "CJ2M-CPU33", Firmware: "2.0"},
			[]want{{id: "ICSA-22-179-02", conf: ConfidenceNameVersion}, {id: "ICSA-23-073-01", conf: ConfidenceNameVersion, product: "CJ2M-CPU"}}},
		{"Phoenix Contact AXC 1050 by article number",
			model.Asset{Vendor: "Phoenix Contact GmbH & Co. KG", Product: "AXC 1050", OrderNumber: "2700988", Firmware: "1.2"},
			[]want{{id: "ICSA-22-172-05", conf: ConfidenceOrderNumber, reason: []string{"order number 2700988 in model numbers"}}}},
		{"Phoenix Contact ILC 151 ETH (1x1 wildcard)",
			model.Asset{Vendor: "Phoenix Contact", Product: "ILC 151 ETH", Firmware: "4.42"},
			[]want{{id: "ICSA-22-172-05", conf: ConfidenceNameVersion, product: "ILC 1x1"}}},
		{"CP 443-1 module in an S7-400 rack",
			model.Asset{Vendor: "Siemens", Product: "CPU 416-2", OrderNumber: "6ES7 416-2XN05-0AB0", Firmware: "V5.3.2",
				Modules: []model.Module{{Rack: 0, Slot: 4, Product: "CP 443-1", OrderNumber: "6GK7 443-1EX30-0XE0", Firmware: "V3.2.1"}}},
			[]want{{id: "ICSA-17-129-02", conf: ConfidenceNameVersion, product: "CP 443-1 (incl"},
				{id: "ICSA-18-079-02", conf: ConfidenceOrderNumber, reason: []string{"module 0/4 CP 443-1", "6GK7 443-1EX30-0XE0 in model numbers"}},
				{id: "ICSA-20-252-02", conf: ConfidenceNameVersion, product: "S7-400"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := db.Match(&tt.asset)
			var ids, wantIDs []string
			for _, m := range got {
				ids = append(ids, m.AdvisoryID)
				t.Logf("%s %s %v CVSS %.1f KEV %v [%v]\n\t%s\n\tfix: %s", m.AdvisoryID, m.ProductName, m.CVEs, m.MaxCVSS, m.KEV, m.Confidence, m.Reason, m.Remediation)
			}
			for _, w := range tt.want {
				wantIDs = append(wantIDs, w.id)
			}
			sort.Strings(ids)
			sort.Strings(wantIDs)
			if !slices.Equal(ids, wantIDs) {
				t.Fatalf("advisories %v, want %v", ids, wantIDs)
			}
			for _, w := range tt.want {
				i := slices.IndexFunc(got, func(m Match) bool { return m.AdvisoryID == w.id })
				m := got[i]
				if m.Confidence != w.conf {
					t.Errorf("%s: confidence %v, want %v", w.id, m.Confidence, w.conf)
				}
				if !strings.Contains(m.ProductName, w.product) {
					t.Errorf("%s: product %q, want %q in it", w.id, m.ProductName, w.product)
				}
				for _, r := range w.reason {
					if !strings.Contains(m.Reason, r) {
						t.Errorf("%s: reason %q lacks %q", w.id, m.Reason, r)
					}
				}
				if w.cves != nil && !slices.Equal(m.CVEs, w.cves) {
					t.Errorf("%s: CVEs %v, want %v", w.id, m.CVEs, w.cves)
				}
				if m.KEV != w.kev || w.kev && (len(m.KEVCVEs) == 0 || m.KEVDateAdded.IsZero() || m.RequiredAction == "") {
					t.Errorf("%s: KEV %v %v %v, want %v", w.id, m.KEV, m.KEVCVEs, m.KEVDateAdded, w.kev)
				}
				if !strings.Contains(m.Remediation, w.remediates) {
					t.Errorf("%s: remediation %q, want %q in it", w.id, m.Remediation, w.remediates)
				}
				if len(m.CVEs) == 0 || m.MaxCVSS <= 0 || m.Reason == "" || m.Remediation == "" || m.Title == "" {
					t.Errorf("%s: incomplete match %+v", w.id, m)
				}
			}
		})
	}
}
