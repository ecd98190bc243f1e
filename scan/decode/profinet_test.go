package decode

import (
	"encoding/binary"
	"net"
	"net/netip"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
	"otscope/scan/capture"
)

var (
	macPNDev  = net.HardwareAddr{0x08, 0x00, 0x06, 0x93, 0xcf, 0x32}
	macPNTool = net.HardwareAddr{0x00, 0x0c, 0x29, 0xba, 0x09, 0xea}
)

// pnFrame builds an Ethernet frame with EtherType 0x8892.
func pnFrame(src, dst net.HardwareAddr, payload []byte) []byte {
	f := append([]byte{}, dst...)
	f = append(f, src...)
	f = append(f, 0x88, 0x92)
	return append(f, payload...)
}

// dcpPDU builds a DCP PDU: frame id, service, type, xid, delay, blocks.
func dcpPDU(frameID uint16, service, stype byte, blocks ...[]byte) []byte {
	var body []byte
	for _, b := range blocks {
		body = append(body, b...)
		if len(b)%2 == 1 {
			body = append(body, 0)
		}
	}
	p := []byte{byte(frameID >> 8), byte(frameID), service, stype, 0, 0, 0, 1, 0, 0, byte(len(body) >> 8), byte(len(body))}
	return append(p, body...)
}

// dcpBlock builds a block; prefix is BlockInfo/BlockQualifier (nil: none).
func dcpBlock(opt, sub byte, prefix []byte, v []byte) []byte {
	val := append(append([]byte{}, prefix...), v...)
	return append([]byte{opt, sub, byte(len(val) >> 8), byte(len(val))}, val...)
}

func pnFactsOf(obs []model.Observation) map[string][]model.Observation {
	m := map[string][]model.Observation{}
	for _, o := range obs {
		if o.Kind == model.ObsFact {
			m[o.Fact.Field] = append(m[o.Fact.Field], o)
		}
	}
	return m
}

func pnWantFact(t *testing.T, fs map[string][]model.Observation, field, value string, subj model.MAC) {
	t.Helper()
	for _, o := range fs[field] {
		if o.Fact.Value == value && (subj.IsZero() || o.Subject.MAC == subj) {
			return
		}
	}
	t.Errorf("no fact %s=%q on %v; have %v", field, value, subj, fs[field])
}

func TestDCPIdentifyResponse(t *testing.T) {
	info := []byte{0, 0}
	resp := dcpPDU(0xfeff, 5, 1,
		dcpBlock(2, 1, info, []byte("INC\x00")),
		dcpBlock(2, 2, info, []byte("x208-bord")),
		dcpBlock(2, 3, info, []byte{0x00, 0x2a, 0x0a, 0x01}),
		dcpBlock(2, 4, info, []byte{0x01, 0x00}),
		dcpBlock(2, 7, info, []byte{0x00, 0x01}),
		dcpBlock(2, 8, info, []byte{0x00, 0xb0, 0x00, 0x10}),
		dcpBlock(1, 2, []byte{0, 1}, []byte{192, 168, 0, 6, 255, 255, 255, 0, 192, 168, 0, 1}),
	)
	d := New(Options{Origin: "t"})
	f := pnFrame(macPNDev, macPNTool, resp)
	feed(d, f, f) // the repeat adds nothing
	b := d.Flush()
	fs := pnFactsOf(b.Obs)
	dev := model.MACFrom(macPNDev)
	pnWantFact(t, fs, model.FieldProduct, "INC", dev)
	pnWantFact(t, fs, model.FieldStationName, "x208-bord", dev)
	pnWantFact(t, fs, model.FieldHostname, "x208-bord", dev)
	pnWantFact(t, fs, model.FieldPNVendorID, "42", dev)
	pnWantFact(t, fs, model.FieldPNDeviceID, "2561", dev)
	pnWantFact(t, fs, model.FieldVendor, "Siemens", dev)
	pnWantFact(t, fs, model.FieldPNRole, "IO-Device (0x01)", dev)
	pnWantFact(t, fs, model.FieldRole, model.RoleIO, dev)
	pnWantFact(t, fs, fieldPNDeviceInstance, "0.1", dev)
	pnWantFact(t, fs, fieldPNOEMVendorID, "176", dev)
	pnWantFact(t, fs, fieldPNIP, "192.168.0.6", dev)
	pnWantFact(t, fs, fieldPNNetmask, "255.255.255.0", dev)
	pnWantFact(t, fs, fieldPNGateway, "192.168.0.1", dev)
	if n := len(fs[model.FieldStationName]); n != 1 {
		t.Errorf("station name reported %d times", n)
	}
	claimed := false
	for _, o := range b.Obs {
		if o.Binding == model.BindClaimed && o.Subject.MAC == dev && o.Subject.IP.String() == "192.168.0.6" {
			claimed = true
		}
	}
	if !claimed {
		t.Error("DCP IP not claimed for the station")
	}
}

func TestDCPSetAndIdentifyRequest(t *testing.T) {
	set := dcpPDU(0xfefd, 4, 0,
		dcpBlock(1, 2, []byte{0, 1}, []byte{192, 168, 0, 10, 255, 255, 255, 0, 192, 168, 0, 1}),
		dcpBlock(2, 2, []byte{0, 1}, []byte("new-name")),
		dcpBlock(5, 3, []byte{0, 0}, []byte{0, 0x01}),
	)
	ident := dcpPDU(0xfefe, 5, 0, dcpBlock(2, 2, nil, []byte("versamax-pns11")))
	d := New(Options{Origin: "t"})
	feed(d, pnFrame(macPNTool, macPNDev, set), pnFrame(macPNTool, net.HardwareAddr{0x01, 0x0e, 0xcf, 0, 0, 0}, ident))
	fs := pnFactsOf(d.Flush().Obs)
	dev, tool := model.MACFrom(macPNDev), model.MACFrom(macPNTool)
	pnWantFact(t, fs, fieldPNSetIP, "192.168.0.10", dev)
	pnWantFact(t, fs, fieldPNSetNetmask, "255.255.255.0", dev)
	pnWantFact(t, fs, fieldPNSetGateway, "192.168.0.1", dev)
	pnWantFact(t, fs, fieldPNSetName, "new-name", dev)
	pnWantFact(t, fs, fieldPNFunction, "dcp set ip", tool)
	pnWantFact(t, fs, fieldPNFunction, "dcp set name", tool)
	pnWantFact(t, fs, fieldPNFunction, "dcp signal", tool)
	pnWantFact(t, fs, fieldPNFunction, "dcp identify", tool)
	pnWantFact(t, fs, fieldPNIdentifyFilter, "versamax-pns11", tool)
	if len(fs[model.FieldStationName]) != 0 {
		t.Errorf("a Set or a filter must not name a station: %v", fs[model.FieldStationName])
	}
}

func TestDCPMalformed(t *testing.T) {
	d := New(Options{Origin: "t"})
	// block length past the end, data length past the end, short frame
	bad1 := dcpPDU(0xfeff, 5, 1, []byte{2, 2, 0xff, 0xff, 0, 0})
	bad2 := []byte{0xfe, 0xff, 5, 1, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 2, 2}
	feed(d, pnFrame(macPNDev, macPNTool, bad1), pnFrame(macPNDev, macPNTool, bad2), pnFrame(macPNDev, macPNTool, []byte{0xfe}))
	b := d.Flush()
	if n := len(find(b.Obs, model.ObsFact, nil)); n != 0 {
		t.Errorf("%d facts from malformed DCP", n)
	}
	if b.Stats.DecodeErrors < 3 {
		t.Errorf("decode errors = %d, want >= 3", b.Stats.DecodeErrors)
	}
}

func TestPNCyclicIOPeerOnce(t *testing.T) {
	d := New(Options{Origin: "t"})
	rt := pnFrame(macPNTool, macPNDev, append([]byte{0x80, 0x01}, make([]byte, 40)...))
	feed(d, rt, rt, rt)
	fs := pnFactsOf(d.Flush().Obs)
	if len(fs[fieldPNIOPeer]) != 1 {
		t.Fatalf("io peer facts = %v", fs[fieldPNIOPeer])
	}
	pnWantFact(t, fs, fieldPNIOPeer, model.MACFrom(macPNDev).String(), model.MACFrom(macPNTool))
}

// pnRPC builds a DCE/RPC datagram (little-endian header) with PNIO args.
func pnRPC(ptype byte, ifc byte, opnum uint16, object [16]byte, blocks ...[]byte) []byte {
	h := make([]byte, 80)
	h[0], h[1], h[4] = 4, ptype, 0x10
	copy(h[8:24], object[:])
	binary.LittleEndian.PutUint32(h[24:], 0xdea00000|uint32(ifc))
	binary.LittleEndian.PutUint16(h[28:], 0x6c97)
	binary.LittleEndian.PutUint16(h[30:], 0x11d1)
	binary.LittleEndian.PutUint16(h[68:], opnum)
	var body []byte
	for _, b := range blocks {
		body = append(body, b...)
	}
	args := make([]byte, 20)
	binary.LittleEndian.PutUint32(args[4:], uint32(len(body)))
	body = append(args, body...)
	binary.LittleEndian.PutUint16(h[74:], uint16(len(body)))
	return append(h, body...)
}

func pnBlock(typ uint16, content []byte) []byte {
	b := []byte{byte(typ >> 8), byte(typ), 0, 0, 1, 0}
	binary.BigEndian.PutUint16(b[2:], uint16(len(content)+2))
	return append(b, content...)
}

func pnARBlockReqT(arType uint16, mac net.HardwareAddr, vendor, device uint16, name string) []byte {
	c := make([]byte, 52)
	binary.BigEndian.PutUint16(c[0:], arType)
	copy(c[20:26], mac)
	copy(c[26:36], pnObjectPrefix[:])
	binary.BigEndian.PutUint16(c[38:], device)
	binary.BigEndian.PutUint16(c[40:], vendor)
	binary.BigEndian.PutUint16(c[50:], uint16(len(name)))
	return pnBlock(0x0101, append(c, name...))
}

func pnUDPFrame(t testing.TB, smac, dmac net.HardwareAddr, sip, dip net.IP, sp, dp uint16, payload []byte) []byte {
	return frame(t, eth(smac, dmac, layers.EthernetTypeIPv4), ip4(sip, dip, layers.IPProtocolUDP),
		&layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}, gopacket.Payload(payload))
}

func TestPNCMConnect(t *testing.T) {
	ctrlIP, devIP := net.IP{192, 168, 0, 1}, net.IP{192, 168, 0, 2}
	var devObj [16]byte
	// little-endian header UUID dea00000-6c97-11d1-8271-0000 0301 002a
	copy(devObj[:], []byte{0x00, 0x00, 0xa0, 0xde, 0x97, 0x6c, 0xd1, 0x11, 0x82, 0x71, 0x00, 0x00, 0x03, 0x01, 0x00, 0x2a})
	req := pnRPC(0, 1, 0, devObj, pnARBlockReqT(1, macPNTool, 0x002a, 0x0101, "plc-1"))
	res := pnRPC(2, 1, 0, devObj, pnBlock(0x8101, make([]byte, 30)),
		pnBlock(0x8106, append([]byte{0, 6}, "io-dev\x00\x00"...)))
	d := New(Options{Origin: "t"})
	feed(d,
		pnUDPFrame(t, macPNTool, macPNDev, ctrlIP, devIP, 49200, 34964, req),
		// the device answers from its own port
		pnUDPFrame(t, macPNDev, macPNTool, devIP, ctrlIP, 49300, 49200, res))
	fs := pnFactsOf(d.Flush().Obs)
	ctrl, dev := model.MACFrom(macPNTool), model.MACFrom(macPNDev)
	pnWantFact(t, fs, model.FieldStationName, "plc-1", ctrl)
	pnWantFact(t, fs, model.FieldPNVendorID, "42", ctrl)
	pnWantFact(t, fs, model.FieldPNDeviceID, "257", ctrl)
	pnWantFact(t, fs, model.FieldRole, model.RolePLC, ctrl)
	pnWantFact(t, fs, model.FieldPNRole, "IO-Controller (0x02)", ctrl)
	pnWantFact(t, fs, fieldPNFunction, "0 connect", ctrl)
	pnWantFact(t, fs, fieldPNIOPeer, "192.168.0.2", ctrl)
	if pnExpectParser(d, pnNetip(ctrlIP), pnNetip(devIP), 49200, 49300) == 0 {
		t.Fatal("the controller's port is not expected")
	}
	// with the flow table's hook, the answer on the ephemeral port is read
	d2 := New(Options{Origin: "t"})
	feed(d2, pnUDPFrame(t, macPNDev, macPNTool, devIP, ctrlIP, 34964, 49200, res))
	fs = pnFactsOf(d2.Flush().Obs)
	pnWantFact(t, fs, model.FieldStationName, "io-dev", dev)
	pnWantFact(t, fs, model.FieldRole, model.RoleIO, dev)
	pnWantFact(t, fs, model.FieldPNDeviceID, "769", dev)
}

func TestPNCMReadIM0(t *testing.T) {
	var obj [16]byte
	hdr := make([]byte, 60)
	binary.BigEndian.PutUint16(hdr[22:], 0) // slot 0
	binary.BigEndian.PutUint16(hdr[28:], 0xaff0)
	im := make([]byte, 54)
	binary.BigEndian.PutUint16(im[0:], 0x002a)
	copy(im[2:22], "6ES7 315-2EH14-0AB0 ")
	copy(im[22:38], "S C-B1U393142011")
	binary.BigEndian.PutUint16(im[38:], 3)
	copy(im[40:44], []byte{'V', 3, 2, 7})
	res := pnRPC(2, 1, 2, obj, pnBlock(0x8009, hdr), pnBlock(0x0020, im))
	d := New(Options{Origin: "t"})
	feed(d, pnUDPFrame(t, macPNDev, macPNTool, net.IP{10, 0, 0, 2}, net.IP{10, 0, 0, 1}, 34964, 50000, res))
	fs := pnFactsOf(d.Flush().Obs)
	dev := model.MACFrom(macPNDev)
	pnWantFact(t, fs, model.FieldOrderNumber, "6ES7 315-2EH14-0AB0", dev)
	pnWantFact(t, fs, model.FieldSerial, "S C-B1U393142011", dev)
	pnWantFact(t, fs, model.FieldFirmware, "V3.2.7", dev)
	pnWantFact(t, fs, model.FieldHardwareVersion, "3", dev)
}

func pnNetip(ip net.IP) netip.Addr { return netip.AddrFrom4([4]byte(ip.To4())) }

// captureFrames returns up to n Ethernet frames of the captures matching
// glob (none when ../shared is absent).
func pbCaptureFrames(tb testing.TB, glob string, n int) [][]byte {
	files, _ := filepath.Glob(glob)
	var out [][]byte
	for _, path := range files {
		src, err := capture.OpenFile(path, capture.Options{})
		if err != nil {
			continue
		}
		for len(out) < n && src.LinkType() == layers.LinkTypeEthernet {
			data, _, err := src.ZeroCopyReadPacketData()
			if err != nil {
				break
			}
			out = append(out, append([]byte(nil), data...))
		}
		src.Close()
	}
	return out
}

// FuzzPROFINET drives the layer-2 and IO-CM parsers with arbitrary bytes.
func FuzzPROFINET(f *testing.F) {
	for _, p := range pnSeeds(f) {
		f.Add(p)
	}
	f.Add(dcpPDU(0xfeff, 5, 1, dcpBlock(2, 2, []byte{0, 0}, []byte("dev"))))
	var obj [16]byte
	f.Add(pnRPC(0, 1, 0, obj, pnARBlockReqT(1, macPNTool, 42, 1, "c")))
	f.Fuzz(func(t *testing.T, p []byte) {
		d := New(Options{Origin: "fuzz"})
		fi := &frameInfo{hasMAC: true, src: model.MACFrom(macPNDev), dst: model.MACFrom(macPNTool), payload: p}
		onPROFINET(d, fi)
		d.app = appCtx{d: d, fi: fi, f: &flowState{server: -1}, udp: true, dp: pnCMPort}
		parsePNCM(&d.app, p)
		for _, o := range d.Flush().Obs {
			if len(o.Fact.Value) > 4*maxText {
				t.Fatalf("unbounded fact value (%d bytes)", len(o.Fact.Value))
			}
		}
	})
}

// pnSeeds returns PROFINET payloads (after the EtherType, or the UDP
// payload on 34964) from the real captures.
func pnSeeds(tb testing.TB) [][]byte {
	var out [][]byte
	for _, fr := range pbCaptureFrames(tb, "../../../shared/pcaps/profinet/*.pcap", 300) {
		if len(fr) > 14 && fr[12] == 0x88 && fr[13] == 0x92 {
			out = append(out, fr[14:])
		} else if len(fr) > 42 && fr[12] == 0x08 && fr[23] == 17 {
			out = append(out, fr[42:])
		}
	}
	return out
}

func BenchmarkPROFINETCyclic(b *testing.B) {
	var frames [][]byte
	for i := 0; i < 20; i++ {
		ctrl := net.HardwareAddr{0x00, 0x1b, 0x1b, 0, 0, 1}
		dev := net.HardwareAddr{0x00, 0x0e, 0x8c, 0, 0, byte(i)}
		out := pnFrame(ctrl, dev, append([]byte{0x80, byte(i)}, make([]byte, 40)...))
		in := pnFrame(dev, ctrl, append([]byte{0xc0, byte(i)}, make([]byte, 40)...))
		frames = append(frames, out, in)
	}
	benchFrames(b, frames)
}
