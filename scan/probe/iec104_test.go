package probe

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"testing"

	"otscope/model"
	"otscope/scan/probe/sim"
)

func TestIEC104RequestBytes(t *testing.T) {
	// start 0x68, APDU length 4, control field 1 = TESTFR act (bit 6) + U
	// format (bits 0-1 = 11), control fields 2-4 zero
	if !bytes.Equal(iec104TestAct, []byte{0x68, 0x04, 0x43, 0x00, 0x00, 0x00}) {
		t.Errorf("TESTFR act % x", iec104TestAct)
	}
	if err := Check("iec104", KindIEC104TestFR, iec104TestAct); err != nil {
		t.Error(err)
	}
}

func TestIEC104Dissector(t *testing.T) {
	// C_IC_NA_1 general interrogation to common address 1
	interrogation := []byte{0x68, 0x0e, 0, 0, 0, 0, 100, 1, 6, 0, 1, 0, 0, 0, 0, 20}
	// C_SC_NA_1 single command
	command := []byte{0x68, 0x0e, 0, 0, 0, 0, 45, 1, 6, 0, 1, 0, 1, 0, 0, 1}
	refused := []struct {
		name string
		p    []byte
	}{
		{"STARTDT act", []byte{0x68, 0x04, 0x07, 0, 0, 0}},
		{"STOPDT act", []byte{0x68, 0x04, 0x13, 0, 0, 0}},
		{"TESTFR con", []byte{0x68, 0x04, 0x83, 0, 0, 0}},
		{"S-format", []byte{0x68, 0x04, 0x01, 0, 0x02, 0}},
		{"general interrogation", interrogation},
		{"single command", command},
		{"TESTFR act with trailing byte", append(slices.Clone(iec104TestAct), 0)},
		{"two TESTFR act", append(slices.Clone(iec104TestAct), iec104TestAct...)},
		{"short", iec104TestAct[:5]},
	}
	for _, c := range refused {
		if k, err := dissectIEC104(c.p); err == nil {
			t.Errorf("%s: accepted as %s", c.name, k)
		}
		if Check("iec104", KindIEC104TestFR, c.p) == nil {
			t.Errorf("%s: Check accepts it", c.name)
		}
	}
}

func TestIEC104FrameAndSummary(t *testing.T) {
	if n, err := iec104Frame(iec104TestCon[:1]); n != 0 || err != nil {
		t.Errorf("short: %d %v", n, err)
	}
	if n, err := iec104Frame(iec104TestCon); n != 6 || err != nil {
		t.Errorf("exact: %d %v", n, err)
	}
	if n, err := iec104Frame(append(slices.Clone(iec104TestCon), 0x68)); n != 6 || err != nil {
		t.Errorf("long: %d %v", n, err)
	}
	if _, err := iec104Frame([]byte("garbage")); err == nil {
		t.Error("garbage framed")
	}
	if _, err := iec104Frame([]byte{0x68, 0xff}); err == nil {
		t.Error("length 255 framed")
	}
	if _, err := iec104Frame([]byte{0x68, 0x02}); err == nil {
		t.Error("length 2 framed")
	}
	if s := iec104Summary(iec104TestCon); s != "TESTFR con" {
		t.Errorf("summary %q", s)
	}
	if s := iec104Summary([]byte{0x68, 0x04, 0x0b, 0, 0, 0}); s != "U-format 0x0b" {
		t.Errorf("STARTDT con summary %q", s)
	}
}

func TestIEC104Plan(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.12")
	tg := Target{Addr: ip, Asset: &model.Asset{}, Known: Known{TCP: []uint16{2404}}}
	if p, ok := (iec104Probe{}).Plan(&tg, &PlanOptions{FillGaps: true}); !ok || p.IfOpen || len(p.Steps) != 3 {
		t.Errorf("port known, protocol not: %+v %v", p, ok)
	}
	tg.Known.Protocols = []string{"iec104"}
	if _, ok := (iec104Probe{}).Plan(&tg, &PlanOptions{FillGaps: true}); ok {
		t.Error("planned with FillGaps for a station known to speak IEC 104")
	}
	if _, ok := (iec104Probe{}).Plan(&tg, &PlanOptions{}); !ok {
		t.Error("not planned without FillGaps")
	}
	if p, ok := (iec104Probe{}).Plan(&Target{Addr: ip}, &PlanOptions{}); !ok || !p.IfOpen {
		t.Errorf("bare: %+v %v", p, ok)
	}
}

// TestIEC104Sim sends TESTFR act to the project's controlled-station
// simulator (no installable IEC 104 station here) and gets TESTFR con.
func TestIEC104Sim(t *testing.T) {
	const addr = "127.0.0.33"
	s, err := sim.ListenIEC104(addr + ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	port := uint16(s.Addr().(*net.TCPAddr).Port)
	ip := netip.MustParseAddr(addr)
	res := icsScan(t, ip, nil, []string{"iec104"}, PlanOptions{Ports: map[string]uint16{"iec104": port}})
	want := []string{"tcp.connect", "iec104.testfr_act", "tcp.close"}
	if !slices.Equal(res.kinds(), want) || res.recs[1].Answer != "TESTFR con" {
		t.Errorf("log %v %+v", res.kinds(), res.recs)
	}
	if got := s.Requests(); !slices.Equal(got, []string{"tcp apdu 0x43"}) {
		t.Errorf("simulator saw %v", got)
	}
	found := false
	for _, o := range res.obs {
		if o.Kind == model.ObsService && o.Subject.IP == ip && o.Service.Protocol == "iec104" && o.Source.Kind == model.Active {
			found = true
		}
	}
	if !found {
		t.Errorf("no active iec104 service observation: %+v", res.obs)
	}
}

func FuzzDissectIEC104(f *testing.F) {
	f.Add(slices.Clone(iec104TestAct))
	f.Add([]byte{0x68, 0x04, 0x07, 0, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		if _, err := dissectIEC104(p); err == nil && !bytes.Equal(p, iec104TestAct) {
			t.Fatalf("accepted % x", p)
		}
	})
}

func FuzzIEC104Frame(f *testing.F) {
	f.Add(slices.Clone(iec104TestCon))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := iec104Frame(b)
		if err == nil && n != 0 && (n < 6 || n > 255) {
			t.Fatalf("frame length %d", n)
		}
		_ = iec104Summary(b)
	})
}
