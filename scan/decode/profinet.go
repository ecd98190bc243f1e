package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"github.com/google/gopacket/layers"

	"otscope/model"
)

// PROFINET on layer 2 (EtherType 0x8892).
//
// The first two bytes of every PROFINET frame are its FrameID, which says
// what follows:
//
//	0x0100-0x7fff  RT_CLASS_3 cyclic data     the hot path: one once-check
//	0x8000-0xfbff  RT_CLASS_1/2 cyclic data   per frame, nothing else
//	0xfc01, 0xfe01 alarms
//	0xfefc         DCP Hello (a device announcing itself at start-up)
//	0xfefd         DCP Get/Set (unicast)
//	0xfefe         DCP Identify request (multicast)
//	0xfeff         DCP Identify response
//
// DCP is how an engineering tool finds stations and names them: responses
// and Hello carry the station's own name, vendor and device id, role and IP
// suite; Set requests carry what a tool assigns to another station (recorded
// on that station as profinet.set_*, and on the tool as profinet.function);
// Identify requests with a filter name the station searched for, which is
// not proof of anybody's identity (devices check that their own name is free
// at start-up, tools search for names they were told).

// PROFINET fact fields besides model.FieldPN*.
const (
	fieldPNIP             = "profinet.ip"
	fieldPNNetmask        = "profinet.netmask"
	fieldPNGateway        = "profinet.gateway"
	fieldPNDeviceInstance = "profinet.device_instance"
	fieldPNOEMVendorID    = "profinet.oem_vendor_id"
	fieldPNOEMDeviceID    = "profinet.oem_device_id"
	fieldPNAlias          = "profinet.alias_name"
	fieldPNSetName        = "profinet.set_station_name"
	fieldPNSetIP          = "profinet.set_ip"
	fieldPNSetNetmask     = "profinet.set_netmask"
	fieldPNSetGateway     = "profinet.set_gateway"
	fieldPNFunction       = "profinet.function"
	fieldPNIdentifyFilter = "profinet.identify_filter"
	fieldPNIOPeer         = "profinet.io_peer"
	fieldPNChassisMAC     = "profinet.chassis_mac"
	fieldPNARType         = "profinet.ar_type"

	protoPNDCP = "pn-dcp"
	protoPNRT  = "pn-rt"
	protoPNCM  = "pn-cm"
	protoPNLLD = "lldp"
)

// onceKey kinds of the PROFINET parsers.
const (
	onceKindPNDCP uint16 = 0x8800 + iota
	onceKindPNIO
	onceKindPNCM
	onceKindPNLLDP
	onceKindPNExpect
)

func init() {
	registerEtherType(0x8892, onPROFINET)
	lldpHooks = append(lldpHooks, pnLLDP)
}

// onPROFINET dispatches a PROFINET frame by its FrameID.
func onPROFINET(d *Decoder, fi *frameInfo) {
	p := fi.payload
	if len(p) < 2 {
		d.stats.DecodeErrors++
		return
	}
	id := binary.BigEndian.Uint16(p)
	switch {
	case id >= 0x0100 && id <= 0xfbff:
		pnCyclic(d, fi)
	case id >= 0xfefc && id <= 0xfeff:
		pnDCP(d, fi, p)
	}
}

// pnCyclic records the IO relationship of a cyclic frame once per pair of
// stations. It runs for every cyclic frame: one map lookup, no allocation.
func pnCyclic(d *Decoder, fi *frameInfo) {
	if !fi.hasMAC || !fi.src.IsUnicast() || !fi.dst.IsUnicast() {
		return
	}
	if !d.once(onceKey{mac: fi.src, kind: onceKindPNIO, id: pnMACID(fi.dst)}) {
		return
	}
	d.factDetail(model.Endpoint{MAC: fi.src, VLAN: fi.vlan}, fieldPNIOPeer, fi.dst.String(),
		"sends PROFINET cyclic IO data to this station", protoPNRT)
}

// pnMACID packs a MAC into an integer for onceKey.id.
func pnMACID(m model.MAC) uint64 {
	var v uint64
	for _, b := range m {
		v = v<<8 | uint64(b)
	}
	return v
}

// DCP service ids and types.
const (
	dcpGet      = 3
	dcpSet      = 4
	dcpIdentify = 5
	dcpHello    = 6
)

// dcpMode says how the blocks of a DCP PDU are laid out and whom they
// describe.
type dcpMode uint8

const (
	dcpSelf   dcpMode = iota + 1 // responses and Hello: BlockInfo, values of the sender
	dcpAssign                    // Set request: BlockQualifier, values for the receiver
	dcpFilter                    // Identify request: no prefix, names searched for
)

// pnDCP parses a DCP PDU (p starts at the FrameID).
func pnDCP(d *Decoder, fi *frameInfo, p []byte) {
	if len(p) < 12 || !fi.hasMAC || !fi.src.IsUnicast() {
		if len(p) < 12 {
			d.stats.DecodeErrors++
		}
		return
	}
	service, stype := p[2], p[3]
	dlen := int(binary.BigEndian.Uint16(p[10:]))
	body := p[12:]
	if dlen > len(body) {
		d.stats.DecodeErrors++
		return
	}
	body = body[:dlen]
	// identical PDUs (repeated identify requests, periodic Hello) are
	// reported once per sender and receiver
	h := hashBytes(p[2:4])
	h = fnv1a(h, fi.dst[:])
	h = fnv1a(h, body)
	if !d.once(onceKey{mac: fi.src, kind: onceKindPNDCP, id: h}) {
		return
	}
	src := model.Endpoint{MAC: fi.src, VLAN: fi.vlan}
	response := stype&1 == 1
	var mode dcpMode
	switch {
	case service == dcpHello, response && (service == dcpIdentify || service == dcpGet):
		mode = dcpSelf
	case !response && service == dcpSet:
		mode = dcpAssign
		if !fi.dst.IsUnicast() {
			return
		}
	case !response && service == dcpIdentify:
		mode = dcpFilter
		d.factDetail(src, fieldPNFunction, "dcp identify", "identify", protoPNDCP)
	case !response && service == dcpGet:
		d.factDetail(src, fieldPNFunction, "dcp get", "read", protoPNDCP)
		return
	default:
		return
	}
	dst := model.Endpoint{MAC: fi.dst, VLAN: fi.vlan}
	for len(body) >= 4 {
		opt, sub := body[0], body[1]
		l := int(binary.BigEndian.Uint16(body[2:]))
		if 4+l > len(body) {
			d.stats.DecodeErrors++
			return
		}
		v := body[4 : 4+l]
		next := 4 + l + l&1 // blocks are padded to an even length
		if next > len(body) {
			next = len(body)
		}
		body = body[next:]
		switch mode {
		case dcpSelf:
			if len(v) < 2 {
				continue
			}
			dcpSelfBlock(d, src, opt, sub, v[2:])
		case dcpAssign:
			if len(v) < 2 {
				continue
			}
			dcpSetBlock(d, src, dst, opt, sub, v[2:])
		case dcpFilter:
			if opt == 2 && sub == 2 {
				d.factDetail(src, fieldPNIdentifyFilter, cleanText(v),
					"searched for this name of station (DCP Identify filter)", protoPNDCP)
			}
		}
	}
}

// dcpSelfBlock records one block of a response or Hello about its sender.
func dcpSelfBlock(d *Decoder, ep model.Endpoint, opt, sub byte, v []byte) {
	switch {
	case opt == 1 && (sub == 2 || sub == 3) && len(v) >= 12:
		ip := netip.AddrFrom4([4]byte(v[0:4]))
		d.fact(ep, fieldPNIP, ip.String(), protoPNDCP)
		d.fact(ep, fieldPNNetmask, netip.AddrFrom4([4]byte(v[4:8])).String(), protoPNDCP)
		d.fact(ep, fieldPNGateway, netip.AddrFrom4([4]byte(v[8:12])).String(), protoPNDCP)
		d.claim(ep.MAC, ip, ep.VLAN, protoPNDCP)
	case opt == 2 && sub == 1:
		d.fact(ep, model.FieldProduct, cleanText(v), protoPNDCP)
	case opt == 2 && sub == 2:
		if name := cleanText(v); name != "" {
			d.fact(ep, model.FieldStationName, name, protoPNDCP)
			d.fact(ep, model.FieldHostname, name, protoPNDCP)
		}
	case opt == 2 && sub == 3 && len(v) >= 4:
		pnVendorFacts(d, ep, binary.BigEndian.Uint16(v), binary.BigEndian.Uint16(v[2:]), protoPNDCP)
	case opt == 2 && sub == 4 && len(v) >= 1:
		pnRoleFacts(d, ep, v[0], "DCP device role", protoPNDCP)
	case opt == 2 && sub == 6:
		d.fact(ep, fieldPNAlias, cleanText(v), protoPNDCP)
	case opt == 2 && sub == 7 && len(v) >= 2:
		d.fact(ep, fieldPNDeviceInstance, strconv.Itoa(int(v[0]))+"."+strconv.Itoa(int(v[1])), protoPNDCP)
	case opt == 2 && sub == 8 && len(v) >= 4:
		d.fact(ep, fieldPNOEMVendorID, strconv.Itoa(int(binary.BigEndian.Uint16(v))), protoPNDCP)
		d.fact(ep, fieldPNOEMDeviceID, strconv.Itoa(int(binary.BigEndian.Uint16(v[2:]))), protoPNDCP)
	}
}

// dcpSetBlock records one block of a Set request: the value on the target,
// the function on the tool that sent it.
func dcpSetBlock(d *Decoder, tool, target model.Endpoint, opt, sub byte, v []byte) {
	const why = "assigned by a DCP Set request"
	switch {
	case opt == 1 && (sub == 2 || sub == 3) && len(v) >= 12:
		d.factDetail(target, fieldPNSetIP, netip.AddrFrom4([4]byte(v[0:4])).String(), why, protoPNDCP)
		d.factDetail(target, fieldPNSetNetmask, netip.AddrFrom4([4]byte(v[4:8])).String(), why, protoPNDCP)
		d.factDetail(target, fieldPNSetGateway, netip.AddrFrom4([4]byte(v[8:12])).String(), why, protoPNDCP)
		d.factDetail(tool, fieldPNFunction, "dcp set ip", "control", protoPNDCP)
	case opt == 2 && sub == 2:
		d.factDetail(target, fieldPNSetName, cleanText(v), why, protoPNDCP)
		d.factDetail(tool, fieldPNFunction, "dcp set name", "control", protoPNDCP)
	case opt == 5 && sub == 3:
		d.factDetail(tool, fieldPNFunction, "dcp signal", "control", protoPNDCP)
	case opt == 5 && (sub == 5 || sub == 6):
		d.factDetail(tool, fieldPNFunction, "dcp reset to factory", "control", protoPNDCP)
	case opt == 5 && (sub == 1 || sub == 2):
		d.factDetail(tool, fieldPNFunction, "dcp set transaction", "control", protoPNDCP)
	case opt == 3:
		d.factDetail(tool, fieldPNFunction, "dcp set dhcp", "control", protoPNDCP)
	}
}

// pnVendorFacts records a PROFINET vendor and device id, and the vendor's
// registered name when the table knows it.
func pnVendorFacts(d *Decoder, ep model.Endpoint, vendor, device uint16, proto string) {
	d.fact(ep, model.FieldPNVendorID, strconv.Itoa(int(vendor)), proto)
	d.fact(ep, model.FieldPNDeviceID, strconv.Itoa(int(device)), proto)
	if name := pnVendorName(vendor); name != "" {
		d.factDetail(ep, model.FieldVendor, name, "PROFINET vendor id "+strconv.Itoa(int(vendor)), proto)
	}
}

// PROFINET device role bits (DCP DeviceRole; the same numbering is used for
// roles learnt from IO-CM connects).
const (
	pnRoleDevice     = 0x01
	pnRoleController = 0x02
	pnRoleMulti      = 0x04
	pnRoleSupervisor = 0x08
)

// pnRoleName renders role bits as "IO-Device (0x01)".
func pnRoleName(bits byte) string {
	s := ""
	add := func(b byte, name string) {
		if bits&b != 0 {
			if s != "" {
				s += ","
			}
			s += name
		}
	}
	add(pnRoleDevice, "IO-Device")
	add(pnRoleController, "IO-Controller")
	add(pnRoleMulti, "IO-Multidevice")
	add(pnRoleSupervisor, "IO-Supervisor")
	if s == "" {
		s = "none"
	}
	const hex = "0123456789abcdef"
	return s + " (0x" + string([]byte{hex[bits>>4], hex[bits&15]}) + ")"
}

// pnRoleFacts records the PROFINET role and the inventory role it proves.
func pnRoleFacts(d *Decoder, ep model.Endpoint, bits byte, why, proto string) {
	d.fact(ep, model.FieldPNRole, pnRoleName(bits), proto)
	if bits&(pnRoleDevice|pnRoleMulti) != 0 {
		d.factDetail(ep, model.FieldRole, model.RoleIO, "PROFINET IO-Device ("+why+")", proto)
	}
	if bits&pnRoleController != 0 {
		d.factDetail(ep, model.FieldRole, model.RolePLC, "PROFINET IO-Controller ("+why+")", proto)
	}
}

// pnLLDP records what the PROFINET organisation TLVs (OUI 00-0e-cf) of an
// LLDP frame identify: the chassis MAC of a multi-port station.
func pnLLDP(d *Decoder, subject model.Endpoint, info *layers.LinkLayerDiscoveryInfo) {
	for _, t := range info.OrgTLVs {
		if t.OUI != 0x000ecf {
			continue
		}
		switch {
		case t.SubType == 5 && len(t.Info) == 6: // chassis MAC
			m := model.MACFrom(t.Info)
			if d.once(onceKey{mac: subject.MAC, kind: onceKindPNLLDP, id: pnMACID(m)}) {
				d.factDetail(subject, fieldPNChassisMAC, m.String(), "PROFINET LLDP chassis MAC", protoPNLLD)
			}
		}
	}
}
