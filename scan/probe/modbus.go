package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"otscope/model"

	"otscope/scan/internal/mbap"
)

// Modbus/TCP identification (Modbus Application Protocol Specification
// V1.1b3 §6.21 and §6.17; Modbus Messaging on TCP/IP Implementation Guide
// V1.0b §4.1.2).
//
// Per unit id: FC 43 / MEI 14 Read Device Identification, stream access,
// read code 01 (basic: vendor, product code, revision) from object 0, then
// read code 02 (regular: vendor URL, product and model name, user
// application) from object 3 when the device declares regular conformity
// and the basic answers did not already hold those objects; "more follows"
// is followed to the next object id, at most modbusMaxDevID requests per
// unit. FC 17 Report Server ID is asked only when FC 43 is an illegal
// function (exception 01): older devices answer it instead.
//
// Unit ids are the ones seen passively and the ones the user lists, never a
// sweep; without any, 255, which the implementation guide reserves for a
// directly addressed TCP device (a gateway does not forward it).

const (
	modbusPort     = 502
	modbusUnitTCP  = 255
	modbusMaxDevID = 4 // FC 43 requests per unit
	modbusFCDevID  = 0x2B
	modbusMEI      = 0x0E
	modbusFCServer = 0x11
	modbusADUMax   = 260 // MBAP 7 + PDU 253
)

type modbusProbe struct{}

func init() {
	Register(modbusProbe{})
	registerDissector("modbus", dissectModbus)
}

func (modbusProbe) Name() string { return "modbus" }

// Plan asks FC 43 (and possibly FC 17) of each unit on one connection.
func (modbusProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	p, ok := planTCP(t, o, "modbus", "modbus", modbusPort, model.FieldOrderNumber, model.FieldFirmware)
	if !ok {
		return p, false
	}
	units := modbusUnits(t, o)
	p.Why += "; " + modbusUnitList(units)
	p.Steps = append(p.Steps, Step{KindTCPConnect, connectPackets})
	for range units {
		for range modbusMaxDevID {
			p.Steps = append(p.Steps, Step{KindModbusReadDeviceID, requestPackets(modbusADUMax)})
		}
		p.Steps = append(p.Steps, Step{KindModbusReportServerID, requestPackets(modbusADUMax)})
	}
	p.Steps = append(p.Steps, Step{KindTCPClose, closePackets})
	return p, true
}

// Run identifies each unit in turn on one connection. A unit that times out
// (a gateway with nothing behind that id) does not end the probe; anything
// else that breaks the exchange does.
func (modbusProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	var tx uint16
	return icsEach(ctx, s, "modbus", p.Port, modbusUnits(t, o), func(c *Conn, unit byte) error {
		return modbusIdentify(ctx, c, unit, &tx)
	})
}

// modbusIdentify asks one unit who it is.
func modbusIdentify(ctx context.Context, c *Conn, unit byte, tx *uint16) error {
	ask := func(kind Kind, pdu ...byte) ([]byte, error) {
		*tx++
		return c.Exchange(ctx, &Request{
			Kind:    kind,
			Payload: mbap.ADU(*tx, unit, pdu...),
			Frame:   modbusFrame(*tx),
			Summary: modbusSummary,
		})
	}
	code, obj := byte(1), byte(0)
	regular, last := false, -1
	for n := 1; n <= modbusMaxDevID; n++ {
		ans, err := ask(KindModbusReadDeviceID, modbusFCDevID, modbusMEI, code, obj)
		if err != nil {
			return err
		}
		d, err := modbusParseDevID(ans)
		if err != nil {
			return nil // not an answer to read device id: logged, nothing more to ask
		}
		if d.exception != 0 {
			if d.exception == 1 && n == 1 {
				_, err := ask(KindModbusReportServerID, modbusFCServer)
				return err
			}
			return nil
		}
		if code == 1 && d.conformity&0x7f >= 2 {
			regular = true
		}
		for _, id := range d.objects {
			last = max(last, int(id))
		}
		switch {
		case d.more && d.next > obj:
			obj = d.next
		case code == 1 && regular && last < 3:
			code, obj = 2, 3
		default:
			return nil
		}
	}
	return nil
}

// modbusUnits are the unit ids to ask: seen or listed, else 255.
func modbusUnits(t *Target, o *PlanOptions) []byte {
	u := slices.Concat(t.Known.ModbusUnits, o.ModbusUnits)
	if len(u) == 0 {
		return []byte{modbusUnitTCP}
	}
	slices.Sort(u)
	return slices.Compact(u)
}

func modbusUnitList(u []byte) string {
	s := make([]string, len(u))
	for i, x := range u {
		s[i] = strconv.Itoa(int(x))
	}
	if len(u) == 1 {
		return "unit " + s[0]
	}
	return "units " + strings.Join(s, ",")
}

// modbusFrame frames the answer to transaction tx from its MBAP header. An
// answer to another transaction is refused: it can only be a late answer
// to an earlier request, and reading it as this one would mislabel it.
func modbusFrame(tx uint16) func([]byte) (int, error) {
	return func(b []byte) (int, error) {
		if len(b) >= 4 && (b[2] != 0 || b[3] != 0) {
			return 0, errors.New("modbus: protocol id is not 0")
		}
		if len(b) < 6 {
			return 0, nil
		}
		if got := uint16(icsBE16(b)); got != tx {
			return 0, fmt.Errorf("modbus: answer to transaction %d, expected %d", got, tx)
		}
		l := icsBE16(b[4:])
		if l < 2 || l > 254 {
			return 0, fmt.Errorf("modbus: MBAP length %d out of range", l)
		}
		return 6 + l, nil
	}
}

// modbusDevID is a Read Device Identification answer, or an exception.
type modbusDevID struct {
	exception  byte
	code       byte
	conformity byte
	more       bool
	next       byte
	objects    []byte // object ids in the answer
}

var modbusExceptions = map[byte]string{
	1: "illegal function", 2: "illegal data address", 3: "illegal data value", 4: "server device failure",
	5: "acknowledge", 6: "server device busy", 8: "memory parity error",
	0x0a: "gateway path unavailable", 0x0b: "gateway target device failed to respond",
}

// modbusParseDevID reads an FC 43 / MEI 14 answer ADU.
func modbusParseDevID(b []byte) (modbusDevID, error) {
	var d modbusDevID
	if len(b) < 9 || icsBE16(b[4:]) != len(b)-6 {
		return d, errors.New("modbus: short or inconsistent answer")
	}
	pdu := b[7:]
	if pdu[0] == modbusFCDevID|0x80 {
		d.exception = pdu[1]
		return d, nil
	}
	if pdu[0] != modbusFCDevID || pdu[1] != modbusMEI || len(pdu) < 7 {
		return d, fmt.Errorf("modbus: function 0x%02x is not a device identification answer", pdu[0])
	}
	d.code, d.conformity, d.more, d.next = pdu[2], pdu[3], pdu[4] == 0xff, pdu[5]
	n := int(pdu[6])
	off := 7
	for range n {
		if off+2 > len(pdu) || off+2+int(pdu[off+1]) > len(pdu) {
			return d, errors.New("modbus: object runs past the answer")
		}
		d.objects = append(d.objects, pdu[off])
		off += 2 + int(pdu[off+1])
	}
	return d, nil
}

// modbusSummary describes an answer for the packet log.
func modbusSummary(b []byte) string {
	if len(b) < 9 {
		return strconv.Itoa(len(b)) + " bytes, too short"
	}
	fc := b[7]
	switch {
	case fc&0x80 != 0:
		e := b[8]
		s := "exception " + icsHex(e)
		if n, ok := modbusExceptions[e]; ok {
			s += " (" + n + ")"
		}
		return s
	case fc == modbusFCDevID:
		d, err := modbusParseDevID(b)
		if err != nil {
			return err.Error()
		}
		s := fmt.Sprintf("read code %d: %d objects, conformity 0x%02x", d.code, len(d.objects), d.conformity)
		if d.more {
			s += fmt.Sprintf(", more from 0x%02x", d.next)
		}
		return s
	case fc == modbusFCServer:
		return "server id, " + strconv.Itoa(int(b[8])) + " bytes"
	}
	return "function 0x" + icsHex(fc)
}

// dissectModbus reads a Modbus/TCP request as a server does: one MBAP ADU
// whose length covers exactly the rest, carrying FC 43 / MEI 14 with a read
// code and an object id, or FC 17 without data. Every other function
// (writes 5/6/15/16/22/23, diagnostics 8, MEI 13 CANopen...) is refused.
func dissectModbus(p []byte) (Kind, error) {
	if len(p) < 8 {
		return "", errors.New("shorter than an MBAP header and a function code")
	}
	if p[2] != 0 || p[3] != 0 {
		return "", errors.New("protocol id is not 0 (Modbus)")
	}
	if l := icsBE16(p[4:]); l != len(p)-6 {
		return "", fmt.Errorf("MBAP length %d does not match the %d bytes that follow", l, len(p)-6)
	}
	pdu := p[7:]
	switch pdu[0] {
	case modbusFCDevID:
		if len(pdu) < 2 || pdu[1] != modbusMEI {
			return "", errors.New("function 43 with an MEI type other than 14 (read device identification)")
		}
		if len(pdu) != 4 {
			return "", fmt.Errorf("read device identification is 4 bytes, not %d", len(pdu))
		}
		if pdu[2] < 1 || pdu[2] > 4 {
			return "", fmt.Errorf("read device id code %d is not 1..4", pdu[2])
		}
		return KindModbusReadDeviceID, nil
	case modbusFCServer:
		if len(pdu) != 1 {
			return "", errors.New("report server id carries no data")
		}
		return KindModbusReportServerID, nil
	}
	return "", fmt.Errorf("function code %d is not allowed", pdu[0])
}
