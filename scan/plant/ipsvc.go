package plant

import (
	"time"
)

var zeros [256]byte

// ntpTime appends the 64-bit NTP timestamp of plant time t (µs).
func (g *Generator) ntpTime(b []byte, t int64) []byte {
	abs := g.start.Add(time.Duration(t) * time.Microsecond)
	secs := uint64(abs.Unix()) + 2208988800
	frac := uint64(abs.Nanosecond()) << 32 / 1e9
	return be32(be32(b, uint32(secs)), uint32(frac))
}

// appendName appends a DNS name (no compression).
func appendName(b []byte, name string) []byte {
	start := 0
	for i := 0; i <= len(name); i++ {
		if i == len(name) || name[i] == '.' {
			if i > start {
				b = append(b, byte(i-start))
				b = append(b, name[start:i]...)
			}
			start = i + 1
		}
	}
	return append(b, 0)
}

// appendNBName appends a first-level encoded NetBIOS name (RFC 1001).
func appendNBName(b []byte, name string, suffix byte) []byte {
	b = append(b, 32)
	for i := 0; i < 16; i++ {
		c := byte(' ')
		switch {
		case i == 15:
			c = suffix
		case i < len(name):
			c = name[i]
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
		}
		b = append(b, 'A'+c>>4, 'A'+c&0x0f)
	}
	return append(b, 0)
}

// dhcpTask plays DORA for a client at start-up, then renews the lease.
type dhcpTask struct {
	c, srv      *node
	state       int
	xid         uint32
	secs        uint16
	hostname    string
	vendorClass string
	params      []byte
	router, dns [4]byte
}

func (t *dhcpTask) bootp(b []byte, op byte, ciaddr, yiaddr [4]byte) []byte {
	b = append(b, op, 1, 6, 0)
	b = be32(b, t.xid)
	b = be16(b, t.secs)
	b = be16(b, 0)
	b = append(b, ciaddr[:]...)
	b = append(b, yiaddr[:]...)
	b = append(b, zeros[:8]...) // siaddr, giaddr
	b = append(b, t.c.mac[:]...)
	b = append(b, zeros[:10+64+128]...)
	return append(b, 0x63, 0x82, 0x53, 0x63)
}

func (t *dhcpTask) clientOpts(b []byte, typ byte, selecting bool) []byte {
	b = append(b, 53, 1, typ, 61, 7, 1)
	b = append(b, t.c.mac[:]...)
	if selecting {
		b = append(b, 50, 4)
		b = append(b, t.c.ip[:]...)
		if typ == 3 {
			b = append(b, 54, 4)
			b = append(b, t.srv.ip[:]...)
		}
	}
	b = append(b, 12, byte(len(t.hostname)))
	b = append(b, t.hostname...)
	if t.vendorClass != "" {
		b = append(b, 60, byte(len(t.vendorClass)))
		b = append(b, t.vendorClass...)
	}
	b = append(b, 55, byte(len(t.params)))
	b = append(b, t.params...)
	return dhcpEnd(b)
}

// dhcpEnd appends the end option and pads the message to the BOOTP minimum.
func dhcpEnd(b []byte) []byte {
	b = append(b, 255)
	for len(b) < 300 {
		b = append(b, 0)
	}
	return b
}

func (t *dhcpTask) serverOpts(b []byte, typ byte) []byte {
	b = append(b, 53, 1, typ, 54, 4)
	b = append(b, t.srv.ip[:]...)
	b = append(b, 51, 4, 0, 1, 0x51, 0x80) // 86400 s
	b = append(b, 58, 4, 0, 0, 0xa8, 0xc0) // 43200 s
	b = append(b, 59, 4, 0, 1, 0x27, 0x50) // 75600 s
	b = append(b, 1, 4, 255, 255, 255, 0, 3, 4)
	b = append(b, t.router[:]...)
	b = append(b, 6, 4)
	b = append(b, t.dns[:]...)
	b = append(b, 15, 11)
	b = append(b, "plant.local"...)
	return dhcpEnd(b)
}

func (t *dhcpTask) fire(g *Generator) int64 {
	var none [4]byte
	switch t.state {
	case 0: // DISCOVER
		t.xid = g.rng.Uint32()
		t.secs = 0
		g.pl = t.clientOpts(t.bootp(g.pl[:0], 1, none, none), 1, false)
		g.udp(t.c, broadcastMAC, none, broadcastIP, 68, 67, g.pl)
		t.state = 1
		return g.between(2*ms, 12*ms)
	case 1: // OFFER
		g.pl = t.serverOpts(t.bootp(g.pl[:0], 2, none, t.c.ip), 2)
		g.udp(t.srv, t.c.mac, t.srv.ip, t.c.ip, 67, 68, g.pl)
		t.state = 2
		return g.between(5*ms, 40*ms)
	case 2: // REQUEST
		g.pl = t.clientOpts(t.bootp(g.pl[:0], 1, none, none), 3, true)
		g.udp(t.c, broadcastMAC, none, broadcastIP, 68, 67, g.pl)
		t.state = 3
		return g.between(2*ms, 12*ms)
	case 3, 5: // ACK
		ci := none
		if t.state == 5 {
			ci = t.c.ip
		}
		g.pl = t.serverOpts(t.bootp(g.pl[:0], 2, ci, t.c.ip), 5)
		g.udp(t.srv, t.c.mac, t.srv.ip, t.c.ip, 67, 68, g.pl)
		t.state = 4
		return g.jit(30*60*sec, 0.1)
	default: // renewing REQUEST, unicast
		t.xid = g.rng.Uint32()
		g.pl = t.clientOpts(t.bootp(g.pl[:0], 1, t.c.ip, none), 3, false)
		g.udp(t.c, t.srv.mac, t.c.ip, t.srv.ip, 68, 67, g.pl)
		t.state = 5
		return g.between(2*ms, 12*ms)
	}
}

// dnsQ is one question a client asks and the answer it gets.
type dnsQ struct {
	name string
	ptr  string  // PTR target; "" for an A query
	a    [4]byte // A answer
	nx   bool    // NXDOMAIN
}

// dnsApp asks the DNS server its questions in turn.
type dnsApp struct {
	qs []dnsQ
	i  int
	id uint16
}

func (a *dnsApp) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	q := &a.qs[a.i%len(a.qs)]
	typ := uint16(1)
	if q.ptr != "" {
		typ = 12
	}
	if msg == 1 {
		a.id = uint16(g.rng.Uint32())
		b = be16(b, a.id)
		b = append(b, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0)
		b = appendName(b, q.name)
		b = be16(b, typ)
		return be16(b, 1)
	}
	a.i++
	b = be16(b, a.id)
	if q.nx {
		b = append(b, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0)
	} else {
		b = append(b, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0)
	}
	b = appendName(b, q.name)
	b = be16(b, typ)
	b = be16(b, 1)
	if q.nx {
		return b
	}
	b = append(b, 0xc0, 0x0c)
	b = be16(b, typ)
	b = be16(b, 1)
	b = be32(b, 3600)
	if q.ptr != "" {
		l := len(b)
		b = append(b, 0, 0)
		b = appendName(b, q.ptr)
		put16(b[l:], uint16(len(b)-l-2))
		return b
	}
	b = be16(b, 4)
	return append(b, q.a[:]...)
}

// mdnsRecord is one resource record of an mDNS announcement.
type mdnsRecord struct {
	name  string
	typ   uint16
	flush bool
	ttl   uint32
	rdata []byte
}

// mdnsAnnouncement builds an unsolicited mDNS response carrying records.
func mdnsAnnouncement(recs []mdnsRecord) []byte {
	b := []byte{0, 0, 0x84, 0, 0, 0}
	b = be16(b, uint16(len(recs)))
	b = append(b, 0, 0, 0, 0)
	for _, r := range recs {
		b = appendName(b, r.name)
		b = be16(b, r.typ)
		cls := uint16(1)
		if r.flush {
			cls |= 0x8000
		}
		b = be16(b, cls)
		b = be32(b, r.ttl)
		b = be16(b, uint16(len(r.rdata)))
		b = append(b, r.rdata...)
	}
	return b
}

// nbnsTask registers a Windows host's NetBIOS names by broadcast.
type nbnsTask struct {
	n     *node
	names []nbName
	i     int
	tid   uint16
	bcast [4]byte
}

// nbName is a NetBIOS name with its suffix and group flag.
type nbName struct {
	name   string
	suffix byte
	group  bool
}

func (t *nbnsTask) fire(g *Generator) int64 {
	nm := t.names[t.i]
	t.tid++
	b := be16(g.pl[:0], t.tid)
	b = append(b, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1)
	b = appendNBName(b, nm.name, nm.suffix)
	b = append(b, 0, 0x20, 0, 1, 0xc0, 0x0c, 0, 0x20, 0, 1)
	b = be32(b, 300000)
	b = append(b, 0, 6)
	if nm.group {
		b = append(b, 0x80, 0)
	} else {
		b = append(b, 0, 0)
	}
	b = append(b, t.n.ip[:]...)
	g.pl = b
	g.udp(t.n, broadcastMAC, t.n.ip, t.bcast, 137, 137, g.pl)
	t.i++
	if t.i < len(t.names) {
		return g.between(600*ms, 800*ms)
	}
	t.i = 0
	return g.jit(15*60*sec, 0.1)
}

// browserTask sends the Windows browser Host Announcement to the workgroup.
type browserTask struct {
	n        *node
	major    byte // Windows version announced (10.0, 6.1 for Windows 7)
	minor    byte
	name     string
	comment  string
	workgrp  string
	srvType  uint32
	dgmID    uint16
	bcast    [4]byte
	smbBytes []byte
}

func (t *browserTask) fire(g *Generator) int64 {
	// SMB Transaction request to \MAILSLOT\BROWSE carrying the announcement.
	data := append(t.smbBytes[:0], 0x01, 0)
	data = le32(data, 720000)
	var nm [16]byte
	copy(nm[:15], t.name)
	data = append(data, nm[:]...)
	data = append(data, t.major, t.minor)
	data = le32(data, t.srvType)
	data = append(data, 15, 1, 0x55, 0xaa)
	data = append(data, t.comment...)
	data = append(data, 0)
	t.smbBytes = data
	const mailslot = "\\MAILSLOT\\BROWSE\x00"
	const dataOff = 32 + 1 + 34 + 2 + len(mailslot)

	t.dgmID++
	b := append(g.pl[:0], 0x11, 0x02)
	b = be16(b, t.dgmID)
	b = append(b, t.n.ip[:]...)
	b = be16(b, 138)
	lenAt := len(b)
	b = append(b, 0, 0, 0, 0)
	nbStart := len(b)
	b = appendNBName(b, t.name, 0x00)
	b = appendNBName(b, t.workgrp, 0x1d)
	b = append(b, 0xff, 'S', 'M', 'B', 0x25)
	b = append(b, zeros[:27]...)
	b = append(b, 17)
	b = le16(b, 0)
	b = le16(b, uint16(len(data)))
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) // max counts, flags, timeout, reserved
	b = le16(b, 0)
	b = le16(b, uint16(dataOff))
	b = le16(b, uint16(len(data)))
	b = le16(b, uint16(dataOff))
	b = append(b, 3, 0, 1, 0, 1, 0, 2, 0)
	b = le16(b, uint16(len(mailslot)+len(data)))
	b = append(b, mailslot...)
	b = append(b, data...)
	put16(b[lenAt:], uint16(len(b)-nbStart))
	g.pl = b
	g.udp(t.n, broadcastMAC, t.n.ip, t.bcast, 138, 138, g.pl)
	return g.jit(12*60*sec, 0.05)
}

// ntpApp is an NTP client/server exchange.
type ntpApp struct {
	xmt   int64
	refID [4]byte
}

func (a *ntpApp) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	if msg == 1 {
		a.xmt = g.now
		b = append(b, 0x23, 0, 6, 0xe9)
		b = append(b, zeros[:36]...)
		return g.ntpTime(b, g.now)
	}
	b = append(b, 0x24, 1, 6, 0xed, 0, 0, 0, 0, 0, 0, 0, 0x0a)
	b = append(b, a.refID[:]...)
	b = g.ntpTime(b, g.now-g.now%(16*sec)-3*sec)
	b = g.ntpTime(b, a.xmt)
	b = g.ntpTime(b, g.now-40)
	return g.ntpTime(b, g.now-15)
}

// pingApp is an ICMP echo request and reply with a Windows-style payload.
type pingApp struct {
	id, seq uint16
}

func (a *pingApp) payload(_ *Generator, _ *dialog, msg uint8, b []byte) []byte {
	typ := byte(0)
	if msg == 1 {
		typ = 8
		a.seq++
	}
	b = append(b, typ, 0, 0, 0)
	b = be16(b, a.id)
	b = be16(b, a.seq)
	return append(b, "abcdefghijklmnopqrstuvwabcdefghi"...)
}
