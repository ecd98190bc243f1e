package probe

import (
	"bufio"
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/testenv"

	"otscope/scan/internal/ber"
)

// snmpTestVarbinds is the varbind list of the system-group GET: each OID
// with a NULL value.
func snmpTestVarbinds() []byte {
	var b []byte
	for _, item := range []byte{1, 2, 5, 6, 4} {
		b = append(b, 0x30, 0x0c, 0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, item, 0, 0x05, 0x00)
	}
	return b
}

func TestSNMPRequestBytes(t *testing.T) {
	want := []byte{0x30, 0x5e, // message
		0x02, 0x01, 0x01, // version 2c
		0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c', // community
		0xa0, 0x51, // GetRequest
		0x02, 0x01, 0x07, // request-id 7
		0x02, 0x01, 0x00, // error-status
		0x02, 0x01, 0x00, // error-index
		0x30, 0x46} // varbind list
	want = append(want, snmpTestVarbinds()...)
	if got := snmpGetRequest(snmpV2c, "public", 7).Payload; !bytes.Equal(got, want) {
		t.Errorf("v2c GET:\n got % x\nwant % x", got, want)
	}
	got := snmpGetRequest(snmpV1, strings.Repeat("c", 200), 0x123456).Payload
	// a long community takes a two-byte length, the message too
	if got[0] != 0x30 || got[1] != 0x82 || int(got[2])<<8|int(got[3]) != len(got)-4 {
		t.Errorf("long message header % x (len %d)", got[:4], len(got))
	}
	if !bytes.Equal(got[4:7], []byte{0x02, 0x01, 0x00}) || !bytes.Equal(got[7:10], []byte{0x04, 0x81, 200}) {
		t.Errorf("v1 version/community % x", got[4:10])
	}
	if i := 10 + 200; got[i] != 0xa0 || !bytes.Equal(got[i+2:i+7], []byte{0x02, 0x03, 0x12, 0x34, 0x56}) {
		t.Errorf("request-id % x", got[i:i+7])
	}
	for _, c := range []struct {
		v    uint32
		want []byte
	}{{0, []byte{0}}, {0x7f, []byte{0x7f}}, {0x80, []byte{0, 0x80}}, {0xffffffff, []byte{0, 0xff, 0xff, 0xff, 0xff}}} {
		if got := snmpIntBytes(c.v); !bytes.Equal(got, c.want) {
			t.Errorf("INTEGER %d: % x, want % x", c.v, got, c.want)
		}
	}
}

// snmpTestMessage builds a v1/v2c message with a PDU of tag pdu.
func snmpTestMessage(version byte, pdu byte, body []byte) []byte {
	msg := append([]byte{0x02, 0x01, version}, ber.TLV(0x04, []byte("public"))...)
	return ber.TLV(0x30, append(msg, ber.TLV(pdu, body)...))
}

// snmpTestPDU is a request-id, zero error fields and the varbinds vbs.
func snmpTestPDU(vbs []byte) []byte {
	return append([]byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00}, ber.TLV(0x30, vbs)...)
}

func TestSNMPDissector(t *testing.T) {
	get := snmpGetRequest(snmpV2c, "public", 1).Payload
	vb := func(oid []byte, val ...byte) []byte {
		if val == nil {
			val = []byte{0x05, 0x00}
		}
		return ber.TLV(0x30, append(ber.TLV(0x06, oid), val...))
	}
	sysName := []byte{0x2b, 6, 1, 2, 1, 1, 5, 0}
	itCheckDissector(t, "snmp", []itDissectCase{
		{"v2c get", get, KindSNMPGet},
		{"v1 get", snmpGetRequest(snmpV1, "private", 99).Payload, KindSNMPGet},
		{"get-next system", snmpTestMessage(1, 0xa1, snmpTestPDU(vb([]byte{0x2b, 6, 1, 2, 1, 1, 1}))), KindSNMPGet},
		{"get sysORTable entry", snmpTestMessage(1, 0xa0, snmpTestPDU(vb([]byte{0x2b, 6, 1, 2, 1, 1, 9, 1, 3, 1}))), KindSNMPGet},
		{"long-form length", append([]byte{0x30, 0x81, byte(len(get) - 2)}, get[2:]...), KindSNMPGet},
		{"empty", nil, ""},
		{"set", snmpTestMessage(1, 0xa3, snmpTestPDU(vb(sysName, 0x04, 0x01, 'x'))), ""},
		{"set with NULL", snmpTestMessage(1, 0xa3, snmpTestPDU(vb(sysName))), ""},
		{"get-bulk", snmpTestMessage(1, 0xa5, snmpTestPDU(vb(sysName))), ""},
		{"response", snmpTestMessage(1, 0xa2, snmpTestPDU(vb(sysName))), ""},
		{"v2 trap", snmpTestMessage(1, 0xa7, snmpTestPDU(vb(sysName))), ""},
		{"v3", itCopy(get, func(c []byte) []byte { c[4] = 3; return c }), ""},
		{"version 2", itCopy(get, func(c []byte) []byte { c[4] = 2; return c }), ""},
		{"interfaces OID", snmpTestMessage(1, 0xa0, snmpTestPDU(vb([]byte{0x2b, 6, 1, 2, 1, 2, 1, 0}))), ""},
		{"enterprise OID", snmpTestMessage(1, 0xa0, snmpTestPDU(vb([]byte{0x2b, 6, 1, 4, 1, 9, 1}))), ""},
		{"system group itself", snmpTestMessage(1, 0xa0, snmpTestPDU(vb([]byte{0x2b, 6, 1, 2, 1, 1}))), ""},
		{"OID cut inside an arc", snmpTestMessage(1, 0xa0, snmpTestPDU(vb([]byte{0x2b, 6, 1, 2, 1, 1, 0x81}))), ""},
		{"value not NULL", snmpTestMessage(1, 0xa0, snmpTestPDU(vb(sysName, 0x04, 0x01, 'x'))), ""},
		{"one bad varbind among good", snmpTestMessage(1, 0xa0, snmpTestPDU(append(vb(sysName), vb([]byte{0x2b, 6, 1, 6, 3, 1})...))), ""},
		{"no varbinds", snmpTestMessage(1, 0xa0, snmpTestPDU(nil)), ""},
		{"error-status set", snmpTestMessage(1, 0xa0, append([]byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x05, 0x02, 0x01, 0x00}, ber.TLV(0x30, vb(sysName))...)), ""},
		{"trailing bytes", append(append([]byte(nil), get...), 0x00), ""},
		{"trailing in PDU", snmpTestMessage(1, 0xa0, append(snmpTestPDU(vb(sysName)), 0x05, 0x00)), ""},
		{"indefinite length", append([]byte{0x30, 0x80}, get[2:]...), ""},
		{"length past the end", itCopy(get, func(c []byte) []byte { c[1]++; return c }), ""},
		{"17 varbinds", snmpTestMessage(1, 0xa0, snmpTestPDU(bytes.Repeat(vb(sysName), 17))), ""},
	})
}

// snmpTestResponse is a v2c response carrying sysName "plc-1".
var snmpTestResponse = snmpTestMessage(1, 0xa2, append([]byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00},
	ber.TLV(0x30, ber.TLV(0x30, []byte{0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 5, 0, 0x04, 0x05, 'p', 'l', 'c', '-', '1'}))...))

func TestSNMPSummary(t *testing.T) {
	noSuch := snmpTestMessage(0, 0xa2, append([]byte{0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x02, 0x01, 0x03}, ber.TLV(0x30, nil)...))
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{snmpTestResponse, "v2c response: 1 varbinds"},
		{noSuch, "v1 response: noSuchName"},
		{snmpGetRequest(1, "public", 1).Payload, "not a response PDU"},
		{[]byte{0x30, 0x03, 0x02, 0x01, 0x03}, "not SNMP v1/v2c"},
		{[]byte("garbage"), "not an SNMP message"},
	} {
		got := snmpSummary(c.b)
		if got != c.want {
			t.Errorf("summary %q, want %q", got, c.want)
		}
		if strings.Contains(got, "public") {
			t.Errorf("summary %q shows the community", got)
		}
	}
}

func TestSNMPPlan(t *testing.T) {
	addr := netip.MustParseAddr("10.99.0.2")
	seen := Known{UDP: []uint16{161}, Fields: map[string]bool{}}
	o := PlanOptions{Communities: []string{"s3cret-a", "s3cret-b", "s3cret-c", "s3cret-d"}}
	p, ok := snmpProbe{}.Plan(&Target{Addr: addr, Known: seen, Asset: &model.Asset{}}, &o)
	if !ok || len(p.Steps) != 6 || p.Packets() != 12 {
		t.Fatalf("plan %+v %v: want 3 communities x 2 versions, 2 packets each", p, ok)
	}
	if strings.Contains(p.Why, "s3cret") {
		t.Errorf("plan shows a community: %q", p.Why)
	}
	if _, ok := (snmpProbe{}).Plan(&Target{Addr: addr, Known: seen}, &PlanOptions{}); ok {
		t.Error("planned without a community")
	}
	if _, ok := (snmpProbe{}).Plan(&Target{Addr: addr}, &o); ok {
		t.Error("blind UDP to a target nothing is known of")
	}
	named := o
	named.Named = []string{"snmp"}
	if p, ok := (snmpProbe{}).Plan(&Target{Addr: addr}, &named); !ok || !strings.Contains(p.Why, "named") {
		t.Errorf("named probe not planned: %+v", p)
	}
	full := Known{UDP: []uint16{161}, Fields: map[string]bool{model.FieldSNMPSysDescr: true, model.FieldSNMPSysObjectID: true, model.FieldSNMPSysName: true}}
	if _, ok := (snmpProbe{}).Plan(&Target{Addr: addr, Known: full}, &PlanOptions{FillGaps: true, Communities: o.Communities}); ok {
		t.Error("fill-gaps planned with the system group known")
	}
}

func FuzzDissectSNMP(f *testing.F) {
	f.Add(snmpGetRequest(snmpV2c, "public", 1).Payload)
	f.Add(snmpTestResponse)
	f.Fuzz(func(t *testing.T, p []byte) {
		k, err := dissectSNMP(p)
		if err != nil {
			return
		}
		if k != KindSNMPGet {
			t.Fatalf("kind %s", k)
		}
		// what passed is a v1/v2c get or get-next of the system group
		_, msg, _, _ := snmpRead(p)
		_, ver, msg, _ := snmpRead(msg)
		_, _, msg, _ = snmpRead(msg)
		tag, _, _, _ := snmpRead(msg)
		if len(ver) != 1 || ver[0] > 1 || tag != 0xa0 && tag != 0xa1 || !bytes.Contains(p, []byte{0x06}) ||
			!bytes.Contains(p, []byte{0x2b, 6, 1, 2, 1, 1}) {
			t.Fatalf("accepted % x", p)
		}
	})
}

func FuzzSNMPAnswer(f *testing.F) {
	f.Add(snmpTestResponse)
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = snmpSummary(b)
	})
}

func TestSNMPTshark(t *testing.T) {
	itTshark(t, [][]byte{
		itFrame(t, true, 161, snmpGetRequest(snmpV2c, "public", 1).Payload),
		itFrame(t, true, 161, snmpGetRequest(snmpV1, "private", 2).Payload),
		itFrame(t, true, 161, snmpGetRequest(snmpV1, strings.Repeat("x", 200), 0x7fffffff).Payload),
	}, []string{"snmp", "snmp", "snmp"})
}

// TestSNMPAgainstSnmpd scans Debian's net-snmp snmpd on 127.0.0.3:16161
// with a wrong community first: the wrong one gets no reply (v2c and v1
// each time out), the right one answers; the system group arrives as
// Active facts and no community appears in the packet log.
func TestSNMPAgainstSnmpd(t *testing.T) {
	if testing.Short() {
		t.Skip("lab peer skipped in -short mode")
	}
	snmpd, err := exec.LookPath("snmpd")
	if err != nil {
		if _, err = exec.LookPath("/usr/sbin/snmpd"); err != nil {
			testenv.Skip(t, "snmpd not installed")
		}
		snmpd = "/usr/sbin/snmpd"
	}
	// the lab's configuration, listening on 127.0.0.3: facts about the
	// scanner's own address (127.0.0.1) are dropped
	lab, err := os.ReadFile("../../../shared/lab/snmpd-loopback.conf")
	if err != nil {
		testenv.Skipf(t, "lab configuration: %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "snmpd.conf")
	if err := os.WriteFile(conf, bytes.ReplaceAll(lab, []byte("udp:127.0.0.1:16161"), []byte("udp:127.0.0.3:16161")), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(snmpd, "-f", "-Lo", "-C", "-c", conf, "-p", filepath.Join(dir, "pid"))
	cmd.Env = []string{"MIBS=", "SNMP_PERSISTENT_DIR=" + dir, "PATH=/usr/sbin:/usr/bin:/bin"}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			t.Log("snmpd: " + sc.Text())
			if strings.Contains(sc.Text(), "NET-SNMP version") {
				ready <- true
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("snmpd not ready after 10 s")
	}
	addr := netip.MustParseAddr("127.0.0.3")
	comms := []string{"wrong-secret", "public"}
	res, _ := itScan(t, addr, Known{UDP: []uint16{16161}}, PlanOptions{Communities: comms, Ports: map[string]uint16{"snmp": 16161}}, "snmp")
	if len(res.recs) != 3 {
		t.Fatalf("%d records, want 3 (v2c and v1 with the wrong community, v2c with the right one)", len(res.recs))
	}
	for i, rec := range res.recs {
		if rec.Kind != string(KindSNMPGet) {
			t.Errorf("record %d kind %s", i, rec.Kind)
		}
		for _, c := range comms {
			if strings.Contains(rec.Answer+rec.Error, c) {
				t.Errorf("record %d shows a community: %+v", i, rec)
			}
		}
	}
	if res.recs[0].Answer != "timeout" || res.recs[0].Packets != 2 || res.recs[1].Answer != "timeout" {
		t.Errorf("wrong community: %+v / %+v, want timeouts after one retransmission", res.recs[0], res.recs[1])
	}
	if res.recs[2].Answer != "community #2: v2c response: 5 varbinds" {
		t.Errorf("answer %q", res.recs[2].Answer)
	}
	for field, want := range map[string]string{
		model.FieldSNMPSysDescr:    "Siemens, SIMATIC S7, CPU-1200, 6ES7 214-1AG40-0XB0, HW: 1, FW: V4.4.0",
		model.FieldSNMPSysObjectID: "1.3.6.1.4.1.4329.6.1.2513.1",
		model.FieldSNMPSysName:     "plc-line1",
		model.FieldSNMPSysLocation: "Hall 3 cabinet 7",
		model.FieldSNMPSysContact:  "ot-team@example.invalid",
		model.FieldOrderNumber:     "6ES7 214-1AG40-0XB0",
		model.FieldFirmware:        "V4.4.0",
		model.FieldSNMPCommunity:   "*** (default)",
	} {
		if got := res.fact(t, addr, field); !slices.Contains(got, want) {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	for _, f := range res.facts {
		for _, c := range comms {
			if strings.Contains(f.Value+f.Detail, c) {
				t.Errorf("fact %s=%q shows a community", f.Field, f.Value)
			}
		}
	}
}
