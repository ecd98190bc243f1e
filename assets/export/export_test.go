package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"otscope/model"
)

func fixture() []model.Asset {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	return []model.Asset{
		{
			ID: "mac:00:1b:1b:01:02:03", MACs: []model.MAC{{0, 0x1b, 0x1b, 1, 2, 3}}, IPs: []netip.Addr{netip.MustParseAddr("10.10.1.10")},
			VLANs: []uint16{10}, Vendor: "Siemens", Names: []string{"PLC-A1"}, Roles: []string{"network switch"},
			Services:  []model.Service{{Transport: "tcp", Port: 102, Protocol: "iso-tsap", IP: netip.MustParseAddr("10.10.1.10"), FirstSeen: t0, LastSeen: t0}},
			Protocols: []string{"iso-tsap"}, FirstSeen: t0, LastSeen: t0, Packets: 12, Bytes: 900,
			Facts: []model.Fact{{Field: "hostname", Value: "PLC-A1", Source: model.Source{Kind: model.Passive, Protocol: "dhcp", Origin: "a.pcap", Frame: 7, Time: t0}, LastSeen: t0, Count: 1}},
		},
		{ID: "ip:192.168.5.7", IPs: []netip.Addr{netip.MustParseAddr("192.168.5.7")}},
	}
}

func TestJSONSchema(t *testing.T) {
	var b bytes.Buffer
	if err := Assets(&b, "json", fixture()); err != nil {
		t.Fatal(err)
	}
	var raw []map[string]any
	if err := json.Unmarshal(b.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "macs", "ips", "vlans", "vendor", "names", "roles", "services", "protocols", "first_seen", "last_seen", "facts"} {
		for i, a := range raw {
			if _, ok := a[k]; !ok {
				t.Errorf("asset %d lacks %q", i, k)
			}
			if a[k] == nil {
				t.Errorf("asset %d: %q is null, want an empty list or value", i, k)
			}
		}
	}
	svc := raw[0]["services"].([]any)[0].(map[string]any)
	if svc["transport"] != "tcp" || svc["port"] != float64(102) || svc["protocol"] != "iso-tsap" {
		t.Errorf("service = %v", svc)
	}
	f := raw[0]["facts"].([]any)[0].(map[string]any)
	src := f["source"].(map[string]any)
	if f["field"] != "hostname" || f["value"] != "PLC-A1" || src["protocol"] != "dhcp" || src["kind"] != "passive" || src["frame"] != float64(7) {
		t.Errorf("fact = %v", f)
	}
	var back []model.Asset
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || back[0].MACs[0] != fixture()[0].MACs[0] {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

func TestCSV(t *testing.T) {
	var b bytes.Buffer
	if err := Assets(&b, "csv", fixture()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("rows = %v", rows)
	}
	if rows[1][7] != "tcp/102/iso-tsap" || rows[1][1] != "00:1b:1b:01:02:03" || rows[1][3] != "10" {
		t.Errorf("row = %v", rows[1])
	}
}

func TestTableAndBadFormat(t *testing.T) {
	var b bytes.Buffer
	if err := Assets(&b, "table", fixture()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "PLC-A1") || !strings.Contains(b.String(), "192.168.5.7") {
		t.Errorf("table = %q", b.String())
	}
	if err := Assets(&b, "xml", nil); !errors.Is(err, ErrFormat) {
		t.Errorf("xml: %v", err)
	}
}
