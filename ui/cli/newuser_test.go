package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"otscope/assets/export"
	"otscope/model"
)

// plantDB reads a one-minute demo capture into session "plant" of a new
// store and returns the --db/--log flags that reach it.
func plantDB(t *testing.T) (dir string, db []string) {
	t.Helper()
	dir, db = tempDB(t)
	pcap := demoCapture(t, dir)
	if out, errs, err := executeDB(t, db, "read", pcap, "-s", "plant", "-q"); err != nil {
		t.Fatal(err, out, errs)
	}
	return dir, db
}

// TestAuditUnrunRuleFails: a --policy rule that does not load makes audit
// exit non-zero naming the rule, so a CI gate cannot pass with it unrun;
// assets are named by address, not the internal ID.
func TestAuditUnrunRuleFails(t *testing.T) {
	dir, db := plantDB(t)
	out, errs, err := executeDB(t, db, "audit", "-s", "plant")
	if err != nil {
		t.Fatal(err, errs)
	}
	if strings.Contains(out, "mac:") || !strings.Contains(out, "10.10.20.2 ") {
		t.Errorf("audit names assets by id:\n%s", out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("rules:\n  - id: bad-rule\n    title: broken\n    severity: high\n    when: asset.nosuch(\n"), 0o644)
	_, errs, err = executeDB(t, db, "audit", "-s", "plant", "--policy", bad)
	if err == nil || !strings.Contains(err.Error(), `rule "bad-rule"`) {
		t.Errorf("audit with a rule that did not load: err %v, want one naming bad-rule (stderr %q)", err, errs)
	}
}

// TestWaiveMessages: a missing session is named once; --until DATE holds
// through that day and is written back as that date.
func TestWaiveMessages(t *testing.T) {
	_, db := plantDB(t)
	_, _, err := executeDB(t, db, "waive", "-s", "enipx", "--rule", "smbv1", "--asset", "x", "--reason", "r")
	if err == nil || strings.Count(err.Error(), `"enipx"`) != 1 || !strings.Contains(err.Error(), "not found") {
		t.Errorf("missing session: %v", err)
	}
	until := time.Now().AddDate(1, 0, 0).Format(time.DateOnly)
	out, errs, err := executeDB(t, db, "waive", "-s", "plant", "--rule", "cleartext-telnet", "--asset", "10.10.20.2",
		"--reason", "vendor access", "--until", until)
	if err != nil || !strings.Contains(out, "until "+until+" ") {
		t.Errorf("waive --until %s: %v %q %q", until, err, out, errs)
	}
	out, _, err = executeDB(t, db, "waivers", "-s", "plant")
	if err != nil || !strings.Contains(out, until) {
		t.Errorf("waivers: %v\n%s", err, out)
	}
}

// TestStateListAndEmptyScanlog: state without --asset lists every asset
// with its state, by address, in 80 columns, as a table, JSON or CSV; an
// empty scan log says so instead of printing a bare header.
func TestStateListAndEmptyScanlog(t *testing.T) {
	_, db := plantDB(t)
	run := func(args ...string) string {
		t.Helper()
		out, errs, err := executeDB(t, db, args...)
		if err != nil {
			t.Fatalf("%q: %v %s", args, err, errs)
		}
		return out
	}
	table := run("state", "-s", "plant")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) < 10 || !strings.HasPrefix(lines[1], "ADDRESS") || !strings.HasPrefix(lines[2], "10.10.1.1 ") {
		t.Fatalf("state table:\n%s", table)
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line of %d columns: %q", n, l)
		}
		if strings.Contains(l, "sub:") {
			t.Errorf("routed device named by its ID: %q", l)
		}
	}
	var rows []struct{ ID, Address, State string }
	if err := json.Unmarshal([]byte(run("state", "-s", "plant", "-f", "json")), &rows); err != nil || len(rows) != len(lines)-2 {
		t.Fatalf("state -f json: %v, %d rows for %d table lines", err, len(rows), len(lines)-2)
	}
	for _, r := range rows {
		if r.State == "" || r.Address == "" {
			t.Errorf("row %+v", r)
		}
	}
	if csv := run("state", "-s", "plant", "-f", "csv"); !strings.HasPrefix(csv, "id,address,name,state,since,by,why\n") {
		t.Errorf("state -f csv:\n%s", csv)
	}
	if h := run("state", "-s", "plant", "--asset", "10.10.1.1", "-f", "json"); !strings.Contains(h, `"history"`) {
		t.Errorf("state --asset -f json:\n%s", h)
	}
	if out := run("scanlog", "-s", "plant"); !strings.HasPrefix(out, "no scans yet") || strings.Contains(out, "TARGET") {
		t.Errorf("empty scanlog: %q", out)
	}
}

// TestAssetsCSVColumns: assets -f csv is the report CSV (identity, state,
// lifecycle and location columns), rows by address.
func TestAssetsCSVColumns(t *testing.T) {
	_, db := plantDB(t)
	out, errs, err := executeDB(t, db, "assets", "-s", "plant", "-f", "csv")
	if err != nil {
		t.Fatal(err, errs)
	}
	header, rest, _ := strings.Cut(out, "\n")
	if header != strings.Join(export.CSVHeader, ",") || !strings.Contains(header, "order_number,firmware") {
		t.Errorf("header %q", header)
	}
	if !strings.Contains(strings.SplitN(rest, "\n", 2)[0], ",10.10.1.1,") {
		t.Errorf("first row is not the lowest address: %q", strings.SplitN(rest, "\n", 2)[0])
	}
	table, _, err := executeDB(t, db, "assets", "-s", "plant")
	if err != nil || !strings.HasPrefix(table, "ADDRESS") || !strings.Contains(table, "\n10.10.1.1 ") {
		t.Errorf("assets table: %v\n%s", err, table)
	}
}

type fakeBytes struct{ n int64 }

func (f fakeBytes) BytesRead() int64 { return f.n }

// TestProgressBar: with the files' sizes known the progress is a bar with
// a percentage and an ETA that never outgrows the terminal (80 columns,
// narrower, wider); without them, the counts; on a non-terminal a plain
// line every few seconds, on a terminal about ten redraws a second.
func TestProgressBar(t *testing.T) {
	start := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	for _, w := range []int{20, 40, 80, 200} {
		p := &progressBar{tty: true, width: func() int { return w }, start: start, total: 4000}
		p.begin("/captures/plant-north-2026-12-06-full-day.pcapng", 4000)
		p.opened(fakeBytes{1000})
		p.update(model.CaptureStats{Source: "/captures/plant-north-2026-12-06-full-day.pcapng", Packets: 1234567})
		line := p.line(start.Add(10 * time.Second))
		t.Logf("%3d: %s", w, line)
		if n := utf8.RuneCountInString(line); n >= w {
			t.Errorf("width %d: line of %d columns: %q", w, n, line)
		}
		if !strings.Contains(line, "25%") {
			t.Errorf("width %d: no percentage: %q", w, line)
		}
		if w >= 80 && (!strings.Contains(line, "█") || !strings.Contains(line, "ETA 0:30")) {
			t.Errorf("width %d: no bar or ETA: %q", w, line)
		}
	}
	p := &progressBar{tty: true, width: func() int { return 80 }, start: start}
	p.begin("-", 0)
	p.update(model.CaptureStats{Source: "-", Packets: 5000})
	if line := p.line(start.Add(time.Second)); strings.Contains(line, "%") || !strings.Contains(line, "5000 pkts") {
		t.Errorf("unknown size: %q", line)
	}
	if ttyEvery != 100*time.Millisecond || plainEvery < 2*time.Second {
		t.Errorf("redraws every %v on a terminal, %v elsewhere", ttyEvery, plainEvery)
	}
	// a read of the demo plant without a terminal prints no bar (it ends
	// before the first plain line) and no carriage returns
	dir, db := tempDB(t)
	pcap := demoCapture(t, dir)
	out, errs, err := executeDB(t, db, "read", pcap, "-s", "p")
	if err != nil || strings.Contains(errs, "\r") || strings.Contains(errs, "█") {
		t.Errorf("read on a non-terminal: %v %q", err, errs)
	}
	// the summary fits an 80-column terminal
	if !strings.Contains(out, "session p: ") || !strings.Contains(out, "pkt/s") {
		t.Errorf("no summary: %q", out)
	}
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("summary line of %d columns: %q", n, l)
		}
	}
}
