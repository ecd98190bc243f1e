package policy

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/testenv"
)

// mutate applies one random change to the input, in place where the live
// pane's caller might (the Auditor must not rely on old slices).
func (p *plant) mutate(in *Input) string {
	rng := p.rng
	a := &in.Assets[rng.IntN(len(in.Assets))]
	switch k := rng.IntN(14); k {
	case 0:
		a.Facts = append(a.Facts, pick(rng, plantFacts))
		return "fact"
	case 1:
		if len(a.Roles) > 0 {
			a.Roles[rng.IntN(len(a.Roles))] = pick(rng, plantRoles) // same count
			return "role in place"
		}
		a.Roles = []string{pick(rng, plantRoles)}
		return "role"
	case 2:
		a.OperatingMode = pick(rng, plantModes)
		return "mode"
	case 3:
		a.LastSeen = a.LastSeen.Add(time.Second)
		a.Packets++
		return "seen"
	case 4:
		a.Product = pick(rng, plantProducts)
		return "product"
	case 5:
		if len(a.IPs) > 0 {
			a.IPs[0] = netip.AddrFrom4([4]byte{10, 10, byte(rng.IntN(16)), 7})
		}
		return "address in place"
	case 6:
		i := rng.IntN(len(in.Assets))
		in.Assets = slices.Delete(in.Assets, i, i+1)
		return "remove asset"
	case 7:
		in.Assets = append(in.Assets, p.asset())
		return "add asset"
	case 8:
		c := &in.Conversations[rng.IntN(len(in.Conversations))]
		c.Packets += uint64(rng.IntN(500))
		c.LastSeen = c.LastSeen.Add(time.Minute)
		return "flow counters"
	case 9:
		c := &in.Conversations[rng.IntN(len(in.Conversations))]
		pr := pick(rng, plantProtos)
		c.Protocol, c.Port = pr.p, pr.port
		return "flow protocol"
	case 10:
		in.Conversations = append(in.Conversations, p.conv(in.Assets))
		return "add flow"
	case 11:
		i := rng.IntN(len(in.Conversations))
		in.Conversations = slices.Delete(in.Conversations, i, i+1)
		return "remove flow"
	case 12:
		i, j := rng.IntN(len(in.Conversations)), rng.IntN(len(in.Conversations))
		in.Conversations[i], in.Conversations[j] = in.Conversations[j], in.Conversations[i]
		return "swap flows"
	default:
		in.Now = in.Now.Add(time.Duration(rng.IntN(3)) * time.Hour)
		return "now"
	}
}

// TestAuditorMatchesAudit is the property test of the incremental audit:
// after any sequence of random changes its report equals a full Audit
// (and, now and then, the reference evaluation).
func TestAuditorMatchesAudit(t *testing.T) {
	pack := testPack(t)
	seeds, steps := uint64(4), 60
	if testing.Short() {
		seeds, steps = 2, 30
	}
	for seed := range seeds {
		p := &plant{rng: rand.New(rand.NewPCG(seed, 11)), now: t0}
		in := p.input(200, 2000)
		waivers := []Waiver{{RuleID: "smbv1", AssetID: "*", Reason: "patch window", Until: t0.Add(2 * time.Hour)}}
		aud := NewAuditor(pack, waivers)
		for step := range steps {
			var did []string
			for range 1 + p.rng.IntN(4) {
				did = append(did, p.mutate(&in))
			}
			if step%10 == 9 {
				waivers = append(waivers, Waiver{RuleID: "cross-zone-flow", AssetID: in.Assets[step].ID, Reason: "ok"})
				aud.SetWaivers(waivers)
			}
			what := fmt.Sprintf("seed %d step %d after %v", seed, step, did)
			got := aud.Audit(in)
			sameReport(t, what, got, Audit(in, pack, waivers))
			if step%15 == 0 {
				sameReport(t, what+" (reference)", got, referenceAudit(in, pack, waivers))
			}
		}
	}
}

// TestAuditorSkipsUnchanged checks that the Auditor really re-evaluates
// only what changed.
func TestAuditorSkipsUnchanged(t *testing.T) {
	pack := testPack(t)
	p := &plant{rng: rand.New(rand.NewPCG(1, 2)), now: t0}
	in := p.input(500, 5000)
	aud := NewAuditor(pack, nil)
	first := aud.Audit(in)
	full := aud.evals
	if full == 0 || len(first.Violations) == 0 {
		t.Fatalf("first audit: %d evaluations, %d violations", full, len(first.Violations))
	}
	// The plant holds two assets with one ID: the second is evaluated on
	// every call (at most one evaluation per rule), everything else is kept.
	again := aud.Audit(in)
	if aud.evals > len(pack.Rules) {
		t.Errorf("unchanged input: %d evaluations, want at most %d", aud.evals, len(pack.Rules))
	}
	sameReport(t, "unchanged", again, first)
	in.Assets[10].Facts = append(in.Assets[10].Facts, fact("smb.version", "1", "", "smb", 99))
	aud.Audit(in)
	if aud.evals == 0 || aud.evals > full/20 {
		t.Errorf("one changed asset: %d evaluations (full audit %d)", aud.evals, full)
	}
	// Moving the clock re-evaluates only the two rules that read now
	// (t-new and control-zone-unknown-device).
	in.Now = in.Now.Add(time.Hour)
	aud.Audit(in)
	if aud.evals == 0 || aud.evals > 2*len(in.Assets)+len(pack.Rules) {
		t.Errorf("clock moved: %d evaluations for %d assets", aud.evals, len(in.Assets))
	}
	aud.Reset()
	aud.Audit(in)
	if aud.evals < full/2 {
		t.Errorf("after Reset: %d evaluations, want a full audit (%d)", aud.evals, full)
	}
}

// touch changes n assets the way a capture does: later last-seen, more
// packets, now and then a new fact.
func touch(in *Input, n, round int) {
	for k := range n {
		a := &in.Assets[(round*7919+k*104729)%len(in.Assets)]
		a.LastSeen = a.LastSeen.Add(time.Second)
		a.Packets++
		if k%10 == 0 {
			a.Facts = append(slices.Clip(a.Facts), fact("hostname", fmt.Sprint("h", round), "", "nbns", uint64(round)))
		}
	}
}

// liveInput is the benchmark plant with its conversations in the order
// Inventory.Conversations returns them (by key), as the live pane gets them.
func liveInput(assets, convs int) Input {
	in := benchInput(assets, convs)
	slices.SortFunc(in.Conversations, func(a, b model.Conversation) int { return strings.Compare(a.Key(), b.Key()) })
	return in
}

// BenchmarkAuditorIncremental is an Audit after 100 of 10,000 assets
// changed, with the 100-rule pack, over 100,000 or 1M conversations.
func BenchmarkAuditorIncremental(b *testing.B) {
	for _, convs := range []int{100000, 1000000} {
		b.Run(fmt.Sprintf("convs=%d", convs), func(b *testing.B) {
			in, pack := liveInput(10000, convs), benchPack(b)
			aud := NewAuditor(pack, nil)
			aud.Audit(in)
			round := 0
			b.ReportAllocs()
			for b.Loop() {
				round++
				touch(&in, 100, round)
				aud.Audit(in)
			}
		})
	}
}

// TestAuditorSpeed guards the incremental audit: 100 changed assets of
// 10,000 with 100,000 conversations (about 50 ms) in well under the
// pane's refresh. It measures CPU time, which a busy machine does not
// stretch (see TestAuditSpeed).
func TestAuditorSpeed(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("speed test (not under -short or -race)")
	}
	in, pack := liveInput(10000, 100000), benchPack(t)
	aud := NewAuditor(pack, nil)
	c0 := testenv.CPUTime()
	full := aud.Audit(in)
	fullCPU := testenv.CPUTime() - c0
	best, bestWall := time.Hour, time.Hour
	for round := range 5 {
		touch(&in, 100, round+1)
		c0 := testenv.CPUTime()
		rep := aud.Audit(in)
		best, bestWall = min(best, testenv.CPUTime()-c0), min(bestWall, rep.Elapsed)
		if round == 4 {
			sameReport(t, "incremental", rep, Audit(in, pack, nil))
		}
	}
	t.Logf("full audit %v CPU (%v wall); after 100 changed assets: %v CPU (%v wall)", fullCPU, full.Elapsed, best, bestWall)
	if best > 150*time.Millisecond {
		t.Errorf("incremental audit took %v of CPU time: over the 150 ms bound", best)
	}
}
