package decode

import (
	"encoding/binary"
	"encoding/hex"
	"strconv"

	"otscope/model"
)

// HART-IP (TCP/UDP 5094, HCF_SPEC-085).
//
// A message is an 8-octet header (version, message type 0 request / 1
// response / 2 publish / 3 error / 15 NAK, message id 0 session initiate,
// 1 close, 2 keep alive, 3 token-passing PDU, status, sequence number, byte
// count of the whole message, big endian) and a body. A token-passing PDU
// is a HART frame without preambles: delimiter (0x80: long 5-octet
// address; frame type 2 STX request, 6 ACK response, 1 BACK burst;
// expansion octets in bits 5-6), address, command, byte count, [response
// code, device status], data, checksum.
//
// Facts: hart.function on the client for each HART command it sends, and
// from a command 0 (read unique identifier) response: vendor (HCF
// manufacturer id, with hart.manufacturer_id), hart.device_type (expanded
// device type), firmware (software revision), hardware_version, serial
// (device id) and hart.universal_revision. The first field device a
// HART-IP server answers for on a flow is the server itself; another
// device on the same flow is a device behind it (Sub "hart:<long address
// hex>"), and the server is then a protocol gateway.
// Polling (command 1, 3, 9) costs a bit test: nothing is allocated.

const protoHARTIP = "hart-ip"

// HART-specific fact fields.
const (
	FieldHARTFunction       = "hart.function"
	FieldHARTManufacturerID = "hart.manufacturer_id"
	FieldHARTDeviceType     = "hart.device_type"
	FieldHARTUniversalRev   = "hart.universal_revision"
)

func init() {
	registerParser(protoHARTIP, parseHARTIP, []uint16{5094}, []uint16{5094})
}

// hartVendors are HART manufacturer identification codes (HCF_SPEC-183,
// Common Tables, table 8 "Manufacturer Identification Codes"): the common
// ones only.
var hartVendors = map[uint16]string{
	0x01: "Acromag", 0x02: "Allen Bradley", 0x03: "Ametek", 0x04: "Analog Devices", 0x05: "Elsag Bailey",
	0x06: "Beckman", 0x07: "Bell Microsensor", 0x08: "Bourns", 0x09: "Bristol Babcock", 0x0a: "Brooks Instrument",
	0x0b: "Chessell", 0x0c: "Combustion Engineering", 0x0d: "Daniel Industries", 0x0e: "Delta", 0x0f: "Dieterich Standard",
	0x10: "Dohrmann", 0x11: "Endress+Hauser", 0x12: "Elsag Bailey", 0x13: "Fisher Controls", 0x14: "Foxboro",
	0x15: "Fuji", 0x16: "ABB Automation", 0x17: "Honeywell", 0x18: "ITT Barton", 0x19: "Kay Ray/Sensall",
	0x1a: "ABB", 0x1b: "Leeds & Northrup", 0x1c: "Leslie", 0x1d: "M-System", 0x1e: "Measurex",
	0x1f: "Micro Motion", 0x20: "Moore Industries", 0x21: "Moore Products", 0x22: "Ohkura Electric", 0x23: "Paine",
	0x24: "Rochester Instrument Systems", 0x25: "Ronan", 0x26: "Rosemount", 0x27: "Peek Measurement", 0x28: "Schlumberger",
	0x29: "Sensall", 0x2a: "Siemens", 0x2b: "Weed", 0x2c: "Toshiba", 0x2d: "Transmation",
	0x2e: "Rosemount Analytical", 0x2f: "Metso Automation", 0x30: "Flowserve", 0x31: "Varec", 0x32: "Viatran",
	0x33: "Delta/Weed", 0x34: "Westinghouse", 0x35: "Xomox", 0x36: "Yamatake", 0x37: "Yokogawa",
	0x38: "Nuovo Pignone", 0x39: "Promac", 0x3a: "Exac", 0x3b: "Mobrey", 0x3c: "Arcom Control Systems",
	0x3d: "Princo", 0x3e: "Smar", 0x3f: "Foxboro Eckardt", 0x40: "Measurement Technology", 0x41: "Applied System Technologies",
	0x42: "Samson", 0x43: "Sparling Instruments", 0x44: "Fireye", 0x45: "Krohne", 0x46: "Betz",
	0x47: "Druck", 0x48: "SOR", 0x49: "Elcon Instruments", 0x4a: "EMCO", 0x4b: "Termiflex",
	0x4c: "VAF Instruments", 0x4d: "Westlock Controls", 0x4e: "Drexelbrook", 0x4f: "Kübler",
	0x60: "Thermo MeasureTech", 0x62: "VEGA", 0x63: "Magnetrol",
}

// hartCommandBehaviour classes the universal and common-practice commands.
func hartCommandBehaviour(cmd byte) string {
	switch cmd {
	case 0, 11, 20, 21:
		return "identify"
	case 1, 2, 3, 7, 8, 9, 12, 13, 14, 15, 16, 33, 48, 50, 54:
		return "read"
	case 6, 17, 18, 19, 22, 34, 35, 36, 37, 38, 44, 47, 49, 51, 53:
		return "write"
	case 40, 42, 43, 45, 46:
		return "control"
	case 41:
		return "diagnostic"
	}
	return "other"
}

const (
	hartBitFirst  = 255 // ids set: appState.u32 holds the flow's first device id
	hartBitRouter = 254 // ids set: gateway role reported
)

func parseHARTIP(c *appCtx, p []byte) {
	for n := 0; n < 32 && len(p) >= 8; n++ {
		if p[0] < 1 || p[0] > 2 || p[1] > 15 {
			if n == 0 {
				c.malformed()
			}
			return
		}
		ln := int(binary.BigEndian.Uint16(p[6:]))
		if ln < 8 {
			c.malformed()
			return
		}
		end := ln
		if end > len(p) {
			end = len(p)
		}
		c.identify(protoHARTIP)
		if p[2] == 3 && (p[1] == 0 || p[1] == 1) {
			hartPDU(c, p[8:end], p[1] == 1)
		}
		p = p[end:]
	}
}

func hartPDU(c *appCtx, b []byte, resp bool) {
	if len(b) < 4 {
		return
	}
	d := b[0]
	alen := 1
	if d&0x80 != 0 {
		alen = 5
	}
	hdr := 1 + alen + int(d>>5&3)
	if len(b) < hdr+2 {
		c.malformed()
		return
	}
	addr := b[1 : 1+alen]
	cmd := b[hdr]
	bc := int(b[hdr+1])
	data := b[hdr+2:]
	if bc < len(data) {
		data = data[:bc]
	}
	ft := d & 7
	if !resp && ft == 2 {
		if c.once(cmd) {
			var v [12]byte
			c.factDetail(c.sender(), FieldHARTFunction, string(strconv.AppendUint(v[:0], uint64(cmd), 10))+" "+hartCommandName(cmd), hartCommandBehaviour(cmd), protoHARTIP)
		}
		return
	}
	if cmd != 0 || ft != 6 || len(data) < 2+12 || data[0]&0x80 != 0 {
		return // not a successful command 0 response
	}
	hartIdentity(c, addr, data[2:])
}

func hartCommandName(cmd byte) string {
	switch cmd {
	case 0:
		return "read unique identifier"
	case 1:
		return "read primary variable"
	case 2:
		return "read loop current and percent of range"
	case 3:
		return "read dynamic variables and loop current"
	case 6:
		return "write polling address"
	case 9:
		return "read device variables with status"
	case 11:
		return "read unique identifier by tag"
	case 12:
		return "read message"
	case 13:
		return "read tag, descriptor, date"
	case 17:
		return "write message"
	case 18:
		return "write tag, descriptor, date"
	case 20:
		return "read long tag"
	case 22:
		return "write long tag"
	case 38:
		return "reset configuration changed flag"
	case 42:
		return "perform device reset"
	case 48:
		return "read additional device status"
	}
	return "command"
}

// hartIdentity reads a command 0 response payload (after the status octets).
func hartIdentity(c *appCtx, addr, r []byte) {
	if r[0] != 254 {
		return
	}
	univ := r[4]
	devID := uint32(r[9])<<16 | uint32(r[10])<<8 | uint32(r[11])
	var mfr, devType uint16
	if univ >= 7 && len(r) >= 19 {
		devType = binary.BigEndian.Uint16(r[1:])
		mfr = binary.BigEndian.Uint16(r[17:])
	} else {
		mfr, devType = uint16(r[1]), uint16(r[1])<<8|uint16(r[2])
	}
	// the device's long address: expanded device type (top two bits are the
	// master and burst flags) and device id
	var la [5]byte
	binary.BigEndian.PutUint16(la[:], devType&0x3fff)
	la[2], la[3], la[4] = r[9], r[10], r[11]
	if len(addr) == 5 {
		copy(la[:], addr)
		la[0] &= 0x3f
	}
	st := c.state()
	ep := c.sender()
	switch {
	case st.ids[hartBitFirst/64]&(1<<(hartBitFirst%64)) == 0:
		st.ids[hartBitFirst/64] |= 1 << (hartBitFirst % 64)
		st.u32 = devID
	case st.u32 == devID:
	default:
		if c.onceID(hartBitRouter) {
			c.factDetail(ep, model.FieldRole, model.RoleIndustrialGateway, "HART-IP server answers for several HART devices", protoHARTIP)
		}
		ep.Sub = "hart:" + hex.EncodeToString(la[:])
	}
	if !c.d.once(onceKey{mac: ep.MAC, ip: ep.IP, kind: 0x5094, id: uint64(la[0])<<32 | uint64(la[1])<<24 | uint64(devID)}) {
		return
	}
	c.fact(ep, FieldHARTManufacturerID, strconv.Itoa(int(mfr)), protoHARTIP)
	if name, ok := hartVendors[mfr]; ok {
		c.fact(ep, model.FieldVendor, name, protoHARTIP)
	}
	c.fact(ep, FieldHARTDeviceType, "0x"+hex.EncodeToString([]byte{byte(devType >> 8), byte(devType)}), protoHARTIP)
	c.fact(ep, FieldHARTUniversalRev, strconv.Itoa(int(univ)), protoHARTIP)
	c.fact(ep, model.FieldFirmware, strconv.Itoa(int(r[6])), protoHARTIP)
	c.fact(ep, model.FieldHardwareVersion, strconv.Itoa(int(r[7]>>3)), protoHARTIP)
	c.fact(ep, model.FieldSerial, strconv.FormatUint(uint64(devID), 10), protoHARTIP)
}
