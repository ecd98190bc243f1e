package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"otscope/model"
)

// BACnet/IP (ASHRAE 135 Annex J) on udp/47808: a unicast Who-Is, then one
// ReadProperty per identity property of the Device object the I-Am names.
// ReadPropertyMultiple would take one request, but not every device has it.
//
// Every request is an original-unicast BVLC with a version 1 NPDU that
// carries no network-layer message and no routing; confirmed requests ask
// for an unsegmented answer of at most 1476 bytes. When no I-Am comes back
// (many devices answer Who-Is only by broadcast, which the scanner's
// ephemeral port never receives), one ReadProperty of vendor-identifier on
// the wildcard instance 4194303 tells whether a device is there; the rest
// follows only if it answers.

const (
	bacnetPort       = 47808
	bacnetDeviceType = 8
	bacnetWildcard   = 4194303 // "the device that receives this"
	bacnetMaxAPDU    = 0x05    // max APDU code 5: 1476 bytes (BACnet/IP)
)

// bacnetProperty is one property of the Device object the probe reads and
// the identity field it fills (the passive decoder maps the answer).
type bacnetProperty struct {
	id    uint32
	field string
}

// bacnetProperties are read in this order: vendor first (the fact a user
// misses most), vendor-identifier last because I-Am already carries it.
var bacnetProperties = []bacnetProperty{
	{121, model.FieldVendor},                    // vendor-name
	{70, model.FieldProduct},                    // model-name
	{44, model.FieldFirmware},                   // firmware-revision
	{12, "bacnet.application_software_version"}, // application-software-version
	{77, model.FieldHostname},                   // object-name
	{58, "bacnet.location"},                     // location
	{28, "bacnet.description"},                  // description
	{120, model.FieldBACnetVendorID},            // vendor-identifier
}

const bacnetPropVendorID = 120

type bacnetProbe struct{}

func init() {
	Register(bacnetProbe{})
	registerDissector("bacnet", dissectBACnet)
}

func (bacnetProbe) Name() string { return "bacnet" }

// bacnetWanted lists the properties to read: all, or with FillGaps those
// whose field the session lacks.
func bacnetWanted(k *Known, fillGaps bool) []bacnetProperty {
	var out []bacnetProperty
	for _, p := range bacnetProperties {
		if fillGaps && k.Has(p.field) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func (bacnetProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	if !t.Addr.Is4() {
		return Planned{}, false
	}
	port := o.Port("bacnet", bacnetPort)
	why, ok := decideUDP(t, o, port, "bacnet", true)
	if !ok {
		return Planned{}, false
	}
	p := Planned{Probe: "bacnet", Transport: UDP, Port: port, Why: why}
	props := bacnetWanted(&t.Known, o.FillGaps)
	if o.FillGaps && len(props) == 0 && t.Known.Has(model.FieldBACnetInstance) {
		return Planned{}, false
	}
	if o.FillGaps {
		p.Why += ", device identity incomplete"
	}
	p.Steps = append(p.Steps, Step{Kind: KindBACnetWhoIs, Packets: udpPackets})
	for range props {
		p.Steps = append(p.Steps, Step{Kind: KindBACnetReadProperty, Packets: udpPackets})
	}
	return p, true
}

func (bacnetProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	known := uint32(bacnetWildcard)
	if t.Asset != nil {
		if v, err := strconv.ParseUint(t.Asset.Fact(model.FieldBACnetInstance), 10, 32); err == nil && v < bacnetWildcard {
			known = uint32(v)
		}
	}
	ans, err := s.ExchangeUDP(ctx, "bacnet", p.Port, bacnetWhoIsRequest(known))
	if err != nil {
		return stopErr(ctx, err)
	}
	// found: a device answered (I-Am, or an ACK or error for our invoke id)
	instance, found := uint32(bacnetWildcard), false
	if inst, ok := bacnetIAm(ans); ok {
		instance, found = inst, true
	}
	props := bacnetWanted(&t.Known, o.FillGaps)
	if !found {
		// no I-Am: ask the wildcard instance first whether anybody is there
		for i, pr := range props {
			if pr.id == bacnetPropVendorID {
				props[0], props[i] = props[i], props[0]
				break
			}
		}
	}
	invoke := uint8(0)
	for _, pr := range props {
		if pr.id == bacnetPropVendorID && found {
			continue // I-Am carries it
		}
		invoke++
		ans, err := s.ExchangeUDP(ctx, "bacnet", p.Port, bacnetReadPropertyRequest(invoke, instance, pr.id))
		if err != nil {
			return stopErr(ctx, err)
		}
		switch bacnetAnswerPDU(ans, invoke) {
		case bacnetAbort:
			return nil // reject or abort: the device takes no more
		case bacnetStray:
			if !found {
				return nil
			}
		default:
			found = true
		}
	}
	return nil
}

// bacnetWhoIsRequest is a unicast Who-Is, limited to the known instance
// when there is one (other devices behind a router stay quiet).
func bacnetWhoIsRequest(instance uint32) *Request {
	apdu := []byte{0x10, 0x08}
	if instance < bacnetWildcard {
		apdu = bacnetAppendContextUnsigned(apdu, 0, instance)
		apdu = bacnetAppendContextUnsigned(apdu, 1, instance)
	}
	return &Request{
		Kind:    KindBACnetWhoIs,
		Payload: bacnetFrame(0x00, apdu),
		Summary: bacnetSummary,
	}
}

// bacnetReadPropertyRequest reads one property of the Device object.
func bacnetReadPropertyRequest(invoke uint8, instance, prop uint32) *Request {
	apdu := []byte{0x00, bacnetMaxAPDU, invoke, 12}
	apdu = append(apdu, 0x0c)
	apdu = binary.BigEndian.AppendUint32(apdu, bacnetDeviceType<<22|instance&0x3fffff)
	apdu = bacnetAppendContextUnsigned(apdu, 1, prop)
	return &Request{
		Kind:    KindBACnetReadProperty,
		Payload: bacnetFrame(0x04, apdu),
		Summary: bacnetSummary,
	}
}

// bacnetFrame wraps an APDU in an NPDU (control ctl) and an
// original-unicast BVLC.
func bacnetFrame(ctl byte, apdu []byte) []byte {
	b := make([]byte, 0, 6+len(apdu))
	b = append(b, 0x81, 0x0a, 0, 0, 0x01, ctl)
	b = append(b, apdu...)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	return b
}

// bacnetAppendContextUnsigned appends an unsigned value with a context tag
// in the shortest encoding.
func bacnetAppendContextUnsigned(b []byte, tag byte, v uint32) []byte {
	n := 1
	for ; n < 4 && v>>(8*n) != 0; n++ {
	}
	b = append(b, tag<<4|0x08|byte(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// dissectBACnet accepts exactly a unicast Who-Is or a ReadProperty of the
// Device object.
func dissectBACnet(p []byte) (Kind, error) {
	if len(p) < 4 || p[0] != 0x81 {
		return "", errors.New("not a BACnet/IP BVLC")
	}
	if p[1] != 0x0a {
		return "", fmt.Errorf("BVLC function 0x%02x refused: original-unicast only", p[1])
	}
	if int(binary.BigEndian.Uint16(p[2:])) != len(p) {
		return "", errors.New("BVLC length does not match the datagram")
	}
	if len(p) < 8 || p[4] != 0x01 {
		return "", errors.New("NPDU version is not 1")
	}
	if ctl := p[5]; ctl != 0x00 && ctl != 0x04 {
		return "", fmt.Errorf("NPDU control 0x%02x refused: no network message, routing or priority", ctl)
	}
	a := p[6:]
	switch a[0] >> 4 {
	case 1: // unconfirmed request
		if a[0] != 0x10 || a[1] != 0x08 {
			return "", fmt.Errorf("unconfirmed service %d refused: Who-Is only", a[1])
		}
		if err := bacnetWhoIsRange(a[2:]); err != nil {
			return "", err
		}
		return KindBACnetWhoIs, nil
	case 0: // confirmed request
		if a[0]&^0x02 != 0 {
			return "", errors.New("segmented confirmed request refused")
		}
		if len(a) < 4 {
			return "", errors.New("confirmed request header cut short")
		}
		if svc := a[3]; svc != 12 {
			return "", fmt.Errorf("confirmed service %d%s refused: ReadProperty only", svc, bacnetServiceName(svc))
		}
		if err := bacnetReadPropertyBody(a[4:]); err != nil {
			return "", err
		}
		return KindBACnetReadProperty, nil
	}
	return "", fmt.Errorf("APDU type %d refused: not a request", a[0]>>4)
}

func bacnetServiceName(svc byte) string {
	switch svc {
	case 14:
		return " (read-property-multiple)"
	case 15:
		return " (write-property)"
	case 16:
		return " (write-property-multiple)"
	case 17:
		return " (device-communication-control)"
	case 20:
		return " (reinitialize-device)"
	}
	return ""
}

// bacnetWhoIsRange checks the optional device instance range of a Who-Is:
// nothing, or low and high limits within the instance range.
func bacnetWhoIsRange(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	lo, rest, err := bacnetContextUnsigned(b, 0)
	if err != nil {
		return err
	}
	hi, rest, err := bacnetContextUnsigned(rest, 1)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return errors.New("trailing bytes after Who-Is")
	}
	if lo > hi || hi > bacnetWildcard {
		return errors.New("Who-Is range invalid")
	}
	return nil
}

// bacnetReadPropertyBody checks a ReadProperty request: [0] Device object,
// [1] property, optional [2] array index, nothing else.
func bacnetReadPropertyBody(b []byte) error {
	if len(b) < 5 || b[0] != 0x0c {
		return errors.New("ReadProperty without an object identifier")
	}
	if typ := binary.BigEndian.Uint32(b[1:]) >> 22; typ != bacnetDeviceType {
		return fmt.Errorf("ReadProperty of object type %d refused: Device object only", typ)
	}
	_, rest, err := bacnetContextUnsigned(b[5:], 1)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		if _, rest, err = bacnetContextUnsigned(rest, 2); err != nil {
			return err
		}
	}
	if len(rest) != 0 {
		return errors.New("trailing bytes after ReadProperty")
	}
	return nil
}

// bacnetContextUnsigned reads a context-tagged unsigned of 1 to 4 bytes.
func bacnetContextUnsigned(b []byte, tag byte) (uint32, []byte, error) {
	if len(b) == 0 || b[0]>>4 != tag || b[0]&0x08 == 0 {
		return 0, nil, fmt.Errorf("expected context tag %d", tag)
	}
	n := int(b[0] & 0x07)
	if n < 1 || n > 4 || len(b) < 1+n {
		return 0, nil, fmt.Errorf("context tag %d has a bad length", tag)
	}
	var v uint32
	for _, c := range b[1 : 1+n] {
		v = v<<8 | uint32(c)
	}
	return v, b[1+n:], nil
}

// bacnetAPDU returns the APDU of an answer datagram, skipping the NPDU's
// routing fields; ok false for anything that is not a BACnet/IP APDU.
func bacnetAPDU(b []byte) ([]byte, bool) {
	if len(b) < 6 || b[0] != 0x81 || int(binary.BigEndian.Uint16(b[2:])) != len(b) {
		return nil, false
	}
	i := 4
	switch b[1] {
	case 0x0a, 0x0b:
	case 0x04: // forwarded: the original source's B/IP address follows
		i += 6
	default:
		return nil, false
	}
	if i+2 > len(b) || b[i] != 0x01 {
		return nil, false
	}
	ctl := b[i+1]
	if ctl&0x80 != 0 {
		return nil, false
	}
	i += 2
	if ctl&0x20 != 0 { // DNET, DLEN, DADR
		if i+3 > len(b) {
			return nil, false
		}
		i += 3 + int(b[i+2])
	}
	if ctl&0x08 != 0 { // SNET, SLEN, SADR
		if i+3 > len(b) {
			return nil, false
		}
		i += 3 + int(b[i+2])
	}
	if ctl&0x20 != 0 {
		i++ // hop count
	}
	if i+2 > len(b) {
		return nil, false
	}
	return b[i:], true
}

// bacnetIAm returns the device instance of an I-Am answer.
func bacnetIAm(b []byte) (uint32, bool) {
	a, ok := bacnetAPDU(b)
	if !ok || len(a) < 7 || a[0] != 0x10 || a[1] != 0x00 || a[2] != 0xc4 {
		return 0, false
	}
	id := binary.BigEndian.Uint32(a[3:])
	if id>>22 != bacnetDeviceType || id&0x3fffff == bacnetWildcard {
		return 0, false
	}
	return id & 0x3fffff, true
}

// What a ReadProperty got back.
const (
	bacnetAck   = iota // complex ACK or error PDU for our invoke id
	bacnetAbort        // reject or abort: stop
	bacnetStray        // not an answer to this request
)

func bacnetAnswerPDU(b []byte, invoke uint8) int {
	a, ok := bacnetAPDU(b)
	if !ok || a[1] != invoke {
		return bacnetStray
	}
	switch a[0] >> 4 {
	case 3, 5: // complex ACK, error
		return bacnetAck
	case 6, 7: // reject, abort
		return bacnetAbort
	}
	return bacnetStray
}

// bacnetSummary describes an answer for the packet log.
func bacnetSummary(b []byte) string {
	a, ok := bacnetAPDU(b)
	if !ok {
		return fmt.Sprintf("not BACnet/IP (%d bytes)", len(b))
	}
	switch a[0] >> 4 {
	case 1:
		if a[1] == 0 {
			if inst, ok := bacnetIAm(b); ok {
				return "i-am device " + strconv.FormatUint(uint64(inst), 10)
			}
			return "i-am (not a device)"
		}
		return "unconfirmed service " + strconv.Itoa(int(a[1]))
	case 3:
		i := 2
		if a[0]&0x08 != 0 {
			return "segmented ack"
		}
		if i >= len(a) || a[i] != 12 {
			return "ack of another service"
		}
		rest := a[i+1:]
		if len(rest) >= 5 && rest[0] == 0x0c {
			if prop, _, err := bacnetContextUnsigned(rest[5:], 1); err == nil {
				return "property " + strconv.FormatUint(uint64(prop), 10)
			}
		}
		return "read-property ack"
	case 5:
		if len(a) >= 7 && a[3]&0xf8 == 0x90 && a[5]&0xf8 == 0x90 {
			return fmt.Sprintf("error class %d code %d", a[4], a[6])
		}
		return "error"
	case 6:
		if len(a) >= 3 {
			return fmt.Sprintf("reject reason %d", a[2])
		}
		return "reject"
	case 7:
		if len(a) >= 3 {
			return fmt.Sprintf("abort reason %d", a[2])
		}
		return "abort"
	}
	return fmt.Sprintf("APDU type %d", a[0]>>4)
}
