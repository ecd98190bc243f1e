package plant

import (
	"otscope/model"
)

// Frame-level constants.
const (
	etIPv4 = 0x0800
	etARP  = 0x0806
	etIPv6 = 0x86dd
	etLLDP = 0x88cc

	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58

	// TCP flags.
	fFIN = 0x01
	fSYN = 0x02
	fPSH = 0x08
	fACK = 0x10
	fPA  = fPSH | fACK
	fFA  = fFIN | fACK

	minFrame = 60
)

var (
	broadcastMAC = model.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	lldpMAC      = model.MAC{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}
	cdpMAC       = model.MAC{0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc}
	mdnsMAC      = model.MAC{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}
	allNodesMAC  = model.MAC{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}
	broadcastIP  = [4]byte{255, 255, 255, 255}
	mdnsIP       = [4]byte{224, 0, 0, 251}
)

// node is one interface that sends frames: a device in its zone, or one
// VLAN interface of the core switch. Routed devices are nodes whose mac is
// the firewall's.
type node struct {
	dev   *Device
	mac   model.MAC
	ip    [4]byte
	vlan  uint16
	outer uint16
	zone  int // index into zones
	ttl   uint8
	ipid  uint16
	win   uint16
	// proc is the typical time the device takes to answer a request (µs).
	proc int64
	// delAck is the delayed-ACK timer of its TCP stack (µs).
	delAck int64
	// windows marks Windows hosts (NetBIOS, IPv6 link-local, DHCP class).
	windows bool
}

func be16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }
func be32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}
func le16(b []byte, v uint16) []byte { return append(b, byte(v), byte(v>>8)) }
func le32(b []byte, v uint32) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24))
}
func le64(b []byte, v uint64) []byte { return le32(le32(b, uint32(v)), uint32(v>>32)) }
func put16(b []byte, v uint16)       { b[0], b[1] = byte(v>>8), byte(v) }
func put16le(b []byte, v uint16)     { b[0], b[1] = byte(v), byte(v>>8) }

// appendEth appends an Ethernet II header with the sender's VLAN tags.
func appendEth(b []byte, dst, src model.MAC, outer, vlan, etype uint16) []byte {
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	if outer != 0 {
		b = be16(b, 0x88a8)
		b = be16(b, outer)
	}
	if vlan != 0 {
		b = be16(b, 0x8100)
		b = be16(b, vlan)
	}
	return be16(b, etype)
}

// sum16 adds b as big-endian 16-bit words to s (one's complement, unfolded).
func sum16(b []byte, s uint64) uint64 {
	for len(b) >= 8 {
		s += (uint64(b[0])<<8 | uint64(b[1])) + (uint64(b[2])<<8 | uint64(b[3])) +
			(uint64(b[4])<<8 | uint64(b[5])) + (uint64(b[6])<<8 | uint64(b[7]))
		b = b[8:]
	}
	for len(b) >= 2 {
		s += uint64(b[0])<<8 | uint64(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint64(b[0]) << 8
	}
	return s
}

// fold finishes an Internet checksum.
func fold(s uint64) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// pad extends a frame to the 60-byte Ethernet minimum with zero bytes.
func pad(b []byte) []byte {
	for len(b) < minFrame {
		b = append(b, 0)
	}
	return b
}

// ipv4 writes a complete IPv4 frame into g.buf: Ethernet (with from's tags),
// IPv4, then l4 (the transport header and payload, with a zero checksum
// field at csumOff, or csumOff < 0 for none) and sets g.out.
func (g *Generator) ipv4(from *node, dst model.MAC, src, dstIP [4]byte, proto byte, ttl uint8, l4 []byte, csumOff int) {
	b := appendEth(g.buf[:0], dst, from.mac, from.outer, from.vlan, etIPv4)
	ipOff := len(b)
	total := 20 + len(l4)
	from.ipid++
	b = append(b, 0x45, 0)
	b = be16(b, uint16(total))
	b = be16(b, from.ipid)
	b = be16(b, 0x4000) // don't fragment
	b = append(b, ttl, proto, 0, 0)
	b = append(b, src[:]...)
	b = append(b, dstIP[:]...)
	put16(b[ipOff+10:], fold(sum16(b[ipOff:ipOff+20], 0)))
	l4Off := len(b)
	b = append(b, l4...)
	if csumOff >= 0 {
		var s uint64
		if proto != protoICMP {
			s = sum16(src[:], 0)
			s = sum16(dstIP[:], s)
			s += uint64(proto) + uint64(len(l4))
		}
		c := fold(sum16(b[l4Off:], s))
		if c == 0 && proto == protoUDP {
			c = 0xffff
		}
		put16(b[l4Off+csumOff:], c)
	}
	g.out = pad(b)
}

// udp writes a UDP datagram from node from.
func (g *Generator) udp(from *node, dst model.MAC, src, dstIP [4]byte, sport, dport uint16, payload []byte) {
	l := be16(g.l4[:0], sport)
	l = be16(l, dport)
	l = be16(l, uint16(8+len(payload)))
	l = append(l, 0, 0)
	l = append(l, payload...)
	g.l4 = l
	ttl := from.ttl
	if dstIP == mdnsIP {
		ttl = 255
	}
	g.ipv4(from, dst, src, dstIP, protoUDP, ttl, l, 6)
}

// tcp writes a TCP segment from node from. SYN segments carry the MSS and
// SACK-permitted options.
func (g *Generator) tcp(from *node, dst model.MAC, src, dstIP [4]byte, sport, dport uint16,
	seq, ack uint32, flags uint8, payload []byte) {
	hl := 20
	if flags&fSYN != 0 {
		hl = 28
	}
	l := be16(g.l4[:0], sport)
	l = be16(l, dport)
	l = be32(l, seq)
	if flags&fACK == 0 {
		ack = 0
	}
	l = be32(l, ack)
	l = append(l, byte(hl/4)<<4, flags)
	l = be16(l, from.win)
	l = append(l, 0, 0, 0, 0) // checksum, urgent pointer
	if flags&fSYN != 0 {
		l = append(l, 2, 4, 0x05, 0xb4, 1, 1, 4, 2) // MSS 1460, NOP, NOP, SACK permitted
	}
	l = append(l, payload...)
	g.l4 = l
	g.ipv4(from, dst, src, dstIP, protoTCP, from.ttl, l, 16)
}

// arp writes an ARP request (op 1) or reply (op 2).
func (g *Generator) arp(from *node, dst model.MAC, op uint16, sha model.MAC, spa [4]byte, tha model.MAC, tpa [4]byte) {
	b := appendEth(g.buf[:0], dst, from.mac, from.outer, from.vlan, etARP)
	b = append(b, 0, 1, 8, 0, 6, 4)
	b = be16(b, op)
	b = append(b, sha[:]...)
	b = append(b, spa[:]...)
	b = append(b, tha[:]...)
	b = append(b, tpa[:]...)
	g.out = pad(b)
}

// linkLocal returns the EUI-64 IPv6 link-local address of m.
func linkLocal(m model.MAC) [16]byte {
	return [16]byte{0xfe, 0x80, 0, 0, 0, 0, 0, 0, m[0] ^ 0x02, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]}
}

// neighborAdvert writes an unsolicited IPv6 neighbor advertisement for the
// link-local address of from to all nodes.
func (g *Generator) neighborAdvert(from *node) {
	src := linkLocal(from.mac)
	dst := [16]byte{0xff, 0x02, 15: 1}
	b := appendEth(g.buf[:0], allNodesMAC, from.mac, from.outer, from.vlan, etIPv6)
	ipOff := len(b)
	b = append(b, 0x60, 0, 0, 0)
	b = be16(b, 32)
	b = append(b, protoICMPv6, 255)
	b = append(b, src[:]...)
	b = append(b, dst[:]...)
	l4 := len(b)
	b = append(b, 136, 0, 0, 0, 0x20, 0, 0, 0) // override flag
	b = append(b, src[:]...)
	b = append(b, 2, 1)
	b = append(b, from.mac[:]...)
	s := sum16(b[ipOff+8:ipOff+40], 0)
	s += uint64(len(b)-l4) + protoICMPv6
	put16(b[l4+2:], fold(sum16(b[l4:], s)))
	g.out = b
}
