package export

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"otscope/assets/lifecycle"
	"otscope/assets/policy"
	"otscope/model"
)

// TestLifecycleSummaryCountsAssets: a chassis with two rated modules is one
// asset with a verdict, not three; the modules are counted apart.
func TestLifecycleSummaryCountsAssets(t *testing.T) {
	res := &lifecycle.Result{Rule: "order number 6ES7*"}
	ip := func(s string) []netip.Addr { return []netip.Addr{netip.MustParseAddr(s)} }
	recs := []Record{
		{Asset: model.Asset{ID: "a", IPs: ip("10.0.0.1")}, Lifecycle: res,
			ModuleLifecycle: []lifecycle.ModuleResult{{Module: model.Module{Slot: 1}, Result: *res}, {Module: model.Module{Slot: 2}, Result: *res}}},
		{Asset: model.Asset{ID: "b", IPs: ip("10.0.0.2")}, Lifecycle: res},
		{Asset: model.Asset{ID: "c", IPs: ip("10.0.0.3")}, Lifecycle: res},
		{Asset: model.Asset{ID: "d", IPs: ip("10.0.0.4")}},
		{Asset: model.Asset{ID: "e", IPs: ip("10.0.0.5")}},
	}
	var b bytes.Buffer
	if err := Lifecycle(&b, "table", recs, time.Now()); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(b.String(), "\n")
	if !strings.HasPrefix(first, "5 assets, 3 with a lifecycle verdict (+2 modules)") {
		t.Errorf("summary = %q, want 5 assets, 3 with a verdict (+2 modules)", first)
	}
}

// TestAuditNamesAndEvidence: assets are named by address and name, not the
// internal ID; an identity label whose value is empty is not printed; no
// violations print no empty "()" breakdown.
func TestAuditNamesAndEvidence(t *testing.T) {
	plc := model.Asset{ID: "mac:00:0c:29:19:9e:8e", MACs: []model.MAC{{0, 0x0c, 0x29, 0x19, 0x9e, 0x8e}},
		IPs: []netip.Addr{netip.MustParseAddr("10.10.10.32")}, Names: []string{"HMI-A2\x1b[2J"}}
	rep := policy.Report{Assets: 1, Rules: 3, Violations: []policy.Violation{{RuleID: "lifecycle-discontinued", Severity: policy.High,
		AssetID: plc.ID, Evidence: []string{"  firmware : lifecycle discontinued, end of support 2020-01-14"}}},
	}
	rep.BySeverity[policy.High] = 1
	var b bytes.Buffer
	if err := Audit(&b, "table", rep, []model.Asset{plc}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.Contains(out, "mac:") || !strings.Contains(out, "10.10.10.32 HMI-A2") || strings.Contains(out, "\x1b") {
		t.Errorf("asset not named by address and name:\n%s", out)
	}
	if strings.Contains(out, "firmware :") || !strings.Contains(out, "  lifecycle discontinued, end of support 2020-01-14") {
		t.Errorf("evidence with an empty field:\n%s", out)
	}
	b.Reset()
	if err := Audit(&b, "csv", rep, []model.Asset{plc}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), ",10.10.10.32,HMI-A2") || strings.Contains(b.String(), "firmware :") {
		t.Errorf("csv:\n%s", b.String())
	}
	b.Reset()
	if err := Audit(&b, "table", policy.Report{Assets: 4, Rules: 21}, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "()") || !strings.Contains(b.String(), "0 violations of 21 rules over 4 assets and 0 conversations, 0 waived") {
		t.Errorf("no violations:\n%s", b.String())
	}
	for _, c := range []struct{ in, want string }{
		{"CPU 315 6ES7 315 firmware : lifecycle x", "CPU 315 6ES7 315: lifecycle x"},
		{"firmware V3.2: lifecycle x", "firmware V3.2: lifecycle x"},
		{"mode : run", "mode : run"},
	} {
		if got := evidenceLines([]string{c.in}); len(got) != 1 || got[0] != c.want {
			t.Errorf("evidenceLines(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestAssetsTable: identity columns, rows by address, a BACnet device
// behind a router named by its instance, each service once, and no line
// wider than the width asked for (nothing cut without one).
func TestAssetsTable(t *testing.T) {
	ip := func(s string) []netip.Addr { return []netip.Addr{netip.MustParseAddr(s)} }
	bacnet := model.Service{Transport: "udp", Port: 47808, Protocol: "bacnet"}
	assets := []model.Asset{
		{ID: "ip:10.10.1.20", IPs: ip("10.10.1.20"), Names: []string{"scada-historian-primary.plant.example.com"},
			Services: []model.Service{{Transport: "tcp", Port: 445, Protocol: "smb"}, {Transport: "udp", Port: 137, Protocol: "nbns"}}},
		{ID: "ip:10.10.1.2", IPs: ip("10.10.1.2"), Product: "CPU 1516-3 PN/DP", OrderNumber: "6ES7 516-3AN02-0AB0", Firmware: "V2.9.4",
			Services: []model.Service{bacnet, bacnet}},
		{ID: "sub:10.10.50.10|bacnet-net5:7", ProtocolIDs: &model.ProtocolIDs{BACnetInstance: "5007"}},
		{ID: "sub:10.10.50.10|bacnet-net5:4", ProtocolIDs: &model.ProtocolIDs{BACnetInstance: "5004"}},
	}
	var b bytes.Buffer
	if err := TableWidth(&b, assets, 80); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for _, col := range []string{"ADDRESS", "NAME", "PRODUCT", "ORDER NUMBER", "FIRMWARE", "SERVICES"} {
		if !strings.Contains(lines[0], col) {
			t.Errorf("header %q lacks %s", lines[0], col)
		}
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	want := []string{"10.10.1.2 ", "10.10.1.20 ", "10.10.50.10|net5:4 ", "10.10.50.10|net5:7 "}
	for i, w := range want {
		if !strings.HasPrefix(lines[i+1], w) {
			t.Errorf("row %d = %q, want it to start with %q (rows by address)", i+1, lines[i+1], w)
		}
	}
	if !strings.Contains(lines[1], "CPU 1516-3") || !strings.Contains(lines[1], "6ES7 516") || !strings.Contains(lines[1], "V2.9.4") {
		t.Errorf("identity or services: %q", lines[1])
	}
	if !strings.Contains(lines[3], "bacnet:5004") || !strings.Contains(lines[4], "bacnet:5007") {
		t.Errorf("routed BACnet devices not told apart:\n%s", b.String())
	}
	b.Reset()
	if err := Table(&b, assets); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "scada-historian-primary.plant.example.com") || strings.Contains(b.String(), "…") ||
		strings.Count(b.String(), "47808/bacnet") != 1 {
		t.Errorf("unlimited table cut:\n%s", b.String())
	}
}
