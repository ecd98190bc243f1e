package decode

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"

	"otscope/model"
)

// SNMP (RFC 1157, RFC 3416, RFC 3412/3414) on UDP 161 and 162.
//
// Responses and traps carry the agent's system group (sysDescr, sysObjectID,
// sysName, sysLocation, sysContact); those varbinds become facts on the
// agent. v1/v2c packets also carry the community: it is recorded MASKED on
// the agent (two characters and "***"), never in full. What a manager asks
// (get, set...) is recorded on the manager as snmp.function. v3 gives the
// authoritative engine id.

// SNMP fact fields besides the model.FieldSNMP* ones.
const (
	fieldSNMPFunction   = "snmp.function"
	fieldSNMPVersion    = "snmp.version"
	fieldSNMPEngineID   = "snmp.engine_id"
	fieldSNMPEnterprise = "snmp.enterprise"
	fieldSNMPTrapAgent  = "snmp.trap_agent_addr"
)

func init() {
	registerParser("snmp", parseSNMP, nil, []uint16{161, 162})
}

// snmpTLV reads one BER element at off: its tag, the start and end of its
// contents. Only single-byte tags and lengths of up to 3 bytes are taken
// (an SNMP message is at most a datagram); any length past the buffer is an
// error.
func snmpTLV(p []byte, off int) (tag byte, start, end int, ok bool) {
	if off < 0 || off+2 > len(p) {
		return 0, 0, 0, false
	}
	tag = p[off]
	if tag&0x1f == 0x1f {
		return 0, 0, 0, false
	}
	l := int(p[off+1])
	start = off + 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 3 || start+n > len(p) {
			return 0, 0, 0, false
		}
		l = 0
		for i := 0; i < n; i++ {
			l = l<<8 | int(p[start+i])
		}
		start += n
	}
	end = start + l
	if end > len(p) {
		return 0, 0, 0, false
	}
	return tag, start, end, true
}

// snmpInt decodes a small non-negative INTEGER (version, generic-trap).
func snmpInt(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 4 || b[0]&0x80 != 0 {
		return 0, false
	}
	v := 0
	for _, c := range b {
		v = v<<8 | int(c)
	}
	return v, true
}

// snmpOID renders BER OID contents as dotted decimal ("1.3.6.1.4.1.9.1.1").
func snmpOID(b []byte) (string, bool) {
	if len(b) == 0 || len(b) > 128 {
		return "", false
	}
	var sb strings.Builder
	sb.Grow(len(b) * 3)
	var v uint64
	first := true
	for i, c := range b {
		if v > 1<<56 {
			return "", false
		}
		v = v<<7 | uint64(c&0x7f)
		if c&0x80 != 0 {
			if i == len(b)-1 {
				return "", false
			}
			continue
		}
		if first {
			x := v / 40
			if x > 2 {
				x = 2
			}
			sb.WriteString(strconv.FormatUint(x, 10))
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(v-40*x, 10))
			first = false
		} else {
			sb.WriteByte('.')
			sb.WriteString(strconv.FormatUint(v, 10))
		}
		v = 0
	}
	return sb.String(), true
}

// snmpOIDSystem is 1.3.6.1.2.1.1 (the MIB-II system group) in BER.
var snmpOIDSystem = []byte{0x2b, 6, 1, 2, 1, 1}

// snmpOIDEnterprise is 1.3.6.1.4.1 (private snmpEnterprises) in BER.
var snmpOIDEnterprise = []byte{0x2b, 6, 1, 4, 1}

// snmpPDU names a PDU tag and the behaviour it shows.
func snmpPDU(tag byte) (name, detail string) {
	switch tag {
	case 0xa0:
		return "get", "read"
	case 0xa1:
		return "getnext", "read"
	case 0xa3:
		return "set", "write"
	case 0xa5:
		return "getbulk", "read"
	case 0xa6:
		return "inform", "other"
	}
	return "", ""
}

func parseSNMP(c *appCtx, p []byte) {
	tag, s, e, ok := snmpTLV(p, 0)
	if !ok || tag != 0x30 {
		c.malformed()
		return
	}
	tag, vs, ve, ok := snmpTLV(p, s)
	if !ok || tag != 0x02 {
		c.malformed()
		return
	}
	version, ok := snmpInt(p[vs:ve])
	if !ok {
		c.malformed()
		return
	}
	switch version {
	case 0, 1:
		snmpCommunity(c, p, ve, e, version)
	case 3:
		snmpV3(c, p, ve, e)
	default:
		c.malformed()
	}
}

// snmpCommunity reads a v1/v2c message after its version.
func snmpCommunity(c *appCtx, p []byte, off, end int, version int) {
	msg := p[:end]
	tag, cs, ce, ok := snmpTLV(msg, off)
	if !ok || tag != 0x04 {
		c.malformed()
		return
	}
	pduTag, ps, pe, ok := snmpTLV(msg, ce)
	if !ok {
		c.malformed()
		return
	}
	c.identify("snmp")
	community := msg[cs:ce]
	// the agent is the receiver of a request and the sender of the rest
	agent, manager := c.sender(), c.receiver()
	if _, det := snmpPDU(pduTag); det != "" {
		agent, manager = manager, agent
		if name, _ := snmpPDU(pduTag); c.once(pduTag & 0x3f) {
			c.factDetail(manager, fieldSNMPFunction, "0x"+ithHex2(pduTag)+" "+name, det, "snmp")
		}
	}
	if len(community) > 0 && c.onceID(byte(hashBytes(community))) {
		detail := "seen from " + manager.IP.String()
		if pduTag == 0xa4 || pduTag == 0xa7 {
			detail = "seen in a trap to " + manager.IP.String()
		}
		c.factDetail(agent, model.FieldSNMPCommunity, snmpMask(community), detail, "snmp")
		if c.once(0x40 + byte(version)) {
			c.fact(agent, fieldSNMPVersion, []string{"1", "2c"}[version], "snmp")
		}
	}
	snmpPDUBody(c, msg, pduTag, ps, pe, agent)
}

// snmpPDUBody reads the varbinds of a response or trap PDU.
func snmpPDUBody(c *appCtx, p []byte, pduTag byte, ps, pe int, agent model.Endpoint) {
	p = p[:pe]
	off := ps
	switch pduTag {
	case 0xa2, 0xa7, 0xa6, 0xa8: // response, v2 trap, inform, report
		for i := 0; i < 3; i++ { // request-id, error-status, error-index
			_, _, e, ok := snmpTLV(p, off)
			if !ok {
				c.malformed()
				return
			}
			off = e
		}
	case 0xa4: // v1 trap: enterprise, agent-addr, generic, specific, time-stamp
		tag, es, ee, ok := snmpTLV(p, off)
		if !ok || tag != 0x06 {
			c.malformed()
			return
		}
		enterprise := p[es:ee]
		tag, as, ae, ok := snmpTLV(p, ee)
		if !ok || tag != 0x40 {
			c.malformed()
			return
		}
		if ae-as == 4 {
			a := netip.AddrFrom4([4]byte(p[as:ae]))
			if usableIP(a) && !a.IsLoopback() && a != agent.IP {
				// the trap names its agent; a relay or NAT sent it
				if c.once(0x48) {
					c.fact(agent, fieldSNMPTrapAgent, a.String(), "snmp")
				}
				agent = model.Endpoint{IP: a}
			}
		}
		if c.once(0x49) {
			snmpEnterprise(c, agent, enterprise, false)
		}
		off = ae
		for i := 0; i < 3; i++ {
			_, _, e, ok := snmpTLV(p, off)
			if !ok {
				c.malformed()
				return
			}
			off = e
		}
	default:
		return // requests carry no values about the agent
	}
	tag, vs, ve, ok := snmpTLV(p, off)
	if !ok || tag != 0x30 {
		c.malformed()
		return
	}
	for off = vs; off < ve; {
		tag, bs, be, ok := snmpTLV(p, off)
		if !ok || tag != 0x30 || be > ve {
			c.malformed()
			return
		}
		off = be
		tag, os, oe, ok := snmpTLV(p, bs)
		if !ok || tag != 0x06 {
			c.malformed()
			return
		}
		oid := p[os:oe]
		// 1.3.6.1.2.1.1.<n>.0
		if len(oid) != 8 || !bytes.Equal(oid[:6], snmpOIDSystem) || oid[7] != 0 {
			continue
		}
		vt, xs, xe, ok := snmpTLV(p, oe)
		if !ok || xe > be {
			c.malformed()
			return
		}
		item := oid[6]
		if item > 9 || !c.once(0x50+item) {
			continue
		}
		val := p[xs:xe]
		switch {
		case item == 2 && vt == 0x06:
			snmpEnterprise(c, agent, val, true)
		case vt != 0x04:
			// noSuchObject, NULL...: nothing
		case item == 1:
			s := cleanLines(val)
			c.fact(agent, model.FieldSNMPSysDescr, s, "snmp")
			snmpDescrHints(c, agent, s)
		case item == 4:
			c.fact(agent, model.FieldSNMPSysContact, cleanText(val), "snmp")
		case item == 5:
			if s := cleanText(val); s != "" {
				c.fact(agent, model.FieldSNMPSysName, s, "snmp")
				c.fact(agent, model.FieldHostname, s, "snmp")
			}
		case item == 6:
			c.fact(agent, model.FieldSNMPSysLocation, cleanText(val), "snmp")
		}
	}
}

// snmpEnterprise records a sysObjectID (or a trap's enterprise) and the
// vendor its enterprise number is registered to.
func snmpEnterprise(c *appCtx, agent model.Endpoint, oid []byte, sysObjectID bool) {
	s, ok := snmpOID(oid)
	if !ok {
		c.malformed()
		return
	}
	if sysObjectID {
		c.fact(agent, model.FieldSNMPSysObjectID, s, "snmp")
	}
	if !bytes.HasPrefix(oid, snmpOIDEnterprise) {
		return
	}
	rest, ok := strings.CutPrefix(s, "1.3.6.1.4.1.")
	if !ok {
		return
	}
	num, _, _ := strings.Cut(rest, ".")
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return
	}
	name := snmpEnterpriseName(uint32(n))
	if name == "" {
		c.fact(agent, fieldSNMPEnterprise, num, "snmp")
		return
	}
	c.fact(agent, fieldSNMPEnterprise, num+" "+name, "snmp")
	if !snmpSoftwareEnterprise(uint32(n)) {
		c.factDetail(agent, model.FieldVendor, name, "SNMP enterprise "+num, "snmp")
	}
}

// snmpV3 reads the header of a v3 message: the authoritative engine id and,
// when the PDU is not encrypted, its varbinds.
func snmpV3(c *appCtx, p []byte, off, end int) {
	p = p[:end]
	tag, gs, ge, ok := snmpTLV(p, off) // msgGlobalData
	if !ok || tag != 0x30 {
		c.malformed()
		return
	}
	var flags byte
	for o, i := gs, 0; o < ge && i < 3; i++ {
		t, s, e, ok := snmpTLV(p, o)
		if !ok {
			c.malformed()
			return
		}
		if i == 2 && t == 0x04 && e-s == 1 {
			flags = p[s]
		}
		o = e
	}
	tag, ss, se, ok := snmpTLV(p, ge) // msgSecurityParameters
	if !ok || tag != 0x04 {
		c.malformed()
		return
	}
	c.identify("snmp")
	// a reportable message is a request: the authoritative engine is the
	// receiver; responses, reports and traps come from it
	agent, manager := c.sender(), c.receiver()
	if flags&0x04 != 0 {
		agent, manager = manager, agent
	}
	if c.once(0x43) {
		c.fact(agent, fieldSNMPVersion, "3", "snmp")
	}
	if t, us, _, ok := snmpTLV(p, ss); ok && t == 0x30 {
		if t, es, ee, ok := snmpTLV(p, us); ok && t == 0x04 && ee-es > 0 && ee-es <= 32 && c.once(0x44) {
			c.fact(agent, fieldSNMPEngineID, ithHex(p[es:ee]), "snmp")
		}
	}
	tag, ds, de, ok := snmpTLV(p, se) // ScopedPDU, or an encrypted OCTET STRING
	if !ok || tag != 0x30 {
		return
	}
	_, _, e1, ok := snmpTLV(p, ds) // contextEngineID
	if !ok {
		c.malformed()
		return
	}
	_, _, e2, ok := snmpTLV(p, e1) // contextName
	if !ok {
		c.malformed()
		return
	}
	pduTag, ps, pe, ok := snmpTLV(p[:de], e2)
	if !ok {
		c.malformed()
		return
	}
	if name, det := snmpPDU(pduTag); det != "" {
		if c.once(pduTag & 0x3f) {
			c.factDetail(manager, fieldSNMPFunction, "0x"+ithHex2(pduTag)+" "+name, det, "snmp")
		}
		return
	}
	snmpPDUBody(c, p, pduTag, ps, pe, agent)
}

// SNMP community masks: a community is a password, so nothing of it is kept
// (not its length, not a first letter: "k" masked as "k***" is the whole
// secret). Only whether it is one of the factory defaults every scanner
// tries first is recorded, for the snmp-default-community rule.
const (
	snmpMasked        = "***"
	snmpMaskedDefault = "*** (default)"
)

// snmpMask hides a community string completely.
func snmpMask(b []byte) string {
	switch string(b) {
	case "public", "private":
		return snmpMaskedDefault
	}
	return snmpMasked
}

func ithHex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&0xf]})
}

func ithHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, len(b)*2)
	for _, v := range b {
		out = append(out, digits[v>>4], digits[v&0xf])
	}
	return string(out)
}

// snmpDescrHints takes the OS, product, firmware... from a sysDescr where
// its text states them in a well-known form; anything else stays in
// snmp.sys_descr alone.
func snmpDescrHints(c *appCtx, agent model.Endpoint, s string) {
	switch {
	case strings.HasPrefix(s, "Siemens, "):
		for _, f := range ithSiemensDescr(s) {
			c.fact(agent, f[0], f[1], "snmp")
		}
	case strings.Contains(s, "Cisco IOS Software") || strings.Contains(s, "Cisco Internetwork Operating System"):
		os := "Cisco IOS"
		if strings.Contains(s, "IOS-XE") || strings.Contains(s, "IOS XE") {
			os = "Cisco IOS XE"
		}
		if _, v, ok := strings.Cut(s, "Version "); ok {
			v, _, _ = strings.Cut(v, ",")
			v, _, _ = strings.Cut(v, " ")
			c.fact(agent, model.FieldFirmware, v, "snmp")
			os += " " + v
		}
		c.fact(agent, model.FieldOS, os, "snmp")
	case strings.HasPrefix(s, "Linux ") || strings.HasPrefix(s, "Darwin ") || strings.HasPrefix(s, "FreeBSD "):
		// "Linux <host> <release> ...": the kernel release is the third word
		w := strings.Fields(s)
		if len(w) >= 3 {
			c.fact(agent, model.FieldOS, w[0]+" "+w[2], "snmp")
		}
	case strings.HasPrefix(s, "Hardware: ") && strings.Contains(s, "Software: Windows"):
		_, sw, _ := strings.Cut(s, "Software: ")
		if i := strings.Index(sw, " Multiprocessor"); i > 0 {
			sw = sw[:i] + ")"
		} else if i := strings.Index(sw, " Uniprocessor"); i > 0 {
			sw = sw[:i] + ")"
		}
		c.fact(agent, model.FieldOS, sw, "snmp")
	}
}

// ithSiemensDescr splits the comma-separated description Siemens devices give
// in sysDescr and LLDP: "Siemens, SIMATIC S7,
// CPU-1200, 6ES7 214-1AG40-0XB0, HW: 7, FW: V.4.2.1, S V-K2C13707".
func ithSiemensDescr(s string) [][2]string {
	parts := strings.Split(s, ",")
	var out [][2]string
	for i, p := range parts {
		p = strings.TrimSpace(p)
		switch {
		case strings.HasPrefix(p, "HW: ") || strings.HasPrefix(p, "HW:"):
			out = append(out, [2]string{model.FieldHardwareVersion, strings.TrimSpace(p[3:])})
		case strings.HasPrefix(p, "FW: ") || strings.HasPrefix(p, "FW:"):
			v := strings.TrimSpace(p[3:])
			if strings.HasPrefix(v, "V.") {
				v = "V" + v[2:]
			}
			out = append(out, [2]string{model.FieldFirmware, v})
		case strings.HasPrefix(p, "S ") && i == len(parts)-1:
			out = append(out, [2]string{model.FieldSerial, strings.TrimSpace(p[2:])})
		case ithSiemensOrder(p):
			out = append(out, [2]string{model.FieldOrderNumber, p})
			if i > 0 {
				out = append(out, [2]string{model.FieldProduct, strings.TrimSpace(parts[i-1])})
			}
		}
	}
	return out
}

// ithSiemensOrder recognises an MLFB order number: "6ES7 214-1AG40-0XB0",
// "6GK5 204-2BB10-2AA3", "6AV2 123-2GB03-0AX0".
func ithSiemensOrder(p string) bool {
	if len(p) < 16 || len(p) > 24 || p[0] != '6' || p[4] != ' ' {
		return false
	}
	return strings.Count(p, "-") >= 2
}
