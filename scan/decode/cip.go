package decode

import (
	"encoding/binary"
)

// CIP explicit messages (CIP Vol. 1, chapters 2-5) carried by EtherNet/IP
// SendRRData and SendUnitData.
//
// Requests: service code, request path (EPATH), data. The client's
// services are reported once per flow as cip.function "0x4c read tag"
// with a category. Multiple Service Packet and Unconnected Send are opened
// and their embedded requests reported instead.
//
// Responses: service|0x80, reserved, general status, additional status,
// data. A response names neither the object nor the route, so the parser
// remembers the last request of the flow (appState.u32) and pairs the
// answer by the low bits of the sender context or sequence count. Identity
// object (class 1) answers become identity facts on the target; answers of
// modules reached through a backplane route (Unconnected Send, port 1,
// slot N) become module facts of the IP that answered.

// Request memory packed into appState.u32.
const (
	cipStValid    = 1 << 7
	cipStIdentity = 1 << 16
	cipStSlot     = 1 << 17
	cipStRouted   = 1 << 18
	cipStSlotSh   = 19
	cipStKeySh    = 27
)

// onceCIPIdentity is the Decoder.once kind for identity answers already
// reported (id = hash of the answer and its slot).
const onceCIPIdentity = 0x0c1d

// onceCIPLogix marks an IP that answered with Identity vendor 1 (id 1)
// and device type 14 (id 2): a Rockwell Logix controller.
const onceCIPLogix = 0x0c1e

// Service codes.
const (
	cipGetAttributesAll   = 0x01
	cipGetAttributeList   = 0x03
	cipMultipleService    = 0x0a
	cipGetAttributeSingle = 0x0e
	cipUnconnectedSend    = 0x52
)

// Class codes.
const (
	cipClassIdentity = 0x01
	cipClassCM       = 0x06
	cipClassFile     = 0x37
	cipClassPCCC     = 0x67
	cipClassPort     = 0xf4
	cipClassTCPIP    = 0xf5
	cipClassEthLink  = 0xf6
)

// cipPath is what a request path addresses.
type cipPath struct {
	class, instance, attribute uint16
	hasClass, hasAttr          bool
	symbolic                   bool
}

// cipParsePath reads a padded EPATH of n bytes.
func cipParsePath(b []byte) (p cipPath) {
	for i := 0; i < len(b); {
		seg := b[i]
		switch {
		case seg == 0x91: // ANSI extended symbol: length, name, pad
			if i+2 > len(b) {
				return p
			}
			p.symbolic = true
			i += 2 + int(b[i+1]) + int(b[i+1]&1)
			continue
		case seg&0xe0 == 0x20: // logical segment
			var v uint16
			format := seg & 0x03
			switch format {
			case 0:
				if i+2 > len(b) {
					return p
				}
				v = uint16(b[i+1])
				i += 2
			case 1:
				if i+4 > len(b) {
					return p
				}
				v = binary.LittleEndian.Uint16(b[i+2:])
				i += 4
			default:
				return p // 32-bit and reserved formats: not addressed here
			}
			switch (seg >> 2) & 0x07 {
			case 0:
				p.class, p.hasClass = v, true
			case 1:
				p.instance = v
			case 4:
				p.attribute, p.hasAttr = v, true
			}
			continue
		}
		return p // port, network, data segments: stop
	}
	return p
}

// cipRequest reports a client request and remembers what it asked for.
// depth bounds the recursion through containers.
func cipRequest(c *appCtx, msg []byte, key uint8, depth int) {
	if len(msg) < 2 || msg[0]&0x80 != 0 {
		return
	}
	svc := msg[0]
	pl := int(msg[1]) * 2
	if 2+pl > len(msg) {
		c.malformed()
		return
	}
	path := cipParsePath(msg[2 : 2+pl])
	data := msg[2+pl:]
	switch {
	case svc == cipMultipleService && path.class == 0x02 && depth < 2:
		cipMultiple(c, data, depth)
		c.state().u32 = 0 // its answers are not read
		return
	case svc == cipUnconnectedSend && path.class == cipClassCM && depth < 2:
		cipUnconnected(c, data, key, depth)
		return
	}
	cipReportFunction(c, svc, &path)
	if depth == 0 {
		st := uint32(svc) | cipStValid | uint32(key&0x1f)<<cipStKeySh
		if path.hasClass && path.class == cipClassIdentity {
			st |= cipStIdentity
			if path.hasAttr && path.attribute < 256 {
				st |= uint32(path.attribute) << 8
			}
		}
		c.state().u32 = st
	}
}

// cipMultiple opens a Multiple Service Packet request: count, offsets
// (from the count field), embedded requests.
func cipMultiple(c *appCtx, data []byte, depth int) {
	if len(data) < 2 {
		c.malformed()
		return
	}
	n := int(binary.LittleEndian.Uint16(data))
	if n > 64 || 2+2*n > len(data) {
		c.malformed()
		return
	}
	for i := 0; i < n; i++ {
		start := int(binary.LittleEndian.Uint16(data[2+2*i:]))
		end := len(data)
		if i+1 < n {
			end = int(binary.LittleEndian.Uint16(data[2+2*i+2:]))
		}
		if start < 2+2*n || start >= end || end > len(data) {
			c.malformed()
			return
		}
		cipRequest(c, data[start:end], 0, depth+1)
	}
}

// cipUnconnected opens an Unconnected Send request: priority/tick, timeout
// ticks, embedded request size, embedded request (padded to even), route
// path size in words, reserved, route path.
func cipUnconnected(c *appCtx, data []byte, key uint8, depth int) {
	if len(data) < 4 {
		c.malformed()
		return
	}
	n := int(binary.LittleEndian.Uint16(data[2:]))
	if 4+n > len(data) {
		c.malformed()
		return
	}
	emb := data[4 : 4+n]
	off := 4 + n + n&1
	var st uint32
	if off+2 <= len(data) {
		rl := int(data[off]) * 2
		off += 2
		if off+rl <= len(data) {
			route := data[off : off+rl]
			if len(route) == 2 && route[0] == 0x01 {
				st = cipStSlot | uint32(route[1])<<cipStSlotSh // backplane, slot
			} else if len(route) > 0 {
				st = cipStRouted
			}
		}
	}
	cipRequest(c, emb, key, depth+1)
	if len(emb) < 2 || emb[0]&0x80 != 0 {
		c.state().u32 = 0
		return
	}
	pl := int(emb[1]) * 2
	if 2+pl > len(emb) {
		c.state().u32 = 0
		return
	}
	path := cipParsePath(emb[2 : 2+pl])
	st |= uint32(emb[0]) | cipStValid | uint32(key&0x1f)<<cipStKeySh
	if path.hasClass && path.class == cipClassIdentity {
		st |= cipStIdentity
		if path.hasAttr && path.attribute < 256 {
			st |= uint32(path.attribute) << 8
		}
	}
	c.state().u32 = st
}

// cipReportFunction records a request's service once per flow.
func cipReportFunction(c *appCtx, svc byte, p *cipPath) {
	idx, name, cat, cls := cipFunction(svc, p)
	if !c.once(idx) {
		return
	}
	v := "0x" + mbHex2(svc) + " " + name
	if cls != "" {
		v += " (" + cls + ")"
	}
	c.factDetail(c.sender(), FieldCIPFunction, v, cat, protoENIP)
}

// cipFunction names a service in the context of the class it addresses.
// idx is the flow's once-bit for it: generic services by class group,
// then Connection Manager, Logix, File object, PCCC and reserved codes.
func cipFunction(svc byte, p *cipPath) (idx uint8, name, category, class string) {
	if svc >= 0x01 && svc <= 0x1c {
		name, category = cipService(cipGenericServices[:], svc, "reserved service", "other")
		group := uint8(0)
		switch {
		case p.hasClass && p.class == cipClassIdentity:
			group, class = 1, "identity"
			if category == "read" {
				category = "identify"
			}
		case p.hasClass && p.class == cipClassTCPIP:
			group, class = 2, "tcp/ip interface"
		case p.hasClass && (p.class == cipClassPort || p.class == cipClassEthLink):
			group, class = 3, "port/ethernet link"
		}
		return group*32 + svc, name, category, class
	}
	if p.hasClass && p.class == cipClassCM && svc >= 0x4e && svc <= 0x5b {
		name, category = cipService(cipCMServices[:], svc, "connection manager service", "other")
		return 0xa0 + (svc - 0x40), name, category, ""
	}
	if p.hasClass && p.class == cipClassFile && svc >= 0x4b && svc <= 0x51 {
		return 0xd8 + (svc - 0x4b), cipFileServices[svc], "program", "file"
	}
	if p.hasClass && p.class == cipClassPCCC && svc == 0x4b {
		return 0xe0, "execute pccc", "other", "pccc"
	}
	if svc >= 0x4b && svc <= 0x5f {
		// object-specific services of Rockwell Logix objects (symbols,
		// templates, controller objects)
		name, category = cipService(cipLogixServices[:], svc, "object specific service", "other")
		return 0xc0 + (svc - 0x4b), name, category, ""
	}
	return 0xe8, "reserved service", "other", ""
}

// cipService looks svc up in a table of {name, category} indexed by
// service code; a code the table does not name gets name and category.
func cipService(table [][2]string, svc byte, name, category string) (string, string) {
	if int(svc) < len(table) && table[svc][0] != "" {
		return table[svc][0], table[svc][1]
	}
	return name, category
}

// cipGenericServices names the common services (CIP Vol. 1 appendix A).
var cipGenericServices = [...][2]string{
	0x01: {"get attributes all", "read"},
	0x02: {"set attributes all", "write"},
	0x03: {"get attribute list", "read"},
	0x04: {"set attribute list", "write"},
	0x05: {"reset", "control"},
	0x06: {"start", "control"},
	0x07: {"stop", "control"},
	0x08: {"create", "write"},
	0x09: {"delete", "write"},
	0x0a: {"multiple service packet", "other"},
	0x0d: {"apply attributes", "write"},
	0x0e: {"get attribute single", "read"},
	0x10: {"set attribute single", "write"},
	0x11: {"find next object instance", "read"},
	0x14: {"error response", "other"},
	0x15: {"restore", "control"},
	0x16: {"save", "control"},
	0x17: {"no operation", "diagnostic"},
	0x18: {"get member", "read"},
	0x19: {"set member", "write"},
	0x1a: {"insert member", "write"},
	0x1b: {"remove member", "write"},
	0x1c: {"group sync", "control"},
}

// cipCMServices names the Connection Manager's services (0x4e-0x5b).
var cipCMServices = [...][2]string{
	0x4e: {"forward close", "control"},
	0x52: {"unconnected send", "other"},
	0x54: {"forward open", "control"},
	0x56: {"get connection data", "diagnostic"},
	0x57: {"search connection data", "diagnostic"},
	0x5a: {"get connection owner", "diagnostic"},
	0x5b: {"large forward open", "control"},
}

// cipFileServices names the File object's services (0x4b-0x51), all of
// category "program".
var cipFileServices = [...]string{
	0x4b: "initiate upload",
	0x4c: "initiate download",
	0x4d: "initiate partial read",
	0x4e: "initiate partial write",
	0x4f: "upload transfer",
	0x50: "download transfer",
	0x51: "clear file",
}

// cipLogixServices names the object-specific services of Rockwell Logix
// objects (0x4b-0x5f) that the decoder tells apart.
var cipLogixServices = [...][2]string{
	0x4c: {"read tag", "read"},
	0x4d: {"write tag", "write"},
	0x4e: {"read modify write tag", "write"},
	0x52: {"read tag fragmented", "read"},
	0x53: {"write tag fragmented", "write"},
	0x55: {"get instance attribute list", "read"},
}

// cipResponse reads a target's answer to the request remembered for the
// flow; only Identity object answers carry identity.
func cipResponse(c *appCtx, msg []byte, key uint8) {
	if c.f.app == nil {
		return
	}
	st := c.f.app.u32
	if st&cipStValid == 0 || st&cipStIdentity == 0 {
		return
	}
	if len(msg) < 4 || msg[0]&0x80 == 0 {
		return
	}
	svc := msg[0] & 0x7f
	if svc != byte(st&0x7f) || uint8(st>>cipStKeySh)&0x1f != key&0x1f {
		return // not the answer to the remembered request
	}
	if msg[2] != 0 { // general status
		return
	}
	off := 4 + int(msg[3])*2
	if off > len(msg) {
		c.malformed()
		return
	}
	data := msg[off:]
	slot := uint8(st >> cipStSlotSh)
	mode := cipDirect
	if st&cipStSlot != 0 {
		mode = cipBackplane
	} else if st&cipStRouted != 0 {
		mode = cipRouted
	}
	h := hashBytes(data) ^ uint64(st&^(0x1f<<cipStKeySh))<<1
	if !c.d.once(onceKey{ip: c.src, kind: onceCIPIdentity, id: h}) {
		return
	}
	var id cipIdentity
	switch svc {
	case cipGetAttributesAll:
		if !id.parseAll(data) {
			c.malformed()
			return
		}
	case cipGetAttributeSingle:
		if !id.parseAttr(uint16(st>>8&0xff), data) {
			return
		}
	case cipGetAttributeList:
		id.parseList(data)
	default:
		return
	}
	cipIdentityFacts(c, c.sender(), &id, mode, slot)
}

// cipIdentity is a (possibly partial) Identity object.
type cipIdentity struct {
	vendor, dtype, code uint16
	major, minor        uint8
	status              uint16
	serial              uint32
	name                []byte
	state               uint8
	has                 uint16
}

const (
	cipHasVendor = 1 << iota
	cipHasType
	cipHasCode
	cipHasRev
	cipHasStatus
	cipHasSerial
	cipHasName
	cipHasState
	cipHasAll = cipHasVendor | cipHasType | cipHasCode | cipHasRev | cipHasStatus | cipHasSerial | cipHasName
)

// parseAll reads a Get_Attributes_All answer of the Identity object
// (attributes 1-7 in order).
func (id *cipIdentity) parseAll(b []byte) bool {
	if len(b) < 15 {
		return false
	}
	id.vendor = binary.LittleEndian.Uint16(b[0:])
	id.dtype = binary.LittleEndian.Uint16(b[2:])
	id.code = binary.LittleEndian.Uint16(b[4:])
	id.major, id.minor = b[6], b[7]
	id.status = binary.LittleEndian.Uint16(b[8:])
	id.serial = binary.LittleEndian.Uint32(b[10:])
	id.has = cipHasAll &^ cipHasName
	n := int(b[14])
	if 15+n > len(b) {
		return false
	}
	id.name = b[15 : 15+n]
	id.has |= cipHasName
	return true
}

// parseAttr reads one Identity attribute value; it returns the bytes used
// (0 when the attribute is not an identity attribute or is cut).
func (id *cipIdentity) parseAttr(attr uint16, b []byte) bool {
	return id.attr(attr, b) > 0
}

func (id *cipIdentity) attr(attr uint16, b []byte) int {
	switch attr {
	case 1, 2, 3, 5:
		if len(b) < 2 {
			return 0
		}
		v := binary.LittleEndian.Uint16(b)
		switch attr {
		case 1:
			id.vendor, id.has = v, id.has|cipHasVendor
		case 2:
			id.dtype, id.has = v, id.has|cipHasType
		case 3:
			id.code, id.has = v, id.has|cipHasCode
		case 5:
			id.status, id.has = v, id.has|cipHasStatus
		}
		return 2
	case 4:
		if len(b) < 2 {
			return 0
		}
		id.major, id.minor, id.has = b[0], b[1], id.has|cipHasRev
		return 2
	case 6:
		if len(b) < 4 {
			return 0
		}
		id.serial, id.has = binary.LittleEndian.Uint32(b), id.has|cipHasSerial
		return 4
	case 7:
		if len(b) < 1 || 1+int(b[0]) > len(b) {
			return 0
		}
		id.name, id.has = b[1:1+int(b[0])], id.has|cipHasName
		return 1 + int(b[0])
	case 8:
		if len(b) < 1 {
			return 0
		}
		id.state, id.has = b[0], id.has|cipHasState
		return 1
	}
	return 0
}

// parseList reads a Get_Attribute_List answer: count, then attribute id,
// status and value per attribute; it stops at an attribute whose size it
// does not know.
func (id *cipIdentity) parseList(b []byte) {
	if len(b) < 2 {
		return
	}
	n := int(binary.LittleEndian.Uint16(b))
	off := 2
	for i := 0; i < n && i < 32; i++ {
		if off+4 > len(b) {
			return
		}
		attr := binary.LittleEndian.Uint16(b[off:])
		status := binary.LittleEndian.Uint16(b[off+2:])
		off += 4
		if status != 0 {
			continue // no value follows a failed attribute
		}
		used := id.attr(attr, b[off:])
		if used == 0 {
			return
		}
		off += used
	}
}
