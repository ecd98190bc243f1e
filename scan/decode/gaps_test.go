package decode

import (
	"encoding/binary"
	"testing"

	"otscope/scan/internal/ber"
)

// A merging unit sending eight ASDUs a frame, captured with a short snap
// length: the frame is cut inside the samples, but the first ASDU's svID
// and the APPID arrived and identify the publisher (issue 14, item 20).
func TestSVCutFrameStillIdentifies(t *testing.T) {
	asdu := func(n byte) []byte {
		return ber.TLV(0x30, cat(ber.TLV(0x80, []byte("MU01_SV")), ber.TLV(0x81, []byte("MU01LD/LLN0$PhsMeas1")),
			ber.TLV(0x82, []byte{0, n}), ber.TLV(0x83, []byte{0, 0, 0, 2}), ber.TLV(0x85, []byte{1}), ber.TLV(0x87, make([]byte, 64))))
	}
	var asdus []byte
	for i := range 8 {
		asdus = append(asdus, asdu(byte(i))...)
	}
	apdu := ber.TLV(0x60, cat(ber.TLV(0x80, []byte{8}), ber.TLV(0xa2, asdus)))
	f := iecL2Frame(t, 0x88ba, 0x4001, apdu)
	for _, snap := range []int{len(f), 128, 96} {
		d := New(Options{Origin: "test"})
		feed(d, f[:snap])
		m := l2Facts(d.Flush().Obs, iedMAC)
		wantFacts(t, m, fieldSVAppID, "16385", fieldSVID, "MU01_SV", fieldSVDataSet, "MU01LD/LLN0$PhsMeas1")
		if snap == len(f) {
			wantFacts(t, m, fieldSVConfRev, "2")
		}
	}
}

// An SMB2 SESSION_SETUP whose AUTHENTICATE continues in the next segment:
// the names come first and arrived, so the workstation and domain are read;
// a cut message does not spend the connection's once bit (issue 14, item 20).
func TestNTLMAuthenticateCutBySegment(t *testing.T) {
	auth := append(ntlmAuthMsg("PLANT", "operator", "ENG-WS7"), make([]byte, 600)...) // NTLMv2 response follows
	body := make([]byte, 24)
	binary.LittleEndian.PutUint16(body, 25)
	binary.LittleEndian.PutUint16(body[12:], 64+24)
	binary.LittleEndian.PutUint16(body[14:], uint16(len(auth)))
	h := make([]byte, 64)
	copy(h, "\xfeSMB")
	binary.LittleEndian.PutUint16(h[12:], 1)
	msg := append(append(h, body...), auth...)
	nb := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	whole := append(nb, msg...)
	first := whole[:4+64+24+200] // the segment ends inside the NT response
	f := ithFacts(t, ithPkt(t, false, false, 1234, 445, first))
	ithExpect(t, f, "10.1.0.10 ntlmssp.auth.hostname=ENG-WS7", "10.1.0.10 ntlmssp.auth.domain=PLANT")

	// cut before the workstation name: nothing wrong is said, and the
	// retransmitted whole message still names it
	early := whole[:4+64+24+74]
	f = ithFacts(t, ithPkt(t, false, false, 1234, 445, early), ithPkt(t, false, false, 1234, 445, whole))
	ithExpect(t, f, "10.1.0.10 ntlmssp.auth.hostname=ENG-WS7")
}
