package decode

import (
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"

	"otscope/scan/internal/mbap"
)

// enipTCP builds one TCP data segment between two hosts.
func enipTCP(t testing.TB, smac, dmac net.HardwareAddr, sip, dip net.IP, sp, dp uint16, p []byte) []byte {
	return frame(t, eth(smac, dmac, layers.EthernetTypeIPv4), ip4(sip, dip, layers.IPProtocolTCP), tcpSeg(sp, dp, false, true), gopacket.Payload(p))
}

// enipFactsOf returns field -> values -> detail of the facts about ip.
func enipFactsOf(obs []model.Observation, ip net.IP) map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, o := range obs {
		if o.Kind != model.ObsFact || o.Subject.IP.String() != ip.String() {
			continue
		}
		if out[o.Fact.Field] == nil {
			out[o.Fact.Field] = map[string]string{}
		}
		out[o.Fact.Field][o.Fact.Value] = o.Fact.Detail
	}
	return out
}

func TestModbusPollingFunctionsAndUnitIDs(t *testing.T) {
	d := New(Options{Origin: "unit"})
	req := mbap.ADU(1, 7, 3, 0, 0, 0, 2)
	resp := mbap.ADU(1, 7, 3, 4, 0, 1, 0, 2)
	wr := mbap.ADU(2, 7, 16, 0, 10, 0, 1, 2, 0, 5)
	diag := mbap.ADU(3, 9, 8, 0, 0, 0xab, 0xcd)
	exc := mbap.ADU(3, 9, 0x88, 1)
	feed(d,
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 40000, 502, req),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, resp),
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 40000, 502, append(append([]byte{}, req...), wr...)),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, resp),
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 40000, 502, diag),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, exc),
	)
	obs := d.Flush().Obs
	hmi, plc := enipFactsOf(obs, ipHMI), enipFactsOf(obs, ipPLC)
	fn := hmi[model.FieldModbusFunction]
	for v, cat := range map[string]string{
		"0x03 read holding registers":   "read",
		"0x10 write multiple registers": "write",
		"0x08 diagnostics":              "diagnostic",
	} {
		if got, ok := fn[v]; !ok || got != cat {
			t.Errorf("client function %q = %q (present %v), want category %q; all: %v", v, got, ok, cat, fn)
		}
	}
	if len(fn) != 3 {
		t.Errorf("client functions = %v, want 3 (each once)", fn)
	}
	if _, ok := plc[model.FieldModbusUnitID]["7"]; !ok {
		t.Errorf("server unit ids = %v, want 7", plc[model.FieldModbusUnitID])
	}
	if _, ok := plc[model.FieldModbusUnitID]["9"]; !ok {
		t.Errorf("exception answer from unit 9 not recorded: %v", plc[model.FieldModbusUnitID])
	}
	if len(hmi[model.FieldModbusUnitID]) != 0 || len(plc[model.FieldModbusFunction]) != 0 {
		t.Errorf("roles mixed up: hmi=%v plc=%v", hmi, plc)
	}
}

func TestModbusDeviceIdentification(t *testing.T) {
	objs := []byte{0x0e, 0x01, 0x83, 0x00, 0x00, 8}
	add := func(id byte, s string) { objs = append(append(objs, id, byte(len(s))), s...) }
	add(0, "Schneider Electric")
	add(1, "BMX P34 2020")
	add(2, "v3.10")
	add(3, "www.se.com")
	add(4, "Modicon M340")
	add(5, "BMXP342020")
	add(6, "LINE3_PLC")
	add(0x81, "rack A")
	pdu := append([]byte{43}, objs...)
	d := New(Options{Origin: "unit"})
	feed(d,
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 40000, 502, mbap.ADU(1, 0, 43, 14, 1, 0)),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, mbap.ADU(1, 0, pdu...)),
	)
	obs := d.Flush().Obs
	plc := enipFactsOf(obs, ipPLC)
	want := map[string]string{
		model.FieldVendor:          "Schneider Electric",
		model.FieldOrderNumber:     "BMX P34 2020",
		model.FieldFirmware:        "v3.10",
		FieldModbusVendorURL:       "www.se.com",
		model.FieldProduct:         "Modicon M340",
		FieldModbusModelName:       "BMXP342020",
		FieldModbusUserApplication: "LINE3_PLC",
		"modbus.device_id.0x81":    "rack A",
	}
	for f, v := range want {
		if _, ok := plc[f][v]; !ok {
			t.Errorf("%s = %v, want %q", f, plc[f], v)
		}
	}
	if d := enipFactsOf(obs, ipHMI)[model.FieldModbusFunction]["0x2b read device identification"]; d != "identify" {
		t.Errorf("client FC 43/14 category = %q, want identify", d)
	}
}

func TestModbusReportServerID(t *testing.T) {
	d := New(Options{Origin: "unit"})
	pdu := append([]byte{17, 6, 0x42, 0xff}, "M340"...)
	feed(d,
		enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 40000, 502, mbap.ADU(1, 1, 17)),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, mbap.ADU(1, 1, pdu...)),
	)
	plc := enipFactsOf(d.Flush().Obs, ipPLC)
	if _, ok := plc[model.FieldOperatingMode]["RUN"]; !ok {
		t.Errorf("operating mode = %v, want RUN", plc[model.FieldOperatingMode])
	}
	if _, ok := plc[FieldModbusServerID]["0x42 M340"]; !ok {
		t.Errorf("server id = %v, want \"0x42 M340\"", plc[FieldModbusServerID])
	}
	d = New(Options{Origin: "unit"})
	feed(d, enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, mbap.ADU(1, 1, 17, 2, 0x01, 0x00)))
	if _, ok := enipFactsOf(d.Flush().Obs, ipPLC)[model.FieldOperatingMode]["STOP"]; !ok {
		t.Error("run indicator 0x00 should give STOP")
	}
}

// A device that opens the TCP connection from port 502 is still the server.
func TestModbusServerOnPort502OpensConnection(t *testing.T) {
	d := New(Options{Origin: "unit"})
	feed(d,
		frame(t, eth(macPLC, macHMI, layers.EthernetTypeIPv4), ip4(ipPLC, ipHMI, layers.IPProtocolTCP), tcpSeg(502, 4446, true, false)),
		frame(t, eth(macHMI, macPLC, layers.EthernetTypeIPv4), ip4(ipHMI, ipPLC, layers.IPProtocolTCP), tcpSeg(4446, 502, true, true)),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 4446, mbap.ADU(5, 10, 1, 1, 0x05)),
	)
	if _, ok := enipFactsOf(d.Flush().Obs, ipPLC)[model.FieldModbusUnitID]["10"]; !ok {
		t.Error("unit id of the 502 side not recorded")
	}
}

func TestModbusMalformed(t *testing.T) {
	d := New(Options{Origin: "unit"})
	huge := []byte{0, 1, 0, 0, 0xff, 0xff, 1, 3, 0, 0}
	notModbus := []byte{0, 1, 0, 5, 0, 6, 1, 3, 0, 0, 0, 1}
	cut := mbap.ADU(1, 1, 3, 4, 0, 1, 0, 2)[:10]
	badObjs := mbap.ADU(1, 0, 43, 14, 1, 0x83, 0, 0, 5, 0, 200, 'x')
	feed(d,
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, huge),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, notModbus),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, cut),
		enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, badObjs),
	)
	b := d.Flush()
	plc := enipFactsOf(b.Obs, ipPLC)
	if len(plc[model.FieldVendor]) != 0 || len(plc[model.FieldModbusUnitID]) > 1 {
		t.Errorf("malformed PDUs produced facts: %v", plc)
	}
	if b.Stats.DecodeErrors < 3 {
		t.Errorf("decode errors = %d, want >= 3", b.Stats.DecodeErrors)
	}
}

func TestModbusPollingAllocatesNothing(t *testing.T) {
	d := New(Options{Origin: "unit"})
	req := enipTCP(t, macHMI, macPLC, ipHMI, ipPLC, 40000, 502, mbap.ADU(1, 1, 3, 0, 0, 0, 10))
	resp := enipTCP(t, macPLC, macHMI, ipPLC, ipHMI, 502, 40000, mbap.ADU(1, 1, 3, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20))
	wantNoAllocs(t, d, "Modbus polling", req, resp)
}

// BenchmarkModbusPolling decodes FC 3 polling between 50 HMI/PLC pairs with
// real Modbus PDUs (the identification path on the hot loop).
func BenchmarkModbusPolling(b *testing.B) {
	var frames [][]byte
	pollingPairs(50, siemensOUI, func(i int, hmi, plc net.HardwareAddr, hip, pip net.IP) {
		frames = append(frames,
			enipTCP(b, hmi, plc, hip, pip, 40000+uint16(i), 502, mbap.ADU(uint16(i), 1, 3, 0, 0, 0, 10)),
			enipTCP(b, plc, hmi, pip, hip, 502, 40000+uint16(i), mbap.ADU(uint16(i), 1, 3, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)))
	})
	benchFrames(b, frames)
}

// BenchmarkModbusParser measures the parser alone on a polling response.
func BenchmarkModbusParser(b *testing.B) {
	d := New(Options{Origin: "bench"})
	resp := mbap.ADU(1, 1, 3, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)
	c := &appCtx{d: d, fi: &frameInfo{}, f: &flowState{server: 1}, side: 1, sp: 502, dp: 40000}
	parseModbus(c, resp)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		parseModbus(c, resp)
	}
}

// FuzzModbus drives the parser with arbitrary payloads in both directions.
func FuzzModbus(f *testing.F) {
	for _, p := range soSeedPayloads(f, 502, "enip", "modbus", "mixed") {
		f.Add(p)
	}
	f.Add(mbap.ADU(1, 1, 3, 4, 0, 1, 0, 2))
	f.Add(mbap.ADU(1, 0, 43, 14, 1, 0x83, 0, 0, 1, 0, 3, 'a', 'b', 'c'))
	f.Add(mbap.ADU(1, 1, 17, 3, 0x42, 0xff, 'x'))
	f.Fuzz(func(t *testing.T, p []byte) {
		d := New(Options{Origin: "fuzz"})
		for side := 0; side < 2; side++ {
			c := &appCtx{d: d, fi: &frameInfo{}, f: &flowState{server: 1}, side: side, sp: 502, dp: 40000}
			if side == 0 {
				c.sp, c.dp = 40000, 502
			}
			parseModbus(c, p)
		}
		for _, o := range d.Flush().Obs {
			if len(o.Fact.Value) > 4*maxText {
				t.Fatalf("unbounded value %d bytes", len(o.Fact.Value))
			}
		}
	})
}
