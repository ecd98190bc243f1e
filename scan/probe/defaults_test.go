package probe

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"

	"otscope/model"
)

// A range scan with the default probes asks a host nothing is known of
// whether it is a BACnet device: a unicast Who-Is first, stopping there
// when nothing answers (issue 14, item 1).
func TestBACnetPlannedByDefaultForUnknownHosts(t *testing.T) {
	tg := Target{Addr: netip.MustParseAddr("10.0.0.40")}
	p, ok := (bacnetProbe{}).Plan(&tg, &PlanOptions{})
	if !ok {
		t.Fatal("bacnet not planned for a host nothing is known of with the default probes")
	}
	if p.Transport != UDP || p.Port != bacnetPort || len(p.Steps) == 0 || p.Steps[0].Kind != KindBACnetWhoIs {
		t.Errorf("plan %+v: want a Who-Is on udp/47808 first", p)
	}
	if !strings.Contains(p.Why, "nothing known") {
		t.Errorf("why %q", p.Why)
	}
	// community given alone (Named = snmp): BACnet is still in the default set
	if _, ok := (bacnetProbe{}).Plan(&tg, &PlanOptions{Named: []string{"snmp"}}); !ok {
		t.Error("bacnet dropped when only a community was given")
	}
	// a host the session knows, serving nothing, with FillGaps: left alone
	known := Target{Addr: tg.Addr, Asset: &model.Asset{}}
	if _, ok := (bacnetProbe{}).Plan(&known, &PlanOptions{FillGaps: true}); ok {
		t.Error("bacnet planned blind with --fill-gaps for a known host serving nothing")
	}
	// SNMP stays named-only: a community guess is not a read-only identity ask
	if _, ok := (snmpProbe{}).Plan(&tg, &PlanOptions{Communities: []string{"public"}}); ok {
		t.Error("snmp planned blind without being named")
	}
	plan := BuildPlan([]Target{tg}, Probes(), &PlanOptions{}, BudgetOptions{})
	found := false
	for _, tp := range plan.Targets {
		for _, pl := range tp.Probes {
			found = found || pl.Probe == "bacnet"
		}
	}
	if !found {
		t.Error("BuildPlan with every probe leaves BACnet out for an unknown host")
	}
}

// --exclude comes before the public-address refusal: a session's public
// address the user excluded is not refused (issue 14, item 3).
func TestScopeExcludeBeforeRefusal(t *testing.T) {
	s, err := ParseScope([]string{"10.0.0.1", "134.217.61.131"}, ScopeOptions{Exclude: []string{"134.217.61.131"}})
	if err != nil {
		t.Fatalf("excluded public address still refused: %v", err)
	}
	if s.Len() != 1 || s.Contains(netip.MustParseAddr("134.217.61.131")) {
		t.Errorf("scope %s", s)
	}
	// what the exclusion leaves of a range is still checked
	if _, err := ParseScope([]string{"134.217.61.130-134.217.61.131"}, ScopeOptions{Exclude: []string{"134.217.61.131"}}); err == nil || !strings.Contains(err.Error(), "--allow-public") {
		t.Errorf("partly excluded public range: %v", err)
	}
	// an exclusion cutting a range in two leaves both ends
	if got := (addrRange{netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.9")}).minus([]addrRange{
		{netip.MustParseAddr("10.0.0.3"), netip.MustParseAddr("10.0.0.4")}, {netip.MustParseAddr("10.0.0.9"), netip.MustParseAddr("10.0.0.9")},
	}); len(got) != 2 || got[0].hi != netip.MustParseAddr("10.0.0.2") || got[1].lo != netip.MustParseAddr("10.0.0.5") || got[1].hi != netip.MustParseAddr("10.0.0.8") {
		t.Errorf("minus: %v", got)
	}
	as := []model.Asset{{IPs: []netip.Addr{netip.MustParseAddr("134.217.61.131")}}, {IPs: []netip.Addr{netip.MustParseAddr("10.1.1.1")}}}
	if _, err := ScopeFromAssets(as, ScopeOptions{Exclude: []string{"134.217.61.131"}}); err != nil {
		t.Errorf("scan assets --exclude: %v", err)
	}
}

// --fill-gaps never plans a blind IEC 104 connect to a host the capture saw
// serving nothing (issue 14, item 4).
func TestIEC104FillGapsNoBlindConnect(t *testing.T) {
	tg := Target{Addr: netip.MustParseAddr("10.0.0.12"), Asset: &model.Asset{}}
	if p, ok := (iec104Probe{}).Plan(&tg, &PlanOptions{FillGaps: true}); ok {
		t.Errorf("fill-gaps planned %+v for a host seen serving nothing", p)
	}
	if p, ok := (iec104Probe{}).Plan(&tg, &PlanOptions{}); !ok || !p.IfOpen {
		t.Errorf("without fill-gaps: %+v %v", p, ok)
	}
}

// onLinkAddr returns an address in a directly connected IPv4 subnet of
// this host other than its own, or skips.
func onLinkAddr(t *testing.T) netip.Addr {
	t.Helper()
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		if ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, ad := range addrs {
			pn, ok := ad.(*net.IPNet)
			if !ok {
				continue
			}
			own, _ := netip.AddrFromSlice(pn.IP)
			own = own.Unmap()
			if ones, _ := pn.Mask.Size(); !own.Is4() || ones > 30 {
				continue
			}
			for _, a := range []netip.Addr{own.Next(), own.Prev()} {
				if a != own && itOnLink(a, "") != "" {
					return a
				}
			}
		}
	}
	t.Skip("no directly connected IPv4 subnet")
	return netip.Addr{}
}

// PROFINET DCP goes unicast to in-scope targets (ARP first when their MAC
// is unknown); the segment-wide multicast only with DCPMulticast, which
// the plan names, and the session refuses it otherwise (issue 14, item 2).
func TestDCPUnicastByDefault(t *testing.T) {
	a := onLinkAddr(t)
	o := &PlanOptions{planned: map[string]bool{}}
	p, ok := (dcpProbe{}).Plan(&Target{Addr: a}, o)
	if !ok || p.Segment || len(p.Steps) != 2 || p.Steps[0].Kind != KindARPRequest || p.Steps[1].Kind != KindDCPIdentify ||
		strings.Contains(p.Why, "MULTICAST") {
		t.Errorf("unknown MAC: %+v %v", p, ok)
	}
	// every on-link target gets its own, not only the first of the segment
	p, ok = (dcpProbe{}).Plan(&Target{Addr: a.Next(), MAC: model.MAC{0x00, 0x0e, 0x8c, 1, 2, 3}}, o)
	if !ok || p.Segment || len(p.Steps) != 1 || p.Steps[0].Kind != KindDCPIdentify {
		t.Errorf("known MAC: %+v %v", p, ok)
	}
	mo := &PlanOptions{planned: map[string]bool{}, DCPMulticast: true}
	p, ok = (dcpProbe{}).Plan(&Target{Addr: a}, mo)
	if !ok || !p.Segment || !strings.Contains(p.Why, "MULTICAST") || !strings.Contains(p.Why, "--dcp-multicast") || !strings.Contains(p.Why, "in scope or not") {
		t.Errorf("with --dcp-multicast: %+v %v", p, ok)
	}
	if _, again := (dcpProbe{}).Plan(&Target{Addr: a.Next()}, mo); again {
		t.Error("multicast planned twice for one segment")
	}

	// the session's choke point: no multicast DCP unless accepted
	us := model.MAC{0x02, 0x42, 0xac, 0x11, 0x00, 0x01}
	s := &Session{sc: &Scanner{}, t: &Target{Addr: a}}
	if err := s.checkL2Target(dcpIdentifyFrame(dcpMulticast, us, 1, 64, "")); err == nil || !strings.Contains(err.Error(), "--dcp-multicast") {
		t.Errorf("multicast DCP without the flag: %v", err)
	}
	if err := s.checkL2Target(dcpIdentifyFrame(model.MAC{0x00, 0x0e, 0x8c, 1, 2, 3}, us, 1, 1, "")); err != nil {
		t.Errorf("unicast DCP refused: %v", err)
	}
	s.sc.o.Plan.DCPMulticast = true
	if err := s.checkL2Target(dcpIdentifyFrame(dcpMulticast, us, 1, 64, "")); err != nil {
		t.Errorf("multicast DCP with the flag: %v", err)
	}
	if k, err := dissectDCP(dcpIdentifyFrame(model.MAC{0x00, 0x0e, 0x8c, 1, 2, 3}, us, 1, 1, "")); err != nil || k != KindDCPIdentify {
		t.Errorf("unicast Identify dissected %q, %v", k, err)
	}
}

// A closed port is what the scan found out, not an error: the gauges count
// it as closed (issue 14, item 5).
func TestClosedPortIsNotAnError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skip(err)
	}
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	l.Close() // nothing listens there now: the connect is refused
	scope := mustScope(t, "127.0.0.2")
	sc := New(Options{Rate: 50, PerHost: 5, InFlight: 1, Scope: scope,
		Plan: PlanOptions{Ports: map[string]uint16{"iec104": port}}})
	plan := BuildPlan([]Target{{Addr: netip.MustParseAddr("127.0.0.2")}}, []Probe{iec104Probe{}}, &sc.o.Plan, sc.o.Budget())
	if plan.Probes != 1 {
		t.Fatalf("plan %+v", plan)
	}
	if err := sc.Run(context.Background(), plan); err != nil {
		t.Fatal(err)
	}
	if g := sc.Gauges(); g.Closed != 1 || g.Errors != 0 || g.NoAnswer != 0 {
		t.Errorf("gauges %+v: want 1 closed, 0 errors", g)
	}
}

// The plan's WHY is wrapped under its column, never cut, so a piped plan
// is a complete change record; --format json|csv have every field (issue
// 14, item 5).
func TestPlanWhyWrappedAndMachineReadable(t *testing.T) {
	long := "MULTICAST Identify-All on eth0: every PROFINET station answers, in scope or not (--dcp-multicast); needs CAP_NET_RAW"
	p := &Plan{Targets: []TargetPlan{{
		Target: Target{Addr: netip.MustParseAddr("10.0.0.7"), Asset: &model.Asset{Vendor: "=cmd|' /C calc'!A0", Product: "\x1b[31mS7"}},
		Probes: []Planned{{Probe: "dcp", Transport: L2, Why: long, Steps: []Step{{KindDCPIdentify, 1}}},
			{Probe: "modbus", Transport: TCP, Port: 502, IfOpen: true, Why: "nothing known of the host", Steps: []Step{{KindTCPConnect, 3}}}},
	}}, Probes: 2, Packets: 4, Budget: BudgetOptions{Rate: 50, PerHost: 5}}
	var b strings.Builder
	if err := p.Write(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	var why []string
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("line of %d columns: %q", n, line)
		}
		if len(line) > 54 && strings.TrimSpace(line[:54]) == "" || strings.HasPrefix(line, "10.0.0.7") {
			why = append(why, strings.TrimSpace(string([]rune(line)[54:])))
		}
	}
	if got := strings.Join(why, " "); !strings.Contains(got, long) || strings.Contains(out, "\x1b") {
		t.Errorf("WHY not whole or not safe:\n%s", out)
	}
	b.Reset()
	if err := p.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var j struct {
		Probes []PlanRow `json:"probes"`
		Max    int       `json:"max_packets"`
	}
	if err := json.Unmarshal([]byte(b.String()), &j); err != nil || len(j.Probes) != 2 || j.Probes[0].Why != long || j.Max != 4 ||
		j.Probes[1].Port != 502 || !j.Probes[1].IfOpen || j.Probes[1].Transport != "tcp" {
		t.Errorf("json %v: %s", err, b.String())
	}
	b.Reset()
	if err := p.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "target" || recs[1][8] != long || recs[2][4] != "502" ||
		!strings.HasPrefix(recs[1][1], "'") {
		t.Errorf("csv %v: %q", err, recs)
	}
}
