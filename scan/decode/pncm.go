package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"otscope/model"
)

// PROFINET IO context management (IO-CM): DCE/RPC over UDP 34964.
//
// A controller (or supervisor) sets up an application relation (AR) with a
// device by a Connect call. The PNIO blocks of the call identify both ends:
//
//	ARBlockReq (0x0101)      in the request: AR type, the initiator's MAC,
//	                         object UUID (its vendor and device id) and its
//	                         name of station (CMInitiatorStationName)
//	ARBlockRes (0x8101)      in the device's response: the AR was accepted
//	ARServerBlock (0x8106)   in the device's response: its name of station
//	IODReadResHeader (0x8009) + I&M0 (0x0020) in a Read response: order id,
//	                         serial, hardware and software revision of the
//	                         submodule the read addressed
//
// The DCE/RPC header is 80 bytes; its integers follow the data
// representation (drep) byte, the PNIO blocks are always big-endian. Only
// the first fragment of a call is read: later fragments do not start on a
// block boundary.

const pnCMPort = 34964

func init() {
	registerParser("pn-cm", parsePNCM, nil, []uint16{pnCMPort})
}

// pnExpectParser returns the parser for a new UDP flow that no port
// registered: PROFINET IO-CM when one end is a controller's port that sent
// a call to UDP 34964 (the device answers, and the AR continues, between
// that port and an ephemeral port of the device). The flow table calls it
// for UDP flows whose ports chose no parser; it costs one map lookup per
// new flow.
func pnExpectParser(d *Decoder, a, b netip.Addr, pa, pb uint16) uint8 {
	if len(d.onceSet) == 0 {
		return 0
	}
	if _, ok := d.onceSet[onceKey{ip: a, kind: onceKindPNExpect, id: uint64(pa)}]; !ok {
		if _, ok := d.onceSet[onceKey{ip: b, kind: onceKindPNExpect, id: uint64(pb)}]; !ok {
			return 0
		}
	}
	return udpPorts[pnCMPort]
}

const (
	dcerpcHeaderLen = 80
	pnioArgsLen     = 20 // ArgsMaximum/PNIOStatus, ArgsLength, MaximumCount, Offset, ActualCount
)

// pnObjectPrefix is the PNIO object UUID DEA00000-6C97-11D1-8271 in block
// (big-endian) order; its last six bytes are instance, device id, vendor id.
var pnObjectPrefix = [10]byte{0xde, 0xa0, 0x00, 0x00, 0x6c, 0x97, 0x11, 0xd1, 0x82, 0x71}

// pnOpnums names the IO-CM operations and the kind of function they are.
var pnOpnums = [6]struct{ name, kind string }{
	{"0 connect", "control"},
	{"1 release", "control"},
	{"2 read", "read"},
	{"3 write", "write"},
	{"4 control", "control"},
	{"5 read implicit", "read"},
}

// parsePNCM parses one IO-CM datagram (or a DCP PDU sent over UDP).
func parsePNCM(c *appCtx, p []byte) {
	if len(p) >= 12 && p[0] == 0xfe && p[1] >= 0xfc {
		pnDCP(c.d, c.fi, p)
		return
	}
	if len(p) < dcerpcHeaderLen || p[0] != 4 {
		c.malformed()
		return
	}
	ptype := p[1]
	var bo binary.ByteOrder = binary.BigEndian
	if p[4]&0x10 != 0 {
		bo = binary.LittleEndian
	}
	// the interface UUID DEA0000x-6C97-11D1-8271-00A02442DF7D: x is 1 for
	// the device interface, 2 controller, 3 supervisor, 4 parameter server
	if bo.Uint32(p[24:])&0xfffffff0 != 0xdea00000 || bo.Uint16(p[28:]) != 0x6c97 {
		return
	}
	ifc := byte(bo.Uint32(p[24:]) & 0xf)
	opnum := bo.Uint16(p[68:])
	if ptype == 0 && c.dp == pnCMPort {
		// the device answers from a port of its own, and the rest of the
		// AR's calls use that port: expect the controller's port
		c.d.once(onceKey{ip: c.src, kind: onceKindPNExpect, id: uint64(c.sp)})
	}
	if bo.Uint16(p[76:]) != 0 { // not the first fragment
		return
	}
	c.identify(protoPNCM)
	body := p[dcerpcHeaderLen:]
	if n := int(bo.Uint16(p[74:])); n < len(body) {
		body = body[:n]
	}
	switch ptype {
	case 0: // request
		if ifc == 1 && opnum < uint16(len(pnOpnums)) && c.once(uint8(opnum)) {
			op := pnOpnums[opnum]
			c.factDetail(c.sender(), fieldPNFunction, op.name, op.kind, protoPNCM)
		}
		if len(body) >= pnioArgsLen {
			pnBlocks(c, body[pnioArgsLen:], p, bo, opnum, ifc, false)
		}
	case 2: // response
		if len(body) < pnioArgsLen || binary.BigEndian.Uint32(body) != 0 { // PNIOStatus: error
			return
		}
		pnBlocks(c, body[pnioArgsLen:], p, bo, opnum, ifc, true)
	}
}

// pnBlocks walks the PNIO blocks of a call.
func pnBlocks(c *appCtx, b, hdr []byte, bo binary.ByteOrder, opnum uint16, ifc byte, response bool) {
	slot, index := -1, -1 // of the last IODReadResHeader
	for len(b) >= 6 {
		typ := binary.BigEndian.Uint16(b)
		l := int(binary.BigEndian.Uint16(b[2:]))
		if l < 2 || 4+l > len(b) {
			return // a block cut by the end of the fragment
		}
		blk := b[:4+l]
		b = b[4+l:]
		switch {
		case typ == 0x0101 && !response:
			pnARBlockReq(c, blk)
		case typ == 0x8101 && response && opnum == 0 && ifc == 1:
			pnARBlockRes(c, hdr, bo)
		case typ == 0x8106 && response:
			if len(blk) >= 8 {
				n := int(binary.BigEndian.Uint16(blk[6:]))
				if 8+n <= len(blk) {
					pnStationName(c, blk[8:8+n], "ARServerBlock")
				}
			}
		case typ == 0x8009 && response && len(blk) >= 36:
			slot = int(binary.BigEndian.Uint16(blk[28:]))
			index = int(binary.BigEndian.Uint16(blk[34:]))
		case typ == 0x0020 && response && index == 0xaff0:
			pnIM0(c, blk, slot)
		}
	}
}

// pnARBlockReq: the sender of a Connect request names itself.
func pnARBlockReq(c *appCtx, blk []byte) {
	if len(blk) < 58 {
		c.malformed()
		return
	}
	n := int(binary.BigEndian.Uint16(blk[56:]))
	if 58+n > len(blk) {
		c.malformed()
		return
	}
	name := blk[58 : 58+n]
	arType := binary.BigEndian.Uint16(blk[6:])
	obj := blk[32:48]
	h := hashBytes(blk[6:8])
	h = fnv1a(h, obj)
	h = fnv1a(h, name)
	src := c.sender()
	if !c.d.once(onceKey{mac: src.MAC, ip: src.IP, kind: onceKindPNCM, id: h}) {
		return
	}
	pnStationName(c, name, "CMInitiatorStationName")
	if [10]byte(obj[:10]) == pnObjectPrefix {
		if v, dev := binary.BigEndian.Uint16(obj[14:]), binary.BigEndian.Uint16(obj[12:]); v != 0 || dev != 0 {
			pnVendorFacts(c.d, src, v, dev, protoPNCM)
		}
	}
	c.fact(src, fieldPNARType, pnARTypeName(arType), protoPNCM)
	if arType == 0x0006 {
		pnRoleFacts(c.d, src, pnRoleSupervisor, "opens a supervisor AR", protoPNCM)
	} else {
		pnRoleFacts(c.d, src, pnRoleController, "opens an IO AR by an IO-CM connect request", protoPNCM)
	}
	dst := c.receiver()
	if dst.IP.IsValid() {
		c.factDetail(src, fieldPNIOPeer, dst.IP.String(), "IO-CM connect request to this device", protoPNCM)
	}
}

// pnARBlockRes: the sender accepted a Connect: it is an IO-Device, and the
// call's object UUID carries its vendor and device id.
func pnARBlockRes(c *appCtx, hdr []byte, bo binary.ByteOrder) {
	src := c.sender()
	if !c.d.once(onceKey{mac: src.MAC, ip: src.IP, kind: onceKindPNCM, id: 0x8101}) {
		return
	}
	pnRoleFacts(c.d, src, pnRoleDevice, "accepts IO-CM connect requests", protoPNCM)
	obj := hdr[8:24]
	if bo.Uint32(obj) == 0xdea00000 && bo.Uint16(obj[4:]) == 0x6c97 && bo.Uint16(obj[6:]) == 0x11d1 {
		if v, dev := binary.BigEndian.Uint16(obj[14:]), binary.BigEndian.Uint16(obj[12:]); v != 0 || dev != 0 {
			pnVendorFacts(c.d, src, v, dev, protoPNCM)
		}
	}
}

// pnStationName records a name of station the sender stated about itself.
func pnStationName(c *appCtx, raw []byte, block string) {
	name := cleanText(raw)
	if name == "" {
		return
	}
	src := c.sender()
	c.factDetail(src, model.FieldStationName, name, block, protoPNCM)
	c.fact(src, model.FieldHostname, name, protoPNCM)
}

// pnARTypeName names an AR type.
func pnARTypeName(t uint16) string {
	switch t {
	case 0x0001:
		return "IOCARSingle"
	case 0x0006:
		return "IOSAR"
	case 0x0010:
		return "IOCARSingle RT_CLASS_3"
	case 0x0020:
		return "IOCARSR"
	}
	return "0x" + pnHex16(t)
}

func pnHex16(v uint16) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[v>>12], digits[v>>8&15], digits[v>>4&15], digits[v&15]})
}

// pnIM0 records an I&M0 record: the device's identity when it describes
// slot 0 (the device access point), a module otherwise.
func pnIM0(c *appCtx, blk []byte, slot int) {
	// header(6) vendor(2) order(20) serial(16) hw(2) sw(4) revcount(2) ...
	if len(blk) < 50 {
		c.malformed()
		return
	}
	src := c.sender()
	h := hashBytes(blk[6:50])
	if !c.d.once(onceKey{mac: src.MAC, ip: src.IP, kind: onceKindPNCM, id: h ^ uint64(slot+1)}) {
		return
	}
	vendor := binary.BigEndian.Uint16(blk[6:])
	order := cleanText(blk[8:28])
	serial := cleanText(blk[28:44])
	hw := pnItoa(binary.BigEndian.Uint16(blk[44:]))
	fw := ""
	if p := blk[46]; p >= 'A' && p <= 'Z' {
		fw = string(p) + pnItoa(uint16(blk[47])) + "." + pnItoa(uint16(blk[48])) + "." + pnItoa(uint16(blk[49]))
	}
	if slot > 0 {
		c.fact(src, model.FieldModule, model.FormatModule(model.Module{
			Slot: slot, OrderNumber: order, Firmware: fw, Serial: serial,
		}), protoPNCM)
		return
	}
	c.fact(src, model.FieldOrderNumber, order, protoPNCM)
	c.fact(src, model.FieldSerial, serial, protoPNCM)
	c.fact(src, model.FieldHardwareVersion, hw, protoPNCM)
	c.fact(src, model.FieldFirmware, fw, protoPNCM)
	c.fact(src, model.FieldPNVendorID, pnItoa(vendor), protoPNCM)
	if name := pnVendorName(vendor); name != "" {
		c.factDetail(src, model.FieldVendor, name, "PROFINET vendor id "+pnItoa(vendor), protoPNCM)
	}
}

func pnItoa(v uint16) string { return strconv.Itoa(int(v)) }
