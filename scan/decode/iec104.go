package decode

import (
	"encoding/binary"
	"strconv"

	"otscope/model"
)

// IEC 60870-5-104 over TCP 2404.
//
// An APDU is 0x68, a length (4..253), four control octets (I, S or U
// format) and, in I format, an ASDU: type id, variable structure qualifier,
// cause of transmission (two octets), common address (two octets, little
// endian), information objects. The controlled station is the TCP server.
//
// Facts: iec104.common_address on the controlled station (from ASDUs it
// sends and from commands addressed to it, broadcast 0xFFFF excepted), role
// rtu on a station that sends monitoring ASDUs, iec104.type_id ("13
// M_ME_NC_1") on the station that sent each type, and iec104.function on
// the controlling station for the commands it sends (C_*, P_*, F_*).
//
// Steady traffic costs one bit test per APDU (type id and direction) and a
// comparison against the last common address reported: nothing is
// allocated.

const protoIEC104 = "iec104"

// IEC 104-specific fact fields.
const (
	FieldIEC104TypeID   = "iec104.type_id"
	FieldIEC104Function = "iec104.function"
)

const (
	iec104OnceKind  = 0x104
	iec104BitRole   = 255 // ids set: role reported on this flow
	iec104BitCAKnow = 254 // ids set: appState.u32 holds the last common address reported
)

func init() {
	registerParser(protoIEC104, parseIEC104, []uint16{2404}, nil)
	for i, n := range iec104TypeNames {
		if n != "" {
			iec104TypeValues[i] = strconv.Itoa(i) + " " + n
		}
	}
}

// iec104TypeNames are the ASDU type identifications of IEC 60870-5-101/104.
var iec104TypeNames = [128]string{
	1: "M_SP_NA_1", 2: "M_SP_TA_1", 3: "M_DP_NA_1", 4: "M_DP_TA_1", 5: "M_ST_NA_1", 6: "M_ST_TA_1",
	7: "M_BO_NA_1", 8: "M_BO_TA_1", 9: "M_ME_NA_1", 10: "M_ME_TA_1", 11: "M_ME_NB_1", 12: "M_ME_TB_1",
	13: "M_ME_NC_1", 14: "M_ME_TC_1", 15: "M_IT_NA_1", 16: "M_IT_TA_1", 17: "M_EP_TA_1", 18: "M_EP_TB_1",
	19: "M_EP_TC_1", 20: "M_PS_NA_1", 21: "M_ME_ND_1", 30: "M_SP_TB_1", 31: "M_DP_TB_1", 32: "M_ST_TB_1",
	33: "M_BO_TB_1", 34: "M_ME_TD_1", 35: "M_ME_TE_1", 36: "M_ME_TF_1", 37: "M_IT_TB_1", 38: "M_EP_TD_1",
	39: "M_EP_TE_1", 40: "M_EP_TF_1", 41: "S_IT_TC_1",
	45: "C_SC_NA_1", 46: "C_DC_NA_1", 47: "C_RC_NA_1", 48: "C_SE_NA_1", 49: "C_SE_NB_1", 50: "C_SE_NC_1",
	51: "C_BO_NA_1", 58: "C_SC_TA_1", 59: "C_DC_TA_1", 60: "C_RC_TA_1", 61: "C_SE_TA_1", 62: "C_SE_TB_1",
	63: "C_SE_TC_1", 64: "C_BO_TA_1", 70: "M_EI_NA_1",
	100: "C_IC_NA_1", 101: "C_CI_NA_1", 102: "C_RD_NA_1", 103: "C_CS_NA_1", 104: "C_TS_NA_1",
	105: "C_RP_NA_1", 106: "C_CD_NA_1", 107: "C_TS_TA_1",
	110: "P_ME_NA_1", 111: "P_ME_NB_1", 112: "P_ME_NC_1", 113: "P_AC_NA_1",
	120: "F_FR_NA_1", 121: "F_SR_NA_1", 122: "F_SC_NA_1", 123: "F_LS_NA_1", 124: "F_AF_NA_1",
	125: "F_SG_NA_1", 126: "F_DR_TA_1", 127: "F_SC_NB_1",
}

// iec104TypeValues are the fact values "<id> <name>", built once.
var iec104TypeValues [128]string

// iec104Behaviour classes a type id sent by the controlling station.
func iec104Behaviour(t byte) string {
	switch {
	case t >= 45 && t <= 64:
		return "control" // single/double/step/set-point/bitstring commands
	case t == 100 || t == 101 || t == 102:
		return "read" // general and counter interrogation, read
	case t == 104 || t == 106 || t == 107:
		return "diagnostic" // test, delay acquisition
	case t == 105:
		return "control" // reset process
	case t >= 110 && t <= 113:
		return "write" // parameters
	}
	return "other" // clock synchronisation, file transfer
}

// iec104SenderIsServer reports whether the sender is the controlled station.
func iec104SenderIsServer(c *appCtx) bool {
	if c.f.server >= 0 {
		return c.fromServer()
	}
	return c.sp == 2404 && c.dp != 2404
}

func parseIEC104(c *appCtx, p []byte) {
	for n := 0; n < 128 && len(p) >= 6; n++ {
		if p[0] != 0x68 {
			if n == 0 {
				c.malformed()
			}
			return
		}
		ln := int(p[1])
		if ln < 4 {
			c.malformed()
			return
		}
		if 2+ln > len(p) {
			return // continues in the next segment
		}
		apdu := p[2 : 2+ln]
		p = p[2+ln:]
		c.identify(protoIEC104)
		if apdu[0]&1 != 0 {
			continue // S or U format
		}
		iec104ASDU(c, apdu[4:])
	}
}

func iec104ASDU(c *appCtx, a []byte) {
	if len(a) < 6 {
		c.malformed()
		return
	}
	t := a[0]
	if t == 0 || t >= 128 || iec104TypeNames[t] == "" {
		c.malformed()
		return
	}
	srv := iec104SenderIsServer(c)
	bit := t
	if srv {
		bit |= 0x80
	}
	if c.once(bit) {
		ep := c.sender()
		c.fact(ep, FieldIEC104TypeID, iec104TypeValues[t], protoIEC104)
		if !srv && t >= 45 {
			c.factDetail(ep, FieldIEC104Function, iec104TypeValues[t], iec104Behaviour(t), protoIEC104)
		}
	}
	ca := binary.LittleEndian.Uint16(a[4:])
	if srv && t < 45 && c.onceID(iec104BitRole) {
		ep := c.sender()
		if c.d.once(onceKey{mac: ep.MAC, ip: ep.IP, kind: iec104OnceKind, id: 1 << 32}) {
			c.factDetail(ep, model.FieldRole, model.RoleRTU, "IEC 60870-5-104 controlled station (sends monitoring ASDU type "+iec104TypeValues[t]+")", protoIEC104)
		}
	}
	if ca == 0 || ca == 0xffff {
		return
	}
	st := c.state()
	if st.ids[iec104BitCAKnow/64]&(1<<(iec104BitCAKnow%64)) != 0 && uint16(st.u32) == ca {
		return
	}
	st.ids[iec104BitCAKnow/64] |= 1 << (iec104BitCAKnow % 64)
	st.u32 = uint32(ca)
	var ep model.Endpoint
	if srv {
		ep = c.sender()
	} else {
		ep = c.receiver()
	}
	if !c.d.once(onceKey{mac: ep.MAC, ip: ep.IP, kind: iec104OnceKind, id: uint64(ca)}) {
		return
	}
	c.fact(ep, model.FieldIEC104CommonAddr, strconv.Itoa(int(ca)), protoIEC104)
}
