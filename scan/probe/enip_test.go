package probe

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"otscope/model"
	"otscope/scan/probe/sim"
)

func TestENIPRequestBytes(t *testing.T) {
	cases := []struct {
		name string
		got  []byte
		want string
		kind Kind
	}{
		// command 0x0063, length 0, session 0, status 0, sender context 1, options 0
		{"ListIdentity", enipRequest(enipListIdentity, 0, 1, nil),
			"63 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 00 00 00 00 00 00 00 00", KindENIPListIdentity},
		{"ListServices", enipRequest(enipListServices, 0, 2, nil),
			"04 00 00 00 00 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00", KindENIPListServices},
		// length 4: protocol version 1, options 0
		{"RegisterSession", enipRequest(enipRegister, 0, 3, []byte{1, 0, 0, 0}),
			"65 00 04 00 00 00 00 00 00 00 00 00 03 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00", KindENIPRegisterSession},
		// session 0x11223344 | interface handle 0, timeout 10, 2 items: null
		// address (type 0, len 0), unconnected data (0xb2, len 6): service
		// 0x01, path 2 words: class 1, instance 1
		{"SendRRData Get_Attributes_All", enipRequest(enipSendRRData, 0x11223344, 4, enipGetIdentity()),
			"6f 00 16 00 44 33 22 11 00 00 00 00 04 00 00 00 00 00 00 00 00 00 00 00 " +
				"00 00 00 00 0a 00 02 00 00 00 00 00 b2 00 06 00 01 02 20 01 24 01", KindCIPGetAttributeAll},
		{"UnRegisterSession", enipRequest(enipUnregister, 0x11223344, 5, nil),
			"66 00 00 00 44 33 22 11 00 00 00 00 05 00 00 00 00 00 00 00 00 00 00 00", KindENIPUnregisterSession},
	}
	for _, c := range cases {
		if want := hexBytes(t, c.want); !bytes.Equal(c.got, want) {
			t.Errorf("%s:\n got % x\nwant % x", c.name, c.got, want)
		}
		if err := Check("enip", c.kind, c.got); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

// enipCIP wraps a CIP request in SendRRData.
func enipCIP(cip ...byte) []byte {
	d := []byte{0, 0, 0, 0, 10, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0, byte(len(cip)), 0}
	return enipRequest(enipSendRRData, 7, 1, append(d, cip...))
}

func TestENIPDissector(t *testing.T) {
	ok := [][]byte{
		enipCIP(0x01, 2, 0x20, 0x01, 0x24, 0x01),
		enipCIP(0x01, 4, 0x21, 0, 0x01, 0, 0x25, 0, 0x01, 0), // 16-bit segments
	}
	for _, p := range ok {
		if k, err := dissectENIP(p); k != KindCIPGetAttributeAll || err != nil {
			t.Errorf("% x: %v %v", p, k, err)
		}
	}
	status := enipRequest(enipListIdentity, 0, 1, nil)
	status[8] = 1
	options := enipRequest(enipListIdentity, 0, 1, nil)
	options[20] = 1
	badLen := enipRequest(enipListIdentity, 0, 1, nil)
	badLen[2] = 4
	threeItems := enipRequest(enipSendRRData, 7, 1, []byte{0, 0, 0, 0, 10, 0, 3, 0, 0, 0, 0, 0, 0xb2, 0, 6, 0, 1, 2, 0x20, 1, 0x24, 1, 0, 0, 0, 0})
	connected := enipRequest(enipSendRRData, 7, 1, []byte{0, 0, 0, 0, 10, 0, 2, 0, 0xa1, 0, 4, 0, 1, 0, 0, 0, 0xb1, 0, 8, 0, 1, 0, 1, 2, 0x20, 1, 0x24, 1})
	handle := enipCIP(0x01, 2, 0x20, 0x01, 0x24, 0x01)
	handle[24] = 1
	refused := []struct {
		name string
		p    []byte
	}{
		{"Set_Attribute_List 0x04", enipCIP(0x04, 2, 0x20, 0x01, 0x24, 0x01, 1, 0, 7, 0, 1)},
		{"Set_Attribute_Single 0x10", enipCIP(0x10, 3, 0x20, 0xf5, 0x24, 0x01, 0x30, 0x06, 4, 'N', 'A', 'M', 'E')},
		{"Reset 0x05", enipCIP(0x05, 2, 0x20, 0x01, 0x24, 0x01)},
		{"Forward_Open 0x54", enipCIP(0x54, 2, 0x20, 0x06, 0x24, 0x01, 0x0a, 0x0e)},
		{"Unconnected_Send 0x52", enipCIP(0x52, 2, 0x20, 0x06, 0x24, 0x01, 0x0a, 0x0e, 6, 0, 0x01, 2, 0x20, 1, 0x24, 1, 1, 0, 1, 0)},
		{"Get_Attribute_Single 0x0e", enipCIP(0x0e, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07)},
		{"Multiple_Service_Packet 0x0a", enipCIP(0x0a, 2, 0x20, 0x02, 0x24, 0x01, 1, 0, 4, 0, 1, 2, 0x20, 1, 0x24, 1)},
		{"Write_Tag 0x4d", enipCIP(0x4d, 3, 0x91, 4, 'T', 'A', 'G', '1', 0xc4, 0, 1, 0, 0, 0, 0, 0)},
		{"Get_Attributes_All of class 2", enipCIP(0x01, 2, 0x20, 0x02, 0x24, 0x01)},
		{"Get_Attributes_All of instance 2", enipCIP(0x01, 2, 0x20, 0x01, 0x24, 0x02)},
		{"Get_Attributes_All with data", enipCIP(0x01, 2, 0x20, 0x01, 0x24, 0x01, 0)},
		{"Get_Attributes_All with an attribute segment", enipCIP(0x01, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x01)},
		{"SendUnitData", enipRequest(enipSendUnitData, 7, 1, []byte{0, 0, 0, 0, 0, 0, 2, 0, 0xa1, 0, 4, 0, 1, 0, 0, 0, 0xb1, 0, 2, 0, 1, 0})},
		{"ListInterfaces", enipRequest(0x64, 0, 1, nil)},
		{"IndicateStatus", enipRequest(0x72, 0, 1, nil)},
		{"RegisterSession version 2", enipRequest(enipRegister, 0, 1, []byte{2, 0, 0, 0})},
		{"RegisterSession with options", enipRequest(enipRegister, 0, 1, []byte{1, 0, 1, 0})},
		{"ListIdentity with data", enipRequest(enipListIdentity, 0, 1, []byte{0, 0})},
		{"UnRegisterSession with data", enipRequest(enipUnregister, 7, 1, []byte{0})},
		{"status not 0", status},
		{"options not 0", options},
		{"length mismatch", badLen},
		{"trailing bytes", append(enipRequest(enipListIdentity, 0, 1, nil), 0)},
		{"three items", threeItems},
		{"connected address item", connected},
		{"interface handle 1", handle},
		{"short", []byte{0x63, 0, 0, 0}},
	}
	for _, c := range refused {
		if k, err := dissectENIP(c.p); err == nil {
			t.Errorf("%s: accepted as %s", c.name, k)
		}
		for _, claim := range []Kind{KindENIPListIdentity, KindENIPListServices, KindENIPRegisterSession, KindENIPUnregisterSession, KindCIPGetAttributeAll} {
			if Check("enip", claim, c.p) == nil {
				t.Errorf("%s: Check accepts it as %s", c.name, claim)
			}
		}
	}
}

func TestENIPFrameAndSummary(t *testing.T) {
	f := enipFrame(enipRegister)
	ans := enipRequest(enipRegister, 0x1234, 3, []byte{1, 0, 0, 0})
	for i := range 4 {
		if n, err := f(ans[:i]); n != 0 || err != nil {
			t.Errorf("short %d: %d %v", i, n, err)
		}
	}
	if n, err := f(ans); n != len(ans) || err != nil {
		t.Errorf("exact: %d %v", n, err)
	}
	if n, err := f(append(slices.Clone(ans), 0x65, 0)); n != len(ans) || err != nil {
		t.Errorf("long: %d %v", n, err)
	}
	if _, err := f([]byte("<html>")); err == nil {
		t.Error("garbage framed")
	}
	huge := slices.Clone(ans)
	huge[2], huge[3] = 0xff, 0xff
	if n, err := f(huge); n != 24+0xffff || err != nil {
		t.Errorf("huge: %d %v (the session refuses lengths above MaxAnswer)", n, err)
	}
	if s := enipSummary(ans); s != "session 0x00001234" {
		t.Errorf("register summary %q", s)
	}
	st := slices.Clone(ans)
	st[8] = 0x69
	if s := enipSummary(st); s != "enip: status 0x69" {
		t.Errorf("status summary %q", s)
	}
	cip := []byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0, 6, 0, 0x81, 0, 0x08, 0, 0, 0}
	if s := enipSummary(enipRequest(enipSendRRData, 1, 1, cip)); s != "CIP service 0x81, status 0x08" {
		t.Errorf("CIP summary %q", s)
	}
}

func TestENIPPlan(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.9")
	both := Target{Addr: ip, Asset: &model.Asset{}, Known: Known{TCP: []uint16{44818}, UDP: []uint16{44818}, Protocols: []string{"enip"}}}
	p, ok := enipProbe{}.Plan(&both, &PlanOptions{})
	if !ok || p.Transport != UDP || p.IfOpen || p.Steps[0].Kind != KindENIPListIdentity || p.Steps[1].Kind != KindTCPConnect {
		t.Fatalf("known: %+v %v", p, ok)
	}
	if p.Steps[2].Kind != KindENIPListIdentity {
		t.Errorf("no TCP fallback step with tcp/44818 known open: %+v", p.Steps)
	}
	udpOnly := Target{Addr: ip, Asset: &model.Asset{}, Known: Known{UDP: []uint16{44818}}}
	if p, ok := (enipProbe{}).Plan(&udpOnly, &PlanOptions{}); !ok || p.Steps[2].Kind != KindENIPListServices || !strings.Contains(p.Why, "udp/44818") {
		t.Errorf("udp only: %+v %v", p, ok)
	}
	bare := Target{Addr: ip}
	if p, ok := (enipProbe{}).Plan(&bare, &PlanOptions{}); !ok || !p.IfOpen || p.Transport != TCP || p.Steps[1].Kind != KindENIPListIdentity {
		t.Errorf("bare: %+v %v", p, ok)
	}
	both.Known.Fields = map[string]bool{model.FieldCIPVendorID: true, model.FieldCIPProductCode: true, model.FieldSerial: true, model.FieldFirmware: true}
	if _, ok := (enipProbe{}).Plan(&both, &PlanOptions{FillGaps: true}); ok {
		t.Error("planned with the identity known")
	}
}

// enipWant checks the identity of sim.DefaultENIP came out as active facts.
func enipWant(t *testing.T, res *icsResult) {
	t.Helper()
	res.wantFact(t, model.FieldCIPVendorID, "1", "enip")
	res.wantFact(t, model.FieldVendor, "Rockwell Automation/Allen-Bradley", "enip")
	res.wantFact(t, model.FieldCIPProductCode, "55", "enip")
	res.wantFact(t, model.FieldProduct, "1756-L61/B LOGIX5561", "enip")
	res.wantFact(t, model.FieldSerial, "0x60a1b2c3", "enip")
	res.wantFact(t, model.FieldFirmware, "20.11", "enip")
	res.wantFact(t, model.FieldRole, model.RolePLC, "enip")
}

// TestENIPSim: UDP ListIdentity, then ListServices, a session and
// Get_Attributes_All over TCP, against the project's simulator (there is no
// installable EtherNet/IP device here).
func TestENIPSim(t *testing.T) {
	const addr = "127.0.0.28"
	s, err := sim.ListenENIP(addr+":0", sim.DefaultENIP())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	port := uint16(s.Addr().(*net.TCPAddr).Port)
	ip := netip.MustParseAddr(addr)
	a := icsAsset(ip, map[uint16]string{port: "enip"})
	a.Services = append(a.Services, model.Service{Transport: "udp", Port: port, Protocol: "enip"})
	res := icsScan(t, ip, a, []string{"enip"}, PlanOptions{Ports: map[string]uint16{"enip": port}})
	want := []string{"enip.list_identity", "tcp.connect", "enip.list_services", "enip.register_session",
		"cip.get_attribute_all", "enip.unregister_session", "tcp.close"}
	if !slices.Equal(res.kinds(), want) {
		t.Errorf("log %v\nwant %v", res.kinds(), want)
	}
	if res.recs[0].Transport != "udp" || res.recs[0].Answer != "1 identity items" {
		t.Errorf("UDP record %+v", res.recs[0])
	}
	if got := s.Requests(); !slices.Equal(got, []string{"udp 0x0063", "tcp 0x0004", "tcp 0x0065", "tcp 0x006f", "tcp 0x0066"}) {
		t.Errorf("simulator saw %v", got)
	}
	for _, r := range res.recs {
		if r.Error != "" {
			t.Errorf("record with an error: %+v", r)
		}
	}
	enipWant(t, res)
}

// TestENIPSimTCPFallback: UDP filtered (silence) and tcp/44818 known open:
// ListIdentity goes over TCP after the UDP timeout (and one retransmission).
func TestENIPSimTCPFallback(t *testing.T) {
	const addr = "127.0.0.29"
	s, err := sim.ListenENIPTCP(addr+":0", sim.DefaultENIP())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	port := s.Addr().(*net.TCPAddr).Port
	// a UDP socket that swallows datagrams: a filtered port, no ICMP
	pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ip := netip.MustParseAddr(addr)
	res := icsScan(t, ip, icsAsset(ip, map[uint16]string{uint16(port): "enip"}), []string{"enip"},
		PlanOptions{Ports: map[string]uint16{"enip": uint16(port)}})
	want := []string{"enip.list_identity", "tcp.connect", "enip.list_identity", "enip.list_services",
		"enip.register_session", "cip.get_attribute_all", "enip.unregister_session", "tcp.close"}
	if !slices.Equal(res.kinds(), want) {
		t.Errorf("log %v\nwant %v", res.kinds(), want)
	}
	if r := res.recs[0]; r.Answer != "timeout" || r.Packets != 2 {
		t.Errorf("UDP record %+v: want a timeout after the datagram and one retransmission", r)
	}
	enipWant(t, res)
}

// TestENIPSimIfOpen: nothing known of the host, so no blind UDP: the TCP
// connect succeeds and everything goes over TCP; a closed port ends it at
// the connect.
func TestENIPSimIfOpen(t *testing.T) {
	const addr = "127.0.0.30"
	s, err := sim.ListenENIP(addr+":0", sim.DefaultENIP())
	if err != nil {
		t.Fatal(err)
	}
	port := uint16(s.Addr().(*net.TCPAddr).Port)
	ip := netip.MustParseAddr(addr)
	res := icsScan(t, ip, nil, []string{"enip"}, PlanOptions{Ports: map[string]uint16{"enip": port}})
	want := []string{"tcp.connect", "enip.list_identity", "enip.list_services",
		"enip.register_session", "cip.get_attribute_all", "enip.unregister_session", "tcp.close"}
	if !slices.Equal(res.kinds(), want) {
		t.Errorf("log %v\nwant %v", res.kinds(), want)
	}
	for _, r := range s.Requests() {
		if strings.HasPrefix(r, "udp") {
			t.Errorf("blind UDP to a host nothing is known of: %s", r)
		}
	}
	enipWant(t, res)
	s.Close()
	res = icsScan(t, ip, nil, []string{"enip"}, PlanOptions{Ports: map[string]uint16{"enip": port}})
	if k := res.kinds(); !slices.Equal(k, []string{"tcp.connect"}) || res.recs[0].Answer != "refused" {
		t.Errorf("closed port: %v %+v", k, res.recs)
	}
}

func FuzzDissectENIP(f *testing.F) {
	f.Add(enipRequest(enipListIdentity, 0, 1, nil))
	f.Add(enipRequest(enipRegister, 0, 1, []byte{1, 0, 0, 0}))
	f.Add(enipRequest(enipSendRRData, 9, 1, enipGetIdentity()))
	f.Add(enipCIP(0x10, 3, 0x20, 0xf5, 0x24, 0x01, 0x30, 0x06))
	f.Fuzz(func(t *testing.T, p []byte) {
		k, err := dissectENIP(p)
		if err != nil {
			return
		}
		if icsLE16(p[2:]) != len(p)-24 {
			t.Fatalf("accepted a bad length: % x", p)
		}
		if k == KindCIPGetAttributeAll {
			cip := p[24+16:]
			if cip[0] != 0x01 || uint16(icsLE16(p)) != enipSendRRData {
				t.Fatalf("accepted % x as Get_Attributes_All", p)
			}
		}
	})
}

func FuzzENIPFrame(f *testing.F) {
	f.Add(enipRequest(enipRegister, 1, 1, []byte{1, 0, 0, 0}))
	f.Add(enipRequest(enipSendRRData, 1, 1, []byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0, 4, 0, 0x81, 0, 0, 0}))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := enipFrame(enipSendRRData)(b)
		if err == nil && n != 0 && n < 24 {
			t.Fatalf("frame length %d", n)
		}
		_ = enipSummary(b)
		_, _, _ = enipParse(b, enipListIdentity)
	})
}
