package lifecycle

import (
	"strings"
	"testing"

	"otscope/model"
)

// TestMatchRealisticAssets runs the default catalog over assets as the
// decoders build them (values taken from the demo plant and real devices).
func TestMatchRealisticAssets(t *testing.T) {
	c := defaultCatalog(t)
	tests := map[string]struct {
		a                *model.Asset
		id               string
		phase            Phase
		field, evidence  string
		rule, endSupport string
	}{
		"S7-300 CPU 315-2 PN/DP": {
			a: asset("mac:00:0e:8c:9a:02:12",
				fact(model.FieldVendor, "Siemens", "s7comm"),
				fact(model.FieldProduct, "CPU 315-2 PN/DP", "s7comm"),
				fact(model.FieldOrderNumber, "6ES7 315-2EH14-0AB0", "s7comm"),
				fact(model.FieldFirmware, "V3.2.17", "s7comm")),
			id: "siemens-s7-300-cpu", phase: EndOfLife, field: model.FieldOrderNumber, evidence: "6ES7 315-2EH14-0AB0",
			rule: "order number 6ES7 31* → SIMATIC S7-300 CPU", endSupport: "2033",
		},
		"S7-300 MLFB written without spaces": {
			a:  asset("ip:10.0.0.1", fact(model.FieldOrderNumber, "6ES73152EH140AB0", "snmp")),
			id: "siemens-s7-300-cpu", phase: EndOfLife, field: model.FieldOrderNumber, evidence: "6ES73152EH140AB0",
		},
		"S7-1500 CPU 1516-3 PN/DP": {
			a: asset("mac:00:1b:1b:01:02:03",
				fact(model.FieldVendor, "Siemens", "s7comm-plus"),
				fact(model.FieldProduct, "CPU 1516-3 PN/DP", "s7comm-plus"),
				fact(model.FieldOrderNumber, "6ES7 516-3AN02-0AB0", "s7comm-plus"),
				fact(model.FieldFirmware, "V2.9.4", "s7comm-plus")),
			id: "siemens-s7-1500-cpu", phase: Active, field: model.FieldOrderNumber, evidence: "6ES7 516-3AN02-0AB0",
			rule: "order number 6ES7 51* → SIMATIC S7-1500 CPU",
		},
		"S7-1200 G1 CPU 1214C": {
			a:  asset("ip:10.0.0.2", fact(model.FieldVendor, "Siemens", "snmp"), fact(model.FieldOrderNumber, "6ES7 214-1AG40-0XB0", "snmp")),
			id: "siemens-s7-1200-g1", phase: Mature, field: model.FieldOrderNumber, evidence: "6ES7 214-1AG40-0XB0",
		},
		"S7-200 CPU 224": {
			a:  asset("ip:10.0.0.3", fact(model.FieldOrderNumber, "6ES7 214-1AD23-0XB0", "s7comm")),
			id: "siemens-s7-200", phase: Discontinued, field: model.FieldOrderNumber, evidence: "6ES7 214-1AD23-0XB0",
		},
		"ControlLogix 1756-L61": {
			a: asset("mac:00:00:bc:01:02:03",
				fact(model.FieldVendor, "Rockwell Automation/Allen-Bradley", "enip"),
				fact(model.FieldProduct, "1756-L61/B LOGIX5561", "enip"),
				fact(model.FieldOrderNumber, "1756-L61", "enip"),
				fact(model.FieldFirmware, "20.11", "enip")),
			id: "rockwell-controllogix-l6x", phase: Discontinued, field: model.FieldOrderNumber, evidence: "1756-L61",
			rule: "order number 1756-L6* → ControlLogix 5560 (1756-L6x)",
		},
		"ControlLogix by product name only": {
			a: asset("mac:00:00:bc:01:02:04",
				fact(model.FieldVendor, "Rockwell Automation/Allen-Bradley", "enip"),
				fact(model.FieldProduct, "1756-L73/B LOGIX5573", "enip")),
			id: "rockwell-controllogix-l7x", phase: Mature, field: model.FieldProduct, evidence: "1756-L73/B LOGIX5573",
		},
		"MicroLogix 1400": {
			a: asset("mac:00:00:bc:05:06:07",
				fact(model.FieldVendor, "Rockwell Automation/Allen-Bradley", "enip"),
				fact(model.FieldProduct, "1766-L32BWA B/14.00", "enip"),
				fact(model.FieldOrderNumber, "1766-L32BWA", "enip")),
			id: "rockwell-micrologix-1400", phase: EndOfLife, field: model.FieldOrderNumber, evidence: "1766-L32BWA",
		},
		"Modicon M580": {
			a: asset("mac:00:80:f4:01:02:03",
				fact(model.FieldVendor, "Schneider Electric", "modbus"),
				fact(model.FieldProduct, "BMEP582040", "modbus"),
				fact(model.FieldOrderNumber, "BMEP582040", "modbus")),
			id: "schneider-modicon-m580", phase: Active, field: model.FieldOrderNumber, evidence: "BMEP582040",
		},
		"Modicon Quantum with spaced reference": {
			a:  asset("mac:00:80:f4:01:02:04", fact(model.FieldVendor, "Schneider Electric", "modbus"), fact(model.FieldOrderNumber, "140 CPU 651 60", "modbus")),
			id: "schneider-modicon-quantum", phase: EndOfLife, field: model.FieldOrderNumber, evidence: "140 CPU 651 60",
		},
		"Windows 7 HMI via its os fact": {
			a: asset("mac:00:1a:4b:01:02:03",
				fact(model.FieldVendor, "Hewlett Packard", "oui"),
				fact(model.FieldOS, "Windows 7 Professional 7601 Service Pack 1", "smb"),
				fact(model.FieldOS, "Windows 7 (NT 6.1)", "browser")),
			id: "windows-7", phase: Discontinued, field: model.FieldOS, evidence: "Windows 7 Professional 7601 Service Pack 1",
			rule: `OS ~ /\bWindows 7\b|\bWindows (NT |Version )?6\.1\b/ → Windows 7`, endSupport: "2020-01-14",
		},
		"Windows NT version from NTLMSSP": {
			a:  asset("ip:10.0.0.5", fact(model.FieldOS, "Windows NT 6.1 build 7601", "smb")),
			id: "windows-7", phase: Discontinued, field: model.FieldOS, evidence: "Windows NT 6.1 build 7601", endSupport: "2020-01-14",
		},
		"Windows Server 2008 R2 beats 2008": {
			a:  asset("ip:10.0.0.6", fact(model.FieldOS, "Windows Server 2008 R2 Standard 7601 Service Pack 1", "smb")),
			id: "windows-server-2008-r2", phase: Discontinued, field: model.FieldOS, endSupport: "2020-01-14",
		},
		"Windows 10 LTSC 2019 beats Windows 10": {
			a:  asset("ip:10.0.0.7", fact(model.FieldOS, "Windows 10 Enterprise LTSC 2019 17763", "smb")),
			id: "windows-10-ltsc-2019", phase: Mature, field: model.FieldOS, endSupport: "2029-01-09",
		},
		"Windows 10/11 from the browser protocol is ambiguous": {
			a: asset("ip:10.0.0.8", fact(model.FieldOS, "Windows 10/11 (NT 10.0)", "browser")),
		},
		"Windows Embedded Standard 7": {
			a:  asset("ip:10.0.0.9", fact(model.FieldOS, "Windows Embedded Standard 7601 Service Pack 1", "smb")),
			id: "windows-embedded-standard-7", phase: Discontinued, field: model.FieldOS, endSupport: "2020-10-13",
		},
		"Cisco IOS XE 17.3 from SNMP": {
			a: asset("mac:00:1e:7a:01:02:03",
				fact(model.FieldVendor, "Cisco", "cdp"),
				fact(model.FieldOS, "Cisco IOS XE 17.3.4", "snmp"),
				fact(model.FieldFirmware, "17.3.4", "snmp")),
			id: "cisco-ios-xe-17.3", phase: Discontinued, field: model.FieldOS, endSupport: "2024-07-31",
		},
		"FortiGate by firmware and vendor": {
			a:  asset("mac:00:09:0f:01:02:03", fact(model.FieldVendor, "Fortinet", "oui"), fact(model.FieldFirmware, "v7.0.12", "http")),
			id: "fortios-7.0", phase: Discontinued, field: model.FieldFirmware, endSupport: "2025-09-30",
		},
		"firmware 7.0.12 of an unknown vendor": {
			a: asset("ip:10.0.0.10", fact(model.FieldFirmware, "v7.0.12", "http")),
		},
		"Moxa EDS-408A": {
			a:  asset("mac:00:90:e8:01:02:03", fact(model.FieldVendor, "Moxa Technologies Co., Ltd.", "oui"), fact(model.FieldProduct, "EDS-408A", "telnet")),
			id: "moxa-eds-400a-500a", phase: Mature, field: model.FieldProduct,
		},
		"Beckhoff TwinCAT 2 over ADS": {
			a: asset("mac:00:01:05:01:02:03", fact(model.FieldVendor, "Beckhoff Automation GmbH", "oui"),
				fact(model.FieldFirmware, "TwinCAT 2.11.2300", "ads")),
			id: "beckhoff-twincat-2", phase: Mature, field: model.FieldFirmware,
		},
		"Beckhoff CX with Windows CE 6.0 and TwinCAT 2": {
			// both are OS/firmware rules: the longer match wins, TwinCAT 2 is in Also
			a: asset("mac:00:01:05:01:02:04", fact(model.FieldVendor, "Beckhoff Automation GmbH", "oui"),
				fact(model.FieldFirmware, "TwinCAT 2.11.2300", "ads"), fact(model.FieldOS, "Windows CE 6.0 build 0", "ads")),
			id: "windows-ce-6", phase: Discontinued, field: model.FieldOS, endSupport: "2018",
		},
		"product name of another vendor is not matched": {
			a: asset("ip:10.0.0.11", fact(model.FieldVendor, "Acme Controls", "modbus"), fact(model.FieldProduct, "CPU 315 clone", "modbus")),
		},
		"unknown device": {
			a: asset("mac:00:11:22:33:44:55", fact(model.FieldVendor, "Meinberg Funkuhren", "oui"), fact(model.FieldProduct, "LANTIME M300", "snmp")),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			r, ok := c.Match(tc.a)
			if tc.id == "" {
				if ok {
					t.Fatalf("matched %s by %q (%s=%q), want no match", r.ID, r.Rule, r.Evidence.Field, r.Evidence.Value)
				}
				return
			}
			if !ok {
				t.Fatalf("no match, want %s", tc.id)
			}
			if r.ID != tc.id || r.Phase != tc.phase {
				t.Fatalf("got %s (%s) by %q, want %s (%s); why: %s; also %v", r.ID, r.Phase, r.Rule, tc.id, tc.phase, r.Why, r.Also)
			}
			if r.Evidence.Field != tc.field || (tc.evidence != "" && r.Evidence.Value != tc.evidence) {
				t.Errorf("evidence %s=%q, want %s=%q", r.Evidence.Field, r.Evidence.Value, tc.field, tc.evidence)
			}
			if tc.rule != "" && r.Rule != tc.rule {
				t.Errorf("rule %q, want %q", r.Rule, tc.rule)
			}
			if tc.endSupport != "" && r.EndOfSupport.String() != tc.endSupport {
				t.Errorf("end of support %s, want %s", r.EndOfSupport, tc.endSupport)
			}
			if r.Catalog != DefaultName || r.Source == "" || r.AsOf.IsZero() || r.Why == "" {
				t.Errorf("result lacks catalog/source/as-of/why: %+v", r)
			}
			if r.Evidence.Value != "" && r.Evidence.Source.Protocol == "" && r.Evidence.Field != model.FieldOrderNumber {
				t.Errorf("evidence %q has no provenance", r.Evidence.Value)
			}
		})
	}
}

func TestMatchExplainsSpecificity(t *testing.T) {
	c := defaultCatalog(t)
	// the S7-300 CPU matches by order number (two prefixes) and by product name
	a := asset("x", fact(model.FieldVendor, "Siemens", "s7comm"),
		fact(model.FieldProduct, "CPU 315-2 PN/DP", "s7comm"),
		fact(model.FieldOrderNumber, "6ES7 315-2EH14-0AB0", "s7comm"))
	r, _ := c.Match(a)
	if !strings.Contains(r.Why, "longer order-number match (6 vs 5") || !strings.Contains(r.Why, "SIMATIC S7-300 modules") {
		t.Errorf("why = %q", r.Why)
	}
	if len(r.Also) != 1 || !strings.HasPrefix(r.Also[0], "order number 6ES7 3* → SIMATIC S7-300 modules") {
		t.Errorf("also = %q", r.Also)
	}
	// product name only: the product rule is reported
	a = asset("y", fact(model.FieldVendor, "Siemens", "s7comm"), fact(model.FieldProduct, "CPU 315-2 PN/DP", "s7comm"))
	r, _ = c.Match(a)
	if r.ID != "siemens-s7-300-cpu" || r.Rule != "product ~ /^CPU 31[2-9]/ → SIMATIC S7-300 CPU" || r.Why != "only matching entry" {
		t.Errorf("product match: %s %q %q", r.ID, r.Rule, r.Why)
	}
	// the netbios string contains both "Windows 7" and "NT 6.1": one entry, the longer match
	a = asset("z", fact(model.FieldOS, "Windows 7 (NT 6.1)", "browser"))
	if r, _ = c.Match(a); r.ID != "windows-7" || r.Evidence.Value != "Windows 7 (NT 6.1)" {
		t.Errorf("netbios: %s %q", r.ID, r.Evidence.Value)
	}
	// Windows 8.1 (longer) over Windows 8
	a = asset("w", fact(model.FieldOS, "Windows 8.1 Pro 9600", "smb"))
	if r, _ = c.Match(a); r.ID != "windows-8.1" || !strings.Contains(r.Why, "longer OS/firmware match") {
		t.Errorf("8.1: %s %q", r.ID, r.Why)
	}
}

func TestMatchTieBreaks(t *testing.T) {
	mk := func(id string, p Phase) Entry {
		return Entry{ID: id, Vendor: "Acme", Family: id, OrderPrefixes: []string{"AC-100"}, Phase: p, Source: "test", AsOf: MustDate("2025")}
	}
	a := asset("a", fact(model.FieldOrderNumber, "AC-1001", "modbus"))

	c, ps := Build(Set{Name: "one", Entries: []Entry{mk("a-active", Active), mk("b-eol", EndOfLife)}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	r, _ := c.Match(a)
	if r.ID != "b-eol" || !strings.Contains(r.Why, "the later phase (end-of-life over active) is reported") {
		t.Errorf("same catalog tie: %s %q", r.ID, r.Why)
	}
	c, _ = Build(Set{Name: "one", Entries: []Entry{mk("b-eol", EndOfLife)}}, Set{Name: "usb.csv", Entries: []Entry{mk("a-active", Active)}})
	r, _ = c.Match(a)
	if r.ID != "a-active" || r.Catalog != "usb.csv" || !strings.Contains(r.Why, `catalog "usb.csv" was loaded later`) {
		t.Errorf("catalog tie: %s %s %q", r.ID, r.Catalog, r.Why)
	}
	c, _ = Build(Set{Name: "one", Entries: []Entry{mk("b", Active), mk("a", Active)}})
	if r, _ = c.Match(a); r.ID != "a" || !strings.Contains(r.Why, "first by id") {
		t.Errorf("full tie: %s %q", r.ID, r.Why)
	}
}

func TestUnanchoredOrderPattern(t *testing.T) {
	c, ps := Build(Set{Name: "u.yaml", Entries: []Entry{{ID: "l6", Vendor: "Rockwell", Family: "L6 anywhere",
		OrderPattern: `L6\d`, Phase: Discontinued, Source: "s", AsOf: MustDate("2025")}}})
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	r, ok := c.Match(asset("a", fact(model.FieldOrderNumber, "1756-L61", "enip")))
	if !ok || r.ID != "l6" || r.Rule != `order number ~ /L6\d/ → L6 anywhere` {
		t.Errorf("%v %+v", ok, r)
	}
}

func TestMatchModules(t *testing.T) {
	c := defaultCatalog(t)
	// an S7-1500 station whose rack still holds an ET 200M head and an S7-300 module
	a := asset("mac:00:1b:1b:0a:0b:0c",
		fact(model.FieldVendor, "Siemens", "s7comm-plus"),
		fact(model.FieldOrderNumber, "6ES7 516-3AN02-0AB0", "s7comm-plus"),
		fact(model.FieldModule, model.FormatModule(model.Module{Rack: 0, Slot: 1, Product: "CPU 1516-3 PN/DP", OrderNumber: "6ES7 516-3AN02-0AB0"}), "s7comm-plus"),
		fact(model.FieldModule, model.FormatModule(model.Module{Rack: 0, Slot: 2, Product: "DI 32x24VDC HF", OrderNumber: "6ES7 521-1BL00-0AB0"}), "s7comm-plus"),
		fact(model.FieldModule, model.FormatModule(model.Module{Rack: 1, Slot: 4, Product: "SM 321 DI16", OrderNumber: "6ES7321-1BH02-0AA0"}), "s7comm-plus"),
		fact(model.FieldModule, model.FormatModule(model.Module{Rack: 1, Slot: 5, Product: "Acme widget"}), "s7comm-plus"),
	)
	ms := c.MatchModules(a)
	if len(ms) != 3 {
		t.Fatalf("matched %d modules, want 3: %+v", len(ms), ms)
	}
	want := []struct {
		id    string
		phase Phase
		field string
	}{
		{"siemens-s7-1500-cpu", Active, "module 0/1 order_number"},
		{"siemens-s7-1500-modules", Active, "module 0/2 order_number"},
		{"siemens-s7-300-modules", EndOfLife, "module 1/4 order_number"},
	}
	for i, w := range want {
		if ms[i].ID != w.id || ms[i].Phase != w.phase || ms[i].Evidence.Field != w.field {
			t.Errorf("module %d: %s %s %s, want %s %s %s", i, ms[i].ID, ms[i].Phase, ms[i].Evidence.Field, w.id, w.phase, w.field)
		}
	}
	if r, _ := c.Match(a); r.ID != "siemens-s7-1500-cpu" {
		t.Errorf("asset: %s", r.ID)
	}
	if got := c.MatchModules(asset("none")); got != nil {
		t.Errorf("no modules: %v", got)
	}
}

func TestVendorWordPrefix(t *testing.T) {
	for _, tc := range []struct {
		s, w string
		want bool
	}{
		{"ge fanuc", "ge", true}, {"general electric", "ge", true}, {"netgear", "ge", false},
		{"rockwell automation/allen-bradley", "allen-bradley", true}, {"siemens ag", "siemens", true},
		{"wago kontakttechnik", "ago", false}, {"x-ge", "ge", true},
	} {
		if got := wordPrefix(tc.s, tc.w); got != tc.want {
			t.Errorf("wordPrefix(%q, %q) = %v", tc.s, tc.w, got)
		}
	}
}

func TestCanonicalOrderNumber(t *testing.T) {
	for in, want := range map[string]string{
		"6ES7 315-2EH14-0AB0": "6ES7 315-2EH14-0AB0",
		"6es73152eh140ab0":    "6ES7 315-2EH14-0AB0",
		"6ES7315-2EH14-0AB0":  "6ES7 315-2EH14-0AB0",
		"1756-L61":            "1756-L61",
		" 140 CPU 651 60 ":    "140CPU65160",
		"BMEP58 2040":         "BMEP582040",
		"6GK5 208-0BA00-2AC2": "6GK5 208-0BA00-2AC2",
	} {
		if got := CanonicalOrderNumber(in); got != want {
			t.Errorf("CanonicalOrderNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPhaseAt(t *testing.T) {
	e := Entry{Phase: Mature, EndOfSupport: MustDate("2027-01-12")}
	if got := e.PhaseAt(t0); got != Mature {
		t.Errorf("before end: %s", got)
	}
	if got := e.PhaseAt(MustDate("2027-01-13").End().Add(-1)); got != EndOfLife {
		t.Errorf("after end: %s", got)
	}
	e = Entry{Phase: Active, EndOfSale: MustDate("2027")}
	if e.PhaseAt(MustDate("2027-12-31").End().Add(-1)) != Active || e.PhaseAt(MustDate("2028-01-01").End()) != EndOfLife {
		t.Error("a year-precision date must pass only after the year")
	}
	if (&Entry{Phase: Discontinued, EndOfSupport: MustDate("2020")}).PhaseAt(t0) != Discontinued {
		t.Error("PhaseAt lowered a phase")
	}
}

func TestPrefilter(t *testing.T) {
	pf := newPrefilter(`(?i)\bWindows 7\b|\bWindows (NT |Version )?6\.1\b`)
	if len(pf) != 2 {
		t.Fatalf("prefilter %q", pf)
	}
	for val, want := range map[string]bool{
		"Windows 7 Professional": true, "windows nt 6.1 build 7601": true, "Windows Version 6.1 (Build 7601)": true,
		"Windows Server 2016 Standard 14393": false, "Linux 5.10": false, "Windowſ 7": true, // non-ASCII: the regexp decides
	} {
		v := newValue("os", val, model.Source{})
		if got := pf.mayMatch(v.lower, v.ascii); got != want {
			t.Errorf("mayMatch(%q) = %v", val, got)
		}
	}
	for _, p := range []string{`(?i)^v?7\.`, `(?i).*`, `(?i)a|\d+`, `(?i)(x)?`} {
		if pf := newPrefilter(p); p != `(?i)^v?7\.` && pf != nil {
			t.Errorf("%s: prefilter %q, want none", p, pf)
		} else if p == `(?i)^v?7\.` && (len(pf) != 1 || pf[0][0] != "7.") {
			t.Errorf("%s: prefilter %q", p, pf)
		}
	}
}
