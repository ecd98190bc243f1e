package decode

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"

	"otscope/model"
)

// onNBNS reads NetBIOS name service registrations, refreshes and positive
// query responses (RFC 1002). Each NB resource record names the host at the
// address inside the record.
func (d *Decoder) onNBNS(fi *frameInfo, src netip.Addr, p []byte) {
	if len(p) < 12 {
		return
	}
	flags := binary.BigEndian.Uint16(p[2:])
	opcode := (flags >> 11) & 0xf
	isResp := flags&0x8000 != 0
	if opcode != 5 && opcode != 8 && opcode != 9 && !(opcode == 0 && isResp) {
		return // queries and releases name nobody
	}
	qd := int(binary.BigEndian.Uint16(p[4:]))
	rr := int(binary.BigEndian.Uint16(p[6:])) + int(binary.BigEndian.Uint16(p[8:])) + int(binary.BigEndian.Uint16(p[10:]))
	if qd > 8 || rr > 32 {
		d.stats.DecodeErrors++
		return
	}
	off := 12
	for i := 0; i < qd; i++ {
		_, n, ok := nbName(p, off)
		if !ok || n+4 > len(p) {
			d.stats.DecodeErrors++
			return
		}
		off = n + 4
	}
	for i := 0; i < rr; i++ {
		name, n, ok := nbName(p, off)
		if !ok || n+10 > len(p) {
			d.stats.DecodeErrors++
			return
		}
		typ := binary.BigEndian.Uint16(p[n:])
		rdlen := int(binary.BigEndian.Uint16(p[n+8:]))
		rdata := n + 10
		if rdata+rdlen > len(p) {
			d.stats.DecodeErrors++
			return
		}
		if typ == 0x20 { // NB
			for e := rdata; e+6 <= rdata+rdlen; e += 6 {
				group := binary.BigEndian.Uint16(p[e:])&0x8000 != 0
				ip := netip.AddrFrom4([4]byte(p[e+2 : e+6]))
				d.nbFact(fi, src, ip, name, group)
			}
		}
		off = rdata + rdlen
	}
}

func (d *Decoder) nbFact(fi *frameInfo, src, ip netip.Addr, n nbEncoded, group bool) {
	if !usableIP(ip) || n.name == "" || n.name == "*" {
		return
	}
	subj := model.Endpoint{IP: ip}
	if ip == src && fi.hasMAC && fi.src.IsUnicast() {
		subj.MAC, subj.VLAN = fi.src, fi.vlan
	}
	label := n.name + "<" + hex2(n.suffix) + ">"
	d.fact(subj, fieldNBNSName, n.label(), "nbns")
	if group {
		d.fact(subj, model.FieldNetBIOSGroup, label, "nbns")
		if n.suffix == 0x00 || n.suffix == 0x1c || n.suffix == 0x1e {
			d.fact(subj, model.FieldDomain, n.name, "nbns")
		}
		return
	}
	d.fact(subj, model.FieldNetBIOSName, label, "nbns")
	if n.suffix == 0x00 || n.suffix == 0x20 {
		d.fact(subj, model.FieldHostname, n.name, "nbns")
	}
}

type nbEncoded struct {
	name   string
	suffix byte
	raw    [15]byte // the name as sent, space padded
}

// fieldNBNSName is a NetBIOS name as Wireshark shows it: the name with
// non-printable bytes as <xx>, the suffix and the service it stands for,
// "HOST1<20> (Server service)". Group names are included: the record says
// the host is a member.
const fieldNBNSName = "nbns.name"

// label renders n in Wireshark's form.
func (n nbEncoded) label() string {
	const digits = "0123456789abcdef"
	raw := bytes.TrimRight(n.raw[:], " ")
	b := make([]byte, 0, len(raw)+48)
	for _, c := range raw {
		if c >= 0x20 && c < 0x7f {
			b = append(b, c)
		} else {
			b = append(b, '<', digits[c>>4], digits[c&0xf], '>')
		}
	}
	b = append(b, '<', digits[n.suffix>>4], digits[n.suffix&0xf], '>', ' ', '(')
	svc := nbServices[n.suffix]
	if svc == "" {
		svc = "Unknown"
	}
	b = append(b, svc...)
	b = append(b, ')')
	return string(b)
}

// nbServices names the 16th byte of a NetBIOS name, as Wireshark's
// packet-netbios.c does (after Microsoft KB 163409).
var nbServices = [256]string{
	0x00: "Workstation/Redirector",
	0x01: "Browser",
	0x02: "Workstation/Redirector",
	0x03: "Messenger service/Main name",
	0x05: "Forwarded name",
	0x06: "RAS Server service",
	0x1b: "Domain Master Browser",
	0x1c: "Domain Controllers",
	0x1d: "Local Master Browser",
	0x1e: "Browser Election Service",
	0x1f: "Net DDE Service",
	0x20: "Server service",
	0x21: "RAS client service",
	0x22: "Exchange Interchange (MSMail Connector)",
	0x23: "Exchange Store",
	0x24: "Exchange Directory",
	0x2b: "Lotus Notes Server service",
	0x30: "Modem sharing server service",
	0x31: "Modem sharing client service",
	0x43: "SMS Clients Remote Control",
	0x44: "SMS Administrators Remote Control Tool",
	0x45: "SMS Clients Remote Chat",
	0x46: "SMS Clients Remote Transfer",
	0x4c: "DEC Pathworks TCP/IP Service on Windows NT",
	0x52: "DEC Pathworks TCP/IP Service on Windows NT",
	0x6a: "Microsoft Exchange IMC",
	0x87: "Microsoft Exchange MTA",
	0xbe: "Network Monitor Agent",
	0xbf: "Network Monitor Analyzer",
}

// nbName reads a (possibly compressed) first-level encoded NetBIOS name at
// off and returns it with the offset after it in the packet.
func nbName(p []byte, off int) (nbEncoded, int, bool) {
	if off >= len(p) {
		return nbEncoded{}, 0, false
	}
	if p[off]&0xc0 == 0xc0 { // pointer
		if off+2 > len(p) {
			return nbEncoded{}, 0, false
		}
		ptr := int(binary.BigEndian.Uint16(p[off:]) & 0x3fff)
		if ptr >= off {
			return nbEncoded{}, 0, false
		}
		n, _, ok := nbName(p, ptr)
		return n, off + 2, ok
	}
	l := int(p[off])
	if l != 32 || off+1+l >= len(p) {
		return nbEncoded{}, 0, false
	}
	enc := p[off+1 : off+1+l]
	var raw [16]byte
	for i := 0; i < 16; i++ {
		hi, lo := enc[2*i]-'A', enc[2*i+1]-'A'
		if hi > 15 || lo > 15 {
			return nbEncoded{}, 0, false
		}
		raw[i] = hi<<4 | lo
	}
	end := off + 1 + l
	// skip scope labels up to the terminating zero
	for end < len(p) && p[end] != 0 {
		end += int(p[end]) + 1
	}
	if end >= len(p) {
		return nbEncoded{}, 0, false
	}
	return nbEncoded{name: cleanText(bytes.TrimRight(raw[:15], " ")), suffix: raw[15], raw: [15]byte(raw[:15])}, end + 1, true
}

func hex2(b byte) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[b>>4], digits[b&0xf]})
}

var browseMailslot = []byte(`\MAILSLOT\BROWSE` + "\x00")

// onBrowser reads Windows browser announcements (host, local master and
// domain announcements) carried in NetBIOS datagrams on UDP/138: the host
// name, the OS version and the server type bits.
func (d *Decoder) onBrowser(fi *frameInfo, src netip.Addr, p []byte) {
	i := bytes.Index(p, browseMailslot)
	if i < 0 {
		return
	}
	b := p[i+len(browseMailslot):]
	if len(b) < 28 {
		return
	}
	op := b[0]
	if op != 0x01 && op != 0x0f && op != 0x0c { // host, local master, domain announcement
		return
	}
	// the server name is NUL-terminated inside its 16 bytes; what follows
	// the NUL is uninitialised memory of the sender
	nb := b[6:22]
	if i := bytes.IndexByte(nb, 0); i >= 0 {
		nb = nb[:i]
	}
	name := cleanText(nb)
	major, minor := b[22], b[23]
	stype := binary.LittleEndian.Uint32(b[24:28])
	subj := model.Endpoint{IP: src}
	if fi.hasMAC && fi.src.IsUnicast() {
		subj.MAC, subj.VLAN = fi.src, fi.vlan
	}
	if op == 0x0c {
		d.fact(subj, model.FieldDomain, name, "browser")
		return
	}
	d.fact(subj, model.FieldHostname, name, "browser")
	d.fact(subj, fieldBrowserServer, name, "browser")
	d.fact(subj, "browser.os_version", strconv.Itoa(int(major))+"."+strconv.Itoa(int(minor)), "browser")
	if stype&0x800 == 0 { // not a Xenix/Unix (Samba) server
		if os := windowsName(major, minor, stype&0x8018 != 0); os != "" {
			d.fact(subj, model.FieldOS, os, "browser")
		}
		d.fact(subj, fieldBrowserWindows, browserWindowsVersion(major, minor), "browser")
	}
	// browser version (2), signature (2), then the NUL-terminated comment
	if len(b) > 32 {
		c := b[32:]
		if i := bytes.IndexByte(c, 0); i >= 0 {
			c = c[:i]
		}
		d.fact(subj, fieldBrowserComment, cleanText(c), "browser")
	}
	if roles := browserRoles(stype); roles != "" {
		d.fact(subj, "browser.server_type", roles, "browser")
	}
}

// Browser announcement fields, named as Wireshark names them.
const (
	fieldBrowserServer  = "browser.server"
	fieldBrowserWindows = "browser.windows_version"
	fieldBrowserComment = "browser.comment"
)

// browserWindowsVersion names the announced OS version as Wireshark's
// packet-smb-browse.c does; versions it does not name give "".
func browserWindowsVersion(major, minor byte) string {
	switch uint16(major)<<8 | uint16(minor) {
	case 0x0500:
		return "Windows 2000"
	case 0x0501:
		return "Windows XP"
	case 0x0502:
		return "Windows Server 2003 R2 or Windows Server 2003"
	case 0x0600:
		return "Windows Vista or Windows Server 2008"
	case 0x0601:
		return "Windows 7 or Windows Server 2008 R2"
	}
	return ""
}

// windowsName maps the browser's NT version to a product family. The same
// version is shared by a desktop and a server release, so both are named.
func windowsName(major, minor byte, server bool) string {
	v := strconv.Itoa(int(major)) + "." + strconv.Itoa(int(minor))
	names := map[string][2]string{
		"4.0":  {"Windows NT 4.0", "Windows NT 4.0 Server"},
		"5.0":  {"Windows 2000", "Windows 2000 Server"},
		"5.1":  {"Windows XP", "Windows XP"},
		"5.2":  {"Windows XP x64 / Server 2003", "Windows Server 2003"},
		"6.0":  {"Windows Vista", "Windows Server 2008"},
		"6.1":  {"Windows 7", "Windows Server 2008 R2"},
		"6.2":  {"Windows 8", "Windows Server 2012"},
		"6.3":  {"Windows 8.1", "Windows Server 2012 R2"},
		"10.0": {"Windows 10/11", "Windows Server 2016 or later"},
	}
	n, ok := names[v]
	if !ok {
		return ""
	}
	if server {
		return n[1] + " (NT " + v + ")"
	}
	return n[0] + " (NT " + v + ")"
}

func browserRoles(t uint32) string {
	var out []string
	bits := []struct {
		bit  uint32
		name string
	}{
		{0x1, "workstation"}, {0x2, "server"}, {0x4, "sql-server"}, {0x8, "domain-controller"},
		{0x10, "backup-controller"}, {0x20, "time-source"}, {0x200, "print-server"}, {0x800, "unix"},
		{0x1000, "nt"}, {0x8000, "server-nt"},
		{0x40000, "master-browser"}, {0x80000, "domain-master-browser"},
	}
	for _, b := range bits {
		if t&b.bit != 0 {
			out = append(out, b.name)
		}
	}
	return strings.Join(out, ",")
}
