package decode

import (
	"encoding/binary"
	"strconv"

	"otscope/model"
)

// Omron FINS over UDP 9600 and FINS/TCP 9600.
//
// FINS/TCP wraps each frame in a 16-octet header: "FINS", length, command
// (0: client node address, 1: server node address, 2: frame send), error
// code. A FINS frame is ICF (0x40: response), RSV, GCT, destination and
// source network/node/unit, SID, the command code (MRC, SRC), then
// parameters or, in a response, an end code and data.
//
// Facts: fins.node (the FINS node number of the sender, from the frame or
// the FINS/TCP node address exchange), fins.function on the client for each
// command it sends, and from a Controller Data Read (0501) response:
// product (controller model), firmware (controller version) and role plc.
// Polling (memory area reads) costs a table scan of the command code and a
// bit test: nothing is allocated.

const protoFINS = "omron-fins"

// FINS-specific fact fields.
const (
	FieldFINSFunction = "fins.function"
	FieldFINSNode     = "fins.node"
)

func init() {
	registerParser(protoFINS, parseFINS, []uint16{9600}, []uint16{9600})
}

type finsCommand struct {
	code          uint16
	value, detail string
}

// finsCommands are the FINS command codes (Omron W342 "FINS Commands").
var finsCommands = [...]finsCommand{
	{0x0101, "0x0101 memory area read", "read"},
	{0x0102, "0x0102 memory area write", "write"},
	{0x0103, "0x0103 memory area fill", "write"},
	{0x0104, "0x0104 multiple memory area read", "read"},
	{0x0105, "0x0105 memory area transfer", "write"},
	{0x0201, "0x0201 parameter area read", "read"},
	{0x0202, "0x0202 parameter area write", "write"},
	{0x0203, "0x0203 parameter area clear", "write"},
	{0x0304, "0x0304 program area protect", "program"},
	{0x0305, "0x0305 program area protect clear", "program"},
	{0x0306, "0x0306 program area read", "program"},
	{0x0307, "0x0307 program area write", "program"},
	{0x0308, "0x0308 program area clear", "program"},
	{0x0401, "0x0401 run", "control"},
	{0x0402, "0x0402 stop", "control"},
	{0x0501, "0x0501 controller data read", "identify"},
	{0x0502, "0x0502 connection data read", "identify"},
	{0x0601, "0x0601 controller status read", "diagnostic"},
	{0x0620, "0x0620 cycle time read", "diagnostic"},
	{0x0701, "0x0701 clock read", "read"},
	{0x0702, "0x0702 clock write", "write"},
	{0x0920, "0x0920 message read/clear", "other"},
	{0x0c01, "0x0c01 access right acquire", "control"},
	{0x0c02, "0x0c02 access right forced acquire", "control"},
	{0x0c03, "0x0c03 access right release", "control"},
	{0x2101, "0x2101 error clear", "control"},
	{0x2102, "0x2102 error log read", "diagnostic"},
	{0x2103, "0x2103 error log clear", "diagnostic"},
	{0x2140, "0x2140 FINS write access log read", "diagnostic"},
	{0x2141, "0x2141 FINS write access log clear", "diagnostic"},
	{0x2201, "0x2201 file name read", "read"},
	{0x2202, "0x2202 single file read", "read"},
	{0x2203, "0x2203 single file write", "program"},
	{0x2204, "0x2204 file memory format", "program"},
	{0x2205, "0x2205 file delete", "program"},
	{0x2207, "0x2207 file copy", "program"},
	{0x2208, "0x2208 file name change", "program"},
	{0x220a, "0x220a memory area file transfer", "program"},
	{0x220b, "0x220b parameter area file transfer", "program"},
	{0x220c, "0x220c program area file transfer", "program"},
	{0x2215, "0x2215 directory create/delete", "program"},
	{0x2301, "0x2301 forced set/reset", "control"},
	{0x2302, "0x2302 forced set/reset cancel", "control"},
}

const (
	finsBitNode  = 255 // ids set: sender node reported (per side: 255, 254)
	finsBitModel = 253
)

func parseFINS(c *appCtx, p []byte) {
	if len(p) >= 16 && p[0] == 'F' && p[1] == 'I' && p[2] == 'N' && p[3] == 'S' {
		finsTCP(c, p)
		return
	}
	if c.udp {
		finsFrame(c, p)
	}
}

// finsTCP walks the FINS/TCP messages of a segment.
func finsTCP(c *appCtx, p []byte) {
	for n := 0; n < 16 && len(p) >= 16 && p[0] == 'F' && p[1] == 'I' && p[2] == 'N' && p[3] == 'S'; n++ {
		ln := binary.BigEndian.Uint32(p[4:])
		if ln < 8 || ln > 1<<16 {
			c.malformed()
			return
		}
		end := 8 + int(ln)
		if end > len(p) {
			end = len(p) // cut: read what arrived
		}
		m := p[16:end]
		c.identify(protoFINS)
		switch binary.BigEndian.Uint32(p[8:]) {
		case 1: // server to client: client node, server node
			if len(m) >= 8 {
				finsNode(c, c.sender(), m[7], 254)
				finsNode(c, c.receiver(), m[3], 255)
			}
		case 2:
			finsFrame(c, m)
		}
		p = p[end:]
	}
}

func finsNode(c *appCtx, ep model.Endpoint, node byte, bit uint8) {
	if node == 0 || node == 0xff || !c.onceID(bit) {
		return
	}
	c.fact(ep, FieldFINSNode, strconv.Itoa(int(node)), protoFINS)
}

func finsFrame(c *appCtx, f []byte) {
	if len(f) < 12 || f[1] != 0 || f[0]&0x3e != 0 {
		if len(f) > 0 {
			c.malformed()
		}
		return
	}
	c.identify(protoFINS)
	resp := f[0]&0x40 != 0
	code := binary.BigEndian.Uint16(f[10:])
	bit := uint8(254)
	if resp {
		bit = 255
	}
	if c.state().ids[bit/64]&(1<<(bit%64)) == 0 {
		finsNode(c, c.sender(), f[7], bit)
	}
	if !resp {
		for i := range finsCommands {
			if finsCommands[i].code == code {
				if c.once(uint8(i)) {
					fc := &finsCommands[i]
					c.factDetail(c.sender(), FieldFINSFunction, fc.value, fc.detail, protoFINS)
				}
				return
			}
		}
		return
	}
	// Controller Data Read response: end code, model (20), version (20)
	if code != 0x0501 || len(f) < 14+40 || f[12]&0x7f != 0 || f[13]&0x3f != 0 || !c.onceID(finsBitModel) {
		return
	}
	ep := c.sender()
	model_ := cleanText(finsField(f[14:34]))
	c.fact(ep, model.FieldProduct, model_, protoFINS)
	c.fact(ep, model.FieldFirmware, cleanText(finsField(f[34:54])), protoFINS)
	c.factDetail(ep, model.FieldRole, model.RolePLC, "answers FINS Controller Data Read (controller model "+model_+")", protoFINS)
}

// finsField cuts a fixed-size ASCII field at its first NUL (a CP1L puts the
// unit version after the controller version, past a NUL).
func finsField(b []byte) []byte {
	for i, x := range b {
		if x == 0 {
			return b[:i]
		}
	}
	return b
}
