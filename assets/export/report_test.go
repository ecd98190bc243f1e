package export_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"otscope/assets/bundle"
	"otscope/assets/bundle/bundletest"
	"otscope/assets/export"
	"otscope/model"
)

var reportNow = time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)

// plantReport is the demo plant, enriched, with journals and a hostile
// device string or two.
func plantReport(t testing.TB) (*export.Report, bundle.Session) {
	t.Helper()
	s := bundletest.Ingest(t, "north", "plant.pcap", bundletest.PlantPcap(t, 15*time.Second))
	s.Site = "North <Works> & Co"
	bundletest.AddJournals(t, &s)
	evil := model.Asset{ID: "ip:10.10.10.9", IPs: []netip.Addr{netip.MustParseAddr("10.10.10.9")},
		Names: []string{`=cmd|' /C calc'!A0`}, Vendor: "<script>alert('x')</script>", Product: "\x1b]8;;http://evil\x07PLC",
		Facts: []model.Fact{{Field: model.FieldSNMPSysDescr, Value: `<img src=x onerror=alert(1)>`, Detail: "</td><script>alert(2)</script>",
			Source: model.Source{Kind: model.Active, Protocol: "snmp", Origin: "probe\x1b[2J"}, Count: 1}},
		Services: []model.Service{
			{Transport: "tcp", Port: 502, Protocol: "modbus", IP: netip.MustParseAddr("10.10.10.9")},
			{Transport: "tcp", Port: 502, Protocol: "modbus", IP: netip.MustParseAddr("10.10.10.19")},
		}}
	s.Assets = append(s.Assets, evil)
	s.Normalize()
	rep := bundletest.Report(t, &s, reportNow)
	rep.Walkdowns = map[model.AssetID]export.Walkdown{evil.ID: {State: "verified", Location: "Hall 2, cabinet <7>", By: "anna", At: reportNow}}
	return rep, s
}

func TestReportCSV(t *testing.T) {
	rep, s := plantReport(t)
	var b bytes.Buffer
	if err := export.ReportCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(s.Assets)+1 || !slices.Equal(rows[0], export.CSVHeader) {
		t.Fatalf("%d rows, header %v", len(rows), rows[0])
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"product", "order_number", "firmware", "hardware_version", "serial", "state", "lifecycle_phase", "location", "verdict"} {
		if _, ok := col[h]; !ok {
			t.Errorf("no %s column", h)
		}
	}
	var prev netip.Addr
	filled := map[string]int{}
	for _, r := range rows[1:] {
		for _, cell := range r {
			if cell != "" && strings.ContainsAny(cell[:1], "=+-@\t\r") {
				t.Errorf("cell starts a formula: %q", cell)
			}
			if strings.ContainsRune(cell, 0x1b) {
				t.Errorf("cell holds a terminal escape: %q", cell)
			}
		}
		for h, i := range col {
			if r[i] != "" {
				filled[h]++
			}
		}
		if ips := r[col["ips"]]; ips != "" {
			ip := netip.MustParseAddr(strings.Split(ips, ";")[0])
			if prev.IsValid() && ip.Less(prev) {
				t.Errorf("rows not in address order: %s after %s", ip, prev)
			}
			prev = ip
		}
		if r[col["id"]] == "ip:10.10.10.9" {
			if r[col["services"]] != "tcp/502/modbus" {
				t.Errorf("services %q, want one entry", r[col["services"]])
			}
			if r[col["location"]] != "Hall 2, cabinet <7>" {
				t.Errorf("location %q", r[col["location"]])
			}
		}
	}
	for _, h := range []string{"product", "order_number", "firmware", "serial", "state", "lifecycle_phase", "verdict", "location"} {
		if filled[h] == 0 {
			t.Errorf("column %s is empty in every row of the demo plant", h)
		}
	}
}

func TestWriteReportFormats(t *testing.T) {
	rep, _ := plantReport(t)
	starts := map[string]string{"json": "[", "csv": "id,", "html": "<!DOCTYPE html>", "cyclonedx": "{", "cyclonedx-1.7": "{"}
	for _, f := range export.ReportFormats {
		var b bytes.Buffer
		if err := export.WriteReport(&b, f, rep); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !strings.HasPrefix(b.String(), starts[f]) {
			t.Errorf("%s starts %q", f, b.String()[:min(20, b.Len())])
		}
		if strings.HasPrefix(f, "cyclonedx") && !strings.Contains(b.String(), `"specVersion": "1.`+map[string]string{"cyclonedx": "6", "cyclonedx-1.7": "7"}[f]+`"`) {
			t.Errorf("%s: wrong spec version", f)
		}
	}
	if err := export.WriteReport(&bytes.Buffer{}, "pdf", rep); !errors.Is(err, export.ErrReportFormat) {
		t.Fatalf("pdf: %v", err)
	}
}
