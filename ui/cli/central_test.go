package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"otscope/assets/central/pgtest"
	"otscope/model"
)

// TestCentralPushPullAssets: a session travels to the central database and
// back through the commands a user types.
func TestCentralPushPullAssets(t *testing.T) {
	srv := pgtest.Start(t)
	_, db := tempDB(t)
	run := func(args ...string) string {
		t.Helper()
		out, errOut, err := executeDB(t, db, args...)
		if err != nil {
			t.Fatalf("%q: %v\n%s", args, err, errOut)
		}
		return out
	}
	run("demo", "--headless", "-s", "plant-a", "--duration", "2m")
	dsn := srv.DSN("otscope")
	out := run("push", "-s", "plant-a", "--to", dsn, "--site", "Plant A", "--sensor", "jump-1")
	if !strings.Contains(out, `pushed plant-a to site "Plant A" as sensor "jump-1"`) || strings.Contains(out, " 0 of ") {
		t.Fatalf("first push: %s", out)
	}
	out = run("push", "-s", "plant-a", "--to", dsn, "--site", "Plant A", "--sensor", "jump-1")
	if !strings.Contains(out, ": 0 of ") || !strings.Contains(out, "; 0 of ") {
		t.Fatalf("second push of an unchanged session sent something: %s", out)
	}
	out = run("sites", "--from", dsn)
	if !strings.Contains(out, "Plant A") || !strings.Contains(out, "jump-1") {
		t.Fatalf("sites: %s", out)
	}
	var local, remote []model.Asset
	if err := json.Unmarshal([]byte(run("assets", "-s", "plant-a", "-f", "json")), &local); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OTSCOPE_DSN", dsn) // the DSN from the environment
	if err := json.Unmarshal([]byte(run("assets", "--site", "Plant A", "-f", "json")), &remote); err != nil {
		t.Fatal(err)
	}
	if len(local) == 0 || len(remote) != len(local) {
		t.Fatalf("assets --from: %d assets, the session has %d", len(remote), len(local))
	}
	out = run("pull", "--site", "Plant A", "--into", "laptop")
	if !strings.Contains(out, "into session laptop") {
		t.Fatalf("pull: %s", out)
	}
	var pulled []model.Asset
	if err := json.Unmarshal([]byte(run("assets", "-s", "laptop", "-f", "json")), &pulled); err != nil {
		t.Fatal(err)
	}
	if len(pulled) != len(local) {
		t.Fatalf("pulled %d assets, pushed %d", len(pulled), len(local))
	}
	// audit and diff read the central view like a session, and leave no
	// temporary session behind.
	var localAudit, remoteAudit struct {
		Assets     int   `json:"assets"`
		Violations []any `json:"violations"`
	}
	if err := json.Unmarshal([]byte(run("audit", "-s", "plant-a", "-f", "json")), &localAudit); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(run("audit", "--from", dsn, "--site", "Plant A", "-f", "json")), &remoteAudit); err != nil {
		t.Fatal(err)
	}
	if len(localAudit.Violations) == 0 || len(remoteAudit.Violations) != len(localAudit.Violations) || remoteAudit.Assets != localAudit.Assets {
		t.Fatalf("audit --from: %d assets, %d violations; the session: %d, %d", remoteAudit.Assets, len(remoteAudit.Violations),
			localAudit.Assets, len(localAudit.Violations))
	}
	out = run("diff", "plant-a", "--from", dsn, "--site", "Plant A", "-f", "json")
	var d struct {
		To        string `json:"to"`
		Unchanged int    `json:"unchanged"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.To != "site Plant A" || d.Unchanged != len(local) {
		t.Fatalf("diff against the site it was pushed to: %v %+v\n%s", err, d, out)
	}
	if out := run("sessions"); strings.Contains(out, "central-") {
		t.Fatalf("a temporary session was left behind:\n%s", out)
	}
	// A password on the command line is refused before anything connects.
	_, _, err := executeDB(t, db, "push", "-s", "plant-a", "--to", "postgres://otscope:pw@127.0.0.1/otscope", "--site", "x")
	if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "~/.pgpass") {
		t.Fatalf("password on the command line: %v", err)
	}
}
