package decode

import (
	"encoding/binary"
	"net"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
)

// c37Frame builds a C37.118 frame of a type with a body after the common
// 14-byte header, and a (not checked) CHK.
func c37Build(typ byte, id int, body []byte) []byte {
	f := []byte{0xaa, typ<<4 | 1, 0, 0, byte(id >> 8), byte(id), 0, 0, 0, 0, 0, 0, 0, 0}
	f = append(f, body...)
	f = append(f, 0, 0)
	binary.BigEndian.PutUint16(f[2:], uint16(len(f)))
	return f
}

func c37CFG2(stn string, id int, rate int16) []byte {
	b := []byte{0, 0, 0x0f, 0x42, 0, 1} // time base, one PMU
	name := []byte(stn + "                ")[:16]
	b = append(b, name...)
	b = append(b, byte(id>>8), byte(id), 0, 0x06, 0, 1, 0, 0, 0, 0) // format, 1 phasor
	b = append(b, []byte("V1LPM           ")...)
	b = append(b, 0, 0, 0, 1)    // phasor unit
	b = append(b, 0, 1, 0, 0x59) // FNOM, CFGCNT
	b = append(b, byte(uint16(rate)>>8), byte(rate))
	return c37Build(3, id, b)
}

func TestC37118ConfigAndCommands(t *testing.T) {
	pmuIP, pdcIP := net.IP{192, 168, 0, 241}, net.IP{192, 168, 0, 20}
	pmuMAC, pdcMAC := net.HardwareAddr{0, 0x30, 0xa7, 0, 0x0d, 0x3a}, net.HardwareAddr{0, 9, 0x6b, 0x93, 0x7b, 0x83}
	cl := func(p []byte) []byte {
		return frame(t, eth(pdcMAC, pmuMAC, layers.EthernetTypeIPv4), ip4(pdcIP, pmuIP, layers.IPProtocolTCP), tcpSeg(36835, 4712, false, true), gopacket.Payload(p))
	}
	sv := func(p []byte) []byte {
		return frame(t, eth(pmuMAC, pdcMAC, layers.EthernetTypeIPv4), ip4(pmuIP, pdcIP, layers.IPProtocolTCP), tcpSeg(4712, 36835, false, true), gopacket.Payload(p))
	}
	data := c37Build(0, 241, make([]byte, 20))
	d := New(Options{Origin: "test"})
	feed(d,
		cl(c37Build(4, 241, []byte{0, 5})),
		sv(c37CFG2("Blue PMU", 241, 50)),
		cl(c37Build(4, 241, []byte{0, 2})),
		sv(append(append([]byte{}, data...), data...)))
	obs := d.Flush().Obs
	wantFacts(t, factsOf(obs, pmuIP),
		fieldC37IDCode, "241", fieldC37Station, "Blue PMU", fieldC37PMUID, "241",
		fieldC37DataRate, "50/s", model.FieldStationName, "Blue PMU", model.FieldRole, roleC37PMU)
	wantFacts(t, factsOf(obs, pdcIP),
		fieldC37Function, "0x0005 send cfg-2 frame", fieldC37Function, "0x0002 turn on transmission")
}

func TestC37118Malformed(t *testing.T) {
	bad := c37CFG2("X", 1, 10)
	binary.BigEndian.PutUint16(bad[18:], 0xffff) // 65535 PMUs in a 70-byte frame
	for _, p := range [][]byte{bad, {0xaa, 0x31, 0, 4}, {0xaa, 0x31, 0xff, 0xff, 0, 0}} {
		fuzzApp(t, parseC37118, p)
	}
}
