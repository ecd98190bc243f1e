package probe

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"testing"

	"otscope/model"
)

func TestDCPRequestBytes(t *testing.T) {
	got := dcpIdentifyFrame(dcpMulticast, arpTestMAC, 0x01020304, 64, "")
	want := []byte{
		0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00, // DCP identify multicast
		0x02, 0x42, 0xac, 0x11, 0x00, 0x01, // from us
		0x88, 0x92, // PROFINET
		0xfe, 0xfe, // FrameID: Identify request
		0x05, 0x00, // service Identify, request
		0x01, 0x02, 0x03, 0x04, // xid
		0x00, 0x40, // response delay factor 64
		0x00, 0x04, // DCP data length
		0xff, 0xff, 0x00, 0x00, // All selector
	}
	want = append(want, make([]byte, 60-len(want))...)
	if !bytes.Equal(got, want) {
		t.Errorf("Identify-All\n got % x\nwant % x", got, want)
	}
	named := dcpIdentifyFrame(dcpMulticast, arpTestMAC, 1, 1, "plc-a")
	if !bytes.Equal(named[24:36], []byte{0x00, 0x0a, 0x02, 0x02, 0x00, 0x05, 'p', 'l', 'c', '-', 'a', 0x00}) {
		t.Errorf("name-of-station filter % x", named[24:36])
	}
}

func TestDCPDissector(t *testing.T) {
	all := dcpIdentifyFrame(dcpMulticast, arpTestMAC, 7, 64, "")
	set := func(off int, v ...byte) []byte {
		return itCopy(all, func(c []byte) []byte { copy(c[off:], v); return c })
	}
	long := dcpIdentifyFrame(dcpMulticast, arpTestMAC, 7, 64, string(bytes.Repeat([]byte("a"), 60)))
	itCheckDissector(t, "dcp", []itDissectCase{
		{"identify all", all, KindDCPIdentify},
		{"identify by name", dcpIdentifyFrame(dcpMulticast, arpTestMAC, 7, 1, "press-line-a"), KindDCPIdentify},
		{"identify by odd name", dcpIdentifyFrame(dcpMulticast, arpTestMAC, 7, 1, "plc-a"), KindDCPIdentify},
		{"identify by long name", long, KindDCPIdentify},
		{"short", all[:28], ""},
		{"unicast destination", set(0, 0x00, 0x0e, 0x8c, 1, 2, 3), KindDCPIdentify},
		{"other multicast destination", set(0, 0x01, 0x0e, 0xcf, 0, 0, 1), ""},
		{"zero destination", set(0, 0, 0, 0, 0, 0, 0), ""},
		{"broadcast destination", set(0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), ""},
		{"not PROFINET", set(12, 0x08, 0x00), ""},
		{"identify response", set(14, 0xfe, 0xff), ""},
		{"get/set frame", set(14, 0xfe, 0xfd), ""},
		{"hello frame", set(14, 0xfe, 0xfc), ""},
		{"set service", set(16, 0x04, 0x00), ""},
		{"get service", set(16, 0x03, 0x00), ""},
		{"response type", set(17, 0x01), ""},
		{"delay 0", set(22, 0, 0), ""},
		{"delay too large", set(22, 0x19, 0x01), ""},
		{"ip filter", set(24, 0x00, 0x10, 0x01, 0x02, 0x00, 0x0c), ""},
		{"alias filter", set(24, 0x00, 0x08, 0x02, 0x06, 0x00, 0x03, 'a', 'b', 'c', 0x00), ""},
		{"two blocks", set(24, 0x00, 0x08, 0xff, 0xff, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00), ""},
		{"name with capitals", dcpIdentifyFrame(dcpMulticast, arpTestMAC, 7, 1, "PLC"), ""},
		{"data length past the frame", set(24, 0x01, 0x00), ""},
		{"trailing bytes", set(40, 0x55), ""},
		{"long frame padded", append(append([]byte(nil), long...), 0), ""},
	})
}

func TestDCPMatch(t *testing.T) {
	resp := append(append([]byte(nil), arpTestMAC[:]...), 0x00, 0x0e, 0x8c, 1, 2, 3, 0x88, 0x92, 0xfe, 0xff, 0x05, 0x01)
	resp = binary.BigEndian.AppendUint32(resp, 99)
	resp = append(resp, 0, 0, 0, 0)
	m := dcpMatch(arpTestMAC, 99)
	if !m(resp) {
		t.Error("an Identify response to us does not match")
	}
	tagged := append(append(append([]byte(nil), resp[:12]...), 0x81, 0x00, 0x00, 0x05), resp[12:]...)
	if !m(tagged) {
		t.Error("a VLAN-tagged response does not match")
	}
	if m(itCopy(resp, func(c []byte) []byte { c[21] = 98; return c })) || dcpMatch(arpTestMAC, 99)(dcpIdentifyFrame(dcpMulticast, arpTestMAC, 99, 1, "")) || m(resp[:20]) {
		t.Error("another xid, our own request or a cut frame matches")
	}
}

func TestDCPPlannedOncePerSegment(t *testing.T) {
	if _, ok := (dcpProbe{}).Plan(&Target{Addr: netip.MustParseAddr("127.0.0.2")}, &PlanOptions{}); ok {
		t.Error("DCP planned for a loopback target")
	}
	// BuildPlan gives DCP to the first on-link target only; without an
	// on-link interface here, check the memo through Plan directly
	iface := itOnLink(netip.MustParseAddr("10.99.0.2"), "")
	if iface == "" {
		t.Skip("no interface with a directly connected subnet for 10.99.0.2")
	}
	o := &PlanOptions{planned: map[string]bool{}, DCPMulticast: true}
	_, first := dcpProbe{}.Plan(&Target{Addr: netip.MustParseAddr("10.99.0.2")}, o)
	_, second := dcpProbe{}.Plan(&Target{Addr: netip.MustParseAddr("10.99.0.3")}, o)
	if !first || second {
		t.Errorf("planned %v then %v, want once per segment", first, second)
	}
}

func FuzzDissectDCP(f *testing.F) {
	f.Add(dcpIdentifyFrame(dcpMulticast, arpTestMAC, 7, 64, ""))
	f.Add(dcpIdentifyFrame(dcpMulticast, arpTestMAC, 7, 64, "plc-a"))
	f.Fuzz(func(t *testing.T, p []byte) {
		if _, err := dissectDCP(p); err != nil {
			return
		}
		if dst := model.MAC(p[:6]); !bytes.Equal(p[:6], dcpMulticast[:]) && !dst.IsUnicast() || binary.BigEndian.Uint16(p[14:]) != dcpFrameReq || p[16] != 5 || p[17] != 0 {
			t.Fatalf("accepted % x", p)
		}
		_ = dcpMatch(model.MAC(p[6:12]), 7)(p)
	})
}

func TestDCPTshark(t *testing.T) {
	itTshark(t, [][]byte{dcpIdentifyFrame(dcpMulticast, arpTestMAC, 7, 64, ""), dcpIdentifyFrame(dcpMulticast, arpTestMAC, 8, 1, "plc-a")}, []string{"pn_dcp", "pn_dcp"})
}
