package probe

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"otscope/model"
	"otscope/scan/testenv"
)

func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	var b []byte
	for _, f := range strings.Fields(s) {
		v, err := strconv.ParseUint(f, 16, 8)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, byte(v))
	}
	return b
}

func TestS7RequestBytes(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
		kind Kind
	}{
		// TPKT v3 len 22 | COTP LI 17, CR, dst-ref 0, src-ref 1, class 0 |
		// TPDU size 1024 | calling TSAP 0x0100 | called TSAP 0x0102 (PG, rack 0 slot 2)
		{"CR slot 2", s7ConnectRequest(0x0102), "03 00 00 16 11 e0 00 00 00 01 00 c0 01 0a c1 02 01 00 c2 02 01 02", KindS7Connect},
		{"CR slot 1", s7ConnectRequest(0x0101), "03 00 00 16 11 e0 00 00 00 01 00 c0 01 0a c1 02 01 00 c2 02 01 01", KindS7Connect},
		// TPKT | COTP DT EOT | S7 job, pdu ref 1, param 8, data 0 |
		// setup communication, 1 job calling, 1 called, PDU 480
		{"setup", s7SetupRequest(1), "03 00 00 19 02 f0 80 32 01 00 00 00 01 00 08 00 00 f0 00 00 01 00 01 01 e0", KindS7Setup},
		// S7 userdata, ref 2, param 8, data 8 | 00 01 12, len 4, request,
		// type request / group CPU functions, read SZL, seq 0 | return
		// 0xff, octet string, 4 bytes: SZL 0x0011 index 0
		{"SZL 0x0011", s7SZLRequest(2, 0x0011, 0), "03 00 00 21 02 f0 80 32 07 00 00 00 02 00 08 00 08 00 01 12 04 11 44 01 00 ff 09 00 04 00 11 00 00", KindS7SZLRead},
		{"SZL 0x0424", s7SZLRequest(4, 0x0424, 0), "03 00 00 21 02 f0 80 32 07 00 00 00 04 00 08 00 08 00 01 12 04 11 44 01 00 ff 09 00 04 04 24 00 00", KindS7SZLRead},
		// follow-up: param len 12, method 0x12, seq 5, dur 0, last 0, err 0 | 0a 00 00 00
		{"SZL next", s7SZLNextRequest(3, 5), "03 00 00 21 02 f0 80 32 07 00 00 00 03 00 0c 00 04 00 01 12 08 12 44 01 05 00 00 00 00 0a 00 00 00", KindS7SZLRead},
		// TPKT len 11 | COTP LI 6, DR, dst-ref (the CPU's), src-ref 1, reason 0x80
		{"DR", s7DisconnectRequest(0x4411), "03 00 00 0b 06 80 44 11 00 01 80", KindS7Disconnect},
	}
	for _, c := range cases {
		if want := hexBytes(t, c.want); !bytes.Equal(c.got, want) {
			t.Errorf("%s:\n got % x\nwant % x", c.name, c.got, want)
		}
		if err := Check("s7", c.kind, c.got); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// s7Job builds a TPKT/COTP DT/S7 job with the given parameter and data.
func s7Job(rosctr byte, par, data []byte) []byte {
	return s7Data(append(append(s7Header(rosctr, 9, len(par), len(data)), par...), data...))
}

func TestS7Dissector(t *testing.T) {
	ud := func(typeGroup, sub byte) []byte {
		return s7Job(7, []byte{0, 1, 0x12, 4, 0x11, typeGroup, sub, 0}, []byte{0xff, 0x09, 0, 4, 0, 0x11, 0, 0})
	}
	item := []byte{0x12, 0x0a, 0x10, 0x02, 0, 1, 0, 1, 0x84, 0, 0, 0}
	trailing := append(s7SZLRequest(1, 0x11, 0), 0)
	badTPKT := s7SetupRequest(1)
	badTPKT[3]++
	notEOT := s7SetupRequest(1)
	notEOT[6] = 0
	class4 := s7ConnectRequest(0x0102)
	class4[10] = 0x40
	crData := append(s7ConnectRequest(0x0102), 'x')
	crData[3]++
	crParam := s7ConnectRequest(0x0102)
	crParam[11] = 0xc3
	refused := []struct {
		name string
		p    []byte
	}{
		{"read var 0x04", s7Job(1, append([]byte{0x04, 1}, item...), nil)},
		{"write var 0x05", s7Job(1, append([]byte{0x05, 1}, item...), []byte{0, 4, 0, 8, 0xff})},
		{"PI service 0x28 (start)", s7Job(1, []byte{0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0, 0, 9, 'P', '_', 'P', 'R', 'O', 'G', 'R', 'A', 'M'}, nil)},
		{"PLC stop 0x29", s7Job(1, []byte{0x29, 0, 0, 0, 0, 0, 9, 'P', '_', 'P', 'R', 'O', 'G', 'R', 'A', 'M'}, nil)},
		{"request download 0x1a", s7Job(1, []byte{0x1a, 0, 1, 0, 0, 0, 0, 0, 9, '_', '0', '8', '0', '0', '0', '0', '1', 'P'}, nil)},
		{"download block 0x1b", s7Job(1, []byte{0x1b, 0, 1, 0, 0, 0, 0, 0, 9, '_', '0', '8', '0', '0', '0', '0', '1', 'P'}, nil)},
		{"download ended 0x1c", s7Job(1, []byte{0x1c, 0, 1, 0, 0, 0, 0, 0, 9, '_', '0', '8', '0', '0', '0', '0', '1', 'P'}, nil)},
		{"start upload 0x1d", s7Job(1, []byte{0x1d, 0, 0, 0, 0, 0, 0, 0, 9, '_', '0', '8', '0', '0', '0', '0', '1', 'A'}, nil)},
		{"upload 0x1e", s7Job(1, []byte{0x1e, 0, 0, 0, 0, 0, 0, 7}, nil)},
		{"end upload 0x1f", s7Job(1, []byte{0x1f, 0, 0, 0, 0, 0, 0, 7}, nil)},
		{"setup with data", s7Job(1, []byte{0xf0, 0, 0, 1, 0, 1, 1, 0xe0}, []byte{0})},
		{"userdata group 1 (programmer)", ud(0x41, 1)},
		{"userdata group 2 (cyclic data)", ud(0x42, 1)},
		{"userdata group 3 (block functions)", ud(0x43, 1)},
		{"userdata group 5 (security: password)", ud(0x45, 1)},
		{"userdata group 7 (time: set clock)", ud(0x47, 2)},
		{"CPU functions, message service", ud(0x44, 2)},
		{"CPU functions, response type", ud(0x84, 1)},
		{"ack data (a response)", s7Job(3, []byte{0xf0, 0, 0, 1, 0, 1, 1, 0xe0}, nil)},
		{"trailing byte", trailing},
		{"TPKT length mismatch", badTPKT},
		{"COTP DT without EOT", notEOT},
		{"COTP CR class 4", class4},
		{"COTP CR with user data", crData},
		{"COTP CR unknown parameter", crParam},
		{"COTP expedited data", []byte{3, 0, 0, 8, 3, 0x10, 0, 1}},
		{"not S7comm (S7comm-plus)", s7Data([]byte{0x72, 1, 0, 0x1c, 0x31, 0, 0, 4, 0xca, 0, 0})},
		{"short", []byte{3, 0, 0, 4}},
	}
	for _, c := range refused {
		if k, err := dissectS7(c.p); err == nil {
			t.Errorf("%s: accepted as %s", c.name, k)
		}
		for _, claim := range []Kind{KindS7Connect, KindS7Setup, KindS7SZLRead, KindS7Disconnect} {
			if Check("s7", claim, c.p) == nil {
				t.Errorf("%s: Check accepts it as %s", c.name, claim)
			}
		}
	}
	if Check("s7", KindS7Setup, s7SZLRequest(1, 0x11, 0)) == nil {
		t.Error("an SZL read passes as setup")
	}
}

// s7SZLAnswer builds a read SZL answer: first fragment (with the SZL
// header) or follow-up, seq and more as given.
func s7SZLAnswer(first bool, id, records int, seq byte, more bool, body []byte) []byte {
	par := []byte{0, 1, 0x12, 8, 0x12, 0x84, 0x01, seq, 0, 0, 0, 0}
	if more {
		par[9] = 1
	}
	var d []byte
	if first {
		d = []byte{byte(id >> 8), byte(id), 0, 0, 0, 28, 0, byte(records)}
	}
	d = append(d, body...)
	data := append([]byte{0xff, 0x09, byte(len(d) >> 8), byte(len(d))}, d...)
	return s7Data(append(append(s7Header(7, 1, len(par), len(data)), par...), data...))
}

func TestS7FrameAndSummary(t *testing.T) {
	cc := hexBytes(t, "03 00 00 16 11 d0 00 01 44 11 00 c0 01 0a c1 02 01 00 c2 02 01 02")
	for i := range 4 {
		if n, err := s7Frame(cc[:i]); n != 0 || err != nil {
			t.Errorf("short %d: %d %v", i, n, err)
		}
	}
	if n, err := s7Frame(cc); n != len(cc) || err != nil {
		t.Errorf("exact: %d %v", n, err)
	}
	if n, err := s7Frame(append(slices.Clone(cc), 3, 0)); n != len(cc) || err != nil {
		t.Errorf("long: %d %v", n, err)
	}
	if _, err := s7Frame([]byte("SSH-2.0")); err == nil {
		t.Error("garbage framed")
	}
	if n, err := s7Frame([]byte{3, 0, 0xff, 0xff}); n != 0xffff || err != nil {
		t.Errorf("huge: %d %v (the session refuses lengths above MaxAnswer)", n, err)
	}
	if _, err := s7Frame([]byte{3, 0, 0, 3}); err == nil {
		t.Error("TPKT length 3 framed")
	}
	if s := s7Summary(cc); s != "connect confirm" {
		t.Errorf("CC summary %q", s)
	}
	if s := s7Summary(hexBytes(t, "03 00 00 0b 06 80 00 01 00 00 81")); !strings.Contains(s, "refused") {
		t.Errorf("DR summary %q", s)
	}
	setup := s7Data(append(append(make([]byte, 0, 20), 0x32, 3, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0), 0xf0, 0, 0, 1, 0, 1, 0, 0xf0))
	if s := s7Summary(setup); s != "setup: PDU 240" {
		t.Errorf("setup summary %q", s)
	}
	first := s7SZLAnswer(true, 0x11, 4, 7, true, make([]byte, 100))
	if s := s7SZLSummary(true)(first); s != "SZL 0x0011: 4 records, more follows" {
		t.Errorf("SZL summary %q", s)
	}
	a, err := s7ParseSZL(first, true)
	if err != nil || a.seq != 7 || !a.more || a.id != 0x11 || a.records != 4 {
		t.Errorf("parse: %+v %v", a, err)
	}
	if s := s7SZLSummary(false)(s7SZLAnswer(false, 0, 0, 7, false, make([]byte, 30))); s != "SZL follow-up fragment" {
		t.Errorf("follow-up summary %q", s)
	}
	notFound := s7SZLAnswer(true, 0x1c, 0, 0, false, nil)
	notFound[len(notFound)-12] = 0x0a // return code
	if s := s7SZLSummary(true)(notFound); s != "return code 0x0a (object does not exist)" {
		t.Errorf("return code summary %q", s)
	}
}

func TestS7Plan(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.7")
	tg := Target{Addr: ip, Asset: &model.Asset{}, Known: Known{TCP: []uint16{102}, Protocols: []string{"s7comm"},
		Fields: map[string]bool{model.FieldOrderNumber: true, model.FieldSerial: true}}}
	p, ok := s7Probe{}.Plan(&tg, &PlanOptions{FillGaps: true})
	if !ok || p.IfOpen || !strings.Contains(p.Why, "firmware unknown") || !strings.Contains(p.Why, "slot 1 only if refused") {
		t.Fatalf("fill gaps: %+v %v", p, ok)
	}
	var szl, connects int
	for _, s := range p.Steps {
		switch s.Kind {
		case KindS7SZLRead:
			szl++
		case KindTCPConnect:
			connects++
		}
		if s.Packets > 5 {
			t.Errorf("step %s bounds %d packets", s.Kind, s.Packets)
		}
	}
	if szl != 3+s7MaxNext || connects != 2 {
		t.Errorf("%d SZL steps, %d connects", szl, connects)
	}
	tg.Known.Fields[model.FieldFirmware] = true
	if _, ok := (s7Probe{}).Plan(&tg, &PlanOptions{FillGaps: true}); ok {
		t.Error("planned with firmware, order number and serial known")
	}
	if _, ok := (s7Probe{}).Plan(&tg, &PlanOptions{}); !ok {
		t.Error("not planned without FillGaps")
	}
	ied := Target{Addr: ip, Asset: &model.Asset{}, Known: Known{TCP: []uint16{102}, Protocols: []string{"iso-tsap", "mms"}}}
	if _, ok := (s7Probe{}).Plan(&ied, &PlanOptions{}); ok {
		t.Error("planned for an MMS server on tcp/102")
	}
	bare := Target{Addr: ip}
	if p, ok := (s7Probe{}).Plan(&bare, &PlanOptions{}); !ok || !p.IfOpen {
		t.Errorf("bare: %+v %v", p, ok)
	}
}

// icsFakeS7 is a scripted ISO-on-TCP peer: answer returns the bytes for a
// request TPKT (nil: close the connection). It records every request.
type icsFakeS7 struct {
	mu   sync.Mutex
	reqs [][]byte
}

func (f *icsFakeS7) start(t *testing.T, addr string, answer func(req []byte) []byte) int {
	t.Helper()
	return serveTCP(t, addr+":0", func(c net.Conn) {
		for {
			// TPKT: the length at 2 counts the whole packet, at most 2048 here
			req, err := readFrame(c, 4, func(h []byte) int {
				if n := int(binary.BigEndian.Uint16(h[2:])); n <= 2048 {
					return n
				}
				return -1
			})
			if err != nil {
				return
			}
			f.mu.Lock()
			f.reqs = append(f.reqs, req)
			f.mu.Unlock()
			a := answer(req)
			if a == nil {
				return
			}
			if _, err := c.Write(a); err != nil {
				return
			}
		}
	})
}

func (f *icsFakeS7) kinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.reqs {
		k, err := dissectS7(r)
		if err != nil {
			out = append(out, "refused:"+err.Error())
			continue
		}
		out = append(out, string(k))
	}
	return out
}

// TestS7RetrySlotAndFragments: slot 2 refused with a DR, slot 1 accepted;
// an SZL answer in fragments is followed at most s7MaxNext times; the
// connection ends with a DR.
func TestS7RetrySlotAndFragments(t *testing.T) {
	const addr = "127.0.0.24"
	var f icsFakeS7
	port := f.start(t, addr, func(req []byte) []byte {
		switch req[5] {
		case 0xe0:
			if req[len(req)-1] == 2 { // called TSAP 0x0102
				return hexBytes(t, "03 00 00 0b 06 80 00 01 00 00 81")
			}
			return hexBytes(t, "03 00 00 16 11 d0 00 01 44 11 00 c0 01 0a c1 02 01 00 c2 02 01 01")
		case 0x80:
			return nil // DR: the CPU closes
		}
		s7 := req[7:]
		if s7[1] == 1 {
			return s7Data(append([]byte{0x32, 3, 0, 0, s7[4], s7[5], 0, 8, 0, 0, 0, 0}, 0xf0, 0, 0, 1, 0, 1, 0, 0xf0))
		}
		par := s7[10:]
		if par[4] == 0x12 { // follow-up: always more, to test the bound
			return s7SZLAnswer(false, 0, 0, par[7], true, make([]byte, 200))
		}
		id := int(binary.BigEndian.Uint16(s7[10+8+4:]))
		return s7SZLAnswer(true, id, 8, 0x21, id == 0x1c, make([]byte, 200))
	})
	ip := netip.MustParseAddr(addr)
	res := icsScan(t, ip, icsAsset(ip, map[uint16]string{102: "s7comm"}), []string{"s7"}, PlanOptions{Ports: map[string]uint16{"s7": uint16(port)}})
	want := []string{
		"tcp.connect", "s7.cotp_connect", "tcp.close",
		"tcp.connect", "s7.cotp_connect", "s7.setup_communication",
		"s7.szl_read", "s7.szl_read", "s7.szl_read", "s7.szl_read", "s7.szl_read",
		"s7.cotp_disconnect", "tcp.close",
	}
	if !slices.Equal(res.kinds(), want) {
		t.Errorf("log %v\nwant %v", res.kinds(), want)
	}
	got := f.kinds()
	wantWire := []string{"s7.cotp_connect", "s7.cotp_connect", "s7.setup_communication",
		"s7.szl_read", "s7.szl_read", "s7.szl_read", "s7.szl_read", "s7.szl_read", "s7.cotp_disconnect"}
	if !slices.Equal(got, wantWire) {
		t.Errorf("wire %v\nwant %v", got, wantWire)
	}
	f.mu.Lock()
	last := f.reqs[len(f.reqs)-1]
	f.mu.Unlock()
	if !bytes.Equal(last, hexBytes(t, "03 00 00 0b 06 80 44 11 00 01 80")) {
		t.Errorf("DR % x: must name the CPU's reference 0x4411", last)
	}
}

// TestS7RefusedTwice: a CPU that refuses both slots gets exactly two
// connects, never a third.
func TestS7RefusedTwice(t *testing.T) {
	const addr = "127.0.0.25"
	var f icsFakeS7
	port := f.start(t, addr, func(req []byte) []byte { return nil })
	ip := netip.MustParseAddr(addr)
	res := icsScan(t, ip, nil, []string{"s7"}, PlanOptions{Ports: map[string]uint16{"s7": uint16(port)}})
	if got := f.kinds(); !slices.Equal(got, []string{"s7.cotp_connect", "s7.cotp_connect"}) {
		t.Errorf("wire %v", got)
	}
	if n := strings.Count(strings.Join(res.kinds(), " "), "tcp.connect"); n != 2 {
		t.Errorf("%d connects: %v", n, res.kinds())
	}
}

// TestS7Snap7 scans the real Snap7 1.3.0 server (npm node-snap7): the
// order number, firmware, names, serial and mode come out as facts.
func TestS7Snap7(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real server")
	}
	script := icsLabFile(t, "node/s7server.js")
	if _, err := exec.LookPath("node"); err != nil {
		testenv.Skip(t, "node is not installed")
	}
	env := []string{"NODE_PATH=" + icsAbs("../../testdata/lab/node_modules")}
	if out, err := exec.Command("node", "-e", "require('node-snap7')").CombinedOutput(); err != nil {
		cmd := exec.Command("node", "-e", "require('node-snap7')")
		cmd.Env = append(os.Environ(), env...)
		if out2, err := cmd.CombinedOutput(); err != nil {
			testenv.Skipf(t, "node-snap7 is not installed: %s %s", bytes.TrimSpace(out), bytes.TrimSpace(out2))
		}
	}
	const addr = "127.0.0.26"
	port := icsFreePort(t, addr)
	icsStartPeer(t, addr, port, env, "node", script, addr, strconv.Itoa(port))
	ip := netip.MustParseAddr(addr)
	scan := func() *icsResult {
		return icsScan(t, ip, nil, []string{"s7"}, PlanOptions{Ports: map[string]uint16{"s7": uint16(port)}})
	}
	var res *icsResult
	if _, err := exec.LookPath("tshark"); err != nil {
		res = scan()
	} else {
		// the capture holds the 8 S7comm frames: setup, 3 SZL reads,
		// their answers
		s7frames := func(file string) int {
			out, _ := exec.Command("tshark", "-r", file, "-d", "tcp.port=="+strconv.Itoa(port)+",tpkt", "-T", "fields",
				"-e", "frame.protocols").Output()
			return strings.Count(string(out), "cotp:s7comm")
		}
		var file string
		res, file = icsScanCaptured(t, addr, func(file string) bool { return s7frames(file) >= 8 }, scan)
		// every request and answer on the wire is well-formed S7comm
		protos := icsTshark(t, file, "-d", "tcp.port=="+strconv.Itoa(port)+",tpkt")
		if n := strings.Count(protos, "cotp:s7comm"); n != 8 { // setup, 3 SZL reads, their answers
			t.Errorf("tshark sees %d S7comm frames:\n%s", n, protos)
		}
	}
	for _, r := range res.recs {
		if r.Error != "" {
			t.Errorf("record with an error: %+v", r)
		}
	}
	res.wantFact(t, model.FieldOrderNumber, "6ES7 315-2EH14-0AB0", "s7comm")
	res.wantFact(t, model.FieldOperatingMode, "RUN", "s7comm")
	for _, f := range []string{model.FieldFirmware, model.FieldSerial, model.FieldStationName, "s7comm.module_name"} {
		if len(res.values(f)) == 0 {
			t.Errorf("no %s fact", f)
		}
	}
	if k := res.kinds(); k[1] != "s7.cotp_connect" || k[len(k)-2] != "s7.cotp_disconnect" || strings.Count(strings.Join(k, " "), "tcp.connect") != 1 {
		t.Errorf("log %v", k)
	}
}

// icsAbs is rel made absolute (relative to the package directory).
func icsAbs(rel string) string {
	wd, _ := os.Getwd()
	return wd + "/" + rel
}

func FuzzDissectS7(f *testing.F) {
	f.Add(s7ConnectRequest(0x0102))
	f.Add(s7SetupRequest(1))
	f.Add(s7SZLRequest(2, 0x11, 0))
	f.Add(s7SZLNextRequest(3, 1))
	f.Add(s7DisconnectRequest(1))
	f.Fuzz(func(t *testing.T, p []byte) {
		k, err := dissectS7(p)
		if err != nil {
			return
		}
		if icsBE16(p[2:]) != len(p) {
			t.Fatalf("accepted a TPKT whose length is not the payload: % x", p)
		}
		if k == KindS7Setup || k == KindS7SZLRead {
			s7 := p[7:]
			fn := s7[10]
			if s7[1] == 1 && fn != 0xf0 || s7[1] == 7 && (s7[10+5] != 0x44 || s7[10+6] != 1) || s7[1] != 1 && s7[1] != 7 {
				t.Fatalf("accepted % x as %s", p, k)
			}
		}
	})
}

func FuzzS7Frame(f *testing.F) {
	f.Add(s7SZLAnswer(true, 0x11, 4, 1, false, make([]byte, 112)))
	f.Add([]byte{3, 0, 0, 0x16, 0x11, 0xd0})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := s7Frame(b)
		if err == nil && n != 0 && n < 7 {
			t.Fatalf("frame length %d", n)
		}
		_ = s7Summary(b)
		_ = s7SZLSummary(true)(b)
		_ = s7SZLSummary(false)(b)
		_, _ = s7ParseSetup(b)
	})
}
