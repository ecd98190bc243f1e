package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWalkdown runs a whole walkdown from the command line on a demo
// session: the documented inventory is a checklist CSV otscope printed
// (trimmed, one tag renamed and placed, a device the network never saw, a
// bad row), then nameplate, a device added in a slot, locate, verdicts,
// and the exports and the audit show it.
func TestWalkdown(t *testing.T) {
	dir, db := tempDB(t)
	run := func(args ...string) (string, string, error) {
		t.Helper()
		return executeDB(t, db, args...)
	}
	must := func(args ...string) string {
		t.Helper()
		out, errs, err := run(args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errs)
		}
		return out
	}
	pcap := filepath.Join(dir, "p.pcap")
	if _, errs, err := execute(t, "demo", "-o", pcap, "--duration", "1m"); err != nil {
		t.Fatal(err, errs)
	}
	must("read", pcap, "-s", "plant", "-q")

	// the documented inventory: otscope's own checklist CSV, edited as a
	// plant engineer would
	full := must("inventory", "checklist", "-s", "plant", "-f", "csv")
	lines := strings.Split(strings.TrimSpace(full), "\n")
	byIP := map[string]string{}
	for _, l := range lines[1:] {
		for _, ip := range []string{"10.10.20.21", "10.10.10.12", "10.10.10.11"} {
			if strings.Contains(l, ","+ip+",") {
				byIP[ip] = l
			}
		}
	}
	if len(byIP) != 3 {
		t.Fatalf("checklist lacks the demo PLCs:\n%s", full)
	}
	_, rest, _ := strings.Cut(byIP["10.10.10.11"], ",")
	_, rest, _ = strings.Cut(rest, ",")
	// plc-a1 under its plant tag, placed; the others as otscope printed them
	doc := []string{lines[0], byIP["10.10.20.21"], byIP["10.10.10.12"], "PLC-A1,Plant/Hall 1/Cabinet +A1," + rest}
	doc = append(doc, "GHOST-1,Plant/Hall 2,Siemens,ET 200SP,6ES7 155-6AU01-0BN0,,,,,,,,,", "bad,,,,,,,not-an-ip,,,,,,")
	csvPath := filepath.Join(dir, "documented.csv")
	if err := os.WriteFile(csvPath, []byte(strings.Join(doc, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errs, err := run("inventory", "import", csvPath, "-s", "plant")
	if err != nil || !strings.Contains(out, "4 rows imported (4 new") || !strings.Contains(out, "1 skipped") {
		t.Fatalf("import: %v %q %q", err, out, errs)
	}
	if strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "documented.csv:6:") || !strings.Contains(errs, "not-an-ip") {
		t.Errorf("import problems: %q, want one line with the row's place", errs)
	}
	// a file refused whole: non-zero, nothing stored; a bad --map is usage
	if _, _, err := run("inventory", "import", filepath.Join(dir, "nope.csv"), "-s", "plant"); err == nil {
		t.Error("import of a missing file: no error")
	}
	if _, _, err := run("inventory", "import", csvPath, "-s", "plant", "--map", "Serial=colour"); !errors.Is(err, ErrUsage) {
		t.Errorf("--map to an unknown field: %v", err)
	}

	// the tag resolves: nameplate read off the press PLC with its plant tag
	if out := must("nameplate", "-s", "plant", "--asset", "PRESS_LINE_A", "serial=S C-H4T999", "tag=+A2-K1"); !strings.Contains(out, "mac:00:0e:8c:9a:02:12: recorded") {
		t.Errorf("nameplate: %q", out)
	}
	if _, _, err := run("nameplate", "-s", "plant", "--asset", "PRESS_LINE_A", "colour=red"); !errors.Is(err, ErrUsage) {
		t.Errorf("nameplate with an unknown field: %v", err)
	}
	// an S7-300 input module in slot 4 of the press PLC (found by its new tag)
	if out := must("add", "-s", "plant", "--name", "DI-1", "--parent", "+A2-K1", "--slot", "4",
		"vendor=Siemens", "order_number=6ES7 321-1BL00-0AA0", "product=SM 321 DI32"); !strings.Contains(out, "added manual:di-1") {
		t.Errorf("add: %q", out)
	}
	if _, _, err := run("add", "-s", "plant", "--name", "X", "--slot", "1"); !errors.Is(err, ErrUsage) {
		t.Errorf("--slot without --parent: %v", err)
	}
	out = must("locate", "-s", "plant", "--asset", "10.10.10.12", "--asset", "DI-1", "--at", "Plant/Hall 1/Cabinet +A2")
	if !strings.Contains(out, "mac:00:0e:8c:9a:02:12: at Plant/Hall 1/Cabinet +A2") || !strings.Contains(out, "manual:di-1: at") {
		t.Errorf("locate: %q", out)
	}
	if out := must("verdict", "-s", "plant", "--asset", "plc-a1", "--set", "match", "--why", "nameplate read", "--by", "ana"); !strings.Contains(out, "state verified") {
		t.Errorf("verdict match: %q", out)
	}
	must("verdict", "-s", "plant", "--asset", "+A2-K1", "--set", "mismatch", "--why", "other serial", "--by", "ana")
	// missing on the floor is missing in the inventory, with who and why
	if out := must("verdict", "-s", "plant", "--asset", "sw-cellc", "--set", "missing", "--why", "not in cabinet +C1", "--by", "ana"); !strings.Contains(out, "state missing") {
		t.Errorf("verdict missing: %q", out)
	}
	if out := must("state", "-s", "plant", "--asset", "10.10.30.2"); !strings.Contains(out, ": missing\n") || !strings.Contains(out, "ana") || !strings.Contains(out, "not in cabinet +C1") {
		t.Errorf("state after verdict missing: %q", out)
	}
	if _, _, err := run("verdict", "-s", "plant", "--asset", "plc-a1", "--set", "fine", "--why", "x"); !errors.Is(err, ErrUsage) {
		t.Errorf("--set fine: %v", err)
	}

	// the module is end of life in lifecycle, as a manual asset
	lc := must("lifecycle", "-s", "plant")
	if i := strings.Index(lc, "manual:di-1"); i < 0 || !strings.Contains(lc[i:i+strings.IndexByte(lc[i:], '\n')], "end-of-life") {
		t.Errorf("lifecycle of the S7-300 module:\n%s", lc)
	}
	// state (and waive) take the same references, tags included
	if out := must("state", "-s", "plant", "--asset", "PLC-A1"); !strings.HasPrefix(out, "mac:00:1b:1b:6e:01:11: verified") {
		t.Errorf("state by documented tag: %q", out)
	}

	var recs []struct {
		ID       string `json:"id"`
		Location string `json:"location"`
		Verdict  *struct {
			Value string `json:"value"`
			By    string `json:"by"`
		} `json:"verdict"`
		Documented *struct {
			Tag    string `json:"tag"`
			Source string `json:"source"`
		} `json:"documented"`
	}
	if err := json.Unmarshal([]byte(must("assets", "-s", "plant", "-f", "json")), &recs); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs {
		if r.Verdict == nil {
			t.Errorf("%s: no verdict", r.ID)
			continue
		}
		s := r.Location + "|" + r.Verdict.Value + "|" + r.Verdict.By
		if r.Documented != nil {
			s += "|" + r.Documented.Tag + "|" + r.Documented.Source
		}
		got[r.ID] = s
	}
	for id, want := range map[string]string{
		"mac:00:1b:1b:6e:01:11": "Plant/Hall 1/Cabinet +A1|match|ana|PLC-A1|documented.csv:4",
		"mac:00:0e:8c:9a:02:12": "Plant/Hall 1/Cabinet +A2|mismatch|ana|PRESS_LINE_A|documented.csv:3",
		"mac:00:00:bc:3a:20:21": "|match|otscope|" + strings.Split(byIP["10.10.20.21"], ",")[0] + "|documented.csv:2",
		"manual:di-1":           "Plant/Hall 1/Cabinet +A2|new|otscope",
	} {
		if got[id] != want {
			t.Log(strings.Join(doc, "\n"))
			t.Errorf("%s: %q, want %q", id, got[id], want)
		}
	}
	// manual assets are in every export
	if csv := must("assets", "-s", "plant", "-f", "csv"); !strings.Contains(csv, "manual:di-1,") {
		t.Error("assets -f csv lacks the manual asset")
	}

	// the CSV keeps the internal ids beside address and name
	au := must("audit", "-s", "plant", "-f", "csv")
	for _, want := range []string{",undocumented-device,", "ip:192.168.50.10,", ",documented-device-unseen,", "doc:ghost-1,",
		",nameplate-mismatch,", "mac:00:0e:8c:9a:02:12,"} {
		if !strings.Contains(au, want) {
			t.Errorf("audit lacks %q:\n%s", want, au)
		}
	}
	for _, line := range strings.Split(au, "\n") {
		if strings.Contains(line, ",undocumented-device,") && strings.Contains(line, "mac:00:1b:1b:6e:01:11,") {
			t.Error("a documented PLC is reported undocumented")
		}
	}
	if table := must("audit", "-s", "plant"); !strings.Contains(table, "undocumented-device       192.168.50.10") {
		t.Errorf("the audit table names assets by address:\n%s", table)
	}

	// completion offers the manual device where other commands take --asset
	for _, c := range [][]string{{"locate", "--asset"}, {"verdict", "--asset"}, {"state", "--asset"}, {"add", "--parent"}} {
		out, _, err := execute(t, append(append([]string{"__complete"}, db...), c[0], "-s", "plant", c[1], "")...)
		if err != nil || !strings.Contains(out, "\nmanual:di-1\t") || !strings.Contains(out, "\n10.10.10.12\t") {
			t.Errorf("%v completion: %v\n%s", c, err, out)
		}
	}
	if out, _, _ := execute(t, append(append([]string{"__complete"}, db...), "locate", "-s", "plant", "--at", "")...); !strings.Contains(out, "Plant/Hall 1/Cabinet +A2\n") {
		t.Errorf("--at completion: %q", out)
	}

	// the checklist of a cabinet, written through a temporary file
	html := filepath.Join(dir, "a2.html")
	must("inventory", "checklist", "-s", "plant", "--at", "Plant/Hall 1/Cabinet +A2", "-o", html)
	b, err := os.ReadFile(html)
	if err != nil || !strings.Contains(string(b), "DI-1") || strings.Contains(string(b), "PLC-A1") {
		t.Errorf("checklist of +A2: %v\n%s", err, b)
	}
	if ents, _ := os.ReadDir(dir); slices.ContainsFunc(ents, func(e os.DirEntry) bool { return strings.Contains(e.Name(), ".tmp-") }) {
		t.Error("a temporary file was left behind")
	}
}
