package ui

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"otscope/model"
	"otscope/ui/pane"
	"otscope/ui/pane/scanpane"
)

// Issue 14, items 13-16: what a first-time user tripped over in the TUI.

// The tab bar keeps its shape from pane to pane at one width: the panes not
// focused are named the same way whichever pane is focused (item 14).
func TestTabBarKeepsItsShape(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	for _, k := range []string{"1", "2", "3", "5", "6"} {
		m = press(t, m, k)
		bar := strings.Split(view(m), "\n")[0]
		for _, short := range []string{"1 A", "2 D", "3 M", "5 L", "6 V"} {
			if strings.HasPrefix(short, k) {
				continue // the focused pane shows its full name
			}
			if !strings.Contains(bar, short+" ") {
				t.Errorf("pane %s: tab bar %q lacks %q", k, bar, short)
			}
		}
	}
	wide := fixtureModel(t, 120, 40)
	for _, k := range []string{"1", "2", "5"} {
		wide = press(t, wide, k)
		if bar := strings.Split(view(wide), "\n")[0]; !strings.Contains(bar, "Matrix") && k != "3" {
			t.Errorf("120 columns, pane %s: tab bar %q does not name the panes", k, bar)
		}
	}
}

// A click on a tab focuses that pane; a click on a row selects it; the
// wheel moves the cursor (item 16).
func TestMouse(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	bar := strings.Split(view(m), "\n")[0]
	x := strings.Index(bar, "3 M")
	if x < 0 {
		t.Fatalf("no Matrix tab in %q", bar)
	}
	m = send(t, m, tea.MouseMsg{X: len([]rune(bar[:x])) + 1, Y: 0, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if m.Focused() != FocusMatrix {
		t.Fatalf("click on the Matrix tab focused %v", m.Focused())
	}
	m = press(t, m, "1")
	rows := m.assets.Rows()
	// line 0 is the tab bar, line 1 the column header, rows from line 2
	m = send(t, m, tea.MouseMsg{X: 10, Y: 2 + 3, Button: tea.MouseButtonLeft, Action: tea.MouseActionPress})
	if id, _ := m.assets.Selected(); id != rows[3] {
		t.Fatalf("click on the fourth row selected %s, want %s", id, rows[3])
	}
	m = send(t, m, tea.MouseMsg{X: 10, Y: 5, Button: tea.MouseButtonWheelDown, Action: tea.MouseActionPress})
	if id, _ := m.assets.Selected(); id != rows[4] {
		t.Fatalf("wheel down selected %s, want %s", id, rows[4])
	}
	m = send(t, m, tea.MouseMsg{X: 10, Y: 5, Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	m = send(t, m, tea.MouseMsg{X: 10, Y: 5, Button: tea.MouseButtonWheelUp, Action: tea.MouseActionPress})
	if id, _ := m.assets.Selected(); id != rows[2] {
		t.Fatalf("wheel up twice selected %s, want %s", id, rows[2])
	}
	// j/k/g/G move the cursor as the arrows do
	m = press(t, m, "G")
	if id, _ := m.assets.Selected(); id != rows[len(rows)-1] {
		t.Errorf("G selected %s", id)
	}
	m = press(t, m, "g", "j", "j", "k")
	if id, _ := m.assets.Selected(); id != rows[1] {
		t.Errorf("g j j k selected %s, want %s", id, rows[1])
	}
}

// x is STOP in the Scan pane and nothing else: Assets and Detail
// decommission with D (item 16).
func TestDecommissionIsNotX(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	if v := view(press(t, m, "x")); strings.Contains(strings.ToLower(v), "decommission") && strings.Contains(v, "esc cancel") {
		t.Errorf("x opened the decommission form:\n%s", v)
	}
	v := view(press(t, m, "D"))
	if !strings.Contains(strings.ToLower(v), "decommission") || !strings.Contains(v, "esc cancel") {
		t.Errorf("D did not open the decommission form:\n%s", v)
	}
	// the form's hint says what enter does on each field
	if !strings.Contains(v, "enter next field") && !strings.Contains(v, "enter confirm") {
		t.Errorf("form hint:\n%s", v)
	}
}

// The Lifecycle pane orders addresses as numbers and never shows the
// address again as the product (item 13).
func TestLifecycleAddressesAsNumbers(t *testing.T) {
	m := press(t, fixtureModel(t, 120, 40), "5")
	var byPhase = map[string][]netip.Addr{}
	for _, line := range strings.Split(view(m), "\n") {
		f := strings.Fields(strings.TrimLeft(line, " ▸"))
		if len(f) < 3 {
			continue
		}
		a, err := netip.ParseAddr(f[1])
		if err != nil {
			continue
		}
		if f[2] == f[1] {
			t.Errorf("product column repeats the address: %q", line)
		}
		byPhase[f[0]] = append(byPhase[f[0]], a)
	}
	if len(byPhase["unknown"]) < 3 {
		t.Fatalf("too few rows to check: %v", byPhase)
	}
	if got := byPhase["unknown"]; !slices.IsSortedFunc(got, netip.Addr.Compare) {
		t.Errorf("unknown-phase rows not in address order: %v", got)
	}
}

// Closed ports and silence are findings, not errors (item 5).
func TestScanPaneCountsClosedApart(t *testing.T) {
	f := &fakeScan{st: scanpane.Status{TargetsTotal: 254, TargetsDone: 254, Requests: 88, Answers: 26, Closed: 62, Errors: 0}}
	m := send(t, run(t, scanModel(t, f), "7"), pane.TickMsg{Time: fixtureNow})
	if v := view(m); !strings.Contains(v, "26 answered, 62 closed, 0 silent, 0 errors") {
		t.Errorf("scan summary:\n%s", v)
	}
}

// An address that does not fit the ADDRESS column widens it instead of
// being cut ("192.168.10.120 +1"), and an age of years is given in years
// (item 13).
func TestAssetAddressesAndAgesWhole(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	snap := fixtureSnapshot()
	for i := range snap.Assets {
		if snap.Assets[i].ID == idPLC {
			snap.Assets[i].IPs = []netip.Addr{netip.MustParseAddr("192.168.10.120"), netip.MustParseAddr("192.168.10.121")}
			snap.Assets[i].LastSeen = fixtureNow.AddDate(-6, 0, 0)
		}
	}
	m = send(t, m, UpdatesMsg{Updates: []model.Update{snap}})
	v := view(m)
	if !strings.Contains(v, "192.168.10.120 +1") {
		t.Errorf("address cut:\n%s", v)
	}
	if strings.Contains(v, "…   ") && strings.Contains(v, "219…") || !strings.Contains(v, "6y") {
		t.Errorf("age of six years not in years:\n%s", v)
	}
	for _, line := range strings.Split(v, "\n") {
		if n := len([]rune(line)); n > 80 {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
}
