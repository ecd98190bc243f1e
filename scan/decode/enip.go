package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// EtherNet/IP encapsulation (CIP Vol. 2, chapter 2) on TCP and UDP 44818,
// and CIP class 0/1 I/O on UDP 2222.
//
// Every encapsulated message starts with a 24-byte little-endian header:
// command, length of the data that follows, session handle, status, sender
// context (echoed by the target) and options. A TCP segment may carry
// several messages; one cut by the segment end is skipped.
//
// What the parser proves:
//   - ListIdentity replies (UDP and TCP): the sender's CIP identity, its
//     status word and state, and the socket address it advertises;
//   - ListServices replies: the services the target offers;
//   - SendRRData / SendUnitData: CIP requests (see cip.go) from the client
//     and Identity object answers from the target, including answers of
//     backplane modules reached through Unconnected Send;
//   - client commands (ListIdentity, ListServices, RegisterSession...) as
//     enip.function facts on the client;
//   - CIP I/O on UDP 2222: which device produces to which (cip.io.produces_to).

const (
	protoENIP   = "enip"
	protoENIPIO = "enip-io"
)

// EtherNet/IP and CIP fact fields.
const (
	FieldENIPFunction      = "enip.function"
	FieldENIPSocketAddress = "enip.socket_address"
	FieldENIPService       = "enip.service"
	FieldCIPFunction       = "cip.function"
	FieldCIPRevision       = "cip.revision"
	FieldCIPSerial         = "cip.serial"
	FieldCIPProductName    = "cip.product_name"
	FieldCIPIOProducesTo   = "cip.io.produces_to"
)

func init() {
	registerParser(protoENIP, parseENIP, []uint16{44818}, []uint16{44818})
	registerParser(protoENIPIO, parseCIPIO, nil, []uint16{2222})
}

// Encapsulation commands.
const (
	enipNOP               = 0x0000
	enipListServices      = 0x0004
	enipListIdentity      = 0x0063
	enipListInterfaces    = 0x0064
	enipRegisterSession   = 0x0065
	enipUnRegisterSession = 0x0066
	enipSendRRData        = 0x006f
	enipSendUnitData      = 0x0070
	enipIndicateStatus    = 0x0072
	enipCancel            = 0x0073
)

// enipCommand names an encapsulation command and its category; ok is false
// for a code that is not an EtherNet/IP command.
func enipCommand(cmd uint16) (name, category string, ok bool) {
	switch cmd {
	case enipNOP:
		return "nop", "other", true
	case 0x0001:
		return "list targets", "identify", true
	case enipListServices:
		return "list services", "identify", true
	case enipListIdentity:
		return "list identity", "identify", true
	case enipListInterfaces:
		return "list interfaces", "identify", true
	case enipRegisterSession:
		return "register session", "other", true
	case enipUnRegisterSession:
		return "unregister session", "other", true
	case enipSendRRData:
		return "send rr data", "other", true
	case enipSendUnitData:
		return "send unit data", "other", true
	case enipIndicateStatus:
		return "indicate status", "other", true
	case enipCancel:
		return "cancel", "other", true
	}
	return "", "", false
}

// enipMaxMsgs bounds the encapsulated messages read from one segment.
const enipMaxMsgs = 16

func parseENIP(c *appCtx, p []byte) {
	for n := 0; n < enipMaxMsgs && len(p) > 0; n++ {
		if len(p) < 24 {
			if n == 0 {
				c.malformed()
			}
			return
		}
		cmd := binary.LittleEndian.Uint16(p[0:])
		l := int(binary.LittleEndian.Uint16(p[2:]))
		if _, _, ok := enipCommand(cmd); !ok {
			c.malformed()
			return
		}
		if 24+l > len(p) {
			return // cut by the segment end
		}
		c.identify(protoENIP)
		enipMessage(c, cmd, p[:24], p[24:24+l])
		p = p[24+l:]
	}
}

// enipMessage handles one encapsulated message.
func enipMessage(c *appCtx, cmd uint16, hdr, data []byte) {
	switch cmd {
	case enipSendRRData, enipSendUnitData:
		msg, key, ok := enipCPF(data, cmd == enipSendUnitData, hdr)
		if !ok {
			c.malformed()
			return
		}
		if c.fromServer() {
			cipResponse(c, msg, key)
		} else {
			cipRequest(c, msg, key, 0)
		}
		return
	case enipListIdentity, enipListServices, enipListInterfaces:
		if len(data) > 0 {
			// replies carry items; requests carry none
			if cmd == enipListIdentity {
				enipListIdentityReply(c, data)
			} else if cmd == enipListServices {
				enipListServicesReply(c, data)
			}
			return
		}
	}
	if c.fromServer() {
		return // the target echoes RegisterSession and friends
	}
	if !c.onceID(uint8(cmd)) {
		return
	}
	name, cat, _ := enipCommand(cmd)
	c.factDetail(c.sender(), FieldENIPFunction, "0x"+enipHex4(cmd)+" "+name, cat, protoENIP)
}

// enipCPF finds the CIP message in the common packet format of SendRRData
// and SendUnitData: interface handle, timeout, item count, items. It also
// returns a small key that pairs a response with its request: the low bits
// of the sender context (unconnected) or of the sequence count (connected).
func enipCPF(data []byte, connected bool, hdr []byte) (msg []byte, key uint8, ok bool) {
	if len(data) < 8 {
		return nil, 0, false
	}
	count := int(binary.LittleEndian.Uint16(data[6:]))
	if count > 8 {
		return nil, 0, false
	}
	off := 8
	for i := 0; i < count; i++ {
		if off+4 > len(data) {
			return nil, 0, false
		}
		typ := binary.LittleEndian.Uint16(data[off:])
		l := int(binary.LittleEndian.Uint16(data[off+2:]))
		off += 4
		if off+l > len(data) {
			return nil, 0, false
		}
		item := data[off : off+l]
		off += l
		switch typ {
		case 0x00b2: // unconnected data
			return item, hdr[12] & 0x1f, len(item) >= 2
		case 0x00b1: // connected data: sequence count, then CIP
			if !connected || len(item) < 4 {
				return nil, 0, false
			}
			return item[2:], item[0] & 0x1f, true
		}
	}
	return nil, 0, false
}

// enipListIdentityReply reads the CIP Identity items of a ListIdentity
// reply: encapsulation version, socket address (big-endian sockaddr_in),
// vendor, device type, product code, revision, status, serial, product
// name and state.
func enipListIdentityReply(c *appCtx, data []byte) {
	enipEachItem(c, data, 4, func(_ int, typ uint16, item []byte) {
		if typ != 0x000c {
			return
		}
		if len(item) < 2+16+15 {
			c.malformed()
			return
		}
		if !c.d.once(onceKey{ip: c.src, kind: onceCIPIdentity, id: hashBytes(item)}) {
			return
		}
		// the identity attributes 1-7 as Get_Attributes_All lays them
		// out, then the state
		var id cipIdentity
		b := item[18:]
		if !id.parseAll(b) {
			c.malformed()
			return
		}
		if nl := len(id.name); 15+nl < len(b) {
			id.state = b[15+nl]
			id.has |= cipHasState
		}
		ep := c.sender()
		cipIdentityFacts(c, ep, &id, cipDirect, 0)
		sa := item[2:18]
		if binary.BigEndian.Uint16(sa[0:]) == 2 { // AF_INET
			ip := netip.AddrFrom4([4]byte(sa[4:8]))
			port := binary.BigEndian.Uint16(sa[2:])
			if ip.IsValid() && !ip.IsUnspecified() {
				c.fact(ep, FieldENIPSocketAddress, ip.String()+":"+strconv.Itoa(int(port)), protoENIP)
			}
		}
	})
}

// enipListServicesReply reads the service items of a ListServices reply:
// protocol version, capability flags, 16-byte name.
func enipListServicesReply(c *appCtx, data []byte) {
	enipEachItem(c, data, 8, func(i int, typ uint16, item []byte) {
		if typ != 0x0100 || len(item) < 4 || !c.once(255-uint8(i)) {
			return
		}
		flags := binary.LittleEndian.Uint16(item[2:])
		name := cleanText(item[4:min(len(item), 20)])
		if name == "" {
			return
		}
		v := name + " (capabilities 0x" + enipHex4(flags)
		if flags&0x0020 != 0 {
			v += ", cip over tcp"
		}
		if flags&0x0100 != 0 {
			v += ", class 0/1 udp"
		}
		c.fact(c.sender(), FieldENIPService, v+")", protoENIP)
	})
}

// enipEachItem walks a common packet format item list (a count, then type,
// length and data per item) and calls fn for up to max items; a list that
// runs past the payload is counted as malformed.
func enipEachItem(c *appCtx, data []byte, max int, fn func(i int, typ uint16, item []byte)) {
	if len(data) < 2 {
		c.malformed()
		return
	}
	count := int(binary.LittleEndian.Uint16(data))
	off := 2
	for i := 0; i < count && i < max; i++ {
		if off+4 > len(data) {
			c.malformed()
			return
		}
		typ := binary.LittleEndian.Uint16(data[off:])
		l := int(binary.LittleEndian.Uint16(data[off+2:]))
		off += 4
		if off+l > len(data) {
			c.malformed()
			return
		}
		item := data[off : off+l]
		off += l
		fn(i, typ, item)
	}
}

// parseCIPIO reads CIP class 0/1 implicit (I/O) messages on UDP 2222: a
// common packet format with a sequenced (0x8002) or connected (0x00a1)
// address item and a connected data item (0x00b1). The sender produces
// to the receiver; each direction of a flow is reported once.
func parseCIPIO(c *appCtx, p []byte) {
	if len(p) < 2+4+4 {
		c.malformed()
		return
	}
	count := binary.LittleEndian.Uint16(p)
	typ := binary.LittleEndian.Uint16(p[2:])
	l := int(binary.LittleEndian.Uint16(p[4:]))
	if count < 2 || count > 4 || (typ != 0x8002 && typ != 0x00a1) || 6+l+4 > len(p) {
		c.malformed()
		return
	}
	if binary.LittleEndian.Uint16(p[6+l:]) != 0x00b1 {
		c.malformed()
		return
	}
	c.identify(protoENIPIO)
	if !c.once(uint8(c.side)) {
		return
	}
	if dst := c.dst; dst.IsValid() && !dst.IsUnspecified() {
		c.fact(c.sender(), FieldCIPIOProducesTo, dst.String(), protoENIPIO)
	}
}

func enipHex4(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
}
