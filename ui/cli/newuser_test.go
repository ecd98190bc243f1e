package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// plantDB reads a one-minute demo capture into session "plant" of a new
// store and returns the --db/--log flags that reach it.
func plantDB(t *testing.T) (dir string, db []string) {
	t.Helper()
	dir = t.TempDir()
	db = []string{"--db", filepath.Join(dir, "db"), "--log", filepath.Join(dir, "log")}
	pcap := demoCapture(t, dir)
	if out, errs, err := execute(t, append([]string{"read", pcap, "-s", "plant", "-q"}, db...)...); err != nil {
		t.Fatal(err, out, errs)
	}
	return dir, db
}

// TestAuditUnrunRuleFails: a --policy rule that does not load makes audit
// exit non-zero naming the rule, so a CI gate cannot pass with it unrun;
// assets are named by address, not the internal ID.
func TestAuditUnrunRuleFails(t *testing.T) {
	dir, db := plantDB(t)
	out, errs, err := execute(t, append([]string{"audit", "-s", "plant"}, db...)...)
	if err != nil {
		t.Fatal(err, errs)
	}
	if strings.Contains(out, "mac:") || !strings.Contains(out, "10.10.20.2 ") {
		t.Errorf("audit names assets by id:\n%s", out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - id: bad-rule\n    title: broken\n    severity: high\n    when: asset.nosuch(\n"), 0o644)
	_, errs, err = execute(t, append([]string{"audit", "-s", "plant", "--policy", bad}, db...)...)
	if err == nil || !strings.Contains(err.Error(), `rule "bad-rule"`) {
		t.Errorf("audit with a rule that did not load: err %v, want one naming bad-rule (stderr %q)", err, errs)
	}
}
