package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/scan/capture"
	"otscope/scan/testenv"
)

// wirePkt is one captured TCP segment.
type wirePkt struct {
	t        time.Time
	src, dst netip.Addr
	sp, dp   uint16
	payload  int
	flags    string
}

// captureTCP captures TCP on lo to or from port until stop is called. It
// skips the test without CAP_NET_RAW.
func captureTCP(t *testing.T, port int) (stop func() []wirePkt) {
	t.Helper()
	src, err := capture.OpenLive("lo", capture.Options{Filter: fmt.Sprintf("tcp and port %d", port)})
	if errors.Is(err, capture.ErrPermission) {
		testenv.Skip(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var pkts []wirePkt
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			data, ci, err := src.ZeroCopyReadPacketData()
			if errors.Is(err, capture.ErrIdle) {
				continue
			}
			if err != nil {
				return
			}
			p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.NoCopy)
			ip, _ := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4)
			tcp, _ := p.Layer(layers.LayerTypeTCP).(*layers.TCP)
			if ip == nil || tcp == nil {
				continue
			}
			w := wirePkt{t: ci.Timestamp, sp: uint16(tcp.SrcPort), dp: uint16(tcp.DstPort), payload: len(tcp.Payload)}
			w.src, _ = netip.AddrFromSlice(ip.SrcIP.To4())
			w.dst, _ = netip.AddrFromSlice(ip.DstIP.To4())
			for _, f := range []struct {
				on bool
				c  string
			}{{tcp.SYN, "S"}, {tcp.ACK, "A"}, {tcp.FIN, "F"}, {tcp.RST, "R"}, {tcp.PSH, "P"}} {
				if f.on {
					w.flags += f.c
				}
			}
			mu.Lock()
			pkts = append(pkts, w)
			mu.Unlock()
		}
	}()
	// let the socket settle before anything is sent
	time.Sleep(50 * time.Millisecond)
	return func() []wirePkt {
		time.Sleep(200 * time.Millisecond) // the last frames
		src.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return append([]wirePkt(nil), pkts...)
	}
}

// TestWireBudget runs a scan of six loopback hosts through the real
// kernel and checks from a capture of lo: the caps hold in every sliding
// second, every request segment is a log record, and the log's packet
// counts match the wire per connection.
func TestWireBudget(t *testing.T) {
	port := freePort(t)
	stop := captureTCP(t, port)
	var hosts []string
	for i := 2; i <= 7; i++ {
		h := fmt.Sprintf("127.0.0.%d", i)
		hosts = append(hosts, h)
		startTP(t, h, port, tpEcho)
	}
	scope := mustScope(t, "127.0.0.2-7")
	rec := &recorder{}
	const rate, perHost = 12, 5
	sc := New(Options{Rate: rate, PerHost: perHost, InFlight: 4, Scope: scope, Log: rec.log,
		Plan: PlanOptions{Ports: map[string]uint16{tpName: uint16(port)}}})
	plan := BuildPlan(tpTargets(t, scope, true), tpProbes(t), &sc.o.Plan, sc.o.Budget())
	start := time.Now()
	if err := sc.Run(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	pkts := stop()
	var out []stamp
	perConn := map[netip.AddrPort]int{}
	payloads := map[netip.Addr]int{}
	for _, p := range pkts {
		if p.dp != uint16(port) {
			continue // from a server
		}
		out = append(out, stamp{p.t, p.dst})
		perConn[netip.AddrPortFrom(p.dst, p.sp)]++
		if p.payload > 0 {
			if p.payload != 4 {
				t.Fatalf("scanner segment with %d bytes of payload", p.payload)
			}
			payloads[p.dst]++
		}
	}
	if len(out) == 0 {
		t.Fatal("nothing captured")
	}
	if got := maxInWindow(out, netip.Addr{}, time.Second); got > rate {
		t.Fatalf("wire: %d packets in one second, global cap %d", got, rate)
	}
	for _, h := range hosts {
		a := netip.MustParseAddr(h)
		if got := maxInWindow(out, a, time.Second); got > perHost {
			t.Fatalf("wire: %s got %d packets in one second, cap %d", a, got, perHost)
		}
	}
	if len(perConn) != len(hosts) {
		t.Fatalf("%d connections on the wire, want %d", len(perConn), len(hosts))
	}
	for ap, n := range perConn {
		recs := rec.forTarget(ap.Addr())
		logged, exchanges := 0, 0
		for _, r := range recs {
			logged += r.Packets
			if r.Kind == string(tpKind) {
				exchanges++
				if r.Error != "" || r.Answer != "16 data bytes" || r.Bytes != 4 || r.Port != uint16(port) {
					t.Fatalf("record %+v", r)
				}
			}
		}
		if exchanges != 4 || payloads[ap.Addr()] != exchanges {
			t.Fatalf("%s: %d exchange records, %d request segments on the wire", ap.Addr(), exchanges, payloads[ap.Addr()])
		}
		if d := logged - n; d < -1 || d > 1 {
			t.Fatalf("%s: log says %d packets, wire has %d", ap, logged, n)
		} else if d != 0 {
			t.Logf("%s: log says %d packets, wire has %d", ap, logged, n)
		}
		if recs[0].Kind != string(KindTCPConnect) || recs[len(recs)-1].Kind != string(KindTCPClose) || recs[len(recs)-1].Answer != "closed" {
			t.Fatalf("%s: records %+v", ap.Addr(), recs)
		}
	}
	g := sc.Gauges()
	if g.TargetsDone != 6 || g.TargetsTotal != 6 || g.Requests != 24 || g.Answers != 24 || g.Errors != 0 {
		t.Fatalf("gauges %+v", g)
	}
	t.Logf("%d scanner packets in %v (%.1f pps, cap %d); plan said %d at most, about %v",
		len(out), took.Round(time.Millisecond), float64(len(out))/took.Seconds(), rate, plan.Packets, plan.Duration)
}

// TestBadPeers: silence, garbage, a 1 GB length, a slow loris, a reset and
// a closed port each give one record with the failure, and the scan goes on.
func TestBadPeers(t *testing.T) {
	port := freePort(t)
	startTP(t, "127.0.0.10", port, func(s *tpServer, c *net.TCPConn) { // silent
		_, _ = io.Copy(io.Discard, c)
	})
	startTP(t, "127.0.0.11", port, func(s *tpServer, c *net.TCPConn) { // garbage
		if _, err := s.readReq(c); err == nil {
			_, _ = c.Write([]byte("HTTP/1.0 400 garbage\r\n"))
			_, _ = io.Copy(io.Discard, c)
		}
	})
	startTP(t, "127.0.0.12", port, func(s *tpServer, c *net.TCPConn) { // 1 GB
		if _, err := s.readReq(c); err == nil {
			_, _ = c.Write([]byte{'T', 'P', 0x40, 0, 0, 0, 1, 2, 3})
			_, _ = io.Copy(io.Discard, c)
		}
	})
	startTP(t, "127.0.0.13", port, func(s *tpServer, c *net.TCPConn) { // slow loris
		if _, err := s.readReq(c); err != nil {
			return
		}
		ans := append([]byte{'T', 'P', 0, 0, 0, 100}, make([]byte, 100)...)
		for _, b := range ans {
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
			time.Sleep(300 * time.Millisecond)
		}
	})
	startTP(t, "127.0.0.14", port, func(s *tpServer, c *net.TCPConn) { // reset
		if _, err := s.readReq(c); err == nil {
			_ = c.SetLinger(0)
		}
	})
	// 127.0.0.15: nothing listens
	scope := mustScope(t, "127.0.0.10-15")
	rec := &recorder{}
	const timeout = time.Second
	sc := New(Options{Scope: scope, Log: rec.log, Timeout: timeout, Rate: 50, PerHost: 5, InFlight: 6,
		Plan: PlanOptions{Ports: map[string]uint16{tpName: uint16(port)}}})
	plan := BuildPlan(tpTargets(t, scope, false), tpProbes(t), &sc.o.Plan, sc.o.Budget())
	if err := sc.Run(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"127.0.0.10": "timeout", "127.0.0.11": "garbage", "127.0.0.12": "too long",
		"127.0.0.13": "timeout", "127.0.0.14": "reset"}
	for h, ans := range want {
		recs := rec.forTarget(netip.MustParseAddr(h))
		var ex []int
		for i, r := range recs {
			if r.Kind == string(tpKind) {
				ex = append(ex, i)
			}
		}
		if len(ex) != 1 {
			t.Fatalf("%s: %d exchange records, want 1: %+v", h, len(ex), recs)
		}
		r := recs[ex[0]]
		if r.Answer != ans || r.Error == "" || r.Packets < 1 {
			t.Fatalf("%s: record %+v, want answer %q", h, r, ans)
		}
		if h == "127.0.0.13" {
			// the slow loris is cut at the deadline, not at its last byte;
			// the request itself may wait up to one budget window for the
			// per-host cap after the handshake
			if d := r.Time.Sub(recs[0].Time); d < timeout-50*time.Millisecond || d > timeout+DefaultWindow+300*time.Millisecond {
				t.Fatalf("slow loris answer cut after %v, deadline %v", d, timeout)
			}
		}
		if last := recs[len(recs)-1]; last.Kind != string(KindTCPClose) {
			t.Fatalf("%s: no close record: %+v", h, recs)
		}
	}
	recs := rec.forTarget(netip.MustParseAddr("127.0.0.15"))
	if len(recs) != 1 || recs[0].Kind != string(KindTCPConnect) || recs[0].Answer != "refused" || recs[0].Packets != 1 {
		t.Fatalf("closed port: %+v", recs)
	}
	if g := sc.Gauges(); g.TargetsDone != 6 || g.Conns != 0 {
		t.Fatalf("gauges %+v", g)
	}
}

// TestUDPRetry: a silent UDP peer gets the request and one retransmission,
// both budgeted and logged in one record; an answering peer one packet.
func TestUDPRetry(t *testing.T) {
	silent, err := net.ListenPacket("udp", "127.0.0.16:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	port := silent.LocalAddr().(*net.UDPAddr).Port
	answering, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.17:%d", port))
	if err != nil {
		t.Skip("port taken on 127.0.0.17:", err)
	}
	defer answering.Close()
	got := make(chan int, 4)
	go func() {
		b := make([]byte, 64)
		for {
			n, _, err := silent.ReadFrom(b)
			if err != nil {
				return
			}
			got <- n
		}
	}()
	go func() {
		b := make([]byte, 64)
		for {
			_, from, err := answering.ReadFrom(b)
			if err != nil {
				return
			}
			_, _ = answering.WriteTo([]byte{'T', 'P', 0, 0, 0, 1, 9}, from)
		}
	}()
	rec := &recorder{}
	sc := New(Options{Scope: mustScope(t, "127.0.0.16-17"), Log: rec.log, Timeout: 300 * time.Millisecond})
	ctx := context.Background()
	s, err := sc.NewSession(&Target{Addr: netip.MustParseAddr("127.0.0.16")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExchangeUDP(ctx, tpName, uint16(port), tpRequest(1, 0)); err == nil {
		t.Fatal("silent peer answered")
	}
	if len(got) != 2 {
		t.Fatalf("silent peer got %d datagrams, want 2", len(got))
	}
	s2, _ := sc.NewSession(&Target{Addr: netip.MustParseAddr("127.0.0.17")})
	ans, err := s2.ExchangeUDP(ctx, tpName, uint16(port), tpRequest(1, 0))
	if err != nil || len(ans) != 7 {
		t.Fatalf("answer %v, %v", ans, err)
	}
	r := rec.all()
	if len(r) != 2 || r[0].Packets != 2 || r[0].Answer != "timeout" || r[1].Packets != 1 || r[1].Answer != "1 data bytes" || r[1].Transport != "udp" {
		t.Fatalf("records %+v", r)
	}
}

// TestRefusals: out of scope, a kind off the allow-list, a payload the
// dissector refuses, an oversized payload: nothing is sent.
func TestRefusals(t *testing.T) {
	port := freePort(t)
	in := startTP(t, "127.0.0.2", port, tpEcho)
	out := startTP(t, "127.0.0.3", port, tpEcho)
	rec := &recorder{}
	sc := New(Options{Scope: mustScope(t, "127.0.0.2"), Log: rec.log})
	ctx := context.Background()
	if _, err := sc.NewSession(&Target{Addr: netip.MustParseAddr("127.0.0.3")}); err == nil {
		t.Fatal("session for an address outside the scope")
	}
	// the second line of defence: a session whose target left the scope
	rogue := &Session{sc: sc, t: &Target{Addr: netip.MustParseAddr("127.0.0.3")}, timeout: time.Second}
	if _, err := rogue.DialTCP(ctx, tpName, uint16(port)); err == nil {
		t.Fatal("dial outside the scope")
	}
	if _, err := rogue.ExchangeUDP(ctx, tpName, uint16(port), tpRequest(1, 0)); err == nil {
		t.Fatal("UDP outside the scope")
	}
	if _, err := rogue.ExchangeL2(ctx, tpName, tpRequest(1, 0), func([]byte) bool { return true }); err == nil {
		t.Fatal("L2 outside the scope")
	}
	s, err := sc.NewSession(&Target{Addr: netip.MustParseAddr("127.0.0.2")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.DialTCP(ctx, tpName, uint16(port))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.DialTCP(ctx, tpName, uint16(port)); err == nil {
		t.Fatal("a second connection to one target")
	}
	sent := sc.Budget().Gauges().Sent
	bad := []*Request{
		{Kind: "modbus.write_single_register", Payload: []byte{'T', 'P', 1, 0}},        // off the list
		{Kind: KindHTTPGet, Payload: []byte{'T', 'P', 1, 0}},                           // claim differs
		{Kind: tpKind, Payload: []byte{'T', 'P', 2, 0}},                                // a write
		{Kind: tpKind, Payload: []byte{'T', 'P', 1, 0, 0}},                             // trailing byte
		{Kind: tpKind, Payload: append([]byte{'T', 'P', 1, 0}, make([]byte, 1500)...)}, // too big
	}
	for i, r := range bad {
		if _, err := c.Exchange(ctx, r); err == nil {
			t.Fatalf("bad request %d went through", i)
		}
		if _, err := s.ExchangeUDP(ctx, tpName, uint16(port), r); err == nil {
			t.Fatalf("bad UDP request %d went through", i)
		}
	}
	var ne *ErrNotAllowed
	if _, err := c.Exchange(ctx, bad[2]); !errors.As(err, &ne) {
		t.Fatalf("a write was refused with %v, want ErrNotAllowed", err)
	}
	time.Sleep(50 * time.Millisecond)
	if b, _ := in.got(); b != 0 {
		t.Fatalf("the target received %d bytes of refused requests", b)
	}
	if b, n := out.got(); b != 0 || n != 0 {
		t.Fatalf("the out-of-scope host got %d connections", n)
	}
	if after := sc.Budget().Gauges().Sent; after != sent {
		t.Fatalf("refusals sent %d packets", after-sent)
	}
	if _, err := c.Exchange(ctx, tpRequest(1, 0)); err != nil {
		t.Fatalf("a good request after refusals: %v", err)
	}
	refused := 0
	for _, r := range rec.all() {
		if r.Answer == "not sent" {
			refused++
			if r.Packets != 0 || r.Error == "" {
				t.Fatalf("refusal record %+v", r)
			}
		}
	}
	if want := 3 + 1 + 2*len(bad) + 1; refused != want {
		t.Fatalf("%d refusal records, want %d", refused, want)
	}
	s.End()
}

// TestConnAfterFailure: a request nobody answered leaves the connection
// usable; garbage ends it (its framing is lost), and nothing more is sent.
func TestConnAfterFailure(t *testing.T) {
	port := freePort(t)
	silent := startTP(t, "127.0.0.18", port, func(s *tpServer, c *net.TCPConn) {
		for {
			if _, err := s.readReq(c); err != nil {
				return
			}
		}
	})
	garbage := startTP(t, "127.0.0.19", port, func(s *tpServer, c *net.TCPConn) {
		for {
			if _, err := s.readReq(c); err != nil {
				return
			}
			_, _ = c.Write([]byte("??????"))
		}
	})
	sc := New(Options{Scope: mustScope(t, "127.0.0.18-19"), Timeout: 300 * time.Millisecond})
	ctx := context.Background()
	for _, tc := range []struct {
		host   string
		srv    *tpServer
		second bool
	}{{"127.0.0.18", silent, true}, {"127.0.0.19", garbage, false}} {
		s, err := sc.NewSession(&Target{Addr: netip.MustParseAddr(tc.host)})
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.DialTCP(ctx, tpName, uint16(port))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Exchange(ctx, tpRequest(1, 1)); err == nil {
			t.Fatalf("%s answered", tc.host)
		}
		_, err = c.Exchange(ctx, tpRequest(1, 2))
		var re *RefusedError
		if refused := errors.As(err, &re); refused == tc.second {
			t.Fatalf("%s: second request: %v", tc.host, err)
		}
		time.Sleep(50 * time.Millisecond)
		want := 4
		if tc.second {
			want = 8
		}
		if b, _ := tc.srv.got(); b != want {
			t.Fatalf("%s: server got %d bytes, want %d", tc.host, b, want)
		}
		s.End()
	}
}
