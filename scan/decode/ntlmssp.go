package decode

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"unicode/utf16"

	"otscope/model"
)

// NTLMSSP ([MS-NLMP] 2.2.1) inside SMB session setups and HTTP
// Authorization / WWW-Authenticate headers. The CHALLENGE a server sends
// names it (NetBIOS and DNS computer and domain names, OS version); the
// AUTHENTICATE a client sends names the client's workstation and domain.

// NTLMSSP fact fields.
const (
	fieldNTLMNbComputer  = "ntlmssp.nb_computer_name"
	fieldNTLMNbDomain    = "ntlmssp.nb_domain_name"
	fieldNTLMDNSComputer = "ntlmssp.dns_computer_name"
	fieldNTLMDNSDomain   = "ntlmssp.dns_domain_name"
	fieldNTLMDNSTree     = "ntlmssp.dns_tree_name"
	fieldNTLMOSVersion   = "ntlmssp.os_version"
	fieldNTLMAuthHost    = "ntlmssp.auth.hostname"
	fieldNTLMAuthDomain  = "ntlmssp.auth.domain"
)

var ntlmSignature = []byte("NTLMSSP\x00")

// maxNTLM bounds the NTLMSSP message read (a CHALLENGE is a few hundred bytes).
const maxNTLM = 4096

// ntlmFind returns the NTLMSSP message inside b (an SPNEGO blob or a raw
// message), or nil.
func ntlmFind(b []byte) []byte {
	i := bytes.Index(b, ntlmSignature)
	if i < 0 {
		return nil
	}
	m := b[i:]
	if len(m) > maxNTLM {
		m = m[:maxNTLM]
	}
	return m
}

// ntlmField returns the bytes a (len, maxlen, offset) field at off points to.
func ntlmField(m []byte, off int) ([]byte, bool) {
	if off+8 > len(m) {
		return nil, false
	}
	l := int(binary.LittleEndian.Uint16(m[off:]))
	o := int(binary.LittleEndian.Uint32(m[off+4:]))
	if l == 0 {
		return nil, true
	}
	if o < 0 || o > len(m) || l > len(m)-o {
		return nil, false
	}
	return m[o : o+l], true
}

// ntlmString decodes a name: UTF-16LE when the message negotiated Unicode,
// OEM (ASCII) otherwise.
func ntlmString(b []byte, unicode bool) string {
	if !unicode {
		return cleanText(b)
	}
	return utf16Text(b)
}

// utf16Text decodes little-endian UTF-16 into a clean, bounded string.
func utf16Text(b []byte) string {
	if len(b) > maxText*4 {
		b = b[:maxText*4]
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return cleanText([]byte(string(utf16.Decode(u))))
}

// ntlmVersion renders the 8-byte VERSION structure: "6.1.7601".
func ntlmVersion(v []byte) string {
	if len(v) < 4 || v[0] == 0 {
		return ""
	}
	return strconv.Itoa(int(v[0])) + "." + strconv.Itoa(int(v[1])) + "." + strconv.Itoa(int(binary.LittleEndian.Uint16(v[2:])))
}

// ntlmOS names the Windows release family of an NTLM version, with the build.
func ntlmOS(v []byte) string {
	if len(v) < 4 || v[0] == 0 {
		return ""
	}
	build := binary.LittleEndian.Uint16(v[2:])
	if build == 0 {
		return "" // Samba and other implementations fill in a nominal version
	}
	return "Windows NT " + strconv.Itoa(int(v[0])) + "." + strconv.Itoa(int(v[1])) + " build " + strconv.Itoa(int(build))
}

// parseNTLMSSP reads one NTLMSSP message sent by the current packet's
// sender; proto names the carrier for provenance ("smb", "http").
func parseNTLMSSP(c *appCtx, m []byte, proto string) {
	if len(m) < 12 || !bytes.HasPrefix(m, ntlmSignature) {
		return
	}
	switch binary.LittleEndian.Uint32(m[8:]) {
	case 2:
		ntlmChallenge(c, m, proto)
	case 3:
		ntlmAuthenticate(c, m, proto)
	}
}

func ntlmChallenge(c *appCtx, m []byte, proto string) {
	if len(m) < 48 {
		c.malformed()
		return
	}
	if !c.once(0xe0) {
		return
	}
	srv := c.sender()
	flags := binary.LittleEndian.Uint32(m[20:])
	if flags&0x02000000 != 0 && len(m) >= 56 {
		if v := ntlmVersion(m[48:56]); v != "" {
			c.fact(srv, fieldNTLMOSVersion, v, proto)
			c.factDetail(srv, model.FieldOS, ntlmOS(m[48:56]), "NTLMSSP challenge version", proto)
		}
	}
	info, ok := ntlmField(m, 40)
	if !ok {
		c.malformed()
		return
	}
	for len(info) >= 4 {
		id := binary.LittleEndian.Uint16(info)
		l := int(binary.LittleEndian.Uint16(info[2:]))
		if id == 0 || 4+l > len(info) {
			break
		}
		v := info[4 : 4+l]
		info = info[4+l:]
		var field string
		switch id {
		case 1:
			field = fieldNTLMNbComputer
		case 2:
			field = fieldNTLMNbDomain
		case 3:
			field = fieldNTLMDNSComputer
		case 4:
			field = fieldNTLMDNSDomain
		case 5:
			field = fieldNTLMDNSTree
		default:
			continue
		}
		s := utf16Text(v)
		if s == "" {
			continue
		}
		c.fact(srv, field, s, proto)
		switch id {
		case 1:
			c.fact(srv, model.FieldHostname, s, proto)
		case 3:
			c.fact(srv, model.FieldDNSName, s, proto)
		case 4:
			c.fact(srv, model.FieldDomain, s, proto)
		}
	}
}

func ntlmAuthenticate(c *appCtx, m []byte, proto string) {
	if len(m) < 64 {
		c.malformed()
		return
	}
	// Each name is read on its own: a message cut by the segment or the
	// snap length keeps the names that arrived (they come before the
	// responses). The once bit is spent only when the workstation and the
	// domain were both read, so a cut message does not hide a later one on
	// the same connection.
	unicode := binary.LittleEndian.Uint32(m[60:])&1 != 0
	dom, okDom := ntlmField(m, 28)
	user, okUser := ntlmField(m, 36)
	ws, okWS := ntlmField(m, 44)
	if !okDom && !okWS {
		c.malformed()
		return
	}
	if okDom && okWS && !c.once(0xe1) {
		return
	}
	cli := c.sender()
	if h := ntlmString(ws, unicode); okWS && h != "" {
		c.fact(cli, fieldNTLMAuthHost, h, proto)
		c.fact(cli, model.FieldHostname, h, proto)
	}
	if !okDom {
		return
	}
	if d := ntlmString(dom, unicode); d != "" {
		c.fact(cli, fieldNTLMAuthDomain, d, proto)
		c.fact(cli, model.FieldDomain, d, proto)
	} else if okUser {
		// Wireshark shows an empty domain as NULL; so do we, with why it
		// matters: the logon was to a local account, or anonymous
		detail := "empty domain: logon to a local account of the server"
		if len(user) == 0 {
			detail = "empty domain and user: anonymous (null session) logon"
		}
		c.factDetail(cli, fieldNTLMAuthDomain, "NULL", detail, proto)
	}
}
