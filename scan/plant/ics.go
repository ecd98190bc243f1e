package plant

// Message numbers shared by the request/response apps.
const (
	mReq     = 1  // polling request
	mResp    = 2  // polling response
	mOpen    = 3  // connection setup request (COTP CR, RegisterSession, ...)
	mOpened  = 4  // its answer
	mSetup   = 5  // second setup request (S7 setup communication, identity)
	mSetupd  = 6  // its answer
	mIdent   = 9  // device identification request (S7 SZL read)
	mIdentd  = 10 // its answer
	mIdentC  = 11 // S7 SZL 0x001C read (component identification)
	mIdentCd = 12
	mState   = 13 // S7 SZL 0x0424 read (operating state)
	mStated  = 14
)

// process holds slowly drifting process values a PLC reports.
type process struct {
	regs [32]uint16
}

func (p *process) step(g *Generator) {
	i := g.rng.IntN(len(p.regs))
	p.regs[i] += uint16(g.rng.IntN(7)) - 3
}

// modbusApp polls holding registers (function 3) and, once per session,
// reads the device identification (function 43/14) and the server id
// (function 17). With write set it writes registers instead (function 16).
type modbusApp struct {
	process
	tid      uint16
	unit     byte
	addr     uint16
	qty      uint16
	objects  []mbObject // device identification objects (basic or regular)
	serverID string     // additional data of the Report Server ID answer
	write    bool
}

func (a *modbusApp) mbap(b []byte, n int) []byte {
	b = be16(b, a.tid)
	b = be16(b, 0)
	b = be16(b, uint16(n+1))
	return append(b, a.unit)
}

func (a *modbusApp) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	switch msg {
	case mReq:
		a.tid++
		if a.write {
			b = a.mbap(b, 6+2*int(a.qty))
			b = append(b, 16)
			b = be16(b, a.addr)
			b = be16(b, a.qty)
			b = append(b, byte(2*a.qty))
			for i := uint16(0); i < a.qty; i++ {
				b = be16(b, 1000+i*250)
			}
			return b
		}
		b = a.mbap(b, 5)
		b = append(b, 3)
		b = be16(b, a.addr)
		return be16(b, a.qty)
	case mResp:
		if a.write {
			b = a.mbap(b, 5)
			b = append(b, 16)
			b = be16(b, a.addr)
			return be16(b, a.qty)
		}
		a.step(g)
		b = a.mbap(b, 2+2*int(a.qty))
		b = append(b, 3, byte(2*a.qty))
		for i := uint16(0); i < a.qty; i++ {
			b = be16(b, a.regs[int(i)%len(a.regs)])
		}
		return b
	case mSetup:
		a.tid++
		b = a.mbap(b, 4)
		code := byte(0x01)
		if len(a.objects) > 3 {
			code = 0x02
		}
		return append(b, 0x2b, 0x0e, code, 0x00)
	case mReport, mReportd:
		return a.reportServerID(b, msg == mReportd)
	default: // mSetupd
		return a.deviceID(b)
	}
}

// s7App is an S7comm client: COTP connect, setup communication, then
// cyclic Read Var of two data-block areas.
type s7App struct {
	process
	pduRef  uint16
	dstTSAP uint16
	db1     uint16
	db2     uint16
	len1    uint16 // bytes, even
	len2    uint16
	// order, hw and fw answer the SZL 0x0011 read: order number (MLFB),
	// hardware version and firmware version "V2.9.4" as {2, 9, 4}.
	order string
	hw    uint16
	fw    [3]byte
	// comp answers the SZL 0x001C read (component identification).
	comp *szlComponents
	// stop makes the SZL 0x0424 answer report STOP instead of RUN.
	stop bool
}

// szlRecord appends one 28-byte record of SZL 0x0011.
func szlRecord(b []byte, index uint16, mlfb string, bgTyp, ausbg, ausbe uint16) []byte {
	b = be16(b, index)
	var name [20]byte
	for i := range name {
		name[i] = ' '
	}
	copy(name[:], mlfb)
	b = append(b, name[:]...)
	b = be16(b, bgTyp)
	b = be16(b, ausbg)
	return be16(b, ausbe)
}

// szlRequest appends the userdata request "read SZL id, index 0".
func (a *s7App) szlRequest(b []byte, id uint16) []byte {
	b, at := tpkt(b)
	b = append(b, 2, 0xf0, 0x80, 0x32, 7, 0, 0)
	b = be16(b, a.pduRef)
	b = append(b, 0, 8, 0, 8)
	b = append(b, 0, 1, 0x12, 4, 0x11, 0x44, 0x01, 0)
	b = append(b, 0xff, 0x09, 0, 4)
	b = be16(b, id)
	b = append(b, 0, 0)
	return tpktEnd(b, at)
}

// szlResponse appends the userdata response header for SZL id with count
// records of reclen bytes; the caller appends the records.
func (a *s7App) szlResponse(b []byte, id, reclen, count uint16) ([]byte, int) {
	b, at := tpkt(b)
	b = append(b, 2, 0xf0, 0x80, 0x32, 7, 0, 0)
	b = be16(b, a.pduRef)
	b = append(b, 0, 12)
	b = be16(b, 4+8+count*reclen)
	b = append(b, 0, 1, 0x12, 8, 0x12, 0x84, 0x01, 0x01, 0, 0, 0, 0)
	b = append(b, 0xff, 0x09)
	b = be16(b, 8+count*reclen)
	b = be16(b, id)
	b = append(b, 0, 0)
	b = be16(b, reclen)
	b = be16(b, count)
	return b, at
}

// szl appends the userdata request or response for SZL-ID 0x0011
// (module identification): the order number, the hardware and the
// firmware version ('V' x.y.z in ausbg/ausbe).
func (a *s7App) szl(b []byte, resp bool) []byte {
	if !resp {
		return a.szlRequest(b, 0x0011)
	}
	b, at := a.szlResponse(b, 0x0011, 28, 3)
	b = szlRecord(b, 1, a.order, 0xc0, 0, a.hw)
	b = szlRecord(b, 6, a.order, 0xc0, 0, a.hw)
	b = szlRecord(b, 7, "", 0xc0, 'V'<<8|uint16(a.fw[0]), uint16(a.fw[1])<<8|uint16(a.fw[2]))
	return tpktEnd(b, at)
}

func tpkt(b []byte) ([]byte, int) {
	at := len(b)
	return append(b, 3, 0, 0, 0), at
}

func tpktEnd(b []byte, at int) []byte {
	put16(b[at+2:], uint16(len(b)-at))
	return b
}

func (a *s7App) cotpConn(b []byte, typ byte, dstRef, srcRef uint16) []byte {
	b, at := tpkt(b)
	b = append(b, 17, typ)
	b = be16(b, dstRef)
	b = be16(b, srcRef)
	b = append(b, 0, 0xc0, 1, 0x0a, 0xc1, 2, 0x01, 0x00, 0xc2, 2)
	b = be16(b, a.dstTSAP)
	return tpktEnd(b, at)
}

// s7Header appends TPKT, COTP DT and the S7 header; it returns the offset of
// the TPKT header for tpktEnd.
func (a *s7App) s7Header(b []byte, rosctr byte, param, data int) ([]byte, int) {
	b, at := tpkt(b)
	b = append(b, 2, 0xf0, 0x80, 0x32, rosctr, 0, 0)
	b = be16(b, a.pduRef)
	b = be16(b, uint16(param))
	b = be16(b, uint16(data))
	if rosctr == 3 {
		b = append(b, 0, 0)
	}
	return b, at
}

func s7Item(b []byte, db, n uint16) []byte {
	b = append(b, 0x12, 0x0a, 0x10, 0x02)
	b = be16(b, n)
	b = be16(b, db)
	return append(b, 0x84, 0, 0, 0)
}

func (a *s7App) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	switch msg {
	case mOpen:
		return a.cotpConn(b, 0xe0, 0, 1)
	case mOpened:
		return a.cotpConn(b, 0xd0, 1, 0x44)
	case mSetup, mSetupd:
		rosctr := byte(1)
		if msg == mSetupd {
			rosctr = 3
		} else {
			a.pduRef++
		}
		b, at := a.s7Header(b, rosctr, 8, 0)
		b = append(b, 0xf0, 0, 0, 1, 0, 1, 0x01, 0xe0)
		return tpktEnd(b, at)
	case mIdent, mIdentd:
		if msg == mIdent {
			a.pduRef++
		}
		return a.szl(b, msg == mIdentd)
	case mIdentC, mIdentCd:
		if msg == mIdentC {
			a.pduRef++
			return a.szlRequest(b, 0x001c)
		}
		return a.szlComponents(b)
	case mState, mStated:
		if msg == mState {
			a.pduRef++
			return a.szlRequest(b, 0x0424)
		}
		return a.szlState(g, b)
	case mReq:
		a.pduRef++
		b, at := a.s7Header(b, 1, 2+2*12, 0)
		b = append(b, 0x04, 2)
		b = s7Item(b, a.db1, a.len1)
		b = s7Item(b, a.db2, a.len2)
		return tpktEnd(b, at)
	default: // mResp
		a.step(g)
		data := 4 + int(a.len1) + 4 + int(a.len2)
		b, at := a.s7Header(b, 3, 2, data)
		b = append(b, 0x04, 2)
		for i, n := range [2]uint16{a.len1, a.len2} {
			b = append(b, 0xff, 0x04)
			b = be16(b, n*8)
			for j := uint16(0); j < n; j += 2 {
				b = be16(b, a.regs[(i*7+int(j))%len(a.regs)])
			}
		}
		return tpktEnd(b, at)
	}
}

// cipIdentity is the Identity object of an EtherNet/IP device.
type cipIdentity struct {
	vendor   uint16
	devType  uint16
	product  uint16
	major    byte
	minor    byte
	serial   uint32
	name     string
	ip       [4]byte
	statusID uint16
}

func (id *cipIdentity) appendAttrs(b []byte) []byte {
	b = le16(b, id.vendor)
	b = le16(b, id.devType)
	b = le16(b, id.product)
	b = append(b, id.major, id.minor)
	b = le16(b, id.statusID)
	b = le32(b, id.serial)
	b = append(b, byte(len(id.name)))
	return append(b, id.name...)
}

// encap appends an EtherNet/IP encapsulation header; the length is patched
// by encapEnd.
func encap(b []byte, cmd uint16, session uint32, ctx uint64) ([]byte, int) {
	at := len(b)
	b = le16(b, cmd)
	b = le16(b, 0)
	b = le32(b, session)
	b = le32(b, 0)
	b = le64(b, ctx)
	return le32(b, 0), at
}

func encapEnd(b []byte, at int) []byte {
	put16le(b[at+2:], uint16(len(b)-at-24))
	return b
}

// enipApp is an EtherNet/IP explicit-messaging client: RegisterSession,
// Get_Attributes_All on the Identity object, then cyclic Read Tag requests
// (SendRRData, unconnected).
type enipApp struct {
	process
	id      cipIdentity
	session uint32
	ctx     uint64
	tag     string
}

// sendRR appends a SendRRData header and CPF items; the CIP message follows.
func (a *enipApp) sendRR(b []byte) ([]byte, int, int) {
	b, at := encap(b, 0x006f, a.session, a.ctx)
	b = le32(b, 0)
	b = le16(b, 10)
	b = le16(b, 2)
	b = le32(b, 0) // null address item
	b = le16(b, 0x00b2)
	item := len(b)
	return le16(b, 0), at, item
}

func (a *enipApp) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	switch msg {
	case mOpen, mOpened:
		if msg == mOpen {
			a.ctx = g.rng.Uint64()
			a.session = 0
		} else {
			a.session = 0x10000000 | g.rng.Uint32()&0xffffff
		}
		sess := a.session
		if msg == mOpen {
			sess = 0
		}
		b, at := encap(b, 0x0065, sess, a.ctx)
		b = le16(b, 1)
		b = le16(b, 0)
		return encapEnd(b, at)
	}
	b, at, item := a.sendRR(b)
	switch msg {
	case mSetup:
		b = append(b, 0x01, 0x02, 0x20, 0x01, 0x24, 0x01)
	case mSetupd:
		b = append(b, 0x81, 0, 0, 0)
		b = a.id.appendAttrs(b)
	case mReq:
		n := len(a.tag)
		words := (2 + n + n%2) / 2
		b = append(b, 0x4c, byte(words), 0x91, byte(n))
		b = append(b, a.tag...)
		if n%2 == 1 {
			b = append(b, 0)
		}
		b = le16(b, 1)
	default:
		a.step(g)
		b = append(b, 0xcc, 0, 0, 0, 0xc4, 0)
		b = le32(b, uint32(a.regs[3])<<8|uint32(a.regs[4]))
	}
	put16le(b[item:], uint16(len(b)-item-2))
	return encapEnd(b, at)
}

// listIdentityApp is the UDP ListIdentity request (RSLinx browsing) and the
// device's reply.
type listIdentityApp struct {
	id  cipIdentity
	ctx uint64
}

func (a *listIdentityApp) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	if msg == 1 {
		a.ctx = g.rng.Uint64()
		b, at := encap(b, 0x0063, 0, a.ctx)
		return encapEnd(b, at)
	}
	b, at := encap(b, 0x0063, 0, a.ctx)
	b = le16(b, 1)
	b = le16(b, 0x000c)
	item := len(b)
	b = le16(b, 0)
	b = le16(b, 1)
	b = append(b, 0, 2, 0xaf, 0x12) // sin_family 2, port 44818 (big-endian)
	b = append(b, a.id.ip[:]...)
	b = append(b, zeros[:8]...)
	b = a.id.appendAttrs(b)
	b = append(b, 0x03)
	put16le(b[item:], uint16(len(b)-item-2))
	return encapEnd(b, at)
}

// cipIO is one direction of a class 1 (implicit, UDP 2222) CIP connection.
type cipIO struct {
	process
	from, to *node
	dst      [6]byte
	connID   uint32
	seq      uint32
	size     int
	runIdle  bool
	every    int64
}

func (c *cipIO) fire(g *Generator) int64 {
	c.seq++
	b := le16(g.pl[:0], 2)
	b = le16(b, 0x8002)
	b = le16(b, 8)
	b = le32(b, c.connID)
	b = le32(b, c.seq)
	b = le16(b, 0x00b1)
	n := 2 + c.size
	if c.runIdle {
		n += 4
	}
	b = le16(b, uint16(n))
	b = le16(b, uint16(c.seq))
	if c.runIdle {
		b = le32(b, 1)
	}
	if c.seq%16 == 0 {
		c.step(g)
	}
	for i := 0; i < c.size; i += 2 {
		b = le16(b, c.regs[(i/2)%len(c.regs)])
	}
	g.pl = b
	g.udp(c.from, c.dst, c.from.ip, c.to.ip, 2222, 2222, g.pl)
	return g.jit(c.every, 0.01)
}

// opcuaApp opens an OPC UA connection (Hello / Acknowledge), as a client
// probing the endpoint does before its secure channel.
type opcuaApp struct {
	url string
}

func (a *opcuaApp) payload(_ *Generator, _ *dialog, msg uint8, b []byte) []byte {
	at := len(b)
	// both carry protocol version 0, receive and send buffer sizes, and the
	// limits of message size and chunk count (0 in a Hello: no limit)
	typ, maxMsg, maxChunks := "HEL", uint32(0), uint32(0)
	if msg != mOpen {
		typ, maxMsg, maxChunks = "ACK", 4194304, 64
	}
	b = append(b, typ...)
	b = append(b, 'F', 0, 0, 0, 0)
	for _, v := range [...]uint32{0, 65535, 65535, maxMsg, maxChunks} {
		b = le32(b, v)
	}
	if msg == mOpen {
		b = le32(b, uint32(len(a.url)))
		b = append(b, a.url...)
	}
	l := uint32(len(b) - at)
	b[at+4], b[at+5], b[at+6], b[at+7] = byte(l), byte(l>>8), byte(l>>16), byte(l>>24)
	return b
}
