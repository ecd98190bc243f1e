package decode

import (
	"net"
	"testing"

	"otscope/model"
)

var (
	macBACRouter = net.HardwareAddr{0x00, 0xe0, 0xc9, 0x00, 0x10, 0xa5}
	macBACClient = net.HardwareAddr{0x00, 0x0c, 0x6e, 0xb0, 0x3c, 0x15}
	ipBACRouter  = net.IP{192, 168, 0, 24}
	ipBACClient  = net.IP{192, 168, 0, 103}
)

// bvlc wraps an NPDU in a BVLC header with function fn.
func bacBVLC(fn byte, npdu []byte) []byte {
	n := len(npdu) + 4
	return append([]byte{0x81, fn, byte(n >> 8), byte(n)}, npdu...)
}

// iAmAPDU: I-Am device,inst, max APDU 1476, no segmentation, vendor.
func bacIAmAPDU(inst uint32, vendor uint16) []byte {
	oid := 8<<22 | inst
	return []byte{0x10, 0x00, 0xc4, byte(oid >> 24), byte(oid >> 16), byte(oid >> 8), byte(oid),
		0x22, 0x05, 0xc4, 0x91, 0x03, 0x22, byte(vendor >> 8), byte(vendor)}
}

func bacUDP(t testing.TB, smac, dmac net.HardwareAddr, sip, dip net.IP, payload []byte) []byte {
	return pnUDPFrame(t, smac, dmac, sip, dip, 47808, 47808, payload)
}

func bacSubFacts(obs []model.Observation, sub string) map[string][]string {
	m := map[string][]string{}
	for _, o := range obs {
		if o.Kind == model.ObsFact && o.Subject.Sub == sub {
			m[o.Fact.Field] = append(m[o.Fact.Field], o.Fact.Value)
		}
	}
	return m
}

func bacHas(vals []string, v string) bool {
	for _, x := range vals {
		if x == v {
			return true
		}
	}
	return false
}

func TestBACnetIAmLocalAndRouted(t *testing.T) {
	local := bacBVLC(0x0b, append([]byte{0x01, 0x20, 0xff, 0xff, 0x00, 0xff}, bacIAmAPDU(2401, 24)...))
	// from network 26001, MS/TP station 114, via the router
	routed := bacBVLC(0x0b, append([]byte{0x01, 0x28, 0xff, 0xff, 0x00, 0x65, 0x91, 0x01, 0x72, 0xfe}, bacIAmAPDU(86114, 260)...))
	d := New(Options{Origin: "t"})
	bc := net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	feed(d, bacUDP(t, macBACRouter, bc, ipBACRouter, net.IP{192, 168, 0, 255}, local),
		bacUDP(t, macBACRouter, bc, ipBACRouter, net.IP{192, 168, 0, 255}, routed),
		bacUDP(t, macBACRouter, bc, ipBACRouter, net.IP{192, 168, 0, 255}, routed))
	obs := d.Flush().Obs
	own := bacSubFacts(obs, "")
	if !bacHas(own[model.FieldBACnetInstance], "2401") || !bacHas(own[model.FieldBACnetVendorID], "24") ||
		!bacHas(own[model.FieldVendor], "Automated Logic Corporation") || !bacHas(own[model.FieldRole], model.RoleBMS) {
		t.Errorf("router's own I-Am: %v", own)
	}
	if bacHas(own[model.FieldBACnetInstance], "86114") {
		t.Error("routed device attributed to the router")
	}
	sub := bacSubFacts(obs, "bacnet-net26001:114")
	if !bacHas(sub[model.FieldBACnetInstance], "86114") || !bacHas(sub[model.FieldVendor], "BACnet Stack at SourceForge") ||
		!bacHas(sub[fieldBACnetSegmentation], "no-segmentation") || !bacHas(sub[fieldBACnetMaxAPDU], "1476") {
		t.Errorf("routed I-Am: %v", sub)
	}
	if n := len(sub[model.FieldBACnetInstance]); n != 1 {
		t.Errorf("repeated I-Am reported %d times", n)
	}
}

func TestBACnetForwardedNPDU(t *testing.T) {
	fwd := append([]byte{0x81, 0x04, 0, 0, 192, 168, 0, 105, 0xba, 0xc0, 0x01, 0x00}, bacIAmAPDU(123, 260)...)
	fwd[3] = byte(len(fwd))
	d := New(Options{Origin: "t"})
	feed(d, bacUDP(t, macBACRouter, macBACClient, ipBACRouter, ipBACClient, fwd))
	for _, o := range d.Flush().Obs {
		if o.Kind == model.ObsFact && o.Fact.Field == model.FieldBACnetInstance {
			if o.Subject.IP.String() != "192.168.0.105" || !o.Subject.MAC.IsZero() {
				t.Errorf("forwarded I-Am on %+v", o.Subject)
			}
			return
		}
	}
	t.Error("no instance from a Forwarded-NPDU")
}

// rpACK builds a ReadProperty-ACK on device,inst for prop with value tag bytes.
func bacRPACK(inst uint32, prop byte, value []byte) []byte {
	oid := 8<<22 | inst
	p := []byte{0x01, 0x00, 0x30, 0x01, 0x0c, 0x0c, byte(oid >> 24), byte(oid >> 16), byte(oid >> 8), byte(oid), 0x19, prop, 0x3e}
	p = append(p, value...)
	return append(p, 0x3f)
}

func bacCharString(s string) []byte {
	n := len(s) + 1
	if n < 5 {
		return append([]byte{0x70 | byte(n), 0}, s...)
	}
	return append([]byte{0x75, byte(n), 0}, s...)
}

func TestBACnetReadPropertyACKs(t *testing.T) {
	acks := [][]byte{
		bacRPACK(500, 77, bacCharString("NAE-01")),
		bacRPACK(500, 121, bacCharString("JCI")),
		bacRPACK(500, 120, []byte{0x21, 0x05}),
		bacRPACK(500, 70, bacCharString("MS-NAE4510-2")),
		bacRPACK(500, 44, bacCharString("5.1.0.4400")),
		bacRPACK(500, 12, bacCharString("1.0")),
		bacRPACK(500, 58, bacCharString("Plant room")),
		bacRPACK(500, 28, bacCharString("AHU controller")),
		bacRPACK(500, 98, []byte{0x21, 0x01}),
		bacRPACK(500, 139, []byte{0x21, 0x05}),
		bacRPACK(500, 112, []byte{0x91, 0x00}),
		bacRPACK(bacnetWildcard, 75, []byte{0xc4, 0x02, 0x00, 0x01, 0xf4}),
		// a UCS-2 string
		bacRPACK(500, 28, []byte{0x75, 0x07, 0x04, 0x00, 'A', 0x00, 'H', 0x00, 'U'}),
	}
	d := New(Options{Origin: "t"})
	for _, a := range acks {
		feed(d, bacUDP(t, macBACClient, macBACRouter, ipBACClient, ipBACRouter, bacBVLC(0x0a, a)))
	}
	own := bacSubFacts(d.Flush().Obs, "")
	for field, want := range map[string]string{
		model.FieldHostname: "NAE-01", fieldBACnetObjectName: "NAE-01", fieldBACnetVendorName: "JCI",
		model.FieldBACnetVendorID: "5", model.FieldVendor: "Johnson Controls, Inc.", model.FieldProduct: "MS-NAE4510-2",
		model.FieldFirmware: "5.1.0.4400", fieldBACnetAppVersion: "1.0", fieldBACnetLocation: "Plant room",
		fieldBACnetDescription: "AHU", fieldBACnetProtoVersion: "1", fieldBACnetProtoRev: "5",
		fieldBACnetSystemStatus: "operational", model.FieldOperatingMode: "operational",
		model.FieldBACnetInstance: "500", model.FieldRole: model.RoleBMS,
	} {
		if !bacHas(own[field], want) {
			t.Errorf("%s: want %q, have %v", field, want, own[field])
		}
	}
	if bacHas(own[model.FieldBACnetInstance], "4194303") {
		t.Error("the echoed wildcard instance was recorded")
	}
}

func TestBACnetReadPropertyMultipleACK(t *testing.T) {
	oid := uint32(8<<22 | 86114)
	p := []byte{0x01, 0x00, 0x30, 0x07, 0x0e, 0x0c, byte(oid >> 24), byte(oid >> 16), byte(oid >> 8), byte(oid), 0x1e,
		0x29, 0x46, 0x4e}
	p = append(p, bacCharString("GNU Demo")...)
	p = append(p, 0x4f, 0x29, 0x2c, 0x4e)
	p = append(p, bacCharString("0.4.1")...)
	p = append(p, 0x4f, 0x29, 0x3a, 0x5e, 0x91, 0x02, 0x91, 0x20, 0x5f, // location: error
		0x29, 0x79, 0x4e, 0x21, 0x00, 0x01, 0x04, 0x4f, 0x1f) // vendor id: bad tag length handled
	d := New(Options{Origin: "t"})
	feed(d, bacUDP(t, macBACClient, macBACRouter, ipBACClient, ipBACRouter, bacBVLC(0x0a, p)))
	own := bacSubFacts(d.Flush().Obs, "")
	if !bacHas(own[model.FieldProduct], "GNU Demo") || !bacHas(own[model.FieldFirmware], "0.4.1") || !bacHas(own[model.FieldBACnetInstance], "86114") {
		t.Errorf("RPM ACK: %v", own)
	}
}

func TestBACnetClientFunctionsAndBBMD(t *testing.T) {
	whoIs := bacBVLC(0x0b, []byte{0x01, 0x00, 0x10, 0x08})
	wp := bacBVLC(0x0a, []byte{0x01, 0x04, 0x00, 0x05, 0x01, 0x0f, 0x0c, 0x00, 0x00, 0x00, 0x01})
	reinit := bacBVLC(0x0a, []byte{0x01, 0x04, 0x00, 0x05, 0x02, 0x14, 0x09, 0x00})
	bdt := []byte{0x81, 0x03, 0x00, 0x18, 192, 168, 0, 24, 0xba, 0xc0, 255, 255, 255, 255, 192, 168, 1, 24, 0xba, 0xc0, 255, 255, 255, 255}
	d := New(Options{Origin: "t"})
	feed(d, bacUDP(t, macBACClient, macBACRouter, ipBACClient, ipBACRouter, whoIs),
		bacUDP(t, macBACClient, macBACRouter, ipBACClient, ipBACRouter, wp),
		bacUDP(t, macBACClient, macBACRouter, ipBACClient, ipBACRouter, reinit),
		bacUDP(t, macBACRouter, macBACClient, ipBACRouter, ipBACClient, bdt))
	obs := d.Flush().Obs
	fs := pnFactsOf(obs)
	cl := model.MACFrom(macBACClient)
	pnWantFact(t, fs, fieldBACnetFunction, "8 who-is", cl)
	pnWantFact(t, fs, fieldBACnetFunction, "15 write-property", cl)
	pnWantFact(t, fs, fieldBACnetFunction, "20 reinitialize-device", cl)
	pnWantFact(t, fs, fieldBACnetBBMDPeer, "192.168.1.24:47808", model.MACFrom(macBACRouter))
	for _, o := range fs[fieldBACnetFunction] {
		if o.Fact.Value == "20 reinitialize-device" && o.Fact.Detail != "control" {
			t.Errorf("reinitialize detail %q", o.Fact.Detail)
		}
	}
}

func TestBACnetEthernetAndMSTP(t *testing.T) {
	llc := append([]byte{0x82, 0x82, 0x03, 0x01, 0x08, 0x00, 0x0d, 0x01, 0x3d}, bacIAmAPDU(61, 42)...)
	f := append(append(append([]byte{}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff), macBACRouter...), byte(len(llc)>>8), byte(len(llc)))
	f = append(f, llc...)
	npdu := append([]byte{0x01, 0x00}, bacIAmAPDU(86114, 260)...)
	mstp := append([]byte{0xaa, 0xaa, 0x03, 0x00, 0x10, 0x90, 0x00, 0x01, 0x00, 0x00, 0x80, 0x06, 0xff, 0x72, 0x00, byte(len(npdu)), 0x1f}, npdu...)
	mstp = append(mstp, 0xb3, 0x96)
	g := append([]byte{0, 0, 0, 0, 0, 0xff, 0, 0, 0, 0, 0, 0x72, 0, byte(len(mstp))}, mstp...)
	d := New(Options{Origin: "t"})
	feed(d, f, g)
	obs := d.Flush().Obs
	sub := bacSubFacts(obs, "bacnet-net13:61")
	if !bacHas(sub[model.FieldBACnetInstance], "61") || !bacHas(sub[model.FieldVendor], "Acuity Brands Lighting, Inc.") {
		t.Errorf("BACnet/Ethernet routed I-Am: %v", sub)
	}
	fs := pnFactsOf(obs)
	pnWantFact(t, fs, model.FieldBACnetInstance, "86114", model.MAC{0, 0, 0, 0, 0, 0x72})
}

func TestBACnetTagBounds(t *testing.T) {
	for _, b := range [][]byte{
		{0x75},                         // extended length missing
		{0x75, 0xfe, 0xff},             // 16-bit length cut
		{0x75, 0xff, 0xff, 0xff, 0xff}, // 32-bit length past the end
		{0xf5, 0x10},                   // extended tag number, length missing
		{0x74, 0x00},                   // length past the end
	} {
		if _, _, ok := bacNext(b); ok {
			t.Errorf("bacNext(% x) accepted", b)
		}
	}
	if _, ok := bacSkip([]byte{0x3e, 0x3e, 0x3f}, 3); ok {
		t.Error("unbalanced skip accepted")
	}
}

// FuzzBACnet drives BVLC/NPDU/APDU and the layer-2 paths with arbitrary bytes.
func FuzzBACnet(f *testing.F) {
	for _, fr := range pbCaptureFrames(f, "../../../shared/pcaps/bacnet/*", 400) {
		switch {
		case len(fr) > 42 && fr[12] == 0x08 && fr[23] == 17:
			f.Add(fr[42:])
		case len(fr) > 14 && fr[12] < 0x06:
			f.Add(fr[14:])
		}
	}
	f.Add(bacBVLC(0x0a, bacRPACK(1, 77, bacCharString("x"))))
	f.Fuzz(func(t *testing.T, p []byte) {
		d := New(Options{Origin: "fuzz"})
		fi := &frameInfo{hasMAC: true, src: model.MACFrom(macBACRouter), dst: model.MACFrom(macBACClient), payload: p}
		d.app = appCtx{d: d, fi: fi, f: &flowState{server: -1}, udp: true}
		parseBACnetIP(&d.app, p)
		onBACnetLLC(d, fi)
		onCimetricsMSTP(d, fi)
		(&bacMsg{d: d, base: model.Endpoint{MAC: fi.src}}).npdu(p)
		for _, o := range d.Flush().Obs {
			if len(o.Fact.Value) > 4*maxText || len(o.Subject.Sub) > 64 {
				t.Fatalf("unbounded value (%d bytes) or sub (%d)", len(o.Fact.Value), len(o.Subject.Sub))
			}
		}
	})
}

// BenchmarkBACnetPolling: a supervisor polling present values (ReadProperty
// request and ACK on analog inputs): the common case, no allocation.
func BenchmarkBACnetPolling(b *testing.B) {
	var frames [][]byte
	for i := 0; i < 20; i++ {
		dev := net.HardwareAddr{0x00, 0x60, 0x2d, 0, 0, byte(i)}
		dip := net.IP{192, 168, 1, byte(10 + i)}
		oid := uint32(i) // analog-input,i
		req := bacBVLC(0x0a, []byte{0x01, 0x04, 0x00, 0x05, byte(i), 0x0c, 0x0c, byte(oid >> 24), byte(oid >> 16), byte(oid >> 8), byte(oid), 0x19, 0x55})
		ack := bacBVLC(0x0a, []byte{0x01, 0x00, 0x30, byte(i), 0x0c, 0x0c, byte(oid >> 24), byte(oid >> 16), byte(oid >> 8), byte(oid), 0x19, 0x55, 0x3e, 0x44, 0x42, 0x28, 0, 0, 0x3f})
		frames = append(frames, bacUDP(b, macBACClient, dev, ipBACClient, dip, req), bacUDP(b, dev, macBACClient, dip, ipBACClient, ack))
	}
	benchFrames(b, frames)
}
