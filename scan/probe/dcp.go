package probe

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"otscope/model"
)

// PROFINET DCP Identify (IEC 61158-6-10), unicast by default: one
// Identify-All to the target's MAC (known to the session, or learnt by one
// ARP who-has for the target), then the Identify response (FrameID 0xFEFF)
// with our transaction id until the answer timeout. The station answers
// with its name of station, vendor and device id, role and IP suite; the
// response is decoded like a capture.
//
// The segment-wide form (Identify-All to the multicast address
// 01:0e:cf:00:00:00) reaches every PROFINET station of the segment, in
// scope or not: it is planned only when the user accepts that
// (PlanOptions.DCPMulticast, --dcp-multicast), once per interface, with
// the first in-scope target of that interface's subnet, and the session
// refuses it otherwise. Raw frames need CAP_NET_RAW.

const (
	dcpEtherType = 0x8892
	dcpFrameReq  = 0xfefe
	dcpFrameResp = 0xfeff
	dcpIdentify  = 5
	// dcpDelayFactor spreads the answers over up to 640 ms (units of
	// 10 ms), so a segment of devices does not answer in one burst.
	dcpDelayFactor = 64
	dcpDelayMax    = 6400 // the largest factor the standard allows
	dcpMaxName     = 240
	dcpHeaderLen   = 14 + 12 // Ethernet, FrameID and the DCP header
)

var dcpMulticast = model.MAC{0x01, 0x0e, 0xcf, 0x00, 0x00, 0x00}

// dcpFields are what an Identify response tells of a station.
var dcpFields = []string{model.FieldStationName, model.FieldPNVendorID, model.FieldPNDeviceID}

type dcpProbe struct{}

func init() {
	Register(dcpProbe{})
	registerDissector("dcp", dissectDCP)
}

func (dcpProbe) Name() string { return "dcp" }

func (dcpProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	iface := itOnLink(t.Addr, "")
	if iface == "" {
		return Planned{}, false
	}
	miss := ""
	if o.FillGaps {
		if miss = missing(&t.Known, dcpFields...); miss == "" {
			return Planned{}, false
		}
		miss = ", " + miss + " unknown"
	}
	if o.DCPMulticast {
		if !o.firstInPlan("dcp/" + iface) {
			return Planned{}, false
		}
		return Planned{
			Probe: "dcp", Transport: L2, Segment: true,
			Why:   "MULTICAST Identify-All on " + iface + ": every PROFINET station answers, in scope or not (--dcp-multicast)" + miss + "; needs CAP_NET_RAW",
			Steps: []Step{{KindDCPIdentify, l2Packets}},
		}, true
	}
	p := Planned{Probe: "dcp", Transport: L2, Why: "Identify to its MAC" + miss + "; needs CAP_NET_RAW"}
	if t.MAC == (model.MAC{}) {
		p.Why = "ARP for its MAC, then Identify to it" + miss + "; needs CAP_NET_RAW"
		p.Steps = append(p.Steps, Step{KindARPRequest, l2Packets})
	}
	p.Steps = append(p.Steps, Step{KindDCPIdentify, l2Packets})
	return p, true
}

func (dcpProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	if s.LocalMAC() == (model.MAC{}) {
		return fmt.Errorf("dcp: interface %q has no MAC address", s.Iface())
	}
	dst, delay := dcpMulticast, uint16(dcpDelayFactor)
	if !p.Segment {
		mac, err := dcpTargetMAC(ctx, s, t)
		if mac == (model.MAC{}) {
			return err
		}
		dst, delay = mac, 1 // one station: nothing to spread
	}
	xid := rand.Uint32()
	r := &Request{
		Kind:    KindDCPIdentify,
		Payload: dcpIdentifyFrame(dst, s.LocalMAC(), xid, delay, ""),
		Timeout: s.Timeout() + time.Duration(delay)*10*time.Millisecond,
	}
	_, err := s.ExchangeL2(ctx, "dcp", r, dcpMatch(s.LocalMAC(), xid))
	return stopErr(ctx, err)
}

// dcpTargetMAC is the target's MAC: the one the session knows, or the
// sender of the answer to one ARP who-has for it (a target that does not
// answer is absent). The zero MAC means none, with the error that ends
// the probe (nil when it only ends it).
func dcpTargetMAC(ctx context.Context, s *Session, t *Target) (model.MAC, error) {
	if t.MAC != (model.MAC{}) {
		return t.MAC, nil
	}
	local := s.Local()
	if !local.Is4() || !t.Addr.Is4() {
		return model.MAC{}, fmt.Errorf("dcp: no IPv4 address on %q to ARP for %s", s.Iface(), t.Addr)
	}
	frames, err := s.ExchangeL2(ctx, "arp", &Request{Kind: KindARPRequest, Payload: arpRequestFrame(s.LocalMAC(), local, t.Addr)}, arpMatch(t.Addr))
	if len(frames) == 0 {
		if err == nil {
			s.MarkAbsent("no ARP reply")
		}
		return model.MAC{}, stopErr(ctx, err)
	}
	mac := model.MAC(frames[0][22:28]) // ARP sender hardware address
	if !mac.IsUnicast() || mac == (model.MAC{}) {
		return model.MAC{}, fmt.Errorf("dcp: ARP answer for %s names %s", t.Addr, mac)
	}
	return mac, nil
}

// dcpIdentifyFrame builds an Identify request from src to dst (a
// station's MAC or dcpMulticast): Identify-All, or filtered on a name of
// station when name is not empty.
func dcpIdentifyFrame(dst, src model.MAC, xid uint32, delay uint16, name string) []byte {
	b := make([]byte, 0, 64)
	b = append(b, dst[:]...)
	b = append(b, src[:]...)
	b = binary.BigEndian.AppendUint16(b, dcpEtherType)
	b = binary.BigEndian.AppendUint16(b, dcpFrameReq)
	b = append(b, dcpIdentify, 0) // service Identify, type request
	b = binary.BigEndian.AppendUint32(b, xid)
	b = binary.BigEndian.AppendUint16(b, delay)
	var block []byte
	if name == "" {
		block = []byte{0xff, 0xff, 0, 0} // All selector
	} else {
		block = append([]byte{0x02, 0x02, 0, byte(len(name))}, name...)
		if len(name)%2 == 1 {
			block = append(block, 0)
		}
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(block)))
	b = append(b, block...)
	for len(b) < arpMinFrame {
		b = append(b, 0)
	}
	return b
}

// dcpMatch accepts Identify responses to us with transaction id xid,
// VLAN-tagged or not.
func dcpMatch(us model.MAC, xid uint32) func([]byte) bool {
	return func(f []byte) bool {
		if len(f) < dcpHeaderLen || !bytes.Equal(f[:6], us[:]) {
			return false
		}
		p := f[12:]
		if binary.BigEndian.Uint16(p) == 0x8100 {
			if len(p) < 4+14 {
				return false
			}
			p = p[4:]
		}
		return binary.BigEndian.Uint16(p) == dcpEtherType && binary.BigEndian.Uint16(p[2:]) == dcpFrameResp &&
			p[4] == dcpIdentify && p[5]&1 == 1 && binary.BigEndian.Uint32(p[6:]) == xid
	}
}

// dissectDCP accepts exactly an Identify request to one station's MAC or
// to the DCP multicast address (which the session sends only with
// --dcp-multicast): Identify-All or a name-of-station filter, nothing else.
func dissectDCP(p []byte) (Kind, error) {
	if len(p) < dcpHeaderLen+4 {
		return "", errors.New("DCP frame cut short")
	}
	if dst := model.MAC(p[:6]); !bytes.Equal(p[:6], dcpMulticast[:]) && (!dst.IsUnicast() || dst == (model.MAC{})) {
		return "", errors.New("DCP Identify not sent to a station or the DCP multicast address")
	}
	if src := model.MAC(p[6:12]); !src.IsUnicast() {
		return "", errors.New("source MAC is not unicast")
	}
	if binary.BigEndian.Uint16(p[12:]) != dcpEtherType {
		return "", errors.New("not a PROFINET frame")
	}
	if id := binary.BigEndian.Uint16(p[14:]); id != dcpFrameReq {
		return "", fmt.Errorf("FrameID 0x%04x refused: Identify request only", id)
	}
	if p[16] != dcpIdentify || p[17] != 0 {
		return "", fmt.Errorf("DCP service %d type %d refused: Identify request only", p[16], p[17])
	}
	if d := binary.BigEndian.Uint16(p[22:]); d == 0 || d > dcpDelayMax {
		return "", errors.New("response delay factor out of range")
	}
	n := int(binary.BigEndian.Uint16(p[24:]))
	data := p[dcpHeaderLen:]
	if n > len(data) {
		return "", errors.New("DCP data length past the frame")
	}
	for _, c := range data[n:] {
		if c != 0 {
			return "", errors.New("trailing bytes after the DCP data")
		}
	}
	if len(p) > arpMinFrame && len(data) != n {
		return "", errors.New("padding on a frame above the minimum")
	}
	data = data[:n]
	switch {
	case bytes.Equal(data, []byte{0xff, 0xff, 0, 0}):
		return KindDCPIdentify, nil
	case len(data) >= 5 && data[0] == 0x02 && data[1] == 0x02:
		l := int(binary.BigEndian.Uint16(data[2:]))
		if l < 1 || l > dcpMaxName || len(data) != 4+l+l%2 || l%2 == 1 && data[len(data)-1] != 0 {
			return "", errors.New("name-of-station filter malformed")
		}
		if !dcpValidName(data[4 : 4+l]) {
			return "", errors.New("name-of-station filter is not a valid station name")
		}
		return KindDCPIdentify, nil
	}
	return "", errors.New("DCP Identify filter refused: All or name of station only")
}

// dcpValidName checks the characters of a name of station (lower-case
// letters, digits, '-' and '.').
func dcpValidName(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
