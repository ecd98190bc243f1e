package plant

import (
	"encoding/hex"
	"math"

	"otscope/model"
	"otscope/scan/internal/dnp3crc"

	"otscope/scan/internal/ber"
)

// The substation corner: the SCADA server polls a DNP3 outstation and an
// IEC 60870-5-104 controlled station; two IEC 61850 relays publish GOOSE
// and answer the gateway's MMS Identify.

// dnp3App is a DNP3 master's class 0 poll (READ g60v1) and the
// outstation's response with binary inputs and analog inputs.
type dnp3App struct {
	process
	master, outstation uint16 // link addresses
	seq                byte
	user               [256]byte
}

// dnp3Frame appends a link frame: header with CRC, then the user data in
// 16-byte blocks, each followed by its CRC.
func dnp3Frame(b []byte, ctrl byte, dst, src uint16, user []byte) []byte {
	h := len(b)
	b = append(b, 0x05, 0x64, byte(5+len(user)), ctrl)
	b = le16(b, dst)
	b = le16(b, src)
	b = le16(b, dnp3crc.Sum(b[h:]))
	for len(user) > 0 {
		n := min(16, len(user))
		b = append(b, user[:n]...)
		b = le16(b, dnp3crc.Sum(user[:n]))
		user = user[n:]
	}
	return b
}

func (a *dnp3App) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	u := a.user[:0]
	if msg == mReq {
		a.seq = (a.seq + 1) & 0x0f
		u = append(u, 0xc0|a.seq, 0xc0|a.seq, 0x01, 0x3c, 0x01, 0x06)
		return dnp3Frame(b, 0xc4, a.outstation, a.master, u)
	}
	a.step(g)
	u = append(u, 0xc0|a.seq, 0xc0|a.seq, 0x81, 0x00, 0x00)
	u = append(u, 0x01, 0x02, 0x00, 0x00, 0x03, 0x81, 0x01, 0x81, 0x01) // g1v2: 4 binary inputs with flags
	u = append(u, 0x1e, 0x01, 0x00, 0x00, 0x03)                         // g30v1: 4 analog inputs, 32 bit
	for i := 0; i < 4; i++ {
		u = append(u, 0x01)
		u = le32(u, uint32(a.regs[i])+10000)
	}
	return dnp3Frame(b, 0x44, a.master, a.outstation, u)
}

// iec104App is an IEC 60870-5-104 controlling station (the SCADA server)
// and a controlled station: STARTDT, general interrogation, then
// spontaneous measured values acknowledged by S-frames.
type iec104App struct {
	process
	ca     uint16 // common address of the ASDUs
	ns, nr uint16 // controlled station's send / receive counters
	mr     uint16 // controlling station's receive counter
	ms     uint16 // controlling station's send counter
}

func (a *iec104App) iframe(b []byte, ns, nr uint16, typ, num, cot byte) ([]byte, int) {
	at := len(b)
	b = append(b, 0x68, 0)
	b = le16(b, ns<<1)
	b = le16(b, nr<<1)
	b = append(b, typ, num, cot, 0)
	return le16(b, a.ca), at
}

func iec104End(b []byte, at int) []byte {
	b[at+1] = byte(len(b) - at - 2)
	return b
}

// measured appends a float measurement (M_ME_NC_1 element).
func measured(b []byte, ioa uint32, v float32) []byte {
	b = append(b, byte(ioa), byte(ioa>>8), byte(ioa>>16))
	return append(le32(b, math.Float32bits(v)), 0)
}

func (a *iec104App) values(b []byte, cot byte) []byte {
	b, at := a.iframe(b, a.ns, a.nr, 13, 3, cot)
	a.ns++
	b = measured(b, 1001, 20.4+float32(a.regs[0]%8)/10)
	b = measured(b, 1002, 398.0+float32(a.regs[1]%16)/4)
	b = measured(b, 1003, 49.98+float32(a.regs[2]%4)/100)
	return iec104End(b, at)
}

func (a *iec104App) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	switch msg {
	case mOpen:
		a.ns, a.nr, a.mr, a.ms = 0, 0, 0, 0
		return append(b, 0x68, 0x04, 0x07, 0, 0, 0)
	case mOpened:
		return append(b, 0x68, 0x04, 0x0b, 0, 0, 0)
	case mSetup:
		b, at := a.iframe(b, a.ms, a.mr, 100, 1, 6)
		a.ms++
		a.nr++
		b = append(b, 0, 0, 0, 20)
		return iec104End(b, at)
	case mSetupd:
		b, at := a.iframe(b, a.ns, a.nr, 100, 1, 7)
		a.ns++
		b = iec104End(append(b, 0, 0, 0, 20), at)
		b = a.values(b, 20)
		b, at = a.iframe(b, a.ns, a.nr, 100, 1, 10)
		a.ns++
		return iec104End(append(b, 0, 0, 0, 20), at)
	case mReq: // S-frame acknowledging everything received
		a.mr = a.ns
		b = append(b, 0x68, 0x04, 0x01, 0x00)
		return le16(b, a.mr<<1)
	default:
		a.step(g)
		return a.values(b, 3)
	}
}

// gooseTask publishes the GOOSE messages of one relay: a heartbeat every
// second (timeAllowedToLive 2 s), state number changing rarely.
type gooseTask struct {
	n        *node
	dst      model.MAC
	appID    uint16
	gocbRef  string
	datSet   string
	goID     string
	confRev  uint32
	stNum    uint32
	sqNum    uint32
	stChange int64 // µs of plant time of the last state change
	trip     bool
}

var gooseMAC = model.MAC{0x01, 0x0c, 0xcd, 0x01, 0x00, 0x00}

func (t *gooseTask) fire(g *Generator) int64 {
	if t.stNum == 0 || g.rng.IntN(600) == 0 {
		t.stNum++
		t.sqNum = 0
		t.stChange = g.now
		t.trip = !t.trip && t.stNum > 1
	} else {
		t.sqNum++
	}
	b := append(g.buf[:0], t.dst[:]...)
	b = append(b, t.n.mac[:]...)
	b = be16(b, 0x8100)
	b = be16(b, 0x8000|t.n.vlan)
	b = be16(b, 0x88b8)
	start := len(b)
	b = be16(b, t.appID)
	b = append(b, 0, 0, 0, 0, 0, 0)
	b, pdu := ber.Open(b, 0x61)
	b = berString(b, 0x80, t.gocbRef)
	b = berUint(b, 0x81, 2000)
	b = berString(b, 0x82, t.datSet)
	b = berString(b, 0x83, t.goID)
	b = append(b, 0x84, 8)
	abs := g.start.UnixMicro() + t.stChange
	b = be32(b, uint32(abs/1e6))
	frac := uint32(abs%1e6) * 16777 / 1000 // 2^24 / 1e6
	b = append(b, byte(frac>>16), byte(frac>>8), byte(frac), 0x0a)
	b = berUint(b, 0x85, uint64(t.stNum))
	b = berUint(b, 0x86, uint64(t.sqNum))
	b = append(b, 0x87, 1, 0)
	b = berUint(b, 0x88, uint64(t.confRev))
	b = append(b, 0x89, 1, 0)
	b = berUint(b, 0x8a, 4)
	b, all := ber.Open(b, 0xab)
	trip := byte(0)
	if t.trip {
		trip = 1
	}
	b = append(b, 0x83, 1, trip, 0x84, 3, 3, 0, 0, 0x83, 1, 0, 0x84, 3, 3, 0, 0)
	b = ber.Close(b, all)
	b = ber.Close(b, pdu)
	put16(b[start+2:], uint16(len(b)-start))
	g.out = pad(b)
	return g.jit(sec, 0.002)
}

// MMS association templates (session CONNECT / ACCEPT with presentation
// CP / CPA, ACSE AARQ / AARE and MMS initiate), as IEC 61850 clients and
// servers send them.
var (
	mmsConnect, _ = hex.DecodeString("0dca0506130100160102140200023302000134020001c1b43181b1a003800101a281a98104" +
		"00000001820400000001a423300f0201010604520100013004060251013010020103060528ca2202013004060251016176307402" +
		"0101a06f606da107060528ca220203a20706052901876701a30302010ca403020100a503020100a606060429018767a70302010c" +
		"a803020100a903020100be33283106025101020103a028a826800300fde881010a82010a830105a416800101810305f100820c03" +
		"ee1c00000000000000ed18")
	mmsAccept, _ = hex.DecodeString("0eaf0506130100160102140200023302000134020001c199318196a003800101a2818e8304" +
		"00000001a51230078001008102510130078001008102510188020600616e306c020101a067616580020780a107060528ca220203" +
		"a203020100a305a103020100a40606042bce0f17a503020117a603020100a703020100be3328310602510102010" +
		"3a028a926800300fde881010a82010a830105a416800101810305f100820c03ee1c00000000000000ed18")
)

// mmsApp is an IEC 61850 client's association and Identify request, and
// the relay's Identify response (vendor, model, revision).
type mmsApp struct {
	vendor, model, revision string
	invoke                  byte
}

func (a *mmsApp) payload(_ *Generator, _ *dialog, msg uint8, b []byte) []byte {
	switch msg {
	case mOpen, mOpened:
		b, at := tpkt(b)
		typ, dst, src := byte(0xe0), uint16(0), uint16(1)
		if msg == mOpened {
			typ, dst, src = 0xd0, 1, 0x2a
		}
		b = append(b, 17, typ)
		b = be16(b, dst)
		b = be16(b, src)
		b = append(b, 0, 0xc0, 1, 0x0d, 0xc2, 2, 0, 1, 0xc1, 2, 0, 1)
		return tpktEnd(b, at)
	case mSetup, mSetupd:
		b, at := tpkt(b)
		b = append(b, 2, 0xf0, 0x80)
		if msg == mSetup {
			b = append(b, mmsConnect...)
		} else {
			b = append(b, mmsAccept...)
		}
		return tpktEnd(b, at)
	}
	b, at := tpkt(b)
	b = append(b, 2, 0xf0, 0x80, 0x01, 0x00, 0x01, 0x00)
	b, p := ber.Open(b, 0x61)
	b, q := ber.Open(b, 0x30)
	b = append(b, 0x02, 0x01, 0x03)
	b, c := ber.Open(b, 0xa0)
	if msg == mIdent {
		a.invoke++
		b = append(b, 0xa0, 0x05, 0x02, 0x01, a.invoke, 0x82, 0x00)
	} else {
		var r, id int
		b, r = ber.Open(b, 0xa1)
		b = append(b, 0x02, 0x01, a.invoke)
		b, id = ber.Open(b, 0xa2)
		b = berString(b, 0x80, a.vendor)
		b = berString(b, 0x81, a.model)
		b = berString(b, 0x82, a.revision)
		b = ber.Close(b, id)
		b = ber.Close(b, r)
	}
	b = ber.Close(b, c)
	b = ber.Close(b, q)
	b = ber.Close(b, p)
	return tpktEnd(b, at)
}
