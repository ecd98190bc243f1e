package cli

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// tempDB returns a new temporary directory and the flags that put
// otscope's database (dir/db) and log (dir/log) in it.
func tempDB(t *testing.T) (dir string, db []string) {
	dir = t.TempDir()
	return dir, []string{"--db", filepath.Join(dir, "db"), "--log", filepath.Join(dir, "log")}
}

// executeDB runs one command line in-process with the db flags of tempDB.
func executeDB(t *testing.T, db []string, args ...string) (string, string, error) {
	t.Helper()
	return execute(t, append(args, db...)...)
}

// execute runs one command line in-process.
func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Execute(args, IO{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb}, "v9.9.9")
	return out.String(), errb.String(), err
}

// TestLegacyFlags: spellings of Go's flag package (-session S, -format=json)
// and scan's --iface keep working; values that look like flags stay values.
func TestLegacyFlags(t *testing.T) {
	root := (&app{}).newRoot()
	for _, c := range []struct{ in, want []string }{
		{[]string{"assets", "-session", "s", "-format=json"}, []string{"assets", "--session", "s", "--format=json"}},
		{[]string{"assets", "-s", "s", "-f", "csv"}, []string{"assets", "-s", "s", "-f", "csv"}},
		{[]string{"waive", "--reason", "-session", "-rule", "r"}, []string{"waive", "--reason", "-session", "--rule", "r"}},
		{[]string{"read", "x.pcap", "-q", "-session", "s"}, []string{"read", "x.pcap", "-q", "--session", "s"}},
		{[]string{"read", "--", "-session"}, []string{"read", "--", "-session"}},
		{[]string{"scan", "assets", "-iface", "lo"}, []string{"scan", "assets", "--iface", "lo"}},
		{[]string{"read", "-nosuchflag"}, []string{"read", "-nosuchflag"}},
	} {
		if got := legacyFlags(root, c.in); !slices.Equal(got, c.want) {
			t.Errorf("legacyFlags(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// --iface is -i on scan, and a bad session name is a usage error
	_, db := tempDB(t)
	out, _, err := executeDB(t, db, "scan", "127.0.0.9", "-session", "s", "--iface", "lo", "--probes", "http", "--dry-run")
	if err != nil || !strings.Contains(out, "127.0.0.9") || !strings.Contains(out, "dry run") {
		t.Errorf("scan --iface --dry-run: %v\n%s", err, out)
	}
	for _, args := range [][]string{
		{"assets", "-s", "a/b"},
		{"assets", "-s", "ok", "-f", "xml"},
		{"scanlog", "-format", "yaml", "-session", "s"},
		{"lifecycle"},
		{"frobnicate"},
		{"read", "--bogus"},
	} {
		if _, _, err := executeDB(t, db, args...); !errors.Is(err, ErrUsage) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	out, _, err := execute(t, "version", "--help")
	if err != nil || !strings.Contains(out, "Usage:") || strings.Contains(out, "v9.9.9") {
		t.Errorf("version --help printed %q (%v), want help", out, err)
	}
	if out, _, err := execute(t, "version"); err != nil || out != "otscope v9.9.9\n" {
		t.Errorf("version: %q %v", out, err)
	}
	if out, _, err := execute(t, "--version"); err != nil || out != "otscope v9.9.9\n" {
		t.Errorf("--version: %q %v", out, err)
	}
	out, _, err = execute(t, "help")
	if err != nil {
		t.Fatal(err)
	}
	root := (&app{}).newRoot()
	for _, c := range root.Commands() {
		if !strings.Contains(out, "\n  "+c.Name()+" ") {
			t.Errorf("help does not list %s", c.Name())
		}
		var sub bytes.Buffer
		c.SetOut(&sub)
		c.Help()
		for i, l := range strings.Split(sub.String(), "\n") {
			if w := len([]rune(l)); w > 80 && !strings.HasPrefix(l, "  otscope ") && !strings.Contains(l, "(arp, ") {
				t.Errorf("%s --help line %d is %d columns: %q", c.Name(), i+1, w, l)
			}
		}
	}
}

func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish"} {
		out, _, err := execute(t, "completion", sh)
		if err != nil || !strings.Contains(out, "otscope") || len(out) < 1000 {
			t.Errorf("completion %s: %v, %d bytes", sh, err, len(out))
		}
	}
	if _, _, err := execute(t, "completion", "tcsh"); err == nil {
		t.Error("completion tcsh: no error")
	}
	dir, db := tempDB(t)
	pcap := filepath.Join(dir, "p.pcap")
	if _, errs, err := execute(t, "demo", "-o", pcap, "--duration", "1m"); err != nil {
		t.Fatal(err, errs)
	}
	if _, errs, err := executeDB(t, db, "read", pcap, "-s", "plant", "-q"); err != nil {
		t.Fatal(err, errs)
	}
	complete := func(args ...string) []string {
		t.Helper()
		out, _, err := execute(t, append([]string{"__complete"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var words []string
		for _, l := range strings.Split(out, "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				w, _, _ := strings.Cut(l, "\t")
				words = append(words, w)
			}
		}
		return words
	}
	if got := complete(append(db, "assets", "-s", "")...); !slices.Equal(got, []string{"plant"}) {
		t.Errorf("sessions: %q", got)
	}
	if got := complete(append(db, "state", "-s", "plant", "--asset", "")...); !slices.Contains(got, "10.10.20.2") || !slices.Contains(got, "mac:00:90:e8:7a:20:02") {
		t.Errorf("assets: %d words, want the telnet switch by IP and id: %q", len(got), got)
	}
	if got := complete(append(db, "scan", "-s", "plant", "")...); len(got) < 2 || got[0] != "assets" || !slices.Contains(got, "10.10.20.2") {
		t.Errorf("scan targets: %q", got)
	}
	if got := complete("waive", "--rule", ""); !slices.Contains(got, "cleartext-telnet") {
		t.Errorf("rules: %q", got)
	}
	if got := complete("scan", "--probes", "modbus,"); !slices.Contains(got, "modbus,s7") || slices.Contains(got, "modbus,modbus") {
		t.Errorf("probes: %q", got)
	}
	if got := complete("audit", "-f", ""); !slices.Equal(got, []string{"json", "csv", "table"}) {
		t.Errorf("formats: %q", got)
	}
}
