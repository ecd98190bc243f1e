package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
)

// IEC 60870-5-104 on tcp/2404: only the U-format TESTFR act, which a
// controlled station answers with TESTFR con whether or not data transfer
// was started. No STARTDT, so the station never begins sending data; no
// I-format frames, so no interrogation and no command.

const iec104Port = 2404

var (
	iec104TestAct = []byte{0x68, 0x04, 0x43, 0, 0, 0}
	iec104TestCon = []byte{0x68, 0x04, 0x83, 0, 0, 0}
)

type iec104Probe struct{}

func init() {
	Register(iec104Probe{})
	registerDissector("iec104", dissectIEC104)
}

func (iec104Probe) Name() string { return "iec104" }

// Plan: one TESTFR on one connection. With FillGaps it is planned only for
// a target not yet known to speak IEC 104, the one thing it proves.
func (iec104Probe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	port := o.Port("iec104", iec104Port)
	seen := served(t, port, "iec104")
	if o.FillGaps && t.Known.Speaks("iec104") {
		return Planned{}, false
	}
	// the gap is the protocol itself, decided above: no identity field to
	// check. A host the session knows that served nothing is left alone,
	// with FillGaps as without (decide's rule: no blind connect to it).
	why, ifOpen := seen, false
	switch {
	case seen != "" && o.FillGaps:
		why = seen + ", not yet seen speaking iec104"
	case seen != "":
	case nothingKnown(t, o):
		why, ifOpen = "nothing known of the host", true
	default:
		return Planned{}, false
	}
	return Planned{Probe: "iec104", Transport: TCP, Port: port, IfOpen: ifOpen, Why: why, Steps: []Step{
		{KindTCPConnect, connectPackets}, {KindIEC104TestFR, requestPackets(6)}, {KindTCPClose, closePackets},
	}}, true
}

// Run sends TESTFR act and reads one APDU.
func (iec104Probe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	c, err := s.DialTCP(ctx, "iec104", p.Port)
	if err != nil {
		return stopErr(ctx, err)
	}
	defer icsClose(c)
	_, err = c.Exchange(ctx, &Request{
		Kind: KindIEC104TestFR, Payload: bytes.Clone(iec104TestAct), Frame: iec104Frame, Summary: iec104Summary,
	})
	return stopErr(ctx, err)
}

// iec104Frame frames one APDU: start 0x68, length 4..253.
func iec104Frame(b []byte) (int, error) {
	if len(b) >= 1 && b[0] != 0x68 {
		return 0, errors.New("iec104: no 0x68 start")
	}
	if len(b) < 2 {
		return 0, nil
	}
	if b[1] < 4 || b[1] > 253 {
		return 0, fmt.Errorf("iec104: APDU length %d out of range", b[1])
	}
	return 2 + int(b[1]), nil
}

// iec104Summary describes an answer for the packet log.
func iec104Summary(b []byte) string {
	switch {
	case bytes.Equal(b, iec104TestCon):
		return "TESTFR con"
	case len(b) < 6:
		return strconv.Itoa(len(b)) + " bytes, too short"
	case b[2]&1 == 0:
		return "I-format APDU"
	case b[2]&3 == 1:
		return "S-format APDU"
	}
	return fmt.Sprintf("U-format 0x%02x", b[2])
}

// dissectIEC104 accepts exactly the TESTFR act APDU.
func dissectIEC104(p []byte) (Kind, error) {
	if !bytes.Equal(p, iec104TestAct) {
		return "", errors.New("only TESTFR act (68 04 43 00 00 00) is allowed")
	}
	return KindIEC104TestFR, nil
}
