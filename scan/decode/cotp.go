package decode

import (
	"encoding/binary"

	"otscope/model"
)

// ISO transport on TCP 102: TPKT (RFC 1006) frames carrying COTP (ISO 8073
// class 0) PDUs. One parser serves the port and dispatches each COTP data
// PDU on its first payload byte: 0x32 S7comm, 0x72 S7comm-plus, an ISO 8327
// session SPDU (MMS, IEC 61850 / ICCP).
//
// Connection requests and confirms carry the called TSAP; for S7 it is
// 0x01xx (PG), 0x02xx (OP) or 0x03xx (S7 basic) with xx = rack*32 + slot of
// the addressed CPU, which becomes a module fact on the server.
//
// Per-flow state (appState) used by this parser:
//   - u32 bits 30-31: pending work: 1 a TPKT header arrived alone in a segment
//     (bit 29 = sending side, bits 0-15 = bytes of TPKT payload that follow);
//     2 an S7 SZL response continues in the next fragment (see s7comm.go).
//   - ids[3] (onceID bits 192-255 are not used as once bits by this parser):
//     bit 63 TSAP known, bits 48-55 the rack/slot byte; bits 0-39 an MMS read
//     awaiting its response (see mms.go).
//   - once bits: see the bit constants in s7comm.go, s7plus.go and mms.go.

const (
	protoISOTSAP = "iso-tsap"
	protoS7      = "s7comm"
	protoS7Plus  = "s7comm-plus"
	protoMMS     = "mms"

	// Fact fields of the S7 family.
	fieldS7Rack = "s7.rack"
	fieldS7Slot = "s7.slot"

	cotpModeTPKT = 1
	cotpModeSZL  = 2

	tsapKnown = uint64(1) << 63
)

func init() { registerParser(protoISOTSAP, parseCOTP, []uint16{102}, nil) }

func be16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }

// parseCOTP reads the TPKT frames of one segment.
func parseCOTP(c *appCtx, p []byte) {
	if st := c.f.app; st != nil && st.u32>>30 == cotpModeTPKT && int(st.u32>>29&1) == c.side {
		n := int(st.u32 & 0xffff)
		st.u32 = 0
		if len(p) >= 2 && !(p[0] == 3 && p[1] == 0) {
			// the payload of a TPKT whose header came in the previous
			// segment (a COTP PDU never starts 03 00)
			if n > len(p) {
				return // cut across more segments: skipped, never misread
			}
			cotpPDU(c, p[:n])
			p = p[n:]
		}
	}
	for len(p) >= 4 {
		if p[0] != 3 || p[1] != 0 {
			return // not at a TPKT boundary (a segment of a longer PDU)
		}
		n := be16(p[2:])
		if n < 7 {
			if n == 4 && len(p) == 4 {
				return // an empty TPKT (keep-alive)
			}
			c.malformed()
			return
		}
		if len(p) == 4 {
			// the header alone; its payload comes in the next segment
			st := c.state()
			st.u32 = cotpModeTPKT<<30 | uint32(c.side&1)<<29 | uint32(n-4)
			return
		}
		if n > len(p) {
			// the PDU continues in the next segment: only an MMS response's
			// beginning is read (large name plate reads), nothing else
			if t := p[4:]; len(t) >= 3 && t[0] == 2 && t[1]&0xf0 == 0xf0 && len(t) > 3 && t[3] == 0x01 {
				parseSessionCut(c, t[3:], true)
			}
			return
		}
		cotpPDU(c, p[4:n])
		p = p[n:]
	}
}

// cotpPDU reads one COTP PDU (TPKT payload).
func cotpPDU(c *appCtx, t []byte) {
	if len(t) < 2 {
		c.malformed()
		return
	}
	li := int(t[0])
	if li < 1 || li+1 > len(t) {
		c.malformed()
		return
	}
	switch t[1] & 0xf0 {
	case 0xf0: // DT data
		if li < 2 {
			c.malformed()
			return
		}
		cotpData(c, t[1+li:])
	case 0xe0: // CR connection request: the called TSAP names the server's CPU
		cotpConnect(c, t[1:1+li])
	}
}

// cotpData dispatches a data PDU's payload on its first byte.
func cotpData(c *appCtx, p []byte) {
	if len(p) == 0 {
		return
	}
	switch p[0] {
	case 0x32:
		parseS7(c, p)
	case 0x72:
		parseS7Plus(c, p)
	case 0x01, 0x0d, 0x0e:
		parseSession(c, p)
	}
}

// cotpConnect reads the parameters of a CR (h starts at the PDU type). A
// CC is not used: some responders put their own TSAP in its called field.
func cotpConnect(c *appCtx, h []byte) {
	if len(h) < 6 {
		c.malformed()
		return
	}
	params := h[6:]
	for len(params) >= 2 {
		code, n := params[0], int(params[1])
		if 2+n > len(params) {
			c.malformed()
			return
		}
		v := params[2 : 2+n]
		if code == 0xc2 && n == 2 && v[0] >= 1 && v[0] <= 3 {
			s7TSAP(c, v[1])
		}
		params = params[2+n:]
	}
}

// s7TSAP records the rack and slot an S7 connection addresses.
func s7TSAP(c *appCtx, rs byte) {
	st := c.state()
	st.ids[3] = st.ids[3]&^(tsapKnown|0xff<<48) | tsapKnown | uint64(rs)<<48
	if !c.once(bitS7TSAP) {
		return
	}
	rack, slot := int(rs>>5), int(rs&0x1f)
	srv := c.server()
	c.fact(srv, fieldS7Rack, smallItoa(rack), protoS7)
	c.fact(srv, fieldS7Slot, smallItoa(slot), protoS7)
	c.fact(srv, model.FieldModule, model.FormatModule(model.Module{Rack: rack, Slot: slot}), protoS7)
}

// s7RackSlot returns the rack and slot of the flow's S7 connection.
func s7RackSlot(c *appCtx) (rack, slot int, ok bool) {
	st := c.state()
	if st.ids[3]&tsapKnown == 0 {
		return 0, 0, false
	}
	rs := byte(st.ids[3] >> 48)
	return int(rs >> 5), int(rs & 0x1f), true
}

// smallItoa formats small non-negative numbers without going through fmt.
func smallItoa(n int) string {
	var b [20]byte
	return string(appendUint(b[:0], uint64(n)))
}

func appendUint(b []byte, n uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}

const hexDigits = "0123456789abcdef"

// appendHex16 appends "0x" and four hex digits.
func appendHex16(b []byte, v int) []byte {
	return append(b, '0', 'x', hexDigits[v>>12&0xf], hexDigits[v>>8&0xf], hexDigits[v>>4&0xf], hexDigits[v&0xf])
}

// trimText trims the NUL and space padding of a fixed-size text field.
func trimText(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == 0 || b[len(b)-1] == ' ') {
		b = b[:len(b)-1]
	}
	for len(b) > 0 && (b[0] == 0 || b[0] == ' ') {
		b = b[1:]
	}
	// a NUL inside ends the text
	for i, ch := range b {
		if ch == 0 {
			return b[:i]
		}
	}
	return b
}
