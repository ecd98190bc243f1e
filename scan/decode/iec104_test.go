package decode

import (
	"testing"

	"otscope/model"
)

// iec104I builds an I-format APDU around an ASDU (one IOA, value bytes).
func iec104I(typ, cot byte, ca uint16, obj ...byte) []byte {
	asdu := []byte{typ, 1, cot, 0, byte(ca), byte(ca >> 8), 1, 0, 0}
	asdu = append(asdu, obj...)
	return append([]byte{0x68, byte(4 + len(asdu)), 0, 0, 0, 0}, asdu...)
}

func TestIEC104Facts(t *testing.T) {
	s := newSOFlow(2404, false)
	startdt := []byte{0x68, 4, 0x07, 0, 0, 0}
	s.send(parseIEC104, false, startdt)
	s.send(parseIEC104, false, append(iec104I(100, 6, 0xffff, 20), iec104I(45, 6, 7, 1)...)) // interrogation (broadcast), single command
	s.send(parseIEC104, true, iec104I(13, 3, 7, 0, 0, 0x80, 0x3f, 0))                        // M_ME_NC_1
	s.send(parseIEC104, true, iec104I(13, 3, 7, 0, 0, 0x80, 0x3f, 0))
	obs := s.d.Flush().Obs
	got := map[soIPKey]map[string][]string{}
	for _, o := range obs {
		if o.Kind != model.ObsFact {
			continue
		}
		k := soIPKey(o.Subject.IP.String())
		if got[k] == nil {
			got[k] = map[string][]string{}
		}
		got[k][o.Fact.Field] = append(got[k][o.Fact.Field], o.Fact.Value)
	}
	cl, sv := got[soIPKey(soClientIP.String())], got[soIPKey(soServerIP.String())]
	soWantFact(t, cl, FieldIEC104Function, "100 C_IC_NA_1")
	soWantFact(t, cl, FieldIEC104Function, "45 C_SC_NA_1")
	soWantFact(t, cl, FieldIEC104TypeID, "100 C_IC_NA_1")
	soWantFact(t, sv, FieldIEC104TypeID, "13 M_ME_NC_1")
	soWantFact(t, sv, model.FieldIEC104CommonAddr, "7")
	soWantFact(t, sv, model.FieldRole, model.RoleRTU)
	if len(sv[model.FieldIEC104CommonAddr]) != 1 || len(sv[FieldIEC104TypeID]) != 1 {
		t.Errorf("repeated facts: %q", sv)
	}
	if len(cl[model.FieldIEC104CommonAddr]) != 0 {
		t.Errorf("common address on the controlling station: %q", cl[model.FieldIEC104CommonAddr])
	}
}

type soIPKey string

func TestIEC104Malformed(t *testing.T) {
	s := newSOFlow(2404, false)
	s.send(parseIEC104, true, []byte{0x68, 0x02, 0, 0, 0, 0})                   // length < 4
	s.send(parseIEC104, true, []byte{0x68, 0x09, 0, 0, 0, 0, 13, 1, 3})         // ASDU cut: waits for the next segment
	s.send(parseIEC104, true, []byte{0x68, 0x07, 0, 0, 0, 0, 0xc8, 1, 3})       // type 200, short ASDU
	s.send(parseIEC104, true, []byte{0x68, 0x0a, 0, 0, 0, 0, 0, 1, 3, 0, 7, 0}) // type 0
	if s.d.stats.DecodeErrors < 3 {
		t.Errorf("decode errors = %d", s.d.stats.DecodeErrors)
	}
	if m := s.facts(soServerIP); len(m) != 0 {
		t.Errorf("facts from malformed APDUs: %q", m)
	}
}

func FuzzIEC104(f *testing.F) {
	f.Add(iec104I(13, 3, 7, 0, 0, 0x80, 0x3f, 0), true)
	f.Add(iec104I(45, 6, 7, 1), false)
	soFuzz(f, parseIEC104, 2404, false, "iec104")
}

// BenchmarkIEC104Polling: S-frame acknowledgements and measured values.
func BenchmarkIEC104Polling(b *testing.B) {
	req := []byte{0x68, 4, 0x01, 0, 2, 0}
	resp := append(iec104I(13, 3, 7, 0, 0, 0x80, 0x3f, 0), iec104I(36, 3, 7, 0, 0, 0x80, 0x3f, 0, 1, 2, 3, 4, 5, 6, 7)...)
	benchFrames(b, soBenchFrames(b, 2404, req, resp))
}
