package oui

import "otscope/model"

// wellKnown is a group address, or a range of them sharing the first n bytes.
type wellKnown struct {
	addr  model.MAC
	n     int // significant leading bytes of addr
	label string
}

// groups lists the multicast addresses an OT network commonly carries,
// most specific first within each family; Describe returns the first match.
var groups = []wellKnown{
	// IEEE 802.1 reserved group addresses, 01:80:c2:00:00:0X.
	{model.MAC{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}, 6, "STP"},
	{model.MAC{0x01, 0x80, 0xc2, 0x00, 0x00, 0x01}, 6, "Ethernet PAUSE"},
	{model.MAC{0x01, 0x80, 0xc2, 0x00, 0x00, 0x02}, 6, "slow protocols (LACP)"},
	{model.MAC{0x01, 0x80, 0xc2, 0x00, 0x00, 0x03}, 6, "802.1X"},
	{model.MAC{0x01, 0x80, 0xc2, 0x00, 0x00, 0x0e}, 6, "LLDP"},
	{model.MAC{0x01, 0x80, 0xc2, 0x00, 0x00, 0x20}, 6, "MMRP"},
	{model.MAC{0x01, 0x80, 0xc2, 0x00, 0x00, 0x21}, 6, "MVRP"},
	{model.MAC{0x01, 0x80, 0xc2, 0x00, 0x00}, 5, "IEEE 802.1 reserved"},
	// Cisco.
	{model.MAC{0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcc}, 6, "CDP"},
	{model.MAC{0x01, 0x00, 0x0c, 0xcc, 0xcc, 0xcd}, 6, "Cisco PVST+"},
	// PROFINET (IEC 61158-6-10), 01:0e:cf:00:00:00 - 01:0e:cf:00:05:ff.
	{model.MAC{0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00}, 6, "PROFINET DCP identify"},
	{model.MAC{0x01, 0x0e, 0xcf, 0x00, 0x00, 0x01}, 6, "PROFINET DCP hello"},
	{model.MAC{0x01, 0x0e, 0xcf, 0x00, 0x01}, 5, "PROFINET RT class 3"},
	{model.MAC{0x01, 0x0e, 0xcf, 0x00, 0x04}, 5, "PROFINET PTCP"},
	{model.MAC{0x01, 0x0e, 0xcf}, 3, "PROFINET"},
	// IEC 62439: MRP ring redundancy and PRP/HSR supervision.
	{model.MAC{0x01, 0x15, 0x4e, 0x00, 0x01}, 5, "PRP/HSR supervision"},
	{model.MAC{0x01, 0x15, 0x4e, 0x00, 0x00}, 5, "MRP"},
	// IEC 61850.
	{model.MAC{0x01, 0x0c, 0xcd, 0x01}, 4, "IEC 61850 GOOSE"},
	{model.MAC{0x01, 0x0c, 0xcd, 0x02}, 4, "IEC 61850 GSSE"},
	{model.MAC{0x01, 0x0c, 0xcd, 0x04}, 4, "IEC 61850 SV"},
	// IEEE 1588 PTP over Ethernet (the peer-delay address is LLDP's).
	{model.MAC{0x01, 0x1b, 0x19, 0x00, 0x00, 0x00}, 6, "PTP"},
}

// Describe says what kind of address m is when it has no registered vendor:
// "broadcast", a protocol for well-known group addresses ("LLDP", "STP",
// "CDP", "PROFINET DCP identify", "IEC 61850 GOOSE", "IEC 61850 SV", "MRP",
// "PTP", ...), "IPv4 multicast", "IPv6 multicast", "multicast",
// "locally administered" or "zero address". It returns "" for universally
// administered unicast addresses, which Lookup covers.
func Describe(m model.MAC) string {
	switch {
	case m.IsBroadcast():
		return "broadcast"
	case m.IsMulticast():
		for i := range groups {
			g := &groups[i]
			if equalPrefix(m, g.addr, g.n) {
				return g.label
			}
		}
		switch {
		case m[0] == 0x01 && m[1] == 0x00 && m[2] == 0x5e && m[3]&0x80 == 0:
			return "IPv4 multicast"
		case m[0] == 0x33 && m[1] == 0x33:
			return "IPv6 multicast"
		}
		return "multicast"
	case m.IsLocal():
		return "locally administered"
	case m.IsZero():
		return "zero address"
	}
	return ""
}

func equalPrefix(a, b model.MAC, n int) bool {
	for i := range n {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
