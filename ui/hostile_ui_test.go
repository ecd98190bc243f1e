package ui

import (
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"otscope/model"
	"strings"
	"testing"

	"otscope/ui/pane"
	"otscope/ui/pane/scanpane"
)

// Answers, banners and error reasons a device chose reach the Scan pane as
// text only: no terminal escape, C1 control, bidi override or zero-width
// character (issue 13 items 1 and 11).
func TestScanPaneShowsDeviceTextSafely(t *testing.T) {
	f := &fakeScan{}
	m := run(t, scanModel(t, f), "7")
	f.st = scanpane.Status{Running: true, Rate: 50, PerHost: 5, TargetsTotal: 1, Requests: 2, Answers: 2, Recent: []string{
		"03:32:01 10.10.10.12  http.head  0B  3p  HTTP 200, Server: evil\x1b]0;pwned\x07",
		"03:32:02 10.10.10.12  opcua.hello  0B  3p  error 0x80080000 \x1b[2J\u009b31m\u202egnp\u200b",
	}}
	v := send(t, m, pane.TickMsg{Time: fixtureNow}).View()
	if !strings.Contains(v, "Server: evil") || !strings.Contains(v, "error 0x80080000") {
		t.Fatalf("answers not shown:\n%s", v)
	}
	if strings.ContainsAny(v, "\x07\u009b\u202e\u200b") || strings.Contains(v, "\x1b]") || strings.Contains(v, "\x1b[2J") {
		t.Fatalf("a device's control characters reached the screen:\n%q", v)
	}
	f.st = scanpane.Status{Stopped: true, TargetsTotal: 1, Err: "target said \x1b]0;x\x07"}
	if v := send(t, m, pane.TickMsg{Time: fixtureNow}).View(); strings.Contains(v, "\x1b]") || strings.Contains(v, "\x07") {
		t.Fatalf("error reason reached the screen raw:\n%q", v)
	}
}

// An asset whose names, vendor and product a device chose shows in the
// Assets table and the Detail pane as text only (issue 13 item 11).
func TestAssetPanesShowDeviceTextSafely(t *testing.T) {
	a := fixtureAssets()[0]
	a.Names = []string{"plc\x1b]0;pwned\x07", "bidi\u202egnp"}
	a.Vendor = "Acme\u009b31m"
	a.Product = "zero\u200bwidth\x1b[2J"
	m := New(testConfig(make(chan model.Update)))
	m = send(t, m, tea.WindowSizeMsg{Width: 120, Height: 40},
		UpdatesMsg{Updates: []model.Update{{Reset: true, Assets: []model.Asset{a}}}})
	for _, v := range []string{m.View(), run(t, m, "enter").View()} {
		if strings.ContainsAny(v, "\x07\u009b\u202e\u200b") || strings.Contains(v, "\x1b]") || strings.Contains(v, "\x1b[2J") {
			t.Fatalf("a device's control characters reached the screen:\n%q", v)
		}
	}
	if v := ansi.Strip(run(t, m, "enter").View()); !strings.Contains(v, "plc\uFFFD]0;pwned") {
		t.Fatalf("the name is not shown:\n%s", v)
	}
}
