package sim

import (
	"encoding/binary"
	"fmt"
	"net"

	"otscope/scan/internal/dnp3crc"
)

// DNP3Outstation is a DNP3 outstation's data link layer (IEEE 1815-2012
// chapter 9): it answers Request Link Status (function 9) with Link Status
// (11) and Reset Link States (0) with ACK (0), for frames addressed to it
// with a valid header CRC. Frames to other addresses, broadcasts, frames
// with bad CRCs and frames carrying user data are not answered: this
// simulator has no application layer (the scanner never sends one).
type DNP3Outstation struct {
	Address uint16
}

// ListenDNP3 serves o on TCP addr (port 20000 for a real outstation).
func ListenDNP3(addr string, o DNP3Outstation) (*Server, error) {
	return newServer(addr, o.serve, nil)
}

func (o DNP3Outstation) serve(s *Server, c net.Conn) {
	hdr := make([]byte, 10)
	for {
		if readFull(c, hdr) != nil {
			return
		}
		if hdr[0] != 0x05 || hdr[1] != 0x64 || hdr[2] < 5 {
			return // lost framing: a device drops the connection
		}
		data := int(hdr[2]) - 5
		if data > 0 {
			rest := make([]byte, data+2*((data+15)/16))
			if readFull(c, rest) != nil {
				return
			}
		}
		ctrl := hdr[3]
		dest, src := binary.LittleEndian.Uint16(hdr[4:]), binary.LittleEndian.Uint16(hdr[6:])
		s.log(fmt.Sprintf("tcp link 0x%02x to %d", ctrl, dest))
		if binary.LittleEndian.Uint16(hdr[8:]) != dnp3crc.Sum(hdr[:8]) || dest != o.Address || ctrl&0x40 == 0 || data > 0 {
			continue
		}
		var fn byte
		switch ctrl & 0x0f {
		case 9:
			fn = 11 // link status
		case 0:
			fn = 0 // ack
		default:
			continue
		}
		// DIR=0 (from the outstation), PRM=0 (secondary), DFC=0
		ans := []byte{0x05, 0x64, 5, fn, 0, 0, 0, 0, 0, 0}
		binary.LittleEndian.PutUint16(ans[4:], src)
		binary.LittleEndian.PutUint16(ans[6:], o.Address)
		binary.LittleEndian.PutUint16(ans[8:], dnp3crc.Sum(ans[:8]))
		if _, err := c.Write(ans); err != nil {
			return
		}
	}
}
