package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"otscope/model"
)

func TestRegistry(t *testing.T) {
	ps, err := Lookup([]string{" TestProto ", "testproto"})
	if err != nil || len(ps) != 1 || ps[0].Name() != tpName {
		t.Fatalf("Lookup: %v, %v", ps, err)
	}
	_, err = Lookup([]string{"testproto", "nmap"})
	if err == nil || !strings.Contains(err.Error(), `unknown probe "nmap"`) || !strings.Contains(err.Error(), "testproto") {
		t.Fatalf("unknown probe: %v", err)
	}
	all := Probes()
	if !slices.IsSortedFunc(all, func(a, b Probe) int { return strings.Compare(a.Name(), b.Name()) }) {
		t.Fatal("Probes not sorted")
	}
	if every, _ := Lookup(nil); len(every) != len(all) {
		t.Fatalf("Lookup(nil) gives %d probes, Probes %d", len(every), len(all))
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a second probe under one name was accepted")
		}
	}()
	Register(tpProbe{})
}

func testAssets() []model.Asset {
	return []model.Asset{
		{
			ID: "mac:00:80:f4:01:02:03", MACs: []model.MAC{{0x00, 0x80, 0xf4, 1, 2, 3}},
			IPs: []netip.Addr{netip.MustParseAddr("10.0.0.2"), netip.MustParseAddr("fd00::2")}, Vendor: "Schneider Electric",
			Product: "BMX P34 2020", Firmware: "v3.10",
			Services:  []model.Service{{Transport: "tcp", Port: 502, Protocol: "modbus"}, {Transport: "udp", Port: 47808, Protocol: "bacnet"}},
			Protocols: []string{"arp", "modbus"}, Roles: []string{"plc"},
			ProtocolIDs: &model.ProtocolIDs{ModbusUnitIDs: []string{"255", "1", "x"}},
			Facts:       []model.Fact{{Field: "snmp.sys_name", Value: "plc2"}},
		},
		{ID: "ip:10.0.0.3", IPs: []netip.Addr{netip.MustParseAddr("10.0.0.3")}, Roles: []string{"safety controller"}},
		{ID: "ip:10.0.0.9", MACs: []model.MAC{{2, 0, 0, 0, 0, 9}}, IPs: []netip.Addr{netip.MustParseAddr("10.0.0.9")}},
	}
}

func TestTargets(t *testing.T) {
	ts := Targets(mustScope(t, "10.0.0.1-4", "10.0.0.9"), testAssets(), []string{"Safety Controller"})
	var addrs []string
	for _, tg := range ts {
		addrs = append(addrs, tg.Addr.String())
	}
	if strings.Join(addrs, " ") != "10.0.0.1 10.0.0.2 10.0.0.4 10.0.0.9" {
		t.Fatalf("targets %v", addrs)
	}
	plc := ts[1]
	k := plc.Known
	if plc.Asset == nil || plc.MAC != (model.MAC{0x00, 0x80, 0xf4, 1, 2, 3}) || !k.HasTCP(502) || !k.HasUDP(47808) ||
		!k.Speaks("modbus") || !k.Speaks("bacnet") || !k.Has(model.FieldFirmware) || !k.Has(model.FieldVendor) ||
		!k.Has("snmp.sys_name") || k.Has(model.FieldSerial) || !slices.Equal(k.ModbusUnits, []uint8{1, 255}) {
		t.Fatalf("known %+v, MAC %v", k, plc.MAC)
	}
	if ts[0].Asset != nil || len(ts[0].Known.TCP) != 0 || ts[0].Known.Fields == nil {
		t.Fatalf("unknown target %+v", ts[0])
	}
	if ts[3].MAC != (model.MAC{}) {
		t.Fatal("a routed host got its router's MAC")
	}
}

func TestScopeFromAssets(t *testing.T) {
	assets := testAssets()
	s, err := ScopeFromAssets(assets, ScopeOptions{})
	if err != nil || s.Len() != 3 || !s.Contains(netip.MustParseAddr("10.0.0.9")) || s.Contains(netip.MustParseAddr("fd00::2")) {
		t.Fatalf("scope %v, %v", s, err)
	}
	assets = append(assets, model.Asset{IPs: []netip.Addr{netip.MustParseAddr("8.8.8.8")}})
	if _, err := ScopeFromAssets(assets, ScopeOptions{}); err == nil || !strings.Contains(err.Error(), "--allow-public") {
		t.Fatalf("public asset: %v", err)
	}
	if _, err := ScopeFromAssets(nil, ScopeOptions{}); err == nil {
		t.Fatal("a session without assets gave a scope")
	}
}

// pickyProbe applies only to targets with an asset.
type pickyProbe struct{}

func (pickyProbe) Name() string { return "picky" }
func (pickyProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	if t.Asset == nil {
		return Planned{}, false
	}
	return Planned{Probe: "picky", Transport: UDP, Port: 47808, Steps: []Step{{KindBACnetWhoIs, 2}},
		Why: "udp/47808 seen passively, a long reason that must be clipped to fit the eighty columns"}, true
}
func (pickyProbe) Run(context.Context, *Session, *Target, *Planned, *PlanOptions) error { return nil }

func TestBuildPlan(t *testing.T) {
	scope := mustScope(t, "10.0.0.1-4")
	ts := Targets(scope, testAssets(), nil)
	ts[2].Known.Fields["tp.requests"] = true
	p := BuildPlan(ts, append(tpProbes(t), pickyProbe{}), &PlanOptions{}, BudgetOptions{})
	// testproto: 9 packets (1 request) or 18 (4); picky: 2 on two assets
	if len(p.Targets) != 4 || p.Probes != 6 || p.Packets != 3*9+18+2*2 || p.Nothing != 0 {
		t.Fatalf("plan: %d targets, %d probes, %d packets, %d nothing", len(p.Targets), p.Probes, p.Packets, p.Nothing)
	}
	if p.Targets[2].Requests() != 4+1 || p.Targets[2].Packets != 18+2 {
		t.Fatalf("target plan %+v", p.Targets[2])
	}
	// reservations fill the caps less the kernel's headroom: 49 packets at
	// min(50-4, 4x4) = 16 pps is 3.1 s; the busiest host needs 18/4 = 4.5 s
	if p.Duration != 5*time.Second {
		t.Fatalf("duration %v", p.Duration)
	}
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if utf8.RuneCountInString(line) > 80 {
			t.Fatalf("line of %d columns: %q", utf8.RuneCountInString(line), line)
		}
	}
	if !strings.Contains(out, "4 targets, 6 probes: at most 49 packets\nsending them takes up to 5s at 50 pps, 5 per host (answers add to it)\n") ||
		!strings.Contains(out, "10.0.0.2        Schneider Ele… testpr…     1   1    9 test\n") || !strings.Contains(out, "…") {
		t.Fatalf("plan output:\n%s", out)
	}
	only := BuildPlan(ts, []Probe{pickyProbe{}}, nil, BudgetOptions{Rate: 10, PerHost: 2})
	buf.Reset()
	_ = only.Write(&buf)
	if only.Nothing != 2 || len(only.Targets) != 2 || !strings.Contains(buf.String(), "2 targets: nothing to ask\n") ||
		!strings.Contains(buf.String(), "at 10 pps, 2 per host") {
		t.Fatalf("plan output:\n%s", buf.String())
	}
}

// TestRunStop stops a scan whose four targets all hold a connection
// waiting for an answer: Run returns context.Canceled at once and every
// peer sees its connection reset within 100 ms.
func TestRunStop(t *testing.T) {
	port := freePort(t)
	resets := make(chan time.Time, 8)
	for i := 30; i < 36; i++ {
		startTP(t, fmt.Sprintf("127.0.0.%d", i), port, func(s *tpServer, c *net.TCPConn) {
			_, _ = io.Copy(io.Discard, c) // never answers
			resets <- time.Now()
		})
	}
	scope := mustScope(t, "127.0.0.30-35")
	rec := &recorder{}
	sc := New(Options{Scope: scope, Log: rec.log, Timeout: 10 * time.Second, InFlight: 4,
		Plan: PlanOptions{Ports: map[string]uint16{tpName: uint16(port)}}})
	plan := BuildPlan(tpTargets(t, scope, true), tpProbes(t), &sc.o.Plan, sc.o.Budget())
	done := make(chan error, 1)
	go func() { done <- sc.Run(context.Background(), plan) }()
	deadline := time.Now().Add(5 * time.Second)
	for sc.Gauges().Requests < 4 {
		if time.Now().After(deadline) {
			t.Fatalf("gauges %+v", sc.Gauges())
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	t0 := time.Now()
	sc.Stop()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("Run still running 1 s after Stop")
	}
	returned := time.Since(t0)
	wantResets(t, resets, 4, t0)
	g := sc.Gauges()
	if !g.Stopped || g.Conns != 0 || g.TargetsDone != 4 || g.TargetsTotal != 6 || g.Requests != 4 {
		t.Fatalf("gauges %+v", g)
	}
	t.Logf("Run returned %v after Stop", returned)
	// nothing reached the two targets that were not started
	for _, h := range []string{"127.0.0.34", "127.0.0.35"} {
		if recs := rec.forTarget(netip.MustParseAddr(h)); len(recs) != 0 {
			t.Fatalf("%s: %+v", h, recs)
		}
	}
}

func TestRunContextCancel(t *testing.T) {
	sc := New(Options{Scope: mustScope(t, "127.0.0.40")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	plan := BuildPlan(tpTargets(t, sc.o.Scope, false), tpProbes(t), &sc.o.Plan, sc.o.Budget())
	if err := sc.Run(ctx, plan); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run with a canceled context: %v", err)
	}
	if err := New(Options{}).Run(context.Background(), plan); err == nil {
		t.Fatal("Run without a scope")
	}
}
