package decode

import (
	"encoding/binary"
	"testing"
)

// browserAnnouncement builds a host announcement on \MAILSLOT\BROWSE; the
// name field holds garbage after its NUL, as real senders leave it.
func browserAnnouncement(op byte, name string, major, minor byte, stype uint32, comment string) []byte {
	p := append([]byte("....smb header...."), browseMailslot...)
	b := make([]byte, 32)
	b[0] = op
	copy(b[6:22], name+"\x00E\x01")
	b[22], b[23] = major, minor
	binary.LittleEndian.PutUint32(b[24:], stype)
	b = append(b, comment...)
	b = append(b, 0)
	return append(p, b...)
}

func TestBrowserAnnouncement(t *testing.T) {
	f := ithFacts(t,
		ithPkt(t, true, false, 138, 138, browserAnnouncement(0x01, "WIN2K3LAB021", 5, 2, 0x1003, "Line 3 historian")),
		ithPkt(t, true, true, 138, 138, browserAnnouncement(0x0f, "TI-VM", 4, 9, 0x809a03, "TI-VM server (Samba, Ubuntu)")))
	ithExpect(t, f,
		"10.1.0.10 browser.server=WIN2K3LAB021", "10.1.0.10 hostname=WIN2K3LAB021",
		"10.1.0.10 browser.windows_version=Windows Server 2003 R2 or Windows Server 2003",
		"10.1.0.10 browser.comment=Line 3 historian",
		"10.1.0.11 browser.server=TI-VM", "10.1.0.11 browser.comment=TI-VM server (Samba, Ubuntu)")
	for k := range f {
		if k == "10.1.0.11 browser.windows_version=" || (len(k) > 10 && k[:10] == "10.1.0.11 " && k[10:] >= "browser.windows" && k[10:] < "browser.windowz") {
			t.Errorf("Samba host got a Windows version: %s", k)
		}
	}
	for _, v := range []struct {
		major, minor byte
		want         string
	}{{5, 1, "Windows XP"}, {6, 0, "Windows Vista or Windows Server 2008"}, {6, 1, "Windows 7 or Windows Server 2008 R2"}, {10, 0, ""}} {
		if got := browserWindowsVersion(v.major, v.minor); got != v.want {
			t.Errorf("%d.%d = %q, want %q", v.major, v.minor, got, v.want)
		}
	}
}

func TestNBNSNameLabels(t *testing.T) {
	for _, c := range []struct {
		raw    string // up to 15 bytes, space padded
		suffix byte
		want   string
	}{
		{"KW-VLIPC", 0x00, "KW-VLIPC<00> (Workstation/Redirector)"},
		{"WORKGROUP", 0x1e, "WORKGROUP<1e> (Browser Election Service)"},
		{"\x01\x02__MSBROWSE__\x02", 0x01, "<01><02>__MSBROWSE__<02><01> (Browser)"},
		{"TYSON KEY", 0x03, "TYSON KEY<03> (Messenger service/Main name)"},
		{"X", 0x99, "X<99> (Unknown)"},
	} {
		n := nbEncoded{suffix: c.suffix}
		for i := range n.raw {
			n.raw[i] = ' '
		}
		copy(n.raw[:], c.raw)
		if got := n.label(); got != c.want {
			t.Errorf("label = %q, want %q", got, c.want)
		}
	}
}

// TestNBNSRegistrationLabel: a registration gives nbns.name in Wireshark's form.
func TestNBNSRegistrationLabel(t *testing.T) {
	p := []byte{0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1}
	p = append(p, nbEncode("KW-VLIPC", 0x20)...)
	p = append(p, 0, 0x20, 0, 1, 0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0, 0, 0, 6, 0, 0, 10, 1, 0, 10)
	f := ithFacts(t, ithPkt(t, true, false, 137, 137, p))
	ithExpect(t, f, "10.1.0.10 nbns.name=KW-VLIPC<20> (Server service)", "10.1.0.10 netbios.name=KW-VLIPC<20>")
}
