package decode

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
)

// fieldDHCPRequested is the address a client asked for (option 50): a fact
// of the client, not one of its addresses.
const fieldDHCPRequested = "dhcp.requested_address"

// onDHCP reads a DHCPv4 message: the client's hostname, vendor class,
// parameter request list (an OS fingerprint) and the address it asks for or
// is given. Facts are keyed by the client's hardware address, not by the
// frame's sender (a relay or the server may send it).
func (d *Decoder) onDHCP(fi *frameInfo, src netip.Addr, payload []byte) {
	m := &d.dhcp
	if err := m.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
		d.stats.DecodeErrors++
		return
	}
	if m.HardwareType != layers.LinkTypeEthernet || len(m.ClientHWAddr) != 6 {
		return
	}
	client := model.MACFrom(m.ClientHWAddr)
	var msgType layers.DHCPMsgType
	var requested netip.Addr
	for _, o := range m.Options {
		if o.Type == layers.DHCPOptMessageType && len(o.Data) == 1 {
			msgType = layers.DHCPMsgType(o.Data[0])
		}
		if o.Type == layers.DHCPOptRequestIP && len(o.Data) == 4 {
			requested = netip.AddrFrom4([4]byte(o.Data))
		}
	}
	// The client's address is ciaddr only. Option 50 is the address it asks
	// for (in a Discover, its previous lease, perhaps on another subnet):
	// known from the payload, it is not an address the client uses until an
	// ACK binds it, and taken as one it made the client look like a router
	// sending for two addresses, and the old lease an asset of its own.
	clientIP := addr4(m.ClientIP)
	if !usableIP(clientIP) {
		clientIP = netip.Addr{}
	}
	subj := model.Endpoint{MAC: client, IP: clientIP, VLAN: fi.vlan}
	if m.Operation == layers.DHCPOpRequest {
		for _, o := range m.Options {
			switch o.Type {
			case layers.DHCPOptHostname:
				d.fact(subj, model.FieldHostname, cleanText(o.Data), "dhcp")
			case layers.DHCPOptClassID:
				d.fact(subj, model.FieldDHCPVendorClass, cleanText(o.Data), "dhcp")
			case layers.DHCPOptParamsRequest:
				d.fact(subj, model.FieldDHCPParamList, paramList(o.Data), "dhcp")
			case layers.DHCPOptClientID:
				d.fact(subj, model.FieldDHCPClientID, clientID(o.Data), "dhcp")
			case layers.DHCPOptDomainName:
				d.fact(subj, model.FieldDomain, cleanText(o.Data), "dhcp")
			}
		}
		if requested.IsValid() && usableIP(requested) {
			d.fact(subj, fieldDHCPRequested, requested.String(), "dhcp")
		}
		return
	}
	// A reply: the server (the frame's sender) serves DHCP; an ACK binds
	// the offered address to the client.
	if fi.hasMAC && fi.src.IsUnicast() && usableIP(src) {
		d.fact(model.Endpoint{MAC: fi.src, IP: src, VLAN: fi.vlan}, model.FieldRole, model.RoleDHCP, "dhcp")
	}
	if msgType == layers.DHCPMsgTypeAck {
		if yi := addr4(m.YourClientIP); usableIP(yi) {
			d.claim(client, yi, fi.vlan, "dhcp")
		}
	}
}

func addr4(ip []byte) netip.Addr {
	if len(ip) == 4 {
		return netip.AddrFrom4([4]byte(ip))
	}
	if len(ip) == 16 {
		a := netip.AddrFrom16([16]byte(ip)).Unmap()
		if a.Is4() {
			return a
		}
	}
	return netip.Addr{}
}

// paramList renders option 55 as Fingerbank does: "1,3,6,15,31,33".
func paramList(b []byte) string {
	var sb strings.Builder
	for i, v := range b {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.Itoa(int(v)))
	}
	return sb.String()
}

// clientID renders option 61: a hardware type 1 + MAC as the MAC, anything
// else as printable text or hex.
func clientID(b []byte) string {
	if len(b) == 7 && b[0] == 1 {
		return model.MACFrom(b[1:]).String()
	}
	if s := cleanText(b); s != "" && isPrintable(b) {
		return s
	}
	const digits = "0123456789abcdef"
	out := make([]byte, 0, len(b)*2)
	for _, v := range b {
		out = append(out, digits[v>>4], digits[v&0xf])
	}
	return string(out)
}

func isPrintable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
