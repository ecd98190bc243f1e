package plant

// Identity traffic of the controllers: the S7 SZL reads beyond 0x0011, the
// S7comm-plus session setup of the S7-1500, Modbus device identification
// and Report Server ID.

// More message numbers (see ics.go).
const (
	mReport  = 15 // Modbus FC 17 Report Server ID
	mReportd = 16
)

// szlComponents is the answer to SZL 0x001C (component identification):
// each string is one 34-byte record (index, 32 bytes of text).
type szlComponents struct {
	asName    string // index 1: name of the automation system (station)
	module    string // index 2: name of the CPU module
	plantID   string // index 3: plant designation
	copyright string // index 4
	serial    string // index 5: serial number of the module
	cpuType   string // index 7: module type name
	mmc       string // index 8: serial number of the memory card
	location  string // index 11: location designation
}

func szlText(b []byte, index uint16, s string) []byte {
	b = be16(b, index)
	n := len(b)
	b = append(b, zeros[:32]...)
	copy(b[n:], s)
	return b
}

// szlComponents appends the SZL 0x001C response with ten records, as an
// S7-300/S7-1500 CPU answers it.
func (a *s7App) szlComponents(b []byte) []byte {
	c := a.comp
	b, at := a.szlResponse(b, 0x001c, 34, 10)
	b = szlText(b, 1, c.asName)
	b = szlText(b, 2, c.module)
	b = szlText(b, 3, c.plantID)
	b = szlText(b, 4, c.copyright)
	b = szlText(b, 5, c.serial)
	b = szlText(b, 7, c.cpuType)
	b = szlText(b, 8, c.mmc)
	// index 9: manufacturer id (Siemens 0x002a), profile id 0xf600, profile
	// specific type 1.
	b = be16(b, 9)
	b = append(b, 0x00, 0x2a, 0xf6, 0x00, 0x00, 0x01)
	b = append(b, zeros[:26]...)
	b = szlText(b, 10, "") // OEM id
	b = szlText(b, 11, c.location)
	return tpktEnd(b, at)
}

// szlState appends the SZL 0x0424 response: one 20-byte record with the
// last mode transition, the current mode (0x08 RUN, 0x03 STOP) and its time
// as BCD.
func (a *s7App) szlState(g *Generator, b []byte) []byte {
	b, at := a.szlResponse(b, 0x0424, 20, 1)
	mode := byte(0x08)
	if a.stop {
		mode = 0x03
	}
	b = append(b, 0x51, 0x44, 0xff, mode)
	b = append(b, zeros[:8]...)
	t := g.start.AddDate(0, 0, -3)
	bcd := func(v int) byte { return byte(v/10<<4 | v%10) }
	return tpktEnd(append(b, bcd(t.Year()%100), bcd(int(t.Month())), bcd(t.Day()), bcd(t.Hour()),
		bcd(t.Minute()), bcd(t.Second()), 0, byte(t.Weekday())+1), at)
}

// s7pApp is the start of an S7comm-plus session as TIA Portal opens it on
// an S7-1500: COTP connect to TSAP "SIMATIC-ROOT-ES", CreateObject request
// (a ServerSession object) and the PLC's response, which carries its order
// number and firmware as "1;6ES7 516-3AN02-0AB0;V2.9".
type s7pApp struct {
	ident string // "1;<order number>;V<major>.<minor>"
	host  string // the engineering host name
	seq   uint16
}

const s7pTSAP = "SIMATIC-ROOT-ES"

func (a *s7pApp) cotp(b []byte, typ byte) []byte {
	b, at := tpkt(b)
	li := len(b)
	b = append(b, 0, typ)
	if typ == 0xe0 {
		b = append(b, 0, 0, 0, 0x1b, 0)
	} else {
		b = append(b, 0, 0x1b, 0, 0x01, 0)
	}
	b = append(b, 0xc1, 2, 0x06, 0x00, 0xc2, byte(len(s7pTSAP)))
	b = append(b, s7pTSAP...)
	b = append(b, 0xc0, 1, 0x0a)
	b[li] = byte(len(b) - li - 1)
	return tpktEnd(b, at)
}

// s7pString appends an attribute with a WString value.
func s7pString(b []byte, id uint16, s string) []byte {
	b = append(b, 0xa3, 0x80|byte(id>>7), byte(id&0x7f), 0x00, 0x15, byte(len(s)))
	return append(b, s...)
}

func (a *s7pApp) payload(g *Generator, _ *dialog, msg uint8, b []byte) []byte {
	switch msg {
	case mOpen:
		return a.cotp(b, 0xe0)
	case mOpened:
		return a.cotp(b, 0xd0)
	}
	b, at := tpkt(b)
	b = append(b, 2, 0xf0, 0x80, 0x72, 0x01, 0, 0)
	start := len(b)
	if msg == mSetup {
		a.seq++
		b = append(b, 0x31, 0, 0, 0x04, 0xca, 0, 0)
		b = be16(b, a.seq)
		b = append(b, 0, 0, 0x01, 0x20, 0x36, 0, 0, 0x01, 0x1d, 0, 0x04, 0, 0, 0, 0, 0)
		b = append(b, 0xa1, 0, 0, 0, 0xd3, 0x82, 0x1f, 0, 0)
		b = append(b, 0xa3, 0x81, 0x69, 0, 0x15, byte(len("ServerSession_D01C33E0")))
		b = append(b, "ServerSession_D01C33E0"...)
		b = s7pString(b, 0x121, "1:::6.0::")
		b = s7pString(b, 0x128, "TIA Portal")
		b = s7pString(b, 0x129, "V17")
		b = s7pString(b, 0x12a, a.host)
		b = append(b, 0xa3, 0x82, 0x2b, 0, 0x04, 0x02)
		b = append(b, 0xa3, 0x82, 0x2c, 0, 0x12, 0x10, 0, 0, 0)
		b = s7pString(b, 0x12d, "TIA Portal V17 OMS+")
		b = append(b, 0xa1, 0, 0, 0, 0xd3, 0x81, 0x7f, 0, 0)
		b = append(b, 0xa3, 0x81, 0x69, 0, 0x15, byte(len("SubscriptionContainer")))
		b = append(b, "SubscriptionContainer"...)
		b = append(b, 0xa2, 0xa2, 0, 0, 0, 0)
	} else {
		b = append(b, 0x32, 0, 0, 0x04, 0xca, 0, 0)
		b = be16(b, a.seq)
		b = append(b, 0x36, 0, 0x02, 0x87, 0x08, 0x87, 0x09, 0xa1, 0, 0, 0x01, 0x20, 0x82, 0x1f, 0x01, 0)
		b = append(b, 0xa3, 0x81, 0x69, 0, 0x15, 0)
		b = append(b, 0xa3, 0x82, 0x2b, 0, 0x04, 0x82, 0x80, 0x80, 0x80, 0)
		b = s7pString(b, 0x12d, "OMSP.REL.5041.29")
		b = append(b, 0xa3, 0x82, 0x2f, 0x10, 0x02, 0x14)
		b = g.random(b, 20)
		b = append(b, 0xa3, 0x82, 0x32, 0, 0x17, 0, 0, 0x01, 0x3a)
		b = append(b, 0x82, 0x3b, 0, 0x04, 0x82, 0x40, 0x82, 0x3c, 0, 0x04, 0x82, 0x40)
		b = append(b, 0x82, 0x3d, 0, 0x04, 0x84, 0x81, 0x80, 0x40, 0x82, 0x3e, 0, 0x04, 0x84, 0x81, 0x80, 0x40)
		b = append(b, 0x82, 0x3f, 0, 0x15, byte(len(a.ident)))
		b = append(b, a.ident...)
		b = append(b, 0x82, 0x40, 0, 0x15, byte(len(a.ident)))
		b = append(b, a.ident...)
		b = append(b, 0x82, 0x41, 0, 0x03, 0, 0x03, 0, 0xa2, 0, 0, 0, 0)
	}
	put16(b[start-2:], uint16(len(b)-start))
	b = append(b, 0x72, 0x01, 0, 0)
	return tpktEnd(b, at)
}

// mbObject is one Modbus device identification object.
type mbObject struct {
	id  byte
	val string
}

// reportServerID appends the FC 17 request or answer: server id, run
// indicator (0xff = ON) and the device's description.
func (a *modbusApp) reportServerID(b []byte, resp bool) []byte {
	if !resp {
		a.tid++
		return append(a.mbap(b, 1), 0x11)
	}
	b = a.mbap(b, 4+len(a.serverID)) // function, byte count, server id, run indicator, data
	b = append(b, 0x11, byte(2+len(a.serverID)), a.unit, 0xff)
	return append(b, a.serverID...)
}

// deviceID appends the FC 43/14 answer: the regular objects (0-6) when the
// device has them, else the basic three.
func (a *modbusApp) deviceID(b []byte) []byte {
	objs := a.objects
	code, conf := byte(0x01), byte(0x01)
	if len(objs) > 3 {
		code, conf = 0x02, 0x82
	}
	n := 7
	for _, o := range objs {
		n += 2 + len(o.val)
	}
	b = a.mbap(b, n)
	b = append(b, 0x2b, 0x0e, code, conf, 0x00, 0x00, byte(len(objs)))
	for _, o := range objs {
		b = append(b, o.id, byte(len(o.val)))
		b = append(b, o.val...)
	}
	return b
}
