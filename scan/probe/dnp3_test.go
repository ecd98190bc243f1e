package probe

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"otscope/model"
	"otscope/scan/internal/dnp3crc"
	"otscope/scan/probe/sim"
)

// crcDNP3Bitwise is CRC-16/DNP computed bit by bit (no table), an
// independent check of dnp3CRC.
func crcDNP3Bitwise(b []byte) uint16 {
	var crc uint16
	for _, x := range b {
		for i := range 8 {
			bit := (uint16(x)>>i ^ crc) & 1
			crc >>= 1
			if bit != 0 {
				crc ^= 0xa6bc
			}
		}
	}
	return ^crc
}

func TestDNP3RequestBytes(t *testing.T) {
	// CRC-16/DNP check value (the CRC catalogue's "123456789" test).
	if got := dnp3crc.Sum([]byte("123456789")); got != 0xea82 {
		t.Fatalf("CRC check value %#04x, want 0xea82", got)
	}
	b := dnp3LinkStatus(1, 3)
	// start 0x0564, length 5 (header only), control DIR|PRM|func 9,
	// destination 1, source 3 (little endian), header CRC (little endian)
	want := []byte{0x05, 0x64, 0x05, 0xc9, 0x01, 0x00, 0x03, 0x00}
	if !bytes.Equal(b[:8], want) {
		t.Errorf("header % x, want % x", b[:8], want)
	}
	if got := binary.LittleEndian.Uint16(b[8:]); got != crcDNP3Bitwise(want) {
		t.Errorf("CRC %#04x, want %#04x", got, crcDNP3Bitwise(want))
	}
	if err := Check("dnp3", KindDNP3LinkStatus, b); err != nil {
		t.Error(err)
	}
	if b := dnp3LinkStatus(3, dnp3SourceFor(3)); binary.LittleEndian.Uint16(b[6:]) != 4 {
		t.Errorf("toward address 3 the source must differ: % x", b)
	}
}

// dnp3Frame10 builds a header-only frame with a valid CRC.
func dnp3Frame10(ctrl byte, dest, src uint16) []byte {
	b := []byte{0x05, 0x64, 5, ctrl, 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(b[4:], dest)
	binary.LittleEndian.PutUint16(b[6:], src)
	binary.LittleEndian.PutUint16(b[8:], dnp3crc.Sum(b[:8]))
	return b
}

func TestDNP3Dissector(t *testing.T) {
	if k, err := dissectDNP3(dnp3Frame10(0x49, 10, 3)); k != KindDNP3LinkStatus || err != nil {
		t.Errorf("link status with DIR=0: %v %v", k, err)
	}
	badCRC := dnp3LinkStatus(1, 3)
	badCRC[8] ^= 1
	// a confirmed user data frame carrying an application read request
	userData := []byte{0x05, 0x64, 0x08, 0xc4, 1, 0, 3, 0}
	binary.LittleEndian.PutUint16(userData[6:], 3)
	userData = binary.LittleEndian.AppendUint16(userData, dnp3crc.Sum(userData))
	blk := []byte{0xc0, 0xc0, 0x01}
	userData = append(userData, blk...)
	userData = binary.LittleEndian.AppendUint16(userData, dnp3crc.Sum(blk))
	refused := []struct {
		name string
		p    []byte
	}{
		{"reset link states (func 0)", dnp3Frame10(0xc0, 1, 3)},
		{"test link states (func 2)", dnp3Frame10(0xf2, 1, 3)},
		{"unconfirmed user data (func 4)", dnp3Frame10(0xc4, 1, 3)},
		{"confirmed user data with a read", userData},
		{"link status with FCV", dnp3Frame10(0xd9, 1, 3)},
		{"link status with FCB", dnp3Frame10(0xe9, 1, 3)},
		{"secondary frame (link status answer)", dnp3Frame10(0x0b, 1, 3)},
		{"broadcast destination 0xffff", dnp3Frame10(0xc9, 0xffff, 3)},
		{"broadcast destination 0xfffd", dnp3Frame10(0xc9, 0xfffd, 3)},
		{"reserved source", dnp3Frame10(0xc9, 1, 0xfff5)},
		{"bad CRC", badCRC},
		{"trailing byte", append(dnp3LinkStatus(1, 3), 0)},
		{"no start", append([]byte{0x06, 0x64}, dnp3LinkStatus(1, 3)[2:]...)},
		{"short", []byte{0x05, 0x64, 0x05}},
	}
	for _, c := range refused {
		if k, err := dissectDNP3(c.p); err == nil {
			t.Errorf("%s: accepted as %s", c.name, k)
		}
		if Check("dnp3", KindDNP3LinkStatus, c.p) == nil {
			t.Errorf("%s: Check accepts it", c.name)
		}
	}
}

func TestDNP3FrameAndSummary(t *testing.T) {
	ans := dnp3Frame10(0x0b, 3, 10)
	for i := range 3 {
		if n, err := dnp3Frame(ans[:i]); n != 0 || err != nil {
			t.Errorf("short %d: %d %v", i, n, err)
		}
	}
	if n, err := dnp3Frame(ans); n != 10 || err != nil {
		t.Errorf("exact: %d %v", n, err)
	}
	if n, err := dnp3Frame(append(slices.Clone(ans), 5, 0x64)); n != 10 || err != nil {
		t.Errorf("long: %d %v", n, err)
	}
	if _, err := dnp3Frame([]byte("garbage")); err == nil {
		t.Error("garbage framed")
	}
	// the largest link length: 250 data octets in 16 blocks with CRCs
	if n, err := dnp3Frame([]byte{0x05, 0x64, 0xff}); n != 10+250+2*16 || err != nil {
		t.Errorf("largest: %d %v", n, err)
	}
	if _, err := dnp3Frame([]byte{0x05, 0x64, 4}); err == nil {
		t.Error("length 4 framed")
	}
	if s := dnp3Summary(ans); s != "link status from 10 to 3" {
		t.Errorf("summary %q", s)
	}
	bad := slices.Clone(ans)
	bad[9] ^= 0xff
	if s := dnp3Summary(bad); s != "bad header CRC" {
		t.Errorf("bad CRC summary %q", s)
	}
}

func TestDNP3Plan(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.11")
	a := &model.Asset{ProtocolIDs: &model.ProtocolIDs{DNP3Addresses: []string{"10", "x", "65535", "4", "10"}}}
	tg := Target{Addr: ip, Asset: a, Known: Known{TCP: []uint16{20000}, Fields: map[string]bool{model.FieldDNP3Address: true}}}
	p, ok := dnp3Probe{}.Plan(&tg, &PlanOptions{})
	if !ok || !strings.HasSuffix(p.Why, "link status to 4,10") || len(p.Steps) != 4 {
		t.Errorf("known: %+v %v", p, ok)
	}
	if _, ok := (dnp3Probe{}).Plan(&tg, &PlanOptions{FillGaps: true}); ok {
		t.Error("planned with the address known")
	}
	bare := Target{Addr: ip}
	if p, ok := (dnp3Probe{}).Plan(&bare, &PlanOptions{}); !ok || !p.IfOpen || !strings.HasSuffix(p.Why, "link status to 1") {
		t.Errorf("bare: %+v %v", p, ok)
	}
}

// TestDNP3Sim asks link status of the outstation address seen passively,
// against the project's outstation simulator (no installable DNP3 device
// here); a second, unknown address gets no answer and costs a timeout.
func TestDNP3Sim(t *testing.T) {
	const addr = "127.0.0.32"
	s, err := sim.ListenDNP3(addr+":0", sim.DNP3Outstation{Address: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	port := uint16(s.Addr().(*net.TCPAddr).Port)
	ip := netip.MustParseAddr(addr)
	a := icsAsset(ip, map[uint16]string{port: "dnp3"})
	a.ProtocolIDs = &model.ProtocolIDs{DNP3Addresses: []string{"10", "11"}}
	res := icsScan(t, ip, a, []string{"dnp3"}, PlanOptions{Ports: map[string]uint16{"dnp3": port}})
	want := []string{"tcp.connect", "dnp3.request_link_status", "dnp3.request_link_status", "tcp.close"}
	if !slices.Equal(res.kinds(), want) {
		t.Errorf("log %v, want %v", res.kinds(), want)
	}
	if r := res.recs[1]; r.Answer != "link status from 10 to 3" {
		t.Errorf("answer %+v", r)
	}
	if r := res.recs[2]; r.Answer != "timeout" {
		t.Errorf("unknown address %+v", r)
	}
	res.wantFact(t, model.FieldDNP3Address, "10", "dnp3")
	res.wantFact(t, model.FieldRole, model.RoleRTU, "dnp3")
}

func FuzzDissectDNP3(f *testing.F) {
	f.Add(dnp3LinkStatus(1, 3))
	f.Add(dnp3Frame10(0xc0, 1, 3))
	f.Fuzz(func(t *testing.T, p []byte) {
		if _, err := dissectDNP3(p); err != nil {
			return
		}
		if len(p) != 10 || p[3]&0x7f != 0x49 || binary.LittleEndian.Uint16(p[8:]) != crcDNP3Bitwise(p[:8]) {
			t.Fatalf("accepted % x", p)
		}
	})
}

func FuzzDNP3Frame(f *testing.F) {
	f.Add(dnp3Frame10(0x0b, 3, 10))
	f.Add([]byte{0x05, 0x64, 0xff, 0x44})
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := dnp3Frame(b)
		if err == nil && n != 0 && (n < 10 || n > 292) {
			t.Fatalf("frame length %d", n)
		}
		_ = dnp3Summary(b)
	})
}
