package decode

import (
	"testing"

	"otscope/model"
)

func finsFrameBytes(resp bool, code uint16, dnode, snode byte, data ...byte) []byte {
	icf := byte(0x80)
	if resp {
		icf = 0xc0
	}
	f := []byte{icf, 0, 2, 0, dnode, 0, 0, snode, 0, 1, byte(code >> 8), byte(code)}
	return append(f, data...)
}

func finsTCPWrap(cmd uint32, body []byte) []byte {
	n := uint32(8 + len(body))
	h := []byte{'F', 'I', 'N', 'S', byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n), 0, 0, 0, byte(cmd), 0, 0, 0, 0}
	return append(h, body...)
}

func finsControllerData() []byte {
	d := []byte{0, 0}
	model := make([]byte, 20)
	copy(model, "CJ2M-CPU31")
	ver := make([]byte, 20)
	copy(ver, "02.01")
	copy(ver[10:], "01.06")
	return append(append(d, model...), ver...)
}

func TestFINSUDP(t *testing.T) {
	s := newSOFlow(9600, true)
	s.send(parseFINS, false, finsFrameBytes(false, 0x0501, 1, 99))
	s.send(parseFINS, false, finsFrameBytes(false, 0x0102, 1, 99, 0x82, 0, 0, 0, 0, 1, 0, 0))
	s.send(parseFINS, false, finsFrameBytes(false, 0x0402, 1, 99))
	s.send(parseFINS, true, finsFrameBytes(true, 0x0501, 99, 1, finsControllerData()...))
	cl, sv := s.sides()
	soWantFact(t, cl, FieldFINSFunction, "0x0501 controller data read")
	soWantFact(t, cl, FieldFINSFunction, "0x0102 memory area write")
	soWantFact(t, cl, FieldFINSFunction, "0x0402 stop")
	soWantFact(t, cl, FieldFINSNode, "99")
	soWantFact(t, sv, FieldFINSNode, "1")
	soWantFact(t, sv, model.FieldProduct, "CJ2M-CPU31")
	soWantFact(t, sv, model.FieldFirmware, "02.01")
	soWantFact(t, sv, model.FieldRole, model.RolePLC)
}

func TestFINSTCP(t *testing.T) {
	s := newSOFlow(9600, false)
	s.send(parseFINS, true, finsTCPWrap(1, []byte{0, 0, 0, 0xfb, 0, 0, 0, 0x0a}))
	s.send(parseFINS, true, finsTCPWrap(2, finsFrameBytes(true, 0x0501, 0xfb, 0x0a, finsControllerData()...)))
	m := s.facts(soServerIP)
	soWantFact(t, m, FieldFINSNode, "10")
	soWantFact(t, m, model.FieldProduct, "CJ2M-CPU31")
	// a length of 2^32-1 in a 16-byte header
	s.send(parseFINS, true, []byte{'F', 'I', 'N', 'S', 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 0, 0, 0, 0})
	if s.d.stats.DecodeErrors == 0 {
		t.Error("bad length not counted")
	}
}

func FuzzFINS(f *testing.F) {
	f.Add(finsFrameBytes(true, 0x0501, 99, 1, finsControllerData()...), true, true)
	f.Add(finsTCPWrap(2, finsFrameBytes(false, 0x0101, 1, 2, 0x82, 0, 0, 0, 0, 1)), false, false)
	for _, p := range soSeedPayloads(f, 9600, "omron-fins") {
		f.Add(p, true, false)
	}
	f.Fuzz(func(t *testing.T, p []byte, fromServer, udp bool) {
		soFuzzOne(t, parseFINS, 9600, udp, fromServer, p)
	})
}

// BenchmarkFINSPolling: memory area reads over FINS/TCP.
func BenchmarkFINSPolling(b *testing.B) {
	req := finsTCPWrap(2, finsFrameBytes(false, 0x0101, 1, 2, 0x82, 0, 0, 0, 0, 10))
	resp := finsTCPWrap(2, finsFrameBytes(true, 0x0101, 2, 1, make([]byte, 22)...))
	benchFrames(b, soBenchFrames(b, 9600, req, resp))
}
