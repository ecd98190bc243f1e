package decode

import (
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
	"otscope/scan/capture"

	"otscope/scan/internal/ber"
)

var (
	ithMACA = net.HardwareAddr{0x00, 0x0c, 0x29, 0, 0, 0x0a}
	ithMACB = net.HardwareAddr{0x00, 0x1b, 0x1b, 0, 0, 0x0b}
	ithIPA  = net.IP{10, 1, 0, 10}
	ithIPB  = net.IP{10, 1, 0, 11}
)

// ithPkt builds a frame from A to B (or B to A when back) carrying payload.
func ithPkt(t testing.TB, udp, back bool, sp, dp uint16, payload []byte) []byte {
	sm, dm, si, di := ithMACA, ithMACB, ithIPA, ithIPB
	if back {
		sm, dm, si, di = dm, sm, di, si
	}
	if udp {
		return frame(t, eth(sm, dm, layers.EthernetTypeIPv4), ip4(si, di, layers.IPProtocolUDP),
			&layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}, gopacket.Payload(payload))
	}
	return frame(t, eth(sm, dm, layers.EthernetTypeIPv4), ip4(si, di, layers.IPProtocolTCP),
		tcpSeg(sp, dp, false, true), gopacket.Payload(payload))
}

// ithFacts decodes frames and returns "ip field=value" facts (detail after " | ").
func ithFacts(t testing.TB, frames ...[]byte) map[string]string {
	d := New(Options{Origin: "test"})
	feed(d, frames...)
	out := map[string]string{}
	for _, o := range d.Flush().Obs {
		if o.Kind == model.ObsFact {
			out[o.Subject.IP.String()+" "+o.Fact.Field+"="+o.Fact.Value] = o.Fact.Detail
		}
	}
	return out
}

func ithExpect(t *testing.T, facts map[string]string, want ...string) {
	t.Helper()
	for _, w := range want {
		if _, ok := facts[w]; !ok {
			var have []string
			for k := range facts {
				have = append(have, k)
			}
			t.Errorf("missing fact %q; have:\n%s", w, strings.Join(have, "\n"))
		}
	}
}

func snmpVarbind(item byte, tag byte, val []byte) []byte {
	return ber.TLV(0x30, ber.TLV(0x06, []byte{0x2b, 6, 1, 2, 1, 1, item, 0}), ber.TLV(tag, val))
}

func snmpMsg(version byte, community string, pdu byte, varbinds ...[]byte) []byte {
	return ber.TLV(0x30, ber.TLV(0x02, []byte{version}), ber.TLV(0x04, []byte(community)),
		ber.TLV(pdu, ber.TLV(0x02, []byte{1}), ber.TLV(0x02, []byte{0}), ber.TLV(0x02, []byte{0}), ber.TLV(0x30, varbinds...)))
}

func TestSNMPResponseSystemGroup(t *testing.T) {
	req := snmpMsg(1, "secret", 0xa0, snmpVarbind(1, 0x05, nil))
	resp := snmpMsg(1, "secret", 0xa2,
		snmpVarbind(1, 0x04, []byte("Siemens, SIMATIC NET, SCALANCE X204-2, 6GK5 204-2BB10-2AA3, HW: 4, FW: V5.2.1")),
		snmpVarbind(2, 0x06, []byte{0x2b, 6, 1, 4, 1, 0xa1, 0x59, 1}), // 1.3.6.1.4.1.4313.1
		snmpVarbind(4, 0x04, []byte("ops@plant")),
		snmpVarbind(5, 0x04, []byte("sw-cell1")),
		snmpVarbind(6, 0x04, []byte("Hall 3")))
	set := snmpMsg(1, "secret", 0xa3, snmpVarbind(6, 0x04, []byte("x")))
	f := ithFacts(t, ithPkt(t, true, false, 40000, 161, req), ithPkt(t, true, true, 161, 40000, resp),
		ithPkt(t, true, false, 40000, 161, set))
	ithExpect(t, f,
		"10.1.0.11 snmp.sys_descr=Siemens, SIMATIC NET, SCALANCE X204-2, 6GK5 204-2BB10-2AA3, HW: 4, FW: V5.2.1",
		"10.1.0.11 order_number=6GK5 204-2BB10-2AA3", "10.1.0.11 product=SCALANCE X204-2",
		"10.1.0.11 firmware=V5.2.1", "10.1.0.11 hardware_version=4",
		"10.1.0.11 snmp.sys_object_id=1.3.6.1.4.1.4313.1",
		"10.1.0.11 snmp.sys_contact=ops@plant", "10.1.0.11 snmp.sys_name=sw-cell1", "10.1.0.11 hostname=sw-cell1",
		"10.1.0.11 snmp.sys_location=Hall 3", "10.1.0.11 snmp.version=2c",
		"10.1.0.10 snmp.function=0xa0 get", "10.1.0.10 snmp.function=0xa3 set")
	if d := f["10.1.0.11 snmp.community=***"]; d != "seen from 10.1.0.10" {
		t.Errorf("community detail %q", d)
	}
	if f["10.1.0.10 snmp.function=0xa3 set"] != "write" {
		t.Error("set is not a write")
	}
	for k := range f {
		if strings.Contains(k, "secret") {
			t.Errorf("community leaked: %s", k)
		}
	}
}

func TestSNMPVendorFromObjectID(t *testing.T) {
	resp := snmpMsg(0, "public", 0xa2, snmpVarbind(2, 0x06, []byte{0x2b, 6, 1, 4, 1, 9, 1, 0x83, 0x6b})) // ciscoSystems
	f := ithFacts(t, ithPkt(t, true, true, 161, 40000, resp))
	ithExpect(t, f, "10.1.0.11 vendor=Cisco", "10.1.0.11 snmp.enterprise=9 Cisco", "10.1.0.11 snmp.version=1",
		"10.1.0.11 snmp.sys_object_id=1.3.6.1.4.1.9.1.491")
}

func TestSNMPv1TrapAgentAddr(t *testing.T) {
	trap := ber.TLV(0x30, ber.TLV(0x02, []byte{0}), ber.TLV(0x04, []byte("public")),
		ber.TLV(0xa4, ber.TLV(0x06, []byte{0x2b, 6, 1, 4, 1, 0x87, 0x69}), // 1.3.6.1.4.1.1001
			ber.TLV(0x40, []byte{10, 1, 0, 99}), ber.TLV(0x02, []byte{6}), ber.TLV(0x02, []byte{1}), ber.TLV(0x43, []byte{1}),
			ber.TLV(0x30, snmpVarbind(5, 0x04, []byte("rtu-7")))))
	f := ithFacts(t, ithPkt(t, true, false, 40000, 162, trap))
	ithExpect(t, f, "10.1.0.10 snmp.trap_agent_addr=10.1.0.99", "10.1.0.99 snmp.sys_name=rtu-7")
	if f["10.1.0.10 snmp.community=*** (default)"] != "seen in a trap to 10.1.0.11" {
		t.Errorf("trap community: %v", f)
	}
}

func TestSNMPv3EngineID(t *testing.T) {
	usm := ber.TLV(0x30, ber.TLV(0x04, []byte{0x80, 0, 0x1f, 0x88, 0x80, 1, 2}), ber.TLV(0x02, []byte{1}), ber.TLV(0x02, []byte{2}),
		ber.TLV(0x04, []byte("user")), ber.TLV(0x04, nil), ber.TLV(0x04, nil))
	msg := func(flags byte, pdu []byte) []byte {
		return ber.TLV(0x30, ber.TLV(0x02, []byte{3}),
			ber.TLV(0x30, ber.TLV(0x02, []byte{1}), ber.TLV(0x02, []byte{0x05, 0xdc}), ber.TLV(0x04, []byte{flags}), ber.TLV(0x02, []byte{3})),
			ber.TLV(0x04, usm), ber.TLV(0x30, ber.TLV(0x04, nil), ber.TLV(0x04, nil), pdu))
	}
	resp := msg(0, ber.TLV(0xa2, ber.TLV(0x02, []byte{1}), ber.TLV(0x02, []byte{0}), ber.TLV(0x02, []byte{0}),
		ber.TLV(0x30, snmpVarbind(1, 0x04, []byte("Linux gw 5.10.0 #1 SMP")))))
	req := msg(4, ber.TLV(0xa3, ber.TLV(0x02, []byte{1}), ber.TLV(0x02, []byte{0}), ber.TLV(0x02, []byte{0}), ber.TLV(0x30)))
	f := ithFacts(t, ithPkt(t, true, false, 40000, 161, req), ithPkt(t, true, true, 161, 40000, resp))
	ithExpect(t, f, "10.1.0.11 snmp.version=3", "10.1.0.11 snmp.engine_id=80001f88800102",
		"10.1.0.11 snmp.sys_descr=Linux gw 5.10.0 #1 SMP", "10.1.0.11 os=Linux 5.10.0", "10.1.0.10 snmp.function=0xa3 set")
}

func TestSNMPMalformedLengths(t *testing.T) {
	bad := [][]byte{
		{0x30, 0x82, 0xff, 0xff, 0x02, 0x01, 0x01},
		{0x30, 0x05, 0x02, 0x84, 0, 0, 0, 1},
		{0x30, 0x03, 0x02, 0x01, 0x01, 0x04, 0x7f},
		{0x30, 0x06, 0x02, 0x01, 0x03, 0x30, 0x7f, 0x00},
	}
	for _, b := range bad {
		f := ithFacts(t, ithPkt(t, true, true, 161, 40000, b))
		for k := range f {
			if strings.Contains(k, "snmp.sys") {
				t.Errorf("fact from malformed packet: %s", k)
			}
		}
	}
}

func TestSNMPOID(t *testing.T) {
	for in, want := range map[string]string{
		"\x2b\x06\x01\x04\x01\x82\x37\x01": "1.3.6.1.4.1.311.1",
		"\x2b":                             "1.3",
		"\x88\x37\x03":                     "2.999.3",
	} {
		if got, ok := snmpOID([]byte(in)); !ok || got != want {
			t.Errorf("oid % x = %q, want %q", in, got, want)
		}
	}
	if _, ok := snmpOID([]byte{0x2b, 0x86}); ok {
		t.Error("unterminated oid accepted")
	}
}

// BenchmarkSNMPPolling: a manager polling interface counters from an agent
// whose system group was already reported; it must not allocate.
func BenchmarkSNMPPolling(b *testing.B) {
	ctr := ber.TLV(0x30, ber.TLV(0x06, []byte{0x2b, 6, 1, 2, 1, 2, 2, 1, 10, 1}), ber.TLV(0x41, []byte{0x12, 0x34, 0x56}))
	req := snmpMsg(1, "public", 0xa0, ber.TLV(0x30, ber.TLV(0x06, []byte{0x2b, 6, 1, 2, 1, 2, 2, 1, 10, 1}), ber.TLV(0x05, nil)))
	resp := snmpMsg(1, "public", 0xa2, ctr, snmpVarbind(5, 0x04, []byte("sw1")))
	frames := [][]byte{ithPkt(b, true, false, 40000, 161, req), ithPkt(b, true, true, 161, 40000, resp)}
	benchFrames(b, frames)
}

func FuzzSNMP(f *testing.F) {
	f.Add(snmpMsg(1, "public", 0xa2, snmpVarbind(5, 0x04, []byte("sw1"))))
	for _, p := range ithSeedPayloads(f, "snmp", 161, 162) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) { ithFuzzParser(t, parseSNMP, true, 161, p) })
}

// ithFuzzParser runs a parser on p in both directions of a fresh flow, and
// checks every fact value is bounded.
func ithFuzzParser(t *testing.T, fn parseFunc, udp bool, port uint16, p []byte) {
	d := New(Options{Origin: "fuzz"})
	fi := &frameInfo{hasMAC: true, src: model.MACFrom(ithMACA), dst: model.MACFrom(ithMACB)}
	f := &flowState{server: 1}
	a, bb := netip.AddrFrom4([4]byte(ithIPA)), netip.AddrFrom4([4]byte(ithIPB))
	for side := 0; side < 2; side++ {
		c := &appCtx{d: d, fi: fi, f: f, side: side, src: a, dst: bb, sp: 40000, dp: port, udp: udp}
		fn(c, p)
		fn(c, p)
	}
	for _, o := range d.Flush().Obs {
		if len(o.Fact.Value) > 4*maxText || len(o.Fact.Detail) > 4*maxText {
			t.Fatalf("unbounded value %d bytes in %s", len(o.Fact.Value), o.Fact.Field)
		}
	}
}

// ithSeedPayloads returns transport payloads from the real captures whose
// port is one of ports (for fuzz seeds).
func ithSeedPayloads(tb testing.TB, dir string, ports ...uint16) [][]byte {
	var out [][]byte
	for _, fr := range ithSeedFrames(tb, dir) {
		pkt := gopacket.NewPacket(fr.data, fr.link, gopacket.Default)
		var sp, dp uint16
		var payload []byte
		if u, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			sp, dp, payload = uint16(u.SrcPort), uint16(u.DstPort), u.Payload
		} else if tc, ok := pkt.Layer(layers.LayerTypeTCP).(*layers.TCP); ok {
			sp, dp, payload = uint16(tc.SrcPort), uint16(tc.DstPort), tc.Payload
		}
		if len(payload) == 0 {
			continue
		}
		for _, p := range ports {
			if sp == p || dp == p {
				out = append(out, payload)
				break
			}
		}
		if len(out) >= 200 {
			break
		}
	}
	return out
}

type ithFrame struct {
	data []byte
	link gopacket.Decoder
}

// ithSeedFrames reads the frames of the captures in ../shared/pcaps/<dir>
// (none when absent).
func ithSeedFrames(tb testing.TB, dir string) []ithFrame {
	files, _ := filepath.Glob(filepath.Join("../../../shared/pcaps", dir, "*"))
	var out []ithFrame
	for _, f := range files {
		src, err := capture.OpenFile(f, capture.Options{})
		if err != nil {
			continue
		}
		for len(out) < 20000 {
			data, _, err := src.ZeroCopyReadPacketData()
			if err != nil {
				break
			}
			out = append(out, ithFrame{append([]byte(nil), data...), src.LinkType()})
		}
		src.Close()
	}
	return out
}

// A community is a password: nothing of it survives the mask, whatever its
// length, and only the factory defaults are marked as such (issue 13, item 16).
func TestSNMPMaskHidesEverything(t *testing.T) {
	for in, want := range map[string]string{
		"k": "***", "ko": "***", "pumpkin": "***", "prv8": "***", "Public": "***", "publicX": "***",
		"public": "*** (default)", "private": "*** (default)",
	} {
		if got := snmpMask([]byte(in)); got != want {
			t.Errorf("snmpMask(%q) = %q, want %q", in, got, want)
		}
		if in != "public" && in != "private" && strings.Contains(snmpMask([]byte(in)), in[:1]) {
			t.Errorf("snmpMask(%q) shows its first letter", in)
		}
	}
}
