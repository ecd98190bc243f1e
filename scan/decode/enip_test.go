package decode

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
)

// enipMsg builds an encapsulation message; ctx is the first byte of the
// sender context.
func enipMsg(cmd uint16, ctx byte, data []byte) []byte {
	b := make([]byte, 24, 24+len(data))
	binary.LittleEndian.PutUint16(b[0:], cmd)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(data)))
	binary.LittleEndian.PutUint32(b[4:], 0x11020100)
	b[12] = ctx
	return append(b, data...)
}

// enipRR wraps a CIP message in SendRRData's common packet format.
func enipRR(ctx byte, cip []byte) []byte {
	d := []byte{0, 0, 0, 0, 10, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0, 0, 0}
	binary.LittleEndian.PutUint16(d[14:], uint16(len(cip)))
	return enipMsg(enipSendRRData, ctx, append(d, cip...))
}

// enipUnit wraps a CIP message in SendUnitData (connected, sequence count).
func enipUnit(seq uint16, cip []byte) []byte {
	d := []byte{0, 0, 0, 0, 0, 0, 2, 0, 0xa1, 0, 4, 0, 1, 2, 3, 4, 0xb1, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(d[18:], uint16(2+len(cip)))
	binary.LittleEndian.PutUint16(d[20:], seq)
	return enipMsg(enipSendUnitData, 0, append(d, cip...))
}

// enipIdentityBody is an Identity object's attributes 1-7.
func enipIdentityBody(vendor, dtype, code uint16, major, minor byte, status uint16, serial uint32, name string) []byte {
	b := make([]byte, 15, 15+len(name))
	binary.LittleEndian.PutUint16(b[0:], vendor)
	binary.LittleEndian.PutUint16(b[2:], dtype)
	binary.LittleEndian.PutUint16(b[4:], code)
	b[6], b[7] = major, minor
	binary.LittleEndian.PutUint16(b[8:], status)
	binary.LittleEndian.PutUint32(b[10:], serial)
	b[14] = byte(len(name))
	return append(b, name...)
}

// enipListIdentityMsg builds a ListIdentity reply with one identity item.
func enipListIdentityMsg(ip net.IP, body []byte, state byte) []byte {
	item := []byte{1, 0, 0, 2, 0xaf, 0x12}
	item = append(item, ip.To4()...)
	item = append(item, make([]byte, 8)...)
	item = append(item, body...)
	item = append(item, state)
	d := []byte{1, 0, 0x0c, 0, 0, 0}
	binary.LittleEndian.PutUint16(d[4:], uint16(len(item)))
	return enipMsg(enipListIdentity, 0, append(d, item...))
}

func enipUDP(t testing.TB, smac, dmac net.HardwareAddr, sip, dip net.IP, sp, dp uint16, p []byte) []byte {
	return frame(t, eth(smac, dmac, layers.EthernetTypeIPv4), ip4(sip, dip, layers.IPProtocolUDP), &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}, gopacket.Payload(p))
}

func enipWantFact(t *testing.T, facts map[string]map[string]string, field, value string) {
	t.Helper()
	if _, ok := facts[field][value]; !ok {
		t.Errorf("%s = %v, want %q", field, facts[field], value)
	}
}

func TestENIPListIdentity(t *testing.T) {
	d := New(Options{Origin: "unit"})
	body := enipIdentityBody(1, 0x0e, 54, 20, 11, 0x3060, 0x0051823f, "1756-L61/B LOGIX5561")
	feed(d,
		enipUDP(t, macHMI, layers.EthernetBroadcast, ipHMI, net.IP{255, 255, 255, 255}, 50000, 44818, enipMsg(enipListIdentity, 0, nil)),
		enipUDP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 50000, enipListIdentityMsg(ipPLC, body, 3)),
	)
	obs := d.Flush().Obs
	plc := enipFactsOf(obs, ipPLC)
	for f, v := range map[string]string{
		model.FieldCIPVendorID:     "1",
		model.FieldVendor:          "Rockwell Automation/Allen-Bradley",
		model.FieldCIPDeviceType:   "14",
		model.FieldDeviceType:      "Programmable Logic Controller",
		model.FieldCIPProductCode:  "54",
		FieldCIPRevision:           "20.11",
		model.FieldFirmware:        "20.11",
		FieldCIPSerial:             "0x0051823f",
		model.FieldSerial:          "0x0051823f",
		FieldCIPProductName:        "1756-L61/B LOGIX5561",
		model.FieldProduct:         "1756-L61/B LOGIX5561",
		model.FieldOrderNumber:     "1756-L61",
		model.FieldHardwareVersion: "Series B",
		model.FieldCIPStatus:       "0x3060",
		model.FieldCIPState:        "0x03",
		model.FieldOperatingMode:   "REMOTE RUN",
		model.FieldRole:            model.RolePLC,
		FieldENIPSocketAddress:     "10.10.1.10:44818",
	} {
		enipWantFact(t, plc, f, v)
	}
	if cat := enipFactsOf(obs, ipHMI)[FieldENIPFunction]["0x0063 list identity"]; cat != "identify" {
		t.Errorf("client list identity category = %q", cat)
	}
}

func TestCIPOperatingMode(t *testing.T) {
	for _, c := range []struct {
		vendor, dtype, status uint16
		want                  string
	}{
		{1, 14, 0x1060, "RUN"},
		{1, 14, 0x2070, "PROGRAM"},
		{1, 14, 0x3060, "REMOTE RUN"},
		{1, 14, 0x3070, "REMOTE PROGRAM"},
		{1, 14, 0x3030, "REMOTE"},
		{1, 12, 0x3060, ""},
		{243, 14, 0x3060, ""},
	} {
		if got := cipOperatingMode(c.vendor, c.dtype, c.status); got != c.want {
			t.Errorf("mode(%d, %d, %#04x) = %q, want %q", c.vendor, c.dtype, c.status, got, c.want)
		}
	}
}

// An ENBT answers Get_Attributes_All of the Identity object of the module
// in slot 2 through Unconnected Send: a module fact on the ENBT's IP.
func TestCIPBackplaneModule(t *testing.T) {
	d := New(Options{Origin: "unit"})
	emb := []byte{0x01, 0x02, 0x20, 0x01, 0x24, 0x01}
	us := []byte{0x52, 0x02, 0x20, 0x06, 0x24, 0x01, 0x06, 0x9a, byte(len(emb)), 0}
	us = append(us, emb...)
	us = append(us, 0x01, 0x00, 0x01, 0x02) // route: 1 word, port 1 slot 2
	resp := append([]byte{0x81, 0, 0, 0}, enipIdentityBody(309, 12, 83, 1, 2, 0x0070, 0xad77, "MVI56 ProSoft Technology, Inc.")...)
	feed(d,
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipRR(4, us)),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, enipRR(4, resp)),
	)
	obs := d.Flush().Obs
	plc := enipFactsOf(obs, ipPLC)
	enipWantFact(t, plc, model.FieldModule, "rack=0;slot=2;product=MVI56 ProSoft Technology, Inc.;fw=1.02;serial=0x0000ad77")
	enipWantFact(t, plc, model.FieldCIPVendorID, "309")
	enipWantFact(t, plc, FieldCIPProductName, "MVI56 ProSoft Technology, Inc.")
	if det := plc[model.FieldCIPVendorID]["309"]; det != "backplane slot 2" {
		t.Errorf("detail = %q, want backplane slot 2", det)
	}
	if len(plc[model.FieldProduct]) != 0 || len(plc[model.FieldVendor]) != 0 {
		t.Errorf("a backplane module became the IP's own identity: %v %v", plc[model.FieldProduct], plc[model.FieldVendor])
	}
	if cat := enipFactsOf(obs, ipHMI)[FieldCIPFunction]["0x01 get attributes all (identity)"]; cat != "identify" {
		t.Errorf("client function: %v", enipFactsOf(obs, ipHMI)[FieldCIPFunction])
	}
	// an answer that does not pair with the request (other sender context) is ignored
	d = New(Options{Origin: "unit"})
	feed(d,
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipRR(4, us)),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, enipRR(5, resp)),
	)
	if m := enipFactsOf(d.Flush().Obs, ipPLC)[model.FieldModule]; len(m) != 0 {
		t.Errorf("unpaired answer attributed: %v", m)
	}
}

// Get_Attribute_Single of Identity attributes over a connection.
func TestCIPGetAttributeSingle(t *testing.T) {
	d := New(Options{Origin: "unit"})
	req := func(attr byte) []byte { return []byte{0x0e, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, attr} }
	name := "1756-L63/A L6x_15_31"
	feed(d,
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipUnit(7, req(7))),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, enipUnit(7, append([]byte{0x8e, 0, 0, 0, byte(len(name))}, name...))),
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipUnit(8, req(1))),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, enipUnit(8, []byte{0x8e, 0, 0, 0, 1, 0})),
	)
	plc := enipFactsOf(d.Flush().Obs, ipPLC)
	enipWantFact(t, plc, model.FieldProduct, name)
	enipWantFact(t, plc, model.FieldCIPVendorID, "1")
	enipWantFact(t, plc, model.FieldVendor, "Rockwell Automation/Allen-Bradley")

	// once the target is known as a Logix controller, a status-only answer
	// gives its mode (the key switch turned from REMOTE RUN to PROGRAM)
	feed(d,
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipUnit(9, req(2))),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, enipUnit(9, []byte{0x8e, 0, 0, 0, 0x0e, 0})),
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipUnit(10, req(5))),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, enipUnit(10, []byte{0x8e, 0, 0, 0, 0x70, 0x20})),
	)
	enipWantFact(t, enipFactsOf(d.Flush().Obs, ipPLC), model.FieldOperatingMode, "PROGRAM")
}

func TestCIPClientFunctions(t *testing.T) {
	d := New(Options{Origin: "unit"})
	readTag := []byte{0x4c, 0x04, 0x91, 0x05, 'T', 'a', 'g', '_', '1', 0, 0x01, 0x00}
	writeTag := []byte{0x4d, 0x03, 0x91, 0x03, 'X', 'Y', 'Z', 0, 0xc4, 0, 1, 0, 1, 0, 0, 0}
	msp := []byte{0x0a, 0x02, 0x20, 0x02, 0x24, 0x01, 2, 0, 6, 0, byte(6 + len(readTag)), 0}
	msp = append(append(msp, readTag...), writeTag...)
	fwdOpen := []byte{0x54, 0x02, 0x20, 0x06, 0x24, 0x01, 0, 0, 0, 0}
	setIP := []byte{0x10, 0x03, 0x20, 0xf5, 0x24, 0x01, 0x30, 0x05, 1, 2, 3, 4}
	stop := []byte{0x07, 0x02, 0x20, 0x8e, 0x24, 0x01}
	feed(d,
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipMsg(enipRegisterSession, 0, []byte{1, 0, 0, 0})),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, enipMsg(enipRegisterSession, 0, []byte{1, 0, 0, 0})),
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, append(enipRR(1, fwdOpen), enipUnit(1, msp)...)),
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipUnit(2, readTag)),
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipRR(2, setIP)),
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipUnit(3, stop)),
	)
	obs := d.Flush().Obs
	hmi := enipFactsOf(obs, ipHMI)
	for v, cat := range map[string]string{
		"0x4c read tag":     "read",
		"0x4d write tag":    "write",
		"0x54 forward open": "control",
		"0x10 set attribute single (tcp/ip interface)": "write",
		"0x07 stop": "control",
	} {
		if got, ok := hmi[FieldCIPFunction][v]; !ok || got != cat {
			t.Errorf("cip.function %q: category %q (present %v), want %q; all %v", v, got, ok, cat, hmi[FieldCIPFunction])
		}
	}
	if got := hmi[FieldENIPFunction]["0x0065 register session"]; got != "other" {
		t.Errorf("enip.function = %v", hmi[FieldENIPFunction])
	}
	if plc := enipFactsOf(obs, ipPLC); len(plc[FieldENIPFunction])+len(plc[FieldCIPFunction]) != 0 {
		t.Errorf("target's echo reported as client behaviour: %v", plc)
	}
}

func TestCIPIOProducesTo(t *testing.T) {
	d := New(Options{Origin: "unit"})
	io := func(seq uint32) []byte {
		p := []byte{2, 0, 0x02, 0x80, 8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xb1, 0, 4, 0, 0, 0, 0xaa, 0xbb}
		binary.LittleEndian.PutUint32(p[10:], seq)
		return p
	}
	mcast := net.IP{239, 192, 1, 2}
	for i := uint32(0); i < 5; i++ {
		feed(d,
			enipUDP(t, macPLC, net.HardwareAddr{1, 0, 0x5e, 0x40, 1, 2}, ipPLC, mcast, 2222, 2222, io(i)),
			enipUDP(t, macHMI, macPLC, ipHMI, ipPLC, 2222, 2222, io(i)),
		)
	}
	obs := d.Flush().Obs
	enipWantFact(t, enipFactsOf(obs, ipPLC), FieldCIPIOProducesTo, "239.192.1.2")
	enipWantFact(t, enipFactsOf(obs, ipHMI), FieldCIPIOProducesTo, "10.10.1.10")
	n := len(find(obs, model.ObsFact, func(o model.Observation) bool { return o.Fact.Field == FieldCIPIOProducesTo }))
	if n != 2 {
		t.Errorf("produces_to reported %d times, want once per pair (2)", n)
	}
}

func TestENIPMalformed(t *testing.T) {
	d := New(Options{Origin: "unit"})
	huge := enipMsg(enipSendRRData, 0, []byte{0, 0, 0, 0, 0, 0, 2, 0})
	binary.LittleEndian.PutUint16(huge[2:], 0xffff)
	badItems := enipMsg(enipSendRRData, 0, []byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0xff, 0xff})
	badLI := enipMsg(enipListIdentity, 0, []byte{1, 0, 0x0c, 0, 0xff, 0x00, 1})
	badName := enipListIdentityMsg(ipPLC, enipIdentityBody(1, 14, 1, 1, 1, 0, 1, "x"), 0)
	badName[24+6+2+16+14] = 200 // name length past the item
	notENIP := []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	feed(d,
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, huge),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, badItems),
		enipUDP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 50000, badLI),
		enipUDP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 50001, badName),
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1131, 44818, notENIP),
		enipUDP(t, macPLC, macHMI, ipPLC, ipHMI, 2222, 2222, []byte{2, 0, 0x02, 0x80, 0xff, 0xff}),
	)
	b := d.Flush()
	plc := enipFactsOf(b.Obs, ipPLC)
	if len(plc[model.FieldProduct])+len(plc[FieldCIPIOProducesTo])+len(plc[model.FieldCIPVendorID]) != 0 {
		t.Errorf("malformed PDUs produced facts: %v", plc)
	}
	if b.Stats.DecodeErrors < 5 {
		t.Errorf("decode errors = %d, want >= 5", b.Stats.DecodeErrors)
	}
}

func TestCIPPollingAllocatesNothing(t *testing.T) {
	d := New(Options{Origin: "unit"})
	readTag := []byte{0x4c, 0x04, 0x91, 0x05, 'T', 'a', 'g', '_', '1', 0, 0x01, 0x00}
	req := enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 1130, 44818, enipUnit(9, readTag))
	resp := enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 44818, 1130, enipUnit(9, []byte{0xcc, 0, 0, 0, 0xc4, 0, 1, 0, 0, 0}))
	io := enipUDP(t, macPLC, macHMI, ipPLC, ipHMI, 2222, 2222, []byte{2, 0, 0x02, 0x80, 8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0xb1, 0, 4, 0, 1, 0, 0xaa, 0xbb})
	wantNoAllocs(t, d, "CIP polling", req, resp, io)
}

// BenchmarkCIPPolling decodes Logix read-tag polling (connected, SendUnitData)
// and CIP I/O between 25 scanner/adapter pairs.
func BenchmarkCIPPolling(b *testing.B) {
	var frames [][]byte
	readTag := []byte{0x4c, 0x04, 0x91, 0x05, 'T', 'a', 'g', '_', '1', 0, 0x01, 0x00}
	pollingPairs(25, rockwellOUI, func(i int, hmi, plc net.HardwareAddr, hip, pip net.IP) {
		frames = append(frames,
			enipTCP(b, hmi, plc, hip, pip, 40000+uint16(i), 44818, enipUnit(uint16(i), readTag)),
			enipTCP(b, plc, hmi, pip, hip, 44818, 40000+uint16(i), enipUnit(uint16(i), []byte{0xcc, 0, 0, 0, 0xc4, 0, 1, 0, 0, 0})),
			enipUDP(b, plc, hmi, pip, hip, 2222, 2222, []byte{2, 0, 0x02, 0x80, 8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0xb1, 0, 4, 0, 1, 0, 0xaa, 0xbb}))
	})
	benchFrames(b, frames)
}

// FuzzENIP drives the EtherNet/IP parser with arbitrary payloads as request
// then response on one flow (so responses meet remembered requests).
func FuzzENIP(f *testing.F) {
	for _, p := range soSeedPayloads(f, 44818, "enip", "modbus", "mixed") {
		f.Add(p, p)
	}
	us := []byte{0x52, 0x02, 0x20, 0x06, 0x24, 0x01, 0x06, 0x9a, 6, 0, 0x01, 0x02, 0x20, 0x01, 0x24, 0x01, 0x01, 0x00, 0x01, 0x02}
	f.Add(enipRR(4, us), enipRR(4, append([]byte{0x81, 0, 0, 0}, enipIdentityBody(1, 14, 54, 16, 20, 0x3060, 1, "1756-L61/B")...)))
	f.Add(enipMsg(enipListIdentity, 0, nil), enipListIdentityMsg(ipPLC, enipIdentityBody(1, 12, 58, 4, 7, 0x30, 2, "1756-ENBT/A"), 3))
	f.Fuzz(func(t *testing.T, req, resp []byte) {
		d := New(Options{Origin: "fuzz"})
		fl := &flowState{server: 1}
		c := &appCtx{d: d, fi: &frameInfo{}, f: fl, side: 0, sp: 1130, dp: 44818}
		parseENIP(c, req)
		c = &appCtx{d: d, fi: &frameInfo{}, f: fl, side: 1, sp: 44818, dp: 1130}
		parseENIP(c, resp)
		for _, o := range d.Flush().Obs {
			if len(o.Fact.Value) > 4*maxText {
				t.Fatalf("unbounded value %d bytes", len(o.Fact.Value))
			}
		}
	})
}

// FuzzCIPIO drives the CIP I/O parser.
func FuzzCIPIO(f *testing.F) {
	for _, p := range soSeedPayloads(f, 2222, "enip", "modbus", "mixed") {
		f.Add(p)
	}
	f.Add([]byte{2, 0, 0x02, 0x80, 8, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0xb1, 0, 4, 0, 1, 0, 0xaa, 0xbb})
	f.Fuzz(func(t *testing.T, p []byte) {
		d := New(Options{Origin: "fuzz"})
		c := &appCtx{d: d, fi: &frameInfo{}, f: &flowState{server: -1}, side: 0, sp: 2222, dp: 2222}
		parseCIPIO(c, p)
		parseCIPIO(c, p)
	})
}
