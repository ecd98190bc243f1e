package decode

import (
	"otscope/model"
)

// IEEE C37.118 synchrophasor frames (TCP 4712, UDP 4713).
//
// Every frame: SYNC (0xAA, frame type in bits 4-6, version), FRAMESIZE,
// IDCODE, SOC, FRACSEC, ..., CHK. Data frames (type 0) stream from a PMU or
// PDC tens of times a second: they only prove the stream's id code, reported
// once per flow. Configuration frames (CFG-1/CFG-2) name each PMU (STN,
// 16 bytes), its id code, and the stream's data rate; header frames carry
// free text; command frames come from the client (turn on/off, send
// configuration).

const (
	protoC37118 = "c37.118"

	fieldC37IDCode   = "c37118.id_code"
	fieldC37Station  = "c37118.station"
	fieldC37PMUID    = "c37118.pmu_id_code"
	fieldC37DataRate = "c37118.data_rate"
	fieldC37Header   = "c37118.header"
	fieldC37Function = "c37118.function"

	roleC37PMU = "pmu"
	roleC37PDC = "phasor data concentrator"

	bitC37ID     = 0
	bitC37Role   = 1
	bitC37Cmd    = 2 // 2-17: commands
	bitC37Header = 20
	bitC37Config = 21
)

func init() { registerParser(protoC37118, parseC37118, []uint16{4712}, []uint16{4713}) }

var c37Commands = [...]struct {
	value  string
	detail string
}{
	1: {"0x0001 turn off transmission", "control"},
	2: {"0x0002 turn on transmission", "control"},
	3: {"0x0003 send header frame", "identify"},
	4: {"0x0004 send cfg-1 frame", "identify"},
	5: {"0x0005 send cfg-2 frame", "identify"},
	6: {"0x0006 send cfg-3 frame", "identify"},
	8: {"0x0008 extended frame", "other"},
}

// parseC37118 reads the frames of one segment or datagram.
func parseC37118(c *appCtx, p []byte) {
	for len(p) >= 4 {
		if p[0] != 0xaa {
			return // not at a frame boundary
		}
		typ := p[1] >> 4 & 7
		size := be16(p[2:])
		if size < 16 {
			c.malformed()
			return
		}
		if size > len(p) {
			return // continues in the next segment
		}
		c.identify(protoC37118)
		c37Frame(c, typ, p[:size])
		p = p[size:]
	}
}

func c37Frame(c *appCtx, typ byte, f []byte) {
	id := be16(f[4:])
	switch typ {
	case 0: // data
		if c.once(bitC37ID) {
			c.fact(c.sender(), fieldC37IDCode, smallItoa(id), protoC37118)
		}
	case 1: // header
		if c.once(bitC37Header) {
			c.fact(c.sender(), fieldC37Header, cleanText(f[14:len(f)-2]), protoC37118)
		}
	case 2, 3: // CFG-1, CFG-2
		if c.once(bitC37Config) {
			c37Config(c, id, f)
		}
	case 4: // command
		if len(f) >= 18 {
			cmd := be16(f[14:])
			if cmd < len(c37Commands) && c37Commands[cmd].value != "" && c.once(uint8(bitC37Cmd+cmd)) {
				c.factDetail(c.sender(), fieldC37Function, c37Commands[cmd].value, c37Commands[cmd].detail, protoC37118)
			}
		}
	}
}

// c37Config reads a CFG-1/CFG-2 frame.
func c37Config(c *appCtx, id int, f []byte) {
	ep := c.sender()
	c.fact(ep, fieldC37IDCode, smallItoa(id), protoC37118)
	end := len(f) - 2 // CHK
	if end < 20 {
		c.malformed()
		return
	}
	num := be16(f[18:])
	off := 20
	for i := 0; i < num; i++ {
		if off+26 > end {
			c.malformed()
			return
		}
		stn := cleanText(trimText(f[off : off+16]))
		pmuID := be16(f[off+16:])
		ph, an, dg := be16(f[off+20:]), be16(f[off+22:]), be16(f[off+24:])
		off += 26 + 16*(ph+an+16*dg) + 4*(ph+an+dg) + 4
		if off > end {
			c.malformed()
			return
		}
		c.fact(ep, fieldC37Station, stn, protoC37118)
		c.fact(ep, fieldC37PMUID, smallItoa(pmuID), protoC37118)
		if num == 1 {
			c.fact(ep, model.FieldStationName, stn, protoC37118)
		}
	}
	if off+2 <= end {
		rate := int16(be16(f[off:]))
		if rate < 0 {
			c.fact(ep, fieldC37DataRate, "1/"+smallItoa(int(-rate))+" s", protoC37118)
		} else {
			c.fact(ep, fieldC37DataRate, smallItoa(int(rate))+"/s", protoC37118)
		}
	}
	if c.once(bitC37Role) {
		if num == 1 {
			c.factDetail(ep, model.FieldRole, roleC37PMU, "sends a C37.118 configuration frame for one PMU", protoC37118)
		} else if num > 1 {
			c.factDetail(ep, model.FieldRole, roleC37PDC, "sends a C37.118 configuration frame for "+smallItoa(num)+" PMUs", protoC37118)
		}
	}
}
