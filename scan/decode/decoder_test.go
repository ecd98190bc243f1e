package decode

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
)

var (
	macPLC = net.HardwareAddr{0x00, 0x1b, 0x1b, 0x01, 0x02, 0x03}
	macHMI = net.HardwareAddr{0x00, 0x0e, 0x8c, 0x0a, 0x0b, 0x0c}
	macGW  = net.HardwareAddr{0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e}
	ipPLC  = net.IP{10, 10, 1, 10}
	ipHMI  = net.IP{10, 10, 1, 20}
	t0     = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
)

// frame serialises layers into an Ethernet frame.
func frame(t testing.TB, ls ...gopacket.SerializableLayer) []byte {
	t.Helper()
	buf := gopacket.NewSerializeBuffer()
	for _, l := range ls {
		if n, ok := l.(interface {
			SetNetworkLayerForChecksum(gopacket.NetworkLayer) error
		}); ok {
			for _, o := range ls {
				if nl, ok := o.(gopacket.NetworkLayer); ok {
					_ = n.SetNetworkLayerForChecksum(nl)
				}
			}
		}
	}
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, ls...); err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), buf.Bytes()...)
}

func eth(src, dst net.HardwareAddr, et layers.EthernetType) *layers.Ethernet {
	return &layers.Ethernet{SrcMAC: src, DstMAC: dst, EthernetType: et}
}

func ip4(src, dst net.IP, proto layers.IPProtocol) *layers.IPv4 {
	return &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: src, DstIP: dst}
}

func tcpSeg(sp, dp uint16, syn, ack bool) *layers.TCP {
	return &layers.TCP{SrcPort: layers.TCPPort(sp), DstPort: layers.TCPPort(dp), SYN: syn, ACK: ack, Window: 8192}
}

func ci(n int, at time.Duration) gopacket.CaptureInfo {
	return gopacket.CaptureInfo{Timestamp: t0.Add(at), CaptureLength: n, Length: n}
}

func feed(d *Decoder, frames ...[]byte) {
	for i, f := range frames {
		d.Decode(f, ci(len(f), time.Duration(i)*time.Millisecond), layers.LinkTypeEthernet, 0)
	}
}

func find(obs []model.Observation, kind model.ObsKind, pred func(model.Observation) bool) []model.Observation {
	var out []model.Observation
	for _, o := range obs {
		if o.Kind == kind && (pred == nil || pred(o)) {
			out = append(out, o)
		}
	}
	return out
}

// modbusHandshake returns the HMI's SYN to the PLC's Modbus port, the
// PLC's SYN/ACK and the HMI's ACK.
func modbusHandshake(t testing.TB) (syn, synack, ack []byte) {
	syn = frame(t, eth(macHMI, macPLC, layers.EthernetTypeIPv4), ip4(ipHMI, ipPLC, layers.IPProtocolTCP), tcpSeg(49152, 502, true, false))
	synack = frame(t, eth(macPLC, macHMI, layers.EthernetTypeIPv4), ip4(ipPLC, ipHMI, layers.IPProtocolTCP), tcpSeg(502, 49152, true, true))
	ack = frame(t, eth(macHMI, macPLC, layers.EthernetTypeIPv4), ip4(ipHMI, ipPLC, layers.IPProtocolTCP), tcpSeg(49152, 502, false, true))
	return syn, synack, ack
}

func TestHandshakeMakesServiceAndConversation(t *testing.T) {
	d := New(Options{Origin: "unit"})
	syn, synack, ack := modbusHandshake(t)
	feed(d, syn, synack, ack)
	b := d.Flush()
	svc := find(b.Obs, model.ObsService, nil)
	if len(svc) != 1 {
		t.Fatalf("services = %+v, want one", svc)
	}
	s := svc[0]
	if s.Subject.IP != netip.MustParseAddr("10.10.1.10") || s.Service.Port != 502 || s.Service.Protocol != "modbus" || s.Service.Transport != "tcp" {
		t.Errorf("service = %+v", s)
	}
	if s.Source.Frame != 2 || s.Source.Origin != "unit" {
		t.Errorf("service provenance = %+v, want frame 2 of unit", s.Source)
	}
	conv := find(b.Obs, model.ObsConversation, nil)
	if len(conv) != 1 {
		t.Fatalf("conversations = %d, want 1", len(conv))
	}
	c := conv[0]
	if c.Subject.IP != netip.MustParseAddr("10.10.1.20") || c.Peer.IP != netip.MustParseAddr("10.10.1.10") ||
		c.Port != 502 || c.Packets != 3 || c.Flows != 1 || c.Protocol != "modbus" {
		t.Errorf("conversation = %+v", c)
	}
	hosts := find(b.Obs, model.ObsHost, func(o model.Observation) bool { return o.Protocol == "" })
	if len(hosts) != 2 {
		t.Fatalf("hosts = %d, want 2", len(hosts))
	}
	// a second flush reports deltas only
	feed(d, ack)
	b = d.Flush()
	conv = find(b.Obs, model.ObsConversation, nil)
	if len(conv) != 1 || conv[0].Packets != 1 || conv[0].Flows != 0 {
		t.Errorf("delta conversation = %+v", conv)
	}
	if len(find(b.Obs, model.ObsService, nil)) != 0 {
		t.Error("service reported twice")
	}
}

func TestRSTIsNotAService(t *testing.T) {
	d := New(Options{Origin: "unit"})
	syn := frame(t, eth(macHMI, macPLC, layers.EthernetTypeIPv4), ip4(ipHMI, ipPLC, layers.IPProtocolTCP), tcpSeg(49152, 23, true, false))
	rst := tcpSeg(23, 49152, false, true)
	rst.RST = true
	feed(d, syn, frame(t, eth(macPLC, macHMI, layers.EthernetTypeIPv4), ip4(ipPLC, ipHMI, layers.IPProtocolTCP), rst))
	if svc := find(d.Flush().Obs, model.ObsService, nil); len(svc) != 0 {
		t.Errorf("closed port reported as service: %+v", svc)
	}
}

func TestQinQKeepsInnerVLAN(t *testing.T) {
	d := New(Options{})
	f := frame(t, eth(macPLC, macHMI, layers.EthernetTypeQinQ),
		&layers.Dot1Q{VLANIdentifier: 100, Type: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 20, Type: layers.EthernetTypeIPv4},
		ip4(ipPLC, ipHMI, layers.IPProtocolUDP), &layers.UDP{SrcPort: 2222, DstPort: 2222}, gopacket.Payload([]byte{1, 2, 3, 4}))
	feed(d, f)
	b := d.Flush()
	h := find(b.Obs, model.ObsHost, nil)
	if len(h) == 0 || h[0].Subject.VLAN != 20 || h[0].Subject.IP != netip.MustParseAddr("10.10.1.10") {
		t.Fatalf("host = %+v, want VLAN 20 and the PLC's IP", h)
	}
}

func TestARPClaims(t *testing.T) {
	d := New(Options{})
	f := frame(t, eth(macPLC, layers.EthernetBroadcast, layers.EthernetTypeARP), &layers.ARP{
		AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
		Operation: layers.ARPRequest, SourceHwAddress: macPLC, SourceProtAddress: ipPLC,
		DstHwAddress: make([]byte, 6), DstProtAddress: ipHMI,
	})
	feed(d, f)
	claims := find(d.Flush().Obs, model.ObsHost, func(o model.Observation) bool { return o.Binding == model.BindClaimed })
	if len(claims) != 1 || claims[0].Subject.IP != netip.MustParseAddr("10.10.1.10") || claims[0].Subject.MAC != model.MACFrom(macPLC) {
		t.Fatalf("claims = %+v", claims)
	}
}

func TestDHCPFacts(t *testing.T) {
	d := New(Options{})
	req := &layers.DHCPv4{Operation: layers.DHCPOpRequest, HardwareType: layers.LinkTypeEthernet, HardwareLen: 6,
		ClientHWAddr: macHMI, Options: layers.DHCPOptions{
			layers.NewDHCPOption(layers.DHCPOptMessageType, []byte{byte(layers.DHCPMsgTypeRequest)}),
			layers.NewDHCPOption(layers.DHCPOptRequestIP, ipHMI),
			layers.NewDHCPOption(layers.DHCPOptHostname, []byte("HMI-LINE1")),
			layers.NewDHCPOption(layers.DHCPOptClassID, []byte("MSFT 5.0")),
			layers.NewDHCPOption(layers.DHCPOptParamsRequest, []byte{1, 3, 6, 15}),
		}}
	f := frame(t, eth(macHMI, layers.EthernetBroadcast, layers.EthernetTypeIPv4), ip4(net.IPv4zero, net.IPv4bcast, layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 68, DstPort: 67}, req)
	feed(d, f)
	facts := find(d.Flush().Obs, model.ObsFact, nil)
	got := map[string]string{}
	for _, o := range facts {
		got[o.Fact.Field] = o.Fact.Value
		// option 50 is known from the payload: a fact, never the client's
		// address (issue 14, item 21)
		if o.Subject.MAC != model.MACFrom(macHMI) || o.Subject.IP.IsValid() {
			t.Errorf("fact subject = %+v, want the client's MAC without the requested IP", o.Subject)
		}
	}
	want := map[string]string{model.FieldHostname: "HMI-LINE1", model.FieldDHCPVendorClass: "MSFT 5.0", model.FieldDHCPParamList: "1,3,6,15",
		fieldDHCPRequested: "10.10.1.20"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
}

func TestDNSAnswerNamesTheAddress(t *testing.T) {
	d := New(Options{})
	resp := &layers.DNS{ID: 1, QR: true, ANCount: 1, Answers: []layers.DNSResourceRecord{{
		Name: []byte("plc1.plant.local"), Type: layers.DNSTypeA, Class: layers.DNSClassIN, TTL: 60, IP: ipPLC,
	}}}
	f := frame(t, eth(macGW, macHMI, layers.EthernetTypeIPv4), ip4(net.IP{10, 10, 1, 1}, ipHMI, layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 53, DstPort: 40000}, resp)
	feed(d, f)
	facts := find(d.Flush().Obs, model.ObsFact, func(o model.Observation) bool { return o.Fact.Field == model.FieldDNSName })
	if len(facts) != 1 || facts[0].Subject.IP != netip.MustParseAddr("10.10.1.10") || facts[0].Fact.Value != "plc1.plant.local" {
		t.Fatalf("dns facts = %+v", facts)
	}
	if !facts[0].Subject.MAC.IsZero() {
		t.Error("a DNS answer must not tie the named host to the DNS server's MAC")
	}
}

func TestNBNSRegistration(t *testing.T) {
	// A registration request for "ENG-WS01<00>" at 10.10.1.30, with the NB
	// record in the additional section pointing back to the question name.
	name := nbEncode("ENG-WS01", 0x00)
	p := []byte{0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1}
	p = append(p, name...)
	p = append(p, 0, 0x20, 0, 1)                               // type NB, class IN
	p = append(p, 0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0, 0, 0, 6) // pointer, NB, IN, ttl, rdlen 6
	p = append(p, 0x00, 0x00, 10, 10, 1, 30)
	f := frame(t, eth(macHMI, layers.EthernetBroadcast, layers.EthernetTypeIPv4), ip4(net.IP{10, 10, 1, 30}, net.IP{10, 10, 1, 255}, layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 137, DstPort: 137}, gopacket.Payload(p))
	feed(New(Options{}), f)
	d := New(Options{})
	feed(d, f)
	facts := find(d.Flush().Obs, model.ObsFact, func(o model.Observation) bool { return o.Fact.Field == model.FieldHostname })
	if len(facts) != 1 || facts[0].Fact.Value != "ENG-WS01" || facts[0].Subject.IP != netip.MustParseAddr("10.10.1.30") {
		t.Fatalf("nbns hostname facts = %+v", facts)
	}
}

func nbEncode(name string, suffix byte) []byte {
	var raw [16]byte
	copy(raw[:], name)
	for i := len(name); i < 15; i++ {
		raw[i] = ' '
	}
	raw[15] = suffix
	out := []byte{32}
	for _, b := range raw {
		out = append(out, 'A'+b>>4, 'A'+b&0xf)
	}
	return append(out, 0)
}

func TestTruncatedIPStillRecordsSender(t *testing.T) {
	d := New(Options{})
	f := frame(t, eth(macPLC, macHMI, layers.EthernetTypeIPv4), ip4(ipPLC, ipHMI, layers.IPProtocolTCP), tcpSeg(502, 40000, false, true))
	cut := f[:14+10] // Ethernet + half an IPv4 header
	d.Decode(cut, gopacket.CaptureInfo{Timestamp: t0, CaptureLength: len(cut), Length: len(f)}, layers.LinkTypeEthernet, 0)
	b := d.Flush()
	if b.Stats.Truncated == 0 && b.Stats.DecodeErrors == 0 {
		t.Error("a cut frame was not counted")
	}
	if h := find(b.Obs, model.ObsHost, nil); len(h) == 0 || h[0].Subject.MAC != model.MACFrom(macPLC) {
		t.Errorf("sender of a cut frame dropped: %+v", h)
	}
	d.Decode([]byte{1, 2, 3}, gopacket.CaptureInfo{Timestamp: t0, CaptureLength: 3, Length: 3}, layers.LinkTypeEthernet, 0)
	if d.Stats().Undecodable != 1 {
		t.Errorf("undecodable = %d, want 1", d.Stats().Undecodable)
	}
}

func TestFlowEviction(t *testing.T) {
	d := New(Options{FlowIdle: time.Minute})
	udp := func(sp uint16) []byte {
		return frame(t, eth(macHMI, macPLC, layers.EthernetTypeIPv4), ip4(ipHMI, ipPLC, layers.IPProtocolUDP),
			&layers.UDP{SrcPort: layers.UDPPort(sp), DstPort: 161}, gopacket.Payload([]byte{0x30, 0}))
	}
	for i := 0; i < 10; i++ {
		f := udp(uint16(40000 + i))
		d.Decode(f, ci(len(f), time.Duration(i)*time.Second), layers.LinkTypeEthernet, 0)
	}
	d.Flush()
	if n := len(d.flows.m); n != 10 {
		t.Fatalf("flows = %d, want 10", n)
	}
	f := udp(50000)
	d.Decode(f, ci(len(f), 10*time.Minute), layers.LinkTypeEthernet, 0)
	if n := len(d.flows.m); n != 1 {
		t.Errorf("after 10 idle minutes flows = %d, want 1", n)
	}
	if d.Stats().EvictedFlows != 10 {
		t.Errorf("evicted = %d, want 10", d.Stats().EvictedFlows)
	}
}

func TestSteadyStateAllocatesNothing(t *testing.T) {
	d := New(Options{Origin: "unit"})
	a := frame(t, eth(macHMI, macPLC, layers.EthernetTypeIPv4), ip4(ipHMI, ipPLC, layers.IPProtocolTCP), tcpSeg(49152, 502, false, true), gopacket.Payload(make([]byte, 12)))
	b := frame(t, eth(macPLC, macHMI, layers.EthernetTypeIPv4), ip4(ipPLC, ipHMI, layers.IPProtocolTCP), tcpSeg(502, 49152, false, true), gopacket.Payload(make([]byte, 15)))
	wantNoAllocs(t, d, "steady-state Decode", a, b)
}

// wantNoAllocs feeds frames to d once, flushes, then fails if decoding them
// again (the steady state of a polling loop) allocates.
func wantNoAllocs(t *testing.T, d *Decoder, what string, frames ...[]byte) {
	t.Helper()
	feed(d, frames...)
	d.Flush()
	c := ci(len(frames[0]), time.Second)
	allocs := testing.AllocsPerRun(1000, func() {
		for _, f := range frames {
			d.Decode(f, c, layers.LinkTypeEthernet, 0)
		}
	})
	if allocs != 0 {
		t.Errorf("%s allocates %.1f times per round of %d frames, want 0", what, allocs, len(frames))
	}
}
