package sim

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
)

// ENIPDevice is the CIP Identity object (class 1, instance 1) an
// EtherNet/IP simulator reports.
type ENIPDevice struct {
	VendorID    uint16
	DeviceType  uint16
	ProductCode uint16
	Major       uint8
	Minor       uint8
	Status      uint16
	Serial      uint32
	ProductName string
	State       uint8
}

// DefaultENIP is a ControlLogix 5561 controller, revision 20.11.
func DefaultENIP() ENIPDevice {
	return ENIPDevice{
		VendorID: 1, DeviceType: 0x0e, ProductCode: 55, Major: 20, Minor: 11,
		Status: 0x3060, Serial: 0x60a1b2c3, ProductName: "1756-L61/B LOGIX5561", State: 3,
	}
}

// Encapsulation commands and statuses (CIP Vol. 2, 2-3.2 and 2-3.3).
const (
	encListServices   = 0x0004
	encListIdentity   = 0x0063
	encListInterfaces = 0x0064
	encRegister       = 0x0065
	encUnregister     = 0x0066
	encSendRRData     = 0x006f
	encSendUnitData   = 0x0070

	statusInvalidCommand  = 0x0001
	statusBadData         = 0x0003
	statusInvalidSession  = 0x0064
	statusInvalidLength   = 0x0065
	statusUnsupportedProt = 0x0069

	encHeader  = 24
	encMaxData = 600 // longer requests are not what a CIP adapter expects: the connection is dropped
)

// ListenENIP serves d on TCP and UDP addr (port 44818 for a real device).
func ListenENIP(addr string, d ENIPDevice) (*Server, error) {
	e := &enipSim{d: d}
	return newServer(addr, e.serve, e.datagram)
}

// ListenENIPTCP serves d on TCP addr only: a device whose UDP port a
// firewall filters.
func ListenENIPTCP(addr string, d ENIPDevice) (*Server, error) {
	e := &enipSim{d: d}
	return newServer(addr, e.serve, nil)
}

type enipSim struct {
	d       ENIPDevice
	session atomic.Uint32
}

// serve reads encapsulated messages from one TCP connection.
func (e *enipSim) serve(s *Server, c net.Conn) {
	var session uint32
	hdr := make([]byte, encHeader)
	for {
		if readFull(c, hdr) != nil {
			return
		}
		n := int(binary.LittleEndian.Uint16(hdr[2:]))
		if n > encMaxData {
			return
		}
		data := make([]byte, n)
		if readFull(c, data) != nil {
			return
		}
		cmd := binary.LittleEndian.Uint16(hdr)
		s.log(fmt.Sprintf("tcp 0x%04x", cmd))
		var ans []byte
		switch cmd {
		case encListIdentity, encListServices:
			ans = e.list(hdr, cmd, c.LocalAddr())
		case encRegister:
			switch {
			case n != 4:
				ans = reply(hdr, statusInvalidLength, 0, nil)
			case session != 0:
				ans = reply(hdr, statusBadData, 0, nil) // one session per connection
			case binary.LittleEndian.Uint16(data) != 1:
				ans = reply(hdr, statusUnsupportedProt, 0, data)
			default:
				session = e.session.Add(1)<<8 | 0x11
				ans = reply(hdr, 0, session, data)
			}
		case encUnregister:
			return // no reply: the target closes the connection
		case encSendRRData:
			h := binary.LittleEndian.Uint32(hdr[4:])
			if session == 0 || h != session {
				ans = reply(hdr, statusInvalidSession, h, nil)
				break
			}
			ans = e.sendRRData(hdr, data)
		default:
			ans = reply(hdr, statusInvalidCommand, binary.LittleEndian.Uint32(hdr[4:]), nil)
		}
		if _, err := c.Write(ans); err != nil {
			return
		}
	}
}

// datagram answers ListIdentity and ListServices on UDP; a device ignores
// every other command there (they need a TCP session).
func (e *enipSim) datagram(s *Server, p []byte, _ net.Addr) []byte {
	if len(p) < encHeader || int(binary.LittleEndian.Uint16(p[2:])) != len(p)-encHeader {
		return nil
	}
	cmd := binary.LittleEndian.Uint16(p)
	s.log(fmt.Sprintf("udp 0x%04x", cmd))
	if cmd != encListIdentity && cmd != encListServices {
		return nil
	}
	return e.list(p[:encHeader], cmd, s.pc.LocalAddr())
}

// reply builds an answer header echoing the request's command and sender
// context, with status, session and data.
func reply(req []byte, status, session uint32, data []byte) []byte {
	b := make([]byte, encHeader, encHeader+len(data))
	copy(b[0:2], req[0:2])
	binary.LittleEndian.PutUint16(b[2:], uint16(len(data)))
	binary.LittleEndian.PutUint32(b[4:], session)
	binary.LittleEndian.PutUint32(b[8:], status)
	copy(b[12:20], req[12:20])
	return append(b, data...)
}

// list answers ListIdentity (one CIP Identity item) or ListServices (the
// Communications service: CIP over TCP and class 0/1 over UDP).
func (e *enipSim) list(req []byte, cmd uint16, local net.Addr) []byte {
	if cmd == encListServices {
		item := []byte{0x00, 0x01, 20, 0, 1, 0, 0x20, 0x01}
		item = append(item, []byte("Communications\x00\x00")...)
		return reply(req, 0, 0, append([]byte{1, 0}, item...))
	}
	d := &e.d
	body := make([]byte, 0, 64)
	body = binary.LittleEndian.AppendUint16(body, 1) // encapsulation protocol version
	// socket address: sin_family, sin_port, sin_addr big endian, 8 zeros
	var ip [4]byte
	port := 44818
	if ta, ok := local.(*net.TCPAddr); ok && ta.IP.To4() != nil {
		copy(ip[:], ta.IP.To4())
		port = ta.Port
	} else if ua, ok := local.(*net.UDPAddr); ok && ua.IP.To4() != nil {
		copy(ip[:], ua.IP.To4())
		port = ua.Port
	}
	body = binary.BigEndian.AppendUint16(body, 2)
	body = binary.BigEndian.AppendUint16(body, uint16(port))
	body = append(body, ip[:]...)
	body = append(body, make([]byte, 8)...)
	body = append(body, e.identity()...)
	body = append(body, d.State)
	item := binary.LittleEndian.AppendUint16(nil, 0x000c)
	item = binary.LittleEndian.AppendUint16(item, uint16(len(body)))
	return reply(req, 0, 0, append(append([]byte{1, 0}, item...), body...))
}

// identity is the Identity object's attributes 1-7: vendor, device type,
// product code, revision, status, serial number, product name (SHORT_STRING).
func (e *enipSim) identity() []byte {
	d := &e.d
	b := binary.LittleEndian.AppendUint16(nil, d.VendorID)
	b = binary.LittleEndian.AppendUint16(b, d.DeviceType)
	b = binary.LittleEndian.AppendUint16(b, d.ProductCode)
	b = append(b, d.Major, d.Minor)
	b = binary.LittleEndian.AppendUint16(b, d.Status)
	b = binary.LittleEndian.AppendUint32(b, d.Serial)
	name := d.ProductName
	if len(name) > 32 {
		name = name[:32]
	}
	b = append(b, byte(len(name)))
	return append(b, name...)
}

// CIP general status codes (CIP Vol. 1, appendix B).
const (
	cipOK                  = 0x00
	cipPathDestUnknown     = 0x05
	cipServiceNotSupported = 0x08
	cipPathSegmentError    = 0x04
)

// sendRRData answers an unconnected CIP request: Get_Attributes_All of the
// Identity object; every other service or object gets the CIP error a
// device would give.
func (e *enipSim) sendRRData(hdr, data []byte) []byte {
	if len(data) < 8 {
		return reply(hdr, statusInvalidLength, binary.LittleEndian.Uint32(hdr[4:]), nil)
	}
	// find the unconnected data item
	var req []byte
	n, off := int(binary.LittleEndian.Uint16(data[6:])), 8
	for i := 0; i < n && i < 4; i++ {
		if off+4 > len(data) {
			break
		}
		typ, l := binary.LittleEndian.Uint16(data[off:]), int(binary.LittleEndian.Uint16(data[off+2:]))
		off += 4
		if off+l > len(data) {
			break
		}
		if typ == 0x00b2 {
			req = data[off : off+l]
		}
		off += l
	}
	session := binary.LittleEndian.Uint32(hdr[4:])
	if len(req) < 2 {
		return reply(hdr, statusBadData, session, nil)
	}
	svc := req[0]
	status, payload := cipOK, []byte(nil)
	path := req[2:]
	if int(req[1])*2 > len(path) {
		status = cipPathSegmentError
	} else {
		path = path[:int(req[1])*2]
		class, inst, ok := cipClassInstance(path)
		switch {
		case !ok:
			status = cipPathSegmentError
		case class != 1 || inst != 1:
			status = cipPathDestUnknown
		case svc != 0x01:
			status = cipServiceNotSupported
		default:
			payload = e.identity()
		}
	}
	cip := append([]byte{svc | 0x80, 0, byte(status), 0}, payload...)
	out := []byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0}
	out = binary.LittleEndian.AppendUint16(out, uint16(len(cip)))
	return reply(hdr, 0, session, append(out, cip...))
}

// cipClassInstance reads a path of a logical class and a logical instance
// segment (8- or 16-bit).
func cipClassInstance(p []byte) (class, inst int, ok bool) {
	seg := func(p []byte, typ byte) (int, []byte, bool) {
		switch {
		case len(p) >= 2 && p[0] == typ:
			return int(p[1]), p[2:], true
		case len(p) >= 4 && p[0] == typ|1 && p[1] == 0:
			return int(binary.LittleEndian.Uint16(p[2:])), p[4:], true
		}
		return 0, p, false
	}
	class, p, ok1 := seg(p, 0x20)
	inst, p, ok2 := seg(p, 0x24)
	return class, inst, ok1 && ok2 && len(p) == 0
}
