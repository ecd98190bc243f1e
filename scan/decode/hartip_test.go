package decode

import (
	"encoding/binary"
	"testing"

	"otscope/model"
)

func hartMsg(msgType, msgID byte, body []byte) []byte {
	h := []byte{1, msgType, msgID, 0, 0, 1, 0, 0}
	binary.BigEndian.PutUint16(h[6:], uint16(8+len(body)))
	return append(h, body...)
}

// hartFrame builds a long-frame HART PDU.
func hartFrame(delim byte, addr [5]byte, cmd byte, data []byte) []byte {
	f := append([]byte{delim}, addr[:]...)
	f = append(f, cmd, byte(len(data)))
	f = append(f, data...)
	var x byte
	for _, b := range f {
		x ^= b
	}
	return append(f, x)
}

func hartCmd0(devType uint16, mfr uint16, devID [3]byte) []byte {
	d := []byte{0, 0x50, 254, byte(devType >> 8), byte(devType), 5, 7, 4, 1, 0x0e, 0x0c, devID[0], devID[1], devID[2], 5, 2, 0, 2, 0xd0}
	d = binary.BigEndian.AppendUint16(d, mfr)
	d = binary.BigEndian.AppendUint16(d, mfr)
	return append(d, 132)
}

func TestHARTIPIdentity(t *testing.T) {
	s := newSOFlow(5094, true)
	a1 := [5]byte{0x26, 0x4e, 0, 0, 0xd2}
	a2 := [5]byte{0x11, 0x22, 0, 1, 2}
	s.send(parseHARTIP, false, hartMsg(0, 0, []byte{1, 0, 0, 0x75, 0x30}))
	s.send(parseHARTIP, false, hartMsg(0, 3, hartFrame(0x82, a1, 0, nil)))
	s.send(parseHARTIP, true, hartMsg(1, 3, hartFrame(0x86, a1, 0, hartCmd0(0x264e, 38, [3]byte{0, 0, 0xd2}))))
	s.send(parseHARTIP, false, hartMsg(0, 3, hartFrame(0x82, a1, 3, nil)))
	s.send(parseHARTIP, false, hartMsg(0, 3, hartFrame(0x82, a1, 42, nil)))
	s.send(parseHARTIP, true, hartMsg(1, 3, hartFrame(0x86, a2, 0, hartCmd0(0x1122, 17, [3]byte{0, 1, 2}))))
	cl, sv := s.sides()
	soWantFact(t, cl, FieldHARTFunction, "0 read unique identifier")
	soWantFact(t, cl, FieldHARTFunction, "3 read dynamic variables and loop current")
	soWantFact(t, cl, FieldHARTFunction, "42 perform device reset")
	soWantFact(t, sv, model.FieldVendor, "Rosemount")
	soWantFact(t, sv, FieldHARTManufacturerID, "38")
	soWantFact(t, sv, FieldHARTDeviceType, "0x264e")
	soWantFact(t, sv, model.FieldSerial, "210")
	soWantFact(t, sv, model.FieldFirmware, "1")
	soWantFact(t, sv, model.FieldHardwareVersion, "1")
	soWantFact(t, sv, FieldHARTUniversalRev, "7")
	soWantFact(t, sv, model.FieldRole, model.RoleIndustrialGateway)
	soWantFact(t, sv, "hart:1122000102|"+model.FieldVendor, "Endress+Hauser")
	soWantFact(t, sv, "hart:1122000102|"+model.FieldSerial, "258")
}

func TestHARTIPMalformed(t *testing.T) {
	s := newSOFlow(5094, true)
	s.send(parseHARTIP, true, []byte{1, 1, 3, 0, 0, 1, 0, 4})                // byte count < 8
	s.send(parseHARTIP, true, []byte{9, 1, 3, 0, 0, 1, 0, 8})                // version 9
	s.send(parseHARTIP, true, hartMsg(1, 3, []byte{0x86, 1, 2, 3, 4, 5, 0})) // cut PDU
	if s.d.stats.DecodeErrors < 3 {
		t.Errorf("decode errors = %d", s.d.stats.DecodeErrors)
	}
	if m := s.facts(soServerIP); len(m) != 0 {
		t.Errorf("facts from malformed messages: %q", m)
	}
}

func FuzzHARTIP(f *testing.F) {
	f.Add(hartMsg(1, 3, hartFrame(0x86, [5]byte{0x26, 0x4e, 0, 0, 0xd2}, 0, hartCmd0(0x264e, 38, [3]byte{0, 0, 0xd2}))), true)
	soFuzz(f, parseHARTIP, 5094, true, "hart-ip")
}

// BenchmarkHARTIPPolling: command 3 (dynamic variables) polling.
func BenchmarkHARTIPPolling(b *testing.B) {
	a := [5]byte{0x26, 0x4e, 0, 0, 0xd2}
	req := hartMsg(0, 3, hartFrame(0x82, a, 3, nil))
	resp := hartMsg(1, 3, hartFrame(0x86, a, 3, make([]byte, 26)))
	benchFrames(b, soBenchFrames(b, 5094, req, resp))
}
