package plant

import "otscope/model"

// PROFINET in cell A: DCP Identify, the IO-controller's connect (PNIO-CM
// over DCE/RPC) and the cyclic RT frames between the S7-1500 and the
// ET 200SP.

const etPROFINET = 0x8892

var dcpMAC = model.MAC{0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00}

// pnStation is what a PROFINET device says about itself in DCP.
type pnStation struct {
	n        *node
	name     string // NameOfStation
	vendor   string // DeviceVendorValue
	deviceID uint16
	role     byte // 1 IO-Device, 2 IO-Controller
	mask, gw [4]byte
}

// appendPNEth appends an Ethernet header with an 802.1Q tag of priority 6
// (PROFINET RT and DCP) in the sender's VLAN.
func appendPNEth(b []byte, dst model.MAC, from *node) []byte {
	b = append(b, dst[:]...)
	b = append(b, from.mac[:]...)
	b = be16(b, 0x8100)
	b = be16(b, 0xc000|from.vlan)
	return be16(b, etPROFINET)
}

// dcpBlock appends one DCP block (option, suboption, length, block info,
// value) padded to an even length.
func dcpBlock(b []byte, opt, sub byte, info uint16, val ...[]byte) []byte {
	n := 2
	for _, v := range val {
		n += len(v)
	}
	b = append(b, opt, sub)
	b = be16(b, uint16(n))
	b = be16(b, info)
	for _, v := range val {
		b = append(b, v...)
	}
	if n%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// dcpTask is a DCP Identify: the requester asks (all stations, or one
// NameOfStation), the stations answer after a short delay.
type dcpTask struct {
	from    *node
	filter  string // "" = Identify All
	answers []*pnStation
	xid     uint32
	i       int
	every   int64
	once    bool
	tmp     []byte
}

func (t *dcpTask) fire(g *Generator) int64 {
	if t.i == 0 {
		t.xid++
		b := appendPNEth(g.buf[:0], dcpMAC, t.from)
		b = append(b, 0xfe, 0xfe, 0x05, 0x00)
		b = be32(b, t.xid)
		b = be16(b, 1) // response delay factor
		lenAt := len(b)
		b = append(b, 0, 0)
		if t.filter == "" {
			b = append(b, 0xff, 0xff, 0, 0)
		} else {
			// a filter block has no block info
			b = append(b, 2, 2)
			b = be16(b, uint16(len(t.filter)))
			b = append(b, t.filter...)
			if len(t.filter)%2 == 1 {
				b = append(b, 0)
			}
		}
		put16(b[lenAt:], uint16(len(b)-lenAt-2))
		g.out = pad(b)
		t.i = 1
		return g.between(2*ms, 9*ms)
	}
	s := t.answers[t.i-1]
	b := appendPNEth(g.buf[:0], t.from.mac, s.n)
	b = append(b, 0xfe, 0xff, 0x05, 0x01)
	b = be32(b, t.xid)
	b = append(b, 0, 0)
	lenAt := len(b)
	b = append(b, 0, 0)
	if cap(t.tmp) == 0 {
		t.tmp = make([]byte, 0, 64)
	}
	tmp := t.tmp[:0] // every value below fits: no allocation
	b = dcpBlock(b, 2, 1, 0, append(tmp, s.vendor...))
	b = dcpBlock(b, 2, 2, 0, append(tmp[:0], s.name...))
	b = dcpBlock(b, 2, 3, 0, be16(be16(tmp[:0], 0x002a), s.deviceID))
	b = dcpBlock(b, 2, 4, 0, append(tmp[:0], s.role, 0))
	b = dcpBlock(b, 2, 5, 0, append(tmp[:0], 1, 1, 1, 2, 2, 1, 2, 2, 2, 3, 2, 4, 2, 5, 2, 7, 5, 4))
	b = dcpBlock(b, 2, 7, 0, append(tmp[:0], 0, 1))
	ipb := append(tmp[:0], s.n.ip[:]...)
	ipb = append(ipb, s.mask[:]...)
	ipb = append(ipb, s.gw[:]...)
	b = dcpBlock(b, 1, 2, 1, ipb)
	put16(b[lenAt:], uint16(len(b)-lenAt-2))
	g.out = pad(b)
	t.i++
	if t.i <= len(t.answers) {
		return g.between(3*ms, 10*ms)
	}
	t.i = 0
	if t.once {
		return -1
	}
	return g.jit(t.every, 0.1)
}

// pnRT is one direction of a PROFINET RT_CLASS_1 cyclic connection.
type pnRT struct {
	process
	from, to *node
	frameID  uint16
	size     int // C_SDU bytes (IO data with IOPS/IOCS), at least 40
	cycle    uint16
	every    int64 // µs
}

func (r *pnRT) fire(g *Generator) int64 {
	b := appendPNEth(g.buf[:0], r.to.mac, r.from)
	b = be16(b, r.frameID)
	if r.cycle%64 == 0 {
		r.step(g)
	}
	for i := 0; i < r.size; i += 2 {
		v := r.regs[(i/2)%len(r.regs)]
		b = append(b, byte(v>>8), 0x80) // data byte, IOPS good
	}
	// the cycle counter counts 31.25 µs units of the send clock
	r.cycle += uint16(r.every * 32 / 1000)
	b = be16(b, r.cycle)
	b = append(b, 0x35, 0x00) // data status: primary, valid, run, ok; transfer status
	g.out = b
	return r.every
}

// pnioConnect is the IO-controller's PNIO-CM Connect request to a device
// (DCE/RPC over UDP 34964) and the device's response: the AR block with the
// controller's CMInitiatorStationName and the alarm CR.
type pnioConnect struct {
	plc, dev   *node
	plcName    string
	devID      uint16 // device id of the IO-device (object UUID)
	arUUID     [16]byte
	activity   [16]byte
	seq        uint32
	state      int
	cport      uint16
	every      int64
	tmp        []byte
	sessionKey uint16
}

func pnUUID(b []byte, ifc bool, instance, devID, vendor uint16) []byte {
	b = append(b, 0xde, 0xa0, 0x00, 0x00, 0x6c, 0x97, 0x11, 0xd1, 0x82, 0x71)
	if ifc {
		b[len(b)-7] = 0x01
		return append(b, 0x00, 0xa0, 0x24, 0x42, 0xdf, 0x7d)
	}
	b = be16(b, instance)
	b = be16(b, devID)
	return be16(b, vendor)
}

func (p *pnioConnect) fire(g *Generator) int64 {
	req := p.state == 0
	if req {
		p.seq++
		p.sessionKey++
		p.cport = uint16(49152 + g.rng.IntN(16000))
		for i := range p.arUUID {
			p.arUUID[i] = byte(g.rng.Uint32())
			p.activity[i] = byte(g.rng.Uint32())
		}
	}
	b := p.tmp[:0]
	ptype, flags := byte(0), byte(0x20)
	if !req {
		ptype, flags = 2, 0x0a
	}
	b = append(b, 4, ptype, flags, 0, 0, 0, 0, 0)
	b = pnUUID(b, false, 1, p.devID, 0x002a)
	b = pnUUID(b, true, 0, 0, 0)
	b = append(b, p.activity[:]...)
	b = be32(b, 0)
	b = be32(b, 1)
	b = be32(b, p.seq)
	b = be16(b, 0) // opnum: Connect
	b = append(b, 0xff, 0xff, 0xff, 0xff)
	fragAt := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0)
	body := len(b)
	if req {
		b = be32(b, 4096)
	} else {
		b = be32(b, 0) // PNIOStatus OK
	}
	argsAt := len(b)
	b = append(b, 0, 0, 0, 0)
	b = be32(b, 4096)
	b = be32(b, 0)
	actualAt := len(b)
	b = append(b, 0, 0, 0, 0)
	blocks := len(b)
	if req {
		b = be16(b, 0x0101)
		b = be16(b, uint16(2+2+16+2+6+16+4+2+2+2+len(p.plcName)))
		b = append(b, 1, 0)
		b = be16(b, 1) // IOCARSingle
		b = append(b, p.arUUID[:]...)
		b = be16(b, p.sessionKey)
		b = append(b, p.plc.mac[:]...)
		b = pnUUID(b, false, 1, 0x010e, 0x002a)
		b = be32(b, 0x00000011)
		b = be16(b, 100)
		b = be16(b, 0x8892)
		b = be16(b, uint16(len(p.plcName)))
		b = append(b, p.plcName...)
		b = append(b, 0x01, 0x03, 0x00, 0x16, 1, 0, 0, 1, 0x88, 0x92, 0, 0, 0, 0, 0, 1, 0, 3, 0, 1, 0, 200,
			0xc0, 0x00, 0xa0, 0x00)
	} else {
		b = be16(b, 0x8101)
		b = be16(b, 2+2+16+2+6+2)
		b = append(b, 1, 0)
		b = be16(b, 1)
		b = append(b, p.arUUID[:]...)
		b = be16(b, p.sessionKey)
		b = append(b, p.dev.mac[:]...)
		b = be16(b, 0x8892)
		b = append(b, 0x81, 0x03, 0x00, 0x08, 1, 0, 0, 1, 0, 1, 0, 200)
	}
	n := uint32(len(b) - blocks)
	put16(b[argsAt+2:], uint16(n))
	put16(b[actualAt+2:], uint16(n))
	put16(b[fragAt:], uint16(len(b)-body))
	p.tmp = b
	if req {
		g.udp(p.plc, p.dev.mac, p.plc.ip, p.dev.ip, p.cport, 34964, b)
		p.state = 1
		return g.between(3*ms, 8*ms)
	}
	g.udp(p.dev, p.plc.mac, p.dev.ip, p.plc.ip, 34964, p.cport, b)
	p.state = 0
	return g.jit(p.every, 0.1)
}

// profinetLLDP returns the organisationally specific TLVs PROFINET devices
// add to LLDP: IEEE 802.3 MAC/PHY configuration, PROFINET port status and
// chassis MAC.
func profinetLLDP(b []byte, m model.MAC) []byte {
	b = lldpTLV(b, 127, []byte{0x00, 0x12, 0x0f, 0x01, 0x03, 0x6c, 0x00, 0x00, 0x10})
	b = lldpTLV(b, 127, []byte{0x00, 0x0e, 0xcf, 0x02, 0x00, 0x00, 0x00, 0x00})
	return lldpTLV(b, 127, []byte{0x00, 0x0e, 0xcf, 0x05}, m[:])
}
