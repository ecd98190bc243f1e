package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"otscope/model"
	"otscope/model/safe"
)

// OPC UA binary (OPC 10000-6 §7) on tcp/4840: Hello, OpenSecureChannel
// with SecurityPolicy None, FindServers, GetEndpoints, CloseSecureChannel,
// on one connection. No session is created: discovery services need none.
//
// Answers can be large (GetEndpoints carries the server certificate once
// per endpoint). The Hello asks for chunks of up to 64 KB, so a server
// normally answers in one chunk; a chunked answer ('C' chunks) is read to
// its final ('F') or abort ('A') chunk, bounded by MaxAnswer.

const (
	opcuaPort = 4840
	// opcuaMaxMessage is the message size the Hello accepts: 0, no limit
	// (Part 6, 7.1.2.3). A limit below the receive buffer makes some
	// servers (node-opcua) refuse to send even the OpenSecureChannel answer
	// (BadTcpMessageTooLarge); the reader bounds answers at MaxAnswer.
	opcuaMaxMessage = 0
	opcuaRecvBuffer = 65535
	opcuaSendBuffer = 8192 // the smallest a server must accept
	opcuaMaxChunks  = 16
	// opcuaLifetime is the requested channel lifetime: the channel is
	// closed after two requests, long before.
	opcuaLifetime = 60000
	// opcuaAnswer is the planned size of a discovery answer (a few
	// endpoints with their certificate).
	opcuaAnswer = 16 << 10

	opcuaPolicyNone = "http://opcfoundation.org/UA/SecurityPolicy#None"
)

// Binary encoding NodeIds of the services (namespace 0).
const (
	opcuaServiceFault      = 397
	opcuaFindServersReq    = 422
	opcuaFindServersResp   = 425
	opcuaGetEndpointsReq   = 428
	opcuaGetEndpointsResp  = 431
	opcuaOpenChannelReq    = 446
	opcuaOpenChannelResp   = 449
	opcuaCloseChannelReq   = 452
	opcuaSecurityModeNone  = 1
	opcuaRequestTypeIssue  = 0
	opcuaMaxString         = 4096
	opcuaMaxArray          = 64
	opcuaDateTimeUnixEpoch = 116444736000000000 // 1970-01-01 in 100 ns since 1601
)

// opcuaAppFields are what FindServers answers; GetEndpoints answers the
// endpoint fields (and the server's description again).
var (
	opcuaAppFields      = []string{model.FieldOPCUAAppURI, model.FieldOPCUAProductURI, model.FieldOPCUAAppName}
	opcuaEndpointFields = []string{model.FieldOPCUAEndpointURL, model.FieldOPCUASecPolicy}
)

type opcuaProbe struct{}

func init() {
	Register(opcuaProbe{})
	registerDissector("opcua", dissectOPCUA)
}

func (opcuaProbe) Name() string { return "opcua" }

// opcuaServices says which discovery services the probe asks.
func opcuaServices(k *Known, fillGaps bool) (findServers, getEndpoints bool) {
	if !fillGaps {
		return true, true
	}
	return missing(k, opcuaAppFields...) != "", missing(k, opcuaEndpointFields...) != ""
}

func (opcuaProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	p, ok := planTCP(t, o, "opcua", "opcua", opcuaPort, append(opcuaAppFields, opcuaEndpointFields...)...)
	if !ok {
		return p, false
	}
	fs, ge := opcuaServices(&t.Known, o.FillGaps)
	p.Steps = append(p.Steps,
		Step{KindTCPConnect, connectPackets},
		Step{KindOPCUAHello, requestPackets(28)},
		Step{KindOPCUAOpenSecureChannel, requestPackets(256)})
	if fs {
		p.Steps = append(p.Steps, Step{KindOPCUAFindServers, requestPackets(opcuaAnswer)})
	}
	if ge {
		p.Steps = append(p.Steps, Step{KindOPCUAGetEndpoints, requestPackets(opcuaAnswer)})
	}
	p.Steps = append(p.Steps,
		Step{KindOPCUACloseSecureChannel, requestPackets(0)},
		Step{KindTCPClose, closePackets})
	return p, true
}

func (opcuaProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	c, err := s.DialTCP(ctx, "opcua", p.Port)
	if err != nil {
		return stopErr(ctx, err)
	}
	defer c.Close()
	url := opcuaEndpointURL(s.Target(), p.Port)
	ans, err := c.Exchange(ctx, opcuaHelloRequest(url))
	if err != nil || !bytes.HasPrefix(ans, []byte("ACK")) {
		return stopErr(ctx, err)
	}
	ans, err = c.Exchange(ctx, opcuaOpenRequest(time.Now()))
	if err != nil {
		return stopErr(ctx, err)
	}
	ch, ok := opcuaOpenResponse(ans)
	if !ok {
		return nil // ERR or a fault: the server closes the connection
	}
	fs, ge := opcuaServices(&t.Known, o.FillGaps)
	for _, svc := range []struct {
		ask bool
		req func(opcuaChannel, time.Time, string) *Request
	}{{fs, opcuaFindServersRequest}, {ge, opcuaGetEndpointsRequest}} {
		if !svc.ask {
			continue
		}
		ch.next()
		ans, err = c.Exchange(ctx, svc.req(ch, time.Now(), url))
		if err != nil {
			return stopErr(ctx, err)
		}
		if bytes.HasPrefix(ans, []byte("ERR")) {
			return nil // the server closed the channel
		}
	}
	ch.next()
	_, err = c.Exchange(ctx, opcuaCloseRequest(ch, time.Now()))
	return stopErr(ctx, err)
}

// opcuaEndpointURL is the URL the probe names in Hello and the discovery
// requests.
func opcuaEndpointURL(a netip.Addr, port uint16) string {
	return "opc.tcp://" + netip.AddrPortFrom(a, port).String()
}

// opcuaChannel is the secure channel the OPN answer gave, and the
// sequence and request numbers of the next message on it.
type opcuaChannel struct {
	id, token  uint32
	seq, reqID uint32
}

func (c *opcuaChannel) next() { c.seq++; c.reqID++ }

// opcuaEnc appends the UA binary encoding of simple values.
type opcuaEnc []byte

func (e opcuaEnc) u32(v uint32) opcuaEnc { return binary.LittleEndian.AppendUint32(e, v) }
func (e opcuaEnc) i64(v int64) opcuaEnc  { return binary.LittleEndian.AppendUint64(e, uint64(v)) }

// str appends a String or ByteString; nil is the null string (-1).
func (e opcuaEnc) str(s []byte) opcuaEnc {
	if s == nil {
		return e.u32(0xffffffff)
	}
	return append(e.u32(uint32(len(s))), s...)
}

// nodeID appends a numeric NodeId of namespace 0 in the four-byte form.
func (e opcuaEnc) nodeID(id uint16) opcuaEnc { return append(e, 0x01, 0x00, byte(id), byte(id>>8)) }

// requestHeader appends a RequestHeader: no session token, no diagnostics,
// no audit id, no additional header.
func (e opcuaEnc) requestHeader(now time.Time, handle uint32) opcuaEnc {
	e = append(e, 0x00, 0x00) // null authentication token
	e = e.i64(opcuaDateTime(now))
	e = e.u32(handle).u32(0) // request handle, return diagnostics
	e = e.str(nil)           // audit entry id
	e = e.u32(uint32((10 * time.Second).Milliseconds()))
	return append(e, 0x00, 0x00, 0x00) // additional header: null NodeId, no body
}

// opcuaDateTime is t in 100 ns since 1601-01-01 UTC.
func opcuaDateTime(t time.Time) int64 { return t.UnixNano()/100 + opcuaDateTimeUnixEpoch }

// opcuaMessage prefixes body with the message header (type, final chunk,
// size).
func opcuaMessage(typ string, body []byte) []byte {
	b := make([]byte, 0, 8+len(body))
	b = append(b, typ...)
	b = append(b, 'F')
	b = binary.LittleEndian.AppendUint32(b, uint32(8+len(body)))
	return append(b, body...)
}

func opcuaHelloRequest(url string) *Request {
	var e opcuaEnc
	e = e.u32(0).u32(opcuaRecvBuffer).u32(opcuaSendBuffer).u32(opcuaMaxMessage).u32(opcuaMaxChunks)
	e = e.str([]byte(url))
	return &Request{Kind: KindOPCUAHello, Payload: opcuaMessage("HEL", e), Frame: opcuaFrame("ACK"), Summary: opcuaSummary}
}

func opcuaOpenRequest(now time.Time) *Request {
	var e opcuaEnc
	e = e.u32(0) // secure channel id: none yet
	e = e.str([]byte(opcuaPolicyNone))
	e = e.str(nil).str(nil) // sender certificate, receiver thumbprint
	e = e.u32(1).u32(1)     // sequence number, request id
	e = e.nodeID(opcuaOpenChannelReq)
	e = e.requestHeader(now, 1)
	e = e.u32(0) // client protocol version
	e = e.u32(opcuaRequestTypeIssue).u32(opcuaSecurityModeNone)
	e = e.str([]byte{}) // client nonce: empty with policy None
	e = e.u32(opcuaLifetime)
	return &Request{Kind: KindOPCUAOpenSecureChannel, Payload: opcuaMessage("OPN", e), Frame: opcuaFrame("OPN"), Summary: opcuaSummary}
}

// opcuaSymmetric starts a MSG or CLO body on channel c.
func opcuaSymmetric(c opcuaChannel, service uint16) opcuaEnc {
	var e opcuaEnc
	e = e.u32(c.id).u32(c.token).u32(c.seq).u32(c.reqID)
	return e.nodeID(service)
}

func opcuaFindServersRequest(c opcuaChannel, now time.Time, url string) *Request {
	e := opcuaSymmetric(c, opcuaFindServersReq).requestHeader(now, c.reqID)
	e = e.str([]byte(url))
	e = e.u32(0).u32(0) // no locale ids, no server uris
	return &Request{Kind: KindOPCUAFindServers, Payload: opcuaMessage("MSG", e), Frame: opcuaFrame("MSG"), Summary: opcuaSummary, Decoded: opcuaJoinChunks}
}

func opcuaGetEndpointsRequest(c opcuaChannel, now time.Time, url string) *Request {
	e := opcuaSymmetric(c, opcuaGetEndpointsReq).requestHeader(now, c.reqID)
	e = e.str([]byte(url))
	e = e.u32(0).u32(0) // no locale ids, no profile uris
	return &Request{Kind: KindOPCUAGetEndpoints, Payload: opcuaMessage("MSG", e), Frame: opcuaFrame("MSG"), Summary: opcuaSummary, Decoded: opcuaJoinChunks}
}

// opcuaCloseRequest closes the channel; the server answers by closing the
// connection.
func opcuaCloseRequest(c opcuaChannel, now time.Time) *Request {
	e := opcuaSymmetric(c, opcuaCloseChannelReq).requestHeader(now, c.reqID)
	return &Request{Kind: KindOPCUACloseSecureChannel, Payload: opcuaMessage("CLO", e), NoAnswer: true}
}

// opcuaFrame frames the answer to a request whose success answer has type
// want (an ERR is always possible): the whole message, every chunk of it.
func opcuaFrame(want string) func(b []byte) (int, error) {
	return func(b []byte) (int, error) {
		off := 0
		for {
			if len(b)-off < 8 {
				if err := opcuaHeaderPrefix(b[off:], want); err != nil {
					return 0, err
				}
				return 0, nil
			}
			h := b[off:]
			typ, chunk := string(h[:3]), h[3]
			if typ != want && typ != "ERR" {
				return 0, fmt.Errorf("answer type %q, want %s or ERR", typ, want)
			}
			size := int(binary.LittleEndian.Uint32(h[4:]))
			if size < 8 || size > MaxAnswer {
				return 0, fmt.Errorf("chunk size %d out of range", size)
			}
			switch {
			case chunk == 'F' || chunk == 'A':
				return off + size, nil
			case chunk != 'C' || typ != "MSG" && typ != "OPN":
				return 0, fmt.Errorf("chunk type %q invalid for %s", chunk, typ)
			}
			if off+size > MaxAnswer {
				return off + size, nil // the session refuses it as too long
			}
			if off+size > len(b) {
				return 0, nil
			}
			off += size
		}
	}
}

// opcuaHeaderPrefix checks the first bytes of a header that is not all
// there yet.
func opcuaHeaderPrefix(h []byte, want string) error {
	for i := 0; i < len(h) && i < 3; i++ {
		if h[i] != want[i] && h[i] != "ERR"[i] {
			return fmt.Errorf("answer does not start an OPC UA %s", want)
		}
	}
	return nil
}

// opcuaDec reads the UA binary encoding; a read past the end (or a length
// out of bounds) sets err and returns zero values.
type opcuaDec struct {
	b   []byte
	err error
}

func (d *opcuaDec) fail(msg string) {
	if d.err == nil {
		d.err = errors.New(msg)
	}
}

func (d *opcuaDec) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b) {
		d.fail("message cut short")
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *opcuaDec) u8() byte {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *opcuaDec) u32() uint32 {
	if v := d.take(4); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

// str reads a String or ByteString of at most max bytes; null is nil.
func (d *opcuaDec) str(max int) []byte {
	n := int32(d.u32())
	if d.err != nil || n == -1 {
		return nil
	}
	if n < 0 || int(n) > max {
		d.fail("string length out of range")
		return nil
	}
	return d.take(int(n))
}

// strings reads an array of String: its length (-1 null counts as 0).
func (d *opcuaDec) strings() int {
	n := int32(d.u32())
	if d.err != nil || n == -1 {
		return 0
	}
	if n < 0 || n > opcuaMaxArray {
		d.fail("array length out of range")
		return 0
	}
	for range n {
		d.str(opcuaMaxString)
	}
	return int(n)
}

// nodeID reads a NodeId (no expanded flags) and returns its numeric id in
// namespace 0, ok false for any other.
func (d *opcuaDec) nodeID() (id uint32, ok bool) {
	switch enc := d.u8(); enc {
	case 0x00:
		return uint32(d.u8()), d.err == nil
	case 0x01:
		ns := d.u8()
		v := d.take(2)
		if v == nil {
			return 0, false
		}
		return uint32(binary.LittleEndian.Uint16(v)), ns == 0
	case 0x02:
		v := d.take(2)
		id := d.u32()
		return id, v != nil && v[0] == 0 && v[1] == 0 && d.err == nil
	case 0x03, 0x05: // string, opaque
		d.take(2)
		d.str(opcuaMaxString)
	case 0x04: // guid
		d.take(18)
	default:
		d.fail(fmt.Sprintf("NodeId encoding 0x%02x refused", enc))
	}
	return 0, false
}

// requestHeader checks a RequestHeader: any authentication token, no
// additional header.
func (d *opcuaDec) requestHeader() {
	d.nodeID()
	d.take(8 + 4 + 4) // timestamp, handle, return diagnostics
	d.str(opcuaMaxString)
	d.take(4) // timeout hint
	if id, ok := d.nodeID(); !ok || id != 0 || d.u8() != 0 {
		d.fail("request header carries an additional header")
	}
}

func (d *opcuaDec) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}

// dissectOPCUA accepts HEL, OPN with SecurityPolicy None and mode None, a
// MSG carrying exactly FindServers or GetEndpoints, and CLO; every message
// in one final chunk.
func dissectOPCUA(p []byte) (Kind, error) {
	if len(p) < 8 {
		return "", errors.New("OPC UA header cut short")
	}
	if p[3] != 'F' {
		return "", fmt.Errorf("chunk type %q refused: one final chunk only", p[3])
	}
	if int(binary.LittleEndian.Uint32(p[4:])) != len(p) {
		return "", errors.New("message size does not match the payload")
	}
	d := &opcuaDec{b: p[8:]}
	switch string(p[:3]) {
	case "HEL":
		d.take(20) // version, buffer sizes, max message size, max chunks
		if d.str(opcuaMaxString) == nil && d.err == nil {
			d.fail("Hello without an endpoint URL")
		}
		return KindOPCUAHello, d.end()
	case "OPN":
		return dissectOPCUAOpen(d)
	case "MSG", "CLO":
		d.take(16) // channel, token, sequence number, request id
		id, ok := d.nodeID()
		if d.err != nil {
			return "", d.err
		}
		if !ok {
			return "", errors.New("service NodeId is not numeric in namespace 0: refused")
		}
		switch {
		case string(p[:3]) == "CLO" && id == opcuaCloseChannelReq:
			d.requestHeader()
			return KindOPCUACloseSecureChannel, d.end()
		case string(p[:3]) == "MSG" && id == opcuaFindServersReq:
			d.requestHeader()
			d.str(opcuaMaxString) // endpoint URL
			d.strings()           // locale ids
			d.strings()           // server uris
			return KindOPCUAFindServers, d.end()
		case string(p[:3]) == "MSG" && id == opcuaGetEndpointsReq:
			d.requestHeader()
			d.str(opcuaMaxString) // endpoint URL
			d.strings()           // locale ids
			d.strings()           // profile uris
			return KindOPCUAGetEndpoints, d.end()
		}
		return "", fmt.Errorf("%s service i=%d refused: FindServers, GetEndpoints and CloseSecureChannel only", p[:3], id)
	}
	return "", fmt.Errorf("message type %q refused", p[:3])
}

func dissectOPCUAOpen(d *opcuaDec) (Kind, error) {
	d.take(4) // secure channel id
	if policy := d.str(opcuaMaxString); d.err == nil && string(policy) != opcuaPolicyNone {
		return "", errors.New("security policy refused: None only")
	}
	if cert := d.str(opcuaMaxString); len(cert) != 0 {
		d.fail("sender certificate refused with policy None")
	}
	if tp := d.str(opcuaMaxString); len(tp) != 0 {
		d.fail("receiver thumbprint refused with policy None")
	}
	d.take(8) // sequence number, request id
	if id, ok := d.nodeID(); d.err == nil && (!ok || id != opcuaOpenChannelReq) {
		return "", fmt.Errorf("OPN carries service i=%d: refused", id)
	}
	d.requestHeader()
	d.take(4) // client protocol version
	if rt := d.u32(); d.err == nil && rt != opcuaRequestTypeIssue {
		return "", errors.New("OpenSecureChannel renew refused: issue only")
	}
	if mode := d.u32(); d.err == nil && mode != opcuaSecurityModeNone {
		return "", errors.New("security mode refused: None only")
	}
	d.str(64) // client nonce
	d.take(4) // requested lifetime
	return KindOPCUAOpenSecureChannel, d.end()
}

// opcuaOpenResponse reads the channel id and token of an OPN answer.
func opcuaOpenResponse(b []byte) (opcuaChannel, bool) {
	if len(b) < 8 || string(b[:4]) != "OPNF" {
		return opcuaChannel{}, false
	}
	d := &opcuaDec{b: b[8:]}
	d.u32() // secure channel id
	d.str(opcuaMaxString)
	d.str(MaxAnswer)
	d.str(MaxAnswer)
	d.take(8)
	id, ok := d.nodeID()
	if !ok || id != opcuaOpenChannelResp {
		return opcuaChannel{}, false
	}
	d.take(8 + 4) // timestamp, handle
	if status := d.u32(); status != 0 {
		return opcuaChannel{}, false
	}
	d.responseHeaderRest()
	d.u32() // server protocol version
	ch := opcuaChannel{id: d.u32(), token: d.u32(), seq: 1, reqID: 1}
	return ch, d.err == nil
}

// responseHeaderRest skips a ResponseHeader after its service result:
// diagnostics, string table, additional header.
func (d *opcuaDec) responseHeaderRest() {
	d.diagnosticInfo(0)
	d.strings()
	d.nodeID()
	if d.u8()&1 != 0 {
		d.str(MaxAnswer)
	}
}

// diagnosticInfo skips a DiagnosticInfo.
func (d *opcuaDec) diagnosticInfo(depth int) {
	if depth > 4 {
		d.fail("diagnostic info nested too deep")
		return
	}
	m := d.u8()
	for _, bit := range []byte{0x01, 0x02, 0x04, 0x08} {
		if m&bit != 0 {
			d.take(4)
		}
	}
	if m&0x10 != 0 {
		d.str(opcuaMaxString)
	}
	if m&0x20 != 0 {
		d.take(4)
	}
	if m&0x40 != 0 {
		d.diagnosticInfo(depth + 1)
	}
}

// opcuaSummary describes an answer for the packet log.
func opcuaSummary(b []byte) string {
	if len(b) < 8 {
		return strconv.Itoa(len(b)) + " bytes"
	}
	chunks := 1
	for off := 0; off+8 <= len(b) && b[off+3] == 'C'; chunks++ {
		off += max(8, int(binary.LittleEndian.Uint32(b[off+4:])))
	}
	s := opcuaSummaryOne(b)
	if chunks > 1 {
		s += fmt.Sprintf(" (%d chunks)", chunks)
	}
	return s
}

func opcuaSummaryOne(b []byte) string {
	d := &opcuaDec{b: b[8:]}
	switch string(b[:3]) {
	case "ACK":
		d.u32()
		return fmt.Sprintf("ack, receive buffer %d", d.u32())
	case "ERR":
		code := d.u32()
		return fmt.Sprintf("error 0x%08x %.60s", code, safe.Text(string(d.str(opcuaMaxString))))
	case "OPN":
		if ch, ok := opcuaOpenResponse(b); ok {
			return fmt.Sprintf("channel %d token %d, policy None", ch.id, ch.token)
		}
		return "open refused"
	case "MSG":
		d.take(16)
		id, _ := d.nodeID()
		if d.err == nil && b[3] != 'F' {
			return "service i=" + strconv.Itoa(int(id))
		}
		d.take(8 + 4)
		status := d.u32()
		switch {
		case d.err != nil:
			return "message cut short"
		case id == opcuaServiceFault || status != 0:
			return fmt.Sprintf("service fault 0x%08x", status)
		}
		d.responseHeaderRest()
		n := int32(d.u32())
		switch id {
		case opcuaFindServersResp:
			return fmt.Sprintf("%d servers", max(n, 0))
		case opcuaGetEndpointsResp:
			return fmt.Sprintf("%d endpoints", max(n, 0))
		}
		return "service i=" + strconv.Itoa(int(id))
	}
	return safe.Text(string(b[:3]))
}

// opcuaJoinChunks returns a MSG answer sent in several chunks ('C' ... 'F',
// security policy None) as one final chunk: the first chunk's headers (its
// 24 bytes: message header, secure channel id, token id, sequence header)
// and every chunk's body in order. Anything else (one chunk, an abort, a
// malformed chunk) is returned as it is.
func opcuaJoinChunks(b []byte) []byte {
	const hdr = 24
	if len(b) < hdr || b[3] != 'C' || string(b[:3]) != "MSG" {
		return b
	}
	out := append([]byte(nil), b[:hdr]...)
	for off := 0; off < len(b); {
		if len(b)-off < hdr || string(b[off:off+3]) != "MSG" {
			return b
		}
		size := int(binary.LittleEndian.Uint32(b[off+4:]))
		if size < hdr || off+size > len(b) {
			return b
		}
		out = append(out, b[off+hdr:off+size]...)
		switch b[off+3] {
		case 'F':
			out[3] = 'F'
			binary.LittleEndian.PutUint32(out[4:], uint32(len(out)))
			return out
		case 'C':
		default:
			return b
		}
		off += size
	}
	return b
}
