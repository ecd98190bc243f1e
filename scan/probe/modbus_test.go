package probe

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"otscope/model"
	"otscope/scan/testenv"

	"otscope/scan/internal/mbap"
)

func TestModbusRequestBytes(t *testing.T) {
	b := mbap.ADU(0x1234, 7, modbusFCDevID, modbusMEI, 1, 0)
	// MBAP: transaction id, protocol id 0, length = unit + PDU, unit id
	if got := binary.BigEndian.Uint16(b[0:]); got != 0x1234 {
		t.Errorf("transaction id %#x", got)
	}
	if b[2] != 0 || b[3] != 0 {
		t.Errorf("protocol id % x", b[2:4])
	}
	if got := binary.BigEndian.Uint16(b[4:]); got != 5 {
		t.Errorf("length %d, want 5 (unit + 4 PDU bytes)", got)
	}
	if b[6] != 7 {
		t.Errorf("unit %d", b[6])
	}
	// PDU: FC 43, MEI type 14, read device id code 01, object id 00
	if !bytes.Equal(b[7:], []byte{0x2b, 0x0e, 0x01, 0x00}) {
		t.Errorf("PDU % x", b[7:])
	}
	if k, err := dissectModbus(b); k != KindModbusReadDeviceID || err != nil {
		t.Errorf("own FC43 request: %v %v", k, err)
	}
	s := mbap.ADU(9, 255, modbusFCServer)
	if !bytes.Equal(s, []byte{0, 9, 0, 0, 0, 2, 255, 0x11}) {
		t.Errorf("FC17 request % x", s)
	}
	if k, err := dissectModbus(s); k != KindModbusReportServerID || err != nil {
		t.Errorf("own FC17 request: %v %v", k, err)
	}
}

func TestModbusDissector(t *testing.T) {
	adu := func(pdu ...byte) []byte { return mbap.ADU(1, 1, pdu...) }
	ok := []struct {
		name string
		p    []byte
		kind Kind
	}{
		{"basic", adu(0x2b, 0x0e, 1, 0), KindModbusReadDeviceID},
		{"regular from 3", adu(0x2b, 0x0e, 2, 3), KindModbusReadDeviceID},
		{"extended", adu(0x2b, 0x0e, 3, 0x80), KindModbusReadDeviceID},
		{"individual", adu(0x2b, 0x0e, 4, 1), KindModbusReadDeviceID},
		{"report server id", adu(0x11), KindModbusReportServerID},
	}
	for _, c := range ok {
		if k, err := dissectModbus(c.p); k != c.kind || err != nil {
			t.Errorf("%s: %v %v", c.name, k, err)
		}
		if err := Check("modbus", c.kind, c.p); err != nil {
			t.Errorf("%s: Check: %v", c.name, err)
		}
	}
	trailing := append(adu(0x2b, 0x0e, 1, 0), 0)
	badLen := adu(0x2b, 0x0e, 1, 0)
	badLen[5] = 9
	proto := adu(0x11)
	proto[3] = 1
	refused := []struct {
		name string
		p    []byte
	}{
		{"FC 5 write single coil", adu(5, 0, 1, 0xff, 0)},
		{"FC 6 write single register", adu(6, 0, 1, 0, 42)},
		{"FC 8 diagnostics (restart)", adu(8, 0, 1, 0, 0)},
		{"FC 15 write multiple coils", adu(15, 0, 0, 0, 8, 1, 0xff)},
		{"FC 16 write multiple registers", adu(16, 0, 0, 0, 1, 2, 0, 1)},
		{"FC 22 mask write", adu(22, 0, 0, 0xff, 0, 0, 0)},
		{"FC 23 read/write", adu(23, 0, 0, 0, 1, 0, 0, 0, 1, 2, 0, 1)},
		{"FC 3 read holding registers", adu(3, 0, 0, 0, 1)},
		{"FC 43 MEI 13 CANopen", adu(0x2b, 0x0d, 0, 0, 0, 0)},
		{"FC 43 read code 0", adu(0x2b, 0x0e, 0, 0)},
		{"FC 43 read code 5", adu(0x2b, 0x0e, 5, 0)},
		{"FC 43 without object id", adu(0x2b, 0x0e, 1)},
		{"FC 17 with data", adu(0x11, 0)},
		{"FC 90 UMAS", adu(0x5a, 0, 0x10)},
		{"trailing byte", trailing},
		{"length mismatch", badLen},
		{"protocol id 1", proto},
		{"short", []byte{0, 1, 0, 0, 0, 1, 1}},
		{"empty", nil},
	}
	for _, c := range refused {
		if k, err := dissectModbus(c.p); err == nil {
			t.Errorf("%s: accepted as %s", c.name, k)
		}
		for _, claim := range []Kind{KindModbusReadDeviceID, KindModbusReportServerID} {
			if Check("modbus", claim, c.p) == nil {
				t.Errorf("%s: Check accepts it as %s", c.name, claim)
			}
		}
	}
	// the claim must match what the payload is
	if Check("modbus", KindModbusReportServerID, adu(0x2b, 0x0e, 1, 0)) == nil {
		t.Error("FC43 accepted under the FC17 kind")
	}
}

// modbusAnswer builds a device identification answer ADU.
func modbusAnswer(tx uint16, unit, code, conformity byte, more bool, next byte, objs ...string) []byte {
	pdu := []byte{0x2b, 0x0e, code, conformity, 0, next, 0}
	if more {
		pdu[4] = 0xff
	}
	id := byte(0)
	if code == 2 {
		id = 3
	}
	for _, o := range objs {
		if o != "" {
			pdu = append(pdu, id, byte(len(o)))
			pdu = append(pdu, o...)
			pdu[6]++
		}
		id++
	}
	return mbap.ADU(tx, unit, pdu...)
}

func TestModbusFrame(t *testing.T) {
	f := modbusFrame(7)
	ans := modbusAnswer(7, 1, 1, 0x81, false, 0, "Acme", "P-1", "V1.0")
	for i := range 6 {
		if n, err := f(ans[:i]); n != 0 || err != nil {
			t.Errorf("short %d: %d %v", i, n, err)
		}
	}
	if n, err := f(ans[:6]); n != len(ans) || err != nil {
		t.Errorf("header only: %d %v, want %d", n, err, len(ans))
	}
	if n, err := f(ans); n != len(ans) || err != nil {
		t.Errorf("exact: %d %v", n, err)
	}
	if n, err := f(append(slices.Clone(ans), 0, 7, 0, 0)); n != len(ans) || err != nil {
		t.Errorf("long: %d %v", n, err)
	}
	if _, err := f([]byte("HTTP/1.1 400 Bad")); err == nil {
		t.Error("garbage framed")
	}
	huge := slices.Clone(ans)
	binary.BigEndian.PutUint16(huge[4:], 0xffff)
	if _, err := f(huge); err == nil {
		t.Error("huge length framed")
	}
	if _, err := f(modbusAnswer(6, 1, 1, 0x81, false, 0, "x")); err == nil {
		t.Error("answer to another transaction framed")
	}
}

func TestModbusParseAndSummary(t *testing.T) {
	ans := modbusAnswer(1, 1, 1, 0x82, true, 2, "Acme", "P-1")
	d, err := modbusParseDevID(ans)
	if err != nil || d.code != 1 || d.conformity != 0x82 || !d.more || d.next != 2 || !bytes.Equal(d.objects, []byte{0, 1}) {
		t.Errorf("parse: %+v %v", d, err)
	}
	if s := modbusSummary(ans); s != "read code 1: 2 objects, conformity 0x82, more from 0x02" {
		t.Errorf("summary %q", s)
	}
	exc := mbap.ADU(1, 1, 0xab, 1)
	if d, err := modbusParseDevID(exc); err != nil || d.exception != 1 {
		t.Errorf("exception: %+v %v", d, err)
	}
	if s := modbusSummary(exc); s != "exception 01 (illegal function)" {
		t.Errorf("exception summary %q", s)
	}
	if s := modbusSummary(mbap.ADU(1, 1, 0x11, 3, 0x2a, 0xff, 'x')); s != "server id, 3 bytes" {
		t.Errorf("FC17 summary %q", s)
	}
	cut := modbusAnswer(1, 1, 1, 0x81, false, 0, "Acme")
	cut[len(cut)-5] = 40 // object length beyond the answer
	if _, err := modbusParseDevID(cut); err == nil {
		t.Error("object running past the answer parsed")
	}
}

func TestModbusPlan(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.5")
	known := Target{Addr: ip, Asset: &model.Asset{}, Known: Known{TCP: []uint16{502}, ModbusUnits: []uint8{3, 1}, Fields: map[string]bool{}}}
	p, ok := modbusProbe{}.Plan(&known, &PlanOptions{ModbusUnits: []uint8{1, 9}})
	if !ok || p.IfOpen || p.Port != 502 || p.Transport != TCP {
		t.Fatalf("known: %+v %v", p, ok)
	}
	if !strings.Contains(p.Why, "tcp/502 known open") || !strings.Contains(p.Why, "units 1,3,9") {
		t.Errorf("why %q", p.Why)
	}
	// connect, 3 units x (4 FC43 + 1 FC17), close
	if len(p.Steps) != 17 || p.Steps[0].Kind != KindTCPConnect || p.Steps[16].Kind != KindTCPClose {
		t.Errorf("steps %+v", p.Steps)
	}
	for _, s := range p.Steps {
		if s.Packets > 5 {
			t.Errorf("step %s bounds %d packets: above the default per-host cap", s.Kind, s.Packets)
		}
	}
	// fill gaps: nothing missing, no plan; firmware missing, a plan
	full := known
	full.Known.Fields = map[string]bool{model.FieldOrderNumber: true, model.FieldFirmware: true}
	if _, ok := (modbusProbe{}).Plan(&full, &PlanOptions{FillGaps: true}); ok {
		t.Error("planned with nothing missing")
	}
	full.Known.Fields = map[string]bool{model.FieldOrderNumber: true}
	if p, ok := (modbusProbe{}).Plan(&full, &PlanOptions{FillGaps: true}); !ok || !strings.Contains(p.Why, "firmware unknown") {
		t.Errorf("fill gaps: %+v %v", p, ok)
	}
	// nothing known: only if the port opens, unit 255
	bare := Target{Addr: ip}
	if p, ok := (modbusProbe{}).Plan(&bare, &PlanOptions{}); !ok || !p.IfOpen || !strings.HasSuffix(p.Why, "unit 255") {
		t.Errorf("bare: %+v %v", p, ok)
	}
	// a known host that does not serve Modbus: nothing
	other := Target{Addr: ip, Asset: &model.Asset{}, Known: Known{TCP: []uint16{80}, Protocols: []string{"http"}}}
	if _, ok := (modbusProbe{}).Plan(&other, &PlanOptions{}); ok {
		t.Error("planned for an HTTP-only host")
	}
	// a port override
	if p, ok := (modbusProbe{}).Plan(&bare, &PlanOptions{Ports: map[string]uint16{"modbus": 15020}}); !ok || p.Port != 15020 {
		t.Errorf("port override: %+v", p)
	}
}

// icsFakeModbus is a scripted Modbus/TCP device: answer returns the PDU for a
// request PDU and unit (nil: stay silent).
func icsFakeModbus(t *testing.T, addr string, answer func(unit byte, pdu []byte) []byte) (port int, reqs func() [][]byte) {
	t.Helper()
	got := make(chan []byte, 64)
	port = serveTCP(t, addr+":0", func(c net.Conn) {
		for {
			// MBAP: the length at 4 counts the unit id and the PDU
			req, err := readFrame(c, 7, func(h []byte) int { return 6 + int(binary.BigEndian.Uint16(h[4:])) })
			if err != nil {
				return
			}
			got <- req
			if a := answer(req[6], req[7:]); a != nil {
				_, _ = c.Write(mbap.ADU(binary.BigEndian.Uint16(req), req[6], a...))
			}
		}
	})
	return port, func() [][]byte {
		var out [][]byte
		for {
			select {
			case r := <-got:
				out = append(out, r)
			default:
				return out
			}
		}
	}
}

// TestModbusRunFollowsAndFallsBack drives the run logic against scripted
// devices: "more follows" is followed, regular is read only when declared,
// FC 17 only after exception 01, a silent unit does not end the probe.
func TestModbusRunFollowsAndFallsBack(t *testing.T) {
	const addr = "127.0.0.21"
	ip := netip.MustParseAddr(addr)
	port, reqs := icsFakeModbus(t, addr, func(unit byte, pdu []byte) []byte {
		switch {
		case unit == 2:
			return nil // nothing behind this unit id
		case unit == 3 && pdu[0] == 0x2b:
			return []byte{0xab, 0x01} // an old device: illegal function
		case unit == 3 && pdu[0] == 0x11:
			return []byte{0x11, 5, 0x2a, 0xff, 'P', 'L', 'C'}
		case pdu[0] == 0x2b && pdu[2] == 1 && pdu[3] == 0: // basic, split in two answers
			return modbusAnswer(0, 0, 1, 0x82, true, 2, "Acme Controls", "AC-100")[7:]
		case pdu[0] == 0x2b && pdu[2] == 1 && pdu[3] == 2:
			return modbusAnswer(0, 0, 1, 0x82, false, 0, "", "", "V2.1")[7:]
		case pdu[0] == 0x2b && pdu[2] == 2 && pdu[3] == 3:
			return modbusAnswer(0, 0, 2, 0x82, false, 0, "", "Acme AC-100 CPU")[7:]
		}
		return []byte{pdu[0] | 0x80, 0x02}
	})
	a := icsAsset(ip, map[uint16]string{502: "modbus"})
	a.ProtocolIDs = &model.ProtocolIDs{ModbusUnitIDs: []string{"1", "2", "3"}}
	res := icsScan(t, ip, a, []string{"modbus"}, PlanOptions{Ports: map[string]uint16{"modbus": uint16(port)}})
	var sent []string
	for _, r := range reqs() {
		sent = append(sent, strconv.Itoa(int(r[6]))+":"+icsHexString(r[7:]))
	}
	want := []string{"1:2b0e0100", "1:2b0e0102", "1:2b0e0203", "2:2b0e0100", "3:2b0e0100", "3:11"}
	if !slices.Equal(sent, want) {
		t.Errorf("requests %v, want %v", sent, want)
	}
	res.wantFact(t, model.FieldVendor, "Acme Controls", "modbus")
	res.wantFact(t, model.FieldOrderNumber, "AC-100", "modbus")
	res.wantFact(t, model.FieldFirmware, "V2.1", "modbus")
	res.wantFact(t, model.FieldProduct, "Acme AC-100 CPU", "modbus")
	res.wantFact(t, "modbus.server_id", "0x2a PLC", "modbus")
	var timeouts int
	for _, r := range res.recs {
		if r.Answer == "timeout" {
			timeouts++
		}
	}
	if timeouts != 1 {
		t.Errorf("%d timeouts, want the one of unit 2: %v", timeouts, res.kinds())
	}
}

func icsHexString(b []byte) string {
	const d = "0123456789abcdef"
	var sb strings.Builder
	for _, x := range b {
		sb.WriteByte(d[x>>4])
		sb.WriteByte(d[x&15])
	}
	return sb.String()
}

// TestModbusPymodbus scans the real pymodbus server (Debian python3-pymodbus
// 3.0.0): basic then regular, no FC 17, and its seven objects as facts.
func TestModbusPymodbus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real server")
	}
	if out, err := exec.Command("/usr/bin/python3", "-c", "import pymodbus.server").CombinedOutput(); err != nil {
		testenv.Skipf(t, "pymodbus server cannot load (python3-pymodbus, python3-serial): %s", bytes.TrimSpace(out))
	}
	script := icsLabFile(t, "pymodbus_server.py")
	const addr = "127.0.0.22"
	port := icsFreePort(t, addr)
	icsStartPeer(t, addr, port, nil, "/usr/bin/python3", script, addr, strconv.Itoa(port))
	ip := netip.MustParseAddr(addr)
	res := icsScan(t, ip, nil, []string{"modbus"}, PlanOptions{Ports: map[string]uint16{"modbus": uint16(port)}})
	want := []string{"tcp.connect", "modbus.read_device_id", "modbus.read_device_id", "tcp.close"}
	if !slices.Equal(res.kinds(), want) {
		t.Errorf("log %v, want %v", res.kinds(), want)
	}
	res.wantFact(t, model.FieldVendor, "Schneider Electric", "modbus")
	res.wantFact(t, model.FieldOrderNumber, "BMX P34 2020", "modbus")
	res.wantFact(t, model.FieldFirmware, "v3.20", "modbus")
	res.wantFact(t, model.FieldProduct, "Modicon M340", "modbus")
	res.wantFact(t, "modbus.model_name", "BMX P34 2020", "modbus")
	res.wantFact(t, "modbus.user_application_name", "pump-station-2", "modbus")
	res.wantFact(t, model.FieldModbusUnitID, "255", "modbus")
	for _, r := range res.recs {
		if r.Error != "" {
			t.Errorf("record with an error: %+v", r)
		}
	}
}

func FuzzDissectModbus(f *testing.F) {
	f.Add(mbap.ADU(1, 1, 0x2b, 0x0e, 1, 0))
	f.Add(mbap.ADU(1, 1, 0x11))
	f.Add(mbap.ADU(1, 1, 6, 0, 1, 0, 1))
	f.Fuzz(func(t *testing.T, p []byte) {
		k, err := dissectModbus(p)
		if err != nil {
			return
		}
		// whatever is accepted is one well-formed FC43/14 or FC17 ADU
		if icsBE16(p[4:]) != len(p)-6 || p[2] != 0 || p[3] != 0 {
			t.Fatalf("accepted a bad MBAP header: % x", p)
		}
		switch k {
		case KindModbusReadDeviceID:
			if len(p) != 11 || p[7] != 0x2b || p[8] != 0x0e || p[9] < 1 || p[9] > 4 {
				t.Fatalf("accepted % x as read device id", p)
			}
		case KindModbusReportServerID:
			if len(p) != 8 || p[7] != 0x11 {
				t.Fatalf("accepted % x as report server id", p)
			}
		default:
			t.Fatalf("kind %s", k)
		}
	})
}

func FuzzModbusFrame(f *testing.F) {
	f.Add(modbusAnswer(1, 1, 1, 0x81, false, 0, "Acme", "P", "V"))
	f.Add([]byte{0, 1, 0, 0, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := modbusFrame(1)(b)
		if err == nil && n != 0 && (n < 8 || n > modbusADUMax) {
			t.Fatalf("frame length %d", n)
		}
		_ = modbusSummary(b)
		_, _ = modbusParseDevID(b)
	})
}

// TestModbusLibmodbus scans a real libmodbus 3.1.6 server, which has no
// device identification: FC 43 gets exception 01 and FC 17 follows.
func TestModbusLibmodbus(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts a real server")
	}
	src := icsLabFile(t, "lmb_server.c")
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libmodbus").Output()
	if err != nil {
		testenv.Skip(t, "libmodbus-dev (pkg-config libmodbus) is not installed")
	}
	bin := t.TempDir() + "/lmb"
	args := append([]string{"-O2", "-o", bin, src}, strings.Fields(string(flags))...)
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		testenv.Skipf(t, "cannot build the libmodbus server: %v %s", err, out)
	}
	const addr = "127.0.0.27"
	port := icsFreePort(t, addr)
	icsStartPeer(t, addr, port, nil, bin, addr, strconv.Itoa(port))
	ip := netip.MustParseAddr(addr)
	res := icsScan(t, ip, nil, []string{"modbus"}, PlanOptions{Ports: map[string]uint16{"modbus": uint16(port)}})
	want := []string{"tcp.connect", "modbus.read_device_id", "modbus.report_server_id", "tcp.close"}
	if !slices.Equal(res.kinds(), want) {
		t.Errorf("log %v, want %v", res.kinds(), want)
	}
	if res.recs[1].Answer != "exception 01 (illegal function)" {
		t.Errorf("FC43 answer %q", res.recs[1].Answer)
	}
	res.wantFact(t, model.FieldOperatingMode, "RUN", "modbus")
	if v := res.values("modbus.server_id"); len(v) != 1 || !strings.Contains(v[0], "LMB") {
		t.Errorf("server id %q", v)
	}
}
