package policy

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"otscope/model"
)

var t0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

func fact(field, value, detail, proto string, frame uint64) model.Fact {
	return model.Fact{Field: field, Value: value, Detail: detail, LastSeen: t0.Add(time.Hour), Count: 1,
		Source: model.Source{Kind: model.Passive, Protocol: proto, Origin: "plant.pcap", Frame: frame, Time: t0}}
}

func asset(id, ip string, roles []string, facts ...model.Fact) model.Asset {
	a := model.Asset{ID: model.AssetID(id), Roles: roles, Facts: facts, FirstSeen: t0.Add(-72 * time.Hour), LastSeen: t0}
	if ip != "" {
		a.IPs = []netip.Addr{netip.MustParseAddr(ip)}
	}
	for _, f := range facts {
		switch f.Field {
		case model.FieldOperatingMode:
			a.OperatingMode = f.Value
		case model.FieldProduct:
			a.Product = f.Value
		}
	}
	return a
}

// fired returns the rules that fired for an asset in the report.
func fired(r Report, id model.AssetID) []string {
	var out []string
	for _, v := range r.Violations {
		if v.AssetID == id {
			out = append(out, v.RuleID)
		}
	}
	return out
}

func violation(t *testing.T, r Report, rule string, id model.AssetID) Violation {
	t.Helper()
	for _, v := range r.Violations {
		if v.RuleID == rule && v.AssetID == id {
			return v
		}
	}
	t.Fatalf("rule %s did not fire on %s; fired: %v", rule, id, fired(r, id))
	return Violation{}
}

func TestDefaultPackParses(t *testing.T) {
	p := DefaultPack()
	if len(p.Rules) < 17 {
		t.Fatalf("default pack has %d rules", len(p.Rules))
	}
	for _, r := range p.Rules {
		if r.Rationale == "" || r.Remediation == "" || len(r.References) == 0 || r.Title == "" {
			t.Errorf("rule %s is not documented", r.ID)
		}
	}
}

// TestDefaultRules checks that each default rule fires on a realistic
// offending asset and not on a compliant one.
func TestDefaultRules(t *testing.T) {
	plc := []string{"plc"}
	cases := map[string]struct {
		rule      string
		bad, good model.Asset
		evidence  string // substring of the bad asset's evidence
	}{
		"S7-300 end of life": {
			rule: "lifecycle-end-of-life",
			bad: asset("mac:s7-300", "10.10.10.12", plc, fact("order_number", "6ES7 315-2EH14-0AB0", "", "s7comm", 1006),
				fact("product", "CPU 315-2 PN/DP", "", "s7comm", 1011)),
			good: asset("mac:s7-1500", "10.10.10.11", plc, fact("order_number", "6ES7 516-3AN02-0AB0", "", "s7comm", 7),
				fact("product", "CPU 1516-3 PN/DP", "", "s7comm", 8)),
			evidence: "order_number=6ES7 315-2EH14-0AB0 (s7comm · plant.pcap #1006)",
		},
		"Windows 7 HMI": {
			rule:     "os-unsupported",
			bad:      asset("mac:hmi", "10.10.1.31", []string{"hmi"}, fact("os", "Windows 7 Professional 7601 Service Pack 1", "", "smb", 44)),
			good:     asset("mac:hmi2", "10.10.1.32", []string{"hmi"}, fact("os", "Windows 10 Enterprise LTSC 2019", "", "smb", 45)),
			evidence: "os=Windows 7 Professional 7601 Service Pack 1 (smb · plant.pcap #44)",
		},
		"Telnet on a switch": {
			rule: "cleartext-telnet",
			bad: func() model.Asset {
				a := asset("mac:sw", "10.10.10.2", []string{"network switch"})
				a.Services = []model.Service{{Transport: "tcp", Port: 23, Protocol: "telnet"}, {Transport: "tcp", Port: 22, Protocol: "ssh"}}
				return a
			}(),
			good: func() model.Asset {
				a := asset("mac:sw2", "10.10.10.3", []string{"network switch"})
				a.Services = []model.Service{{Transport: "tcp", Port: 22, Protocol: "ssh"}}
				return a
			}(),
			evidence: "service tcp/23 telnet",
		},
		"HTTP admin on a PLC": {
			rule: "cleartext-http-admin",
			bad: func() model.Asset {
				a := asset("mac:wago", "10.10.20.5", plc)
				a.Services = []model.Service{{Transport: "tcp", Port: 80, Protocol: "http"}}
				return a
			}(),
			good: func() model.Asset { // an office web server is not an admin interface of a device
				a := asset("mac:web", "10.10.1.40", []string{"it host"})
				a.Services = []model.Service{{Transport: "tcp", Port: 80, Protocol: "http"}}
				return a
			}(),
			evidence: "service tcp/80 http",
		},
		"SNMP default community": {
			rule:     "snmp-default-community",
			bad:      asset("mac:moxa", "10.10.20.2", []string{"network switch"}, fact("snmp.community", "*** (default)", "", "snmp", 90)),
			good:     asset("mac:moxa2", "10.10.20.3", []string{"network switch"}, fact("snmp.community", "***", "", "snmp", 91)),
			evidence: "snmp.community=*** (default)",
		},
		// a community that merely starts like a default ("pumpkin", masked
		// "pu***" by earlier versions) is not one (issue 13, item 16)
		"SNMP community pumpkin": {
			rule:     "snmp-default-community",
			bad:      asset("mac:moxa3", "10.10.20.4", []string{"network switch"}, fact("snmp.community", "*** (default)", "", "snmp", 92)),
			good:     asset("mac:moxa4", "10.10.20.5", []string{"network switch"}, fact("snmp.community", "pu***", "", "snmp", 93)),
			evidence: "snmp.community=*** (default)",
		},
		"SMBv1": {
			rule:     "smbv1",
			bad:      asset("mac:hist", "10.10.1.20", []string{"historian"}, fact("smb.version", "1", "", "smb", 300)),
			good:     asset("mac:hist2", "10.10.1.21", []string{"historian"}, fact("smb.version", "3.1.1", "", "smb", 301)),
			evidence: "smb.version=1 (smb · plant.pcap #300)",
		},
		"OPC UA None": {
			rule: "opcua-security-none",
			bad: asset("mac:opc", "10.10.1.50", []string{"opc ua server"}, fact("opcua.security_mode", "None", "", "opcua", 12),
				fact("opcua.security_mode", "SignAndEncrypt", "", "opcua", 13)),
			good:     asset("mac:opc2", "10.10.1.51", []string{"opc ua server"}, fact("opcua.security_mode", "SignAndEncrypt", "", "opcua", 14)),
			evidence: "opcua.security_mode=None (opcua · plant.pcap #12)",
		},
		"PLC in PROGRAM": {
			rule:     "plc-not-in-run",
			bad:      asset("mac:logix", "10.10.30.10", plc, fact("operating_mode", "PROGRAM", "", "cip", 55)),
			good:     asset("mac:logix2", "10.10.30.11", plc, fact("operating_mode", "RUN", "", "cip", 56)),
			evidence: "operating_mode=PROGRAM",
		},
		"PLC in REMOTE RUN": {
			rule:     "plc-key-remote",
			bad:      asset("mac:logix3", "10.10.30.12", plc, fact("operating_mode", "REMOTE RUN", "", "cip", 57)),
			good:     asset("mac:logix4", "10.10.30.13", plc, fact("operating_mode", "RUN", "", "cip", 58)),
			evidence: "operating_mode=REMOTE RUN (cip · plant.pcap #57)",
		},
		"program download from an office PC": {
			rule: "program-change-from-non-ews",
			bad: asset("mac:office", "10.10.1.102", []string{"windows host"},
				fact("s7comm.function", "download block", "program", "s7comm", 2001),
				fact("s7comm.function", "read var", "read", "s7comm", 2000)),
			good: asset("mac:ews", "10.10.1.30", []string{"engineering workstation"},
				fact("s7comm.function", "download block", "program", "s7comm", 2002)),
			evidence: "s7comm.function=download block [program] (s7comm · plant.pcap #2001)",
		},
		"diagnostics from an office PC": {
			rule:     "diagnostic-from-non-ews",
			bad:      asset("mac:office2", "10.10.1.103", nil, fact("s7comm.function", "read SZL", "diagnostic", "s7comm", 3000)),
			good:     asset("mac:ews2", "10.10.1.33", []string{"engineering workstation"}, fact("s7comm.function", "read SZL", "diagnostic", "s7comm", 3001)),
			evidence: "s7comm.function=read SZL [diagnostic]",
		},
		"Modbus write from a non-HMI": {
			rule:     "write-from-unexpected-client",
			bad:      asset("mac:laptop", "10.10.20.99", []string{"it host"}, fact("modbus.function", "write single register", "write", "modbus", 4000)),
			good:     asset("mac:scada", "10.10.1.21", []string{"scada server"}, fact("modbus.function", "write single register", "write", "modbus", 4001)),
			evidence: "modbus.function=write single register [write] (modbus · plant.pcap #4000)",
		},
		"KEV advisory": {
			rule:     "advisory-kev-or-critical",
			bad:      asset("mac:kev", "10.10.10.40", plc, fact("product", "KEV-PLC", "", "cip", 1)),
			good:     asset("mac:nokev", "10.10.10.41", plc, fact("product", "LOW-PLC", "", "cip", 1)),
			evidence: "ICSA-25-001-01 CVSS 7.5 KEV",
		},
	}
	in := Input{
		Now: t0,
		Lifecycle: func(a *model.Asset) (string, string, bool) {
			switch {
			case strings.HasPrefix(a.Product, "CPU 315"):
				return "end-of-life", "2026-10-01", true
			case strings.HasPrefix(a.Product, "CPU 1516"):
				return "active", "", true
			}
			return "", "", false
		},
		Advisories: func(a *model.Asset) []AdvisoryRef {
			switch a.Product {
			case "KEV-PLC":
				return []AdvisoryRef{{ID: "ICSA-25-001-01", CVSS: 7.5, KEV: true}}
			case "LOW-PLC":
				return []AdvisoryRef{{ID: "ICSA-25-002-01", CVSS: 5.3}}
			}
			return nil
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := in
			in.Assets = []model.Asset{c.bad, c.good}
			rep := Audit(in, DefaultPack(), nil)
			if len(rep.Errors) > 0 {
				t.Fatalf("evaluation errors: %v", rep.Errors)
			}
			v := violation(t, rep, c.rule, c.bad.ID)
			if !slices.ContainsFunc(v.Evidence, func(e string) bool { return strings.Contains(e, c.evidence) }) {
				t.Errorf("evidence %q lacks %q", v.Evidence, c.evidence)
			}
			if v.FirstSeen.IsZero() || v.LastSeen.Before(v.FirstSeen) {
				t.Errorf("seen %v → %v", v.FirstSeen, v.LastSeen)
			}
			if slices.Contains(fired(rep, c.good.ID), c.rule) {
				t.Errorf("rule %s fired on the compliant asset %s", c.rule, c.good.ID)
			}
		})
	}
}

const zonesYAML = `
zones:
  - name: enterprise
    purdue: 4
    subnets: [10.1.0.0/16]
  - name: control
    purdue: 1
    subnets: [10.10.10.0/24]
    vlans: [10]
  - name: supervisory
    purdue: 2
    subnets: [10.10.1.0/24]
conduits:
  - from: supervisory
    to: control
    protocols: [s7comm]
`

func TestCrossZone(t *testing.T) {
	user, problems := Parse("zones.yaml", []byte(zonesYAML))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	pack := Merge(DefaultPack(), user)
	scada := asset("mac:scada", "10.10.1.21", []string{"scada server"})
	plcA := asset("mac:plc", "10.10.10.12", []string{"plc"}, fact("product", "CPU 315-2 PN/DP", "", "s7comm", 1))
	office := asset("ip:10.1.5.7", "10.1.5.7", []string{"windows host"})
	conv := func(c, s *model.Asset, proto string, port uint16) model.Conversation {
		return model.Conversation{Client: c.ID, Server: s.ID, ClientIP: c.IPs[0], ServerIP: s.IPs[0],
			Transport: "tcp", Port: port, Protocol: proto, Packets: 40, FirstSeen: t0, LastSeen: t0.Add(time.Minute)}
	}
	in := Input{Now: t0, Assets: []model.Asset{scada, plcA, office}, Conversations: []model.Conversation{
		conv(&scada, &plcA, "s7comm", 102), // allowed by the conduit
		conv(&office, &plcA, "s7comm", 102),
		conv(&office, &plcA, "http", 80),
		conv(&scada, &plcA, "http", 80), // supervisory → control, not in the conduit
	}}
	rep := Audit(in, pack, nil)
	var got []string
	for _, v := range rep.Violations {
		if v.RuleID == "cross-zone-flow" {
			got = append(got, string(v.ClientID)+">"+string(v.ServerID)+":"+strings.Join(v.Evidence, "|"))
		}
	}
	slices.Sort(got)
	want := []string{
		"ip:10.1.5.7>mac:plc:10.1.5.7 [enterprise] → 10.10.10.12 [control] s7comm tcp/102, 40 pkts|" +
			"10.1.5.7 [enterprise] → 10.10.10.12 [control] http tcp/80, 40 pkts",
		"mac:scada>mac:plc:10.10.1.21 [supervisory] → 10.10.10.12 [control] http tcp/80, 40 pkts",
	}
	if !slices.Equal(got, want) {
		t.Errorf("cross-zone violations\n got %q\nwant %q", got, want)
	}
	// Without zones, the default pack's cross-zone rule stays quiet.
	rep = Audit(in, DefaultPack(), nil)
	if rep.ByRule["cross-zone-flow"] != 0 {
		t.Errorf("cross-zone rule fired without zones: %d", rep.ByRule["cross-zone-flow"])
	}
}

func TestUnknownDeviceInControlZone(t *testing.T) {
	user, _ := Parse("zones.yaml", []byte(zonesYAML))
	pack := Merge(DefaultPack(), user)
	unknown := asset("mac:rogue", "10.10.10.77", nil)
	known := asset("mac:plc", "10.10.10.12", []string{"plc"}, fact("product", "CPU 1516-3 PN/DP", "", "s7comm", 1))
	newPLC := asset("mac:newplc", "10.10.10.13", []string{"plc"}, fact("product", "CPU 1516-3 PN/DP", "", "s7comm", 1))
	newPLC.FirstSeen = t0.Add(-time.Hour)
	office := asset("ip:10.1.5.8", "10.1.5.8", nil) // unknown, but not in a control zone
	rep := Audit(Input{Now: t0, Assets: []model.Asset{unknown, known, newPLC, office}}, pack, nil)
	violation(t, rep, "control-zone-unknown-device", "mac:rogue")
	violation(t, rep, "control-zone-unknown-device", "mac:newplc")
	for _, id := range []model.AssetID{"mac:plc", "ip:10.1.5.8"} {
		if slices.Contains(fired(rep, id), "control-zone-unknown-device") {
			t.Errorf("fired on %s", id)
		}
	}
	// Without zones there is no control zone.
	rep = Audit(Input{Now: t0, Assets: []model.Asset{unknown}}, DefaultPack(), nil)
	if slices.Contains(fired(rep, "mac:rogue"), "control-zone-unknown-device") {
		t.Error("fired without zones")
	}
}

func TestWaivers(t *testing.T) {
	a := asset("mac:hist", "10.10.1.20", nil, fact("smb.version", "1", "", "smb", 300))
	b := asset("mac:hist2", "10.10.1.22", nil, fact("smb.version", "1", "", "smb", 301))
	in := Input{Now: t0, Assets: []model.Asset{a, b}}
	cases := map[string]struct {
		w           Waiver
		waivedA     bool
		wantSMBOpen int
	}{
		"applies":     {Waiver{RuleID: "smbv1", AssetID: "mac:hist", Reason: "vendor patch Q3", By: "ops", Until: t0.Add(24 * time.Hour)}, true, 1},
		"no expiry":   {Waiver{RuleID: "smbv1", AssetID: "mac:hist", Reason: "accepted"}, true, 1},
		"expired":     {Waiver{RuleID: "smbv1", AssetID: "mac:hist", Reason: "old", Until: t0.Add(-time.Second)}, false, 2},
		"wrong asset": {Waiver{RuleID: "smbv1", AssetID: "mac:other", Reason: "x", Until: t0.Add(time.Hour)}, false, 2},
		"wrong rule":  {Waiver{RuleID: "cleartext-telnet", AssetID: "mac:hist", Reason: "x"}, false, 2},
		"every asset": {Waiver{RuleID: "smbv1", AssetID: "*", Reason: "x"}, true, 0},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			rep := Audit(in, DefaultPack(), []Waiver{c.w})
			v := violation(t, rep, "smbv1", "mac:hist")
			if (v.Waived != nil) != c.waivedA {
				t.Errorf("waived = %v, want %v", v.Waived, c.waivedA)
			}
			if v.Waived != nil && v.Waived.Reason != c.w.Reason {
				t.Errorf("waiver reason %q", v.Waived.Reason)
			}
			if rep.ByRule["smbv1"] != c.wantSMBOpen {
				t.Errorf("open smbv1 = %d, want %d", rep.ByRule["smbv1"], c.wantSMBOpen)
			}
		})
	}
}

func TestSeverityAtLeast(t *testing.T) {
	vs := []Violation{{RuleID: "a", Severity: Critical}, {RuleID: "b", Severity: Low}, {RuleID: "c", Severity: High}}
	got := SeverityAtLeast(vs, High)
	if len(got) != 2 || got[0].RuleID != "a" || got[1].RuleID != "c" {
		t.Errorf("got %+v", got)
	}
	if s, err := ParseSeverity("HIGH"); err != nil || s != High || s.String() != "high" {
		t.Errorf("ParseSeverity: %v %v", s, err)
	}
}
