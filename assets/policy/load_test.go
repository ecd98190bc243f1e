package policy

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/testenv"
)

const badRules = `rules:
  - id: good-one
    title: SMBv1 again
    severity: high
    when: asset.has_fact('smb.version', '1')
  - id: unknown-field
    severity: low
    colour: red
    when: "true"
  - id: bad-cel
    severity: low
    when: asset.has_fact('x') &&
  - id: bad-field
    severity: low
    when: |
      asset.has_fact('x') ||
      asset.rolez.size() > 0
  - id: bad-severity
    severity: urgent
    when: "true"
zones:
  - name: broken
    purdue: 1
    subnets: [10.10.10.0/33]
  - name: ok
    purdue: 2
    subnets: [10.10.1.0/24]
`

func TestParseProblems(t *testing.T) {
	p, problems := Parse("plant.yaml", []byte(badRules))
	want := []string{
		`plant.yaml:8: rule "unknown-field" skipped: unknown field "colour"`,
		`plant.yaml:12: rule "bad-cel" skipped: when: col`,
		`plant.yaml:17: rule "bad-field" skipped: when: col 6: undefined field 'rolez'`,
		`plant.yaml:19: rule "bad-severity" skipped: unknown severity "urgent"`,
		`plant.yaml:22: zone skipped: zone "broken": bad subnet "10.10.10.0/33"`,
	}
	if len(problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(problems), len(want), problems)
	}
	for i, w := range want {
		if !strings.HasPrefix(problems[i].Error(), w) {
			t.Errorf("problem %d\n got %s\nwant %s…", i, problems[i].Error(), w)
		}
	}
	if len(p.Rules) != 1 || p.Rules[0].ID != "good-one" || len(p.Zones) != 1 {
		t.Fatalf("kept rules %d zones %d", len(p.Rules), len(p.Zones))
	}
	// The rule that compiled still runs.
	a := model.Asset{ID: "mac:x", Facts: []model.Fact{{Field: "smb.version", Value: "1"}}}
	rep := Audit(Input{Assets: []model.Asset{a}}, p, nil)
	if rep.ByRule["good-one"] != 1 {
		t.Errorf("good rule did not run: %+v", rep.ByRule)
	}
}

func TestParseSyntaxError(t *testing.T) {
	_, problems := Parse("broken.yaml", []byte("rules:\n  - id: a\n    when: [unclosed\n"))
	if len(problems) != 1 || problems[0].Line == 0 || !strings.HasPrefix(problems[0].Error(), "broken.yaml:") {
		t.Fatalf("problems %v", problems)
	}
}

func TestLoadKeepsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.yaml": "rules:\n  - id: x\n    when: [oops\n",
		"b.yaml": "rules:\n  - id: smbv1\n    disabled: true\n  - id: telnet-any\n    severity: low\n    when: asset.has_service('telnet')\n",
	}
	for n, s := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	user, problems := Load(dir)
	if len(problems) != 1 || problems[0].File != filepath.Join(dir, "a.yaml") {
		t.Fatalf("problems %v", problems)
	}
	p := Merge(DefaultPack(), user)
	var ids []string
	for _, r := range p.Rules {
		ids = append(ids, r.ID)
	}
	joined := strings.Join(ids, ",")
	if strings.Contains(joined, "smbv1") || !strings.Contains(joined, "telnet-any") || !strings.Contains(joined, "os-unsupported") {
		t.Errorf("merged rules %s", joined)
	}
}

func TestConduitUnknownZone(t *testing.T) {
	_, problems := Parse("z.yaml", []byte("zones:\n  - name: a\n    purdue: 1\nconduits:\n  - from: a\n    to: nowhere\n"))
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), `z.yaml:5: conduit skipped: unknown zone "nowhere"`) {
		t.Errorf("problems %v", problems)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	f.Add([]byte(badRules))
	f.Add([]byte(zonesYAML))
	f.Add([]byte("rules: 3"))
	f.Add([]byte(hostilePack(10, 5)))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, problems := Parse("fuzz.yaml", data)
		if p == nil {
			t.Fatal("nil pack")
		}
		for _, pr := range problems {
			if pr.File != "fuzz.yaml" || pr.Reason == "" {
				t.Fatalf("bad problem %+v", pr)
			}
		}
		for _, r := range p.Rules {
			if r.ID == "" || r.when == nil {
				t.Fatalf("rule without id or program: %+v", r)
			}
		}
		a := model.Asset{ID: "mac:f", Facts: []model.Fact{{Field: "os", Value: "Windows 7"}}}
		start := time.Now()
		Audit(Input{Assets: []model.Asset{a}, Conversations: []model.Conversation{{Client: "mac:f", Server: "mac:g"}}}, p, nil)
		if d := time.Since(start); d > 20*time.Second {
			t.Fatalf("one asset audited in %v: a rule escaped its budget", d) // bounded by RuleCostLimit per rule
		}
	})
}

// benchInput builds a plant of n assets and m conversations.
func benchInput(n, m int) Input {
	assets := make([]model.Asset, n)
	kinds := []struct {
		roles []string
		facts []model.Fact
		svc   []model.Service
		mode  string
	}{
		{[]string{"plc"}, []model.Fact{fact("order_number", "6ES7 315-2EH14-0AB0", "", "s7comm", 1)}, []model.Service{{Transport: "tcp", Port: 102, Protocol: "s7comm"}, {Transport: "tcp", Port: 80, Protocol: "http"}}, "RUN"},
		{[]string{"hmi"}, []model.Fact{fact("os", "Windows 7 Professional", "", "smb", 2), fact("smb.version", "1", "", "smb", 3)}, nil, ""},
		{[]string{"engineering workstation"}, []model.Fact{fact("s7comm.function", "download", "program", "s7comm", 4)}, nil, ""},
		{[]string{"windows host"}, []model.Fact{fact("modbus.function", "write", "write", "modbus", 5), fact("os", "Windows 10", "", "smb", 6)}, nil, ""},
		{[]string{"network switch"}, []model.Fact{fact("snmp.community", "*** (default)", "", "snmp", 7)}, []model.Service{{Transport: "tcp", Port: 23, Protocol: "telnet"}}, ""},
		{[]string{"plc"}, []model.Fact{fact("operating_mode", "REMOTE RUN", "", "cip", 8)}, []model.Service{{Transport: "tcp", Port: 44818, Protocol: "enip"}}, "REMOTE RUN"},
		{nil, nil, nil, ""},
	}
	for i := range assets {
		k := kinds[i%len(kinds)]
		ip := netip.AddrFrom4([4]byte{10, 10, byte(i / 250 % 20), byte(1 + i%250)})
		assets[i] = model.Asset{ID: model.AssetID(fmt.Sprintf("mac:%06d", i)), IPs: []netip.Addr{ip},
			Roles: k.roles, Facts: k.facts, Services: k.svc, OperatingMode: k.mode,
			FirstSeen: t0.Add(-48 * time.Hour), LastSeen: t0}
	}
	protos := []struct {
		p    string
		port uint16
	}{{"s7comm", 102}, {"modbus", 502}, {"enip", 44818}, {"http", 80}, {"smb", 445}, {"dns", 53}}
	convs := make([]model.Conversation, m)
	for i := range convs {
		c, s := (i*7919)%n, (i*104729+13)%n
		pr := protos[i%len(protos)]
		convs[i] = model.Conversation{Client: assets[c].ID, Server: assets[s].ID, ClientIP: assets[c].IPs[0],
			ServerIP: assets[s].IPs[0], Transport: "tcp", Port: pr.port, Protocol: pr.p, Packets: uint64(i % 1000),
			FirstSeen: t0, LastSeen: t0.Add(time.Minute)}
	}
	return Input{Assets: assets, Conversations: convs, Now: t0,
		Lifecycle: func(a *model.Asset) (string, string, bool) {
			if strings.HasPrefix(a.Fact("order_number"), "6ES7 315") {
				return "end-of-life", "", true
			}
			return "", "", false
		},
		Advisories: func(*model.Asset) []AdvisoryRef { return nil }}
}

// benchPack replicates the default pack to 100 rules (with zones, so the
// cross-zone rules work).
func benchPack(tb testing.TB) *Pack {
	user, problems := Parse("zones.yaml", []byte(`
zones:
  - {name: l1a, purdue: 1, subnets: [10.10.0.0/22]}
  - {name: l1b, purdue: 1, subnets: [10.10.4.0/22]}
  - {name: l2, purdue: 2, subnets: [10.10.8.0/21]}
  - {name: l3, purdue: 3, subnets: [10.10.16.0/22]}
conduits:
  - {from: l2, to: l1a, protocols: [s7comm, modbus]}
  - {from: l2, to: l1b, protocols: [enip]}
`))
	if len(problems) > 0 {
		tb.Fatal(problems)
	}
	base := DefaultPack()
	out := &Pack{Zones: user.Zones, Conduits: user.Conduits}
	for i := 0; len(out.Rules) < 100; i++ {
		r := *base.Rules[i%len(base.Rules)]
		r.ID = fmt.Sprintf("%s-%d", r.ID, i)
		out.Rules = append(out.Rules, &r)
	}
	return out
}

// TestAuditSpeed guards the budget: 10,000 assets, 100 rules and
// 1M conversations in under a second on one core. It measures the
// process's CPU time, not wall time, so a CI job beside another CPU-heavy
// job cannot fail it (the audit runs on one goroutine: its CPU time is at
// least the wall time an idle core would take). Best of three runs.
// Skipped under the race detector, which is ~10x slower.
func TestAuditSpeed(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("speed test: 1M conversations (not under -short or -race)")
	}
	in, pack := benchInput(10000, 1000000), benchPack(t)
	best, bestWall := time.Hour, time.Hour
	var rep Report
	for range 3 {
		c0 := testenv.CPUTime()
		rep = Audit(in, pack, nil)
		best, bestWall = min(best, testenv.CPUTime()-c0), min(bestWall, rep.Elapsed)
	}
	t.Logf("audit of %d assets, %d rules, %d conversations: %v CPU (%v wall), %d violations",
		rep.Assets, rep.Rules, rep.Convs, best, bestWall, len(rep.Violations))
	if len(rep.Errors) > 0 {
		t.Errorf("errors: %v", rep.Errors[:1])
	}
	if len(rep.Violations) == 0 {
		t.Error("no violations: the benchmark plant should break rules")
	}
	if best > time.Second {
		t.Errorf("audit took %v of CPU time: over the 1 s goal", best)
	}
}

func BenchmarkAudit(b *testing.B) {
	in, pack := benchInput(10000, 1000000), benchPack(b)
	b.ReportAllocs()
	for b.Loop() {
		Audit(in, pack, nil)
	}
}
