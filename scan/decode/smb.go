package decode

import (
	"bytes"
	"encoding/binary"
	"sync"

	"otscope/model"
)

// SMB on TCP 445 (direct) and 139 (NetBIOS session service), [MS-CIFS] and
// [MS-SMB2]. Only the first messages of a session say anything about the
// hosts: negotiate (dialects, SMBv1 in use), session setup (native OS and
// LAN manager of SMB1, NTLMSSP in the security blob) and, on 139, the
// NetBIOS session request (called and calling names). Everything else
// (reads, writes, file data) is rejected after a few byte comparisons.

// SMB fact fields.
const (
	fieldSMBNativeOS       = "smb.native_os"
	fieldSMBNativeLanMan   = "smb.native_lanman"
	fieldSMBPrimaryDomain  = "smb.primary_domain"
	fieldSMBDialect        = "smb.dialect"
	fieldSMBDialectOffered = "smb.dialects_offered"
	fieldSMBVersion        = "smb.version"
	fieldSMBCalledName     = "netbios.called_name"
	fieldSMBCallingName    = "netbios.calling_name"
)

// once bits of an SMB flow
const (
	smbOnceV1       = 0x01
	smbOnceV2       = 0x02
	smbOnceDialect  = 0x03
	smbOnceOffered  = 0x04
	smbOnceSession  = 0x05
	smbOnceNativeOS = 0x10 // + side
	smbOnceLanMan   = 0x12 // + side
	smbOnceDomain   = 0x14 // + side
)

func init() {
	registerParser("smb", parseSMB, []uint16{445, 139}, nil)
}

func parseSMB(c *appCtx, p []byte) {
	if smbCarried(c, p) || len(p) < 8 {
		return
	}
	switch p[0] {
	case 0x00: // session message
	case 0x81: // NetBIOS session request (139)
		smbSessionRequest(c, p)
		return
	default:
		return
	}
	// a segment that starts a message: 4-byte length header then a protocol id
	m := p[4:]
	switch {
	case m[0] == 0xff && m[1] == 'S' && m[2] == 'M' && m[3] == 'B':
		smb1(c, m)
	case m[0] == 0xfe && m[1] == 'S' && m[2] == 'M' && m[3] == 'B':
		smb2(c, m)
	}
}

// smbSessionRequest reads the called (server) and calling (client)
// NetBIOS names of a session request.
func smbSessionRequest(c *appCtx, p []byte) {
	if !c.once(smbOnceSession) {
		return
	}
	called, n, ok := nbName(p, 4)
	if !ok {
		c.malformed()
		return
	}
	calling, _, ok := nbName(p, n)
	if !ok {
		c.malformed()
		return
	}
	c.identify("netbios-ssn")
	if called.name != "" && called.name != "*SMBSERVER" && called.name != "*" {
		c.fact(c.receiver(), fieldSMBCalledName, called.label(), "netbios-ssn")
	}
	if calling.name != "" {
		c.fact(c.sender(), fieldSMBCallingName, calling.label(), "netbios-ssn")
	}
}

// smb1 reads an SMB1 message (m starts at 0xff 'SMB').
func smb1(c *appCtx, m []byte) {
	if len(m) < 35 {
		return
	}
	cmd := m[4]
	if cmd != 0x72 && cmd != 0x73 {
		return // not negotiate or session setup: nothing to learn
	}
	c.identify("smb")
	reply := m[9]&0x80 != 0
	if reply && c.fromServer() && c.once(smbOnceV1) {
		// the server answers in SMB1 (a client's SMB1 negotiate that the
		// server answers in SMB2 is only the classic upgrade path)
		c.factDetail(c.sender(), fieldSMBVersion, "1", "SMBv1 in use", "smb")
	}
	flags2 := binary.LittleEndian.Uint16(m[10:])
	unicode := flags2&0x8000 != 0
	wc := int(m[32])
	words := 33
	bcOff := words + 2*wc
	if bcOff+2 > len(m) {
		return // cut by the segment
	}
	bc := int(binary.LittleEndian.Uint16(m[bcOff:]))
	data := bcOff + 2
	end := data + bc
	if end > len(m) {
		end = len(m)
	}
	w := m[words:bcOff]
	switch {
	case cmd == 0x72 && reply:
		if c.once(smbOnceDialect) {
			d := "NT LM 0.12"
			if wc != 17 {
				d = "pre-NT LM dialect"
			}
			c.fact(c.server(), fieldSMBDialect, d, "smb")
		}
	case cmd == 0x72:
		// request: a list of 0x02 "dialect\0"
		if c.once(smbOnceOffered) {
			c.fact(c.client(), fieldSMBDialectOffered, smb1Dialects(m[data:end]), "smb")
		}
	case cmd == 0x73:
		smb1SessionSetup(c, m, w, wc, data, data+bc, reply, unicode)
	}
}

func smb1Dialects(b []byte) string {
	var out []byte
	for n := 0; len(b) > 1 && b[0] == 0x02 && n < 16; n++ {
		i := bytes.IndexByte(b[1:], 0)
		if i < 0 {
			break
		}
		if len(out) > 0 {
			out = append(out, ',')
		}
		out = append(out, b[1:1+i]...)
		b = b[2+i:]
	}
	return cleanText(out)
}

// smb1SessionSetup reads Session Setup AndX: the security blob (NTLMSSP)
// and the native OS / LAN manager strings that follow the account fields.
// msgEnd is where the byte block ends, possibly past this segment.
func smb1SessionSetup(c *appCtx, m, w []byte, wc, data, msgEnd int, reply, unicode bool) {
	end := min(msgEnd, len(m))
	skip := 0     // bytes before the strings
	nStrings := 0 // account strings before the native OS
	switch {
	case !reply && wc == 12 && len(w) >= 16: // extended security
		skip = int(binary.LittleEndian.Uint16(w[14:]))
	case !reply && wc == 13 && len(w) >= 18:
		skip = int(binary.LittleEndian.Uint16(w[14:])) + int(binary.LittleEndian.Uint16(w[16:]))
		nStrings = 2 // account name, primary domain
	case !reply && wc == 10 && len(w) >= 16:
		skip = int(binary.LittleEndian.Uint16(w[14:]))
		nStrings = 2
	case reply && wc == 4 && len(w) >= 8:
		skip = int(binary.LittleEndian.Uint16(w[6:]))
	case reply && wc == 3:
	default:
		return
	}
	blobEnd := data + skip
	if blobEnd > len(m) {
		blobEnd = len(m)
	}
	if wc == 12 || wc == 4 {
		if msg := ntlmFind(m[data:blobEnd]); msg != nil {
			parseNTLMSSP(c, msg, "smb")
		}
	}
	start := data + skip
	if msgEnd > len(m) && len(m)-start < smbMaxPrefix {
		// the strings start in the next segment or are cut by this one
		// (a large Kerberos blob): carry their beginning over
		var prefix []byte
		if start < len(m) {
			prefix = m[start:]
		}
		smbCarry(c, start-len(m), start, prefix, unicode, reply, nStrings)
		return
	}
	if start >= len(m) {
		return
	}
	smbNativeStrings(c, m, start, end, 0, unicode, reply, msgEnd > len(m), nStrings)
}

// A session setup whose strings start in (or run into) the next segment of
// the same direction leaves a note in the flow's state (appState.u32):
// bits 0-15 the offset of the strings in that segment (when they start
// there), 16 valid, 17 unicode, 18 the strings start at an odd offset from
// the SMB header, 19 reply, 20 account strings present, 21 the sender's
// side, 22 a prefix of the strings waits in smbPrefixes.
const (
	smbCarryValid   = 1 << 16
	smbCarryUnicode = 1 << 17
	smbCarryOdd     = 1 << 18
	smbCarryReply   = 1 << 19
	smbCarryAccount = 1 << 20
	smbCarrySide    = 1 << 21
	smbCarryPrefix  = 1 << 22
	smbMaxPrefix    = 160
)

// smbPrefixes holds the beginning of native OS strings cut by a segment
// end, per flow state, until the next segment arrives. It is touched only
// on that rare path; a bounded map shared by all decoders.
var smbPrefixes = struct {
	sync.Mutex
	m map[*appState][]byte
}{m: map[*appState][]byte{}}

// smbCarry remembers where the strings continue: at rel in the next
// segment (rel >= 0), or after prefix (rel < 0); start is their offset
// from the SMB header.
func smbCarry(c *appCtx, rel, start int, prefix []byte, unicode, reply bool, nStrings int) {
	if rel > 0xffff {
		return
	}
	st := c.state()
	v := uint32(smbCarryValid)
	if rel > 0 {
		v |= uint32(rel)
	}
	if unicode {
		v |= smbCarryUnicode
	}
	if start&1 != 0 {
		v |= smbCarryOdd
	}
	if reply {
		v |= smbCarryReply
	}
	if nStrings > 0 {
		v |= smbCarryAccount
	}
	if c.side == 1 {
		v |= smbCarrySide
	}
	if len(prefix) > 0 {
		v |= smbCarryPrefix
		smbPrefixes.Lock()
		if len(smbPrefixes.m) >= 1024 {
			clear(smbPrefixes.m) // flows that never continued
		}
		smbPrefixes.m[st] = append([]byte(nil), prefix...)
		smbPrefixes.Unlock()
	}
	st.u32 = v
}

// smbCarried reads the strings a previous segment left for this one; it
// reports whether the segment was the expected continuation.
func smbCarried(c *appCtx, p []byte) bool {
	st := c.f.app
	if st == nil || st.u32&smbCarryValid == 0 {
		return false
	}
	v := st.u32
	side := 0
	if v&smbCarrySide != 0 {
		side = 1
	}
	if side != c.side {
		return false
	}
	st.u32 = 0
	var prefix []byte
	if v&smbCarryPrefix != 0 {
		smbPrefixes.Lock()
		prefix = smbPrefixes.m[st]
		delete(smbPrefixes.m, st)
		smbPrefixes.Unlock()
	}
	if len(p) >= 8 && p[0] == 0 && p[5] == 'S' && p[6] == 'M' && p[7] == 'B' {
		return false // a new message: the continuation was lost
	}
	nStrings := 0
	if v&smbCarryAccount != 0 {
		nStrings = 2
	}
	// base makes (offset + base) the parity of the SMB header offset
	base := 0
	if v&smbCarryOdd != 0 {
		base = 1
	}
	unicode, reply := v&smbCarryUnicode != 0, v&smbCarryReply != 0
	if prefix == nil {
		rel := int(v & 0xffff)
		if rel < len(p) {
			smbNativeStrings(c, p, rel, len(p), (base-rel)&1, unicode, reply, true, nStrings)
		}
		return true
	}
	tail := p
	if len(tail) > 512 {
		tail = tail[:512]
	}
	buf := append(prefix, tail...)
	smbNativeStrings(c, buf, 0, len(buf), base, unicode, reply, len(p) > len(tail), nStrings)
	return true
}

// smbNativeStrings reads the account strings (nStrings), native OS, native
// LAN manager and (in a reply) primary domain at off; base is added to
// offsets for the two-byte alignment of Unicode strings.
// cut says the message goes on past end: an unterminated string there is
// incomplete and left out.
func smbNativeStrings(c *appCtx, m []byte, off, end, base int, unicode, reply, cut bool, nStrings int) {
	var strs [5]string
	want := nStrings + 3
	for i := 0; i < want && off < end; i++ {
		s, next, whole := smbString(m, off, end, base, unicode)
		if !whole && cut {
			break // the rest of the string is in the next segment
		}
		strs[i], off = s, next
	}
	side := byte(c.side)
	ep := c.sender()
	osName, lanman := strs[nStrings], strs[nStrings+1]
	if osName != "" && c.once(smbOnceNativeOS+side) {
		c.fact(ep, fieldSMBNativeOS, osName, "smb")
		c.factDetail(ep, model.FieldOS, osName, "SMB native OS", "smb")
	}
	if lanman != "" && c.once(smbOnceLanMan+side) {
		c.fact(ep, fieldSMBNativeLanMan, lanman, "smb")
	}
	if reply {
		if d := strs[nStrings+2]; d != "" && c.once(smbOnceDomain+side) {
			c.fact(ep, fieldSMBPrimaryDomain, d, "smb")
		}
	}
}

// smbString reads a NUL-terminated string at off (UTF-16LE aligned to two
// bytes from the SMB header when unicode; base corrects offsets that are
// not relative to the header) and returns it with the offset after it and
// whether its terminator was found before end.
func smbString(m []byte, off, end, base int, unicode bool) (string, int, bool) {
	if off >= end {
		return "", end, false
	}
	if !unicode {
		i := bytes.IndexByte(m[off:end], 0)
		if i < 0 {
			return cleanText(m[off:end]), end, false
		}
		return cleanText(m[off : off+i]), off + i + 1, true
	}
	if (off+base)%2 == 1 {
		off++
	}
	for i := off; i+1 < end; i += 2 {
		if m[i] == 0 && m[i+1] == 0 {
			return utf16Text(m[off:i]), i + 2, true
		}
	}
	if off > end {
		return "", end, false
	}
	return utf16Text(m[off:end]), end, false
}

// smb2 reads an SMB2/3 message (m starts at 0xfe 'SMB').
func smb2(c *appCtx, m []byte) {
	if len(m) < 64+8 {
		return
	}
	cmd := binary.LittleEndian.Uint16(m[12:])
	if cmd != 0 && cmd != 1 { // negotiate, session setup
		return
	}
	c.identify("smb")
	reply := binary.LittleEndian.Uint32(m[16:])&1 != 0
	b := m[64:]
	switch {
	case cmd == 0 && reply:
		if c.once(smbOnceDialect) {
			d := binary.LittleEndian.Uint16(b[4:])
			c.fact(c.server(), fieldSMBDialect, smb2Dialect(d), "smb")
			if d >= 0x0300 && d != 0x02ff {
				c.fact(c.server(), fieldSMBVersion, "3", "smb")
			} else if d != 0x02ff {
				c.fact(c.server(), fieldSMBVersion, "2", "smb")
			}
		}
		// the security buffer of a negotiate response is SPNEGO hints only
	case cmd == 0:
		if c.once(smbOnceOffered) {
			n := int(binary.LittleEndian.Uint16(b[2:]))
			if n > 16 || 36+2*n > len(b) {
				return
			}
			var out []byte
			for i := 0; i < n; i++ {
				if i > 0 {
					out = append(out, ',')
				}
				out = append(out, smb2Dialect(binary.LittleEndian.Uint16(b[36+2*i:]))...)
			}
			c.fact(c.client(), fieldSMBDialectOffered, string(out), "smb")
		}
	case cmd == 1:
		// session setup: security buffer offset (from the header) and length
		var off, l int
		if reply && len(b) >= 8 {
			off, l = int(binary.LittleEndian.Uint16(b[4:])), int(binary.LittleEndian.Uint16(b[6:]))
		} else if !reply && len(b) >= 16 {
			off, l = int(binary.LittleEndian.Uint16(b[12:])), int(binary.LittleEndian.Uint16(b[14:]))
		}
		if off < 64 || off > len(m) {
			return
		}
		// a large AUTHENTICATE may continue in the next segment: its names
		// come first (MS-NLMP 4.2.2.3), so read what arrived
		l = min(l, len(m)-off)
		if msg := ntlmFind(m[off : off+l]); msg != nil {
			parseNTLMSSP(c, msg, "smb")
		}
	}
}

// smb2Dialect renders a dialect revision: 0x0311 -> "3.1.1".
func smb2Dialect(d uint16) string {
	switch d {
	case 0x0202:
		return "2.0.2"
	case 0x0210:
		return "2.1"
	case 0x0300:
		return "3.0"
	case 0x0302:
		return "3.0.2"
	case 0x0311:
		return "3.1.1"
	case 0x02ff:
		return "2.???"
	}
	return "0x" + ithHex([]byte{byte(d >> 8), byte(d)})
}
