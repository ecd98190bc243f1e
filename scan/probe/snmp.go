package probe

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"otscope/model"

	"otscope/scan/internal/ber"
)

// SNMP (RFC 1157, RFC 3416) on udp/161: one GetRequest for the five
// system-group scalars, v2c then v1, for each community the user gave, in
// order, until one answers. A wrong community (or an unsupported version)
// gets no reply at all, so every try waits its timeout and is budgeted.
//
// Communities are secrets: they appear in the request bytes only, never in
// the packet log, a summary or an error (those say "community #2"). The
// passive decoder that reads the answers masks them in facts.

const (
	snmpPort = 161
	// snmpMaxCommunities bounds the tries: each one costs a timeout.
	snmpMaxCommunities = 3
	// snmpMaxVarbinds bounds what the dissector accepts in one request.
	snmpMaxVarbinds = 16
)

// snmpSystemOIDs are sysDescr.0, sysObjectID.0, sysName.0, sysLocation.0
// and sysContact.0, BER-encoded.
var snmpSystemOIDs = [][]byte{
	{0x2b, 6, 1, 2, 1, 1, 1, 0},
	{0x2b, 6, 1, 2, 1, 1, 2, 0},
	{0x2b, 6, 1, 2, 1, 1, 5, 0},
	{0x2b, 6, 1, 2, 1, 1, 6, 0},
	{0x2b, 6, 1, 2, 1, 1, 4, 0},
}

// snmpFields are the identity fields the system group fills.
var snmpFields = []string{model.FieldSNMPSysDescr, model.FieldSNMPSysObjectID, model.FieldSNMPSysName}

// SNMP versions as encoded in the message.
const (
	snmpV1  = 0
	snmpV2c = 1
)

type snmpProbe struct{}

func init() {
	Register(snmpProbe{})
	registerDissector("snmp", dissectSNMP)
}

func (snmpProbe) Name() string { return "snmp" }

// snmpCommunities returns the communities the probe tries.
func snmpCommunities(o *PlanOptions) []string {
	c := o.Communities
	if len(c) > snmpMaxCommunities {
		c = c[:snmpMaxCommunities]
	}
	return c
}

func (snmpProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	comms := snmpCommunities(o)
	if len(comms) == 0 {
		return Planned{}, false // communities are the user's to give
	}
	port := o.Port("snmp", snmpPort)
	why, ok := decideUDP(t, o, port, "snmp", false)
	if !ok {
		return Planned{}, false
	}
	p := Planned{Probe: "snmp", Transport: UDP, Port: port, Why: why}
	if o.FillGaps {
		miss := missing(&t.Known, snmpFields...)
		if miss == "" {
			return Planned{}, false
		}
		p.Why += ", " + miss + " unknown"
	}
	p.Why += fmt.Sprintf(", %d communit%s, v2c then v1", len(comms), map[bool]string{true: "y", false: "ies"}[len(comms) == 1])
	for range 2 * len(comms) {
		p.Steps = append(p.Steps, Step{Kind: KindSNMPGet, Packets: udpPackets})
	}
	return p, true
}

func (snmpProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	id := uint32(0)
	for i, c := range snmpCommunities(o) {
		for _, v := range []int{snmpV2c, snmpV1} {
			id++
			r := snmpGetRequest(v, c, id)
			r.Summary = func(b []byte) string { return fmt.Sprintf("community #%d: %s", i+1, snmpSummary(b)) }
			ans, err := s.ExchangeUDP(ctx, "snmp", p.Port, r)
			if err != nil {
				if stop := stopErr(ctx, err); stop != nil {
					return stop
				}
				continue // no reply: wrong community or version
			}
			if _, _, _, _, err := snmpResponse(ans); err == nil {
				return nil // answered (a late answer to an earlier try counts)
			}
		}
	}
	return nil
}

// snmpGetRequest builds a GetRequest of the system group.
func snmpGetRequest(version int, community string, id uint32) *Request {
	var vbs []byte
	for _, oid := range snmpSystemOIDs {
		vb := ber.TLV(0x06, oid)
		vb = append(vb, 0x05, 0x00)
		vbs = append(vbs, ber.TLV(0x30, vb)...)
	}
	pdu := ber.TLV(0x02, snmpIntBytes(id))
	pdu = append(pdu, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00) // error-status, error-index
	pdu = append(pdu, ber.TLV(0x30, vbs)...)
	msg := []byte{0x02, 0x01, byte(version)}
	msg = append(msg, ber.TLV(0x04, []byte(community))...)
	msg = append(msg, ber.TLV(0xa0, pdu)...)
	return &Request{
		Kind:    KindSNMPGet,
		Payload: ber.TLV(0x30, msg),
		Summary: snmpSummary,
	}
}

// snmpIntBytes encodes a non-negative INTEGER's contents.
func snmpIntBytes(v uint32) []byte {
	b := []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	for len(b) > 1 && b[0] == 0 && b[1]&0x80 == 0 {
		b = b[1:]
	}
	if b[0]&0x80 != 0 {
		b = append([]byte{0}, b...)
	}
	return b
}

// snmpRead reads one BER element at the start of b: tag, contents, rest.
// Lengths are definite, of at most 3 bytes, and within b.
func snmpRead(b []byte) (tag byte, val, rest []byte, err error) {
	if len(b) < 2 {
		return 0, nil, nil, errors.New("BER element cut short")
	}
	tag = b[0]
	if tag&0x1f == 0x1f {
		return 0, nil, nil, errors.New("BER multi-byte tag")
	}
	n, i := int(b[1]), 2
	if n&0x80 != 0 {
		k := n & 0x7f
		if k == 0 {
			return 0, nil, nil, errors.New("BER indefinite length")
		}
		if k > 3 || len(b) < 2+k {
			return 0, nil, nil, errors.New("BER length too long")
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		i += k
	}
	if n > len(b)-i {
		return 0, nil, nil, errors.New("BER length past the message")
	}
	return tag, b[i : i+n], b[i+n:], nil
}

// snmpSmallInt decodes a non-negative INTEGER of at most 4 bytes.
func snmpSmallInt(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 5 || b[0]&0x80 != 0 || len(b) == 5 && b[0] != 0 {
		return 0, false
	}
	var v uint32
	for _, c := range b {
		v = v<<8 | uint32(c)
	}
	return v, true
}

// dissectSNMP accepts a v1/v2c GetRequest or GetNextRequest whose every
// OID lies under the system group 1.3.6.1.2.1.1.
func dissectSNMP(p []byte) (Kind, error) {
	tag, msg, rest, err := snmpRead(p)
	if err != nil {
		return "", err
	}
	if tag != 0x30 || len(rest) != 0 {
		return "", errors.New("not one SNMP message")
	}
	tag, ver, msg, err := snmpRead(msg)
	if err != nil || tag != 0x02 {
		return "", errors.New("SNMP version missing")
	}
	if v, ok := snmpSmallInt(ver); !ok || v > snmpV2c {
		return "", errors.New("SNMP version refused: v1 and v2c only")
	}
	tag, _, msg, err = snmpRead(msg)
	if err != nil || tag != 0x04 {
		return "", errors.New("community missing")
	}
	tag, pdu, rest, err := snmpRead(msg)
	if err != nil {
		return "", err
	}
	if len(rest) != 0 {
		return "", errors.New("trailing bytes after the PDU")
	}
	switch tag {
	case 0xa0, 0xa1:
	case 0xa3:
		return "", errors.New("set-request refused")
	default:
		return "", fmt.Errorf("PDU 0x%02x refused: get and get-next only", tag)
	}
	for i, name := range []string{"request-id", "error-status", "error-index"} {
		var v []byte
		if tag, v, pdu, err = snmpRead(pdu); err != nil || tag != 0x02 || len(v) == 0 || len(v) > 4 {
			return "", errors.New(name + " missing")
		}
		if i > 0 && (len(v) != 1 || v[0] != 0) {
			return "", errors.New(name + " not 0 in a request")
		}
	}
	tag, vbs, rest, err := snmpRead(pdu)
	if err != nil || tag != 0x30 || len(rest) != 0 {
		return "", errors.New("varbind list missing")
	}
	n := 0
	for len(vbs) > 0 {
		var vb, oid, val []byte
		if tag, vb, vbs, err = snmpRead(vbs); err != nil || tag != 0x30 {
			return "", errors.New("bad varbind")
		}
		if tag, oid, vb, err = snmpRead(vb); err != nil || tag != 0x06 {
			return "", errors.New("varbind without an OID")
		}
		if len(oid) <= len(snmpSystemOIDs[0])-2 || string(oid[:6]) != string(snmpSystemOIDs[0][:6]) || oid[len(oid)-1]&0x80 != 0 {
			return "", errors.New("OID outside the system group refused")
		}
		if tag, val, vb, err = snmpRead(vb); err != nil || tag != 0x05 || len(val) != 0 || len(vb) != 0 {
			return "", errors.New("varbind value is not NULL")
		}
		if n++; n > snmpMaxVarbinds {
			return "", errors.New("too many varbinds")
		}
	}
	if n == 0 {
		return "", errors.New("no varbinds")
	}
	return KindSNMPGet, nil
}

// snmpResponse reads a v1/v2c Response: version, request-id, error-status
// and the number of varbinds.
func snmpResponse(b []byte) (version int, id, status uint32, varbinds int, err error) {
	tag, msg, _, err := snmpRead(b)
	if err != nil || tag != 0x30 {
		return 0, 0, 0, 0, errors.New("not an SNMP message")
	}
	tag, ver, msg, err := snmpRead(msg)
	v, ok := snmpSmallInt(ver)
	if err != nil || tag != 0x02 || !ok || v > snmpV2c {
		return 0, 0, 0, 0, errors.New("not SNMP v1/v2c")
	}
	if tag, _, msg, err = snmpRead(msg); err != nil || tag != 0x04 {
		return 0, 0, 0, 0, errors.New("no community")
	}
	tag, pdu, _, err := snmpRead(msg)
	if err != nil || tag != 0xa2 {
		return 0, 0, 0, 0, errors.New("not a response PDU")
	}
	var f [3]uint32
	for i := range f {
		var x []byte
		if tag, x, pdu, err = snmpRead(pdu); err != nil || tag != 0x02 {
			return 0, 0, 0, 0, errors.New("response header cut short")
		}
		if f[i], ok = snmpSmallInt(x); !ok {
			return 0, 0, 0, 0, errors.New("response header value out of range")
		}
	}
	tag, vbs, _, err := snmpRead(pdu)
	if err != nil || tag != 0x30 {
		return 0, 0, 0, 0, errors.New("no varbind list")
	}
	for len(vbs) > 0 {
		if _, _, vbs, err = snmpRead(vbs); err != nil {
			return 0, 0, 0, 0, errors.New("bad varbind")
		}
		varbinds++
	}
	return int(v), f[0], f[1], varbinds, nil
}

var snmpErrorStatus = []string{"noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr"}

// snmpSummary describes a response without its community.
func snmpSummary(b []byte) string {
	v, _, status, n, err := snmpResponse(b)
	if err != nil {
		return err.Error()
	}
	ver := []string{"v1", "v2c"}[v]
	if status != 0 {
		s := "error-status " + strconv.FormatUint(uint64(status), 10)
		if int(status) < len(snmpErrorStatus) {
			s = snmpErrorStatus[status]
		}
		return ver + " response: " + s
	}
	return fmt.Sprintf("%s response: %d varbinds", ver, n)
}
