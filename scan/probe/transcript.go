package probe

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
	"otscope/scan/decode"
)

// Identity from answers: every request and its answer are replayed, as the
// frames they would have been on the wire, through the same passive
// decoder that reads captures, so an answer yields exactly the facts the
// same bytes would yield in a pcap, with Source.Kind Active and the frame
// number of the packet-log record.

// StandardPorts are the ports the passive decoders know each probe's
// protocol by; transcripts use them whatever port the scan used.
var StandardPorts = map[string]uint16{
	"modbus": 502, "s7": 102, "enip": 44818, "bacnet": 47808, "snmp": 161,
	"opcua": 4840, "http": 80, "dnp3": 20000, "iec104": 2404,
}

// Raw-IP link types the decoder accepts (no MAC known).
const (
	linkIPv4 layers.LinkType = 228
	linkIPv6 layers.LinkType = 229
)

// maxSegment bounds one synthetic segment's payload, below the IPv4 total
// length limit of 65535 bytes.
const maxSegment = 65000

// transcript feeds a scan's exchanges to one decoder.
type transcript struct {
	mu      sync.Mutex
	dec     *decode.Decoder
	observe func(model.Batch)
	now     func() time.Time
	self    map[netip.Addr]bool
	// realPorts maps a target's standard port, as the transcript used it,
	// back to the port the scan really reached it on (--port modbus=5020),
	// so its service is recorded where it is.
	realPorts map[portOf]uint16
	selfMAC   map[model.MAC]bool
	buf       gopacket.SerializeBuffer
}

func newTranscript(scanID string, observe func(model.Batch), now func() time.Time) *transcript {
	return &transcript{
		dec:       decode.New(decode.Options{Origin: "scan:" + scanID, Kind: model.Active}),
		observe:   observe,
		now:       now,
		self:      map[netip.Addr]bool{},
		realPorts: map[portOf]uint16{},
		selfMAC:   map[model.MAC]bool{},
		buf:       gopacket.NewSerializeBuffer(),
	}
}

// addSelf marks a scanner address: nothing is reported about it.
func (t *transcript) addSelf(ip netip.Addr, mac model.MAC) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ip.IsValid() {
		t.self[ip] = true
	}
	if mac != (model.MAC{}) {
		t.selfMAC[mac] = true
	}
}

// wire is one side of a synthetic conversation.
type wire struct {
	s            *Session
	cport, sport uint16
}

// portOf is a target's port on one transport.
type portOf struct {
	ip   netip.Addr
	udp  bool
	port uint16
}

// wire is the synthetic conversation for one exchange; t.mu held.
func (s *Session) wire(probe string, port uint16, cport uint16, udp bool) wire {
	if p, ok := StandardPorts[probe]; ok && p != port {
		s.sc.tr.realPorts[portOf{s.t.Addr, udp, p}] = port
		port = p
	}
	return wire{s: s, cport: cport, sport: port}
}

// realPort undoes wire's port mapping for an observation about ip.
func (t *transcript) realPort(ip netip.Addr, transport string, port uint16) uint16 {
	if p, ok := t.realPorts[portOf{ip, transport == "udp", port}]; ok {
		return p
	}
	return port
}

// targetMAC is the target's MAC when the frames may carry one.
func (w wire) macs() (local, target model.MAC, ok bool) {
	local, target = w.s.mac, w.s.t.MAC
	return local, target, local != (model.MAC{}) && target != (model.MAC{})
}

// frame serialises one IP packet from the scanner (fromTarget false) or
// the target, and decodes it as frame number seq.
func (t *transcript) frame(w wire, fromTarget bool, l4 gopacket.SerializableLayer, seq uint64, payload []byte) {
	src, dst := w.s.local, w.s.t.Addr
	if fromTarget {
		src, dst = dst, src
	}
	var ls []gopacket.SerializableLayer
	link := linkIPv4
	lm, tm, withMAC := w.macs()
	if src.Is4() && dst.Is4() {
		ip4 := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		if tcp, ok := l4.(*layers.TCP); ok {
			ip4.Protocol = layers.IPProtocolTCP
			_ = tcp.SetNetworkLayerForChecksum(ip4)
		} else if udp, ok := l4.(*layers.UDP); ok {
			ip4.Protocol = layers.IPProtocolUDP
			_ = udp.SetNetworkLayerForChecksum(ip4)
		}
		if withMAC {
			ls = append(ls, ether(fromTarget, lm, tm, layers.EthernetTypeIPv4))
		}
		ls = append(ls, ip4)
	} else {
		ip6 := &layers.IPv6{Version: 6, HopLimit: 64, SrcIP: net.IP(src.AsSlice()), DstIP: net.IP(dst.AsSlice())}
		if tcp, ok := l4.(*layers.TCP); ok {
			ip6.NextHeader = layers.IPProtocolTCP
			_ = tcp.SetNetworkLayerForChecksum(ip6)
		} else if udp, ok := l4.(*layers.UDP); ok {
			ip6.NextHeader = layers.IPProtocolUDP
			_ = udp.SetNetworkLayerForChecksum(ip6)
		}
		link = linkIPv6
		if withMAC {
			ls = append(ls, ether(fromTarget, lm, tm, layers.EthernetTypeIPv6))
		}
		ls = append(ls, ip6)
	}
	if withMAC {
		link = layers.LinkTypeEthernet
	}
	ls = append(ls, l4, gopacket.Payload(payload))
	if err := gopacket.SerializeLayers(t.buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		return
	}
	data := t.buf.Bytes()
	ci := gopacket.CaptureInfo{Timestamp: t.now(), CaptureLength: len(data), Length: len(data)}
	t.dec.Decode(data, ci, link, seq)
}

func ether(fromTarget bool, local, target model.MAC, et layers.EthernetType) *layers.Ethernet {
	src, dst := local, target
	if fromTarget {
		src, dst = target, local
	}
	return &layers.Ethernet{SrcMAC: net.HardwareAddr(src[:]), DstMAC: net.HardwareAddr(dst[:]), EthernetType: et}
}

// tcpSeg builds one synthetic TCP segment header.
func (w wire) tcpSeg(fromTarget bool, seq, ack uint32, syn, fin bool) *layers.TCP {
	sp, dp := w.cport, w.sport
	if fromTarget {
		sp, dp = dp, sp
	}
	return &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), Seq: seq, Ack: ack,
		SYN: syn, ACK: ack != 0, FIN: fin, PSH: !syn && !fin, Window: 65535}
}

// connect replays the handshake of c, so the decoder knows the server side.
func (t *transcript) connect(s *Session, c *Conn, seq uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := s.wire(c.probe, c.port, c.cport, false)
	t.frame(w, false, w.tcpSeg(false, c.cseq-1, 0, true, false), seq, nil)
	t.frame(w, true, w.tcpSeg(true, c.sseq-1, c.cseq, true, false), seq, nil)
	t.frame(w, false, w.tcpSeg(false, c.cseq, c.sseq, false, false), seq, nil)
}

// tcpExchange replays a request and its whole answer.
func (t *transcript) tcpExchange(s *Session, c *Conn, seq uint64, req, ans []byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := s.wire(c.probe, c.port, c.cport, false)
	t.frame(w, false, w.tcpSeg(false, c.cseq, c.sseq, false, false), seq, req)
	c.cseq += uint32(len(req))
	for len(ans) > 0 {
		n := min(len(ans), maxSegment)
		t.frame(w, true, w.tcpSeg(true, c.sseq, c.cseq, false, false), seq, ans[:n])
		c.sseq += uint32(n)
		ans = ans[n:]
	}
}

// udpExchange replays a datagram and its answer (nil: none).
func (t *transcript) udpExchange(s *Session, probe string, port uint16, seq uint64, req, ans []byte) {
	cport := s.nextClientPort()
	t.mu.Lock()
	defer t.mu.Unlock()
	w := s.wire(probe, port, cport, true)
	udp := func(fromTarget bool) *layers.UDP {
		sp, dp := w.cport, w.sport
		if fromTarget {
			sp, dp = dp, sp
		}
		return &layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: layers.UDPPort(dp)}
	}
	t.frame(w, false, udp(false), seq, req)
	if len(ans) > 0 && len(ans) <= maxSegment {
		t.frame(w, true, udp(true), seq, ans)
	}
}

// l2Exchange feeds the request frame and the frames that answered as they are.
func (t *transcript) l2Exchange(seq uint64, req []byte, answers [][]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range append([][]byte{req}, answers...) {
		ci := gopacket.CaptureInfo{Timestamp: t.now(), CaptureLength: len(f), Length: len(f)}
		t.dec.Decode(f, ci, layers.LinkTypeEthernet, seq)
	}
}

// flush hands what the decoder learnt to observe, minus everything about
// the scanner itself: it must not become an asset with roles.
func (t *transcript) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.dec.Flush()
	obs := make([]model.Observation, 0, len(b.Obs))
	for _, o := range b.Obs {
		if t.isSelf(o.Subject) || (o.Kind == model.ObsConversation && t.isSelf(o.Peer)) {
			continue
		}
		// (conversations all have the scanner at one end: dropped above)
		if o.Kind == model.ObsService {
			o.Service.Port = t.realPort(o.Subject.IP, o.Service.Transport, o.Service.Port)
		}
		obs = append(obs, o)
	}
	model.RecycleObservations(b.Obs)
	b.Obs = obs
	if t.observe != nil && len(obs) > 0 {
		t.observe(b)
	}
}

func (t *transcript) isSelf(ep model.Endpoint) bool {
	return (ep.IP.IsValid() && t.self[ep.IP]) || (ep.MAC != (model.MAC{}) && t.selfMAC[ep.MAC])
}
