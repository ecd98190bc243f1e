package policy

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/cel-go/common/types"

	"otscope/model"
)

// referenceAudit is the straightforward audit the optimised one must
// match: every asset rule on every asset, every conversation rule on every
// flow, no prefilter, memo or grouping index, then one stable sort.
func referenceAudit(in Input, pack *Pack, waivers []Waiver) Report {
	rep := Report{ByRule: map[string]int{}, Assets: len(in.Assets), Convs: len(in.Conversations), Rules: len(pack.Rules)}
	zm := newZoneModel(pack)
	act := activation{zonesDefined: types.Bool(len(pack.Zones) > 0), now: types.Timestamp{Time: in.Now}}
	eval := func(r *Rule) (bool, error) {
		out, _, err := r.when.Eval(&act)
		if err != nil {
			return false, err
		}
		b, ok := out.(types.Bool)
		if !ok {
			return false, fmt.Errorf("when returned %s, not bool", out.Type().TypeName())
		}
		return bool(b), nil
	}
	// Errors: per rule, the failure of the first subject in report order
	// (asset ID and input order; client and server ID, then flow order).
	type failure struct {
		key []string
		pos int
		who model.AssetID
		err error
	}
	fails := map[int]failure{}
	failed := func(ri int, key []string, pos int, who model.AssetID, err error) {
		f, ok := fails[ri]
		if !ok || slices.Compare(key, f.key) < 0 || slices.Equal(key, f.key) && pos < f.pos {
			fails[ri] = failure{key, pos, who, err}
		}
	}
	evidence := func(ri int, r *Rule, key []string, pos int, who model.AssetID) []string {
		if r.evidence == nil {
			return nil
		}
		out, _, err := r.evidence.Eval(&act)
		if err != nil {
			failed(ri, key, pos, who, err)
			return nil
		}
		return evidenceStrings(out)
	}
	views := make([]*assetView, len(in.Assets))
	byID := map[model.AssetID]*assetView{}
	for i := range in.Assets {
		a := &in.Assets[i]
		views[i] = &assetView{object: object{assetType}, a: a, in: &in, zone: zm.zones[zm.assetZone(a)]}
		byID[a.ID] = views[i]
	}
	for i, v := range views {
		act.asset, act.conv = v, nil
		for ri, r := range pack.Rules {
			if r.Scope != ScopeAsset {
				continue
			}
			key := []string{string(v.a.ID)}
			ok, err := eval(r)
			if err != nil {
				failed(ri, key, i, v.a.ID, err)
			}
			if !ok {
				continue
			}
			v.evFirst, v.evLast = time.Time{}, time.Time{}
			ev := evidence(ri, r, key, i, v.a.ID)
			first, last := v.evFirst, v.evLast
			if first.IsZero() {
				first = v.a.FirstSeen
			}
			if last.IsZero() {
				last = v.a.LastSeen
			}
			rep.Violations = append(rep.Violations, Violation{RuleID: r.ID, Title: r.Title, Severity: r.Severity,
				AssetID: v.a.ID, Evidence: ev, FirstSeen: first, LastSeen: last})
		}
	}
	type group struct {
		v     int
		flows int
	}
	groups := map[string]*group{}
	for i := range in.Conversations {
		c := &in.Conversations[i]
		end := func(id model.AssetID) *assetView {
			if v := byID[id]; v != nil {
				return v
			}
			v := &assetView{object: object{assetType}, a: &model.Asset{ID: id}, in: &in, zone: zm.zones[zm.unassigned()]}
			byID[id] = v
			return v
		}
		client, server := end(c.Client), end(c.Server)
		cz := zm.endpointZone(c.Client, c.ClientIP, client)
		sz := zm.endpointZone(c.Server, c.ServerIP, server)
		cv := &convView{object: object{convType}, c: c, client: client, server: server,
			clientZone: zm.zones[cz], serverZone: zm.zones[sz], allowed: zm.allowed(cz, sz, c.Protocol, c.Port)}
		act.asset, act.conv = nil, cv
		key := []string{string(c.Client), string(c.Server)}
		for ri, r := range pack.Rules {
			if r.Scope != ScopeConversation {
				continue
			}
			ok, err := eval(r)
			if err != nil {
				failed(ri, key, i, c.Client, err)
			}
			if !ok {
				continue
			}
			gk := strconv.Itoa(ri) + "|" + string(c.Client) + "|" + string(c.Server)
			g := groups[gk]
			if g == nil {
				ev := evidence(ri, r, key, i, c.Client)
				rep.Violations = append(rep.Violations, Violation{RuleID: r.ID, Title: r.Title, Severity: r.Severity,
					AssetID: c.Client, ClientID: c.Client, ServerID: c.Server, Evidence: ev,
					FirstSeen: c.FirstSeen, LastSeen: c.LastSeen})
				g = &group{v: len(rep.Violations) - 1}
				groups[gk] = g
			}
			v := &rep.Violations[g.v]
			g.flows++
			if g.flows <= MaxFlowEvidence {
				v.Evidence = append(v.Evidence, flowLine(c, cv.clientZone, cv.serverZone))
			}
			timeSpan(&v.FirstSeen, &v.LastSeen, c.FirstSeen, c.LastSeen)
		}
	}
	for _, g := range groups {
		v := &rep.Violations[g.v]
		if n := g.flows - MaxFlowEvidence; n == 1 {
			v.Evidence = append(v.Evidence, "… 1 more flow")
		} else if n > 1 {
			v.Evidence = append(v.Evidence, fmt.Sprintf("… %d more flows", n))
		}
	}
	slices.SortStableFunc(rep.Violations, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.AssetID, b.AssetID), cmp.Compare(a.ServerID, b.ServerID))
	})
	ws := make([]*Waiver, len(waivers))
	for i := range waivers {
		ws[i] = &waivers[i]
	}
	for i := range rep.Violations {
		v := &rep.Violations[i]
		if w := findWaiver(ws, v, in.Now); w != nil {
			v.Waived = w
			rep.Waived++
			continue
		}
		rep.BySeverity[v.Severity]++
		rep.ByRule[v.RuleID]++
	}
	for ri, r := range pack.Rules {
		if f, ok := fails[ri]; ok {
			rep.Errors = append(rep.Errors, Problem{File: r.File, Line: r.Line, Rule: r.ID,
				Reason: fmt.Sprintf("evaluation failed on %s: %v", f.who, f.err)})
		}
	}
	return rep
}

// testRules exercise what the prefilter, the memo sets and the error
// handling have to get right, beside the default pack.
const testRules = `
rules:
  - id: t-kiosk
    severity: low
    when: asset.has_role('kiosk') || asset.has_any_role(['badge reader', 'Camera'])
    evidence: asset.roles
  - id: t-not-telnet
    severity: info
    when: "!asset.has_service('telnet') && asset.has_service('tcp', 502)"
    evidence: asset.service_evidence('modbus')
  - id: t-port-out-of-range
    severity: info
    when: asset.has_service('tcp', 70000) || asset.vendor == 'Siemens'
  - id: t-vendor-in
    severity: low
    when: asset.vendor in ['Siemens', 'WAGO'] && asset.has_protocol('S7COMM')
  - id: t-lower-mode
    severity: low
    when: asset.operating_mode.lowerAscii() in ['stop', 'fault']
  - id: t-os-error
    severity: medium
    when: asset.facts['hostname'][0] != '' && asset.has_fact('os')
    evidence: asset.evidence('os')
  - id: t-or-error
    severity: info
    when: asset.gateway || asset.facts['vendor'][0] == 'x'
  - id: t-evidence-error
    severity: low
    when: asset.has_fact('smb.version')
    evidence: asset.facts['hostname']
  - id: t-new
    severity: low
    when: asset.first_seen > now - duration('6h') && asset.ips.exists(ip, ip.startsWith('10.10.'))
    evidence: "'first seen ' + string(asset.first_seen)"
  - id: t-ternary
    severity: info
    when: "asset.has_fact('snmp.community') ? asset.gateway : asset.has_function('MODBUS', 'Write')"
  - id: t-services
    severity: info
    when: asset.services.exists(s, s.port == 80) && asset.lifecycle.phase != ''
  - id: t-http-from-plc
    severity: medium
    scope: conversation
    when: conv.protocol == 'http' && conv.client.has_role('plc')
  - id: t-big-flow
    severity: low
    scope: conversation
    when: conv.packets > 900 && conv.server.zone.purdue <= 1
    evidence: "'server ' + conv.server.id"
  - id: t-low-port
    severity: info
    scope: conversation
    when: conv.port < 1000 || conv.protocol == 'enip'
    evidence: "'first port ' + string(conv.port) + ' from ' + conv.client.id"
  - id: t-conv-error
    severity: low
    scope: conversation
    when: conv.client.facts['os'][0] == 'Windows 7' && conv.port == 445
zones:
  - {name: cell-a, purdue: 1, subnets: [10.10.0.0/22], vlans: [10]}
  - {name: cell-b, purdue: 1, subnets: [10.10.4.0/22], assets: ["mac:000007"]}
  - {name: ops, purdue: 2, subnets: [10.10.8.0/21]}
  - {name: office, purdue: 4, subnets: [10.20.0.0/16]}
conduits:
  - {from: ops, to: cell-a, protocols: [s7comm, Modbus]}
  - {from: ops, to: cell-b, ports: [44818], bidirectional: true}
  - {from: "*", to: ops, protocols: [dns]}
`

func testPack(t testing.TB) *Pack {
	user, problems := Parse("test.yaml", []byte(testRules))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	return Merge(DefaultPack(), user)
}

// plant generates a random plant: assets of varied kinds (mixed case,
// Unicode case folding, missing fields, a duplicate ID) and conversations
// between them and IDs missing from the assets.
type plant struct {
	rng  *rand.Rand
	now  time.Time
	next int
}

var (
	plantRoles    = []string{"plc", "PLC", "hmi", "engineering workstation", "Engineering Workstation", "scada server", "windows host", "network switch", "\u212Aiosk", "badge reader", "camera", "io device", "historian"}
	plantProducts = []string{"", "CPU 315-2 PN/DP", "CPU 1516-3 PN/DP", "1756-L71", "KEV-PLC", "CRIT-HMI", "ET 200SP"}
	plantModes    = []string{"", "RUN", "PROGRAM", "REMOTE RUN", "Stop", "FAULT"}
	plantVendors  = []string{"", "Siemens", "WAGO", "Rockwell", "Dell"}
	plantFacts    = []model.Fact{
		fact("os", "Windows 7 Professional", "", "smb", 10), fact("os", "Windows 10", "", "smb", 11),
		fact("os", "VxWorks 6.4", "", "snmp", 12), fact("smb.version", "1", "", "smb", 13),
		fact("smb.version", "2", "", "smb", 14), fact("snmp.community", "*** (default)", "", "snmp", 15),
		fact("snmp.community", "secret", "", "snmp", 16), fact("snmp.version", "2c", "", "snmp", 17),
		fact("opcua.security_mode", "None", "", "opcua", 18), fact("hostname", "ews01", "", "nbns", 19),
		fact("s7comm.function", "download block", "program", "s7comm", 20),
		fact("s7comm.function", "read SZL", "diagnostic", "s7comm", 21),
		fact("modbus.function", "write single register", "WRITE", "modbus", 22),
		fact("cip.function", "reset", "control", "cip", 23), fact("order_number", "6ES7 315-2EH14-0AB0", "", "s7comm", 24),
	}
	plantServices = []model.Service{
		{Transport: "tcp", Port: 23, Protocol: "telnet"}, {Transport: "TCP", Port: 502, Protocol: "Modbus"},
		{Transport: "tcp", Port: 80, Protocol: "HTTP"}, {Transport: "tcp", Port: 21, Protocol: "ftp"},
		{Transport: "tcp", Port: 102, Protocol: "s7comm"}, {Transport: "udp", Port: 161, Protocol: "snmp"},
	}
	plantProtos = []struct {
		p    string
		port uint16
	}{{"s7comm", 102}, {"modbus", 502}, {"enip", 44818}, {"http", 80}, {"smb", 445}, {"dns", 53}, {"telnet", 23}}
)

func pick[T any](rng *rand.Rand, s []T) T { return s[rng.IntN(len(s))] }

func (p *plant) asset() model.Asset {
	rng := p.rng
	id := model.AssetID(fmt.Sprintf("mac:%06d", p.next))
	p.next++
	a := model.Asset{ID: id, Vendor: pick(rng, plantVendors), Product: pick(rng, plantProducts),
		OperatingMode: pick(rng, plantModes), Gateway: rng.IntN(20) == 0, Packets: uint64(rng.IntN(1000)),
		FirstSeen: p.now.Add(-time.Duration(rng.IntN(72)) * time.Hour), LastSeen: p.now}
	if rng.IntN(10) > 0 {
		sub := pick(rng, []byte{1, 2, 5, 9, 12})
		if rng.IntN(8) == 0 {
			a.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 20, sub, byte(1 + rng.IntN(250))})}
		} else {
			a.IPs = []netip.Addr{netip.AddrFrom4([4]byte{10, 10, sub, byte(1 + rng.IntN(250))})}
		}
	}
	if rng.IntN(6) == 0 {
		a.VLANs = []uint16{10}
	}
	for range rng.IntN(3) {
		a.Roles = append(a.Roles, pick(rng, plantRoles))
	}
	for range rng.IntN(4) {
		a.Facts = append(a.Facts, pick(rng, plantFacts))
	}
	for range rng.IntN(3) {
		a.Services = append(a.Services, pick(rng, plantServices))
	}
	for range rng.IntN(3) {
		a.Protocols = append(a.Protocols, pick(rng, plantProtos).p)
	}
	return a
}

func (p *plant) conv(assets []model.Asset) model.Conversation {
	rng := p.rng
	end := func() (model.AssetID, netip.Addr, model.MAC) {
		if rng.IntN(15) == 0 {
			return model.AssetID(fmt.Sprintf("ip:10.10.9.%d", rng.IntN(5))), netip.AddrFrom4([4]byte{10, 10, 9, byte(rng.IntN(5))}), model.MAC{}
		}
		a := &assets[rng.IntN(len(assets))]
		if len(a.IPs) == 0 {
			return a.ID, netip.Addr{}, model.MAC{0, 1, 2, 3, 4, byte(rng.IntN(256))}
		}
		return a.ID, a.IPs[0], model.MAC{}
	}
	pr := pick(p.rng, plantProtos)
	c := model.Conversation{Transport: "tcp", Port: pr.port, Protocol: pr.p, Packets: uint64(rng.IntN(1000)),
		FirstSeen: p.now.Add(-time.Duration(rng.IntN(100)) * time.Minute), LastSeen: p.now.Add(-time.Duration(rng.IntN(10)) * time.Minute)}
	if rng.IntN(20) == 0 {
		c.FirstSeen = time.Time{}
	}
	c.Client, c.ClientIP, c.ClientMAC = end()
	c.Server, c.ServerIP, c.ServerMAC = end()
	return c
}

func (p *plant) input(nAssets, nConvs int) Input {
	in := Input{Now: p.now, Lifecycle: testLifecycle, Advisories: testAdvisories}
	for range nAssets {
		in.Assets = append(in.Assets, p.asset())
	}
	dup := in.Assets[len(in.Assets)/2]
	dup.Roles = []string{"hmi"}
	in.Assets = append(in.Assets, dup) // a duplicate ID
	// A few busy pairs, so that groups list more than MaxFlowEvidence flows.
	for range nConvs {
		in.Conversations = append(in.Conversations, p.conv(in.Assets))
	}
	for range 3 {
		c := p.conv(in.Assets)
		for k := range 15 {
			c.Port = uint16(1000 + k)
			in.Conversations = append(in.Conversations, c)
		}
	}
	p.rng.Shuffle(len(in.Assets), func(i, j int) { in.Assets[i], in.Assets[j] = in.Assets[j], in.Assets[i] })
	return in
}

func testLifecycle(a *model.Asset) (string, string, bool) {
	switch {
	case strings.HasPrefix(a.Product, "CPU 315"):
		return "end-of-life", "2026-10-01", true
	case a.Product == "1756-L71":
		return "discontinued", "", true
	case strings.HasPrefix(a.Product, "CPU 1516"):
		return "active", "", true
	}
	return "", "", false
}

func testAdvisories(a *model.Asset) []AdvisoryRef {
	switch a.Product {
	case "KEV-PLC":
		return []AdvisoryRef{{ID: "ICSA-25-001-01", CVSS: 7.5, KEV: true}}
	case "CRIT-HMI":
		return []AdvisoryRef{{ID: "ICSA-25-002-01", Title: "HMI", CVSS: 9.8}, {ID: "ICSA-25-003-01", CVSS: 4}}
	}
	return nil
}

// sameReport fails the test when two reports differ in anything but Elapsed.
func sameReport(t *testing.T, what string, got, want Report) {
	t.Helper()
	got.Elapsed, want.Elapsed = 0, 0
	if reflect.DeepEqual(got, want) {
		return
	}
	if len(got.Violations) != len(want.Violations) {
		t.Errorf("%s: %d violations, want %d", what, len(got.Violations), len(want.Violations))
	}
	for i := range min(len(got.Violations), len(want.Violations)) {
		if !reflect.DeepEqual(got.Violations[i], want.Violations[i]) {
			t.Fatalf("%s: violation %d\n got %+v\nwant %+v", what, i, got.Violations[i], want.Violations[i])
		}
	}
	t.Fatalf("%s: reports differ\n got %+v %v %d errors %v\nwant %+v %v %d errors %v", what,
		got.BySeverity, got.ByRule, got.Waived, got.Errors, want.BySeverity, want.ByRule, want.Waived, want.Errors)
}

// TestAuditMatchesReference compares the optimised audit with the
// reference evaluation on generated plants.
func TestAuditMatchesReference(t *testing.T) {
	pack := testPack(t)
	for seed := range uint64(6) {
		p := &plant{rng: rand.New(rand.NewPCG(seed, 7)), now: t0}
		in := p.input(300, 3000)
		waivers := []Waiver{
			{RuleID: "smbv1", AssetID: "*", Reason: "patch window", Until: t0.Add(time.Hour)},
			{RuleID: "cross-zone-flow", AssetID: in.Assets[3].ID, Reason: "known"},
			{RuleID: "t-kiosk", AssetID: in.Assets[5].ID, Reason: "expired", Until: t0.Add(-time.Hour)},
		}
		want := referenceAudit(in, pack, waivers)
		got := Audit(in, pack, waivers)
		sameReport(t, fmt.Sprintf("seed %d", seed), got, want)
		if seed == 0 {
			// The plant must exercise what the test is about.
			for _, id := range []string{"cross-zone-flow", "t-kiosk", "t-http-from-plc", "t-big-flow", "t-new",
				"lifecycle-discontinued", "advisory-kev-or-critical", "t-vendor-in", "t-lower-mode", "t-ternary", "t-low-port"} {
				if want.ByRule[id] == 0 {
					t.Errorf("rule %s never fires on the test plant", id)
				}
			}
			for _, id := range []string{"t-os-error", "t-or-error", "t-evidence-error", "t-conv-error"} {
				if !slices.ContainsFunc(want.Errors, func(p Problem) bool { return p.Rule == id }) {
					t.Errorf("rule %s never fails on the test plant: %v", id, want.Errors)
				}
			}
			if want.Waived == 0 || !slices.ContainsFunc(want.Violations, func(v Violation) bool {
				return len(v.Evidence) > 0 && strings.HasSuffix(v.Evidence[len(v.Evidence)-1], "more flows")
			}) {
				t.Error("no waived violation or no group beyond MaxFlowEvidence flows")
			}
		}
	}
}

// TestAuditMatchesReferenceBench checks the benchmark plant (the default
// pack replicated to 100 rules), on a tenth of its flows.
func TestAuditMatchesReferenceBench(t *testing.T) {
	if testing.Short() {
		t.Skip("large plant")
	}
	in, pack := benchInput(10000, 100000), benchPack(t)
	sameReport(t, "bench plant", Audit(in, pack, nil), referenceAudit(in, pack, nil))
}

func TestPrefilter(t *testing.T) {
	pack := DefaultPack()
	cases := map[string]string{
		"smbv1":                        "[[{0 smb.version}]]",
		"cleartext-telnet":             "[[{2 telnet} {3 tcp/23}]]",
		"lifecycle-end-of-life":        "[[{6 lifecycle.phase\x00end-of-life}]]",
		"plc-key-remote":               "[[{7 operating_mode}]]",
		"advisory-kev-or-critical":     "[[{7 advisories}]]",
		"control-zone-unknown-device":  "[[{8 }]]",
		"write-from-unexpected-client": "[[{1 write} {1 write} {1 write} {1 write}]]",
		"plc-not-in-run":               "[[{4 plc} {4 rtu} {4 ied} {7 operating_mode}] [{7 operating_mode}]]",
	}
	for _, r := range pack.Rules {
		want, ok := cases[r.ID]
		if !ok {
			continue
		}
		if got := fmt.Sprint(r.pre); got != want {
			t.Errorf("%s: prefilter %q, want %q", r.ID, got, want)
		}
	}
	for _, s := range [][2]string{{"K", "\u212A"}, {"Straße", "STRASSE"}, {"ſcada", "SCADA"}, {"\xff", "\xfe"}, {"plc", "PLC"}, {"Σ", "ς"}} {
		if (fold(s[0]) == fold(s[1])) != strings.EqualFold(s[0], s[1]) {
			t.Errorf("fold(%q)=%q fold(%q)=%q, EqualFold %v", s[0], fold(s[0]), s[1], fold(s[1]), strings.EqualFold(s[0], s[1]))
		}
	}
}
