package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"otscope/model"
)

// EtherNet/IP identification (CIP Vol. 2 chapter 2 encapsulation; CIP
// Vol. 1 Identity object, class 1).
//
// ListIdentity by unicast UDP to 44818 (one datagram, the session may
// retransmit it once); over TCP only when that gets no answer (silence, or
// port unreachable) and tcp/44818 is known open. Then one TCP connection:
// ListServices, RegisterSession, SendRRData carrying an unconnected
// Get_Attributes_All of the Identity object instance 1, UnRegisterSession
// and the close. A target nothing is known of gets no blind UDP: everything
// goes over TCP, and only if the connect succeeds.

const (
	enipPort         = 44818
	enipListServices = 0x0004
	enipListIdentity = 0x0063
	enipRegister     = 0x0065
	enipUnregister   = 0x0066
	enipSendRRData   = 0x006f
	enipSendUnitData = 0x0070
	enipHeaderLen    = 24
	enipMaxReply     = 600 // a ListIdentity or identity answer with a long name
)

type enipProbe struct{}

func init() {
	Register(enipProbe{})
	registerDissector("enip", dissectENIP)
}

func (enipProbe) Name() string { return "enip" }

// Plan: UDP ListIdentity first for targets known to speak EtherNet/IP; TCP
// only (IfOpen) for targets nothing is known of.
func (enipProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	port := o.Port("enip", enipPort)
	seen := served(t, port, "enip")
	if !t.Known.HasTCP(port) && t.Known.HasUDP(port) {
		seen = "udp/" + strconv.Itoa(int(port)) + " known open"
	}
	why, ifOpen, ok := decide(t, o, seen, model.FieldCIPVendorID, model.FieldCIPProductCode, model.FieldSerial, model.FieldFirmware)
	if !ok {
		return Planned{}, false
	}
	req := requestPackets(enipMaxReply)
	p := Planned{Probe: "enip", Port: port, IfOpen: ifOpen, Why: why}
	if ifOpen {
		p.Transport = TCP
		p.Steps = []Step{{KindTCPConnect, connectPackets}, {KindENIPListIdentity, req}}
	} else {
		p.Transport = UDP
		p.Steps = []Step{{KindENIPListIdentity, udpPackets}, {KindTCPConnect, connectPackets}}
		if t.Known.HasTCP(port) {
			p.Steps = append(p.Steps, Step{KindENIPListIdentity, req}) // fallback when UDP times out
		}
	}
	p.Steps = append(p.Steps,
		Step{KindENIPListServices, req}, Step{KindENIPRegisterSession, req}, Step{KindCIPGetAttributeAll, req},
		Step{KindENIPUnregisterSession, 2}, Step{KindTCPClose, closePackets})
	return p, true
}

// Run asks ListIdentity by UDP (unless IfOpen), then the TCP exchanges.
func (enipProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	var ctxID uint64
	next := func() uint64 { ctxID++; return ctxID }
	identityOverTCP := p.IfOpen
	if !p.IfOpen {
		ans, err := s.ExchangeUDP(ctx, "enip", p.Port, &Request{
			Kind: KindENIPListIdentity, Payload: enipRequest(enipListIdentity, 0, next(), nil), Summary: enipSummary,
		})
		switch {
		case err == nil:
			if _, _, perr := enipParse(ans, enipListIdentity); perr != nil {
				return nil // something else answers on this port: logged
			}
		case stopErr(ctx, err) != nil:
			return stopErr(ctx, err)
		case (icsTimeout(err) || icsClosed(err)) && t.Known.HasTCP(p.Port):
			identityOverTCP = true // no UDP answer (silence or port unreachable); TCP is known open
		default:
			return nil
		}
	}
	c, err := s.DialTCP(ctx, "enip", p.Port)
	if err != nil {
		return stopErr(ctx, err)
	}
	defer icsClose(c)
	ask := func(kind Kind, cmd uint16, session uint32, data []byte) ([]byte, error) {
		ans, err := c.Exchange(ctx, &Request{
			Kind: kind, Payload: enipRequest(cmd, session, next(), data), Frame: enipFrame(cmd), Summary: enipSummary,
		})
		if err != nil {
			return nil, err
		}
		return ans, nil
	}
	if identityOverTCP {
		ans, err := ask(KindENIPListIdentity, enipListIdentity, 0, nil)
		if err != nil {
			return stopErr(ctx, err)
		}
		if _, _, err := enipParse(ans, enipListIdentity); err != nil {
			return nil
		}
	}
	if _, err := ask(KindENIPListServices, enipListServices, 0, nil); err != nil {
		return stopErr(ctx, err)
	}
	ans, err := ask(KindENIPRegisterSession, enipRegister, 0, []byte{1, 0, 0, 0})
	if err != nil {
		return stopErr(ctx, err)
	}
	session, _, err := enipParse(ans, enipRegister)
	if err != nil || session == 0 {
		return nil // no session: nothing to unregister
	}
	_, err = ask(KindCIPGetAttributeAll, enipSendRRData, session, enipGetIdentity())
	if stop := stopErr(ctx, err); stop != nil || icsClosed(err) {
		return stop
	}
	_, err = c.Exchange(ctx, &Request{
		Kind: KindENIPUnregisterSession, Payload: enipRequest(enipUnregister, session, next(), nil), NoAnswer: true,
	})
	return stopErr(ctx, err)
}

// enipRequest builds an encapsulated message: command, length, session
// handle, status 0, sender context (echoed by the target: it pairs answers
// with requests), options 0, data.
func enipRequest(cmd uint16, session uint32, senderContext uint64, data []byte) []byte {
	b := make([]byte, enipHeaderLen, enipHeaderLen+len(data))
	binary.LittleEndian.PutUint16(b[0:], cmd)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(data)))
	binary.LittleEndian.PutUint32(b[4:], session)
	binary.LittleEndian.PutUint64(b[12:], senderContext)
	return append(b, data...)
}

// enipGetIdentity is the SendRRData data of an unconnected Get_Attributes_All
// to the Identity object, class 1 instance 1: interface handle 0 (CIP),
// timeout, two items (null address, unconnected data) and the CIP request
// (service 0x01, path of 2 words: 8-bit class segment 1, 8-bit instance
// segment 1).
func enipGetIdentity() []byte {
	cip := []byte{0x01, 2, 0x20, 0x01, 0x24, 0x01}
	b := []byte{
		0, 0, 0, 0, // interface handle: CIP
		10, 0, // timeout, seconds
		2, 0, // item count
		0, 0, 0, 0, // null address item
		0xb2, 0, byte(len(cip)), 0, // unconnected data item
	}
	return append(b, cip...)
}

// enipFrame frames the answer to command cmd from its encapsulation header.
func enipFrame(cmd uint16) func([]byte) (int, error) {
	return func(b []byte) (int, error) {
		if len(b) >= 2 {
			if got := uint16(icsLE16(b)); got != cmd {
				return 0, fmt.Errorf("enip: answer command 0x%04x to command 0x%04x", got, cmd)
			}
		}
		if len(b) < 4 {
			return 0, nil
		}
		return enipHeaderLen + icsLE16(b[2:]), nil
	}
}

// enipParse checks an answer's header (command cmd, length, status 0) and
// returns its session handle and data.
func enipParse(b []byte, cmd uint16) (session uint32, data []byte, err error) {
	if len(b) < enipHeaderLen || enipHeaderLen+icsLE16(b[2:]) != len(b) {
		return 0, nil, errors.New("enip: short or inconsistent answer")
	}
	if got := uint16(icsLE16(b)); got != cmd {
		return 0, nil, fmt.Errorf("enip: command 0x%04x", got)
	}
	if st := binary.LittleEndian.Uint32(b[8:]); st != 0 {
		return 0, nil, fmt.Errorf("enip: status 0x%x", st)
	}
	return binary.LittleEndian.Uint32(b[4:]), b[enipHeaderLen:], nil
}

// enipSummary describes an answer for the packet log.
func enipSummary(b []byte) string {
	if len(b) < enipHeaderLen {
		return strconv.Itoa(len(b)) + " bytes, too short"
	}
	cmd := uint16(icsLE16(b))
	_, data, err := enipParse(b, cmd)
	if err != nil {
		return err.Error()
	}
	switch cmd {
	case enipListIdentity, enipListServices:
		if len(data) < 2 {
			return "no items"
		}
		what := "identity"
		if cmd == enipListServices {
			what = "service"
		}
		return strconv.Itoa(icsLE16(data)) + " " + what + " items"
	case enipRegister:
		return fmt.Sprintf("session 0x%08x", binary.LittleEndian.Uint32(b[4:]))
	case enipSendRRData:
		cip := enipCIPReply(data)
		if len(cip) < 4 {
			return "no CIP reply"
		}
		s := fmt.Sprintf("CIP service 0x%02x, status 0x%02x", cip[0], cip[2])
		if cip[2] == 0 {
			s += ", " + strconv.Itoa(len(cip)-4-2*int(cip[3])) + " bytes"
		}
		return s
	}
	return fmt.Sprintf("command 0x%04x", cmd)
}

// enipCIPReply finds the CIP message in a SendRRData answer's unconnected
// data item.
func enipCIPReply(data []byte) []byte {
	if len(data) < 8 {
		return nil
	}
	n, off := icsLE16(data[6:]), 8
	for range min(n, 4) {
		if off+4 > len(data) {
			return nil
		}
		typ, l := icsLE16(data[off:]), icsLE16(data[off+2:])
		off += 4
		if off+l > len(data) {
			return nil
		}
		if typ == 0xb2 {
			return data[off : off+l]
		}
		off += l
	}
	return nil
}

// cipServices names CIP services the dissector refuses.
var cipServices = map[byte]string{
	0x02: "Set_Attributes_All", 0x03: "Get_Attribute_List", 0x04: "Set_Attribute_List", 0x05: "Reset",
	0x06: "Start", 0x07: "Stop", 0x08: "Create", 0x09: "Delete", 0x0a: "Multiple_Service_Packet",
	0x0d: "Apply_Attributes", 0x0e: "Get_Attribute_Single", 0x10: "Set_Attribute_Single", 0x15: "Restore",
	0x16: "Save", 0x4c: "Read_Tag", 0x4d: "Write_Tag", 0x4e: "Forward_Close", 0x52: "Unconnected_Send",
	0x54: "Forward_Open", 0x5b: "Large_Forward_Open",
}

// dissectENIP reads a request as an EtherNet/IP target does: the
// encapsulation header (length matching the data, status 0, options 0)
// and, by command, ListIdentity/ListServices (no data, no session),
// RegisterSession (protocol version 1, options 0), UnRegisterSession (no
// data), or SendRRData whose common packet format is exactly a null
// address item and an unconnected data item holding a CIP
// Get_Attributes_All of the Identity object instance 1. Every other
// command (SendUnitData, ListInterfaces...) and CIP service is refused.
func dissectENIP(p []byte) (Kind, error) {
	if len(p) < enipHeaderLen {
		return "", errors.New("shorter than the encapsulation header")
	}
	cmd, l := uint16(icsLE16(p)), icsLE16(p[2:])
	if l != len(p)-enipHeaderLen {
		return "", fmt.Errorf("length %d does not match the %d data bytes", l, len(p)-enipHeaderLen)
	}
	if binary.LittleEndian.Uint32(p[8:]) != 0 {
		return "", errors.New("status must be 0 in a request")
	}
	if binary.LittleEndian.Uint32(p[20:]) != 0 {
		return "", errors.New("options must be 0")
	}
	session, data := binary.LittleEndian.Uint32(p[4:]), p[enipHeaderLen:]
	switch cmd {
	case enipListIdentity, enipListServices:
		if l != 0 || session != 0 {
			return "", errors.New("list commands carry no data and no session")
		}
		if cmd == enipListIdentity {
			return KindENIPListIdentity, nil
		}
		return KindENIPListServices, nil
	case enipRegister:
		if l != 4 || session != 0 || icsLE16(data) != 1 || icsLE16(data[2:]) != 0 {
			return "", errors.New("RegisterSession must be protocol version 1, options 0, no session")
		}
		return KindENIPRegisterSession, nil
	case enipUnregister:
		if l != 0 {
			return "", errors.New("UnRegisterSession carries no data")
		}
		return KindENIPUnregisterSession, nil
	case enipSendRRData:
		return dissectSendRRData(data)
	case enipSendUnitData:
		return "", errors.New("SendUnitData (connected messaging) not allowed")
	}
	return "", fmt.Errorf("encapsulation command 0x%04x not allowed", cmd)
}

// dissectSendRRData checks the common packet format and the CIP request.
func dissectSendRRData(d []byte) (Kind, error) {
	if len(d) < 8+4+4 {
		return "", errors.New("SendRRData too short for two items")
	}
	if binary.LittleEndian.Uint32(d) != 0 {
		return "", errors.New("interface handle must be 0 (CIP)")
	}
	if icsLE16(d[6:]) != 2 {
		return "", errors.New("SendRRData must hold exactly two items")
	}
	if icsLE16(d[8:]) != 0 || icsLE16(d[10:]) != 0 {
		return "", errors.New("first item must be a null address item")
	}
	if icsLE16(d[12:]) != 0xb2 {
		return "", errors.New("second item must be unconnected data")
	}
	cip := d[16:]
	if icsLE16(d[14:]) != len(cip) {
		return "", errors.New("unconnected data item length does not match")
	}
	if len(cip) < 2 {
		return "", errors.New("CIP request too short")
	}
	if svc := cip[0]; svc != 0x01 {
		name := cipServices[svc&0x7f]
		if name == "" {
			name = "unknown"
		}
		return "", fmt.Errorf("CIP service 0x%02x (%s) not allowed", svc, name)
	}
	path := cip[2:]
	if int(cip[1])*2 != len(path) {
		return "", errors.New("CIP path size does not match the request (Get_Attributes_All has no data)")
	}
	var class, inst int
	switch {
	case len(path) == 4 && path[0] == 0x20 && path[2] == 0x24:
		class, inst = int(path[1]), int(path[3])
	case len(path) == 8 && path[0] == 0x21 && path[1] == 0 && path[4] == 0x25 && path[5] == 0:
		class, inst = icsLE16(path[2:]), icsLE16(path[6:])
	default:
		return "", errors.New("CIP path must be a logical class and instance segment")
	}
	if class != 1 || inst != 1 {
		return "", fmt.Errorf("Get_Attributes_All of class %d instance %d not allowed (only the Identity object 1/1)", class, inst)
	}
	return KindCIPGetAttributeAll, nil
}
