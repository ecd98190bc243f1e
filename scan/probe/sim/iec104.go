package sim

import (
	"fmt"
	"net"
)

// ListenIEC104 serves a controlled station's U-format handling on TCP addr
// (port 2404 for a real station; IEC 60870-5-104 §5.3): TESTFR act gets
// TESTFR con, STARTDT act STARTDT con, STOPDT act STOPDT con. I- and
// S-format APDUs are read and not answered: the station has no data points.
// A frame that does not start with 0x68 or has a length below 4 ends the
// connection, as the standard requires.
func ListenIEC104(addr string) (*Server, error) {
	return newServer(addr, serveIEC104, nil)
}

func serveIEC104(s *Server, c net.Conn) {
	hdr := make([]byte, 2)
	for {
		if readFull(c, hdr) != nil {
			return
		}
		if hdr[0] != 0x68 || hdr[1] < 4 {
			return
		}
		apdu := make([]byte, hdr[1])
		if readFull(c, apdu) != nil {
			return
		}
		s.log(fmt.Sprintf("tcp apdu 0x%02x", apdu[0]))
		if apdu[0]&3 != 3 || hdr[1] != 4 {
			continue // I or S format
		}
		var con byte
		switch apdu[0] {
		case 0x43:
			con = 0x83 // TESTFR
		case 0x07:
			con = 0x0b // STARTDT
		case 0x13:
			con = 0x23 // STOPDT
		default:
			continue
		}
		if _, err := c.Write([]byte{0x68, 4, con, 0, 0, 0}); err != nil {
			return
		}
	}
}
