package decode

import (
	"encoding/binary"

	"otscope/model"
)

// onCimetricsMSTP parses an MS/TP frame wrapped by a Cimetrics sniffer
// (SNAP OUI 00-10-90, PID 0x0001): the Ethernet source holds the MS/TP
// station address. It reports whether the frame was one.
func onCimetricsMSTP(d *Decoder, fi *frameInfo) bool {
	p := fi.payload
	if len(p) < 8 || p[2] != 0x03 || p[3] != 0x00 || p[4] != 0x10 || p[5] != 0x90 || p[6] != 0x00 || p[7] != 0x01 {
		return false
	}
	// 3 bytes of sniffer header, then the MS/TP frame from its type
	if len(p) < 11 {
		d.stats.DecodeErrors++
		return true
	}
	mstpFrame(d, fi, p[11:])
	return true
}

// mstp decodes a frame of a BACnet MS/TP capture (link type 165): every
// station that sends (tokens and polls too) is on the bus; data frames
// carry an NPDU.
func (d *Decoder) mstp(fi *frameInfo) {
	if fi.src == (model.MAC{0, 0, 0, 0, 0, 0xff}) {
		d.stats.DecodeErrors++ // 255 is the broadcast address, never a source
		return
	}
	d.sightMAC(fi, protoBACnetEth)
	mstpFrame(d, fi, fi.payload)
}

// mstpHeaderCRC runs the MS/TP header CRC (ASHRAE 135 Annex G.1) over b:
// over the five header bytes it gives the CRC to send (complemented); over
// the header and its CRC a good header gives 0x55.
func mstpHeaderCRC(b []byte) byte {
	crc := uint16(0xff)
	for _, v := range b {
		c := crc ^ uint16(v)
		c ^= c<<1 ^ c<<2 ^ c<<3 ^ c<<4 ^ c<<5 ^ c<<6 ^ c<<7
		crc = c&0xfe ^ c>>8&1
	}
	return byte(crc)
}

// mstpFrame decodes an MS/TP frame f from its frame type: type,
// destination, source, length, header CRC, data. BACnet Data Expecting
// Reply (5) and Not Expecting Reply (6) carry an NPDU; tokens, polls and
// the COBS-encoded extended frames do not get decoded.
func mstpFrame(d *Decoder, fi *frameInfo, f []byte) {
	if len(f) < 6 {
		d.stats.DecodeErrors++
		return
	}
	ftype := f[0]
	n := int(binary.BigEndian.Uint16(f[3:]))
	if ftype != 5 && ftype != 6 || n == 0 {
		return // token, poll-for-master...: no NPDU
	}
	if 6+n > len(f) || !fi.hasMAC || !fi.src.IsUnicast() {
		d.stats.DecodeErrors++
		return
	}
	m := bacMsg{d: d, base: model.Endpoint{MAC: fi.src, VLAN: fi.vlan}}
	m.npdu(f[6 : 6+n])
}

// npdu decodes the network layer and hands the APDU on.
