package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"

	"otscope/model"
)

// Beckhoff ADS/AMS over TCP 48898 and the TwinCAT UDP service on 48899.
//
// TCP: a 6-octet AMS/TCP header (reserved, length) and a 32-octet AMS
// header: target and source AMS net id and port, command id, state flags
// (0x0001 response, 0x0004 ADS command), data length, error code, invoke
// id, then the command data (little endian throughout).
//
// UDP 48899: 03 66 14 71, invoke id, service id (1 discovery, 6 add route;
// 0x8000_0000 set in responses), the sender's AMS net id and port, a tag
// count and tags (id, length, value): 5 host name, 3 TwinCAT version, 4 OS
// version, 12 route name.
//
// Facts: ams.net_id (and ams.port for a responder) on the sender of each
// AMS packet, ads.function on the client for each command (and "add route",
// Detail control, for a UDP AddRoute request), product and firmware from a
// ReadDeviceInfo response, operating_mode from ReadState responses (on
// change), role plc on a responder on a TwinCAT PLC runtime port, and from a
// discovery response: hostname, firmware (TwinCAT version) and os.
// Cyclic reads cost bit tests and, for ReadState, one comparison: nothing
// is allocated.

const protoADS = "ads"

// ADS-specific fact fields.
const (
	FieldADSFunction = "ads.function"
	FieldAMSPort     = "ams.port"
)

func init() {
	registerParser(protoADS, parseADS, []uint16{48898}, []uint16{48899})
}

// adsCommands are the ADS command ids (Beckhoff "ADS specification").
var adsCommands = [...][2]string{
	1: {"0x0001 read device info", "identify"},
	2: {"0x0002 read", "read"},
	3: {"0x0003 write", "write"},
	4: {"0x0004 read state", "read"},
	5: {"0x0005 write control", "control"},
	6: {"0x0006 add device notification", "read"},
	7: {"0x0007 delete device notification", "other"},
	8: {"0x0008 device notification", "other"},
	9: {"0x0009 read write", "other"},
}

// adsStates names ADSSTATE values.
var adsStates = [...]string{"INVALID", "IDLE", "RESET", "INIT", "START", "RUN", "STOP", "SAVECFG", "LOADCFG",
	"POWERFAILURE", "POWERGOOD", "ERROR", "SHUTDOWN", "SUSPEND", "RESUME", "CONFIG", "RECONFIG", "STOPPING",
	"INCOMPATIBLE", "EXCEPTION"}

// bits of the flow's ids set
const (
	adsBitNetID   = 250 // +side: the sender's net id was reported
	adsBitInfo    = 252
	adsBitPort    = 253
	adsBitStateOK = 254 // appState.u32 holds the last reported ADS state
)

func parseADS(c *appCtx, p []byte) {
	if c.udp {
		adsUDP(c, p)
		return
	}
	for n := 0; n < 32 && len(p) >= 38; n++ {
		if p[0] != 0 || p[1] != 0 {
			if n == 0 {
				c.malformed()
			}
			return
		}
		ln := int(binary.LittleEndian.Uint32(p[2:]))
		if ln < 32 {
			c.malformed()
			return
		}
		end := 6 + ln
		if end > len(p) || end < 0 {
			end = len(p)
		}
		adsAMS(c, p[6:end])
		p = p[end:]
	}
}

// adsNetID formats an AMS net id "a.b.c.d.e.f".
func adsNetID(b []byte) string {
	var buf [24]byte
	out := buf[:0]
	for i := 0; i < 6; i++ {
		if i > 0 {
			out = append(out, '.')
		}
		out = strconv.AppendUint(out, uint64(b[i]), 10)
	}
	return string(out)
}

func adsAMS(c *appCtx, a []byte) {
	cmd := binary.LittleEndian.Uint16(a[16:])
	flags := binary.LittleEndian.Uint16(a[18:])
	if cmd == 0 || int(cmd) >= len(adsCommands) || flags&0x0004 == 0 {
		c.malformed()
		return
	}
	c.identify(protoADS)
	resp := flags&1 != 0
	bit := uint8(adsBitNetID + c.side)
	if c.onceID(bit) {
		c.fact(c.sender(), model.FieldAMSNetID, adsNetID(a[8:14]), protoADS)
	}
	data := a[32:]
	if dl := int(binary.LittleEndian.Uint32(a[20:])); dl < len(data) && dl >= 0 {
		data = data[:dl]
	}
	if !resp {
		if cmd != 8 && c.once(uint8(cmd)) {
			fn := &adsCommands[cmd]
			c.factDetail(c.sender(), FieldADSFunction, fn[0], fn[1], protoADS)
		}
		return
	}
	sport := binary.LittleEndian.Uint16(a[14:])
	if c.onceID(adsBitPort) {
		ep := c.sender()
		c.fact(ep, FieldAMSPort, strconv.Itoa(int(sport)), protoADS)
		if adsPLCPort(sport) {
			c.factDetail(ep, model.FieldRole, model.RolePLC, "answers ADS on TwinCAT PLC runtime port "+strconv.Itoa(int(sport)), protoADS)
		}
	}
	switch cmd {
	case 1: // result, major, minor, build, device name[16]
		if len(data) >= 24 && binary.LittleEndian.Uint32(data) == 0 && c.onceID(adsBitInfo) {
			ep := c.sender()
			c.fact(ep, model.FieldProduct, cleanText(data[8:24]), protoADS)
			v := strconv.Itoa(int(data[4])) + "." + strconv.Itoa(int(data[5])) + "." + strconv.Itoa(int(binary.LittleEndian.Uint16(data[6:])))
			c.fact(ep, model.FieldFirmware, v, protoADS)
		}
	case 4: // result, ADS state, device state
		if len(data) >= 8 && binary.LittleEndian.Uint32(data) == 0 {
			s := binary.LittleEndian.Uint16(data[4:])
			st := c.state()
			if st.ids[adsBitStateOK/64]&(1<<(adsBitStateOK%64)) != 0 && uint16(st.u32) == s {
				return
			}
			st.ids[adsBitStateOK/64] |= 1 << (adsBitStateOK % 64)
			st.u32 = uint32(s)
			if int(s) < len(adsStates) {
				c.fact(c.sender(), model.FieldOperatingMode, adsStates[s], protoADS)
			}
		}
	}
}

// adsPLCPort reports TwinCAT 2 (801..831) and TwinCAT 3 (851..854) PLC runtime ports.
func adsPLCPort(p uint16) bool {
	return p == 801 || p == 811 || p == 821 || p == 831 || p >= 851 && p <= 854
}

// adsUDP reads the TwinCAT UDP service (discovery, add route).
func adsUDP(c *appCtx, p []byte) {
	if len(p) < 24 || p[0] != 0x03 || p[1] != 0x66 || p[2] != 0x14 || p[3] != 0x71 {
		c.malformed()
		return
	}
	c.identify(protoADS)
	svc := binary.LittleEndian.Uint32(p[8:])
	resp := svc&0x80000000 != 0
	svc &^= 0x80000000
	ep := c.sender()
	if c.onceID(uint8(adsBitNetID + c.side)) {
		c.fact(ep, model.FieldAMSNetID, adsNetID(p[12:18]), protoADS)
	}
	if !resp {
		switch svc {
		case 1:
			if c.once(100) {
				c.factDetail(ep, FieldADSFunction, "udp 0x0001 discovery", "identify", protoADS)
			}
		case 6:
			if c.once(106) {
				c.factDetail(ep, FieldADSFunction, "udp 0x0006 add route", "control", protoADS)
			}
		}
	}
	tagBit := uint8(128 + svc&0x1f) // each service's tags once per flow and direction
	if resp {
		tagBit += 32
	}
	if !c.once(tagBit) {
		return
	}
	n := int(binary.LittleEndian.Uint32(p[20:]))
	t := p[24:]
	for i := 0; i < n && i < 32 && len(t) >= 4; i++ {
		id := binary.LittleEndian.Uint16(t)
		ln := int(binary.LittleEndian.Uint16(t[2:]))
		if ln > len(t)-4 {
			c.malformed()
			return
		}
		v := t[4 : 4+ln]
		t = t[4+ln:]
		switch {
		case id == 5 && (resp || svc == 6):
			// the device's host name (response) or the route's host (request)
			if h := cleanText(v); h != "" {
				if _, err := netip.ParseAddr(h); err != nil {
					c.fact(ep, model.FieldHostname, h, protoADS)
				}
			}
		case id == 3 && resp && ln >= 4:
			c.fact(ep, model.FieldFirmware, "TwinCAT "+strconv.Itoa(int(v[0]))+"."+strconv.Itoa(int(v[1]))+"."+strconv.Itoa(int(binary.LittleEndian.Uint16(v[2:]))), protoADS)
		case id == 4 && resp && ln >= 16:
			maj := binary.LittleEndian.Uint32(v[4:])
			min := binary.LittleEndian.Uint32(v[8:])
			build := binary.LittleEndian.Uint32(v[12:])
			os := "Windows"
			if ln >= 20 && binary.LittleEndian.Uint32(v[16:]) == 3 {
				os = "Windows CE"
			}
			c.fact(ep, model.FieldOS, os+" "+strconv.FormatUint(uint64(maj), 10)+"."+strconv.FormatUint(uint64(min), 10)+" build "+strconv.FormatUint(uint64(build), 10), protoADS)
		}
	}
}
