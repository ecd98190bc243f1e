package decode

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
)

// onDNS reads DNS, mDNS and LLMNR responses. An answer "name -> address"
// names the host at that address (keyed by the address, not by the DNS
// server that sent it); a PTR answer does the same in reverse. mDNS and
// LLMNR answers about the sender's own address are its hostname.
func (d *Decoder) onDNS(fi *frameInfo, src netip.Addr, sport uint16, payload []byte) {
	m := &d.dns
	if err := m.DecodeFromBytes(payload, gopacket.NilDecodeFeedback); err != nil {
		d.stats.DecodeErrors++
		return
	}
	if !m.QR {
		return
	}
	if sport == 53 && fi.hasMAC && fi.src.IsUnicast() && usableIP(src) && len(m.Answers) > 0 {
		d.fact(model.Endpoint{MAC: fi.src, IP: src, VLAN: fi.vlan}, model.FieldRole, model.RoleDNS, "dns")
	}
	proto := "dns"
	switch sport {
	case 5353:
		proto = "mdns"
	case 5355:
		proto = "llmnr"
	}
	for _, rrs := range [][]layers.DNSResourceRecord{m.Answers, m.Additionals} {
		for i := range rrs {
			d.dnsRecord(fi, src, proto, &rrs[i])
		}
	}
}

func (d *Decoder) dnsRecord(fi *frameInfo, src netip.Addr, proto string, rr *layers.DNSResourceRecord) {
	var (
		name string
		ip   netip.Addr
	)
	switch rr.Type {
	case layers.DNSTypeA, layers.DNSTypeAAAA:
		a, ok := netip.AddrFromSlice(rr.IP)
		if !ok {
			return
		}
		ip, name = a.Unmap(), cleanText(rr.Name)
	case layers.DNSTypePTR:
		a, ok := reverseName(string(rr.Name))
		if !ok {
			return
		}
		ip, name = a, cleanText(rr.PTR)
	default:
		return
	}
	name = strings.TrimSuffix(name, ".")
	if name == "" || !usableIP(ip) {
		return
	}
	subj := model.Endpoint{IP: ip}
	if ip == src && fi.hasMAC && fi.src.IsUnicast() {
		subj.MAC, subj.VLAN = fi.src, fi.vlan
	}
	if proto != "dns" && ip == src {
		d.fact(subj, model.FieldHostname, strings.TrimSuffix(name, ".local"), proto)
		return
	}
	d.fact(subj, model.FieldDNSName, name, proto)
}

// reverseName parses "4.3.2.1.in-addr.arpa" and the ip6.arpa nibble form.
func reverseName(n string) (netip.Addr, bool) {
	n = strings.TrimSuffix(strings.ToLower(n), ".")
	if rest, ok := strings.CutSuffix(n, ".in-addr.arpa"); ok {
		parts := strings.Split(rest, ".")
		if len(parts) != 4 {
			return netip.Addr{}, false
		}
		var b [4]byte
		for i, p := range parts {
			v, err := strconv.Atoi(p)
			if err != nil || v < 0 || v > 255 {
				return netip.Addr{}, false
			}
			b[3-i] = byte(v)
		}
		return netip.AddrFrom4(b), true
	}
	if rest, ok := strings.CutSuffix(n, ".ip6.arpa"); ok {
		parts := strings.Split(rest, ".")
		if len(parts) != 32 {
			return netip.Addr{}, false
		}
		var b [16]byte
		for i, p := range parts {
			v, err := strconv.ParseUint(p, 16, 8)
			if err != nil || len(p) != 1 {
				return netip.Addr{}, false
			}
			pos := 31 - i
			if pos%2 == 0 {
				b[pos/2] |= byte(v) << 4
			} else {
				b[pos/2] |= byte(v)
			}
		}
		return netip.AddrFrom16(b), true
	}
	return netip.Addr{}, false
}
