package decode

import (
	"bytes"

	"otscope/model"
)

// S7comm-plus (S7-1200/1500; COTP payload starting 0x72).
//
// The PLC's answer to the session's CreateObject request (opcode 0x32
// response, function 0x04CA) carries its identity as a string attribute:
// "1;6ES7 214-1HE30-0XB0 ;V2.2" (a WString value: flags 0x00, type 0x15,
// length, text). Only those responses are searched, and only until the
// identity was found once on the flow; everything else is recognised from
// its first byte.

// parseS7Plus reads one S7comm-plus PDU.
func parseS7Plus(c *appCtx, p []byte) {
	if len(p) < 4 {
		c.malformed()
		return
	}
	c.identify(protoS7Plus)
	// header: 0x72 version length(2), then opcode, reserved(2), function(2)
	if len(p) < 9 || p[4] != 0x32 || be16(p[7:]) != 0x04ca {
		return
	}
	order, fw, ok := s7PlusIdentity(p[9:])
	if !ok || !c.once(bitS7Plus) {
		return
	}
	srv := c.sender()
	o := cleanText(order)
	c.fact(srv, model.FieldOrderNumber, o, protoS7Plus)
	c.fact(srv, model.FieldFirmware, cleanText(fw), protoS7Plus)
	if hasPrefix(order, "6ES7") && c.once(bitS7Role) {
		c.factDetail(srv, model.FieldRole, model.RolePLC, "answers an S7comm-plus session with a SIMATIC S7 order number ("+o+")", protoS7Plus)
	}
}

// s7PlusIdentity finds the "<n>;<order number>;<version>" string value.
func s7PlusIdentity(b []byte) (order, fw []byte, ok bool) {
	for i := 0; i+3 <= len(b); i++ {
		if b[i] != 0x00 || b[i+1] != 0x15 {
			continue
		}
		n := int(b[i+2])
		if n >= 0x80 || i+3+n > len(b) {
			continue
		}
		s := b[i+3 : i+3+n]
		semi := bytes.IndexByte(s, ';')
		if semi < 1 || !allDigits(s[:semi]) {
			continue
		}
		rest := s[semi+1:]
		semi2 := bytes.IndexByte(rest, ';')
		if semi2 < 1 {
			continue
		}
		order, fw = trimText(rest[:semi2]), trimText(rest[semi2+1:])
		if len(order) < 4 || len(fw) < 2 || fw[0] != 'V' {
			continue
		}
		return order, fw, true
	}
	return nil, nil, false
}

func allDigits(b []byte) bool {
	for _, ch := range b {
		if ch < '0' || ch > '9' {
			return false
		}
	}
	return len(b) > 0
}
