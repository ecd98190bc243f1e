package plant

// BACnet/IP in the building VLAN: the Metasys NAE is a BACnet device and a
// router to its MS/TP trunk (network 5). The BMS workstation broadcasts
// Who-Is; the NAE answers I-Am for itself and, with the NPDU source network
// and address (SNET/SADR), for the field controllers behind it; the
// workstation reads the Device objects with ReadPropertyMultiple.

const bacnetPort = 47808

// bacDevice is one BACnet device object as the plant answers for it.
type bacDevice struct {
	net      uint16 // 0: on the BACnet/IP network itself
	addr     byte   // MS/TP MAC behind the router
	instance uint32
	vendorID byte
	props    [6]string // object-name, vendor-name, model-name, firmware, application software, location
	maxAPDU  uint16
}

// BACnet property identifiers read by the workstation, in props order.
var bacProps = [6]byte{77, 121, 70, 44, 12, 58}

func bvlc(b []byte, fn byte) ([]byte, int) {
	at := len(b)
	return append(b, 0x81, fn, 0, 0), at
}

func bvlcEnd(b []byte, at int) []byte {
	put16(b[at+2:], uint16(len(b)-at))
	return b
}

func bacObjectID(b []byte, tag byte, typ uint32, instance uint32) []byte {
	return be32(append(b, tag), typ<<22|instance)
}

func bacString(b []byte, s string) []byte {
	n := len(s) + 1
	if n <= 4 {
		b = append(b, 0x70|byte(n))
	} else {
		b = append(b, 0x75, byte(n))
	}
	b = append(b, 0)
	return append(b, s...)
}

// npduFrom appends the NPDU header of a message sent by d (through its
// router when d.net != 0).
func npduFrom(b []byte, d *bacDevice) []byte {
	if d.net == 0 {
		return append(b, 0x01, 0x00)
	}
	b = append(b, 0x01, 0x08)
	b = be16(b, d.net)
	return append(b, 1, d.addr)
}

// iAm appends an I-Am of d.
func iAm(b []byte, d *bacDevice) []byte {
	b = npduFrom(b, d)
	b = append(b, 0x10, 0x00)
	b = bacObjectID(b, 0xc4, 8, d.instance)
	b = append(b, 0x22)
	b = be16(b, d.maxAPDU)
	return append(b, 0x91, 0x03, 0x21, d.vendorID)
}

// bacnetDiscovery is the workstation's Who-Is and the answers: the NAE's
// I-Am-Router-To-Network and the I-Am of every device.
type bacnetDiscovery struct {
	ws, nae *node
	devs    []*bacDevice
	bcast   [4]byte
	i       int
}

func (t *bacnetDiscovery) fire(g *Generator) int64 {
	b, at := bvlc(g.pl[:0], 0x0b)
	from := t.nae
	switch {
	case t.i == 0: // global Who-Is
		from = t.ws
		b = append(b, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08)
	case t.i == 1: // I-Am-Router-To-Network 5
		b = append(b, 0x01, 0x80, 0x01, 0x00, 0x05)
	default:
		b = iAm(b, t.devs[t.i-2])
	}
	g.pl = bvlcEnd(b, at)
	g.udp(from, broadcastMAC, from.ip, t.bcast, bacnetPort, bacnetPort, g.pl)
	t.i++
	if t.i < len(t.devs)+2 {
		return g.between(5*ms, 40*ms)
	}
	t.i = 0
	return g.jit(5*60*sec, 0.05)
}

// bacnetRPM reads the identification properties of each device in turn
// (ReadPropertyMultiple) and gets the complex ACK.
type bacnetRPM struct {
	devs   []*bacDevice
	i      int
	invoke byte
}

func (a *bacnetRPM) payload(_ *Generator, _ *dialog, msg uint8, b []byte) []byte {
	d := a.devs[a.i%len(a.devs)]
	b, at := bvlc(b, 0x0a)
	if msg == 1 {
		a.invoke++
		if d.net == 0 {
			b = append(b, 0x01, 0x04)
		} else {
			b = append(b, 0x01, 0x24)
			b = be16(b, d.net)
			b = append(b, 1, d.addr, 0xff)
		}
		b = append(b, 0x00, 0x05, a.invoke, 0x0e)
		b = bacObjectID(b, 0x0c, 8, d.instance)
		b = append(b, 0x1e)
		for _, p := range bacProps {
			b = append(b, 0x09, p)
		}
		b = append(b, 0x09, 120, 0x1f)
		return bvlcEnd(b, at)
	}
	a.i++
	b = npduFrom(b, d)
	b = append(b, 0x30, a.invoke, 0x0e)
	b = bacObjectID(b, 0x0c, 8, d.instance)
	b = append(b, 0x1e)
	for i, p := range bacProps {
		b = append(b, 0x29, p, 0x4e)
		b = bacString(b, d.props[i])
		b = append(b, 0x4f)
	}
	b = append(b, 0x29, 120, 0x4e, 0x21, d.vendorID, 0x4f, 0x1f)
	return bvlcEnd(b, at)
}
