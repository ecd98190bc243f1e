package decode

import (
	"encoding/binary"
	"strconv"

	"otscope/model"
)

// DNP3 (IEEE 1815) over TCP/UDP 20000.
//
// A segment holds one or more link-layer frames: 0x05 0x64, length (octets
// after the length field, CRCs excluded, >= 5), control (DIR: from the
// master, PRM: primary), destination and source addresses (little endian),
// a header CRC, then user data in blocks of 16 octets each followed by its
// CRC. The first user-data block starts with the transport header and the
// application header (control, function code), so the function of a request
// and the first object of a response are read without removing the CRCs;
// only a response carrying device attributes (group 0) is de-blocked, with
// every block CRC checked.
//
// Facts: dnp3.address (the link source address) on the sender of every
// frame, role rtu on an outstation (DIR=0), role scada on a master (DIR=1),
// dnp3.function on the master for each application function it sends, and
// the group 0 device attributes an outstation reports (vendor, product,
// firmware, hardware version, serial, device name, location, id code).
//
// Steady polling costs a comparison against the per-flow cache of the last
// reported master and outstation addresses and one bit test per function
// code: nothing is allocated.

const protoDNP3 = "dnp3"

// DNP3-specific fact fields.
const (
	FieldDNP3Function    = "dnp3.function"
	FieldDNP3Location    = "dnp3.location"
	FieldDNP3IDCode      = "dnp3.id_code"
	FieldDNP3Conformance = "dnp3.conformance"
)

func init() {
	registerParser(protoDNP3, parseDNP3, []uint16{20000}, []uint16{20000})
	// CRC-16/DNP: polynomial 0x3D65, reflected (0xA6BC), complemented.
	for i := range dnp3CRCTable {
		crc := uint16(i)
		for j := 0; j < 8; j++ {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA6BC
			} else {
				crc >>= 1
			}
		}
		dnp3CRCTable[i] = crc
	}
}

var dnp3CRCTable [256]uint16

// dnp3CRC is the CRC of b as DNP3 stores it (little endian after b).
func dnp3CRC(b []byte) uint16 {
	var crc uint16
	for _, x := range b {
		crc = crc>>8 ^ dnp3CRCTable[byte(crc)^x]
	}
	return ^crc
}

// dnp3CRCOK checks block b followed by its two CRC octets.
func dnp3CRCOK(b []byte) bool {
	n := len(b) - 2
	return n >= 0 && dnp3CRC(b[:n]) == binary.LittleEndian.Uint16(b[n:])
}

// dnp3Functions names the application function codes of requests (IEEE 1815
// table 4-2), as "<code> <name>", with the behaviour class of the request.
var dnp3Functions = [...][2]string{
	0x00: {"0x00 confirm", "other"},
	0x01: {"0x01 read", "read"},
	0x02: {"0x02 write", "write"},
	0x03: {"0x03 select", "control"},
	0x04: {"0x04 operate", "control"},
	0x05: {"0x05 direct operate", "control"},
	0x06: {"0x06 direct operate no ack", "control"},
	0x07: {"0x07 immediate freeze", "control"},
	0x08: {"0x08 immediate freeze no ack", "control"},
	0x09: {"0x09 freeze and clear", "control"},
	0x0a: {"0x0a freeze and clear no ack", "control"},
	0x0b: {"0x0b freeze with time", "control"},
	0x0c: {"0x0c freeze with time no ack", "control"},
	0x0d: {"0x0d cold restart", "control"},
	0x0e: {"0x0e warm restart", "control"},
	0x0f: {"0x0f initialize data", "control"},
	0x10: {"0x10 initialize application", "control"},
	0x11: {"0x11 start application", "control"},
	0x12: {"0x12 stop application", "control"},
	0x13: {"0x13 save configuration", "program"},
	0x14: {"0x14 enable unsolicited", "other"},
	0x15: {"0x15 disable unsolicited", "other"},
	0x16: {"0x16 assign class", "write"},
	0x17: {"0x17 delay measurement", "diagnostic"},
	0x18: {"0x18 record current time", "other"},
	0x19: {"0x19 open file", "other"},
	0x1a: {"0x1a close file", "other"},
	0x1b: {"0x1b delete file", "write"},
	0x1c: {"0x1c get file info", "read"},
	0x1d: {"0x1d authenticate file", "other"},
	0x1e: {"0x1e abort file", "other"},
	0x1f: {"0x1f activate config", "program"},
	0x20: {"0x20 authentication request", "other"},
	0x21: {"0x21 authentication request no ack", "other"},
}

// Bits of the flow's seen set: 0..0x21 function codes, and these flags.
const (
	dnp3BitMaster     = 254 // appState.u32 low half holds a reported master address
	dnp3BitOutstation = 255 // appState.u32 high half holds a reported outstation address
	dnp3OnceKind      = 0xd3
)

// parseDNP3 walks the link frames of one segment or datagram.
func parseDNP3(c *appCtx, p []byte) {
	for n := 0; n < 64 && len(p) >= 10; n++ {
		if p[0] != 0x05 || p[1] != 0x64 {
			if n == 0 {
				c.malformed()
			}
			return
		}
		ln := int(p[2])
		if ln < 5 {
			c.malformed()
			return
		}
		data := ln - 5
		size := 10 + data + 2*((data+15)/16)
		whole := size <= len(p)
		if whole {
			dnp3Frame(c, p[:size], data)
			p = p[size:]
			continue
		}
		dnp3Frame(c, p, data) // cut: the header and the first blocks are still good
		return
	}
}

// dnp3Frame handles one link frame (possibly cut after its first blocks).
func dnp3Frame(c *appCtx, f []byte, data int) {
	ctrl := f[3]
	src := binary.LittleEndian.Uint16(f[6:])
	fromMaster := ctrl&0x80 != 0
	st := c.state()
	if src < 0xfff0 && !dnp3Known(st, fromMaster, src) {
		if !dnp3CRCOK(f[:10]) {
			c.malformed()
			return
		}
		dnp3Address(c, st, fromMaster, src)
	}
	if data < 3 || len(f) < 13 {
		return
	}
	if f[10]&0x40 == 0 { // transport FIR: only the first fragment has the application header
		return
	}
	fc := f[12]
	if fromMaster {
		if int(fc) < len(dnp3Functions) && c.once(fc) {
			if !dnp3CRCOK(f[10:dnp3FirstBlockEnd(f, data)]) {
				c.malformed()
				return
			}
			fn := &dnp3Functions[fc]
			c.factDetail(c.sender(), FieldDNP3Function, fn[0], fn[1], protoDNP3)
		}
		return
	}
	// outstation response (0x81) or unsolicited response (0x82) whose
	// first object is group 0 (device attributes)
	if (fc == 0x81 || fc == 0x82) && data >= 8 && len(f) >= 18 && f[15] == 0 && f[16] >= 240 {
		dnp3Attributes(c, f, data)
	}
}

// dnp3FirstBlockEnd is the end (CRC included) of the first user-data block.
func dnp3FirstBlockEnd(f []byte, data int) int {
	n := data
	if n > 16 {
		n = 16
	}
	end := 10 + n + 2
	if end > len(f) {
		end = len(f)
	}
	return end
}

// dnp3Known reports whether src was the last address reported for its side
// of the flow.
func dnp3Known(st *appState, fromMaster bool, src uint16) bool {
	if fromMaster {
		return st.seen[dnp3BitMaster/64]&(1<<(dnp3BitMaster%64)) != 0 && uint16(st.u32) == src
	}
	return st.seen[dnp3BitOutstation/64]&(1<<(dnp3BitOutstation%64)) != 0 && uint16(st.u32>>16) == src
}

// dnp3Address reports a link address (and the role it proves) once per host.
func dnp3Address(c *appCtx, st *appState, fromMaster bool, src uint16) {
	if fromMaster {
		st.seen[dnp3BitMaster/64] |= 1 << (dnp3BitMaster % 64)
		st.u32 = st.u32&0xffff0000 | uint32(src)
	} else {
		st.seen[dnp3BitOutstation/64] |= 1 << (dnp3BitOutstation % 64)
		st.u32 = st.u32&0xffff | uint32(src)<<16
	}
	c.identify(protoDNP3)
	ep := c.sender()
	id := uint64(src)
	if fromMaster {
		id |= 1 << 16
	}
	if !c.d.once(onceKey{mac: ep.MAC, ip: ep.IP, kind: dnp3OnceKind, id: id}) {
		return
	}
	addr := strconv.Itoa(int(src))
	c.fact(ep, model.FieldDNP3Address, addr, protoDNP3)
	if fromMaster {
		c.factDetail(ep, model.FieldRole, model.RoleSCADA, "DNP3 master (sends requests with DIR=1 from link address "+addr+")", protoDNP3)
	} else {
		c.factDetail(ep, model.FieldRole, model.RoleRTU, "DNP3 outstation (answers with DIR=0 from link address "+addr+")", protoDNP3)
	}
}

// dnp3Attributes de-blocks a response fragment (checking every block CRC)
// and reports the group 0 device attributes it carries.
func dnp3Attributes(c *appCtx, f []byte, data int) {
	var buf [250]byte
	n := 0
	for off := 10; data > 0 && n < len(buf); {
		blk := data
		if blk > 16 {
			blk = 16
		}
		if off+blk+2 > len(f) {
			break // cut: use the complete blocks
		}
		if !dnp3CRCOK(f[off : off+blk+2]) {
			c.malformed()
			return
		}
		n += copy(buf[n:], f[off:off+blk])
		off += blk + 2
		data -= blk
	}
	dnp3AttrObjects(c, buf[:n])
}

// dnp3AttrFields maps group 0 variations (IEEE 1815-2012 table 11-... device
// attributes) to fact fields.
func dnp3AttrField(v byte) string {
	switch v {
	case 242:
		return model.FieldFirmware // device manufacturer's software version
	case 243:
		return model.FieldHardwareVersion
	case 245:
		return FieldDNP3Location // user-assigned location name
	case 246:
		return FieldDNP3IDCode // user-assigned ID code/number
	case 247:
		return model.FieldStationName // user-assigned device name
	case 248:
		return model.FieldSerial
	case 249:
		return FieldDNP3Conformance // DNP3 subset and conformance
	case 250:
		return model.FieldProduct // device manufacturer's product name and model
	case 252:
		return model.FieldVendor // device manufacturer's name
	}
	return ""
}

// dnp3AttrObjects reads the application data of a response (transport
// header, application control, function, IIN, objects) while the objects
// are group 0 attributes.
func dnp3AttrObjects(c *appCtx, a []byte) {
	if len(a) < 5 {
		return
	}
	a = a[5:]
	ep := c.sender()
	for k := 0; k < 32 && len(a) >= 3; k++ {
		if a[0] != 0 {
			return
		}
		v, q := a[1], a[2]
		a = a[3:]
		prefix := 0
		switch q {
		case 0x00: // 1-octet start, stop
			if len(a) < 2 || a[0] != a[1] {
				return
			}
			a = a[2:]
		case 0x01:
			if len(a) < 4 || a[0] != a[2] || a[1] != a[3] {
				return
			}
			a = a[4:]
		case 0x17: // 1-octet count, 1-octet index prefix
			if len(a) < 1 || a[0] != 1 {
				return
			}
			a, prefix = a[1:], 1
		case 0x28:
			if len(a) < 2 || a[0] != 1 || a[1] != 0 {
				return
			}
			a, prefix = a[2:], 2
		default:
			return
		}
		if len(a) < prefix+2 {
			c.malformed()
			return
		}
		a = a[prefix:]
		typ, ln := a[0], int(a[1])
		a = a[2:]
		if ln > len(a) {
			c.malformed()
			return
		}
		val := a[:ln]
		a = a[ln:]
		field := dnp3AttrField(v)
		if field == "" {
			continue
		}
		var s string
		switch typ {
		case 1: // VSTR
			s = cleanText(val)
		case 2: // UINT
			if ln >= 1 && ln <= 4 {
				var u uint32
				for i := ln - 1; i >= 0; i-- {
					u = u<<8 | uint32(val[i])
				}
				s = strconv.FormatUint(uint64(u), 10)
			}
		}
		c.fact(ep, field, s, protoDNP3)
	}
}
