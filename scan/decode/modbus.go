package decode

import (
	"encoding/binary"
	"strconv"

	"otscope/model"
)

// Modbus/TCP (Modbus Application Protocol Specification V1.1b3, and the
// Modbus Messaging on TCP/IP Implementation Guide V1.0b).
//
// Every Modbus/TCP ADU starts with the 7-byte MBAP header: transaction id,
// protocol id (0), length (unit id + PDU) and unit id. A segment may carry
// several ADUs back to back (pipelining masters); an ADU cut by the segment
// end is skipped.
//
// What the parser proves:
//   - on the server (the sender of a response): the unit ids it answers for
//     (modbus.unit_id), the FC 43/14 device identification objects and the
//     FC 17 report-server-id answer;
//   - on the client (the sender of a request): each function code it uses,
//     as modbus.function "0x03 read holding registers" with a category
//     (read, write, diagnostic, program, control, identify, other).
//
// The common case, cyclic FC 3/4 polling, is decided from the MBAP header
// and the function code: a unit id and a function code already reported on
// the flow cost two bit tests and no allocation.

const protoModbus = "modbus"

// Modbus-specific fact fields.
const (
	FieldModbusServerID        = "modbus.server_id"
	FieldModbusVendorURL       = "modbus.vendor_url"
	FieldModbusModelName       = "modbus.model_name"
	FieldModbusUserApplication = "modbus.user_application_name"
)

func init() { registerParser(protoModbus, parseModbus, []uint16{502}, nil) }

// mbMaxADUs bounds the ADUs read from one segment.
const mbMaxADUs = 64

func parseModbus(c *appCtx, p []byte) {
	// The Modbus server is the side on port 502, whoever opened the TCP
	// connection (some devices connect out from 502 and then answer);
	// a prober's exchange knows its server, whatever port it answers on.
	fromServer := c.sp == 502
	if c.sp == c.dp || c.f.probed {
		fromServer = c.fromServer()
	}
	for n := 0; n < mbMaxADUs && len(p) > 0; n++ {
		if len(p) < 8 {
			if n == 0 {
				c.malformed()
			}
			return
		}
		l := int(binary.BigEndian.Uint16(p[4:6]))
		if p[2] != 0 || p[3] != 0 || l < 2 || l > 254 {
			// not Modbus/TCP (another protocol on 502) or a corrupt header
			c.malformed()
			return
		}
		if 6+l > len(p) {
			return // cut by the segment end
		}
		c.identify(protoModbus)
		adu := p[7 : 6+l] // PDU: function code and data
		unit := p[6]
		if fromServer {
			modbusResponse(c, unit, adu)
		} else {
			modbusRequest(c, adu)
		}
		p = p[6+l:]
	}
}

// modbusRequest records the function code a client uses, once per flow.
func modbusRequest(c *appCtx, pdu []byte) {
	fc := pdu[0]
	if fc&0x80 != 0 {
		return // exception codes come from servers
	}
	bit := fc
	if fc == 43 && len(pdu) > 1 {
		// MEI types share FC 43: 14 = read device id, 13 = CANopen
		if pdu[1] == 13 {
			bit = 128 + 13
		} else if pdu[1] == 14 {
			bit = 128 + 14
		}
	}
	if !c.once(bit) {
		return
	}
	name, cat := modbusFunction(fc, pdu)
	c.factDetail(c.sender(), model.FieldModbusFunction, "0x"+mbHex2(fc)+" "+name, cat, protoModbus)
}

// modbusResponse records what a server proves about itself.
func modbusResponse(c *appCtx, unit byte, pdu []byte) {
	if c.onceID(unit) {
		c.fact(c.sender(), model.FieldModbusUnitID, strconv.Itoa(int(unit)), protoModbus)
	}
	switch pdu[0] {
	case 43:
		if len(pdu) > 1 && pdu[1] == 14 {
			modbusDeviceID(c, pdu[2:])
		}
	case 17:
		modbusServerID(c, pdu[1:])
	}
}

// modbusFunction names a function code and its category.
func modbusFunction(fc byte, pdu []byte) (name, category string) {
	switch fc {
	case 1:
		return "read coils", "read"
	case 2:
		return "read discrete inputs", "read"
	case 3:
		return "read holding registers", "read"
	case 4:
		return "read input registers", "read"
	case 5:
		return "write single coil", "write"
	case 6:
		return "write single register", "write"
	case 7:
		return "read exception status", "diagnostic"
	case 8:
		return "diagnostics", "diagnostic"
	case 9:
		return "program (484)", "program"
	case 10:
		return "poll (484)", "program"
	case 11:
		return "get comm event counter", "diagnostic"
	case 12:
		return "get comm event log", "diagnostic"
	case 13:
		return "program (584/984)", "program"
	case 14:
		return "poll (584/984)", "program"
	case 15:
		return "write multiple coils", "write"
	case 16:
		return "write multiple registers", "write"
	case 17:
		return "report server id", "identify"
	case 18:
		return "program (884/u84)", "program"
	case 19:
		return "reset comm link (884/u84)", "control"
	case 20:
		return "read file record", "program"
	case 21:
		return "write file record", "program"
	case 22:
		return "mask write register", "write"
	case 23:
		return "read/write multiple registers", "write"
	case 24:
		return "read fifo queue", "read"
	case 40:
		return "program (concept)", "program"
	case 43:
		if len(pdu) > 1 {
			switch pdu[1] {
			case 14:
				return "read device identification", "identify"
			case 13:
				return "canopen general reference", "other"
			}
		}
		return "encapsulated interface transport", "other"
	case 90:
		return "umas (schneider unity)", "program"
	case 91:
		return "vendor program (91)", "program"
	case 125:
		return "firmware replacement", "program"
	case 126:
		return "program (584/984)", "program"
	case 127:
		return "report local address", "diagnostic"
	}
	if (fc >= 65 && fc <= 72) || (fc >= 100 && fc <= 110) {
		return "user defined", "other"
	}
	return "unknown", "other"
}

// modbusDeviceID reads a Read Device Identification response (MEI type
// 14) after the MEI type: read device id code, conformity level, more
// follows, next object id, number of objects, then id/length/value objects.
func modbusDeviceID(c *appCtx, b []byte) {
	if len(b) < 5 {
		c.malformed()
		return
	}
	n := int(b[4])
	off := 5
	ep := c.sender()
	for i := 0; i < n; i++ {
		if off+2 > len(b) {
			c.malformed()
			return
		}
		id, l := b[off], int(b[off+1])
		off += 2
		if off+l > len(b) {
			c.malformed()
			return
		}
		v := cleanText(b[off : off+l])
		off += l
		if v == "" {
			continue
		}
		var field string
		switch id {
		case 0:
			field = model.FieldVendor
		case 1:
			field = model.FieldOrderNumber
		case 2:
			field = model.FieldFirmware
		case 3:
			field = FieldModbusVendorURL
		case 4:
			field = model.FieldProduct
		case 5:
			field = FieldModbusModelName
		case 6:
			field = FieldModbusUserApplication
		default:
			if id < 0x80 {
				continue // reserved
			}
			field = "modbus.device_id.0x" + mbHex2(id)
		}
		c.fact(ep, field, v, protoModbus)
	}
}

// modbusServerID reads a Report Server ID response: byte count, server id
// (device specific length), run indicator (0x00 off, 0xFF on), additional
// data. The common layout is a one-byte server id; the run indicator is
// taken only when the byte after it is 0x00 or 0xFF.
func modbusServerID(c *appCtx, b []byte) {
	if len(b) < 2 {
		c.malformed()
		return
	}
	n := int(b[0])
	if n == 0 || 1+n > len(b) {
		c.malformed()
		return
	}
	data := b[1 : 1+n]
	ep := c.sender()
	if n >= 2 && (data[1] == 0x00 || data[1] == 0xff) {
		mode := "STOP"
		if data[1] == 0xff {
			mode = "RUN"
		}
		c.factDetail(ep, model.FieldOperatingMode, mode, "modbus report server id run indicator", protoModbus)
		v := "0x" + mbHex2(data[0])
		if extra := modbusText(data[2:]); extra != "" {
			v += " " + extra
		}
		c.fact(ep, FieldModbusServerID, v, protoModbus)
		return
	}
	if v := modbusText(data); v != "" {
		c.fact(ep, FieldModbusServerID, v, protoModbus)
	}
}

// modbusText shows device-specific bytes: as text when they are printable,
// else as hex (at most 32 bytes).
func modbusText(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	printable := 0
	for _, x := range b {
		if x >= 0x20 && x < 0x7f {
			printable++
		} else if x != 0 {
			printable -= 4
		}
	}
	if printable >= 3 {
		return cleanText(b)
	}
	if len(b) > 32 {
		b = b[:32]
	}
	out := make([]byte, 0, 2+2*len(b))
	out = append(out, '0', 'x')
	for _, x := range b {
		out = append(out, mbHex2(x)...)
	}
	return string(out)
}

func mbHex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&0xf]})
}
