package decode

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"

	"otscope/scan/internal/ber"
)

// Hand-built S7comm / COTP / S7comm-plus / MMS payloads, decoded through the
// real pipeline (Ethernet, IPv4, TCP, flow table, port-102 parser).

var (
	s7PLCMAC = net.HardwareAddr{0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03}
	s7PGMAC  = net.HardwareAddr{0x00, 0x0e, 0x8c, 0x0a, 0x0b, 0x0c}
	s7PLCIP  = net.IP{10, 0, 0, 2}
	s7PGIP   = net.IP{10, 0, 0, 9}
)

// s7Conv builds frames of one TCP/102 conversation (SYN, SYN/ACK first).
type s7Conv struct {
	t      testing.TB
	frames [][]byte
	port   uint16
}

func newS7Conv(t testing.TB, port uint16) *s7Conv {
	c := &s7Conv{t: t, port: port}
	c.frames = append(c.frames,
		frame(t, eth(s7PGMAC, s7PLCMAC, layers.EthernetTypeIPv4), ip4(s7PGIP, s7PLCIP, layers.IPProtocolTCP), tcpSeg(50000, port, true, false)),
		frame(t, eth(s7PLCMAC, s7PGMAC, layers.EthernetTypeIPv4), ip4(s7PLCIP, s7PGIP, layers.IPProtocolTCP), tcpSeg(port, 50000, true, true)))
	return c
}

func (c *s7Conv) client(p []byte) *s7Conv {
	c.frames = append(c.frames, frame(c.t, eth(s7PGMAC, s7PLCMAC, layers.EthernetTypeIPv4), ip4(s7PGIP, s7PLCIP, layers.IPProtocolTCP), tcpSeg(50000, c.port, false, true), gopacket.Payload(p)))
	return c
}

func (c *s7Conv) server(p []byte) *s7Conv {
	c.frames = append(c.frames, frame(c.t, eth(s7PLCMAC, s7PGMAC, layers.EthernetTypeIPv4), ip4(s7PLCIP, s7PGIP, layers.IPProtocolTCP), tcpSeg(c.port, 50000, false, true), gopacket.Payload(p)))
	return c
}

// facts decodes the conversation and returns field -> values for an IP.
func (c *s7Conv) facts(ip net.IP) map[string][]string {
	d := New(Options{Origin: "test"})
	feed(d, c.frames...)
	return factsOf(d.Flush().Obs, ip)
}

func factsOf(obs []model.Observation, ip net.IP) map[string][]string {
	out := map[string][]string{}
	for _, o := range obs {
		if o.Kind != model.ObsFact || o.Subject.IP.String() != ip.String() {
			continue
		}
		out[o.Fact.Field] = append(out[o.Fact.Field], o.Fact.Value)
	}
	return out
}

func hasValue(m map[string][]string, field, value string) bool {
	for _, v := range m[field] {
		if v == value {
			return true
		}
	}
	return false
}

func wantFacts(t *testing.T, m map[string][]string, kv ...string) {
	t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if !hasValue(m, kv[i], kv[i+1]) {
			t.Errorf("%s = %q missing; have %q", kv[i], kv[i+1], m[kv[i]])
		}
	}
}

// tpkt wraps a COTP DT payload.
func tpkt(payload []byte) []byte {
	p := []byte{3, 0, 0, 0, 0x02, 0xf0, 0x80}
	p = append(p, payload...)
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	return p
}

// cotpCR builds a connection request to the given called TSAP.
func cotpCR(dstTSAP []byte) []byte {
	cr := []byte{0, 0xe0, 0, 0, 0, 1, 0, 0xc0, 1, 0x0a, 0xc1, 2, 1, 0, 0xc2, byte(len(dstTSAP))}
	cr = append(cr, dstTSAP...)
	cr[0] = byte(len(cr) - 1)
	p := append([]byte{3, 0, 0, 0}, cr...)
	binary.BigEndian.PutUint16(p[2:], uint16(len(p)))
	return p
}

// s7Header builds an S7comm PDU.
func s7PDU(rosctr byte, par, data []byte) []byte {
	p := []byte{0x32, rosctr, 0, 0, 0, 1, 0, 0, 0, 0}
	if rosctr == 2 || rosctr == 3 {
		p = append(p, 0, 0)
	}
	binary.BigEndian.PutUint16(p[6:], uint16(len(par)))
	binary.BigEndian.PutUint16(p[8:], uint16(len(data)))
	p = append(p, par...)
	return append(p, data...)
}

// szlResponse builds a read-SZL userdata response fragment.
func szlResponse(ref, more byte, body []byte) []byte {
	par := []byte{0, 1, 0x12, 8, 0x12, 0x84, 0x01, 1, ref, more, 0, 0}
	data := []byte{0xff, 0x09, 0, 0}
	binary.BigEndian.PutUint16(data[2:], uint16(len(body)))
	return tpkt(s7PDU(7, par, append(data, body...)))
}

func szlHeader(id, recLen, count int) []byte {
	return []byte{byte(id >> 8), byte(id), 0, 0, byte(recLen >> 8), byte(recLen), byte(count >> 8), byte(count)}
}

func szl11Record(index int, mlfb string, bgtyp, ausbg, ausbe int) []byte {
	r := make([]byte, 28)
	binary.BigEndian.PutUint16(r, uint16(index))
	copy(r[2:22], []byte(mlfb + "                    ")[:20])
	binary.BigEndian.PutUint16(r[22:], uint16(bgtyp))
	binary.BigEndian.PutUint16(r[24:], uint16(ausbg))
	binary.BigEndian.PutUint16(r[26:], uint16(ausbe))
	return r
}

func szl1CRecord(index int, text []byte) []byte {
	r := make([]byte, 34)
	binary.BigEndian.PutUint16(r, uint16(index))
	copy(r[2:], text)
	return r
}

func TestS7RackSlotModuleAndIdentity(t *testing.T) {
	body := szlHeader(0x0011, 28, 3)
	body = append(body, szl11Record(1, "6ES7 315-2EH14-0AB0", 0xc0, 3, 1)...)
	body = append(body, szl11Record(6, "6ES7 315-2EH14-0AB0", 0xc0, 3, 1)...)
	body = append(body, szl11Record(7, "", 0xc0, 'V'<<8|3, 2<<8|7)...)
	mode := append(szlHeader(0x0424, 20, 1), 0x51, 0x44, 0xff, 0x08)
	mode = append(mode, make([]byte, 16)...)
	m := newS7Conv(t, 102).
		client(cotpCR([]byte{0x01, 0x02})). // rack 0 slot 2
		client(tpkt(s7PDU(1, []byte{0xf0, 0, 0, 1, 0, 1, 0x01, 0xe0}, nil))).
		server(szlResponse(0, 0, body)).
		server(szlResponse(0, 0, mode)).
		facts(s7PLCIP)
	wantFacts(t, m,
		fieldS7Rack, "0", fieldS7Slot, "2",
		model.FieldModule, "rack=0;slot=2",
		model.FieldModule, "rack=0;slot=2;order=6ES7 315-2EH14-0AB0",
		model.FieldModule, "rack=0;slot=2;fw=V3.2.7",
		model.FieldOrderNumber, "6ES7 315-2EH14-0AB0",
		model.FieldFirmware, "V3.2.7",
		model.FieldHardwareVersion, "3",
		fieldS7SZL0011, "0x0001;6ES7 315-2EH14-0AB0;0x00c0;3;1",
		fieldS7SZL0011, "0x0007;;0x00c0;22019;519",
		model.FieldOperatingMode, "RUN",
		model.FieldRole, model.RolePLC)
	pg := newS7Conv(t, 102).client(tpkt(s7PDU(1, []byte{0xf0, 0, 0, 1, 0, 1, 0x01, 0xe0}, nil))).facts(s7PGIP)
	wantFacts(t, pg, fieldS7Function, "0xf0 setup communication")
}

func TestS7ComponentIdentFragmented(t *testing.T) {
	recs := []byte{}
	texts := map[int]string{1: "S7300/ET200M station_1", 2: "PLC_1", 4: "Original Siemens Equipment", 5: "S C-B1U393142011", 7: "CPU 315-2 PN/DP", 8: "MMC 4A1AC019"}
	for _, i := range []int{1, 2, 4, 5, 7, 8} {
		recs = append(recs, szl1CRecord(i, []byte(texts[i]))...)
	}
	recs = append(recs, szl1CRecord(9, []byte{0x00, 0x2a, 0xf6, 0x00, 0x00, 0x01})...)
	recs = append(recs, szl1CRecord(10, []byte{0x00, 0x00, 0x00, 0x00, 0x00, 0x05})...)
	all := append(szlHeader(0x001c, 34, 8), recs...)
	// cut after the index of the 6th record (8 + 5*34 + 2), as a PLC with a
	// 240-byte PDU does
	cut := 8 + 5*34 + 2
	m := newS7Conv(t, 102).
		server(szlResponse(0xd5, 1, all[:cut])).
		server(szlResponse(0xd5, 0, all[cut:])).
		facts(s7PLCIP)
	wantFacts(t, m,
		model.FieldStationName, "S7300/ET200M station_1",
		fieldS7ModuleName, "PLC_1",
		fieldS7Copyright, "Original Siemens Equipment",
		model.FieldSerial, "S C-B1U393142011",
		model.FieldProduct, "CPU 315-2 PN/DP",
		fieldS7MemoryCard, "MMC 4A1AC019", // completed from the second fragment
		fieldS7ManufacturerID, "42",
		model.FieldVendor, "Siemens",
		fieldS7ProfileID, "62976",
		fieldS7ProfileSpecType, "1",
		fieldS7OEMID, "0",
		fieldS7OEMAddID, "5")
}

func TestS7ClientFunctions(t *testing.T) {
	pi := []byte{0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0, 0, 9}
	pi = append(pi, "P_PROGRAM"...)
	readSZL := s7PDU(7, []byte{0, 1, 0x12, 4, 0x11, 0x44, 0x01, 0}, []byte{0xff, 0x09, 0, 4, 0x00, 0x11, 0, 0})
	m := newS7Conv(t, 102).
		client(tpkt(s7PDU(1, []byte{0x04, 1, 0x12, 0x0a, 0x10, 2, 0, 1, 0, 1, 0x84, 0, 0, 0}, nil))).
		client(tpkt(s7PDU(1, []byte{0x05, 1}, nil))).
		client(tpkt(s7PDU(1, []byte{0x1a, 0}, nil))).
		client(tpkt(s7PDU(1, []byte{0x29, 0}, nil))).
		client(tpkt(s7PDU(1, pi, nil))).
		client(tpkt(readSZL)).
		facts(s7PGIP)
	wantFacts(t, m,
		fieldS7Function, "0x04 read var",
		fieldS7Function, "0x05 write var",
		fieldS7Function, "0x1a request download",
		fieldS7Function, "0x29 plc stop",
		fieldS7Function, "0x28 pi service P_PROGRAM (start plc)",
		fieldS7Function, s7ReadSZLIdent)
	if n := len(m[fieldS7Function]); n != 6 {
		t.Errorf("functions = %q, want 6", m[fieldS7Function])
	}
}

func TestS7PlusIdentity(t *testing.T) {
	s := "1;6ES7 214-1HE30-0XB0 ;V2.2"
	body := []byte{0x72, 0x01, 0x00, 0x00, 0x32, 0x00, 0x00, 0x04, 0xca, 0, 0, 0, 1, 0x82, 0x3f, 0x00, 0x15, byte(len(s))}
	body = append(body, s...)
	body = append(body, 0x72, 0x01, 0, 0)
	m := newS7Conv(t, 102).server(tpkt(body)).facts(s7PLCIP)
	wantFacts(t, m, model.FieldOrderNumber, "6ES7 214-1HE30-0XB0", model.FieldFirmware, "V2.2", model.FieldRole, model.RolePLC)
}

func TestCOTPMalformedDoesNotPanic(t *testing.T) {
	for _, p := range [][]byte{
		{3, 0, 0xff, 0xff, 2, 0xf0, 0x80},       // length beyond the segment
		{3, 0, 0, 5, 2},                         // length below the minimum
		{3, 0, 0, 7, 9, 0xf0, 0x80},             // LI beyond the PDU
		{3, 0, 0, 9, 4, 0xe0, 0, 0, 0},          // short CR
		tpkt([]byte{0x32, 7, 0, 0, 0, 0, 0xff}), // short S7 header
		tpkt([]byte{0x32, 1, 0, 0, 0, 0, 0xff, 0xff, 0, 0}),
		tpkt([]byte{0x01, 0x00, 0x01, 0x00, 0x61, 0x84, 0xff, 0xff, 0xff, 0xff}),
	} {
		newS7Conv(t, 102).client(p).server(p).facts(s7PLCIP)
	}
}

func TestTPKTHeaderInItsOwnSegment(t *testing.T) {
	// ICCP stacks send the 4-byte TPKT header, then the COTP PDU
	resp := mmsIdentifyResponse("AREVA T&D Corporation", "e-terracomm", "2.3.1")
	full := tpkt(resp)
	m := newS7Conv(t, 102).server(full[:4]).server(full[4:]).facts(s7PLCIP)
	wantFacts(t, m, model.FieldVendor, "AREVA T&D Corporation", model.FieldProduct, "e-terracomm", model.FieldFirmware, "2.3.1")
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// mmsSession wraps an MMS PDU in session DT and presentation user data.
func mmsSession(pdu []byte) []byte {
	pdv := ber.TLV(0x30, cat([]byte{0x02, 0x01, 0x03}, ber.TLV(0xa0, pdu)))
	return cat([]byte{0x01, 0x00, 0x01, 0x00}, ber.TLV(0x61, pdv))
}

func mmsIdentifyResponse(vendor, model, rev string) []byte {
	svc := ber.TLV(0xa2, cat(ber.TLV(0x80, []byte(vendor)), ber.TLV(0x81, []byte(model)), ber.TLV(0x82, []byte(rev))))
	return mmsSession(ber.TLV(0xa1, cat([]byte{0x02, 0x01, 0x01}, svc)))
}

func mmsReadRequest(invoke byte, domain, item string) []byte {
	name := ber.TLV(0xa0, ber.TLV(0xa1, cat(ber.TLV(0x1a, []byte(domain)), ber.TLV(0x1a, []byte(item)))))
	spec := ber.TLV(0xa1, ber.TLV(0xa0, ber.TLV(0x30, name)))
	return mmsSession(ber.TLV(0xa0, cat([]byte{0x02, 0x01, invoke}, ber.TLV(0xa4, spec))))
}

func mmsReadResp(invoke byte, data []byte) []byte {
	return mmsSession(ber.TLV(0xa1, cat([]byte{0x02, 0x01, invoke}, ber.TLV(0xa4, ber.TLV(0xa1, data)))))
}

func TestMMSIdentifyAndNamePlate(t *testing.T) {
	vs := func(s string) []byte { return ber.TLV(0x8a, []byte(s)) }
	phyNam := ber.TLV(0xa2, cat(vs("GE Multilin"), vs("U"), vs("8.40"), vs("SN123"), vs("L90-UNP"), vs("HTC_Lab")))
	lphd := ber.TLV(0xa2, cat(phyNam, ber.TLV(0xa2, vs("health"))))
	conv := newS7Conv(t, 102).
		client(tpkt(mmsSession(ber.TLV(0xa0, cat([]byte{0x02, 0x01, 0x01}, []byte{0x82, 0x00}))))).
		server(tpkt(mmsIdentifyResponse("ABB", "REF615", "5.0"))).
		client(tpkt(mmsReadRequest(7, "UR89Master", "LPHD1$DC"))).
		server(tpkt(mmsReadResp(7, lphd))).
		client(tpkt(mmsReadRequest(8, "UR89Ctrl", "BknCndPIOC1$DC$NamPlt$vendor"))).
		server(tpkt(mmsReadResp(9, vs("not the answer")))).
		client(tpkt(mmsReadRequest(10, "UR89Master", "LLN0$DC$NamPlt"))).
		server(tpkt(mmsReadResp(10, ber.TLV(0xa2, cat(vs("GE"), vs("8.41"), vs("Master LD"))))))
	m := conv.facts(s7PLCIP)
	wantFacts(t, m,
		model.FieldVendor, "ABB", model.FieldProduct, "REF615", model.FieldFirmware, "5.0",
		model.FieldVendor, "GE Multilin", model.FieldHardwareVersion, "U", model.FieldFirmware, "8.40",
		model.FieldSerial, "SN123", model.FieldProduct, "L90-UNP", fieldMMSLocation, "HTC_Lab",
		fieldMMSLDDescription, "Master LD")
	if hasValue(m, model.FieldVendor, "not the answer") {
		t.Error("a response with another invoke id was taken as the name plate")
	}
	c := conv.facts(s7PGIP)
	wantFacts(t, c, fieldMMSFunction, "0x02 identify", fieldMMSFunction, "0x04 read")
}

func TestBERBounds(t *testing.T) {
	for _, b := range [][]byte{
		{0x30, 0x80, 0, 0},             // indefinite length
		{0x30, 0x84, 0, 0, 0, 1, 0},    // 4-byte length
		{0x30, 0x82, 0xff, 0xff, 1, 2}, // longer than the data
		{0x1f, 0xff, 0xff, 0xff, 0xff, 0x7f, 0},
		{0x30},
	} {
		if _, _, ok := berNext(b); ok {
			t.Errorf("berNext(% x) accepted", b)
		}
	}
	e, rest, ok := berNext([]byte{0xbf, 0x48, 0x02, 1, 2, 9})
	if !ok || e.tag != 72 || e.class != berContext || !e.constructed || len(e.content) != 2 || len(rest) != 1 {
		t.Errorf("high tag: %+v %v %v", e, rest, ok)
	}
}

// BenchmarkS7ReadVarPolling decodes steady S7 read var polling: a job and
// its ack data per exchange, 50 HMI/PLC pairs. It must not allocate.
func BenchmarkS7ReadVarPolling(b *testing.B) {
	job := tpkt(s7PDU(1, []byte{0x04, 1, 0x12, 0x0a, 0x10, 2, 0, 1, 0, 1, 0x84, 0, 0, 0}, nil))
	ack := tpkt(s7PDU(3, []byte{0x04, 1}, []byte{0xff, 0x04, 0, 16, 0, 0}))
	var frames [][]byte
	pollingPairs(50, siemensOUI, func(i int, hmi, plc net.HardwareAddr, hip, pip net.IP) {
		frames = append(frames,
			enipTCP(b, hmi, plc, hip, pip, 40000+uint16(i), 102, job),
			enipTCP(b, plc, hmi, pip, hip, 102, 40000+uint16(i), ack))
	})
	benchFrames(b, frames)
}

func TestMMSNamePlateCutAcrossSegments(t *testing.T) {
	vs := func(s string) []byte { return ber.TLV(0x8a, []byte(s)) }
	phyNam := ber.TLV(0xa2, cat(vs("GE Multilin"), vs("U"), vs("8.40"), vs(""), vs("L90-UNP"), vs("HTC_Lab")))
	var more []byte
	for i := 0; i < 40; i++ {
		more = append(more, ber.TLV(0xa2, vs("a long description of one more data object"))...)
	}
	full := tpkt(mmsReadResp(7, ber.TLV(0xa2, cat(phyNam, more))))
	m := newS7Conv(t, 102).
		client(tpkt(mmsReadRequest(7, "UR89Master", "LPHD1$DC"))).
		server(full[:1400]).
		server(full[1400:]).
		facts(s7PLCIP)
	wantFacts(t, m, model.FieldVendor, "GE Multilin", model.FieldFirmware, "8.40", model.FieldProduct, "L90-UNP")
	if len(m[model.FieldSerial]) != 0 {
		t.Errorf("empty serial reported: %q", m[model.FieldSerial])
	}
}
