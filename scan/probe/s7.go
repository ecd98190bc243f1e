package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"otscope/model"
)

// S7comm identification over ISO-on-TCP (RFC 1006 TPKT, ISO 8073 COTP
// class 0) on tcp/102.
//
// One connection: COTP connect request to TSAP 0x0102 (PG connection,
// rack 0 slot 2, where an S7-300 CPU sits and which most S7 CPUs accept),
// S7 Setup Communication, read SZL 0x0011 index 0 (module identification:
// order number, hardware and firmware versions), 0x001C index 0 (component
// identification: AS and module names, serial, module type) and 0x0424
// index 0 (current mode), then a COTP disconnect request and the TCP close.
// S7-1200/1500 with S7comm-plus firmware answer these classic requests too.
//
// If the CPU refuses the connect (a COTP DR, or a reset or close) the probe
// tries rack 0 slot 1 once, the slot of S7-1200/1500 and software CPUs that
// refuse slot 2; no other slot is tried: this is not a rack/slot sweep. An
// SZL answer longer than the negotiated PDU comes in fragments: the
// follow-up requests ("next" with the answer's sequence number) are read
// SZL too, at most s7MaxNext for the whole probe.

const (
	s7Port     = 102
	s7SrcRef   = 0x0001 // any non-zero reference: S7 CPUs refuse 0
	s7TSAPLoc  = 0x0100 // calling TSAP: PG, rack 0 slot 0
	s7PDU      = 480    // PDU size we offer; CPUs answer 240 or 480
	s7MaxNext  = 2      // SZL follow-up requests per probe
	s7MaxReply = 1024   // bound on one TPKT answer (negotiated PDU + headers)
)

// s7TSAPs are the called TSAPs, in order: PG connection to rack 0 slot 2,
// then rack 0 slot 1 when the first is refused.
var s7TSAPs = [...]uint16{0x0102, 0x0101}

// s7SZLs are the SZL ids read (index 0 each).
var s7SZLs = [...]uint16{0x0011, 0x001C, 0x0424}

type s7Probe struct{}

func init() {
	Register(s7Probe{})
	registerDissector("s7", dissectS7)
}

func (s7Probe) Name() string { return "s7" }

// Plan lists one connection (and the one retry on slot 1), setup, three SZL
// reads and their follow-ups, the disconnect and the close.
func (s7Probe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	if t.Known.Speaks("mms") && !t.Known.Speaks("s7comm") && !t.Known.Speaks("s7comm-plus") {
		return Planned{}, false // an IEC 61850/ICCP server on tcp/102, not an S7 CPU
	}
	p, ok := planTCP(t, o, "s7", "s7comm", s7Port, model.FieldFirmware, model.FieldOrderNumber, model.FieldSerial)
	if !ok {
		return p, false
	}
	p.Why += "; rack 0 slot 2, slot 1 only if refused"
	req := requestPackets(s7MaxReply)
	p.Steps = []Step{
		{KindTCPConnect, connectPackets}, {KindS7Connect, req}, {KindTCPClose, closePackets}, // slot 2 refused
		{KindTCPConnect, connectPackets}, {KindS7Connect, req},
		{KindS7Setup, req},
	}
	for range len(s7SZLs) + s7MaxNext {
		p.Steps = append(p.Steps, Step{KindS7SZLRead, req})
	}
	p.Steps = append(p.Steps, Step{KindS7Disconnect, 2}, Step{KindTCPClose, closePackets})
	return p, true
}

// Run connects to slot 2, or to slot 1 when slot 2 is refused, and reads the
// SZLs.
func (s7Probe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	for _, tsap := range s7TSAPs {
		c, err := s.DialTCP(ctx, "s7", p.Port)
		if err != nil {
			return stopErr(ctx, err)
		}
		refused, err := s7Identify(ctx, c, tsap)
		icsClose(c)
		if stop := stopErr(ctx, err); stop != nil || !refused {
			return stop
		}
	}
	return nil
}

// s7Identify runs one connection. refused reports a COTP connect refused
// (a DR, or the connection reset or closed in answer to the CR), the only
// case worth the retry on slot 1.
func s7Identify(ctx context.Context, c *Conn, tsap uint16) (refused bool, err error) {
	cc, err := c.Exchange(ctx, &Request{Kind: KindS7Connect, Payload: s7ConnectRequest(tsap), Frame: s7Frame, Summary: s7Summary})
	if err != nil {
		return icsClosed(err), err
	}
	if len(cc) < 11 || cc[5]&0xf0 != 0xd0 {
		return len(cc) >= 6 && cc[5]&0xf0 == 0x80, nil
	}
	remote := binary.BigEndian.Uint16(cc[8:])
	// The COTP connection is open: end it with a DR unless the scan stops
	// or the TCP connection broke.
	err = s7Session(ctx, c)
	if stopErr(ctx, err) != nil || icsClosed(err) {
		return false, err
	}
	_, derr := c.Exchange(ctx, &Request{Kind: KindS7Disconnect, Payload: s7DisconnectRequest(remote), NoAnswer: true})
	if err == nil {
		err = derr
	}
	return false, err
}

// s7Session sets up communication and reads the SZLs.
func s7Session(ctx context.Context, c *Conn) error {
	var ref uint16
	ask := func(kind Kind, payload []byte, sum func([]byte) string) ([]byte, error) {
		return c.Exchange(ctx, &Request{Kind: kind, Payload: payload, Frame: s7Frame, Summary: sum})
	}
	ref++
	ans, err := ask(KindS7Setup, s7SetupRequest(ref), s7Summary)
	if err != nil {
		return err
	}
	if _, err := s7ParseSetup(ans); err != nil {
		return nil // logged by its summary; a CPU that refuses setup answers nothing else
	}
	next := s7MaxNext
	for _, id := range s7SZLs {
		ref++
		ans, err := ask(KindS7SZLRead, s7SZLRequest(ref, id, 0), s7SZLSummary(true))
		for err == nil {
			a, perr := s7ParseSZL(ans, true)
			if perr != nil || !a.more || next == 0 {
				break
			}
			next--
			ref++
			ans, err = ask(KindS7SZLRead, s7SZLNextRequest(ref, a.seq), s7SZLSummary(false))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// s7ConnectRequest is a COTP CR: TPDU size 1024, calling TSAP PG rack 0
// slot 0, called TSAP tsap.
func s7ConnectRequest(tsap uint16) []byte {
	b := []byte{
		3, 0, 0, 22, // TPKT version 3, length
		17, 0xe0, // COTP length indicator, CR (credit 0)
		0, 0, // destination reference: 0 in a CR
		byte(s7SrcRef >> 8), byte(s7SrcRef & 0xff),
		0,             // class 0, no extended formats
		0xc0, 1, 0x0a, // TPDU size 2^10
		0xc1, 2, byte(s7TSAPLoc >> 8), byte(s7TSAPLoc & 0xff),
		0xc2, 2, byte(tsap >> 8), byte(tsap),
	}
	return b
}

// s7DisconnectRequest is a COTP DR to the CPU's reference, reason 128
// (normal disconnect initiated by the session entity).
func s7DisconnectRequest(remote uint16) []byte {
	return []byte{3, 0, 0, 11, 6, 0x80, byte(remote >> 8), byte(remote), byte(s7SrcRef >> 8), byte(s7SrcRef & 0xff), 0x80}
}

// s7Data wraps an S7 PDU in TPKT and a COTP DT (last data unit).
func s7Data(s7 []byte) []byte {
	b := make([]byte, 7, 7+len(s7))
	b[0] = 3
	binary.BigEndian.PutUint16(b[2:], uint16(7+len(s7)))
	b[4], b[5], b[6] = 2, 0xf0, 0x80
	return append(b, s7...)
}

// s7Header is the 10-byte header of a request PDU.
func s7Header(rosctr byte, ref uint16, plen, dlen int) []byte {
	h := make([]byte, 10)
	h[0], h[1] = 0x32, rosctr
	binary.BigEndian.PutUint16(h[4:], ref)
	binary.BigEndian.PutUint16(h[6:], uint16(plen))
	binary.BigEndian.PutUint16(h[8:], uint16(dlen))
	return h
}

// s7SetupRequest is job 0xF0 Setup Communication: one parallel job each
// way, PDU size s7PDU.
func s7SetupRequest(ref uint16) []byte {
	par := []byte{0xf0, 0, 0, 1, 0, 1, byte(s7PDU >> 8), byte(s7PDU & 0xff)}
	return s7Data(append(s7Header(1, ref, len(par), 0), par...))
}

// s7SZLRequest is userdata, request, CPU functions (group 4), read SZL
// (subfunction 1) of id and index.
func s7SZLRequest(ref, id, index uint16) []byte {
	par := []byte{0, 1, 0x12, 4, 0x11, 0x44, 0x01, 0}
	data := []byte{0xff, 0x09, 0, 4, byte(id >> 8), byte(id), byte(index >> 8), byte(index)}
	return s7Data(append(append(s7Header(7, ref, len(par), len(data)), par...), data...))
}

// s7SZLNextRequest asks for the next fragment of the SZL answer whose
// sequence number is seq.
func s7SZLNextRequest(ref uint16, seq byte) []byte {
	par := []byte{0, 1, 0x12, 8, 0x12, 0x44, 0x01, seq, 0, 0, 0, 0}
	data := []byte{0x0a, 0, 0, 0}
	return s7Data(append(append(s7Header(7, ref, len(par), len(data)), par...), data...))
}

// s7Frame frames a TPKT.
func s7Frame(b []byte) (int, error) {
	if len(b) >= 1 && b[0] != 3 || len(b) >= 2 && b[1] != 0 {
		return 0, errors.New("s7: not a TPKT (version 3)")
	}
	if len(b) < 4 {
		return 0, nil
	}
	n := icsBE16(b[2:])
	if n < 7 {
		return 0, fmt.Errorf("s7: TPKT length %d too short", n)
	}
	return n, nil
}

// s7Answer splits an answer's S7 PDU: ROSCTR, parameter, data and the
// error of an ack.
func s7Answer(b []byte) (rosctr byte, par, data []byte, errcode int, err error) {
	if len(b) < 7 || b[5] != 0xf0 || 5+int(b[4]) > len(b) {
		return 0, nil, nil, 0, errors.New("not a COTP data unit")
	}
	s := b[5+int(b[4]):]
	if len(s) < 10 || s[0] != 0x32 {
		return 0, nil, nil, 0, errors.New("not S7comm")
	}
	rosctr = s[1]
	hl := 10
	if rosctr == 2 || rosctr == 3 {
		hl = 12
	}
	if len(s) < hl {
		return 0, nil, nil, 0, errors.New("short S7 header")
	}
	plen, dlen := icsBE16(s[6:]), icsBE16(s[8:])
	if hl+plen+dlen > len(s) {
		return 0, nil, nil, 0, errors.New("S7 lengths run past the answer")
	}
	if hl == 12 {
		errcode = icsBE16(s[10:])
	}
	return rosctr, s[hl : hl+plen], s[hl+plen : hl+plen+dlen], errcode, nil
}

// s7ParseSetup reads a Setup Communication answer: the PDU size.
func s7ParseSetup(b []byte) (pdu int, err error) {
	rosctr, par, _, code, err := s7Answer(b)
	switch {
	case err != nil:
		return 0, err
	case rosctr != 3 || len(par) < 8 || par[0] != 0xf0:
		return 0, errors.New("not a setup communication answer")
	case code != 0:
		return 0, fmt.Errorf("error 0x%04x", code)
	}
	return icsBE16(par[6:]), nil
}

// s7SZL is a read SZL answer fragment.
type s7SZL struct {
	ret     byte
	id      int
	records int
	seq     byte
	more    bool
}

// s7ParseSZL reads a read SZL answer fragment; the first fragment's data
// starts with the SZL header (id, index, record length, record count), a
// follow-up's does not.
func s7ParseSZL(b []byte, first bool) (s7SZL, error) {
	var a s7SZL
	rosctr, par, data, _, err := s7Answer(b)
	if err != nil {
		return a, err
	}
	if rosctr != 7 || len(par) < 12 || par[5] != 0x84 || par[6] != 0x01 {
		return a, errors.New("not a read SZL answer")
	}
	a.seq, a.more = par[7], par[9] != 0
	if e := icsBE16(par[10:]); e != 0 {
		return a, fmt.Errorf("read SZL error 0x%04x", e)
	}
	if len(data) < 4 || icsBE16(data[2:]) > len(data)-4 {
		return a, errors.New("read SZL answer data runs short")
	}
	a.ret = data[0]
	if a.ret == 0xff && first {
		d := data[4:]
		if len(d) < 8 {
			return a, errors.New("read SZL answer without its SZL header")
		}
		a.id, a.records = icsBE16(d), icsBE16(d[6:])
	}
	return a, nil
}

var s7Returns = map[byte]string{
	0x0a: "object does not exist", 0x05: "invalid address", 0x06: "data type not supported",
	0x03: "access denied", 0x01: "hardware fault",
}

// s7Summary describes an answer for the packet log.
func s7Summary(b []byte) string {
	if len(b) < 6 {
		return strconv.Itoa(len(b)) + " bytes, too short"
	}
	switch b[5] & 0xf0 {
	case 0xd0:
		return "connect confirm"
	case 0x80:
		s := "disconnect request (connect refused)"
		if len(b) >= 11 {
			s += ", reason 0x" + icsHex(b[10])
		}
		return s
	case 0xf0:
	default:
		return fmt.Sprintf("COTP type 0x%02x", b[5]&0xf0)
	}
	rosctr, _, _, code, err := s7Answer(b)
	if err != nil {
		return err.Error()
	}
	switch rosctr {
	case 3:
		if pdu, err := s7ParseSetup(b); err == nil {
			return "setup: PDU " + strconv.Itoa(pdu)
		}
		return fmt.Sprintf("ack data, error 0x%04x", code)
	case 2:
		return fmt.Sprintf("ack, error 0x%04x", code)
	}
	return fmt.Sprintf("ROSCTR %d", rosctr)
}

// s7SZLSummary describes a read SZL answer: the first fragment or a
// follow-up.
func s7SZLSummary(first bool) func([]byte) string {
	return func(b []byte) string {
		a, err := s7ParseSZL(b, first)
		switch {
		case err != nil:
			return s7Summary(b) + ": " + err.Error()
		case a.ret != 0xff:
			s := "return code 0x" + icsHex(a.ret)
			if n, ok := s7Returns[a.ret]; ok {
				s += " (" + n + ")"
			}
			return s
		}
		s := "SZL follow-up fragment"
		if first {
			s = fmt.Sprintf("SZL 0x%04x: %d records", a.id, a.records)
		}
		if a.more {
			s += ", more follows"
		}
		return s
	}
}

// s7Jobs names the job functions the dissector refuses.
var s7Jobs = map[byte]string{
	0x04: "read var", 0x05: "write var", 0x1a: "request download", 0x1b: "download block",
	0x1c: "download ended", 0x1d: "start upload", 0x1e: "upload", 0x1f: "end upload",
	0x28: "PI service", 0x29: "PLC stop", 0x00: "CPU services",
}

// dissectS7 reads a request as an S7 CPU does: one TPKT whose length is the
// whole payload, carrying a COTP CR (class 0, only the TPDU size and TSAP
// parameters) or DR, or a COTP DT with an S7 job Setup Communication (0xF0)
// or a userdata request of the CPU functions group reading an SZL (first
// request or follow-up). Every other job (read/write var, PI service, stop,
// download, upload) and every other userdata group is refused.
func dissectS7(p []byte) (Kind, error) {
	if len(p) < 7 || p[0] != 3 || p[1] != 0 {
		return "", errors.New("not a TPKT (version 3)")
	}
	if n := icsBE16(p[2:]); n != len(p) {
		return "", fmt.Errorf("TPKT length %d, payload %d bytes", n, len(p))
	}
	li := int(p[4])
	if 5+li > len(p) || li < 2 {
		return "", errors.New("COTP length indicator runs past the TPKT")
	}
	cotp := p[5 : 5+li]
	switch cotp[0] {
	case 0xe0:
		if li < 6 || 5+li != len(p) {
			return "", errors.New("COTP CR must be exactly its header and parameters")
		}
		if cotp[1] != 0 || cotp[2] != 0 || cotp[5] != 0 {
			return "", errors.New("COTP CR with a destination reference or a class other than 0")
		}
		for q := cotp[6:]; len(q) > 0; {
			if len(q) < 2 || 2+int(q[1]) > len(q) {
				return "", errors.New("COTP CR parameter runs past the header")
			}
			switch q[0] {
			case 0xc0, 0xc1, 0xc2:
			default:
				return "", fmt.Errorf("COTP CR parameter 0x%02x not allowed", q[0])
			}
			q = q[2+int(q[1]):]
		}
		return KindS7Connect, nil
	case 0x80:
		if li != 6 || len(p) != 11 {
			return "", errors.New("COTP DR must be 6 bytes without user data")
		}
		return KindS7Disconnect, nil
	case 0xf0:
		if li != 2 || cotp[1] != 0x80 {
			return "", errors.New("COTP DT must be one complete data unit (EOT)")
		}
	default:
		return "", fmt.Errorf("COTP type 0x%02x not allowed", cotp[0])
	}
	s := p[7:]
	if len(s) < 10 || s[0] != 0x32 {
		return "", errors.New("COTP data is not S7comm (protocol id 0x32)")
	}
	plen, dlen := icsBE16(s[6:]), icsBE16(s[8:])
	if 10+plen+dlen != len(s) {
		return "", errors.New("S7 parameter and data lengths do not match the PDU")
	}
	par, data := s[10:10+plen], s[10+plen:]
	switch s[1] {
	case 1:
		if plen == 0 {
			return "", errors.New("S7 job without a function")
		}
		if par[0] != 0xf0 {
			name := s7Jobs[par[0]]
			if name == "" {
				name = "unknown"
			}
			return "", fmt.Errorf("S7 job function 0x%02x (%s) not allowed", par[0], name)
		}
		if plen != 8 || dlen != 0 {
			return "", errors.New("setup communication is 8 parameter bytes and no data")
		}
		return KindS7Setup, nil
	case 7:
		if plen < 8 || par[0] != 0 || par[1] != 1 || par[2] != 0x12 || int(par[3]) != plen-4 {
			return "", errors.New("malformed userdata parameter header")
		}
		if par[5]&0x0f != 4 {
			return "", fmt.Errorf("userdata function group %d not allowed (only 4, CPU functions)", par[5]&0x0f)
		}
		if par[5]>>4 != 4 {
			return "", fmt.Errorf("userdata type %d is not a request", par[5]>>4)
		}
		if par[6] != 1 {
			return "", fmt.Errorf("CPU function subfunction %d not allowed (only 1, read SZL)", par[6])
		}
		switch {
		case par[4] == 0x11 && plen == 8 && dlen == 8 && data[0] == 0xff && data[1] == 0x09 && icsBE16(data[2:]) == 4:
			return KindS7SZLRead, nil
		case par[4] == 0x12 && plen == 12 && dlen == 4 && data[0] == 0x0a && data[1] == 0 && icsBE16(data[2:]) == 0:
			return KindS7SZLRead, nil // follow-up fragment request
		}
		return "", errors.New("read SZL request with unexpected parameter or data")
	}
	return "", fmt.Errorf("S7 ROSCTR %d is not a request the scanner sends", s[1])
}
