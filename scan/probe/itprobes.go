package probe

import (
	"net"
	"net/netip"
)

// Helpers shared by the IT, building and layer-2 probes (bacnet, snmp,
// opcua, http, arp, dcp, tcp).

// firstInPlan reports whether key is new in this plan, and marks it seen.
// Outside BuildPlan (no memo) every key is new.
func (o *PlanOptions) firstInPlan(key string) bool {
	if o.planned == nil {
		return true
	}
	if o.planned[key] {
		return false
	}
	o.planned[key] = true
	return true
}

// itOnLink returns the interface that has a in one of its directly
// connected IPv4 subnets ("" when none, or only loopback). name restricts
// the search to one interface.
func itOnLink(a netip.Addr, name string) string {
	if !a.Is4() {
		return ""
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return ""
	}
	for _, ifc := range ifs {
		if name != "" && ifc.Name != name || ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || len(ifc.HardwareAddr) != 6 {
			continue
		}
		addrs, _ := ifc.Addrs()
		if itPrefixesContain(itPrefixes(addrs), a) {
			return ifc.Name
		}
	}
	return ""
}

// itPrefixes converts interface addresses to prefixes.
func itPrefixes(addrs []net.Addr) []netip.Prefix {
	var out []netip.Prefix
	for _, ad := range addrs {
		pn, ok := ad.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(pn.IP)
		ones, _ := pn.Mask.Size()
		if ok {
			out = append(out, netip.PrefixFrom(ip.Unmap(), ones).Masked())
		}
	}
	return out
}

// itPrefixesContain reports whether a lies in one of the IPv4 prefixes and
// is neither its network nor its broadcast address.
func itPrefixesContain(ps []netip.Prefix, a netip.Addr) bool {
	for _, p := range ps {
		if !p.Addr().Is4() || p.Bits() == 32 || !p.Contains(a) {
			continue
		}
		if p.Bits() < 31 {
			b := a.As4()
			host := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
			mask := uint32(1)<<(32-p.Bits()) - 1
			if host&mask == 0 || host&mask == mask {
				continue
			}
		}
		return true
	}
	return false
}
