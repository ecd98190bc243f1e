package review

import (
	"errors"
	"testing"
	"time"

	"otscope/assets/lifecycle"
	"otscope/assets/policy"
	"otscope/model"
)

var now = time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)

func mustWaiver(t *testing.T, rule string, asset model.AssetID, reason string, until, at time.Time) WaiverRecord {
	t.Helper()
	w, err := NewWaiver(rule, asset, reason, "ana", until, at)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestWaiverSupersedeExpiryRevoke(t *testing.T) {
	plc := model.AssetID("mac:00:0e:8c:9a:02:12")
	recs := []WaiverRecord{
		mustWaiver(t, "lifecycle-end-of-life", plc, "migration in 2027", now.AddDate(1, 0, 0), now),
		mustWaiver(t, "cleartext-telnet", "*", "lab switches", now.Add(time.Hour), now),
		mustWaiver(t, "smbv1", plc, "vendor says so", time.Time{}, now),
	}
	eff := Effective(recs, now.Add(time.Minute))
	if len(eff) != 3 {
		t.Fatalf("effective %+v, want 3", eff)
	}
	// expiry: the telnet waiver lapses after an hour
	if eff := Effective(recs, now.Add(2*time.Hour)); len(eff) != 2 || eff[0].RuleID != "lifecycle-end-of-life" || eff[1].RuleID != "smbv1" {
		t.Fatalf("after expiry %+v", eff)
	}
	// supersede: a later, shorter waiver for the same rule and asset wins
	// (policy.Audit alone would keep the longer one)
	recs = append(recs, mustWaiver(t, "lifecycle-end-of-life", plc, "only until the shutdown", now.AddDate(0, 1, 0), now.Add(time.Minute)))
	eff = Effective(recs, now.AddDate(0, 2, 0))
	for _, w := range eff {
		if w.RuleID == "lifecycle-end-of-life" {
			t.Fatalf("superseded waiver still in force: %+v", w)
		}
	}
	// revoke: the record expires when it is made
	rv := Revoke(Key{"smbv1", plc}, "", "bo", now.Add(2*time.Minute))
	if !rv.Revoked() || rv.Status(now.Add(2*time.Minute)) != "revoked" || rv.Reason != "revoked" {
		t.Fatalf("revocation %+v", rv)
	}
	recs = append(recs, rv)
	if eff := Effective(recs, now.Add(3*time.Minute)); len(eff) != 2 {
		t.Fatalf("after revoke %+v, want the EOL and telnet waivers", eff)
	}
	latest := Latest(recs)
	if len(latest) != 3 || latest[0].Reason != "only until the shutdown" || latest[2].Status(now) != "revoked" {
		t.Fatalf("latest %+v", latest)
	}
	if s := latest[1].Status(now.Add(2 * time.Hour)); s != "expired" {
		t.Fatalf("telnet status %q, want expired", s)
	}

	// Audit applies them: a violation of a waived rule is waived.
	in := policy.Input{Now: now.Add(time.Minute), Assets: []model.Asset{{ID: plc, Services: []model.Service{{Transport: "tcp", Port: 23, Protocol: "telnet"}}}}}
	rep := policy.Audit(in, policy.DefaultPack(), Effective(recs[:2], in.Now))
	if len(rep.Violations) != 1 || rep.Violations[0].Waived == nil || rep.Waived != 1 {
		t.Fatalf("telnet violation not waived: %+v", rep.Violations)
	}
}

func TestNewWaiverChecks(t *testing.T) {
	for _, c := range []struct {
		rule, reason string
		asset        model.AssetID
		until        time.Time
	}{
		{"", "r", "*", time.Time{}},
		{"x", "", "*", time.Time{}},
		{"x", "r", "", time.Time{}},
		{"x", "r", "*", now.Add(-time.Hour)},
	} {
		if _, err := NewWaiver(c.rule, c.asset, c.reason, "ana", c.until, now); !errors.Is(err, ErrWaiver) {
			t.Errorf("%+v accepted: %v", c, err)
		}
	}
}

func TestParseExpiry(t *testing.T) {
	for in, want := range map[string]time.Time{
		"":                 {},
		"2027-01-31":       time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
		"2027-01-31 18:00": time.Date(2027, 1, 31, 18, 0, 0, 0, time.UTC),
		"30d":              now.AddDate(0, 0, 30),
		"2w":               now.AddDate(0, 0, 14),
		"12h":              now.Add(12 * time.Hour),
	} {
		got, err := ParseExpiry(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseExpiry(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"soon", "-3d", "0d", "99999999d", "2027-13-01"} {
		if _, err := ParseExpiry(bad, now); !errors.Is(err, ErrExpiry) {
			t.Errorf("ParseExpiry(%q) = %v, want ErrExpiry", bad, err)
		}
	}
}

func TestTrackerReplayAndManual(t *testing.T) {
	a := &model.Asset{ID: "mac:00:1b:1b:01:02:03", Product: "CPU 1516-3 PN/DP", LastSeen: now}
	var stored []StateRecord
	failNext := false
	tr, _ := NewTracker(nil, lifecycle.MissingPolicy{After: time.Hour}, func(recs ...StateRecord) error {
		if failNext {
			return errors.New("disk full")
		}
		stored = append(stored, recs...)
		return nil
	})
	if recs, err := tr.Observe([]*model.Asset{a}, now, now); err != nil || len(recs) != 1 || recs[0].Transition.To != lifecycle.Identified {
		t.Fatalf("observe: %+v %v", recs, err)
	}
	v := tr.Version()
	if _, err := tr.Set(a.ID, lifecycle.Decommissioned, "ana", "", now); !errors.Is(err, lifecycle.ErrBadManual) {
		t.Fatalf("no reason accepted: %v", err)
	}
	failNext = true
	if _, err := tr.Set(a.ID, lifecycle.Verified, "ana", "walkdown", now); err == nil || tr.Current(a.ID) != lifecycle.Identified {
		t.Fatalf("a transition that could not be stored was kept: %v, %s", err, tr.Current(a.ID))
	}
	failNext = false
	// the clock stepped back: the transition is stamped no earlier than the last
	if _, err := tr.Set(a.ID, lifecycle.Verified, "ana", "walkdown", now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	if tr.Version() == v {
		t.Fatal("version did not change")
	}
	// silent for 2 h against a 1 h policy: missing
	if recs, _ := tr.Observe([]*model.Asset{a}, now.Add(2*time.Hour), now.Add(2*time.Hour)); len(recs) != 1 || recs[0].Transition.To != lifecycle.Missing {
		t.Fatalf("not missing: %+v", recs)
	}
	// replay gives the same history; a damaged record is skipped
	damaged := append([]StateRecord{{AssetID: a.ID, Transition: lifecycle.Transition{From: lifecycle.Verified, To: lifecycle.Missing, At: now, By: lifecycle.System}}}, stored...)
	re, skipped := NewTracker(damaged, lifecycle.MissingPolicy{}, nil)
	if skipped != 1 || re.Current(a.ID) != lifecycle.Missing || len(re.History(a.ID)) != 3 {
		t.Fatalf("replay: skipped %d, history %+v", skipped, re.History(a.ID))
	}
	snap := re.Snapshot()
	if counts := Counts(snap, []model.AssetID{a.ID, "ip:10.0.0.9"}); counts[lifecycle.Missing] != 1 || counts[lifecycle.Untracked] != 1 {
		t.Fatalf("counts %v", counts)
	}
}

func TestMissingPolicyFor(t *testing.T) {
	one := []model.CaptureStats{{Source: "a", Started: now, FirstPacket: now}}
	if p := MissingPolicyFor(one, time.Hour); !p.Since.IsZero() || p.After != time.Hour {
		t.Fatalf("one run: %+v", p)
	}
	two := append(one, model.CaptureStats{Source: "b", Started: now.Add(time.Hour), FirstPacket: now.Add(-48 * time.Hour)})
	if p := MissingPolicyFor(two, time.Hour); !p.Since.Equal(now.Add(-48 * time.Hour)) {
		t.Fatalf("two runs: since %v, want the first packet of the latest run", p.Since)
	}
}
