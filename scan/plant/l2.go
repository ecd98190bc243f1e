package plant

import (
	"otscope/model"
)

// beacon is a task that calls emit every interval (± jitter).
type beacon struct {
	every  int64
	jitter float64
	emit   func(g *Generator)
}

func (b *beacon) fire(g *Generator) int64 {
	b.emit(g)
	return g.jit(b.every, b.jitter)
}

// replay is a task that writes a prebuilt frame every interval.
type replay struct {
	frame []byte
	every int64
}

func (r *replay) fire(g *Generator) int64 {
	g.out = append(g.buf[:0], r.frame...)
	return g.jit(r.every, 0.01)
}

// arpTask announces a station (gratuitous ARP), then resolves its gateway
// and refreshes that entry every few minutes.
type arpTask struct {
	n     *node
	gw    *node // nil: announce only
	state int
}

func (a *arpTask) fire(g *Generator) int64 {
	switch a.state {
	case 0:
		g.arp(a.n, broadcastMAC, 1, a.n.mac, a.n.ip, model.MAC{}, a.n.ip)
		if a.gw == nil {
			a.state = 3
			return g.jit(20*60*sec, 0.2)
		}
		a.state = 1
		return g.between(200*ms, 1500*ms)
	case 1:
		g.arp(a.n, broadcastMAC, 1, a.n.mac, a.n.ip, model.MAC{}, a.gw.ip)
		a.state = 2
		return g.between(100*us, 400*us)
	case 2:
		g.arp(a.gw, a.n.mac, 2, a.gw.mac, a.gw.ip, a.n.mac, a.n.ip)
		a.state = 1
		return g.jit(4*60*sec, 0.3)
	default: // periodic re-announcement
		g.arp(a.n, broadcastMAC, 1, a.n.mac, a.n.ip, model.MAC{}, a.n.ip)
		return g.jit(20*60*sec, 0.2)
	}
}

// lldpInfo is what a station announces in LLDP.
type lldpInfo struct {
	portID   string
	portDesc string
	sysName  string
	sysDesc  string
	caps     uint16 // capabilities (also used as enabled capabilities)
	ifIndex  uint32
	profinet bool // add the PROFINET and IEEE 802.3 TLVs
}

// LLDP system capability bits.
const (
	lldpCapBridge  = 0x0004
	lldpCapRouter  = 0x0010
	lldpCapStation = 0x0080
)

func lldpTLV(b []byte, typ uint8, val ...[]byte) []byte {
	n := 0
	for _, v := range val {
		n += len(v)
	}
	b = be16(b, uint16(typ)<<9|uint16(n))
	for _, v := range val {
		b = append(b, v...)
	}
	return b
}

// lldpFrame builds the LLDPDU of node n (untagged, as received by the
// neighbouring switch port the capture mirrors).
func lldpFrame(n *node, in lldpInfo) []byte {
	b := appendEth(nil, lldpMAC, n.mac, n.outer, n.vlan, etLLDP)
	b = lldpTLV(b, 1, []byte{4}, n.mac[:])
	b = lldpTLV(b, 2, []byte{5}, []byte(in.portID))
	b = lldpTLV(b, 3, []byte{0, 120})
	b = lldpTLV(b, 4, []byte(in.portDesc))
	b = lldpTLV(b, 5, []byte(in.sysName))
	b = lldpTLV(b, 6, []byte(in.sysDesc))
	b = lldpTLV(b, 7, be16(be16(nil, in.caps), in.caps))
	mgmt := []byte{5, 1, n.ip[0], n.ip[1], n.ip[2], n.ip[3], 2}
	mgmt = be32(mgmt, in.ifIndex)
	mgmt = append(mgmt, 0)
	b = lldpTLV(b, 8, mgmt)
	if in.profinet {
		b = profinetLLDP(b, n.mac)
	}
	b = lldpTLV(b, 0)
	return pad(b)
}

// cdpInfo is what the Cisco switch announces in CDP.
type cdpInfo struct {
	deviceID string
	portID   string
	software string
	platform string
	caps     uint32
	native   uint16
}

func cdpTLV(b []byte, typ uint16, val []byte) []byte {
	b = be16(b, typ)
	b = be16(b, uint16(4+len(val)))
	return append(b, val...)
}

// cdpFrame builds a CDPv2 frame (IEEE 802.3 + LLC/SNAP) for node n.
func cdpFrame(n *node, in cdpInfo) []byte {
	addr := be32(nil, 1)
	addr = append(addr, 1, 1, 0xcc)
	addr = be16(addr, 4)
	addr = append(addr, n.ip[:]...)

	p := []byte{2, 180, 0, 0}
	p = cdpTLV(p, 0x0001, []byte(in.deviceID))
	p = cdpTLV(p, 0x0005, []byte(in.software))
	p = cdpTLV(p, 0x0006, []byte(in.platform))
	p = cdpTLV(p, 0x0002, addr)
	p = cdpTLV(p, 0x0003, []byte(in.portID))
	p = cdpTLV(p, 0x0004, be32(nil, in.caps))
	p = cdpTLV(p, 0x000a, be16(nil, in.native))
	p = cdpTLV(p, 0x000b, []byte{1})
	p = cdpTLV(p, 0x0016, addr)
	// Cisco computes the checksum of odd-length PDUs differently from
	// RFC 1071: pick the VTP domain name so the PDU length is even.
	if len(p)%2 == 0 {
		p = cdpTLV(p, 0x0009, []byte("PLANT1"))
	} else {
		p = cdpTLV(p, 0x0009, []byte("PLANT"))
	}
	put16(p[2:], fold(sum16(p, 0)))

	b := append([]byte(nil), cdpMAC[:]...)
	b = append(b, n.mac[:]...)
	b = be16(b, uint16(8+len(p)))
	b = append(b, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00)
	b = append(b, p...)
	return pad(b)
}
