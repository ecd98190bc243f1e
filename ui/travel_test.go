package ui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/charmbracelet/x/exp/teatest"

	"otscope/assets/bundle"
	"otscope/assets/diff"
	"otscope/model"
	"otscope/ui/internal/keymsg"
)

// fakeExporter records the exports asked of it. It reports half the
// records done, then waits for release before it finishes.
type fakeExporter struct {
	mu      sync.Mutex
	calls   []string // "format path"
	release chan struct{}
	err     error
	sum     ExportSummary
}

func (f *fakeExporter) Export(_ context.Context, format, path string, progress func(done, total int)) (ExportSummary, error) {
	f.mu.Lock()
	f.calls = append(f.calls, format+" "+path)
	f.mu.Unlock()
	progress(500, 1000)
	if f.release != nil {
		<-f.release
	}
	progress(1000, 1000)
	return f.sum, f.err
}

func (f *fakeExporter) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

// noticeLine is the line above the status bar, where the export and the
// diff say what they do.
func noticeLine(m Model) string {
	lines := strings.Split(view(m), "\n")
	return lines[len(lines)-2]
}

// upd is one Update without following its command.
func upd(t *testing.T, m Model, msg tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	nm, cmd := m.Update(msg)
	return nm.(Model), cmd
}

// pressCmd presses keys and returns the command of the last.
func pressCmd(t *testing.T, m Model, ks ...string) (Model, tea.Cmd) {
	t.Helper()
	var cmd tea.Cmd
	for _, k := range ks {
		m, cmd = upd(t, m, keymsg.For(k))
	}
	return m, cmd
}

func exportModel(t *testing.T, f *fakeExporter) Model {
	cfg := testConfig(make(chan model.Update))
	if f != nil {
		cfg.Exporter = f
	}
	m := New(cfg)
	return send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, UpdatesMsg{Updates: []model.Update{fixtureSnapshot()}})
}

// startExport presses e, types format and path (empty: the default) and
// confirms; it returns the model and the export's commands (run, watch).
func startExport(t *testing.T, m Model, format, path string) (Model, tea.Cmd, tea.Cmd) {
	t.Helper()
	m, _ = pressCmd(t, m, "e")
	if !m.tr.form.Active() {
		t.Fatal("e opened no form")
	}
	if format != "" {
		m = press(t, m, format)
	}
	m, _ = pressCmd(t, m, "enter")
	if path != "" {
		m = press(t, m, path)
	}
	m, cmd := pressCmd(t, m, "enter")
	if cmd == nil {
		t.Fatalf("the form did not submit:\n%s", view(m))
	}
	start, ok := cmd().(exportStartMsg)
	if !ok {
		t.Fatalf("the form sent %T, want exportStartMsg", cmd())
	}
	m, cmd = upd(t, m, start)
	bm, ok := cmd().(tea.BatchMsg)
	if !ok || len(bm) != 2 {
		t.Fatalf("startExport returned %T, want a batch of run and watch", cmd())
	}
	return m, bm[0], bm[1]
}

func TestExportFormProgressAndResult(t *testing.T) {
	f := &fakeExporter{release: make(chan struct{}), sum: ExportSummary{Assets: 47, Bytes: 212_345}}
	m := exportModel(t, f)
	m, _ = pressCmd(t, m, "e")
	t.Run("form", func(t *testing.T) { golden.RequireEqual(t, []byte(view(m))) })
	m, _ = pressCmd(t, m, "esc")
	if m.tr.form.Active() || len(f.Calls()) != 0 {
		t.Fatal("esc did not cancel the export form")
	}

	m, run, watch := startExport(t, m, "", "")
	want := "bundle ./plant-a-20250304-1005.otsb"
	done := make(chan tea.Msg, 1)
	go func() { done <- run() }()
	// the exporter reports half the records, then waits: the UI shows it
	prog, ok := watch().(exportProgressMsg)
	if !ok {
		t.Fatal("watch delivered no progress")
	}
	m, next := upd(t, m, prog)
	if next == nil {
		t.Fatal("progress did not re-arm the watch")
	}
	if v := noticeLine(m); !strings.Contains(v, "exporting bundle to ./plant-a-20250304-1005.otsb: 50%") {
		t.Fatalf("no progress in the tab bar:\n%s", v)
	}
	// a second e while it runs starts nothing
	m, _ = pressCmd(t, m, "e")
	if m.tr.form.Active() {
		t.Fatal("e opened a second export while one runs")
	}
	close(f.release)
	m, _ = upd(t, m, <-done)
	if got := f.Calls(); len(got) != 1 || got[0] != want {
		t.Fatalf("exports %q, want [%q]", got, want)
	}
	line := noticeLine(m)
	if !strings.Contains(line, "✓ wrote 47 assets (212 KB) to ./plant-a-20250304-1005.otsb") {
		t.Fatalf("tab bar %q lacks the result", line)
	}
	if m.tr.job != nil {
		t.Fatal("the job is still marked running")
	}
}

func TestExportFormatsPathsAndErrors(t *testing.T) {
	home, err := os.UserHomeDir()
	if err != nil {
		t.Skip("no home directory:", err)
	}
	dir := t.TempDir()
	existing := filepath.Join(dir, "old.html")
	if err := os.WriteFile(existing, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ format, path, want string }{
		{"html", "", "html ./plant-a-20250304-1005.html"},
		{"h", "", "html ./plant-a-20250304-1005.html"},
		{"CSV", "~/inv.csv", "csv " + filepath.Join(home, "inv.csv")},
		{"cy", dir + "/bom.json", "cyclonedx " + dir + "/bom.json"},
		{"cyclonedx-1.7", "", "cyclonedx-1.7 ./plant-a-20250304-1005.cdx.json"},
		{"j", "", "json ./plant-a-20250304-1005.json"},
		{"", dir + "/inv.CSV", "csv " + dir + "/inv.CSV"},
		{"", dir + "/bom.cdx.json", "cyclonedx " + dir + "/bom.cdx.json"},
		{"", dir + "/north", "bundle " + dir + "/north"},
		{"bundle", dir + "/north.html", "bundle " + dir + "/north.html"},
	} {
		f := &fakeExporter{sum: ExportSummary{Assets: 3, Bytes: 800}}
		m, run, _ := startExport(t, exportModel(t, f), tc.format, tc.path)
		m, _ = upd(t, m, run())
		if got := f.Calls(); len(got) != 1 || got[0] != tc.want {
			t.Errorf("format %q path %q: exports %q, want %q", tc.format, tc.path, got, tc.want)
		}
		if line := noticeLine(m); !strings.Contains(line, "(800 B)") {
			t.Errorf("tab bar %q lacks the size", line)
		}
	}

	// an unknown format keeps the form open with the error
	f := &fakeExporter{}
	m := exportModel(t, f)
	m, _ = pressCmd(t, m, "e")
	m = press(t, m, "xlsx")
	m, cmd := pressCmd(t, m, "enter", "enter")
	if cmd != nil || !m.tr.form.Active() {
		t.Fatal("an unknown format submitted or closed the form")
	}
	if v := view(m); !strings.Contains(v, `unknown format "xlsx" (the formats are listed above)`) {
		t.Fatalf("no format error:\n%s", v)
	}

	// an existing file asks for a second enter
	m, _ = pressCmd(t, m, "esc", "e")
	m = press(t, m, "html")
	m, _ = pressCmd(t, m, "enter")
	m = press(t, m, existing)
	m, cmd = pressCmd(t, m, "enter")
	if cmd != nil || !strings.Contains(view(m), "the file exists: enter again replaces it") {
		t.Fatalf("an existing file was not confirmed:\n%s", view(m))
	}
	m, cmd = pressCmd(t, m, "enter")
	if cmd == nil {
		t.Fatal("a second enter did not replace the file")
	}
	if start, ok := cmd().(exportStartMsg); !ok || start.path != existing || start.format != "html" {
		t.Fatalf("second enter sent %#v", cmd())
	}

	// a failing export is an error notice
	f = &fakeExporter{err: errors.New("no space left on device")}
	m, run, _ := startExport(t, exportModel(t, f), "csv", dir+"/x.csv")
	m, _ = upd(t, m, run())
	if line := noticeLine(m); !strings.Contains(line, "✗ export: no space left on device") {
		t.Fatalf("tab bar %q lacks the error", line)
	}

	// without an exporter, e says why
	m = exportModel(t, nil)
	m, _ = pressCmd(t, m, "e")
	if m.tr.form.Active() || !strings.Contains(view(m), "nothing to export") {
		t.Fatalf("e without an exporter:\n%s", view(m))
	}
}

// TestExportKeyOnEveryPane: no pane binds e, so it opens the form on all
// of them; while a pane's filter takes text, e types.
func TestExportKeyOnEveryPane(t *testing.T) {
	m := exportModel(t, &fakeExporter{})
	for i := range m.panes {
		m.setFocus(Focus(i))
		m, _ = pressCmd(t, m, "e")
		if !m.tr.form.Active() {
			t.Fatalf("e on pane %s opened no form", Focus(i))
		}
		m, _ = pressCmd(t, m, "esc")
	}
	m.setFocus(FocusAssets)
	m, _ = pressCmd(t, m, "/", "e")
	if m.tr.form.Active() {
		t.Fatal("e opened the export form while the filter takes text")
	}
}

// fakeDiffer compares two small sessions built from the fixture with the
// real diff.
type fakeDiffer struct {
	names []string
	from  bundle.Session
	to    bundle.Session
	opts  diff.Options
}

// sessions lists the names as the picker's listing does, the first the
// most recently updated; the list is given shuffled.
func (d *fakeDiffer) sessions() ([]SessionEntry, error) {
	var out []SessionEntry
	for i, n := range d.names {
		out = append(out, SessionEntry{Name: n, Updated: fixtureNow.Add(-time.Duration(i) * time.Hour)})
	}
	slices.Reverse(out)
	return out, nil
}

func (d *fakeDiffer) Diff(_ context.Context, from string) (diff.Result, error) {
	if from != d.from.Name {
		return diff.Result{}, errors.New("session " + from + " not found")
	}
	return diff.Sessions(&d.from, &d.to, d.opts), nil
}

// twoVisits is the fixture plant (now) and the same plant at an earlier
// visit: the PLC had older firmware and no SNMP, the camera was not there,
// an old HMI was, the EWS did not yet talk to the switch, and the PLC's
// verdict and violations changed.
func twoVisits() *fakeDiffer {
	now := bundle.Session{Name: "plant-a", Assets: fixtureAssets(), Conversations: fixtureConversations()}
	var before bundle.Session
	before.Name = "plant-a-june"
	for _, a := range fixtureAssets() {
		switch a.ID {
		case idCamera:
			continue
		case idPLC:
			a.Firmware = "V3.2.6"
			a.Services = a.Services[:1]
		}
		before.Assets = append(before.Assets, a)
	}
	old := model.Asset{ID: model.MACAssetID(mac("00:1b:1b:6a:10:21")), MACs: []model.MAC{mac("00:1b:1b:6a:10:21")},
		IPs: []netip.Addr{ip("10.20.1.21")}, Vendor: "Siemens AG", Names: []string{"HMI-OLD"}, Product: "TP700 Comfort"}
	before.Assets = append(before.Assets, old)
	for _, c := range fixtureConversations() {
		if c.Server != idSwitch && c.Server != idCamera {
			before.Conversations = append(before.Conversations, c)
		}
	}
	before.Normalize()
	now.Normalize()
	return &fakeDiffer{
		names: []string{"plant-a-june", "plant-a", "lab-bench", "plant-b"},
		from:  before, to: now,
		opts: diff.Options{
			Before: map[model.AssetID]diff.Status{idPLC: {Phase: "active", Verdict: "pass"}},
			After:  map[model.AssetID]diff.Status{idPLC: {Phase: "active", Verdict: "fail", Violations: []string{"cleartext-snmp"}}},
		},
	}
}

func diffModel(t *testing.T, d *fakeDiffer) Model {
	cfg := testConfig(make(chan model.Update))
	if d != nil {
		cfg.Differ, cfg.Sessions = d, d.sessions
	}
	m := New(cfg)
	return send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, UpdatesMsg{Updates: []model.Update{fixtureSnapshot()}})
}

// openDiffView presses d, takes the session list, types name (empty: the
// proposed one), confirms and runs the comparison.
func openDiffView(t *testing.T, m Model, name string) Model {
	t.Helper()
	m, cmd := pressCmd(t, m, "d")
	if cmd == nil {
		t.Fatal("d asked for no sessions")
	}
	m, _ = upd(t, m, cmd())
	if !m.tr.form.Active() {
		t.Fatalf("no session form:\n%s", view(m))
	}
	if name != "" {
		m, _ = upd(t, m, tea.KeyMsg{Type: tea.KeyCtrlU})
		m = press(t, m, name)
	}
	m, cmd = pressCmd(t, m, "enter")
	if cmd == nil {
		t.Fatalf("the session form did not submit:\n%s", view(m))
	}
	m, cmd = upd(t, m, cmd())
	if cmd == nil {
		t.Fatal("no comparison started")
	}
	if !strings.Contains(view(m), "comparing ") {
		t.Fatalf("no notice while comparing:\n%s", view(m))
	}
	m, _ = upd(t, m, cmd())
	return m
}

func TestDiffView(t *testing.T) {
	d := twoVisits()
	m := diffModel(t, d)
	m, cmd := pressCmd(t, m, "d")
	m, _ = upd(t, m, cmd())
	t.Run("form", func(t *testing.T) { golden.RequireEqual(t, []byte(view(m))) })
	m, _ = pressCmd(t, m, "esc")

	m = openDiffView(t, m, "")
	if !m.tr.showing {
		t.Fatalf("no diff view:\n%s", view(m))
	}
	r := m.tr.view.Result()
	if r.From != "plant-a-june" || r.To != "plant-a" {
		t.Fatalf("compared %s -> %s", r.From, r.To)
	}
	v := view(m)
	t.Run("view", func(t *testing.T) { golden.RequireEqual(t, []byte(v)) })
	wantLines(t, "diff view", v,
		"what changed: plant-a-june → plant-a",
		"new · 1 vanished ·",
		"NEW ASSETS (1)",
		"VANISHED ASSETS (1)",
		"HMI-OLD",
	)
	if n := r.Counts[diff.New]; n < 2 {
		t.Fatalf("%d new changes, want the camera and more", n)
	}
	if !strings.Contains(strings.SplitN(v, "\n", 2)[0], "diff · all · esc closes") {
		t.Fatalf("tab bar does not say the view shows all:\n%s", v)
	}
	// on a shorter terminal, scroll to the end: the review changes
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 16})
	if !strings.Contains(strings.SplitN(view(m), "\n", 2)[0], "diff · top ↓ · esc closes") {
		t.Fatalf("tab bar does not say there is more:\n%s", view(m))
	}
	m, _ = pressCmd(t, m, "G")
	v = view(m)
	wantLines(t, "diff view end", v, "LIFECYCLE, VERDICTS AND VIOLATIONS", "verdict pass → fail",
		"new violation cleartext-snmp")
	if !strings.Contains(strings.SplitN(v, "\n", 2)[0], "diff · end · esc closes") {
		t.Fatalf("tab bar does not say where the view is:\n%s", v)
	}
	// every change is listed once
	all := m.tr.view.Lines()
	listed := 0
	for _, l := range all {
		if rest, ok := strings.CutPrefix(l, "▸"); ok {
			l = " " + rest
		}
		if strings.HasPrefix(l, " + ") || strings.HasPrefix(l, " - ") || strings.HasPrefix(l, " ~ ") {
			listed++
		}
	}
	if listed != len(r.Changes) {
		t.Fatalf("%d change lines for %d changes", listed, len(r.Changes))
	}
	// the wheel moves the cursor, a click does not reach the panes below
	last, _ := m.tr.view.Selected()
	m, _ = upd(t, m, tea.MouseMsg{Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if c, _ := m.tr.view.Selected(); c == last {
		t.Fatal("the wheel did not move the diff view's cursor")
	}
	m, _ = upd(t, m, tea.MouseMsg{Button: tea.MouseButtonLeft, Action: tea.MouseActionPress, X: 20, Y: 0})
	if m.Focused() != FocusAssets || !m.tr.showing {
		t.Fatal("a click went through the diff view")
	}
	// enter on a vanished asset says so; on the new camera it opens its detail
	m, _ = pressCmd(t, m, "g", "down")
	if c, _ := m.tr.view.Selected(); c.Label != "HMI-OLD" {
		t.Fatalf("second change is %q, want the vanished HMI-OLD", c.Label)
	}
	m, cmd = pressCmd(t, m, "enter")
	if cmd != nil || !m.tr.showing || !strings.Contains(noticeLine(m), "HMI-OLD is not in plant-a (it vanished)") {
		t.Fatalf("enter on a vanished asset:\n%s", view(m))
	}
	m = press(t, m, "up", "enter")
	if m.tr.showing || m.Focused() != FocusDetail || m.detail.Shown() != idCamera {
		t.Fatalf("enter on the new camera: focus %v showing %q", m.Focused(), m.detail.Shown())
	}
	m = press(t, m, "esc")
	m = openDiffView(t, m, "")
	if m.Focused() != FocusAssets {
		t.Fatalf("back from the detail went to %v", m.Focused())
	}

	// q closes the view, not the program
	m, cmd = pressCmd(t, m, "q")
	if cmd != nil || m.tr.showing {
		t.Fatal("q did not close the diff view")
	}
	if !strings.Contains(view(m), "ADDRESS") {
		t.Fatalf("the asset pane is not back:\n%s", view(m))
	}
}

func TestDiffSessionChoice(t *testing.T) {
	d := twoVisits()
	d.from.Name = "plant-b"
	m := openDiffView(t, diffModel(t, d), "plant-b")
	if !m.tr.showing || m.tr.view.Result().From != "plant-b" {
		t.Fatal("typing a name did not compare with it")
	}

	// an unknown name or an ambiguous start keeps the form open
	m = diffModel(t, twoVisits())
	m, cmd := pressCmd(t, m, "d")
	m, _ = upd(t, m, cmd())
	for _, tc := range []struct{ typed, want string }{
		{"nope", `no other session is called "nope"`},
		{"pl", `"pl" starts 2 sessions: type more of the name`},
	} {
		m, _ = upd(t, m, tea.KeyMsg{Type: tea.KeyCtrlU})
		m = press(t, m, tc.typed)
		m, cmd = pressCmd(t, m, "enter")
		if cmd != nil || !strings.Contains(view(m), tc.want) {
			t.Fatalf("%q: want %q:\n%s", tc.typed, tc.want, view(m))
		}
	}

	// "plant-a" starts only plant-a-june: the open session is not offered
	m, _ = upd(t, m, tea.KeyMsg{Type: tea.KeyCtrlU})
	m = press(t, m, "plant-a")
	if m, cmd = pressCmd(t, m, "enter"); cmd == nil {
		t.Fatalf("a unique start did not submit:\n%s", view(m))
	}
	if msg := cmd().(diffStartMsg); msg.from != "plant-a-june" {
		t.Fatalf("plant-a chose %q", msg.from)
	}

	// no other session, no differ, a failing diff: one-line notices
	m = diffModel(t, &fakeDiffer{names: []string{"plant-a"}})
	m, cmd = pressCmd(t, m, "d")
	m, _ = upd(t, m, cmd())
	if m.tr.form.Active() || !strings.Contains(view(m), "no other session to compare with") {
		t.Fatalf("no other session:\n%s", view(m))
	}
	m = diffModel(t, nil)
	m, _ = pressCmd(t, m, "d")
	if !strings.Contains(view(m), "nothing to compare") {
		t.Fatalf("no differ:\n%s", view(m))
	}
	m = diffModel(t, twoVisits())
	m, _ = upd(t, m, diffStartMsg{from: "gone"})
	m, cmd = upd(t, m, diffStartMsg{from: "gone"})
	if cmd != nil {
		t.Fatal("a second comparison started while one runs")
	}
	m, _ = upd(t, m, diffDoneMsg{from: "gone", err: errors.New("session gone not found")})
	if line := noticeLine(m); !strings.Contains(line, "✗ diff with gone: session gone") || m.tr.showing {
		t.Fatalf("a failed diff: %q", line)
	}
}

// TestDiffViewNoChanges: two equal sessions say so.
func TestDiffViewNoChanges(t *testing.T) {
	s := bundle.Session{Name: "x", Assets: fixtureAssets()}
	m := diffModel(t, nil)
	m, _ = upd(t, m, diffDoneMsg{from: "x", res: diff.Sessions(&s, &s, diff.Options{})})
	if v := view(m); !strings.Contains(v, "no changes: the 11 assets of both sessions are the same") {
		t.Fatalf("no-change view:\n%s", v)
	}
}

// TestTravelEndToEnd runs the real program at 80x24: e exports through the
// runtime's commands (progress, then the result), d compares with the
// proposed session and esc closes the view.
func TestTravelEndToEnd(t *testing.T) {
	ch := make(chan model.Update, 1)
	cfg := testConfig(ch)
	f := &fakeExporter{release: make(chan struct{}), sum: ExportSummary{Assets: 11, Bytes: 4096}}
	d := twoVisits()
	cfg.Exporter, cfg.Differ, cfg.Sessions = f, d, d.sessions
	tm := teatest.NewTestModel(t, New(cfg), teatest.WithInitialTermSize(80, 24))
	waitFor := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			return bytes.Contains([]byte(ansi.Strip(string(b))), []byte(what))
		}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	ch <- fixtureSnapshot()
	waitFor("11 assets")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("e")})
	waitFor("Export session plant-a")
	tm.Type("csv")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor("exporting csv to ./plant-a-20250304-1005.csv: 50%")
	close(f.release)
	waitFor("✓ wrote 11 assets (4 KB) to ./plant-a-20250304-1005.csv")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("d")})
	waitFor("since session")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor("what changed: plant-a-june → plant-a")
	tm.Send(tea.KeyMsg{Type: tea.KeyEsc})
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := tm.FinalModel(t).(Model)
	if final.tr.showing || final.tr.job != nil {
		t.Fatal("the diff view or the export outlived esc and the export's end")
	}
	if got := f.Calls(); len(got) != 1 || got[0] != "csv ./plant-a-20250304-1005.csv" {
		t.Fatalf("exports %q", got)
	}
	_, _ = io.Copy(io.Discard, tm.FinalOutput(t))
}
