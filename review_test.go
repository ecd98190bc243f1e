package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestWaiversAndStatesCommands runs waive, waivers, state, audit and
// assets on a demo session: a waiver is applied by audit and counted apart,
// a later one supersedes it, a revoked one no longer applies; a manual
// verification is recorded with who and why and shows in the asset JSON.
func TestWaiversAndStatesCommands(t *testing.T) {
	dir := demoSession(t, "2m", "p")
	cmd := func(args ...string) (int, string, string) {
		t.Helper()
		return otscope(t, append(args, dbArgs(dir)...)...)
	}
	type auditOut struct {
		Violations []struct {
			Rule   string          `json:"rule"`
			Asset  string          `json:"asset"`
			Waived json.RawMessage `json:"waived"`
		} `json:"violations"`
		Waived int `json:"waived"`
	}
	audit := func() auditOut {
		t.Helper()
		code, out, errs := cmd("audit", "--session", "p", "--format", "json")
		if code != 0 {
			t.Fatalf("audit: %d %s", code, errs)
		}
		var a auditOut
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	const telnetSwitch = "mac:00:90:e8:7a:20:02"
	before := audit()
	if before.Waived != 0 {
		t.Fatalf("fresh session has %d waived", before.Waived)
	}

	// bad input: one clear line, exit 2
	for _, bad := range [][]string{
		{"waive", "--session", "p", "--rule", "cleartext-telnet", "--asset", "10.10.20.2"},
		{"waive", "--session", "p", "--rule", "no-such-rule", "--asset", "*", "--reason", "x"},
		{"waive", "--session", "p", "--rule", "cleartext-telnet", "--asset", "*", "--reason", "x", "--for", "soon"},
		{"waive", "--session", "p", "--rule", "cleartext-telnet", "--asset", "*", "--reason", "x", "--for", "1d", "--until", "2030-01-01"},
		{"state", "--session", "p", "--asset", "10.10.20.2", "--set", "gone", "--why", "x"},
		{"state", "--session", "p", "--asset", "10.10.20.2", "--set", "verified"},
	} {
		if code, _, errs := cmd(bad...); code != 2 || strings.Count(strings.TrimSpace(errs), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line plus the usage hint", bad, code, errs)
		}
	}
	if code, _, errs := cmd("waive", "--session", "p", "--rule", "cleartext-telnet", "--asset", "10.99.9.9", "--reason", "x"); code != 1 ||
		!strings.Contains(errs, "no asset") {
		t.Errorf("unknown asset: exit %d %q", code, errs)
	}

	// waive by IP, then supersede with a shorter one; audit applies it
	if code, out, errs := cmd("waive", "--session", "p", "--rule", "cleartext-telnet", "--asset", "10.10.20.2",
		"--reason", "isolated cell switch", "--for", "30d", "--by", "ana"); code != 0 || !strings.Contains(out, "waived cleartext-telnet for sw-cellb ("+telnetSwitch+")") {
		t.Fatalf("waive: %d %q %q", code, out, errs)
	}
	if code, _, errs := cmd("waive", "--session", "p", "--rule", "cleartext-telnet", "--asset", telnetSwitch,
		"--reason", "until the firmware update", "--until", "2099-01-31", "--by", "bo"); code != 0 {
		t.Fatal(errs)
	}
	after := audit()
	if after.Waived != 1 || len(after.Violations) != len(before.Violations) {
		t.Fatalf("audit: %d waived of %d, want 1 of %d", after.Waived, len(after.Violations), len(before.Violations))
	}
	for _, v := range after.Violations {
		if v.Rule == "cleartext-telnet" && v.Asset == telnetSwitch && !strings.Contains(string(v.Waived), "until the firmware update") {
			t.Errorf("telnet violation waived by %s, want the later waiver", v.Waived)
		}
	}
	code, out, errs := cmd("audit", "--session", "p")
	if code != 0 || !strings.Contains(out, ", 1 waived") || !strings.Contains(out, "high (waived)") {
		t.Errorf("audit table does not count the waiver apart (exit %d %s):\n%s", code, errs, out)
	}
	code, out, _ = cmd("waivers", "--session", "p")
	if code != 0 || strings.Count(out, "cleartext-telnet") != 1 || !strings.Contains(out, "active") || !strings.Contains(out, "bo") {
		t.Errorf("waivers:\n%s", out)
	}
	code, out, _ = cmd("waivers", "--session", "p", "--all", "--format", "csv")
	if code != 0 || strings.Count(out, "cleartext-telnet") != 2 {
		t.Errorf("waivers --all:\n%s", out)
	}

	// revoke: the violation counts again
	if code, _, errs := cmd("waive", "--session", "p", "--rule", "cleartext-telnet", "--asset", telnetSwitch, "--revoke"); code != 0 {
		t.Fatal(errs)
	}
	if a := audit(); a.Waived != 0 {
		t.Fatalf("after revoke %d waived", a.Waived)
	}
	if code, _, errs := cmd("waive", "--session", "p", "--rule", "cleartext-telnet", "--asset", telnetSwitch, "--revoke"); code != 1 ||
		!strings.Contains(errs, "no active waiver") {
		t.Errorf("second revoke: %d %q", code, errs)
	}
	code, out, errs = cmd("waivers", "--session", "p", "--format", "json")
	if code != 0 {
		t.Fatalf("waivers: exit %d: %s", code, errs)
	}
	var ws []struct {
		Rule   string `json:"rule_id"`
		Status string `json:"status"`
	}
	if json.Unmarshal([]byte(out), &ws) != nil || len(ws) != 1 || ws[0].Status != "revoked" {
		t.Errorf("waivers json after revoke: %s", out)
	}

	// states: the read recorded automatic ones; verify the S7-300 by name
	const s7300 = "mac:00:0e:8c:9a:02:12"
	code, out, errs = cmd("state", "--session", "p", "--asset", "PRESS_LINE_A", "--set", "verified", "--why", "walkdown, cabinet +A2", "--by", "ana")
	if code != 0 || !strings.Contains(out, s7300+": verified") || !strings.Contains(out, "identified → verified") {
		t.Fatalf("state --set: %d %q %q", code, out, errs)
	}
	// not found on the floor: a person marks it missing; it cannot be
	// verified again before the network sees it
	if code, out, errs := cmd("state", "--session", "p", "--asset", s7300, "--set", "missing", "--why", "not in cabinet +A2", "--by", "bo"); code != 0 || !strings.Contains(out, s7300+": missing") {
		t.Errorf("manual missing: %d %q %q", code, out, errs)
	}
	if code, _, errs := cmd("state", "--session", "p", "--asset", s7300, "--set", "verified", "--why", "x"); code != 1 || !strings.Contains(errs, "seen on the network again") {
		t.Errorf("missing → verified: %d %q", code, errs)
	}
	code, out, _ = cmd("assets", "--session", "p", "--format", "json")
	var recs []struct {
		ID      string `json:"id"`
		State   string `json:"state"`
		History []struct {
			From, To, By, Why string
		} `json:"state_history"`
	}
	if err := json.Unmarshal([]byte(out), &recs); err != nil || code != 0 {
		t.Fatalf("assets json: %v", err)
	}
	untracked := 0
	for _, r := range recs {
		if r.State == "" {
			untracked++
		}
		if r.ID == s7300 {
			last := r.History[len(r.History)-1]
			if r.State != "missing" || last.By != "bo" || last.Why != "not in cabinet +A2" || r.History[len(r.History)-2].By != "ana" || r.History[0].From != "untracked" {
				t.Errorf("S7-300 state %q history %+v", r.State, r.History)
			}
		}
	}
	if untracked > 0 {
		t.Errorf("%d assets without a state after a read", untracked)
	}
}
