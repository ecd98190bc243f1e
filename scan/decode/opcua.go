package decode

import (
	"encoding/binary"
	"hash/fnv"
	"net/netip"

	"otscope/model"
)

// OPC UA binary (UA TCP, OPC 10000-6) on 4840 and the other common server
// ports.
//
// A message starts with a type ("HEL", "ACK", "OPN", "MSG", "CLO", "ERR",
// "RHE"), a chunk type ('F' final, 'C', 'A') and a little-endian size.
// Only final chunks are decoded; a message cut across segments is read as
// far as the segment goes, and facts are reported as they are read.
//
// Facts:
//   - Hello: opcua.endpoint_url on the server (the URL the client asked for).
//   - ACK: role opc ua server on its sender.
//   - OPN from the server: opcua.security_policy of the channel (and
//     security_mode None with policy #None).
//   - GetEndpoints / FindServers / CreateSession requests: the endpoint URL,
//     on the server; CreateSession: the client's own ApplicationDescription,
//     on the client.
//   - GetEndpoints / CreateSession responses: every EndpointDescription
//     (endpoint URL, security mode and policy, the server's
//     ApplicationDescription), on the server.
//   - FindServers responses: each ApplicationDescription, on the server it
//     describes when a discovery URL names it by a literal IP address, else
//     on the responder.
//   - RegisterServer(2) requests: the registering server's own description.
//
// ApplicationDescription: application URI, product URI, application name,
// application type (Server, Client, ClientAndServer, DiscoveryServer).
//
// Every string and array length is checked against the bytes left, so a
// length of 2^31 on a 60-byte message is an error, not an allocation. A MSG
// of any other service (Read, Publish: the polling) costs a look at its
// type NodeId: nothing is allocated.

const protoOPCUA = "opcua"

const opcuaOnceKind = 0x4840

func init() {
	registerParser(protoOPCUA, parseOPCUA, []uint16{4840, 4841, 4843, 48010, 53530, 62541, 26543, 4897}, nil)
}

// Binary encoding NodeIds of the services read here (namespace 0).
const (
	uaFindServersReq      = 422
	uaFindServersResp     = 425
	uaGetEndpointsReq     = 428
	uaGetEndpointsResp    = 431
	uaRegisterServerReq   = 437
	uaOpenChannelReq      = 446
	uaOpenChannelResp     = 449
	uaCreateSessionReq    = 461
	uaCreateSessionResp   = 464
	uaRegisterServer2Req  = 12211
	uaMaxArray            = 256
	uaSecurityPolicyNone  = "http://opcfoundation.org/UA/SecurityPolicy#None"
	uaMaxDiagnosticsDepth = 4
)

var opcuaAppTypes = [...]string{"Server", "Client", "ClientAndServer", "DiscoveryServer"}

var opcuaSecurityModes = [...]string{"Invalid", "None", "Sign", "SignAndEncrypt"}

// uaReader is a bounded reader of the UA binary encoding: any read past the
// end sets bad and returns zero values.
type uaReader struct {
	b   []byte
	off int
	bad bool
}

func (r *uaReader) need(n int) bool {
	if r.bad || n < 0 || n > len(r.b)-r.off {
		r.bad = true
		return false
	}
	return true
}

func (r *uaReader) skip(n int) {
	r.take(n)
}

// take returns the next n bytes and moves past them, or nil (and bad) when
// fewer are left.
func (r *uaReader) take(n int) []byte {
	if !r.need(n) {
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

// uaZero stands in for a fixed-size field past the end, so that it reads as 0.
var uaZero [4]byte

// fixed is take for the fixed-size fields (n <= 4): zeros past the end.
func (r *uaReader) fixed(n int) []byte {
	if v := r.take(n); v != nil {
		return v
	}
	return uaZero[:n]
}

func (r *uaReader) u8() byte { return r.fixed(1)[0] }

func (r *uaReader) u16() uint16 { return binary.LittleEndian.Uint16(r.fixed(2)) }

func (r *uaReader) u32() uint32 { return binary.LittleEndian.Uint32(r.fixed(4)) }

// bytes reads a String or ByteString: nil for null (length -1).
func (r *uaReader) bytes() []byte {
	n := int32(r.u32())
	if r.bad || n == -1 {
		return nil
	}
	if n < 0 {
		r.bad = true
		return nil
	}
	return r.take(int(n))
}

// arrayLen reads an array length; each element takes at least min bytes.
func (r *uaReader) arrayLen(min int) int {
	n := int32(r.u32())
	if r.bad || n <= 0 {
		return 0
	}
	if n > uaMaxArray || int(n)*min > len(r.b)-r.off {
		r.bad = true
		return 0
	}
	return int(n)
}

func (r *uaReader) skipStrings() {
	for n := r.arrayLen(4); n > 0 && !r.bad; n-- {
		r.bytes()
	}
}

// nodeID reads a NodeId (or ExpandedNodeId flags) and returns its numeric
// identifier, or ok=false for string/guid/opaque ids or namespaces > 0.
func (r *uaReader) nodeID() (id uint32, ok bool) {
	enc := r.u8()
	var ns uint16
	switch enc & 0x3f {
	case 0:
		id, ok = uint32(r.u8()), true
	case 1:
		ns = uint16(r.u8())
		id, ok = uint32(r.u16()), true
	case 2:
		ns = r.u16()
		id, ok = r.u32(), true
	case 3, 5:
		r.u16()
		r.bytes()
	case 4:
		r.u16()
		r.skip(16)
	default:
		r.bad = true
	}
	if enc&0x80 != 0 {
		r.bytes()
	}
	if enc&0x40 != 0 {
		r.u32()
	}
	return id, ok && ns == 0 && !r.bad
}

func (r *uaReader) extensionObject() {
	r.nodeID()
	if r.u8()&3 != 0 {
		r.bytes()
	}
}

func (r *uaReader) diagnosticInfo(depth int) {
	if depth > uaMaxDiagnosticsDepth {
		r.bad = true
		return
	}
	m := r.u8()
	for _, bit := range []byte{0x01, 0x02, 0x04, 0x08} {
		if m&bit != 0 {
			r.skip(4)
		}
	}
	if m&0x10 != 0 {
		r.bytes()
	}
	if m&0x20 != 0 {
		r.skip(4)
	}
	if m&0x40 != 0 {
		r.diagnosticInfo(depth + 1)
	}
}

func (r *uaReader) requestHeader() {
	r.nodeID() // authentication token
	r.skip(8)  // timestamp
	r.skip(8)  // request handle, return diagnostics
	r.bytes()  // audit entry id
	r.skip(4)  // timeout hint
	r.extensionObject()
}

func (r *uaReader) responseHeader() {
	r.skip(8 + 4 + 4) // timestamp, request handle, service result
	r.diagnosticInfo(0)
	r.skipStrings()
	r.extensionObject()
}

// localizedText returns the text of a LocalizedText.
func (r *uaReader) localizedText() []byte {
	m := r.u8()
	if m&1 != 0 {
		r.bytes()
	}
	if m&2 != 0 {
		return r.bytes()
	}
	return nil
}

// uaAppDesc is an ApplicationDescription (slices into the packet).
type uaAppDesc struct {
	uri, product, name []byte
	appType            uint32
	discovery          []byte // first discovery URL
}

func (r *uaReader) appDescription() (a uaAppDesc) {
	a.uri = r.bytes()
	a.product = r.bytes()
	a.name = r.localizedText()
	a.appType = r.u32()
	r.bytes() // gateway server URI
	r.bytes() // discovery profile URI
	for i, n := 0, r.arrayLen(4); i < n && !r.bad; i++ {
		u := r.bytes()
		if i == 0 {
			a.discovery = u
		}
	}
	return a
}

// parseOPCUA walks the messages of one segment.
func parseOPCUA(c *appCtx, p []byte) {
	for n := 0; n < 32 && len(p) >= 8; n++ {
		size := int(binary.LittleEndian.Uint32(p[4:]))
		if size < 8 || !opcuaType(p) {
			if n == 0 && c.state().proto == protoOPCUA && p[3] == 'F' {
				c.malformed()
			}
			return // not a message start (a continuation segment)
		}
		m := p
		if size <= len(p) {
			m = p[:size]
		}
		opcuaMessage(c, m)
		if size >= len(p) {
			return
		}
		p = p[size:]
	}
}

func opcuaType(p []byte) bool {
	if p[3] != 'F' && p[3] != 'C' && p[3] != 'A' {
		return false
	}
	switch string(p[:3]) {
	case "HEL", "ACK", "OPN", "MSG", "CLO", "ERR", "RHE":
		return true
	}
	return false
}

func opcuaMessage(c *appCtx, m []byte) {
	if c.state().proto != protoOPCUA {
		c.identify(protoOPCUA)
	}
	if m[3] != 'F' {
		return
	}
	r := uaReader{b: m, off: 8}
	switch string(m[:3]) {
	case "MSG":
		r.skip(16) // channel, token, sequence number, request id
		id, ok := r.nodeID()
		if !ok {
			return
		}
		switch id {
		case uaGetEndpointsReq, uaFindServersReq, uaCreateSessionReq, uaGetEndpointsResp,
			uaFindServersResp, uaCreateSessionResp, uaRegisterServerReq, uaRegisterServer2Req:
			opcuaService(c, &r, id)
		}
	case "HEL":
		r.skip(20)
		if u := r.bytes(); u != nil {
			opcuaFact(c, c.receiver(), model.FieldOPCUAEndpointURL, u, "")
		}
	case "ACK":
		if c.onceID(0) {
			ep := c.sender()
			if c.d.once(onceKey{mac: ep.MAC, ip: ep.IP, kind: opcuaOnceKind, id: 1}) {
				c.factDetail(ep, model.FieldRole, model.RoleOPCServer, "answers OPC UA Hello (ACK)", protoOPCUA)
			}
		}
	case "OPN":
		r.skip(4) // secure channel id
		policy := r.bytes()
		if r.bad || policy == nil || !c.fromServer() {
			return
		}
		ep := c.sender()
		opcuaFact(c, ep, model.FieldOPCUASecPolicy, policy, "")
		if string(policy) == uaSecurityPolicyNone {
			opcuaFactString(c, ep, model.FieldOPCUASecurityMode, "None", "secure channel opened with SecurityPolicy#None")
		}
	}
}

// opcuaService decodes the services that carry identity.
func opcuaService(c *appCtx, r *uaReader, id uint32) {
	switch id {
	case uaGetEndpointsReq, uaFindServersReq:
		r.requestHeader()
		if u := r.bytes(); !r.bad && u != nil {
			opcuaFact(c, c.receiver(), model.FieldOPCUAEndpointURL, u, "")
		}
	case uaCreateSessionReq:
		r.requestHeader()
		a := r.appDescription()
		if r.bad {
			return
		}
		opcuaAppFacts(c, c.sender(), &a)
		r.bytes() // server URI
		if u := r.bytes(); !r.bad && u != nil {
			opcuaFact(c, c.receiver(), model.FieldOPCUAEndpointURL, u, "")
		}
	case uaRegisterServerReq, uaRegisterServer2Req:
		r.requestHeader()
		var a uaAppDesc
		a.uri = r.bytes()
		a.product = r.bytes()
		for i, n := 0, r.arrayLen(1); i < n && !r.bad; i++ {
			if t := r.localizedText(); i == 0 {
				a.name = t
			}
		}
		a.appType = r.u32()
		if !r.bad {
			opcuaAppFacts(c, c.sender(), &a)
		}
	case uaGetEndpointsResp:
		r.responseHeader()
		opcuaEndpoints(c, r)
	case uaCreateSessionResp:
		r.responseHeader()
		r.nodeID() // session id
		r.nodeID() // authentication token
		r.skip(8)  // revised session timeout
		r.bytes()  // server nonce
		r.bytes()  // server certificate
		opcuaEndpoints(c, r)
	case uaFindServersResp:
		r.responseHeader()
		for i, n := 0, r.arrayLen(16); i < n && !r.bad; i++ {
			a := r.appDescription()
			if r.bad {
				return
			}
			opcuaAppFacts(c, opcuaDescribed(c, a.discovery), &a)
		}
	}
}

// opcuaEndpoints reads an array of EndpointDescription sent by a server.
func opcuaEndpoints(c *appCtx, r *uaReader) {
	ep := c.sender()
	for i, n := 0, r.arrayLen(32); i < n && !r.bad; i++ {
		url := r.bytes()
		if r.bad {
			return
		}
		opcuaFact(c, ep, model.FieldOPCUAEndpointURL, url, "")
		a := r.appDescription()
		if r.bad {
			return
		}
		opcuaAppFacts(c, ep, &a)
		r.bytes() // server certificate
		mode := r.u32()
		policy := r.bytes()
		if r.bad {
			return
		}
		if mode < uint32(len(opcuaSecurityModes)) {
			opcuaFactString(c, ep, model.FieldOPCUASecurityMode, opcuaSecurityModes[mode], "")
		}
		opcuaFact(c, ep, model.FieldOPCUASecPolicy, policy, "")
		for j, k := 0, r.arrayLen(20); j < k && !r.bad; j++ {
			r.bytes() // policy id
			r.skip(4) // token type
			r.bytes() // issued token type
			r.bytes() // issuer endpoint URL
			r.bytes() // security policy URI
		}
		r.bytes() // transport profile URI
		r.skip(1) // security level
	}
}

// opcuaDescribed is the endpoint a FindServers entry describes: the host of
// its discovery URL when that is a literal IP address other than the
// responder's, else the responder.
func opcuaDescribed(c *appCtx, url []byte) model.Endpoint {
	ep := c.sender()
	host := opcuaURLHost(url)
	if host == "" {
		return ep
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || ip.IsLoopback() || ip.IsUnspecified() || ip.IsMulticast() {
		return ep
	}
	ip = ip.Unmap()
	if ip == ep.IP {
		return ep
	}
	return model.Endpoint{IP: ip, VLAN: ep.VLAN}
}

// opcuaURLHost returns the host of "opc.tcp://host:port/path" ("[v6]" unbracketed).
func opcuaURLHost(u []byte) string {
	s := string(u)
	i := 0
	for ; i+2 < len(s); i++ {
		if s[i] == ':' && s[i+1] == '/' && s[i+2] == '/' {
			break
		}
	}
	if i+2 >= len(s) {
		return ""
	}
	s = s[i+3:]
	if len(s) > 0 && s[0] == '[' {
		for j := 1; j < len(s); j++ {
			if s[j] == ']' {
				return s[1:j]
			}
		}
		return ""
	}
	for j := 0; j < len(s); j++ {
		if s[j] == ':' || s[j] == '/' {
			return s[:j]
		}
	}
	return s
}

func opcuaAppFacts(c *appCtx, ep model.Endpoint, a *uaAppDesc) {
	opcuaFact(c, ep, model.FieldOPCUAAppURI, a.uri, "")
	opcuaFact(c, ep, model.FieldOPCUAProductURI, a.product, "")
	opcuaFact(c, ep, model.FieldOPCUAAppName, a.name, "")
	if a.appType < uint32(len(opcuaAppTypes)) {
		opcuaFactString(c, ep, model.FieldOPCUAAppType, opcuaAppTypes[a.appType], "")
		if a.appType != 1 {
			opcuaFactString(c, ep, model.FieldRole, model.RoleOPCServer, "OPC UA ApplicationDescription of type "+opcuaAppTypes[a.appType])
		}
	}
}

// opcuaFact reports field=value once per host (hashing the bytes first, so a
// repeated description costs no string).
func opcuaFact(c *appCtx, ep model.Endpoint, field string, v []byte, detail string) {
	if len(v) == 0 {
		return
	}
	h := fnv.New64a()
	h.Write([]byte(field))
	h.Write(v)
	if !c.d.once(onceKey{mac: ep.MAC, ip: ep.IP, kind: opcuaOnceKind, id: h.Sum64()}) {
		return
	}
	c.factDetail(ep, field, cleanText(v), detail, protoOPCUA)
}

func opcuaFactString(c *appCtx, ep model.Endpoint, field, v, detail string) {
	h := fnv.New64a()
	h.Write([]byte(field))
	h.Write([]byte(v))
	if !c.d.once(onceKey{mac: ep.MAC, ip: ep.IP, kind: opcuaOnceKind, id: h.Sum64()}) {
		return
	}
	c.factDetail(ep, field, v, detail, protoOPCUA)
}
