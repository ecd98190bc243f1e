package decode

import (
	"net/netip"
	"time"

	"otscope/model"
)

// Exchange is one request a prober sent to a server and the answer it got,
// as application payloads: what an active probe holds after a round trip.
// The same parsers that read captures read it, with no frames around it.
//
// The client is the prober itself and is not described: what an exchange
// proves is about the server (and third parties its answer names). Nothing
// is recorded about the client, and no conversation is reported.
type Exchange struct {
	// UDP marks a datagram exchange; otherwise it went on a TCP connection.
	UDP bool
	// Protocol names the parser that reads the payloads, as Parsers lists
	// them ("modbus", "iso-tsap", "enip"...), whatever port the server
	// answered on; "" or a name no parser has picks it by the server's
	// port, as in a capture. It also names the service until a parser
	// proves a protocol from the payload.
	Protocol string
	// Server is the answering side: the service is recorded on its port,
	// the one the exchange reached. ServerMAC is its MAC when known (a
	// target on the local segment), else zero.
	Server    netip.AddrPort
	ServerMAC model.MAC
	// Conn identifies the TCP connection: the exchanges of one connection
	// share the parser's memory of it (a negotiated PDU size, the last
	// request) until EndConn. Zero: the exchange stands alone.
	Conn uint64
	// Connected reports that the server accepted a TCP connection, which
	// proves the service even when no request follows.
	Connected bool
	// Request and Answer are the payloads; either may be empty (a request
	// that expects no answer, a connection with no request yet).
	Request, Answer []byte
	// Time is when the answer came; Frame numbers the exchange in its
	// origin (the scan's packet-log record), or 0 to let the decoder count.
	Time  time.Time
	Frame uint64
}

// connKey names a prober's connection to a server.
type connKey struct {
	server netip.AddrPort
	conn   uint64
}

// maxConns bounds the connections remembered between exchanges; a prober
// holds few at once and ends each with EndConn, so reaching it means they
// were not ended: they are forgotten, which costs repeated facts, never
// wrong ones.
const maxConns = 1 << 12

// Parsers lists the names an Exchange's Protocol may take.
func Parsers() []string {
	names := make([]string, 0, len(parsers)-1)
	for _, p := range parsers[1:] {
		names = append(names, p.name)
	}
	return names
}

// parserNamed returns the index of the parser called name, or 0.
func parserNamed(name string) uint8 {
	if name == "" {
		return 0
	}
	for i := 1; i < len(parsers); i++ {
		if parsers[i].name == name {
			return uint8(i)
		}
	}
	return 0
}

// DecodeExchange reads one exchange: the server's service (when it
// answered or accepted the connection), its sighting, and what the
// parser learns from the request and the answer, with the decoder's
// Options.Kind and Origin as provenance.
func (d *Decoder) DecodeExchange(x *Exchange) {
	if x.Frame != 0 {
		d.frame = x.Frame
	} else {
		d.frame++
	}
	d.now = x.Time.UTC()
	if d.stats.FirstPacket.IsZero() {
		d.stats.FirstPacket = d.now
	}
	d.stats.LastPacket = d.now
	srv, port := x.Server.Addr().Unmap(), x.Server.Port()
	f := d.exchangeFlow(x, port)

	// the client's payload: it reaches the server, known by its address
	// (the receiver of a frame is never tied to a MAC, see appCtx.receiver)
	if len(x.Request) > 0 {
		d.stats.Packets++
		d.stats.Bytes += uint64(len(x.Request))
		d.fi = frameInfo{length: len(x.Request)}
		d.runParser(&d.fi, f, 0, netip.Addr{}, srv, 0, port, x.UDP, x.Request)
	}

	// the server's side: its handshake and its answer
	if !(x.Connected && !x.UDP) && len(x.Answer) == 0 {
		return
	}
	d.fi = frameInfo{src: x.ServerMAC, hasMAC: !x.ServerMAC.IsZero(), length: len(x.Answer)}
	d.stats.Packets++
	d.stats.Bytes += uint64(len(x.Answer))
	d.sight(&d.fi, srv)
	if usableIP(srv) {
		name := x.Protocol
		if f.parser == 0 || parsers[f.parser].name != name {
			name = "" // named by its port
		}
		k := serviceKey{mac: d.fi.src, ip: srv, udp: x.UDP, port: port}
		if _, ok := d.services[k]; !ok {
			d.services[k] = struct{}{}
			d.emitService(&d.fi, d.fi.src, srv, x.UDP, port, name, false)
		}
	}
	if len(x.Answer) > 0 {
		d.runParser(&d.fi, f, 1, srv, netip.Addr{}, port, 0, x.UDP, x.Answer)
		if x.UDP {
			d.udpSlowPath(&d.fi, srv, port, 0, x.Answer)
		}
	}
}

// EndConn forgets a connection's parser memory once it is closed.
func (d *Decoder) EndConn(server netip.AddrPort, conn uint64) {
	delete(d.conns, connKey{server, conn})
}

// exchangeFlow returns the flow an exchange's parser keeps its memory in:
// the connection's, or a fresh one. The client is side 0, the server 1.
func (d *Decoder) exchangeFlow(x *Exchange, port uint16) *flowState {
	k := connKey{x.Server, x.Conn}
	if !x.UDP && x.Conn != 0 {
		if f := d.conns[k]; f != nil {
			return f
		}
	}
	f := &flowState{server: 1, strong: true, probed: true, parser: parserNamed(x.Protocol)}
	if f.parser == 0 {
		f.parser = parserFor(x.UDP, port, port)
	}
	if !x.UDP && x.Conn != 0 {
		if d.conns == nil || len(d.conns) >= maxConns {
			d.conns = make(map[connKey]*flowState)
		}
		d.conns[k] = f
	}
	return f
}
