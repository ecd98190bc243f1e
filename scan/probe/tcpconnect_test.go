package probe

import (
	"net"
	"net/netip"
	"slices"
	"testing"
)

func TestTCPPorts(t *testing.T) {
	k := Known{TCP: []uint16{22, 102, 502, 9600, 48898}}
	tg := &Target{Addr: netip.MustParseAddr("10.99.0.2"), Known: k}
	for _, c := range []struct {
		name string
		o    PlanOptions
		want []uint16
	}{
		// seen OT ports without an identification probe; 102 and 502 have one
		{"seen", PlanOptions{}, []uint16{22, 9600, 48898}},
		{"seen and listed", PlanOptions{TCPPorts: []uint16{1911, 9600}}, []uint16{22, 1911, 9600, 48898}},
		{"fill gaps: listed and not known open", PlanOptions{FillGaps: true, TCPPorts: []uint16{1911, 9600}}, []uint16{1911}},
	} {
		if got := tcpPorts(tg, &c.o); !slices.Equal(got, c.want) {
			t.Errorf("%s: ports %v, want %v", c.name, got, c.want)
		}
	}
	if _, ok := (tcpProbe{}).Plan(&Target{Addr: tg.Addr}, &PlanOptions{}); ok {
		t.Error("a sweep of the default ports on a target nothing is known of")
	}
	p, ok := tcpProbe{}.Plan(tg, &PlanOptions{})
	if !ok || len(p.Steps) != 6 || p.Packets() != 18 || p.Port != 0 {
		t.Errorf("plan %+v: want connect and close to 3 ports", p)
	}
}

func TestTCPDissectorRefusesPayload(t *testing.T) {
	for _, p := range [][]byte{nil, {0}, []byte("GET / HTTP/1.1\r\n\r\n")} {
		if err := Check("tcp", KindTCPConnect, p); err == nil {
			t.Errorf("payload %q passes", p)
		}
	}
}

// TestTCPConnectLoopback connects to an open and a closed port of
// 127.0.0.2: one is opened and closed gracefully, the other refused, and
// the probe goes on after the refusal.
func TestTCPConnectLoopback(t *testing.T) {
	closedLn, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := uint16(closedLn.Addr().(*net.TCPAddr).Port)
	closedLn.Close()
	open := uint16(serveTCP(t, "127.0.0.2:0", func(c net.Conn) { _, _ = c.Read(make([]byte, 1)) }))
	addr := netip.MustParseAddr("127.0.0.2")
	ports := []uint16{min(open, closed), max(open, closed)}
	res, _ := itScan(t, addr, Known{TCP: []uint16{8}}, PlanOptions{TCPPorts: ports}, "tcp")
	var got []string
	for _, rec := range res.recs {
		got = append(got, rec.Kind+" "+rec.Answer)
		if rec.Port != open && rec.Port != closed {
			t.Errorf("record for port %d", rec.Port)
		}
	}
	want := []string{"tcp.connect open", "tcp.close closed", "tcp.connect refused"}
	if open > closed {
		want = []string{"tcp.connect refused", "tcp.connect open", "tcp.close closed"}
	}
	if !slices.Equal(got, want) {
		t.Errorf("log %v, want %v", got, want)
	}
}
