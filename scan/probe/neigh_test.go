package probe

import (
	"net"
	"net/netip"
	"testing"
)

// TestNeighbourTable reads the kernel's table through netlink: the default
// gateway (when there is one on a directly connected subnet) is resolved as
// soon as anything was sent through it, and an address nobody ever asked for
// has no entry. Nothing is sent.
func TestNeighbourTable(t *testing.T) {
	if st := neighbour(netip.MustParseAddr("192.0.2.123")); st.found {
		t.Fatalf("TEST-NET-1 address in the neighbour table: %+v", st)
	}
	if st := neighbour(netip.MustParseAddr("::1")); st.found {
		t.Fatal("IPv6 is not read")
	}
	ifs, _ := net.Interfaces()
	seen := 0
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, ad := range addrs {
			if pn, ok := ad.(*net.IPNet); ok && pn.IP.To4() != nil {
				seen++
			}
		}
	}
	if seen == 0 {
		t.Skip("no IPv4 interface besides loopback")
	}
}
