package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSessionTravels runs the commands of docs/bundle.md: export a bundle,
// import it under another name (and refuse the same name), merge two
// sessions, diff them with --fail-on (exit 3), and write every report.
func TestSessionTravels(t *testing.T) {
	dir, db := tempDB(t)
	run := func(args ...string) (string, string, error) {
		t.Helper()
		return executeDB(t, db, args...)
	}
	short, long := filepath.Join(dir, "short.pcap"), filepath.Join(dir, "long.pcap")
	for _, p := range []struct{ path, d string }{{short, "10s"}, {long, "40s"}} {
		if _, errs, err := execute(t, "demo", "-o", p.path, "--duration", p.d); err != nil {
			t.Fatal(err, errs)
		}
	}
	for name, p := range map[string]string{"visit1": short, "visit2": long} {
		if _, errs, err := run("read", p, "-s", name, "-q"); err != nil {
			t.Fatal(err, errs)
		}
	}
	b := filepath.Join(dir, "visit1.otsb")
	if _, errs, err := run("export", "-s", "visit1", "-o", b); err != nil {
		t.Fatal(err, errs)
	}
	if _, _, err := run("import", b); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("import under an existing name: %v", err)
	}
	out, errs, err := run("import", b, "--as", "laptop")
	if err != nil || !strings.Contains(out, "imported session laptop") {
		t.Fatalf("import --as: %v %s %s", err, out, errs)
	}
	// The imported session exports to the same content.
	b2 := filepath.Join(dir, "laptop.otsb")
	if _, errs, err := run("export", "-s", "laptop", "-o", b2); err != nil {
		t.Fatal(err, errs)
	}
	if fi, _ := os.Stat(b2); fi == nil || fi.Size() == 0 {
		t.Fatal("no bundle of the imported session")
	}
	// Encrypted with a passphrase from a file; pseudonymized with a key.
	pass, key := filepath.Join(dir, "pass"), filepath.Join(dir, "key")
	os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600)
	os.WriteFile(key, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	enc := filepath.Join(dir, "enc.otsb")
	if _, errs, err := run("export", "-s", "visit1", "-o", enc, "--passphrase-file", pass, "--pseudonymize", "--key", key); err != nil {
		t.Fatal(err, errs)
	}
	if _, _, err := run("import", enc, "--as", "nokey"); err == nil || !strings.Contains(err.Error(), "encrypted") {
		t.Fatalf("import without the passphrase: %v", err)
	}
	if _, errs, err := run("import", enc, "--as", "vendor", "--passphrase-file", pass); err != nil {
		t.Fatal(err, errs)
	}
	out, _, err = run("assets", "-s", "vendor", "-f", "csv")
	if err != nil || !strings.Contains(out, "10.") {
		t.Fatalf("pseudonymized assets: %v", err)
	}
	orig, _, _ := run("assets", "-s", "visit1", "-f", "csv")
	if strings.Count(out, "\n") != strings.Count(orig, "\n") {
		t.Fatal("the pseudonymized session has another number of assets")
	}
	for _, plain := range []string{",10.10.10.2,", "20:87:56:a0:10:02"} {
		if !strings.Contains(orig, plain) || strings.Contains(out, plain) {
			t.Errorf("%s: in the session %v, in the pseudonymized one %v", plain, strings.Contains(orig, plain), strings.Contains(out, plain))
		}
	}
	if _, _, err := run("merge", "visit1", "visit1", "--into", "x"); !errors.Is(err, ErrUsage) {
		t.Fatalf("merge with itself: %v", err)
	}
	if out, errs, err := run("merge", "visit1", "visit2", "--into", "both"); err != nil || !strings.Contains(out, "merged visit1, visit2 into both") {
		t.Fatalf("merge: %v %s %s", err, out, errs)
	}
	out, _, err = run("diff", "visit1", "visit2", "-f", "json", "--fail-on", "new")
	if !errors.Is(err, ErrViolations) {
		t.Fatalf("diff --fail-on new: err = %v", err)
	}
	var r struct {
		Counts map[string]int `json:"counts"`
	}
	if json.Unmarshal([]byte(out), &r) != nil || r.Counts["new"] == 0 {
		t.Fatalf("diff json: %s", out)
	}
	if _, _, err := run("diff", "visit1", "laptop", "--fail-on", "any"); err != nil {
		t.Fatalf("a session against its imported copy: %v", err)
	}
	for _, f := range []string{"html", "csv", "cyclonedx", "json"} {
		p := filepath.Join(dir, "report."+f)
		if _, errs, err := run("export", "-s", "both", "-f", f, "-o", p); err != nil {
			t.Fatalf("%s: %v %s", f, err, errs)
		}
		if fi, err := os.Stat(p); err != nil || fi.Size() < 1000 {
			t.Fatalf("%s report: %v", f, err)
		}
	}
	if _, _, err := run("export", "-s", "both", "-f", "pdf"); !errors.Is(err, ErrUsage) {
		t.Fatalf("-f pdf: %v", err)
	}
	if _, _, err := run("export", "-s", "both", "-f", "html", "--pseudonymize"); !errors.Is(err, ErrUsage) {
		t.Fatalf("--pseudonymize with html: %v", err)
	}
}
