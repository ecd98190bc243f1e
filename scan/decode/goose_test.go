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

var iedMAC = net.HardwareAddr{0x00, 0xa0, 0xf4, 0x00, 0x00, 0x01}

// iecL2Frame builds a GOOSE or SV frame: APPID, length, reserved, APDU.
func iecL2Frame(t testing.TB, et layers.EthernetType, appid int, apdu []byte) []byte {
	h := make([]byte, 8, 8+len(apdu))
	binary.BigEndian.PutUint16(h, uint16(appid))
	binary.BigEndian.PutUint16(h[2:], uint16(8+len(apdu)))
	dst := net.HardwareAddr{0x01, 0x0c, 0xcd, 0x01, 0x00, 0x01}
	return frame(t, eth(iedMAC, dst, et), gopacket.Payload(append(h, apdu...)))
}

func gooseAPDU(gocbRef, datSet, goID string, stNum, sqNum byte) []byte {
	return ber.TLV(0x61, cat(
		ber.TLV(0x80, []byte(gocbRef)),
		ber.TLV(0x81, []byte{0x07, 0xd0}),
		ber.TLV(0x82, []byte(datSet)),
		ber.TLV(0x83, []byte(goID)),
		ber.TLV(0x84, make([]byte, 8)),
		ber.TLV(0x85, []byte{stNum}),
		ber.TLV(0x86, []byte{sqNum}),
		ber.TLV(0x87, []byte{0}),
		ber.TLV(0x88, []byte{0x01, 0x00}),
		ber.TLV(0x89, []byte{0}),
		ber.TLV(0x8a, []byte{2}),
		ber.TLV(0xab, cat(ber.TLV(0x83, []byte{1}), ber.TLV(0x83, []byte{0})))))
}

func l2Facts(obs []model.Observation, mac net.HardwareAddr) map[string][]string {
	out := map[string][]string{}
	for _, o := range obs {
		if o.Kind == model.ObsFact && o.Subject.MAC == model.MACFrom(mac) {
			out[o.Fact.Field] = append(out[o.Fact.Field], o.Fact.Value)
		}
	}
	return out
}

func TestGOOSEPublisher(t *testing.T) {
	d := New(Options{Origin: "test"})
	a := iecL2Frame(t, 0x88b8, 0x3001, gooseAPDU("IED1CTRL/LLN0$GO$gcb1", "IED1CTRL/LLN0$ds1", "IED1_gcb1", 1, 0))
	b := iecL2Frame(t, 0x88b8, 0x3001, gooseAPDU("IED1CTRL/LLN0$GO$gcb1", "IED1CTRL/LLN0$ds1", "IED1_gcb1", 1, 1))
	c := iecL2Frame(t, 0x88b8, 0x3002, gooseAPDU("IED1CTRL/LLN0$GO$gcb2", "IED1CTRL/LLN0$ds2", "IED1_gcb2", 4, 9))
	feed(d, a, b, b, c)
	m := l2Facts(d.Flush().Obs, iedMAC)
	wantFacts(t, m,
		fieldGOOSEAppID, "12289", fieldGOOSEAppID, "12290",
		fieldGOOSEGoCBRef, "IED1CTRL/LLN0$GO$gcb1", fieldGOOSEGoCBRef, "IED1CTRL/LLN0$GO$gcb2",
		fieldGOOSEDataSet, "IED1CTRL/LLN0$ds1", fieldGOOSEGoID, "IED1_gcb2",
		fieldGOOSEConfRev, "256",
		model.FieldStationName, "IED1CTRL",
		model.FieldRole, model.RoleIED)
	if n := len(m[fieldGOOSEGoCBRef]); n != 2 {
		t.Errorf("gocbRef reported %d times, want once per control block: %q", n, m[fieldGOOSEGoCBRef])
	}
}

func svAPDU(svID string) []byte {
	asdu := ber.TLV(0x30, cat(ber.TLV(0x80, []byte(svID)), ber.TLV(0x82, []byte{0, 1}), ber.TLV(0x83, []byte{0, 0, 0, 1}), ber.TLV(0x85, []byte{1}), ber.TLV(0x87, make([]byte, 64))))
	return ber.TLV(0x60, cat(ber.TLV(0x80, []byte{1}), ber.TLV(0xa2, asdu)))
}

func TestSVPublisher(t *testing.T) {
	d := New(Options{Origin: "test"})
	f := iecL2Frame(t, 0x88ba, 0x4000, svAPDU("XJPA_MU0001"))
	feed(d, f, f, f)
	m := l2Facts(d.Flush().Obs, iedMAC)
	wantFacts(t, m, fieldSVAppID, "16384", fieldSVID, "XJPA_MU0001", fieldSVConfRev, "1", model.FieldRole, model.RoleIED)
	if n := len(m[fieldSVID]); n != 1 {
		t.Errorf("svID reported %d times, want 1", n)
	}
}

func TestGOOSEAndSVMalformed(t *testing.T) {
	for _, p := range [][]byte{
		{0x30, 0x01, 0x00, 0x04},
		{0x30, 0x01, 0x00, 0x20, 0, 0, 0, 0, 0x61, 0x84, 0xff, 0xff, 0xff, 0xff},
		{0x30, 0x01, 0xff, 0xff, 0, 0, 0, 0, 0x61, 0x82, 0xff, 0xff, 0x80, 0x01},
		{0x40, 0x00, 0x00, 0x10, 0, 0, 0, 0, 0x60, 0x06, 0xa2, 0x04, 0x30, 0x02, 0x80, 0x7f},
	} {
		d := New(Options{})
		fi := &frameInfo{hasMAC: true, src: model.MACFrom(iedMAC), payload: p}
		parseGOOSE(d, fi)
		parseSV(d, fi)
		if obs := d.Flush().Obs; len(obs) != 0 {
			t.Errorf("% x: %d observations from a malformed frame", p, len(obs))
		}
	}
}

// BenchmarkGOOSERetransmit decodes GOOSE retransmissions of 20 publishers
// (sqNum changes every frame): after the first frame of each, nothing is
// new, and nothing may be allocated.
func BenchmarkGOOSERetransmit(b *testing.B) {
	var frames [][]byte
	for i := 0; i < 20; i++ {
		for sq := 0; sq < 4; sq++ {
			ref := "IED" + string(rune('A'+i)) + "CTRL/LLN0$GO$gcb1"
			fr := iecL2Frame(b, 0x88b8, 0x3000+i, gooseAPDU(ref, "IEDCTRL/LLN0$ds1", "gcb1", 1, byte(sq)))
			fr[11] = byte(i) // publisher MAC
			frames = append(frames, fr)
		}
	}
	benchFrames(b, frames)
}

// BenchmarkSVStream decodes a merging unit's sampled values stream.
func BenchmarkSVStream(b *testing.B) {
	var frames [][]byte
	for i := 0; i < 8; i++ {
		frames = append(frames, iecL2Frame(b, 0x88ba, 0x4000+i, svAPDU("MU000"+string(rune('0'+i)))))
	}
	benchFrames(b, frames)
}
