package ui

import (
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/muesli/termenv"

	"otscope/model"
	"otscope/ui/pane"
)

func TestMain(m *testing.M) {
	lipgloss.SetColorProfile(termenv.Ascii)
	lipgloss.SetHasDarkBackground(true)
	os.Exit(m.Run())
}

// step sends msg and, like the Bubble Tea runtime, feeds back the messages
// of synchronous commands the UI sends itself (open asset, back). Commands
// that wait on the update channel or the clock are not run.
func step(t testing.TB, m Model, msg tea.Msg) (Model, tea.Cmd) {
	t.Helper()
	nm, cmd := m.Update(msg)
	m = nm.(Model)
	if _, isKey := msg.(tea.KeyMsg); isKey && cmd != nil {
		switch follow := cmd().(type) {
		case pane.OpenAssetMsg, pane.BackMsg:
			return step(t, m, follow)
		case tea.QuitMsg:
			return m, cmd
		}
	}
	return m, cmd
}

func send(t testing.TB, m Model, msgs ...tea.Msg) Model {
	t.Helper()
	for _, msg := range msgs {
		m, _ = step(t, m, msg)
	}
	return m
}

func keyMsg(s string) tea.KeyMsg {
	switch s {
	case "enter":
		return tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		return tea.KeyMsg{Type: tea.KeyEsc}
	case "tab":
		return tea.KeyMsg{Type: tea.KeyTab}
	case "shift+tab":
		return tea.KeyMsg{Type: tea.KeyShiftTab}
	case "down":
		return tea.KeyMsg{Type: tea.KeyDown}
	case "up":
		return tea.KeyMsg{Type: tea.KeyUp}
	case "pgdown":
		return tea.KeyMsg{Type: tea.KeyPgDown}
	case "pgup":
		return tea.KeyMsg{Type: tea.KeyPgUp}
	case "backspace":
		return tea.KeyMsg{Type: tea.KeyBackspace}
	case "ctrl+c":
		return tea.KeyMsg{Type: tea.KeyCtrlC}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}

// press sends each key in turn; a key of several letters is typed rune by rune.
func press(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		if len([]rune(k)) > 1 && keyMsg(k).Type == tea.KeyRunes {
			for _, r := range k {
				m = send(t, m, keyMsg(string(r)))
			}
			continue
		}
		m = send(t, m, keyMsg(k))
	}
	return m
}

func testConfig(ch <-chan model.Update) Config {
	return Config{
		Session: "plant-a", Updates: ch, Sources: []string{"plant.pcap", "iface:eth0"}, Version: "v0.1.0",
		Now: func() time.Time { return fixtureNow },
	}
}

// fixtureModel is the UI at w x h with the fixture loaded and a 40 s rate
// history sampled once a second.
func fixtureModel(t testing.TB, w, h int) Model {
	t.Helper()
	m := New(testConfig(make(chan model.Update)))
	m = send(t, m, tea.WindowSizeMsg{Width: w, Height: h}, UpdatesMsg{Updates: []model.Update{fixtureSnapshot()}})
	for i := 1; i <= 40; i++ {
		m = send(t, m, UpdatesMsg{Updates: []model.Update{{Stats: fixtureStats(i)}}},
			pane.TickMsg{Time: fixtureNow.Add(time.Duration(i-40) * time.Second)})
	}
	return m
}

func view(m Model) string { return ansi.Strip(m.View()) }

func TestGolden(t *testing.T) {
	sizes := []struct{ w, h int }{{80, 24}, {120, 40}}
	cases := map[string]func(t *testing.T, m Model) Model{
		"assets": func(t *testing.T, m Model) Model { return m },
		"assets_filtered": func(t *testing.T, m Model) Model {
			return press(t, m, "/", "siemens", "enter")
		},
		"detail_plc": func(t *testing.T, m Model) Model {
			m.assets.Select(idPLC)
			return press(t, m, "enter")
		},
		"detail_switch": func(t *testing.T, m Model) Model {
			m.assets.Select(idSwitch)
			return press(t, m, "enter")
		},
		"matrix":  func(t *testing.T, m Model) Model { return press(t, m, "3") },
		"capture": func(t *testing.T, m Model) Model { return press(t, m, "4") },
		"help":    func(t *testing.T, m Model) Model { return press(t, m, "?") },
	}
	for _, sz := range sizes {
		for name, setup := range cases {
			t.Run(name+"_"+itoa(sz.w)+"x"+itoa(sz.h), func(t *testing.T) {
				m := setup(t, fixtureModel(t, sz.w, sz.h))
				golden.RequireEqual(t, []byte(view(m)))
			})
		}
	}
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestFilterNarrowsAndEscRestores(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	all := len(m.assets.Rows())
	if all != len(fixtureAssets()) {
		t.Fatalf("rows = %d, want %d", all, len(fixtureAssets()))
	}
	m = press(t, m, "/", "siemens")
	if got := len(m.assets.Rows()); got != 3 {
		t.Fatalf("filter siemens: %d rows, want 3 (two PLCs and the HMI)", got)
	}
	if !strings.Contains(view(m), "3 of 11 assets") {
		t.Errorf("view lacks \"3 of 11 assets\":\n%s", view(m))
	}
	// q types while filtering: no quit.
	m, cmd := step(t, m, keyMsg("q"))
	if cmd != nil {
		if _, quit := cmd().(tea.QuitMsg); quit {
			t.Fatal("q quit while typing a filter")
		}
	}
	if got := len(m.assets.Rows()); got != 0 {
		t.Fatalf("filter \"siemensq\": %d rows, want 0", got)
	}
	m = press(t, m, "backspace", " plc", "enter")
	if got := m.assets.Rows(); len(got) != 2 || got[0] != idPLC2 || got[1] != idPLC {
		t.Fatalf("filter \"siemens plc\" = %v, want [%s %s]", got, idPLC2, idPLC)
	}
	if m.panes[m.focus].Capturing() {
		t.Fatal("enter did not close the filter input")
	}
	m = press(t, m, "esc")
	if got := len(m.assets.Rows()); got != all {
		t.Fatalf("after esc: %d rows, want %d", got, all)
	}
	if strings.Contains(view(m), " of 11 assets") {
		t.Error("view still shows a filtered count after esc")
	}
}

func TestSortOrder(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	want := []model.AssetID{idHist, idGateway, idSwitch, idPLC2, idPLC, idHMI, idEWS, idCamera, idCLX, idMeter, idIO}
	if got := m.assets.Rows(); !slices.Equal(got, want) {
		t.Fatalf("IP order:\n got %v\nwant %v", got, want)
	}
	if !strings.Contains(view(m), "ADDRESS↑") {
		t.Error("header does not show the IP sort")
	}
	m = press(t, m, "S")
	if got := m.assets.Rows(); got[0] != idIO || got[len(got)-1] != idHist {
		t.Fatalf("reversed IP order: %v", got)
	}
	m = press(t, m, "s", "s", "s") // mac, vendor, name
	if !strings.Contains(view(m), "NAME↑") || !strings.Contains(view(m), "sort name ↑") {
		t.Errorf("header or summary does not show the name sort:\n%s", view(m))
	}
	if got := m.assets.Rows(); got[0] != idCamera || got[1] != idCLX {
		t.Fatalf("name order starts %v, want CAM-DOCK, CLX-PRESS", got[:2])
	}
	m = press(t, m, "s", "s") // last seen, packets
	if got := m.assets.Rows(); got[0] != idIO {
		t.Fatalf("packets order starts with %s, want the IO station (most packets)", got[0])
	}
}

func TestCursorKeepsAssetAcrossUpdate(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	m = press(t, m, "down", "down", "down", "down")
	if id, _ := m.assets.Selected(); id != idPLC {
		t.Fatalf("after 4× down selected %s, want %s", id, idPLC)
	}
	newcomer := model.Asset{ID: "ip:10.0.0.1", IPs: []netip.Addr{ip("10.0.0.1")}, LastSeen: fixtureNow}
	plc := fixtureAssets()[0]
	plc.Packets += 1000
	m = send(t, m, UpdatesMsg{Updates: []model.Update{{Assets: []model.Asset{newcomer, plc}}}})
	if id, _ := m.assets.Selected(); id != idPLC {
		t.Fatalf("after update selected %s, want %s", id, idPLC)
	}
	if got := m.assets.Rows()[0]; got != newcomer.ID {
		t.Fatalf("first row %s, want the new 10.0.0.1", got)
	}
	m = send(t, m, UpdatesMsg{Updates: []model.Update{{Removed: []model.AssetID{idHist}}}})
	if id, _ := m.assets.Selected(); id != idPLC {
		t.Fatalf("after removal selected %s, want %s", id, idPLC)
	}
}

func TestEnterOpensDetailOfSelected(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	m.assets.Select(idCamera)
	m = press(t, m, "enter")
	if m.Focused() != FocusDetail || m.detail.Shown() != idCamera {
		t.Fatalf("focus %v showing %q, want detail of %s", m.Focused(), m.detail.Shown(), idCamera)
	}
	v := view(m)
	for _, want := range []string{"CAM-DOCK", "00:40:8c:d1:e2:f3", "Axis Communications", "tcp/554", "ENG-WS01"} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
	m = press(t, m, "esc")
	if m.Focused() != FocusAssets {
		t.Fatalf("esc went to %v, want assets", m.Focused())
	}
}

func TestDetailShowsProvenanceAndConflict(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	m.assets.Select(idPLC)
	m = press(t, m, "enter")
	v := view(m)
	for _, want := range []string{
		"⚠ 2 values",
		// the value column is as wide as the widest value that fits
		// ("plc-line1-old"), so provenances line up
		"PLC-LINE1      profinet-dcp · plant.pcap #1201 · 10:00:48 ×14",
		"plc-line1-old  dhcp · iface:eth0 #88 · 10:02:03",
		"vendor           Siemens AG     derived oui · plant.pcap #1 · 10:00:02",
	} {
		if !strings.Contains(v, want) {
			t.Errorf("detail lacks %q:\n%s", want, v)
		}
	}
}

func TestMatrixEnterJumpsToServer(t *testing.T) {
	m := press(t, fixtureModel(t, 80, 24), "3")
	c, ok := m.matrix.Selected()
	if !ok || c.Client != idEWS || c.Server != idCamera {
		t.Fatalf("top row by bytes = %+v, want ENG-WS01 → CAM-DOCK", c)
	}
	m = press(t, m, "enter")
	if m.Focused() != FocusDetail || m.detail.Shown() != idCamera {
		t.Fatalf("enter: focus %v showing %q, want detail of camera", m.Focused(), m.detail.Shown())
	}
	m = press(t, m, "esc")
	if m.Focused() != FocusMatrix {
		t.Fatalf("esc: focus %v, want matrix", m.Focused())
	}
	m = press(t, m, "c")
	if m.detail.Shown() != idEWS {
		t.Fatalf("c: showing %q, want the client %s", m.detail.Shown(), idEWS)
	}
	m = press(t, m, "3", "/", "modbus", "enter")
	if got := len(m.matrix.Rows()); got != 1 {
		t.Fatalf("matrix filter modbus: %d rows, want 1", got)
	}
}

func TestResizeKeepsWithinWidth(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{80, 24}, {100, 30}, {40, 10}, {60, 15}, {120, 40}, {200, 60}, {39, 9}, {20, 5}} {
		for _, keys := range [][]string{{"1"}, {"2"}, {"3"}, {"4"}, {"?"}, {"1", "/", "plc"}, {"3", "/", "s7comm"}} {
			// Panes are pointers shared by copies of the root: build afresh.
			m := send(t, fixtureModel(t, 80, 24), tea.WindowSizeMsg{Width: sz.w, Height: sz.h})
			mm := press(t, m, keys...)
			out := mm.View()
			lines := strings.Split(out, "\n")
			if len(lines) > sz.h {
				t.Errorf("%dx%d %v: %d lines", sz.w, sz.h, keys, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > sz.w {
					t.Errorf("%dx%d %v: line %d is %d wide: %q", sz.w, sz.h, keys, i, w, ansi.Strip(l))
				}
			}
		}
	}
}

func TestTinyTerminal(t *testing.T) {
	m := send(t, fixtureModel(t, 80, 24), tea.WindowSizeMsg{Width: 39, Height: 12})
	v := view(m)
	if strings.Contains(v, "\n") || !strings.HasPrefix(v, "terminal too small") {
		t.Fatalf("39x12 view = %q, want one \"terminal too small\" line", v)
	}
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
	if !strings.Contains(view(m), "PLC-LINE1") {
		t.Fatal("panes did not come back after growing the terminal")
	}
}

func TestHelpOverlayToggles(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	m = press(t, m, "?")
	if !m.HelpShown() {
		t.Fatal("? did not open help")
	}
	v := view(m)
	for _, want := range []string{"GLOBAL", "ASSETS", "next pane", "reverse sort", "G gateway"} {
		if !strings.Contains(v, want) {
			t.Errorf("help lacks %q:\n%s", want, v)
		}
	}
	m = press(t, m, "?")
	if m.HelpShown() {
		t.Fatal("? did not close help")
	}
	m = press(t, m, "3", "?")
	if !strings.Contains(view(m), "client") {
		t.Error("help on the matrix does not list the matrix keys")
	}
	m = press(t, m, "esc")
	if m.HelpShown() {
		t.Fatal("esc did not close help")
	}
}

func TestQuit(t *testing.T) {
	for _, k := range []string{"q", "ctrl+c"} {
		_, cmd := step(t, fixtureModel(t, 80, 24), keyMsg(k))
		if cmd == nil {
			t.Fatalf("%s: no command", k)
		}
		if _, ok := cmd().(tea.QuitMsg); !ok {
			t.Fatalf("%s did not quit", k)
		}
	}
}

func TestClosedChannelShowsState(t *testing.T) {
	for name, tc := range map[string]struct {
		stats []model.CaptureStats
		want  string
	}{
		"finished": {stats: []model.CaptureStats{{Source: "plant.pcap", Packets: 10, Done: true}}, want: "✓ capture finished"},
		"stopped":  {stats: []model.CaptureStats{{Source: "iface:eth0", Live: true, Packets: 10}}, want: "■ stopped"},
		"error":    {stats: []model.CaptureStats{{Source: "iface:eth0", Live: true, Done: true, Err: "permission denied"}}, want: "✗ error"},
	} {
		t.Run(name, func(t *testing.T) {
			ch := make(chan model.Update, 2)
			m := New(testConfig(ch))
			m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24})
			ch <- model.Update{Reset: true, Assets: fixtureAssets(), Stats: tc.stats}
			close(ch)
			msg := m.Init()
			_ = msg
			batch := WaitForUpdates(ch)().(UpdatesMsg)
			if !batch.Closed || len(batch.Updates) != 1 {
				t.Fatalf("drain = %d updates, closed %v; want 1, true", len(batch.Updates), batch.Closed)
			}
			nm, cmd := m.Update(batch)
			m = nm.(Model)
			if cmd != nil {
				t.Fatal("wait re-armed on a closed channel")
			}
			if v := view(m); !strings.Contains(v, tc.want) {
				t.Fatalf("status lacks %q:\n%s", tc.want, v)
			}
			m = press(t, m, "4")
			if name == "error" && !strings.Contains(view(m), "permission denied") {
				t.Errorf("capture pane lacks the error text:\n%s", view(m))
			}
			m = press(t, m, "1", "down")
			if !strings.Contains(view(m), "▸") {
				t.Error("table not usable after the feed closed")
			}
		})
	}
}

func TestWaitForUpdatesDrainsQueue(t *testing.T) {
	ch := make(chan model.Update, 10)
	for i := range 5 {
		ch <- model.Update{Stats: fixtureStats(i)}
	}
	msg := WaitForUpdates(ch)().(UpdatesMsg)
	if len(msg.Updates) != 5 || msg.Closed {
		t.Fatalf("got %d updates closed=%v, want 5 open", len(msg.Updates), msg.Closed)
	}
	done := make(chan UpdatesMsg)
	go func() { done <- WaitForUpdates(ch)().(UpdatesMsg) }()
	select {
	case <-done:
		t.Fatal("wait returned with nothing queued")
	case <-time.After(20 * time.Millisecond):
	}
	ch <- model.Update{}
	if got := <-done; len(got.Updates) != 1 {
		t.Fatalf("got %d updates, want 1", len(got.Updates))
	}
}

func TestResetReplacesEverything(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	only := fixtureAssets()[:2]
	m = send(t, m, UpdatesMsg{Updates: []model.Update{{Reset: true, Assets: only}}})
	if got := len(m.assets.Rows()); got != 2 {
		t.Fatalf("after reset %d rows, want 2", got)
	}
	if got := len(m.matrix.Rows()); got != 0 {
		t.Fatalf("after reset %d conversations, want 0", got)
	}
}

// A finished capture from long ago: ages count back from its last packet
// and the status bar says so, instead of "730d" on every row.
func TestStaleSessionAgesFromLastPacket(t *testing.T) {
	later := fixtureNow.AddDate(2, 0, 0)
	cfg := testConfig(make(chan model.Update))
	cfg.Sources = []string{"plant.pcap"}
	cfg.Now = func() time.Time { return later }
	snap := fixtureSnapshot()
	snap.Stats = fixtureStats(0)[:1] // the finished file only
	m := send(t, New(cfg), tea.WindowSizeMsg{Width: 80, Height: 24}, UpdatesMsg{Updates: []model.Update{snap}, Closed: true})
	v := view(m)
	for _, want := range []string{"SEEN as of 2025-03-04 10:05", "PM5560-FEED power meter   5s", "✓ finished"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(v, "730d") {
		t.Errorf("ages measured from the wall clock:\n%s", v)
	}
	m.assets.Select(idMeter)
	if v := view(press(t, m, "enter")); !strings.Contains(v, "(5s before the last packet)") {
		t.Errorf("detail does not age from the last packet:\n%s", v)
	}
}

// An empty session that nothing feeds says how to fill it.
func TestEmptySessionShowsHint(t *testing.T) {
	cfg := testConfig(make(chan model.Update))
	cfg.Session, cfg.Sources = "empty", nil
	m := send(t, New(cfg), tea.WindowSizeMsg{Width: 80, Height: 24}, UpdatesMsg{Updates: []model.Update{{Reset: true}}})
	v := view(m)
	for _, want := range []string{"No data yet", "otscope read FILE --session empty", "otscope capture -i IFACE --session empty", "○ no source"} {
		if !strings.Contains(v, want) {
			t.Errorf("view lacks %q:\n%s", want, v)
		}
	}
}
