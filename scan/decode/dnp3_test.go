package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
)

// Shared helpers of the scada-other parser tests (DNP3, IEC 104, OPC UA,
// FINS, ADS, HART-IP).

var (
	soClientIP  = netip.MustParseAddr("10.20.0.10")
	soServerIP  = netip.MustParseAddr("10.20.0.20")
	soClientMAC = model.MAC{0x02, 0, 0, 0, 0, 0x10}
	soServerMAC = model.MAC{0x02, 0, 0, 0, 0, 0x20}
)

// soFlow is a flow whose side 1 is the server.
type soFlow struct {
	d   *Decoder
	f   flowState
	fi  frameInfo
	udp bool
	sp  uint16 // server port
}

func newSOFlow(port uint16, udp bool) *soFlow {
	return &soFlow{d: New(Options{Origin: "test"}), f: flowState{server: 1}, udp: udp, sp: port}
}

// send runs parse on p as sent by the client (fromServer false) or server.
func (s *soFlow) send(parse parseFunc, fromServer bool, p []byte) {
	side := 0
	src, dst, sm, dm, sp, dp := soClientIP, soServerIP, soClientMAC, soServerMAC, uint16(50000), s.sp
	if fromServer {
		side = 1
		src, dst, sm, dm, sp, dp = dst, src, dm, sm, dp, sp
	}
	s.fi = frameInfo{src: sm, dst: dm, hasMAC: true}
	c := appCtx{d: s.d, fi: &s.fi, f: &s.f, side: side, src: src, dst: dst, sp: sp, dp: dp, udp: s.udp}
	parse(&c, p)
}

// facts returns field -> values of the facts about ip.
func (s *soFlow) facts(ip netip.Addr) map[string][]string {
	out := map[string][]string{}
	for _, o := range s.d.Flush().Obs {
		if o.Kind == model.ObsFact && o.Subject.IP == ip {
			soAddFact(out, o)
		}
	}
	return out
}

// sides flushes once and returns field -> values of the facts about the
// server (sv) and about anything else (cl).
func (s *soFlow) sides() (cl, sv map[string][]string) {
	cl, sv = map[string][]string{}, map[string][]string{}
	for _, o := range s.d.Flush().Obs {
		if o.Kind != model.ObsFact {
			continue
		}
		if o.Subject.IP == soServerIP {
			soAddFact(sv, o)
		} else {
			soAddFact(cl, o)
		}
	}
	return cl, sv
}

// soAddFact files o's value under its field, prefixed "sub|" when the fact
// is about a sub-device.
func soAddFact(m map[string][]string, o model.Observation) {
	k := o.Fact.Field
	if o.Subject.Sub != "" {
		k = o.Subject.Sub + "|" + k
	}
	m[k] = append(m[k], o.Fact.Value)
}

func soWantFact(t *testing.T, got map[string][]string, field, value string) {
	t.Helper()
	for _, v := range got[field] {
		if v == value {
			return
		}
	}
	t.Errorf("fact %s = %q missing (have %q)", field, value, got[field])
}

// dnp3Build builds a link frame with CRCs around user data.
func dnp3Build(ctrl byte, dst, src uint16, user []byte) []byte {
	h := []byte{0x05, 0x64, byte(5 + len(user)), ctrl, byte(dst), byte(dst >> 8), byte(src), byte(src >> 8)}
	out := binary.LittleEndian.AppendUint16(h, dnp3CRC(h))
	for len(user) > 0 {
		n := min(16, len(user))
		out = append(out, user[:n]...)
		out = binary.LittleEndian.AppendUint16(out, dnp3CRC(user[:n]))
		user = user[n:]
	}
	return out
}

func TestDNP3AddressesRolesFunctions(t *testing.T) {
	s := newSOFlow(20000, false)
	// master 3 -> outstation 4: read class 0 (transport FIR|FIN, AC, FC 1, g60v1 q06)
	s.send(parseDNP3, false, dnp3Build(0xc4, 4, 3, []byte{0xc0, 0xc1, 0x01, 60, 1, 0x06}))
	// direct operate in the same segment as a second read
	two := append(dnp3Build(0xc4, 4, 3, []byte{0xc0, 0xc2, 0x05, 12, 1, 0x28, 1, 0, 0, 0, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}), dnp3Build(0xc4, 4, 3, []byte{0xc1, 0xc3, 0x01, 60, 2, 0x06})...)
	s.send(parseDNP3, false, two)
	// outstation 4 answers with device attributes g0v252 (vendor), v250 (product), v242 (sw), v248 (serial)
	app := []byte{0xc0, 0xc1, 0x81, 0x00, 0x00}
	for _, a := range []struct {
		v byte
		s string
	}{{252, "ACME Controls"}, {250, "RTU-5000"}, {242, "4.2.1"}, {248, "SN12345"}, {243, "B"}, {247, "sub-north"}} {
		app = append(app, 0, a.v, 0x00, 0, 0, 1, byte(len(a.s)))
		app = append(app, a.s...)
	}
	app = append(app, 0, 240, 0x00, 0, 0, 2, 2, 0x00, 0x08) // g0v240 UINT 2048: not mapped
	s.send(parseDNP3, true, dnp3Build(0x44, 3, 4, app))
	m := s.facts(soClientIP)
	soWantFact(t, m, model.FieldDNP3Address, "3")
	soWantFact(t, m, model.FieldRole, model.RoleSCADA)
	soWantFact(t, m, FieldDNP3Function, "0x01 read")
	soWantFact(t, m, FieldDNP3Function, "0x05 direct operate")
	if len(m[FieldDNP3Function]) != 2 {
		t.Errorf("functions %q: want each once", m[FieldDNP3Function])
	}
	// the facts of the outstation were flushed with the same batch: decode again
	s = newSOFlow(20000, false)
	s.send(parseDNP3, true, dnp3Build(0x44, 3, 4, app))
	o := s.facts(soServerIP)
	soWantFact(t, o, model.FieldDNP3Address, "4")
	soWantFact(t, o, model.FieldRole, model.RoleRTU)
	soWantFact(t, o, model.FieldVendor, "ACME Controls")
	soWantFact(t, o, model.FieldProduct, "RTU-5000")
	soWantFact(t, o, model.FieldFirmware, "4.2.1")
	soWantFact(t, o, model.FieldSerial, "SN12345")
	soWantFact(t, o, model.FieldHardwareVersion, "B")
	soWantFact(t, o, model.FieldStationName, "sub-north")
}

func TestDNP3RejectsBadCRCAndBounds(t *testing.T) {
	s := newSOFlow(20000, false)
	f := dnp3Build(0x44, 3, 4, []byte{0xc0, 0xc1, 0x81, 0, 0})
	f[8] ^= 0xff // header CRC
	s.send(parseDNP3, true, f)
	// length field larger than the segment, and a length below 5
	s.send(parseDNP3, true, []byte{0x05, 0x64, 0xff, 0x44, 3, 0, 4, 0, 0, 0})
	s.send(parseDNP3, true, []byte{0x05, 0x64, 0x02, 0x44, 3, 0, 4, 0, 0, 0})
	if m := s.facts(soServerIP); len(m[model.FieldDNP3Address]) != 0 {
		t.Errorf("address from a frame with a bad CRC: %q", m[model.FieldDNP3Address])
	}
	if s.d.stats.DecodeErrors == 0 {
		t.Error("bad frames not counted")
	}
}

func FuzzDNP3(f *testing.F) {
	f.Add(dnp3Build(0xc4, 4, 3, []byte{0xc0, 0xc1, 0x01, 60, 1, 0x06}), true)
	f.Add(dnp3Build(0x44, 3, 4, []byte{0xc0, 0xc1, 0x81, 0, 0, 0, 252, 0, 0, 0, 1, 4, 'A', 'C', 'M', 'E'}), false)
	soFuzz(f, parseDNP3, 20000, false, "dnp3")
}

// soFuzz seeds f with the payloads on port in ../shared/pcaps/<dir> and
// fuzzes parse with arbitrary payloads from either side of one flow.
func soFuzz(f *testing.F, parse parseFunc, port uint16, udp bool, dir string) {
	for _, p := range soSeedPayloads(f, port, dir) {
		f.Add(p, false)
	}
	f.Fuzz(func(t *testing.T, p []byte, fromServer bool) {
		soFuzzOne(t, parse, port, udp, fromServer, p)
	})
}

// soFuzzOne parses p on a fresh flow: no panic, no unbounded fact value.
func soFuzzOne(t *testing.T, parse parseFunc, port uint16, udp, fromServer bool, p []byte) {
	s := newSOFlow(port, udp)
	s.send(parse, fromServer, p)
	soCheckBounded(t, s)
}

// soCheckBounded fails on unbounded fact values.
func soCheckBounded(t *testing.T, s *soFlow) {
	for _, o := range s.d.Flush().Obs {
		if len(o.Fact.Value) > 4*maxText {
			t.Fatalf("unbounded fact value (%d bytes)", len(o.Fact.Value))
		}
	}
}

// soSeedPayloads returns TCP/UDP payloads to or from port in the captures of
// ../shared/pcaps/<dir> (for the fuzzers' seed corpus).
func soSeedPayloads(tb testing.TB, port uint16, dirs ...string) [][]byte {
	var out [][]byte
	for _, dir := range dirs {
		for _, path := range soCaptures(dir) {
			out = append(out, soPayloads(tb, path, port, 64)...)
		}
	}
	return out
}

// soBenchFrames builds n request/response frame pairs of a TCP conversation
// on port, with the given payloads.
func soBenchFrames(b *testing.B, port uint16, req, resp []byte) [][]byte {
	var frames [][]byte
	for i := 0; i < 50; i++ {
		cm := []byte{0x02, 0, 0, 1, 0, byte(i)}
		sm := []byte{0x02, 0, 0, 2, 0, byte(i)}
		cip := []byte{10, 30, 2, byte(i + 1)}
		sip := []byte{10, 30, 1, byte(i + 1)}
		frames = append(frames,
			frame(b, eth(cm, sm, layers.EthernetTypeIPv4), ip4(cip, sip, layers.IPProtocolTCP), tcpSeg(40000+uint16(i), port, false, true), gopacket.Payload(req)),
			frame(b, eth(sm, cm, layers.EthernetTypeIPv4), ip4(sip, cip, layers.IPProtocolTCP), tcpSeg(port, 40000+uint16(i), false, true), gopacket.Payload(resp)))
	}
	return frames
}

// BenchmarkDNP3Polling: class 0 reads and analog responses (the hot path).
func BenchmarkDNP3Polling(b *testing.B) {
	req := dnp3Build(0xc4, 4, 3, []byte{0xc0, 0xc1, 0x01, 60, 1, 0x06})
	resp := dnp3Build(0x44, 3, 4, []byte{0xc0, 0xc1, 0x81, 0, 0, 30, 2, 0x00, 0, 3, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0})
	benchFrames(b, soBenchFrames(b, 20000, req, resp))
}
