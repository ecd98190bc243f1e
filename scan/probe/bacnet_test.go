package probe

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"net/netip"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/testenv"
)

func TestBACnetRequestBytes(t *testing.T) {
	for _, c := range []struct {
		name string
		got  []byte
		want []byte
	}{
		{"who-is, no range", bacnetWhoIsRequest(bacnetWildcard).Payload,
			[]byte{0x81, 0x0a, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08}},
		// BVLC original-unicast, length 14; NPDU v1 no routing; unconfirmed
		// Who-Is; [0] low limit 1234, [1] high limit 1234
		{"who-is 1234", bacnetWhoIsRequest(1234).Payload,
			[]byte{0x81, 0x0a, 0x00, 0x0e, 0x01, 0x00, 0x10, 0x08, 0x0a, 0x04, 0xd2, 0x1a, 0x04, 0xd2}},
		{"who-is 7", bacnetWhoIsRequest(7).Payload,
			[]byte{0x81, 0x0a, 0x00, 0x0c, 0x01, 0x00, 0x10, 0x08, 0x09, 0x07, 0x19, 0x07}},
		// NPDU expecting reply; confirmed request, no segmentation, max
		// APDU 1476, invoke id 3, ReadProperty; [0] device,1234; [1] 121
		{"read-property vendor-name", bacnetReadPropertyRequest(3, 1234, 121).Payload,
			[]byte{0x81, 0x0a, 0x00, 0x11, 0x01, 0x04, 0x00, 0x05, 0x03, 0x0c, 0x0c, 0x02, 0x00, 0x04, 0xd2, 0x19, 0x79}},
		{"read-property wildcard", bacnetReadPropertyRequest(1, bacnetWildcard, 120).Payload,
			[]byte{0x81, 0x0a, 0x00, 0x11, 0x01, 0x04, 0x00, 0x05, 0x01, 0x0c, 0x0c, 0x02, 0x3f, 0xff, 0xff, 0x19, 0x78}},
	} {
		if !bytes.Equal(c.got, c.want) {
			t.Errorf("%s:\n got % x\nwant % x", c.name, c.got, c.want)
		}
	}
}

func TestBACnetDissector(t *testing.T) {
	rp := bacnetReadPropertyRequest(1, 1234, 77).Payload
	who := bacnetWhoIsRequest(bacnetWildcard).Payload
	// confirmed request with service s on the Device object
	confirmed := func(s byte, body ...byte) []byte {
		return bacnetFrame(0x04, append([]byte{0x00, 0x05, 0x01, s}, body...))
	}
	dev := []byte{0x0c, 0x02, 0x00, 0x04, 0xd2}
	itCheckDissector(t, "bacnet", []itDissectCase{
		{"who-is", who, KindBACnetWhoIs},
		{"who-is range", bacnetWhoIsRequest(1234).Payload, KindBACnetWhoIs},
		{"read-property", rp, KindBACnetReadProperty},
		{"read-property array index", confirmed(12, append(dev, 0x19, 0x4c, 0x29, 0x00)...), KindBACnetReadProperty},
		{"empty", nil, ""},
		{"short", []byte{0x81, 0x0a}, ""},
		{"not BVLC", itCopy(who, func(c []byte) []byte { c[0] = 0x82; return c }), ""},
		{"broadcast BVLC", itCopy(who, func(c []byte) []byte { c[1] = 0x0b; return c }), ""},
		{"forwarded BVLC", itCopy(who, func(c []byte) []byte { c[1] = 0x04; return c }), ""},
		{"register foreign device", []byte{0x81, 0x05, 0x00, 0x06, 0x00, 0x3c}, ""},
		{"BVLC length mismatch", itCopy(who, func(c []byte) []byte { c[3]++; return c }), ""},
		{"NPDU version 2", itCopy(who, func(c []byte) []byte { c[4] = 2; return c }), ""},
		{"network-layer message", bacnetFrame(0x80, []byte{0x00, 0x00, 0x01}), ""},
		{"routed to DNET", bacnetFrame(0x20, []byte{0xff, 0xff, 0x00, 0xff, 0x10, 0x08}), ""},
		{"priority", bacnetFrame(0x03, []byte{0x10, 0x08}), ""},
		{"write-property", confirmed(15, append(dev, 0x19, 0x4d, 0x3e, 0x75, 0x02, 0x00, 0x41, 0x3f)...), ""},
		{"reinitialize-device", confirmed(20, 0x09, 0x00), ""},
		{"device-communication-control", confirmed(17, 0x19, 0x01), ""},
		{"read-property-multiple", confirmed(14, append(dev, 0x1e, 0x09, 0x4d, 0x1f)...), ""},
		{"read-property of analog-input", confirmed(12, 0x0c, 0x00, 0x00, 0x00, 0x01, 0x19, 0x55), ""},
		{"read-property trailing", bacnetFrame(0x04, append(rp[6:], 0x00)), ""},
		{"read-property no property", confirmed(12, dev...), ""},
		{"segmented request", bacnetFrame(0x04, []byte{0x08, 0x05, 0x01, 0x00, 0x01, 12}), ""},
		{"i-am", bacnetFrame(0x00, []byte{0x10, 0x00, 0xc4, 0x02, 0x00, 0x04, 0xd2, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x21, 0x08}), ""},
		{"who-has", bacnetFrame(0x00, []byte{0x10, 0x07, 0x3d, 0x02, 0x00, 0x41}), ""},
		{"time-synchronization", bacnetFrame(0x00, []byte{0x10, 0x06}), ""},
		{"who-is half range", bacnetFrame(0x00, []byte{0x10, 0x08, 0x09, 0x01}), ""},
		{"who-is low > high", bacnetFrame(0x00, []byte{0x10, 0x08, 0x09, 0x05, 0x19, 0x01}), ""},
		{"who-is trailing", bacnetFrame(0x00, []byte{0x10, 0x08, 0x00}), ""},
		{"simple ack", bacnetFrame(0x00, []byte{0x20, 0x01, 0x0f}), ""},
	})
	if err := Check("bacnet", KindBACnetReadProperty, who); err == nil {
		t.Error("a Who-Is claimed as ReadProperty passes Check")
	}
}

// iAm is the I-Am of device 1234, vendor 8, as a device sends it.
var bacnetTestIAm = []byte{0x81, 0x0b, 0x00, 0x14, 0x01, 0x00, 0x10, 0x00, 0xc4, 0x02, 0x00, 0x04, 0xd2, 0x22, 0x05, 0xc4, 0x91, 0x03, 0x21, 0x08}

func TestBACnetAnswers(t *testing.T) {
	if inst, ok := bacnetIAm(bacnetTestIAm); !ok || inst != 1234 {
		t.Errorf("I-Am instance %d %v, want 1234", inst, ok)
	}
	// routed I-Am: SNET 5, SLEN 1, SADR 0x21
	routed := bacnetFrame(0x08, []byte{0x00, 0x05, 0x01, 0x21, 0x10, 0x00, 0xc4, 0x02, 0x00, 0x00, 0x07, 0x22, 0x01, 0xe0, 0x91, 0x03, 0x21, 0x08})
	if inst, ok := bacnetIAm(routed); !ok || inst != 7 {
		t.Errorf("routed I-Am instance %d %v, want 7", inst, ok)
	}
	ack := bacnetFrame(0x00, []byte{0x30, 0x02, 0x0c, 0x0c, 0x02, 0x00, 0x04, 0xd2, 0x19, 0x79, 0x3e, 0x75, 0x05, 0x00, 'D', 'e', 'l', 't', 0x3f})
	errPDU := bacnetFrame(0x00, []byte{0x50, 0x02, 0x0c, 0x91, 0x02, 0x91, 0x20})
	for _, c := range []struct {
		b      []byte
		invoke uint8
		kind   int
		sum    string
	}{
		{bacnetTestIAm, 1, bacnetStray, "i-am device 1234"},
		{ack, 2, bacnetAck, "property 121"},
		{ack, 3, bacnetStray, "property 121"},
		{errPDU, 2, bacnetAck, "error class 2 code 32"},
		{bacnetFrame(0x00, []byte{0x60, 0x02, 0x09}), 2, bacnetAbort, "reject reason 9"},
		{bacnetFrame(0x00, []byte{0x71, 0x02, 0x04}), 2, bacnetAbort, "abort reason 4"},
		{bacnetFrame(0x00, []byte{0x60, 0x02}), 2, bacnetAbort, "reject"},
		{[]byte("garbage!"), 1, bacnetStray, "not BACnet/IP (8 bytes)"},
		{bacnetTestIAm[:10], 1, bacnetStray, "not BACnet/IP (10 bytes)"},
	} {
		if k := bacnetAnswerPDU(c.b, c.invoke); k != c.kind {
			t.Errorf("% x invoke %d: answer kind %d, want %d", c.b, c.invoke, k, c.kind)
		}
		if s := bacnetSummary(c.b); s != c.sum {
			t.Errorf("% x: summary %q, want %q", c.b, s, c.sum)
		}
	}
}

func TestBACnetPlan(t *testing.T) {
	addr := netip.MustParseAddr("10.99.0.2")
	asset := &model.Asset{}
	for _, c := range []struct {
		name  string
		known Known
		o     PlanOptions
		steps int // 0: not planned
	}{
		{"seen", Known{UDP: []uint16{47808}}, PlanOptions{}, 9},
		{"speaks", Known{Protocols: []string{"bacnet"}}, PlanOptions{}, 9},
		{"nothing known", Known{}, PlanOptions{}, 9}, // by default: Who-Is first, stops if unanswered
		{"nothing known, named", Known{}, PlanOptions{Named: []string{"bacnet"}}, 9},
		{"other services, named", Known{TCP: []uint16{502}}, PlanOptions{Named: []string{"bacnet"}}, 0},
		{"fill gaps, all known", Known{UDP: []uint16{47808}, Fields: map[string]bool{
			model.FieldVendor: true, model.FieldProduct: true, model.FieldFirmware: true, model.FieldHostname: true,
			"bacnet.application_software_version": true, "bacnet.location": true, "bacnet.description": true,
			model.FieldBACnetVendorID: true, model.FieldBACnetInstance: true}}, PlanOptions{FillGaps: true}, 0},
		{"fill gaps, firmware", Known{UDP: []uint16{47808}, Fields: map[string]bool{
			model.FieldVendor: true, model.FieldProduct: true, model.FieldHostname: true,
			"bacnet.application_software_version": true, "bacnet.location": true, "bacnet.description": true,
			model.FieldBACnetVendorID: true, model.FieldBACnetInstance: true}}, PlanOptions{FillGaps: true}, 2},
		{"other port", Known{UDP: []uint16{47809}}, PlanOptions{Ports: map[string]uint16{"bacnet": 47809}}, 9},
	} {
		tg := Target{Addr: addr, Known: c.known, Asset: asset}
		if c.name == "nothing known" || c.name == "nothing known, named" {
			tg.Asset = nil
		}
		p, ok := bacnetProbe{}.Plan(&tg, &c.o)
		if got := len(p.Steps); ok != (c.steps > 0) || got != c.steps {
			t.Errorf("%s: planned %v with %d steps, want %d", c.name, ok, got, c.steps)
			continue
		}
		if ok && (p.Transport != UDP || p.Steps[0].Kind != KindBACnetWhoIs || p.Packets() != 2*c.steps || p.Why == "") {
			t.Errorf("%s: plan %+v", c.name, p)
		}
	}
}

func FuzzDissectBACnet(f *testing.F) {
	f.Add(bacnetWhoIsRequest(bacnetWildcard).Payload)
	f.Add(bacnetWhoIsRequest(99).Payload)
	f.Add(bacnetReadPropertyRequest(9, 1234, 44).Payload)
	f.Add(bacnetTestIAm)
	f.Fuzz(func(t *testing.T, p []byte) {
		k, err := dissectBACnet(p)
		if err != nil {
			return
		}
		// whatever passes is an original-unicast Who-Is or a read of the
		// Device object
		if p[1] != 0x0a || p[5]&^0x04 != 0 {
			t.Fatalf("accepted BVLC/NPDU % x", p[:6])
		}
		switch k {
		case KindBACnetWhoIs:
			if p[6] != 0x10 || p[7] != 0x08 {
				t.Fatalf("accepted unconfirmed % x as Who-Is", p)
			}
		case KindBACnetReadProperty:
			if p[9] != 12 || p[10] != 0x0c || binary.BigEndian.Uint32(p[11:15])>>22 != bacnetDeviceType {
				t.Fatalf("accepted % x as ReadProperty", p)
			}
		default:
			t.Fatalf("kind %s", k)
		}
	})
}

func FuzzBACnetAnswer(f *testing.F) {
	f.Add(bacnetTestIAm)
	f.Add(bacnetFrame(0x00, []byte{0x30, 0x02, 0x0c, 0x0c, 0x02, 0x00, 0x04, 0xd2, 0x19, 0x79}))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = bacnetSummary(b)
		_, _ = bacnetIAm(b)
		_ = bacnetAnswerPDU(b, 1)
	})
}

func TestBACnetTshark(t *testing.T) {
	itTshark(t, [][]byte{
		itFrame(t, true, 47808, bacnetWhoIsRequest(bacnetWildcard).Payload),
		itFrame(t, true, 47808, bacnetWhoIsRequest(1234).Payload),
		itFrame(t, true, 47808, bacnetReadPropertyRequest(1, 1234, 121).Payload),
		itFrame(t, true, 47808, bacnetReadPropertyRequest(2, bacnetWildcard, 120).Payload),
	}, []string{"bacapp", "bacapp", "bacapp", "bacapp"})
}

// itNode starts a lab peer written for Node (../shared/lab/node) and waits
// for its first line of output; it skips when node or the package is not
// installed.
func itNode(t *testing.T, pkg, script string, args ...string) {
	t.Helper()
	// the project's copies of the lab scripts, with the packages `make
	// peers` installs into testdata/lab/node_modules (../shared is read-only
	// in CI)
	dir, _ := filepath.Abs("../../testdata/lab/node")
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Skip(t, "node not installed")
	}
	if err := exec.Command("node", "-e", "require.resolve('"+pkg+"', {paths: ['"+dir+"']})").Run(); err != nil {
		testenv.Skipf(t, "npm package %s not installed for %s", pkg, dir)
	}
	cmd := exec.Command("node", append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			// the scripts say when they listen; anything before (node-opcua
			// warns while it makes its PKI on a first start) is not readiness
			if l := sc.Text(); first && (strings.Contains(l, "listening on") || strings.Contains(l, "server up")) {
				ready <- l
				first = false
			}
			t.Log(script + ": " + sc.Text())
		}
		close(ready)
	}()
	select {
	case l, ok := <-ready:
		if !ok {
			t.Fatalf("%s exited before it was ready", script)
		}
		t.Logf("%s ready: %s", script, l)
	case <-time.After(30 * time.Second):
		t.Fatalf("%s not ready after 30 s", script)
	}
}

// TestBACnetAgainstDevice scans the lab's BACnet device (a real
// @bacnet-js/client stack) on 127.0.0.2: Who-Is, I-Am, then ReadProperty
// of the identity properties, all as Active facts.
func TestBACnetAgainstDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("lab peer skipped in -short mode")
	}
	itNode(t, "@bacnet-js/client", "bacnet_device.js", "127.0.0.2", "47808", "127.255.255.255", "1234")
	addr := netip.MustParseAddr("127.0.0.2")
	res, _ := itScan(t, addr, Known{UDP: []uint16{47808}}, PlanOptions{}, "bacnet")
	kinds := res.kinds()
	if len(kinds) != 8 || kinds[0] != string(KindBACnetWhoIs) {
		t.Errorf("requests %v, want Who-Is and 7 ReadProperty", kinds)
	}
	for field, want := range map[string]string{
		model.FieldBACnetInstance: "1234", model.FieldVendor: "Delta Controls", model.FieldProduct: "eBCON",
		model.FieldFirmware: "3.40", model.FieldHostname: "AHU-3 Controller", "bacnet.location": "Roof plant room",
		"bacnet.application_software_version": "V3.40 build 1234", "bacnet.description": "Air handler 3, roof",
	} {
		if got := res.fact(t, addr, field); !slices.Contains(got, want) {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
	for _, rec := range res.recs {
		if rec.Error != "" || strings.Contains(rec.Answer, "timeout") {
			t.Errorf("record %+v failed", rec)
		}
	}
}
