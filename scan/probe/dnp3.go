package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"otscope/model"
	"otscope/scan/internal/dnp3crc"
)

// DNP3 (IEEE 1815) on tcp/20000: only the data link layer's Request Link
// Status (function 9, primary, FCV 0), which an outstation answers with
// Link Status (function 11) without touching its application layer.
//
// The destination is each outstation address seen passively on the asset
// (dnp3.address facts, at most dnp3MaxAddrs), else 1, the usual factory
// default; the source is 3, a master address outside the reserved range
// (4 when the destination is 3). Broadcast (0xFFFD-0xFFFF) and reserved
// (0xFFF0 and up) addresses are never used.

const (
	dnp3Port      = 20000
	dnp3DefDest   = 1
	dnp3Source    = 3
	dnp3MaxAddrs  = 4
	dnp3LinkFunc  = 9    // request link status
	dnp3CtrlReq   = 0xc9 // DIR=1 (from the master), PRM=1, FCB=0, FCV=0, function 9
	dnp3Reserved  = 0xfff0
	dnp3FrameSize = 10 // header block with its CRC, no user data
)

type dnp3Probe struct{}

func init() {
	Register(dnp3Probe{})
	registerDissector("dnp3", dissectDNP3)
}

func (dnp3Probe) Name() string { return "dnp3" }

// Plan asks link status of each known outstation address (or 1).
func (dnp3Probe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	p, ok := planTCP(t, o, "dnp3", "dnp3", dnp3Port, model.FieldDNP3Address)
	if !ok {
		return p, false
	}
	dests := dnp3Destinations(t)
	list := make([]string, len(dests))
	for i, d := range dests {
		list[i] = strconv.Itoa(int(d))
	}
	p.Why += "; link status to " + strings.Join(list, ",")
	p.Steps = append(p.Steps, Step{KindTCPConnect, connectPackets})
	for range dests {
		p.Steps = append(p.Steps, Step{KindDNP3LinkStatus, requestPackets(dnp3FrameSize)})
	}
	p.Steps = append(p.Steps, Step{KindTCPClose, closePackets})
	return p, true
}

// Run sends Request Link Status to each destination on one connection; an
// address that does not answer (an outstation ignores frames to other
// addresses) does not end the probe.
func (dnp3Probe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	return icsEach(ctx, s, "dnp3", p.Port, dnp3Destinations(t), func(c *Conn, d uint16) error {
		_, err := c.Exchange(ctx, &Request{
			Kind: KindDNP3LinkStatus, Payload: dnp3LinkStatus(d, dnp3SourceFor(d)), Frame: dnp3Frame, Summary: dnp3Summary,
		})
		return err
	})
}

// dnp3Destinations are the outstation addresses to ask.
func dnp3Destinations(t *Target) []uint16 {
	var out []uint16
	if a := t.Asset; a != nil && a.ProtocolIDs != nil {
		for _, s := range a.ProtocolIDs.DNP3Addresses {
			v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
			if err == nil && v < dnp3Reserved && !slices.Contains(out, uint16(v)) {
				out = append(out, uint16(v))
			}
		}
	}
	if len(out) == 0 {
		return []uint16{dnp3DefDest}
	}
	slices.Sort(out)
	if len(out) > dnp3MaxAddrs {
		out = out[:dnp3MaxAddrs]
	}
	return out
}

// dnp3SourceFor is the master address used toward dest.
func dnp3SourceFor(dest uint16) uint16 {
	if dest == dnp3Source {
		return dnp3Source + 1
	}
	return dnp3Source
}

// dnp3LinkStatus is a link-layer frame without user data: start 0x0564,
// length 5, control, destination and source (little endian), header CRC.
func dnp3LinkStatus(dest, src uint16) []byte {
	b := []byte{0x05, 0x64, 5, dnp3CtrlReq, 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(b[4:], dest)
	binary.LittleEndian.PutUint16(b[6:], src)
	binary.LittleEndian.PutUint16(b[8:], dnp3crc.Sum(b[:8]))
	return b
}

// dnp3Frame frames one link-layer frame: the header, then the user data in
// 16-byte blocks each followed by its CRC.
func dnp3Frame(b []byte) (int, error) {
	if len(b) >= 1 && b[0] != 0x05 || len(b) >= 2 && b[1] != 0x64 {
		return 0, errors.New("dnp3: no 0x0564 start")
	}
	if len(b) < 3 {
		return 0, nil
	}
	if b[2] < 5 {
		return 0, fmt.Errorf("dnp3: link length %d below 5", b[2])
	}
	data := int(b[2]) - 5
	return dnp3FrameSize + data + 2*((data+15)/16), nil
}

// dnp3LinkFuncs names the secondary (answer) link functions.
var dnp3LinkFuncs = map[byte]string{0: "ack", 1: "nack", 11: "link status", 14: "link not functioning", 15: "not supported"}

// dnp3Summary describes an answer for the packet log.
func dnp3Summary(b []byte) string {
	if len(b) < dnp3FrameSize {
		return strconv.Itoa(len(b)) + " bytes, too short"
	}
	if binary.LittleEndian.Uint16(b[8:]) != dnp3crc.Sum(b[:8]) {
		return "bad header CRC"
	}
	ctrl := b[3]
	fn := ctrl & 0x0f
	name := "function " + strconv.Itoa(int(fn))
	if ctrl&0x40 != 0 {
		name = "primary " + name
	} else if n, ok := dnp3LinkFuncs[fn]; ok {
		name = n
	}
	return fmt.Sprintf("%s from %d to %d", name, binary.LittleEndian.Uint16(b[6:]), binary.LittleEndian.Uint16(b[4:]))
}

// dissectDNP3 reads a request as an outstation's link layer does: exactly
// one 10-byte frame (start 0x0564, length 5: no user data, so no transport
// or application layer), control PRM=1 with FCV=0 and FCB=0 and function 9
// (request link status), a destination that is not broadcast or reserved,
// and a valid header CRC.
func dissectDNP3(p []byte) (Kind, error) {
	if len(p) != dnp3FrameSize {
		return "", fmt.Errorf("link status is one 10-byte frame, not %d bytes", len(p))
	}
	if p[0] != 0x05 || p[1] != 0x64 {
		return "", errors.New("no 0x0564 start")
	}
	if p[2] != 5 {
		return "", errors.New("link length must be 5 (no user data)")
	}
	if binary.LittleEndian.Uint16(p[8:]) != dnp3crc.Sum(p[:8]) {
		return "", errors.New("header CRC is wrong")
	}
	ctrl := p[3]
	if ctrl&0x40 == 0 {
		return "", errors.New("not a primary (request) frame")
	}
	if ctrl&0x30 != 0 {
		return "", errors.New("FCB/FCV must be 0 for link status")
	}
	if fn := ctrl & 0x0f; fn != dnp3LinkFunc {
		return "", fmt.Errorf("link function %d not allowed (only 9, request link status)", fn)
	}
	if dest := binary.LittleEndian.Uint16(p[4:]); dest >= dnp3Reserved {
		return "", fmt.Errorf("destination 0x%04x is broadcast or reserved", dest)
	}
	if src := binary.LittleEndian.Uint16(p[6:]); src >= dnp3Reserved {
		return "", fmt.Errorf("source 0x%04x is reserved", src)
	}
	return KindDNP3LinkStatus, nil
}
