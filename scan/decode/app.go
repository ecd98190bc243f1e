package decode

import (
	"net/netip"
	"strconv"

	"github.com/google/gopacket/layers"

	"otscope/model"
)

// Application parsers.
//
// A parser reads the payload of one TCP segment or UDP datagram of a flow
// whose port it registered for, and reports what the payload proves about
// the sender or the receiver through an appCtx. The parser for a flow is
// chosen once, when the flow starts, from its two ports; there is no per-
// packet lookup. Parsers see segments, not reassembled streams: industrial
// request/response PDUs fit one segment, and a PDU cut across segments is
// skipped, never misread.
//
// Parsers run on the packet path for every packet of their flows (Modbus
// polling, CIP I/O), so the common case must not allocate: check the bytes
// that say whether there is anything new before building strings, and use
// appCtx.once to report a value once per flow, or Decoder.once per host.
// Every length is checked against the payload; a malformed PDU is counted
// with appCtx.malformed and skipped.

// parseFunc parses one payload.
type parseFunc func(c *appCtx, payload []byte)

type parserEntry struct {
	name string
	fn   parseFunc
}

var (
	parsers  = []parserEntry{{}} // index 0: no parser
	tcpPorts = map[uint16]uint8{}
	udpPorts = map[uint16]uint8{}
	l2Types  = map[layers.EthernetType]l2Func{}
	llcSAPs  = map[byte]l2Func{}
	// lldpHooks see every decoded LLDP frame (organisation TLVs: PROFINET...).
	lldpHooks []func(d *Decoder, subject model.Endpoint, info *layers.LinkLayerDiscoveryInfo)
)

// l2Func parses a frame with a registered EtherType (payload after the tags).
type l2Func func(d *Decoder, fi *frameInfo)

// registerParser adds a parser for TCP and/or UDP ports. Call from init.
func registerParser(name string, fn parseFunc, tcp, udp []uint16) {
	if len(parsers) == 255 {
		panic("decode: too many parsers")
	}
	parsers = append(parsers, parserEntry{name: name, fn: fn})
	idx := uint8(len(parsers) - 1)
	for _, p := range tcp {
		if _, dup := tcpPorts[p]; dup {
			panic("decode: two parsers for tcp port " + strconv.Itoa(int(p)))
		}
		tcpPorts[p] = idx
	}
	for _, p := range udp {
		if _, dup := udpPorts[p]; dup {
			panic("decode: two parsers for udp port " + strconv.Itoa(int(p)))
		}
		udpPorts[p] = idx
	}
}

// registerEtherType adds a layer-2 parser. Call from init.
func registerEtherType(t layers.EthernetType, fn l2Func) { l2Types[t] = fn }

// registerLLC adds a parser for IEEE 802.2 LLC frames with this DSAP (BACnet
// over Ethernet uses 0x82); fi.payload starts at the LLC header. Call from init.
func registerLLC(dsap byte, fn l2Func) { llcSAPs[dsap] = fn }

// parserFor picks the parser of a new flow from its ports.
func parserFor(udp bool, pa, pb uint16) uint8 {
	m := tcpPorts
	if udp {
		m = udpPorts
	}
	if i, ok := m[pa]; ok {
		return i
	}
	return m[pb]
}

// appState is a flow's memory for its parser: which codes and ids were
// already reported (bit sets a parser indexes as it likes), and the protocol
// the payload proved, which then names the flow's conversation and service.
type appState struct {
	seen  [4]uint64
	ids   [4]uint64
	proto string
	// client is the side (0/1) the parser found to be the client, or -1.
	client int8
	// buf holds a small per-flow value a parser keeps between segments.
	u32 uint32
}

// appCtx is what a parser sees of the current packet.
type appCtx struct {
	d        *Decoder
	fi       *frameInfo
	f        *flowState
	side     int // the sender's side of the flow
	src, dst netip.Addr
	sp, dp   uint16
	udp      bool
}

// fromServer reports whether the sender is the server side of the flow.
func (c *appCtx) fromServer() bool { return c.f.server == int8(c.side) }

// sender and receiver are the endpoints of the current packet.
func (c *appCtx) sender() model.Endpoint {
	ep := model.Endpoint{IP: c.src, VLAN: c.fi.vlan}
	if c.fi.hasMAC && c.fi.src.IsUnicast() {
		ep.MAC = c.fi.src
	}
	return ep
}

// receiver is known by its IP only: the destination MAC of a frame is the
// next hop's, which for a host in another subnet is the router's, so it
// would tie the receiver's facts to the router.
func (c *appCtx) receiver() model.Endpoint {
	return model.Endpoint{IP: c.dst, VLAN: c.fi.vlan}
}

// server and client are the endpoints by role in the flow.
func (c *appCtx) server() model.Endpoint {
	if c.fromServer() {
		return c.sender()
	}
	return c.receiver()
}

func (c *appCtx) client() model.Endpoint {
	if c.fromServer() {
		return c.receiver()
	}
	return c.sender()
}

// state returns the flow's parser state, creating it on first use.
func (c *appCtx) state() *appState {
	if c.f.app == nil {
		c.f.app = &appState{client: -1}
	}
	return c.f.app
}

// identify records the protocol the payload proved; it names the flow's
// conversation and its server's service from then on.
func (c *appCtx) identify(proto string) {
	if c.f.probed && !c.fromServer() {
		return // a prober's own request proves nothing about the server
	}
	st := c.state()
	if st.proto == proto {
		return
	}
	st.proto = proto
	f := c.f
	if f.server >= 0 {
		// re-announce the service under its proven name (not for a
		// broadcast or multicast receiver: that is nobody's service)
		srv := c.src
		port := c.sp
		if !c.fromServer() {
			if c.fi.hasMAC && !c.fi.dst.IsUnicast() {
				c.d.noteBroadcast(c.fi, c.dst)
				return
			}
			if c.d.isBroadcast(c.dst) {
				return
			}
			srv, port = c.dst, c.dp
		}
		c.d.serviceNamed(c.fi, srv, c.udp, port, proto, c.fromServer())
	}
}

// once reports whether bit i (0-255) of the flow's seen set was clear, and
// sets it: parsers use it to report a code or value once per flow.
func (c *appCtx) once(i uint8) bool {
	st := c.state()
	w, b := i/64, uint64(1)<<(i%64)
	if st.seen[w]&b != 0 {
		return false
	}
	st.seen[w] |= b
	return true
}

// onceID is once over the second bit set (ids: unit ids, addresses).
func (c *appCtx) onceID(i uint8) bool {
	st := c.state()
	w, b := i/64, uint64(1)<<(i%64)
	if st.ids[w]&b != 0 {
		return false
	}
	st.ids[w] |= b
	return true
}

// fact records field=value about ep, learnt from proto in this frame.
func (c *appCtx) fact(ep model.Endpoint, field, value, proto string) {
	c.d.fact(ep, field, value, proto)
}

// factDetail records a fact with an explanation (roles, operating modes).
func (c *appCtx) factDetail(ep model.Endpoint, field, value, detail, proto string) {
	c.d.factDetail(ep, field, value, detail, proto)
}

// malformed counts a PDU that could not be parsed.
func (c *appCtx) malformed() { c.d.stats.DecodeErrors++ }

// onceKey names something a parser reports once per decoder (per capture),
// for layer-2 protocols that have no flow (GOOSE, DCP) or values that belong
// to a host rather than a flow.
type onceKey struct {
	mac  model.MAC
	ip   netip.Addr
	kind uint16 // parser-defined
	id   uint64 // parser-defined
}

// maxOnce bounds the once table; past it values are reported again (the
// inventory deduplicates), which costs time, never correctness.
const maxOnce = 1 << 18

// once reports whether k is new, remembering it.
func (d *Decoder) once(k onceKey) bool {
	if _, ok := d.onceSet[k]; ok {
		return false
	}
	if len(d.onceSet) < maxOnce {
		d.onceSet[k] = struct{}{}
	}
	return true
}

// runParser hands a flow's payload to its parser.
func (d *Decoder) runParser(fi *frameInfo, f *flowState, side int, src, dst netip.Addr, sp, dp uint16, udp bool, payload []byte) {
	if f.parser == 0 || len(payload) == 0 {
		return
	}
	// the context lives in the Decoder: a pointer to a local would escape
	// through the function value and cost an allocation per packet
	d.app = appCtx{d: d, fi: fi, f: f, side: side, src: src, dst: dst, sp: sp, dp: dp, udp: udp}
	fn := parsers[f.parser].fn
	defer func() {
		if r := recover(); r != nil {
			d.stats.DecodeErrors++
		}
	}()
	fn(&d.app, payload)
}
