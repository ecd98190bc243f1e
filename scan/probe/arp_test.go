package probe

import (
	"bytes"
	"net/netip"
	"testing"

	"otscope/model"
)

var (
	arpTestMAC    = model.MAC{0x02, 0x42, 0xac, 0x11, 0x00, 0x01}
	arpTestLocal  = netip.MustParseAddr("10.99.0.1")
	arpTestTarget = netip.MustParseAddr("10.99.0.2")
)

func TestARPRequestBytes(t *testing.T) {
	got := arpRequestFrame(arpTestMAC, arpTestLocal, arpTestTarget)
	want := []byte{
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // broadcast
		0x02, 0x42, 0xac, 0x11, 0x00, 0x01, // from us
		0x08, 0x06, // ARP
		0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, // Ethernet, IPv4, request
		0x02, 0x42, 0xac, 0x11, 0x00, 0x01, 10, 99, 0, 1, // sender
		0, 0, 0, 0, 0, 0, 10, 99, 0, 2, // target
	}
	want = append(want, make([]byte, 18)...) // padding to 60
	if !bytes.Equal(got, want) {
		t.Errorf("ARP request\n got % x\nwant % x", got, want)
	}
}

func TestARPDissector(t *testing.T) {
	req := arpRequestFrame(arpTestMAC, arpTestLocal, arpTestTarget)
	set := func(off int, v ...byte) []byte {
		return itCopy(req, func(c []byte) []byte { copy(c[off:], v); return c })
	}
	itCheckDissector(t, "arp", []itDissectCase{
		{"request", req, KindARPRequest},
		{"unpadded", req[:42], KindARPRequest},
		{"probe from 0.0.0.0", set(28, 0, 0, 0, 0), KindARPRequest},
		{"short", req[:40], ""},
		{"reply", set(20, 0, 2), ""},
		{"unicast destination", set(0, 0x02, 0, 0, 0, 0, 2), ""},
		{"gratuitous", set(28, 10, 99, 0, 2), ""},
		{"target MAC set", set(32, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), ""},
		{"sender MAC is not the source", set(22, 0x02, 0, 0, 0, 0, 9), ""},
		{"multicast sender", set(6, 0x01, 0, 0x5e, 0, 0, 1), ""},
		{"VLAN tag", append(append(append([]byte(nil), req[:12]...), 0x81, 0x00, 0x00, 0x0a), req[12:56]...), ""},
		{"IPv6 protocol type", set(16, 0x86, 0xdd), ""},
		{"target broadcast", set(38, 255, 255, 255, 255), ""},
		{"target multicast", set(38, 224, 0, 0, 1), ""},
		{"target 0.0.0.0", set(38, 0, 0, 0, 0), ""},
		{"non-zero padding", set(50, 0x41), ""},
		{"long frame", append(append([]byte(nil), req...), 0), ""},
	})
}

func TestARPMatch(t *testing.T) {
	reply := arpRequestFrame(model.MAC{0x00, 0x0e, 0x8c, 1, 2, 3}, arpTestTarget, arpTestLocal)
	copy(reply[:6], arpTestMAC[:])
	reply[21] = 2
	m := arpMatch(arpTestTarget)
	if !m(reply) {
		t.Error("the target's reply does not match")
	}
	if m(arpRequestFrame(arpTestMAC, arpTestLocal, arpTestTarget)) {
		t.Error("our own request matches")
	}
	other := itCopy(reply, func(c []byte) []byte { c[31] = 7; return c })
	if m(other) || m(reply[:30]) {
		t.Error("another host's reply or a cut frame matches")
	}
}

func TestARPPlan(t *testing.T) {
	if _, ok := (arpProbe{}).Plan(&Target{Addr: netip.MustParseAddr("127.0.0.2")}, &PlanOptions{}); ok {
		t.Error("ARP planned for a loopback target")
	}
	if _, ok := (arpProbe{}).Plan(&Target{Addr: netip.MustParseAddr("fd00::1")}, &PlanOptions{}); ok {
		t.Error("ARP planned for IPv6")
	}
}

func FuzzDissectARP(f *testing.F) {
	f.Add(arpRequestFrame(arpTestMAC, arpTestLocal, arpTestTarget))
	f.Fuzz(func(t *testing.T, p []byte) {
		if _, err := dissectARP(p); err != nil {
			return
		}
		if p[0] != 0xff || p[21] != 1 || bytes.Equal(p[28:32], p[38:42]) {
			t.Fatalf("accepted % x", p)
		}
		_ = arpMatch(arpTestTarget)(p)
	})
}

func TestARPTshark(t *testing.T) {
	itTshark(t, [][]byte{arpRequestFrame(arpTestMAC, arpTestLocal, arpTestTarget)}, []string{"arp"})
}
