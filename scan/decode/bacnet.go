package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"otscope/model"
)

// BACnet: BACnet/IP (UDP 47808, BVLC), BACnet over Ethernet (802.2 LLC,
// DSAP 0x82) and MS/TP frames a Cimetrics sniffer wraps in SNAP frames.
//
// Layers, each length-checked:
//
//	BVLC   type 0x81, function, length; Forwarded-NPDU carries the original
//	       sender's address (the BBMD only relays); Read-BDT/FDT-Ack list
//	       the BBMD's peers
//	NPDU   version 1, control; DNET/DADR, SNET/SADR (the station behind a
//	       BACnet router that originated the message), hop count
//	APDU   I-Am (device instance, vendor id), ReadProperty-ACK and
//	       ReadPropertyMultiple-ACK on the Device object (names, vendor,
//	       model, firmware...), and the services clients ask for
//
// A station behind a router has no address of its own on this network: it
// is reported as model.Endpoint{router's IP/MAC, Sub: "bacnet-net<N>:<addr>"}
// (addr decimal for one-byte MS/TP/ARCNET addresses, colon-separated hex
// otherwise), which the inventory turns into an asset of its own.
//
// Polling (ReadProperty of present values) is the common case: requests
// cost one per-flow bit check, ACKs stop at the object type when it is not
// the Device object. Nothing is allocated until something new is found.

// BACnet fact fields besides model.FieldBACnet*.
const (
	fieldBACnetAppVersion   = "bacnet.application_software_version"
	fieldBACnetLocation     = "bacnet.location"
	fieldBACnetDescription  = "bacnet.description"
	fieldBACnetProtoVersion = "bacnet.protocol_version"
	fieldBACnetProtoRev     = "bacnet.protocol_revision"
	fieldBACnetSystemStatus = "bacnet.system_status"
	fieldBACnetVendorName   = "bacnet.vendor_name"
	fieldBACnetModelName    = "bacnet.model_name"
	fieldBACnetObjectName   = "bacnet.object_name"
	fieldBACnetMaxAPDU      = "bacnet.max_apdu"
	fieldBACnetSegmentation = "bacnet.segmentation"
	fieldBACnetBBMDPeer     = "bacnet.bbmd_peer"
	fieldBACnetFDTEntry     = "bacnet.foreign_device"
	fieldBACnetFunction     = "bacnet.function"
	fieldBACnetRouterNets   = "bacnet.router_to_network"

	protoBACnet = "bacnet"
)

const (
	onceKindBACnet uint16 = 0xbac0 + iota
	onceKindBACnetFunc
)

// bacnetWildcard is the device instance a client uses for "whatever device
// you are": a device that echoes it in an ACK has not said its instance.
const bacnetWildcard = 4194303

func init() {
	registerParser("bacnet", parseBACnetIP, nil, []uint16{47808})
	registerLLC(0x82, onBACnetLLC)
	// SNAP (DSAP 0xaa) is shared: keep a parser another file registered
	prev := llcSAPs[0xaa]
	registerLLC(0xaa, func(d *Decoder, fi *frameInfo) {
		if !onCimetricsMSTP(d, fi) && prev != nil {
			prev(d, fi)
		}
	})
}

// bacMsg is one BACnet message being decoded.
type bacMsg struct {
	d    *Decoder
	c    *appCtx        // nil on layer 2
	base model.Endpoint // the station that sent the NPDU on this network
	snet uint16         // source network of a routed message (0: local)
	sadr []byte
}

// parseBACnetIP parses one BVLC datagram.
func parseBACnetIP(c *appCtx, p []byte) {
	if len(p) < 4 || p[0] != 0x81 {
		c.malformed()
		return
	}
	n := int(binary.BigEndian.Uint16(p[2:]))
	if n < 4 || n > len(p) {
		c.malformed()
		return
	}
	p = p[:n]
	if p[1] == 0x0b {
		// Original-Broadcast-NPDU: the destination is a broadcast address,
		// whether the frame was a link-layer broadcast or routed
		c.d.markBroadcast(c.dst)
	}
	c.identify(protoBACnet)
	m := bacMsg{d: c.d, c: c, base: c.sender()}
	switch fn := p[1]; fn {
	case 0x0a, 0x0b, 0x09: // original unicast/broadcast, distribute-broadcast
		m.npdu(p[4:])
	case 0x04: // forwarded: the original source follows the header
		if len(p) < 10 {
			c.malformed()
			return
		}
		orig := netip.AddrFrom4([4]byte(p[4:8]))
		if orig != c.src {
			m.base = model.Endpoint{IP: orig, VLAN: c.fi.vlan}
		}
		m.npdu(p[10:])
	case 0x03, 0x07: // Read-BDT-Ack, Read-FDT-Ack
		bacnetTable(c, p[4:], fn == 0x03)
	case 0x01, 0x02, 0x05, 0x06, 0x08: // BDT/FDT management by a client
		if c.once(200 + fn) {
			c.factDetail(c.sender(), fieldBACnetFunction, "bvlc "+bvlcName(fn), bvlcKind(fn), protoBACnet)
		}
	}
}

func bvlcName(fn byte) string {
	switch fn {
	case 0x01:
		return "write-bdt"
	case 0x02:
		return "read-bdt"
	case 0x05:
		return "register-foreign-device"
	case 0x06:
		return "read-fdt"
	}
	return "delete-fdt-entry"
}

func bvlcKind(fn byte) string {
	switch fn {
	case 0x02, 0x06:
		return "read"
	case 0x05:
		return "other"
	}
	return "write"
}

// bacnetTable records the peers of a BBMD's broadcast distribution table or
// the foreign devices registered with it.
func bacnetTable(c *appCtx, b []byte, bdt bool) {
	src := c.sender()
	if !c.d.once(onceKey{mac: src.MAC, ip: src.IP, kind: onceKindBACnet, id: hashBytes(b) ^ 0xbd7}) {
		return
	}
	field := fieldBACnetBBMDPeer
	if !bdt {
		field = fieldBACnetFDTEntry
	}
	for i := 0; i+10 <= len(b) && i < 10*64; i += 10 {
		ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[i:i+4])), binary.BigEndian.Uint16(b[i+4:]))
		c.fact(src, field, ap.String(), protoBACnet)
	}
}

// onBACnetLLC parses BACnet over Ethernet: LLC 0x82 0x82 0x03, then the NPDU.
func onBACnetLLC(d *Decoder, fi *frameInfo) {
	p := fi.payload
	if len(p) < 3 || p[1] != 0x82 || p[2] != 0x03 || !fi.hasMAC || !fi.src.IsUnicast() {
		return
	}
	m := bacMsg{d: d, base: model.Endpoint{MAC: fi.src, VLAN: fi.vlan}}
	m.npdu(p[3:])
}

func (m *bacMsg) npdu(b []byte) {
	if len(b) < 2 || b[0] != 0x01 {
		m.bad()
		return
	}
	ctl := b[1]
	i := 2
	if ctl&0x20 != 0 { // DNET, DLEN, DADR
		if i+3 > len(b) {
			m.bad()
			return
		}
		i += 3 + int(b[i+2])
	}
	if ctl&0x08 != 0 { // SNET, SLEN, SADR
		if i+3 > len(b) {
			m.bad()
			return
		}
		m.snet = binary.BigEndian.Uint16(b[i:])
		sl := int(b[i+2])
		if sl == 0 || i+3+sl > len(b) || m.snet == 0 || m.snet == 0xffff {
			m.bad()
			return
		}
		m.sadr = b[i+3 : i+3+sl]
		i += 3 + sl
	}
	if ctl&0x20 != 0 {
		i++ // hop count
	}
	if i > len(b) {
		m.bad()
		return
	}
	b = b[i:]
	if ctl&0x80 != 0 {
		m.network(b)
		return
	}
	m.apdu(b)
}

func (m *bacMsg) bad() { m.d.stats.DecodeErrors++ }

// key is the once key of something the message's source said, identified
// by the bytes in b.
func (m *bacMsg) key(kind uint16, b []byte) onceKey {
	h := hashBytes(b)
	if m.snet != 0 {
		h = fnv1a(h, []byte{byte(m.snet >> 8), byte(m.snet)})
		h = fnv1a(h, m.sadr)
	}
	return onceKey{mac: m.base.MAC, ip: m.base.IP, kind: kind, id: h}
}

// src is the endpoint of the station that originated the message: the
// sender itself, or a station behind the router that sent it.
func (m *bacMsg) src() model.Endpoint {
	ep := m.base
	if m.snet != 0 {
		ep.Sub = "bacnet-net" + strconv.Itoa(int(m.snet)) + ":" + bacnetAddr(m.sadr)
	}
	return ep
}

// bacnetAddr renders a station address: one byte (MS/TP, ARCNET) in
// decimal, longer ones (BACnet/IP, Ethernet) as colon-separated hex.
func bacnetAddr(a []byte) string {
	if len(a) == 1 {
		return strconv.Itoa(int(a[0]))
	}
	const hex = "0123456789abcdef"
	out := make([]byte, 0, 3*len(a))
	for i, c := range a {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

// network handles network-layer messages: a router announcing the
// networks it reaches.
func (m *bacMsg) network(b []byte) {
	if len(b) < 1 || b[0] != 0x01 { // I-Am-Router-To-Network
		return
	}
	if !m.d.once(m.key(onceKindBACnet, b)) {
		return
	}
	src := m.src()
	for i := 1; i+2 <= len(b) && i < 1+2*64; i += 2 {
		m.d.factDetail(src, fieldBACnetRouterNets, strconv.Itoa(int(binary.BigEndian.Uint16(b[i:]))),
			"BACnet router (I-Am-Router-To-Network)", protoBACnet)
	}
}

// function records a service a client asked for, once per flow (or per
// station on layer 2).
func (m *bacMsg) function(bit uint8, name, kind string) {
	if m.c != nil {
		if !m.c.once(bit) {
			return
		}
	} else if !m.d.once(onceKey{mac: m.base.MAC, kind: onceKindBACnetFunc, id: uint64(bit)}) {
		return
	}
	m.d.factDetail(m.src(), fieldBACnetFunction, name, kind, protoBACnet)
}

// BACnet confirmed services: name and the kind of function.
var bacConfirmed = map[byte][2]string{
	0:  {"0 acknowledge-alarm", "other"},
	1:  {"1 confirmed-cov-notification", "other"},
	2:  {"2 confirmed-event-notification", "other"},
	3:  {"3 get-alarm-summary", "read"},
	4:  {"4 get-enrollment-summary", "read"},
	5:  {"5 subscribe-cov", "read"},
	6:  {"6 atomic-read-file", "read"},
	7:  {"7 atomic-write-file", "program"},
	8:  {"8 add-list-element", "write"},
	9:  {"9 remove-list-element", "write"},
	10: {"10 create-object", "write"},
	11: {"11 delete-object", "write"},
	12: {"12 read-property", "read"},
	14: {"14 read-property-multiple", "read"},
	15: {"15 write-property", "write"},
	16: {"16 write-property-multiple", "write"},
	17: {"17 device-communication-control", "control"},
	18: {"18 confirmed-private-transfer", "other"},
	19: {"19 confirmed-text-message", "other"},
	20: {"20 reinitialize-device", "control"},
	21: {"21 vt-open", "other"},
	22: {"22 vt-close", "other"},
	23: {"23 vt-data", "other"},
	26: {"26 read-range", "read"},
	27: {"27 life-safety-operation", "control"},
	28: {"28 subscribe-cov-property", "read"},
	29: {"29 get-event-information", "read"},
	30: {"30 subscribe-cov-property-multiple", "read"},
}

// BACnet unconfirmed services clients send (I-Am, I-Have and notifications
// are a device's own).
var bacUnconfirmed = map[byte][2]string{
	4:  {"4 unconfirmed-private-transfer", "other"},
	5:  {"5 unconfirmed-text-message", "other"},
	6:  {"6 time-synchronization", "control"},
	7:  {"7 who-has", "identify"},
	8:  {"8 who-is", "identify"},
	9:  {"9 utc-time-synchronization", "control"},
	10: {"10 write-group", "write"},
}

// apdu dispatches on the PDU type.
func (m *bacMsg) apdu(b []byte) {
	if len(b) < 2 {
		m.bad()
		return
	}
	switch b[0] >> 4 {
	case 0: // confirmed request: flags, max segs/apdu, invoke id, [seq, window], service
		i := 3
		if b[0]&0x08 != 0 {
			i += 2
		}
		if i >= len(b) {
			m.bad()
			return
		}
		if s, ok := bacConfirmed[b[i]]; ok {
			m.function(b[i], s[0], s[1])
		}
	case 1: // unconfirmed request
		switch svc := b[1]; svc {
		case 0:
			m.iAm(b[2:])
		default:
			if s, ok := bacUnconfirmed[svc]; ok {
				m.function(64+svc, s[0], s[1])
			}
		}
	case 3: // complex ACK: flags, invoke id, [seq, window], service
		i := 2
		if b[0]&0x08 != 0 {
			if len(b) < 4 || b[2] != 0 { // only the first segment starts with the object
				return
			}
			i += 2
		}
		if i >= len(b) {
			m.bad()
			return
		}
		switch b[i] {
		case 12:
			m.readPropertyACK(b[i+1:])
		case 14:
			m.readPropertyMultipleACK(b[i+1:])
		}
	}
}

// iAm: device object id, max APDU, segmentation, vendor id.
func (m *bacMsg) iAm(b []byte) {
	var t bacTag
	var ok bool
	var v [4]bacTag
	rest := b
	for k := range v {
		if t, rest, ok = bacNext(rest); !ok || t.context {
			m.bad()
			return
		}
		v[k] = t
	}
	if v[0].num != 12 || len(v[0].data) != 4 || v[3].num != 2 {
		m.bad()
		return
	}
	if !m.d.once(m.key(onceKindBACnet, b)) {
		return
	}
	typ, inst := bacObject(v[0].data)
	if typ != 8 {
		return
	}
	src := m.src()
	m.d.fact(src, model.FieldBACnetInstance, strconv.FormatUint(uint64(inst), 10), protoBACnet)
	vendor := bacUnsigned(v[3].data)
	m.bacVendor(src, vendor)
	if v[1].num == 2 {
		m.d.fact(src, fieldBACnetMaxAPDU, strconv.FormatUint(uint64(bacUnsigned(v[1].data)), 10), protoBACnet)
	}
	if v[2].num == 9 {
		m.d.fact(src, fieldBACnetSegmentation, bacSegmentation(bacUnsigned(v[2].data)), protoBACnet)
	}
	m.d.factDetail(src, model.FieldRole, model.RoleBMS, "BACnet device (I-Am)", protoBACnet)
}

func (m *bacMsg) bacVendor(src model.Endpoint, vendor uint32) {
	m.d.fact(src, model.FieldBACnetVendorID, strconv.FormatUint(uint64(vendor), 10), protoBACnet)
	if name := bacnetVendorName(vendor); name != "" {
		m.d.factDetail(src, model.FieldVendor, name, "BACnet vendor id "+strconv.FormatUint(uint64(vendor), 10), protoBACnet)
	}
}

func bacSegmentation(v uint32) string {
	switch v {
	case 0:
		return "segmented-both"
	case 1:
		return "segmented-transmit"
	case 2:
		return "segmented-receive"
	case 3:
		return "no-segmentation"
	}
	return strconv.FormatUint(uint64(v), 10)
}

// readPropertyACK: [0] object id, [1] property, [2] index, [3] value [/3].
func (m *bacMsg) readPropertyACK(b []byte) {
	t, rest, ok := bacNext(b)
	if !ok || !t.context || t.num != 0 || len(t.data) != 4 {
		m.bad()
		return
	}
	typ, inst := bacObject(t.data)
	if typ != 8 { // not the Device object: polling, nothing to learn
		return
	}
	t, rest, ok = bacNext(rest)
	if !ok || !t.context || t.num != 1 {
		m.bad()
		return
	}
	prop := bacUnsigned(t.data)
	t, rest, ok = bacNext(rest)
	if ok && t.context && t.num == 2 && !t.open { // array index: not a scalar
		return
	}
	if !ok || !t.open || t.num != 3 {
		m.bad()
		return
	}
	val, _, ok := bacNext(rest)
	if !ok || val.context {
		return
	}
	if !m.d.once(m.key(onceKindBACnet, b)) {
		return
	}
	m.deviceProperty(inst, prop, val)
}

// readPropertyMultipleACK: ([0] object id, [1 ([2] property, [3] index,
// [4 value /4] | [5 error /5])... /1)...
func (m *bacMsg) readPropertyMultipleACK(b []byte) {
	first := true
	for n := 0; len(b) > 0 && n < 64; n++ {
		t, rest, ok := bacNext(b)
		if !ok || !t.context || t.num != 0 || len(t.data) != 4 {
			return
		}
		typ, inst := bacObject(t.data)
		t, rest, ok = bacNext(rest)
		if !ok || !t.open || t.num != 1 {
			m.bad()
			return
		}
		if typ != 8 {
			b, ok = bacSkip(rest, 1)
			if !ok {
				return
			}
			continue
		}
		if first {
			if !m.d.once(m.key(onceKindBACnet, b)) {
				return
			}
			first = false
		}
		var prop uint32
		for k := 0; k < 256; k++ {
			t, rest, ok = bacNext(rest)
			if !ok {
				return
			}
			switch {
			case t.close && t.num == 1:
				b = rest
				k = 256
			case t.context && !t.open && t.num == 2:
				prop = bacUnsigned(t.data)
			case t.context && !t.open && t.num == 3:
				prop = 0xffffffff // an array element: not a scalar property
			case t.open && t.num == 4:
				val, _, vok := bacNext(rest)
				if vok && !val.context && prop != 0xffffffff {
					m.deviceProperty(inst, prop, val)
				}
				if rest, ok = bacSkip(rest, 4); !ok {
					return
				}
			case t.open && t.num == 5:
				if rest, ok = bacSkip(rest, 5); !ok {
					return
				}
			default:
				return
			}
		}
	}
}

// Device object properties otscope reads.
const (
	bacPropAppVersion      = 12
	bacPropDescription     = 28
	bacPropFirmware        = 44
	bacPropLocation        = 58
	bacPropMaxAPDU         = 62
	bacPropModelName       = 70
	bacPropObjectID        = 75
	bacPropObjectName      = 77
	bacPropProtocolVersion = 98
	bacPropSegmentation    = 107
	bacPropSystemStatus    = 112
	bacPropVendorID        = 120
	bacPropVendorName      = 121
	bacPropProtocolRev     = 139
	bacPropSerialNumber    = 372
)

// deviceProperty records one property of the Device object of the
// message's source.
func (m *bacMsg) deviceProperty(inst, prop uint32, v bacTag) {
	src := m.src()
	d := m.d
	if inst != bacnetWildcard {
		d.fact(src, model.FieldBACnetInstance, strconv.FormatUint(uint64(inst), 10), protoBACnet)
	}
	d.factDetail(src, model.FieldRole, model.RoleBMS, "answers for a BACnet Device object", protoBACnet)
	switch prop {
	case bacPropObjectID:
		if v.num == 12 && len(v.data) == 4 {
			if typ, i := bacObject(v.data); typ == 8 && i != bacnetWildcard {
				d.fact(src, model.FieldBACnetInstance, strconv.FormatUint(uint64(i), 10), protoBACnet)
			}
		}
	case bacPropObjectName:
		if s := bacString(v); s != "" {
			d.fact(src, fieldBACnetObjectName, s, protoBACnet)
			d.fact(src, model.FieldHostname, s, protoBACnet)
		}
	case bacPropVendorName:
		if s := bacString(v); s != "" {
			d.fact(src, fieldBACnetVendorName, s, protoBACnet)
			d.fact(src, model.FieldVendor, s, protoBACnet)
		}
	case bacPropVendorID:
		if v.num == 2 {
			m.bacVendor(src, bacUnsigned(v.data))
		}
	case bacPropModelName:
		if s := bacString(v); s != "" {
			d.fact(src, fieldBACnetModelName, s, protoBACnet)
			d.fact(src, model.FieldProduct, s, protoBACnet)
		}
	case bacPropFirmware:
		d.fact(src, model.FieldFirmware, bacString(v), protoBACnet)
	case bacPropAppVersion:
		d.fact(src, fieldBACnetAppVersion, bacString(v), protoBACnet)
	case bacPropLocation:
		d.fact(src, fieldBACnetLocation, bacString(v), protoBACnet)
	case bacPropDescription:
		d.fact(src, fieldBACnetDescription, bacString(v), protoBACnet)
	case bacPropSerialNumber:
		d.fact(src, model.FieldSerial, bacString(v), protoBACnet)
	case bacPropProtocolVersion:
		if v.num == 2 {
			d.fact(src, fieldBACnetProtoVersion, strconv.FormatUint(uint64(bacUnsigned(v.data)), 10), protoBACnet)
		}
	case bacPropProtocolRev:
		if v.num == 2 {
			d.fact(src, fieldBACnetProtoRev, strconv.FormatUint(uint64(bacUnsigned(v.data)), 10), protoBACnet)
		}
	case bacPropMaxAPDU:
		if v.num == 2 {
			d.fact(src, fieldBACnetMaxAPDU, strconv.FormatUint(uint64(bacUnsigned(v.data)), 10), protoBACnet)
		}
	case bacPropSegmentation:
		if v.num == 9 {
			d.fact(src, fieldBACnetSegmentation, bacSegmentation(bacUnsigned(v.data)), protoBACnet)
		}
	case bacPropSystemStatus:
		if v.num == 9 {
			s := bacSystemStatus(bacUnsigned(v.data))
			d.fact(src, fieldBACnetSystemStatus, s, protoBACnet)
			d.fact(src, model.FieldOperatingMode, s, protoBACnet)
		}
	}
}

func bacSystemStatus(v uint32) string {
	names := [...]string{"operational", "operational-read-only", "download-required",
		"download-in-progress", "non-operational", "backup-in-progress"}
	if int(v) < len(names) {
		return names[v]
	}
	return strconv.FormatUint(uint64(v), 10)
}
