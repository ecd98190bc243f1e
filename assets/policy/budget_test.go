package policy

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/testenv"
)

// hostilePack is the issue 13 item 7 reproduction: short rules whose work
// is exponential (a chain of replaces that each multiply the string by
// ten, comprehensions nested five deep over 20 elements), next to a plain
// rule that must keep working.
func hostilePack(replaces, depth int) string {
	chain := "(asset.id + 'a')"
	for range replaces {
		chain += ".replace('a', 'aaaaaaaaaa')"
	}
	list := "[" + strings.TrimSuffix(strings.Repeat("1,", 20), ",") + "]"
	vars := "abcdefgh"[:depth]
	nested := strings.Join(strings.Split(vars, ""), " + ") + " > 0"
	for i := depth - 1; i >= 0; i-- {
		nested = fmt.Sprintf("%s.all(%c, %s)", list, vars[i], nested)
	}
	return fmt.Sprintf(`rules:
  - id: grow
    title: string that grows
    severity: low
    when: %s.size() == 0
  - id: nest
    title: nested comprehensions
    severity: low
    when: "!(%s)"
  - id: telnet
    title: telnet
    severity: high
    when: asset.has_service('tcp', 23)
`, chain, nested)
}

// A rule over its budget is a rule error in the report, quickly, and the
// other rules still run (issue 13 item 7).
func TestRuleBudget(t *testing.T) {
	pack, probs := Parse("hostile.yaml", []byte(hostilePack(10, 5)))
	if len(probs) > 0 {
		t.Fatalf("problems: %v", probs)
	}
	var in Input
	for i := range 10 {
		a := asset(fmt.Sprintf("mac:%02d", i), fmt.Sprintf("10.0.0.%d", i+1), nil)
		a.Services = []model.Service{{Transport: "tcp", Port: 23, Protocol: "telnet"}}
		in.Assets = append(in.Assets, a)
	}
	for name, audit := range map[string]func() Report{
		"Audit":   func() Report { return Audit(in, pack, nil) },
		"Auditor": func() Report { return NewAuditor(pack, nil).Audit(in) },
	} {
		start := testenv.CPUTime()
		rep := audit()
		if d := testenv.CPUTime() - start; d > testenv.CPUBudget(5*time.Second) {
			t.Errorf("%s: took %v of CPU time", name, d)
		}
		errs := map[string]string{}
		for _, p := range rep.Errors {
			errs[p.Rule] = p.Reason
		}
		for _, id := range []string{"grow", "nest"} {
			if !strings.Contains(errs[id], "went over its evaluation budget") {
				t.Errorf("%s: rule %s: error %q, want the budget", name, id, errs[id])
			}
		}
		if rep.ByRule["telnet"] != 10 {
			t.Errorf("%s: telnet found on %d assets, want 10 (errors %v)", name, rep.ByRule["telnet"], rep.Errors)
		}
	}
}

// The default pack stays far under the budget on a realistic inventory.
func TestDefaultPackWithinBudget(t *testing.T) {
	p := &plant{rng: rand.New(rand.NewPCG(1, 7)), now: t0}
	rep := Audit(p.input(300, 3000), testPack(t), nil)
	if rep.ByRule["snmp-default-community"] == 0 {
		t.Error("the test plant never shows a default community")
	}
	for _, p := range rep.Errors {
		if strings.Contains(p.Reason, "budget") {
			t.Errorf("default rule over budget: %v", p)
		}
	}
}
