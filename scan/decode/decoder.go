package decode

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
)

// Options configure a Decoder.
type Options struct {
	// Origin names the capture for provenance: a file path, "iface:eth0" or "demo".
	Origin string
	// Kind is the kind of source: model.Passive for captures (the default).
	Kind model.SourceKind
	// Live marks an interface capture (for statistics).
	Live bool
	// FlowIdle is how long a flow may be silent (in capture time) before it
	// is evicted from the flow table. Default 2 minutes.
	FlowIdle time.Duration
	// MaxFlows bounds the flow table; when it is full the idle timeout is
	// shortened until room is made. Default 1<<20.
	MaxFlows int
}

// Link types the decoder understands besides Ethernet.
const (
	linkTypeRawOld layers.LinkType = 12
	linkTypeIPv4   layers.LinkType = 228
	linkTypeIPv6   layers.LinkType = 229
	linkTypeMSTP   layers.LinkType = 165 // BACnet MS/TP, preamble included
)

// Decoder turns frames into observations. It is not safe for concurrent use:
// give each packet-reading goroutine its own.
type Decoder struct {
	opts  Options
	frame uint64 // 1-based number of the current frame within Origin

	// reused layers, shared by the three parsers (one parse at a time)
	arp    layers.ARP
	ip4    layers.IPv4
	ip6    layers.IPv6
	icmp4  layers.ICMPv4
	icmp6  layers.ICMPv6
	tcp    layers.TCP
	udp    layers.UDP
	dhcp   layers.DHCPv4
	dns    layers.DNS
	p4     *gopacket.DecodingLayerParser
	p6     *gopacket.DecodingLayerParser
	pARP   *gopacket.DecodingLayerParser
	layers []gopacket.LayerType

	app        appCtx    // reused by runParser
	fi         frameInfo // the current frame
	onceSet    map[onceKey]struct{}
	hosts      map[hostKey]*hostState
	freshHosts []*hostState     // not reported yet, or new layer-2 protocols
	dirtyHosts []*hostState     // reported, with counters since
	hostsDone  int              // dirtyHosts[:hostsDone] reported by this counters flush
	claims     map[claimKey]int // claims in d.obs since the last flush: their index
	flows      flowTable
	services   map[serviceKey]struct{}
	bcast      map[netip.Addr]struct{} // directed (subnet) broadcast addresses seen
	conns      map[connKey]*flowState  // a prober's open connections (DecodeExchange)

	obs   []model.Observation
	stats model.CaptureStats
	now   time.Time // timestamp of the current frame
}

// New returns a Decoder.
func New(o Options) *Decoder {
	if o.Kind == 0 {
		o.Kind = model.Passive
	}
	if o.FlowIdle <= 0 {
		o.FlowIdle = 2 * time.Minute
	}
	if o.MaxFlows <= 0 {
		o.MaxFlows = 1 << 20
	}
	d := &Decoder{
		opts:     o,
		hosts:    make(map[hostKey]*hostState, 256),
		claims:   make(map[claimKey]int, 64),
		services: make(map[serviceKey]struct{}, 256),
		bcast:    make(map[netip.Addr]struct{}, 16),
		onceSet:  make(map[onceKey]struct{}, 256),
		layers:   make([]gopacket.LayerType, 0, 16),
		obs:      make([]model.Observation, 0, 256),
	}
	d.flows.init(o.FlowIdle, o.MaxFlows)
	all := []gopacket.DecodingLayer{&d.arp, &d.ip4, &d.ip6, &d.icmp4, &d.icmp6, &d.tcp, &d.udp}
	mk := func(first gopacket.LayerType) *gopacket.DecodingLayerParser {
		p := gopacket.NewDecodingLayerParser(first, all...)
		p.IgnoreUnsupported = true
		return p
	}
	d.p4, d.p6, d.pARP = mk(layers.LayerTypeIPv4), mk(layers.LayerTypeIPv6), mk(layers.LayerTypeARP)
	d.stats.Source = o.Origin
	d.stats.Live = o.Live
	d.stats.Started = time.Now()
	return d
}

// SetOrigin switches provenance to another capture (the next file of a
// multi-file read): frame numbers restart at 1. Flows and hosts are kept.
func (d *Decoder) SetOrigin(origin string) {
	d.opts.Origin = origin
	d.frame = 0
}

// Origin returns the current origin.
func (d *Decoder) Origin() string { return d.opts.Origin }

// Frame returns the number of the last decoded frame within the origin.
func (d *Decoder) Frame() uint64 { return d.frame }

// frameInfo is what one frame's link layer says.
type frameInfo struct {
	src, dst  model.MAC
	vlan      uint16 // innermost VLAN id
	hasMAC    bool
	etherType layers.EthernetType
	payload   []byte // after the link layer
	length    int    // original frame length
}

var errShortFrame = errors.New("decode: frame shorter than its link-layer header")

// Decode processes one frame. data is only read during the call. frame is
// the frame's 1-based number in its capture (tshark's frame.number), or 0 to
// let the decoder count.
func (d *Decoder) Decode(data []byte, ci gopacket.CaptureInfo, link layers.LinkType, frame uint64) {
	if frame != 0 {
		d.frame = frame
	} else {
		d.frame++
	}
	d.stats.Packets++
	d.stats.Bytes += uint64(ci.Length)
	d.now = ci.Timestamp.UTC()
	if d.stats.FirstPacket.IsZero() {
		d.stats.FirstPacket = d.now
	}
	d.stats.LastPacket = d.now
	if ci.CaptureLength < ci.Length {
		d.stats.Truncated++
	}
	// the frame's info lives in the Decoder: parsers keep a pointer to it
	// while they run, which would move a local to the heap on every packet
	fi := &d.fi
	*fi = frameInfo{length: ci.Length}
	if err := parseLink(data, link, fi); err != nil {
		d.stats.Undecodable++
		return
	}
	if link == linkTypeMSTP {
		d.mstp(fi)
	} else {
		d.network(fi)
	}
	d.flows.maybeSweep(d)
}

// parseLink decodes the link layer by hand: it is a few fixed offsets, and it
// keeps both tags of a QinQ frame, which a single Dot1Q layer cannot.
func parseLink(data []byte, link layers.LinkType, fi *frameInfo) error {
	switch link {
	case layers.LinkTypeEthernet:
		if len(data) < 14 {
			return errShortFrame
		}
		fi.dst = model.MACFrom(data[0:6])
		fi.src = model.MACFrom(data[6:12])
		fi.hasMAC = true
		off := 12
		et := binary.BigEndian.Uint16(data[off:])
		for (et == 0x8100 || et == 0x88a8 || et == 0x9100) && len(data) >= off+6 {
			fi.vlan = binary.BigEndian.Uint16(data[off+2:]) & 0x0fff
			off += 4
			et = binary.BigEndian.Uint16(data[off:])
		}
		fi.etherType = layers.EthernetType(et)
		fi.payload = data[off+2:]
		return nil
	case layers.LinkTypeLinuxSLL:
		if len(data) < 16 {
			return errShortFrame
		}
		if binary.BigEndian.Uint16(data[2:]) == 1 && binary.BigEndian.Uint16(data[4:]) == 6 {
			fi.src = model.MACFrom(data[6:12])
			fi.hasMAC = true
		}
		fi.etherType = layers.EthernetType(binary.BigEndian.Uint16(data[14:]))
		fi.payload = data[16:]
		return nil
	case linkTypeMSTP:
		// preamble 0x55 0xff, frame type, destination, source, length,
		// header CRC (checked; the data CRC is not: a snap length may cut it); the station addresses become MACs 00:00:00:00:00:<addr>
		// as a Cimetrics MS/TP sniffer writes them (see onCimetricsMSTP)
		if len(data) < 8 || data[0] != 0x55 || data[1] != 0xff || mstpHeaderCRC(data[2:8]) != 0x55 {
			return errShortFrame // not MS/TP, or a header a station would drop
		}
		fi.dst = model.MAC{0, 0, 0, 0, 0, data[3]}
		if data[3] == 0xff {
			fi.dst = model.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		}
		fi.src = model.MAC{0, 0, 0, 0, 0, data[4]}
		fi.hasMAC = true
		fi.payload = data[2:]
		return nil
	case layers.LinkTypeNull, layers.LinkTypeLoop:
		// BSD loopback: a 4-byte address family in host (Null) or network
		// (Loop) byte order, then the IP packet.
		if len(data) < 5 {
			return errShortFrame
		}
		data = data[4:]
		fallthrough
	case layers.LinkTypeRaw, linkTypeRawOld, linkTypeIPv4, linkTypeIPv6:
		if len(data) < 1 {
			return errShortFrame
		}
		switch data[0] >> 4 {
		case 4:
			fi.etherType = layers.EthernetTypeIPv4
		case 6:
			fi.etherType = layers.EthernetTypeIPv6
		default:
			return errShortFrame
		}
		fi.payload = data
		return nil
	}
	return errShortFrame
}

// network decodes from the network layer up and records what it learns.
func (d *Decoder) network(fi *frameInfo) {
	var p *gopacket.DecodingLayerParser
	switch fi.etherType {
	case layers.EthernetTypeIPv4:
		p = d.p4
	case layers.EthernetTypeIPv6:
		p = d.p6
	case layers.EthernetTypeARP:
		p = d.pARP
	case layers.EthernetTypeLinkLayerDiscovery:
		d.sightMAC(fi, protoLLDP)
		d.slowLLDP(fi)
		return
	default:
		if fi.etherType <= 1500 { // IEEE 802.3 length: LLC follows
			switch {
			case isCDP(fi.payload):
				d.sightMAC(fi, protoCDP)
				d.slowCDP(fi)
			case isSTP(fi.payload):
				d.sightMAC(fi, protoSTP)
			default:
				d.sightMAC(fi, protoLLC)
				if len(fi.payload) > 0 {
					if fn := llcSAPs[fi.payload[0]]; fn != nil {
						d.guard(func() { fn(d, fi) })
					}
				}
			}
			return
		}
		d.sightMAC(fi, l2Proto(fi.etherType))
		if fn := l2Types[fi.etherType]; fn != nil {
			d.guard(func() { fn(d, fi) })
		}
		return
	}
	err := p.DecodeLayers(fi.payload, &d.layers)
	if p.Truncated {
		d.stats.Truncated++
	}
	if err != nil {
		d.stats.DecodeErrors++
	}
	var (
		src, dst   netip.Addr
		haveIP     bool
		l4         uint8 // 0 none, 6 tcp, 17 udp, 1 icmp
		ipPayload  int
		sawARP     bool
		fragmented bool
	)
	for _, lt := range d.layers {
		switch lt {
		case layers.LayerTypeIPv4:
			src = netip.AddrFrom4([4]byte(d.ip4.SrcIP.To4()))
			dst = netip.AddrFrom4([4]byte(d.ip4.DstIP.To4()))
			haveIP = true
			ipPayload = len(d.ip4.Payload)
			fragmented = d.ip4.Flags&layers.IPv4MoreFragments != 0 || d.ip4.FragOffset != 0
		case layers.LayerTypeIPv6:
			src = netip.AddrFrom16([16]byte(d.ip6.SrcIP.To16()))
			dst = netip.AddrFrom16([16]byte(d.ip6.DstIP.To16()))
			haveIP = true
			ipPayload = len(d.ip6.Payload)
		case layers.LayerTypeTCP:
			l4 = 6
		case layers.LayerTypeUDP:
			l4 = 17
		case layers.LayerTypeICMPv4, layers.LayerTypeICMPv6:
			l4 = 1
		case layers.LayerTypeARP:
			sawARP = true
		}
	}
	if sawARP {
		d.sightMAC(fi, protoARP)
		d.onARP(fi)
		return
	}
	if !haveIP {
		d.sightMAC(fi, l2Proto(fi.etherType))
		return
	}
	var f *flowState
	var side int
	switch {
	case fragmented && l4 == 0:
		// a non-first fragment: counted on the host, no ports to see
	case l4 == 6:
		f, side = d.onTCP(fi, src, dst)
	case l4 == 17:
		f, side = d.onUDP(fi, src, dst)
	case l4 == 1:
		f, side = d.flows.update(d, fi, src, dst, 0, 0, 1, ipPayload, tcpFlags{})
	}
	d.sightVia(fi, src, f, side)
}

// sightVia records the sender of an IP frame. A flow remembers the host
// state of each side, which saves a second table lookup per packet.
func (d *Decoder) sightVia(fi *frameInfo, src netip.Addr, f *flowState, side int) {
	if f != nil {
		if h := f.host[side]; h != nil && h.key.mac == fi.src && h.key.ip == src && h.key.vlan == fi.vlan {
			d.count(h, fi)
			return
		}
		f.host[side] = d.sight(fi, src)
		return
	}
	d.sight(fi, src)
}

// Layer-2 protocols a host is seen speaking, as bits of hostState.l2.
const (
	protoARP uint8 = iota
	protoLLDP
	protoCDP
	protoSTP
	protoLLC
	protoPROFINET
	protoGOOSE
	protoSV
	protoMRP
	protoPTP
	protoBACnetEth
	protoEtherCAT
	protoPowerlink
	protoSlow
	protoIPv4Other
	protoIPv6Other
	protoOtherL2
	numL2Protos
)

var l2ProtoNames = [numL2Protos]string{
	"arp", "lldp", "cdp", "stp", "llc", "profinet", "goose", "sv", "mrp", "ptp",
	"bacnet", "ethercat", "powerlink", "lacp", "ipv4", "ipv6", "ethernet",
}

// l2Proto maps an EtherType to a protocol bit.
func l2Proto(t layers.EthernetType) uint8 {
	switch t {
	case 0x8892:
		return protoPROFINET
	case 0x88b8:
		return protoGOOSE
	case 0x88ba:
		return protoSV
	case 0x88e3:
		return protoMRP
	case 0x88f7:
		return protoPTP
	case 0x82ee:
		return protoBACnetEth
	case 0x88a4:
		return protoEtherCAT
	case 0x88ab:
		return protoPowerlink
	case 0x8809:
		return protoSlow
	case 0x0800:
		return protoIPv4Other
	case 0x86dd:
		return protoIPv6Other
	}
	return protoOtherL2
}
