package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"otscope/model"
)

// ARP (RFC 826) on the local segment: one who-has for the target, from the
// scanner's own MAC and address, broadcast on the interface whose directly
// connected subnet holds the target. The reply gives the target's MAC
// (and, through its OUI, a vendor). A target behind a router is never
// ARPed: the answer would be the router's. Raw frames need CAP_NET_RAW;
// without it the session logs why and the probe ends.

const (
	arpFrameLen = 42 // Ethernet header and the ARP payload for IPv4
	arpMinFrame = 60 // padded to the Ethernet minimum
)

var arpBroadcast = model.MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

type arpProbe struct{}

func init() {
	Register(arpProbe{})
	registerDissector("arp", dissectARP)
}

func (arpProbe) Name() string { return "arp" }

func (arpProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	iface := itOnLink(t.Addr, "")
	if iface == "" {
		return Planned{}, false
	}
	why := "on the subnet of " + iface
	if o.FillGaps {
		if t.MAC != (model.MAC{}) {
			return Planned{}, false
		}
		why += ", MAC unknown"
	}
	return Planned{
		Probe: "arp", Transport: L2, Why: why + "; needs CAP_NET_RAW",
		Steps: []Step{{KindARPRequest, l2Packets}},
	}, true
}

func (arpProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	local := s.Local()
	if itOnLink(t.Addr, s.Iface()) == "" || !local.Is4() || s.LocalMAC() == (model.MAC{}) {
		return fmt.Errorf("arp: %s is not on a directly connected subnet of %q", t.Addr, s.Iface())
	}
	r := &Request{Kind: KindARPRequest, Payload: arpRequestFrame(s.LocalMAC(), local, t.Addr)}
	frames, err := s.ExchangeL2(ctx, "arp", r, arpMatch(t.Addr))
	var xe *ExchangeError
	if err == nil && len(frames) == 0 || errors.As(err, &xe) && xe.Answer == "timeout" {
		// a host on the segment that does not answer ARP is not there
		s.MarkAbsent("no ARP reply")
	}
	return stopErr(ctx, err)
}

// arpRequestFrame is a broadcast who-has for target from mac/ip, padded to
// the Ethernet minimum.
func arpRequestFrame(mac model.MAC, ip, target netip.Addr) []byte {
	b := make([]byte, 0, arpMinFrame)
	b = append(b, arpBroadcast[:]...)
	b = append(b, mac[:]...)
	b = append(b, 0x08, 0x06)
	b = append(b, 0, 1, 0x08, 0x00, 6, 4, 0, 1) // Ethernet, IPv4, op 1 request
	b = append(b, mac[:]...)
	spa, tpa := ip.As4(), target.As4()
	b = append(b, spa[:]...)
	b = append(b, make([]byte, 6)...) // target MAC: unknown
	b = append(b, tpa[:]...)
	return append(b, make([]byte, arpMinFrame-arpFrameLen)...)
}

// arpMatch accepts an ARP reply from target.
func arpMatch(target netip.Addr) func([]byte) bool {
	tpa := target.As4()
	return func(f []byte) bool {
		return len(f) >= arpFrameLen && f[12] == 0x08 && f[13] == 0x06 &&
			bytes.Equal(f[14:22], []byte{0, 1, 0x08, 0x00, 6, 4, 0, 2}) &&
			[4]byte(f[28:32]) == tpa
	}
}

// dissectARP accepts exactly a broadcast ARP request (op 1) for one unicast
// IPv4 address from the sender's own MAC: no reply, no gratuitous or
// announcing ARP (which would rewrite neighbours' caches), no VLAN tag.
func dissectARP(p []byte) (Kind, error) {
	if len(p) < arpFrameLen {
		return "", errors.New("ARP frame cut short")
	}
	if len(p) > arpMinFrame && len(p) != arpFrameLen {
		return "", errors.New("trailing bytes after the ARP payload")
	}
	if !bytes.Equal(p[:6], arpBroadcast[:]) {
		return "", errors.New("ARP request not broadcast")
	}
	if p[12] != 0x08 || p[13] != 0x06 {
		return "", errors.New("not an ARP frame")
	}
	if !bytes.Equal(p[14:20], []byte{0, 1, 0x08, 0x00, 6, 4}) {
		return "", errors.New("ARP is not Ethernet/IPv4")
	}
	if op := binary.BigEndian.Uint16(p[20:]); op != 1 {
		return "", fmt.Errorf("ARP op %d refused: request only", op)
	}
	sha := model.MAC(p[22:28])
	if !bytes.Equal(p[6:12], sha[:]) || sha[0]&1 != 0 || sha == (model.MAC{}) {
		return "", errors.New("ARP sender MAC is not the frame's unicast source")
	}
	if !bytes.Equal(p[32:38], make([]byte, 6)) {
		return "", errors.New("ARP request names a target MAC")
	}
	spa, tpa := netip.AddrFrom4([4]byte(p[28:32])), netip.AddrFrom4([4]byte(p[38:42]))
	if spa == tpa {
		return "", errors.New("gratuitous ARP refused")
	}
	if tpa.IsUnspecified() || tpa.IsMulticast() || tpa.IsLoopback() || tpa == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return "", errors.New("ARP target is not a unicast address")
	}
	for _, c := range p[arpFrameLen:] {
		if c != 0 {
			return "", errors.New("padding is not zero")
		}
	}
	return KindARPRequest, nil
}
