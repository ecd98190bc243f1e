package probe

import (
	"encoding/binary"
	"net/netip"
	"syscall"
)

// The kernel's neighbour table: before the first IP packet to a target on
// a directly connected subnet, the kernel ARPs for it (up to three requests,
// one a second, when nobody answers). Those requests are packets the scan
// causes, so the session budgets them: it reads the table through netlink
// (no privilege needed) to learn whether the kernel must ask, and how many
// requests it sent (NDA_PROBES).

// neighbour states (linux/neighbour.h).
const (
	nudIncomplete = 0x01
	nudFailed     = 0x20
	ndaDst        = 1
	ndaProbes     = 4
	ndmsgLen      = 12
)

// neighState is one neighbour-table entry as far as the scan cares.
type neighState struct {
	found    bool // the table has an entry for the address
	resolved bool // the entry has a link-layer address
	probes   int  // ARP requests the kernel sent for it
}

// neighbour returns the kernel's entry for a (IPv4 only).
func neighbour(a netip.Addr) neighState {
	var st neighState
	if !a.Is4() {
		return st
	}
	b, err := syscall.NetlinkRIB(syscall.RTM_GETNEIGH, syscall.AF_INET)
	if err != nil {
		return st
	}
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return st
	}
	want := a.As4()
	for _, m := range msgs {
		if m.Header.Type != syscall.RTM_NEWNEIGH || len(m.Data) < ndmsgLen {
			continue
		}
		state := binary.NativeEndian.Uint16(m.Data[8:10])
		var dst []byte
		probes := 0
		for rest := m.Data[ndmsgLen:]; len(rest) >= 4; {
			l := int(binary.NativeEndian.Uint16(rest[0:2]))
			typ := binary.NativeEndian.Uint16(rest[2:4])
			if l < 4 || l > len(rest) {
				break
			}
			val := rest[4:l]
			switch typ {
			case ndaDst:
				dst = val
			case ndaProbes:
				if len(val) >= 4 {
					probes = int(binary.NativeEndian.Uint32(val))
				}
			}
			rest = rest[min(len(rest), (l+3)&^3):]
		}
		if len(dst) != 4 || [4]byte(dst) != want {
			continue
		}
		return neighState{found: true, resolved: state&(nudIncomplete|nudFailed) == 0, probes: probes}
	}
	return st
}
