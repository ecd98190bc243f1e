package export

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"otscope/assets/policy"
	"otscope/assets/review"
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

func TestScanLogFormats(t *testing.T) {
	at := time.Date(2026, 11, 26, 3, 40, 0, 5e6, time.UTC)
	recs := []model.ScanRecord{
		{Scan: "s1", Seq: 1, Time: at, Target: netip.MustParseAddr("10.99.0.11"), Transport: "tcp", Port: 102,
			Probe: "s7", Kind: "tcp.connect", Packets: 2, Answer: "connected"},
		{Scan: "s1", Seq: 2, Time: at.Add(time.Second), Target: netip.MustParseAddr("10.99.0.11"), Transport: "tcp",
			Port: 102, Probe: "s7", Kind: "s7.cotp_connect", Bytes: 22, Packets: 1, Error: "timeout"},
	}
	var j bytes.Buffer
	if err := ScanLog(&j, "json", recs); err != nil {
		t.Fatal(err)
	}
	var back []model.ScanRecord
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || len(back) != 2 || back[1].Error != "timeout" || back[0].Target != recs[0].Target {
		t.Fatalf("json round trip: %v %+v", err, back)
	}
	var c bytes.Buffer
	if err := ScanLog(&c, "csv", recs); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(rows) != 3 || len(rows[0]) != len(ScanLogCSVHeader) {
		t.Fatalf("csv: %v %q", err, rows)
	}
	if rows[2][7] != "s7.cotp_connect" || rows[2][12] != "timeout" || rows[1][2] != "2026-11-26T03:40:00.005Z" {
		t.Fatalf("csv row: %q", rows[2])
	}
	var tb bytes.Buffer
	if err := ScanLog(&tb, "table", recs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tb.String(), "tcp/102") || !strings.Contains(tb.String(), "timeout") {
		t.Fatalf("table:\n%s", tb.String())
	}
	var empty bytes.Buffer
	if err := ScanLog(&empty, "json", nil); err != nil || strings.TrimSpace(empty.String()) != "[]" {
		t.Fatalf("empty log: %q", empty.String())
	}
	if err := ScanLog(&empty, "xml", recs); err == nil {
		t.Fatal("xml accepted")
	}
}

func TestEnrichViolations(t *testing.T) {
	as := fixture()
	client, server := as[0].ID, as[1].ID
	until := time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)
	rep := policy.Report{Violations: []policy.Violation{
		{RuleID: "cleartext-telnet", Title: "Telnet", Severity: policy.High, AssetID: client, Evidence: []string{"tcp/23 open"}},
		{RuleID: "program-download-non-ews", Title: "Download", Severity: policy.Critical, AssetID: client, ServerID: server,
			Waived: &policy.Waiver{RuleID: "program-download-non-ews", AssetID: client, Reason: "commissioning", Until: until}},
	}}
	an := &review.Analysis{Report: rep, ByAsset: map[model.AssetID][]int{client: {0, 1}, server: {1}}}
	recs := Records(as, an)
	if len(recs[0].Violations) != 2 || recs[0].Violations[1].Waived == nil || len(recs[1].Violations) != 1 {
		t.Fatalf("violations: %+v / %+v", recs[0].Violations, recs[1].Violations)
	}
	var b bytes.Buffer
	if err := RecordsJSON(&b, recs); err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	vs, _ := back[0]["violations"].([]any)
	if len(vs) != 2 || vs[0].(map[string]any)["rule"] != "cleartext-telnet" || vs[1].(map[string]any)["peer"] != string(server) {
		t.Fatalf("JSON violations: %v", back[0]["violations"])
	}
	theirs, _ := back[1]["violations"].([]any)
	if len(theirs) != 1 || theirs[0].(map[string]any)["peer"] != string(client) || theirs[0].(map[string]any)["severity"] != "critical" {
		t.Fatalf("the server of a conversation violation: %v", back[1]["violations"])
	}
	if back[0]["id"] != string(client) || back[0]["macs"] == nil {
		t.Fatalf("asset fields not inlined: %v", back[0])
	}
	if recs := Records(as, nil); recs[0].Violations != nil {
		t.Fatal("violations without an analysis")
	}
}

// RecordsJSON encodes a window of records at a time on all cores; its bytes
// are those of encoding the whole slice as one indented document, for no
// records, one, several, and enough for several windows of chunks (with
// the last chunk short, and with it full).
func TestRecordsJSONStreamsTheSameDocument(t *testing.T) {
	as := fixture()
	all := Records(as, nil)
	var many []Record
	for i := 0; len(many) < 1000; i++ {
		r := all[i%len(all)]
		r.ID = model.AssetID(fmt.Sprintf("%s-%d", r.ID, i))
		many = append(many, r)
	}
	for _, recs := range [][]Record{nil, all[:1], all, many[:128], many[:129], many[:997], many} {
		var got, want bytes.Buffer
		if err := RecordsJSON(&got, recs); err != nil {
			t.Fatal(err)
		}
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		whole := recs
		if whole == nil {
			whole = []Record{}
		}
		if err := enc.Encode(whole); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%d records: streamed\n%s\nwhole\n%s", len(recs), got.String(), want.String())
		}
	}
}
