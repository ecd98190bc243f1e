package export

import (
	"otscope/assets/advisory"

	"bytes"
	"encoding/csv"
	"net/netip"
	"strings"
	"testing"
	"time"

	"otscope/assets/lifecycle"
	"otscope/assets/policy"
	"otscope/model"
)

// hostile are strings a device chooses (DHCP host names, SNMP sysDescr,
// mDNS names, Modbus device IDs, HTTP banners) or a capture file is named.
var hostile = []string{
	"=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd", "\tab", "\r=1",
	"evil\x1b]0;pwned\x07", "clear\x1b[2J", "c1\u009b31m", "bidi\u202egnp.exe", "zero\u200bwidth",
	"iso\u2066x\u2069", "two\nlines", "tab\there",
}

// bad reports a character a terminal acts on.
func bad(s string) bool {
	return strings.ContainsAny(s, "\x1b\x07\u009b\u202e\u200b\u2066\u2069\r")
}

// formula reports a cell a spreadsheet would evaluate.
func formula(cell string) bool {
	return cell != "" && strings.ContainsRune("=+@\t\r", rune(cell[0])) ||
		strings.HasPrefix(cell, "-") && strings.ContainsAny(cell, "+=(")
}

func hostileAssets() []model.Asset {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var as []model.Asset
	for i, h := range hostile {
		as = append(as, model.Asset{ID: model.AssetID("ip:10.0.0." + string(rune('1'+i%9))), IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)})},
			Vendor: h, Names: []string{h}, Roles: []string{h}, Product: h, OrderNumber: h, LastSeen: t0,
			Services: []model.Service{{Transport: "tcp", Port: 80, Protocol: h}}, Protocols: []string{h}})
	}
	return as
}

func hostileRecords() []Record {
	var recs []Record
	for i, a := range hostileAssets() {
		h := hostile[i]
		recs = append(recs, Record{Asset: a,
			Lifecycle:  &lifecycle.Result{Entry: lifecycle.Entry{VendorTerm: h, Successor: h, Source: h}, Rule: h},
			Advisories: []advisory.Match{{AdvisoryID: h, Title: h, ProductName: h, Module: h, CVEs: []string{h}, Reason: h, Remediation: h}}})
	}
	return recs
}

// checkCSV parses out and checks every cell of every row after the header.
func checkCSV(t *testing.T, what string, out []byte) {
	t.Helper()
	if bad(string(out)) {
		t.Errorf("%s: CSV carries a terminal control: %q", what, out)
	}
	rows, err := csv.NewReader(bytes.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(rows) < 2 {
		t.Fatalf("%s: %d rows", what, len(rows))
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if formula(cell) {
				t.Errorf("%s: cell %q is a formula", what, cell)
			}
		}
	}
}

// checkTable checks a table: no terminal control, and no row or column
// added by a value.
func checkTable(t *testing.T, what string, out []byte, rows int) {
	t.Helper()
	if bad(string(out)) {
		t.Errorf("%s: table carries a terminal control: %q", what, out)
	}
	if n := bytes.Count(out, []byte("\n")); n < rows {
		t.Errorf("%s: %d lines, want at least %d", what, n, rows)
	} else if n > rows+1 {
		t.Errorf("%s: %d lines for %d rows: a value added lines", what, n, rows)
	}
}

// Every CSV and table writer makes device-controlled strings harmless
// (issue 13 items 1, 8 and 11).
func TestWritersAreSafe(t *testing.T) {
	now := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var recs []model.ScanRecord
	var rep policy.Report
	for i, h := range hostile {
		recs = append(recs, model.ScanRecord{Scan: h, Seq: uint64(i + 1), Time: now, Target: netip.MustParseAddr("10.0.0.1"),
			Transport: "tcp", Port: 80, Probe: h, Kind: h, Answer: "HTTP 200, Server: " + h, Error: map[bool]string{true: h}[i%2 == 0]})
		rep.Violations = append(rep.Violations, policy.Violation{RuleID: h, Title: h, AssetID: model.AssetID(h), Evidence: []string{h, "file " + h + ".pcap"}})
	}
	for _, format := range []string{"csv", "table"} {
		writers := map[string]func(*bytes.Buffer) error{
			"assets":     func(b *bytes.Buffer) error { return Assets(b, format, hostileAssets()) },
			"scanlog":    func(b *bytes.Buffer) error { return ScanLog(b, format, recs) },
			"audit":      func(b *bytes.Buffer) error { return Audit(b, format, rep, hostileAssets()) },
			"lifecycle":  func(b *bytes.Buffer) error { return Lifecycle(b, format, hostileRecords(), now) },
			"advisories": func(b *bytes.Buffer) error { return Advisories(b, format, hostileRecords()) },
		}
		for name, write := range writers {
			var b bytes.Buffer
			if err := write(&b); err != nil {
				t.Fatalf("%s %s: %v", name, format, err)
			}
			if format == "csv" {
				checkCSV(t, name, b.Bytes())
				continue
			}
			extra := map[string]int{"audit": 1, "lifecycle": 1, "advisories": 1}[name] // the summary line
			checkTable(t, name, b.Bytes(), len(hostile)+1+extra)
		}
	}
}
