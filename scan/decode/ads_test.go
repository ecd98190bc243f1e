package decode

import (
	"encoding/binary"
	"testing"

	"otscope/model"
)

func adsPacket(resp bool, cmd uint16, tport, sport uint16, target, source [6]byte, data []byte) []byte {
	a := append([]byte{}, target[:]...)
	a = binary.LittleEndian.AppendUint16(a, tport)
	a = append(a, source[:]...)
	a = binary.LittleEndian.AppendUint16(a, sport)
	a = binary.LittleEndian.AppendUint16(a, cmd)
	flags := uint16(4)
	if resp {
		flags |= 1
	}
	a = binary.LittleEndian.AppendUint16(a, flags)
	a = binary.LittleEndian.AppendUint32(a, uint32(len(data)))
	a = append(a, make([]byte, 8)...)
	a = append(a, data...)
	out := []byte{0, 0}
	out = binary.LittleEndian.AppendUint32(out, uint32(len(a)))
	return append(out, a...)
}

var (
	adsPLC = [6]byte{5, 13, 117, 96, 1, 1}
	adsHMI = [6]byte{10, 20, 0, 10, 1, 1}
)

func TestADSTCP(t *testing.T) {
	s := newSOFlow(48898, false)
	s.send(parseADS, false, adsPacket(false, 1, 851, 32905, adsPLC, adsHMI, nil))
	info := []byte{0, 0, 0, 0, 3, 1}
	info = binary.LittleEndian.AppendUint16(info, 4024)
	info = append(info, []byte("Plc30 App\x00\x00\x00\x00\x00\x00\x00")...)
	s.send(parseADS, true, adsPacket(true, 1, 32905, 851, adsHMI, adsPLC, info))
	s.send(parseADS, false, adsPacket(false, 5, 851, 32905, adsPLC, adsHMI, make([]byte, 8)))
	s.send(parseADS, true, adsPacket(true, 4, 32905, 851, adsHMI, adsPLC, []byte{0, 0, 0, 0, 5, 0, 0, 0}))
	s.send(parseADS, true, adsPacket(true, 4, 32905, 851, adsHMI, adsPLC, []byte{0, 0, 0, 0, 5, 0, 0, 0}))
	s.send(parseADS, true, adsPacket(true, 4, 32905, 851, adsHMI, adsPLC, []byte{0, 0, 0, 0, 6, 0, 0, 0}))
	cl, sv := s.sides()
	soWantFact(t, cl, model.FieldAMSNetID, "10.20.0.10.1.1")
	soWantFact(t, cl, FieldADSFunction, "0x0001 read device info")
	soWantFact(t, cl, FieldADSFunction, "0x0005 write control")
	soWantFact(t, sv, model.FieldAMSNetID, "5.13.117.96.1.1")
	soWantFact(t, sv, FieldAMSPort, "851")
	soWantFact(t, sv, model.FieldProduct, "Plc30 App")
	soWantFact(t, sv, model.FieldFirmware, "3.1.4024")
	soWantFact(t, sv, model.FieldRole, model.RolePLC)
	if got := sv[model.FieldOperatingMode]; len(got) != 2 || got[0] != "RUN" || got[1] != "STOP" {
		t.Errorf("operating modes %q, want RUN then STOP once each", got)
	}
}

func adsUDPPacket(svc uint32, netid [6]byte, tags ...[]byte) []byte {
	p := []byte{0x03, 0x66, 0x14, 0x71, 0, 0, 0, 0}
	p = binary.LittleEndian.AppendUint32(p, svc)
	p = append(p, netid[:]...)
	p = binary.LittleEndian.AppendUint16(p, 10000)
	p = binary.LittleEndian.AppendUint32(p, uint32(len(tags)))
	for _, t := range tags {
		p = append(p, t...)
	}
	return p
}

func adsTag(id uint16, v []byte) []byte {
	t := binary.LittleEndian.AppendUint16(nil, id)
	t = binary.LittleEndian.AppendUint16(t, uint16(len(v)))
	return append(t, v...)
}

func TestADSUDP(t *testing.T) {
	s := newSOFlow(48899, true)
	s.send(parseADS, false, adsUDPPacket(6, adsHMI, adsTag(12, []byte("ENG-PC\x00")), adsTag(5, []byte("ENG-PC\x00"))))
	s.send(parseADS, false, adsUDPPacket(1, adsHMI))
	osv := make([]byte, 20)
	binary.LittleEndian.PutUint32(osv[4:], 7)
	binary.LittleEndian.PutUint32(osv[12:], 2)
	binary.LittleEndian.PutUint32(osv[16:], 3)
	s.send(parseADS, true, adsUDPPacket(0x80000001, adsPLC, adsTag(5, []byte("CX-0D7560\x00")), adsTag(3, []byte{3, 1, 0xb8, 0x0f}), adsTag(4, osv)))
	cl, sv := s.sides()
	soWantFact(t, cl, FieldADSFunction, "udp 0x0006 add route")
	soWantFact(t, cl, FieldADSFunction, "udp 0x0001 discovery")
	soWantFact(t, cl, model.FieldHostname, "ENG-PC")
	soWantFact(t, sv, model.FieldHostname, "CX-0D7560")
	soWantFact(t, sv, model.FieldFirmware, "TwinCAT 3.1.4024")
	soWantFact(t, sv, model.FieldOS, "Windows CE 7.0 build 2")
	soWantFact(t, sv, model.FieldAMSNetID, "5.13.117.96.1.1")
}

func FuzzADS(f *testing.F) {
	f.Add(adsPacket(true, 1, 1, 851, adsHMI, adsPLC, make([]byte, 24)), true, false)
	f.Add(adsUDPPacket(0x80000001, adsPLC, adsTag(5, []byte("x"))), true, true)
	for _, p := range soSeedPayloads(f, 48898, "beckhoff-ads") {
		f.Add(p, false, false)
	}
	for _, p := range soSeedPayloads(f, 48899, "beckhoff-ads") {
		f.Add(p, false, true)
	}
	f.Fuzz(func(t *testing.T, p []byte, fromServer, udp bool) {
		soFuzzOne(t, parseADS, 48898, udp, fromServer, p)
	})
}

// BenchmarkADSPolling: ADS reads of a PLC variable.
func BenchmarkADSPolling(b *testing.B) {
	req := adsPacket(false, 2, 851, 32905, adsPLC, adsHMI, make([]byte, 12))
	resp := adsPacket(true, 2, 32905, 851, adsHMI, adsPLC, make([]byte, 16))
	benchFrames(b, soBenchFrames(b, 48898, req, resp))
}
