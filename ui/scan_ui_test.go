package ui

import (
	"errors"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"otscope/model"
	"otscope/scan/job"
	"otscope/ui/internal/keymsg"
	"otscope/ui/pane"
	"otscope/ui/pane/scanpane"
)

// fakeScan is a scanner control that records what the pane asked.
type fakeScan struct {
	mu       sync.Mutex
	disabled string
	asked    []scanpane.Request
	started  int
	stopped  int
	paused   bool
	st       scanpane.Status
}

func (f *fakeScan) Disabled() string { return f.disabled }

func (f *fakeScan) Plan(r scanpane.Request) (*job.Plan, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, r)
	if strings.Contains(r.Targets, "8.8.8.8") {
		return nil, errors.New("8.8.8.8 is a public address: pass --allow-public")
	}
	return &job.Plan{Targets: 1, Probes: 1, Packets: 38, Duration: 10 * time.Second, Rate: 50, PerHost: 5,
		Rows: []job.Row{{Target: netip.MustParseAddr("10.10.10.12"), Asset: "Siemens CPU 315-2 PN/DP", Probe: "s7",
			Port: 102, Requests: 9, Packets: 38, Why: "tcp/102 known open; firmware unknown"}}}, nil
}

func (f *fakeScan) Start() error {
	f.started++
	f.st = scanpane.Status{Running: true, Rate: 50, PerHost: 5, PPS: 4, MaxHostPPS: 4, Conns: 1, TargetsTotal: 1,
		Requests: 2, Answers: 2, Recent: []string{"03:32:01 10.10.10.12     tcp.connect                0B  3p  open",
			"03:32:01 10.10.10.12     s7.cotp_connect           22B  2p  CC"}}
	return nil
}
func (f *fakeScan) Pause()  { f.paused = true; f.st.Paused = true }
func (f *fakeScan) Resume() { f.paused = false; f.st.Paused = false }
func (f *fakeScan) Stop() {
	f.stopped++
	f.st.Running, f.st.Stopped = false, true
}
func (f *fakeScan) Status() scanpane.Status { return f.st }

// run follows a key's command the way the runtime would: the plan is built
// by a command off the UI goroutine, its message comes back to Update.
func run(t *testing.T, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		km := keymsg.For(k)
		if k == "ctrl+u" {
			km = tea.KeyMsg{Type: tea.KeyCtrlU}
		} else if len([]rune(k)) > 1 && km.Type == tea.KeyRunes {
			m = run(t, m, strings.Split(k, "")...)
			continue
		}
		nm, cmd := m.Update(km)
		m = follow(t, nm.(Model), cmd)
	}
	return m
}

func follow(t *testing.T, m Model, cmd tea.Cmd) Model {
	if cmd == nil {
		return m
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range msg {
			m = follow(t, m, c)
		}
	case scanpane.PlanMsg:
		nm, _ := m.Update(msg)
		m = nm.(Model)
	}
	return m
}

func scanModel(t *testing.T, f *fakeScan) Model {
	cfg := testConfig(make(chan model.Update))
	cfg.Scan = f
	return send(t, New(cfg), tea.WindowSizeMsg{Width: 80, Height: 24})
}

func TestScanPaneFlow(t *testing.T) {
	f := &fakeScan{}
	m := scanModel(t, f)
	m = run(t, m, "7")
	if m.Focused() != FocusScan {
		t.Fatalf("7 focused %v", m.Focused())
	}
	// y before a plan sends nothing
	m = run(t, m, "y")
	if f.started != 0 {
		t.Fatal("y without a plan started a scan")
	}
	// n opens the scope form; it takes every key (q types, does not quit)
	m = run(t, m, "n", "ctrl+u")
	m = run(t, m, "10.10.10.12", "enter", "enter", "enter", "ctrl+u", "5/9", "enter")
	if len(f.asked) != 0 || !strings.Contains(view(m), "per device at most the global cap") {
		t.Fatalf("caps 5/9 accepted: %+v\n%s", f.asked, view(m))
	}
	m = run(t, m, "ctrl+u", "20/2", "enter")
	if len(f.asked) != 1 || f.asked[0].Targets != "10.10.10.12" || !f.asked[0].FillGaps || f.asked[0].Probes != "all" ||
		f.asked[0].Rate != 20 || f.asked[0].PerHost != 2 {
		t.Fatalf("plan asked %+v", f.asked)
	}
	v := view(m)
	if !strings.Contains(v, "at most 38 packets to 1 target. Nothing sent yet.") || !strings.Contains(v, "s7") {
		t.Fatalf("plan not shown:\n%s", v)
	}
	golden.RequireEqual(t, []byte(v))
	if f.started != 0 {
		t.Fatal("showing the plan sent it")
	}
	m = run(t, m, "y")
	if f.started != 1 {
		t.Fatal("y did not start the confirmed plan")
	}
	m = send(t, m, pane.TickMsg{Time: fixtureNow})
	v = view(m)
	if !strings.Contains(v, "x STOP all packets now") || !strings.Contains(v, "global 4/50 pps") {
		t.Fatalf("running view:\n%s", v)
	}
	m = run(t, m, "p")
	if !f.paused {
		t.Fatal("p did not pause")
	}
	m = run(t, m, "p", "x")
	if f.paused || f.stopped != 1 {
		t.Fatalf("resume/stop: paused=%v stopped=%d", f.paused, f.stopped)
	}
	if v := view(m); !strings.Contains(v, "stopped") || !strings.Contains(v, "nothing more was sent") {
		t.Fatalf("stopped view:\n%s", v)
	}
	// a refused scope shows the reason and no plan
	m = run(t, m, "n", "ctrl+u", "8.8.8.8", "enter", "enter", "enter", "enter")
	if v := view(m); !strings.Contains(v, "--allow-public") || strings.Contains(v, "Nothing sent yet") {
		t.Fatalf("refused scope:\n%s", v)
	}
}

func TestScanPaneDisabledInDemo(t *testing.T) {
	f := &fakeScan{disabled: "Scanning is off in the demo: its devices are simulated, and their addresses may belong to real devices on your network."}
	m := run(t, scanModel(t, f), "7", "n", "y", "x")
	if len(f.asked) != 0 || f.started != 0 || f.stopped != 0 {
		t.Fatalf("disabled scanner was driven: %+v", f)
	}
	v := view(m)
	if !strings.Contains(v, "may belong to real") {
		t.Fatalf("the reason is not shown whole:\n%s", v)
	}
	golden.RequireEqual(t, []byte(v))
}
