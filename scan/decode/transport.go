package decode

import (
	"net/netip"

	"otscope/model"
)

// serviceKey identifies a reported service.
type serviceKey struct {
	mac  model.MAC
	ip   netip.Addr
	udp  bool
	port uint16
}

// ntpServerMode reports an NTP packet in server (4) or broadcast (5) mode:
// clients send from port 123 too, so the port alone does not make a server.
func ntpServerMode(p []byte) bool { return len(p) > 0 && (p[0]&7 == 4 || p[0]&7 == 5) }

// clientOnlyUDP are well-known ports that only clients send from.
func clientOnlyUDP(p uint16) bool { return p == 68 || p == 546 }

func (d *Decoder) onTCP(fi *frameInfo, src, dst netip.Addr) (*flowState, int) {
	fl := tcpFlags{syn: d.tcp.SYN, ack: d.tcp.ACK, fin: d.tcp.FIN, rst: d.tcp.RST}
	sp, dp := uint16(d.tcp.SrcPort), uint16(d.tcp.DstPort)
	payload := len(d.tcp.Payload)
	f, side := d.flows.update(d, fi, src, dst, sp, dp, 6, payload, fl)
	if !f.service && f.server == int8(side) && !fl.rst &&
		((fl.syn && fl.ack) || (payload > 0 && (f.strong || portProtocol(false, sp) != ""))) {
		f.service = true
		d.service(fi, src, false, sp)
	}
	d.runParser(fi, f, side, src, dst, sp, dp, false, d.tcp.Payload)
	return f, side
}

func (d *Decoder) onUDP(fi *frameInfo, src, dst netip.Addr) (*flowState, int) {
	sp, dp := uint16(d.udp.SrcPort), uint16(d.udp.DstPort)
	payload := d.udp.Payload
	f, side := d.flows.update(d, fi, src, dst, sp, dp, 17, len(payload), tcpFlags{})
	if !f.service && !clientOnlyUDP(sp) && portProtocol(true, sp) != "" && !(sp == 123 && !ntpServerMode(payload)) {
		f.service = true
		d.service(fi, src, true, sp)
	} else if !f.service && f.server == int8(side) && f.sent[1-side] && portProtocol(true, sp) == "" &&
		portProtocol(true, dp) == "" && sp < 1024 {
		// an answer from a privileged port nobody registered
		f.service = true
		d.service(fi, src, true, sp)
	}
	d.runParser(fi, f, side, src, dst, sp, dp, true, payload)
	d.udpSlowPath(fi, src, sp, dp, payload)
	return f, side
}

// udpSlowPath hands a datagram of the rare protocols read outside the
// flow parsers (DHCP, DNS, NetBIOS) to their decoders.
func (d *Decoder) udpSlowPath(fi *frameInfo, src netip.Addr, sp, dp uint16, payload []byte) {
	switch {
	case sp == 67 || sp == 68 || dp == 67 || dp == 68:
		d.guard(func() { d.onDHCP(fi, src, payload) })
	case sp == 53 || sp == 5353 || sp == 5355:
		d.guard(func() { d.onDNS(fi, src, sp, payload) })
	case sp == 137 || dp == 137:
		d.guard(func() { d.onNBNS(fi, src, payload) })
	case sp == 138 && dp == 138:
		d.guard(func() { d.onBrowser(fi, src, payload) })
	}
}

// service reports that the sender of the current frame answers on port.
func (d *Decoder) service(fi *frameInfo, ip netip.Addr, udp bool, port uint16) {
	if !usableIP(ip) {
		return
	}
	var mac model.MAC
	if fi.hasMAC && fi.src.IsUnicast() {
		mac = fi.src
	}
	k := serviceKey{mac: mac, ip: ip, udp: udp, port: port}
	if _, ok := d.services[k]; ok {
		return
	}
	d.services[k] = struct{}{}
	d.emitService(fi, mac, ip, udp, port, "", false)
}

// serviceNamed reports a service whose protocol a parser proved from the
// payload; fromSender says whether ip is the frame's sender (for its MAC).
func (d *Decoder) serviceNamed(fi *frameInfo, ip netip.Addr, udp bool, port uint16, proto string, fromSender bool) {
	if !usableIP(ip) {
		return
	}
	var mac model.MAC // a receiver is known by its IP only (see appCtx.receiver)
	if m := fi.src; fromSender && fi.hasMAC && m.IsUnicast() {
		mac = m
	}
	d.emitService(fi, mac, ip, udp, port, proto, true)
}

func (d *Decoder) emitService(fi *frameInfo, mac model.MAC, ip netip.Addr, udp bool, port uint16, proto string, identified bool) {
	transport := "tcp"
	if udp {
		transport = "udp"
	}
	if proto == "" {
		proto = portProtocol(udp, port)
	}
	if proto == "" {
		proto = transport
	}
	d.obs = append(d.obs, model.Observation{
		Kind:       model.ObsService,
		Subject:    model.Endpoint{MAC: mac, IP: ip, VLAN: fi.vlan},
		First:      d.now,
		Last:       d.now,
		Identified: identified,
		Service:    model.Service{Transport: transport, Port: port, Protocol: proto, IP: ip, FirstSeen: d.now, LastSeen: d.now},
		Source:     d.source(proto, ip),
	})
}

// guard runs a slow-path parser and turns a panic on hostile input into a
// counted decode error: a malformed packet must never stop the capture.
func (d *Decoder) guard(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			d.stats.DecodeErrors++
		}
	}()
	fn()
}
