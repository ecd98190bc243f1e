package plant

import (
	"strconv"
	"time"

	"otscope/scan/internal/ber"
)

// httpApp is one HTTP/1.1 GET with a 200 answer (Connection: close).
type httpApp struct {
	host   string
	path   string
	agent  string
	server string
	ctype  string
	body   string
}

func (a *httpApp) payload(_ *Generator, _ *dialog, msg uint8, b []byte) []byte {
	if msg == mReq {
		b = append(b, "GET "...)
		b = append(b, a.path...)
		b = append(b, " HTTP/1.1\r\nHost: "...)
		b = append(b, a.host...)
		b = append(b, "\r\nUser-Agent: "...)
		b = append(b, a.agent...)
		return append(b, "\r\nAccept: */*\r\nConnection: close\r\n\r\n"...)
	}
	b = append(b, "HTTP/1.1 200 OK\r\nServer: "...)
	b = append(b, a.server...)
	b = append(b, "\r\nContent-Type: "...)
	b = append(b, a.ctype...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(a.body)), 10)
	b = append(b, "\r\nConnection: close\r\n\r\n"...)
	return append(b, a.body...)
}

// htmlPage returns a small HTML page with a title.
func htmlPage(title, text string) string {
	return "<!DOCTYPE html>\n<html><head><title>" + title + "</title></head>\n<body><h1>" + title +
		"</h1><p>" + text + "</p></body></html>\n"
}

// smb2App is an SMB2 NEGOTIATE request and response over NetBIOS session
// service (TCP 445).
type smb2App struct {
	clientGUID [16]byte
	serverGUID [16]byte
	bootTime   int64 // server start, µs of plant time (may be negative)
	blob       []byte
}

func smb2Header(b []byte, response bool) []byte {
	b = append(b, 0xfe, 'S', 'M', 'B')
	b = le16(b, 64)
	b = le16(b, 0) // credit charge
	b = le32(b, 0) // status
	b = le16(b, 0) // NEGOTIATE
	b = le16(b, 1) // credits
	if response {
		b = le32(b, 1)
	} else {
		b = le32(b, 0)
	}
	b = le32(b, 0) // next command
	b = le64(b, 0) // message id
	b = le32(b, 0xfeff)
	b = le32(b, 0)
	b = le64(b, 0)
	return append(b, zeros[:16]...)
}

// filetime converts plant time to a Windows FILETIME.
func (g *Generator) filetime(t int64) uint64 {
	abs := g.start.Add(time.Duration(t) * time.Microsecond)
	return uint64(abs.UnixNano()/100) + 116444736000000000
}

func (a *smb2App) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	at := len(b)
	b = append(b, 0, 0, 0, 0)
	if msg == mReq {
		b = smb2Header(b, false)
		b = le16(b, 36)
		b = le16(b, 4)
		b = le16(b, 1) // signing enabled
		b = le16(b, 0)
		b = le32(b, 0x7f)
		b = append(b, a.clientGUID[:]...)
		b = le64(b, 0)
		for _, d := range [4]uint16{0x0202, 0x0210, 0x0300, 0x0302} {
			b = le16(b, d)
		}
	} else {
		b = smb2Header(b, true)
		b = le16(b, 65)
		b = le16(b, 1)
		b = le16(b, 0x0302)
		b = le16(b, 0)
		b = append(b, a.serverGUID[:]...)
		b = le32(b, 0x2f)
		b = le32(b, 8388608)
		b = le32(b, 8388608)
		b = le32(b, 8388608)
		b = le64(b, g.filetime(g.now))
		b = le64(b, g.filetime(a.bootTime))
		b = le16(b, 128)
		b = le16(b, uint16(len(a.blob)))
		b = le32(b, 0)
		b = append(b, a.blob...)
	}
	n := len(b) - at - 4
	b[at+1], b[at+2], b[at+3] = byte(n>>16), byte(n>>8), byte(n)
	return b
}

// spnegoInit returns a SPNEGO NegTokenInit offering NTLMSSP and Kerberos,
// the security blob of an SMB2 NEGOTIATE response.
func spnegoInit() []byte {
	b, open := spnegoInitOpen(nil, true)
	return spnegoInitClose(b, open)
}

// spnegoInitOpen appends the start of a SPNEGO NegTokenInit (RFC 4178) up
// to its mechTypes: NTLMSSP, after Kerberos when kerberos is set. The
// caller may add the other fields of the NegTokenInit sequence, then ends
// it with spnegoInitClose.
func spnegoInitOpen(b []byte, kerberos bool) ([]byte, [3]int) {
	var open [3]int
	b, open[0] = ber.Open(b, 0x60)
	b = berOID(b, 1, 3, 6, 1, 5, 5, 2)
	b, open[1] = ber.Open(b, 0xa0)
	b, open[2] = ber.Open(b, 0x30)
	b, m0 := ber.Open(b, 0xa0)
	b, mt := ber.Open(b, 0x30)
	if kerberos {
		b = berOID(b, 1, 2, 840, 113554, 1, 2, 2)
	}
	b = berOID(b, 1, 3, 6, 1, 4, 1, 311, 2, 2, 10)
	b = ber.Close(b, mt)
	return ber.Close(b, m0), open
}

// spnegoInitClose ends what spnegoInitOpen started.
func spnegoInitClose(b []byte, open [3]int) []byte {
	for i := len(open) - 1; i >= 0; i-- {
		b = ber.Close(b, open[i])
	}
	return b
}

// rdpApp is an RDP connection: X.224 connection request with a cookie and
// RDP negotiation (TLS selected), the TLS 1.2 handshake with the server's
// self-signed certificate, then TLS application data both ways.
type rdpApp struct {
	user string
	cert []byte
}

func (a *rdpApp) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	switch msg {
	case mOpen:
		b, at := tpkt(b)
		b = append(b, byte(6+len("Cookie: mstshash=\r\n")+len(a.user)+8), 0xe0, 0, 0, 0, 0, 0)
		b = append(b, "Cookie: mstshash="...)
		b = append(b, a.user...)
		b = append(b, "\r\n"...)
		b = append(b, 1, 0, 8, 0, 0x03, 0, 0, 0)
		return tpktEnd(b, at)
	case mOpened:
		b, at := tpkt(b)
		b = append(b, 14, 0xd0, 0, 0, 0x12, 0x34, 0)
		b = append(b, 2, 0x1f, 8, 0, 0x01, 0, 0, 0)
		return tpktEnd(b, at)
	case mSetup:
		return g.clientHello(b, "")
	case mSetupd:
		return g.serverHello(b, a.cert)
	case mKeyX, mKeyXd:
		return g.finish(b, msg == mKeyX)
	case mReq:
		return g.appData(b, 48+g.rng.IntN(120))
	default:
		return g.appData(b, 200+g.rng.IntN(1100))
	}
}

// snmpApp is an SNMPv2c GetRequest for the system group and its response.
type snmpApp struct {
	community string
	reqID     uint32
	sysDescr  string
	sysObject []uint32
	sysName   string
	location  string
	bootTime  int64 // µs of plant time
}

var (
	oidSysDescr    = []uint32{1, 3, 6, 1, 2, 1, 1, 1, 0}
	oidSysObjectID = []uint32{1, 3, 6, 1, 2, 1, 1, 2, 0}
	oidSysUpTime   = []uint32{1, 3, 6, 1, 2, 1, 1, 3, 0}
	oidSysName     = []uint32{1, 3, 6, 1, 2, 1, 1, 5, 0}
	oidSysLocation = []uint32{1, 3, 6, 1, 2, 1, 1, 6, 0}
)

func (a *snmpApp) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	pdu := byte(0xa0)
	if msg == mReq {
		a.reqID = 0x01000000 | g.rng.Uint32()&0x3fffffff
	} else {
		pdu = 0xa2
	}
	b, top := ber.Open(b, 0x30)
	b = berInt(b, 1)
	b = berString(b, 0x04, a.community)
	b, p := ber.Open(b, pdu)
	b = berInt(b, int64(a.reqID))
	b = berInt(b, 0)
	b = berInt(b, 0)
	b, list := ber.Open(b, 0x30)
	for i, oid := range [5][]uint32{oidSysDescr, oidSysObjectID, oidSysUpTime, oidSysName, oidSysLocation} {
		var vb int
		b, vb = ber.Open(b, 0x30)
		b = berOID(b, oid...)
		switch {
		case msg == mReq:
			b = append(b, 0x05, 0)
		case i == 0:
			b = berString(b, 0x04, a.sysDescr)
		case i == 1:
			b = berOID(b, a.sysObject...)
		case i == 2:
			b = berUint(b, 0x43, uint64((g.now-a.bootTime)/10000))
		case i == 3:
			b = berString(b, 0x04, a.sysName)
		default:
			b = berString(b, 0x04, a.location)
		}
		b = ber.Close(b, vb)
	}
	b = ber.Close(b, list)
	b = ber.Close(b, p)
	return ber.Close(b, top)
}

func berString(b []byte, tag byte, s string) []byte {
	b, at := ber.Open(b, tag)
	b = append(b, s...)
	return ber.Close(b, at)
}

// berInt appends a minimal two's-complement INTEGER.
func berInt(b []byte, v int64) []byte {
	n := 1
	for n < 8 && (v>>(8*n-1) != 0 && v>>(8*n-1) != -1) {
		n++
	}
	b = append(b, 0x02, byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// berUint appends an unsigned application integer (TimeTicks, Counter32).
func berUint(b []byte, tag byte, v uint64) []byte {
	n := 1
	for n < 9 && v>>(8*n-1) != 0 {
		n++
	}
	b = append(b, tag, byte(n))
	for i := n - 1; i >= 0; i-- {
		if i >= 8 {
			b = append(b, 0)
			continue
		}
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func berOID(b []byte, arcs ...uint32) []byte {
	b, at := ber.Open(b, 0x06)
	b = berArc(b, arcs[0]*40+arcs[1])
	for _, a := range arcs[2:] {
		b = berArc(b, a)
	}
	return ber.Close(b, at)
}

func berArc(b []byte, v uint32) []byte {
	var tmp [5]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(b, tmp[i:]...)
}
