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
	"otscope/ui/internal/keymsg"
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
	switch msg.(type) {
	case tea.KeyMsg, pane.SetStateMsg, pane.WaiveMsg, actionMsg:
		if cmd == nil {
			break
		}
		switch follow := cmd().(type) {
		case pane.OpenAssetMsg, pane.BackMsg, pane.SetStateMsg, pane.WaiveMsg, pane.NoticeMsg, actionMsg, AnalysisMsg:
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

// press sends each key in turn; a key of several letters is typed rune by rune.
func press(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		if len([]rune(k)) > 1 && keymsg.For(k).Type == tea.KeyRunes {
			for _, r := range k {
				m = send(t, m, keymsg.For(string(r)))
			}
			continue
		}
		m = send(t, m, keymsg.For(k))
	}
	return m
}

func testConfig(ch <-chan model.Update) Config {
	return Config{
		Session: "plant-a", Updates: ch, Sources: []string{"plant.pcap", "iface:eth0"}, Version: "v0.1.0",
		Now:      func() time.Time { return fixtureNow },
		Analysis: testSources(),
		Ledger:   newMemLedger(),
		User:     "ana",
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
	m.cfg.Ledger.(*memLedger).observe(fixtureAssets())
	m.analyseNow()
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
		"detail_clx": func(t *testing.T, m Model) Model {
			m.assets.Select(idCLX)
			return press(t, m, "enter")
		},
		// the workstation that downloaded to a PLC
		"detail_ews": func(t *testing.T, m Model) Model {
			m.assets.Select(idEWS)
			return press(t, m, "enter")
		},
		// the PLC's second page: modules and who polls or programs it
		"detail_plc_peers": func(t *testing.T, m Model) Model {
			m.assets.Select(idPLC)
			return press(t, m, "enter", "pgdown")
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

// TestGoldenAssetWidths pins the asset table's column sets between the
// two sizes TestGolden renders: MAC and name from 100 columns, product
// standing in for the name below that, product only below 60.
func TestGoldenAssetWidths(t *testing.T) {
	for _, sz := range []struct{ w, h int }{{100, 30}, {60, 16}, {40, 10}} {
		t.Run("assets_"+itoa(sz.w)+"x"+itoa(sz.h), func(t *testing.T) {
			golden.RequireEqual(t, []byte(view(fixtureModel(t, sz.w, sz.h))))
		})
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
	if got := len(m.assets.Rows()); got != 4 {
		t.Fatalf("filter siemens: %d rows, want 4 (two PLCs, the HMI and the ET 200SP)", got)
	}
	if !strings.Contains(view(m), "4 of 11 assets") {
		t.Errorf("view lacks \"4 of 11 assets\":\n%s", view(m))
	}
	// q types while filtering: no quit.
	m, cmd := step(t, m, keymsg.For("q"))
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
	// At 80 columns the product column stands in for the name.
	if !strings.Contains(view(m), "PRODUCT/NAME↑") || !strings.Contains(view(m), "sort name ↑") {
		t.Errorf("header or summary does not show the name sort:\n%s", view(m))
	}
	// ... and sorts by what it shows (issue 14, item 13), not by a hidden
	// name: 1756-L83E/B (CLX-PRESS's product), then CAM-DOCK
	if got := m.assets.Rows(); got[0] != idCLX || got[1] != idCamera {
		t.Fatalf("name order starts %v, want 1756-L83E/B, CAM-DOCK", got[:2])
	}
	m = press(t, m, "s") // product: known products first, alphabetical
	if !strings.Contains(view(m), "PRODUCT/NAME↑") || !strings.Contains(view(m), "sort product ↑") {
		t.Errorf("header or summary does not show the product sort:\n%s", view(m))
	}
	want = []model.AssetID{idCLX, idPLC, idIO, idMeter}
	if got := m.assets.Rows(); !slices.Equal(got[:4], want) {
		t.Fatalf("product order starts %v, want %v", got[:4], want)
	}
	m = press(t, m, "s") // firmware: by version numbers, unknown last
	if !strings.Contains(view(m), "FIRMWARE↑") || !strings.Contains(view(m), "sort firmware ↑") {
		t.Errorf("header or summary does not show the firmware sort:\n%s", view(m))
	}
	want = []model.AssetID{idCLX, idPLC, idMeter}
	if got := m.assets.Rows(); !slices.Equal(got[:3], want) {
		t.Fatalf("firmware order starts %v, want %v (33.11 is not a V-version; V3.2.7 < V5.1.0)", got[:3], want)
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
	// 26 lines: the state line in the header pushes the peers one line down
	m := fixtureModel(t, 80, 26)
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

// openDetail returns the UI at w x h showing the detail of id.
func openDetail(t *testing.T, id model.AssetID, w, h int) Model {
	t.Helper()
	m := fixtureModel(t, w, h)
	if !m.assets.Select(id) {
		t.Fatalf("no row for %s", id)
	}
	m = press(t, m, "enter")
	if m.Focused() != FocusDetail || m.detail.Shown() != id {
		t.Fatalf("focus %v showing %q, want the detail of %s", m.Focused(), m.detail.Shown(), id)
	}
	return m
}

// detailText is the whole detail of id at width w: the terminal is made
// tall enough that nothing scrolls.
func detailText(t *testing.T, id model.AssetID, w int) string {
	t.Helper()
	return view(send(t, openDetail(t, id, w, 24), tea.WindowSizeMsg{Width: w, Height: 400}))
}

// block returns the lines of the detail section whose title starts with
// title, up to the next blank line ("" when there is no such section).
func block(v, title string) string {
	lines := strings.Split(v, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, " "+title) {
			continue
		}
		var out []string
		for _, l := range lines[i:] {
			if strings.TrimSpace(l) == "" {
				break
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	return ""
}

func wantLines(t *testing.T, what, v string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(v, want) {
			t.Errorf("%s lacks %q:\n%s", what, want, v)
		}
	}
}

// The first screen of a PLC's detail at 80x24 says what it is: every
// identity value with the protocol, capture, frame and time that gave it,
// and the firmware that SNMP reports differently marked as a conflict.
func TestDetailIdentityWithProvenance(t *testing.T) {
	v := view(openDetail(t, idPLC, 80, 24))
	wantLines(t, "PLC detail at 80x24", v,
		" IDENTITY  ⚠ 1 conflicting",
		" Vendor        Siemens AG        derived oui · plant.pcap #1 · 10:00:02",
		" Product       CPU 315-2 PN/DP   s7comm · plant.pcap #1352 · 10:00:50 ×3",
		// wider than the value column: its provenance goes under it, so
		// the column of provenances stays aligned (issue 14, item 15)
		" Order number  6ES7 315-2EH14-0AB0   ",
		"                s7comm · plant.pcap #1348 · 10:00:50 ×3",
		" Firmware      V3.2.7            s7comm · plant.pcap #1348 · 10:00:50 ×3",
		" ⚠ 2 values    V3.2.6            snmp · iface:eth0 #2210 · 10:03:30",
		" Serial        S C-B1U393142011  s7comm · plant.pcap #1352",
		" Mode          RUN               s7comm · plant.pcap #1360",
		" Station name  plc-line1         profinet-dcp · plant.pcap #1201 · 10:00:48 ×14",
	)
	// Only rows with a value: the S7-300 told no device type or CIP ids.
	id := block(v, "IDENTITY")
	for _, absent := range []string{"Device type", "CIP", "Modbus units"} {
		if strings.Contains(id, absent) {
			t.Errorf("identity shows %q without a value:\n%s", absent, id)
		}
	}

	// A PLC that said nothing about itself (no ProtocolIDs at all) shows
	// its vendor only.
	id = block(detailText(t, idPLC2, 80), "IDENTITY")
	if got := strings.Count(id, "\n"); got != 1 || !strings.Contains(id, "Vendor        Siemens AG") {
		t.Errorf("identity of PLC-PACK2 = %q, want the title and the vendor", id)
	}

	// Protocol ids: Modbus unit ids as one list, PROFINET and CIP ids.
	wantLines(t, "gateway identity", block(detailText(t, idMeter, 80), "IDENTITY"),
		"Modbus units  1, 2, 3", "Product       Link150")
	wantLines(t, "ET 200SP identity", block(detailText(t, idIO, 80), "IDENTITY"),
		"Station name  et200sp-line1", "PN vendor id  0x002a", "PN device id  0x0313", "Device type   IO-Device")
	wantLines(t, "ControlLogix identity", block(detailText(t, idCLX, 80), "IDENTITY"),
		"CIP vendor id 1", "CIP product   166", "Device type   Programmable Logic Controller")
}

func TestDetailFactsKeepProvenanceAndConflicts(t *testing.T) {
	v := block(detailText(t, idPLC, 80), "FACTS")
	wantLines(t, "PLC facts", v,
		// a device has several names (DCP, DHCP): not a conflict; two
		// firmware versions are
		"FACTS (13, heard on the wire unless marked)  ⚠ 1 conflicting",
		" hostname         PLC-LINE1",
		// the value column is as wide as the widest value that fits
		// ("plc-line1-old"), so provenances line up
		"PLC-LINE1      profinet-dcp · plant.pcap #1201 · 10:00:48 ×14",
		"plc-line1-old  dhcp · iface:eth0 #88 · 10:02:03",
		" vendor           Siemens AG     derived oui · plant.pcap #1 · 10:00:02",
		" firmware ⚠ 2 values",
		// module facts read like the MODULES table, not like their encoding
		" module           0/2 CPU 315-2 PN/DP · 6ES7 315-2EH14-0AB0 · V3.2.7 · S",
	)
}

// Modules of a ControlLogix rack, and an operating mode that changed
// (the key switch) listed as history, not as a conflict.
func TestDetailModulesAndMode(t *testing.T) {
	v := detailText(t, idCLX, 80)
	mods := block(v, "MODULES")
	wantLines(t, "CLX modules", mods,
		" MODULES (2)",
		" R/S   PRODUCT                  ORDER NUMBER         FIRMWARE   SERIAL",
		" 0/0   1756-L83E/B              1756-L83E            33.11      60A1B2C3",
		" 0/2   1756-EN2T/D              1756-EN2T            11.002     D1E2F301",
	)
	wantLines(t, "CLX identity", block(v, "IDENTITY"),
		" Mode          REMOTE RUN",
		" also seen     REMOTE PROGRAM       enip · plant.pcap #410 · 10:00:30",
	)
	if strings.Contains(block(v, "IDENTITY"), "⚠") {
		t.Errorf("a mode change is flagged as a conflict:\n%s", block(v, "IDENTITY"))
	}
	if block(detailText(t, idHMI, 80), "MODULES") != "" {
		t.Error("an asset without modules shows a MODULES block")
	}
}

// Who talks to the PLC in industrial protocols, and who can program it:
// the engineering workstation's "0x1a request download" puts it first
// with "program ⚠".
func TestDetailIndustrialPeers(t *testing.T) {
	peers := block(detailText(t, idPLC, 80), "INDUSTRIAL PEERS")
	wantLines(t, "PLC industrial peers", peers,
		" INDUSTRIAL PEERS (4)  → it polls · ← polled by",
		" ← ENG-WS01",
		"program ⚠, read",
		" ← HMI-LINE1",
		"write, read",
		" → et200sp-line1",
	)
	// ... and said under the header, on the first screen at 80x24.
	wantLines(t, "PLC first screen", view(openDetail(t, idPLC, 80, 24)), " ⚠ program access by ENG-WS01 (s7comm)")
	wantLines(t, "EWS first screen", view(openDetail(t, idEWS, 80, 24)), " ⚠ program access to PLC-LINE1 (s7comm)")
	if v := detailText(t, idHMI, 80); strings.Contains(v, "⚠ program access") {
		t.Errorf("the HMI, which only reads and writes, has a program warning:\n%s", v)
	}
	lines := strings.Split(peers, "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[2], " ← ENG-WS01") {
		t.Errorf("the peer that programs the PLC is not first:\n%s", peers)
	}

	// The workstation's own view: it polls the PLCs, the ControlLogix and
	// the historian's OPC UA server; RTSP to the camera, SNMP and DNS are
	// IT and stay in PEERS only.
	v := detailText(t, idEWS, 80)
	peers = block(v, "INDUSTRIAL PEERS")
	wantLines(t, "EWS industrial peers", peers, " → PLC-LINE1", " → PLC-PACK2", " → CLX-PRESS", " → HIST-SRV", "opc-ua", "program ⚠")
	for _, it := range []string{"CAM-DOCK", "RS20-LINE1", "FW-CELL"} {
		if strings.Contains(peers, it) {
			t.Errorf("industrial peers list %s:\n%s", it, peers)
		}
	}
	for _, l := range strings.Split(peers, "\n") {
		// the download happened after the talk to PLC-PACK2 had ended
		if strings.Contains(l, "PLC-PACK2") && (strings.Contains(l, "program") || !strings.Contains(l, "read")) {
			t.Errorf("EWS → PLC-PACK2 = %q, want read only", l)
		}
	}
	wantLines(t, "EWS peers", block(v, "PEERS"), "CAM-DOCK", "FW-CELL")
	wantLines(t, "EWS roles", block(v, "ROLES"),
		" engineering workstation  S7comm 0x1a request download: sent a program to a PLC",
		" it host                  Windows DHCP fingerprint; serves SMB")

	// The HMI's CIP functions are recorded as "cip.function" while the
	// conversation says "enip": same protocol family.
	wantLines(t, "HMI industrial peers", block(detailText(t, idHMI, 80), "INDUSTRIAL PEERS"),
		" → PLC-LINE1", " → CLX-PRESS", " → LINK150-FEED")
	hmi := block(detailText(t, idHMI, 80), "INDUSTRIAL PEERS")
	for _, l := range strings.Split(hmi, "\n") {
		if strings.Contains(l, "CLX-PRESS") && !strings.Contains(l, "read") {
			t.Errorf("HMI → CLX row lacks the CIP read: %q", l)
		}
	}
}

// A new function fact on a peer (the workstation stops the PLC) shows in
// the PLC's open detail without reopening it.
func TestDetailFollowsPeerFunctions(t *testing.T) {
	m := openDetail(t, idPLC, 120, 60)
	ews := fixtureAssets()[4]
	if ews.ID != idEWS {
		t.Fatalf("fixture order changed: %s", ews.ID)
	}
	ews.Facts = append(ews.Facts, model.Fact{Field: "s7comm.function", Value: "0x29 plc stop", Detail: "control",
		Source: src(model.Passive, "s7comm", "iface:eth0", 1900, ago(time.Minute)), Count: 1})
	m = send(t, m, UpdatesMsg{Updates: []model.Update{{Assets: []model.Asset{ews}}}})
	wantLines(t, "PLC industrial peers", block(view(m), "INDUSTRIAL PEERS"), "program ⚠, control, read")
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
	if got := len(m.matrix.Rows()); got != 2 {
		t.Fatalf("matrix filter modbus: %d rows, want 2 (historian and HMI poll the gateway)", got)
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
	if !strings.Contains(view(m), "CPU 315-2 PN/DP") {
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
		_, cmd := step(t, fixtureModel(t, 80, 24), keymsg.For(k))
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
			// the only command left is the first analysis, never another wait
			if cmd != nil {
				if _, ok := cmd().(AnalysisMsg); !ok {
					t.Fatal("wait re-armed on a closed channel")
				}
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
	for _, want := range []string{"SEEN as of 2025-03-04 10:05", "Link150          V5.1.0    protocol gate…   5s", "✓ finished"} {
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

// The asset table answers "what is it" at 80 columns (product and
// firmware instead of the MAC) and adds MAC, name and protocols as the
// terminal widens.
func TestAssetColumnsByWidth(t *testing.T) {
	for _, tc := range []struct {
		w        int
		header   []string
		noHeader []string
		row      string // the S7-300's row, from the address on
	}{
		{80, []string{"ADDRESS↑", "VENDOR", "PRODUCT/NAME", "FIRMWARE", "ROLE/PROTO", "SEEN"}, []string{"MAC", " NAME"},
			"10.20.1.10      Siemens        CPU 315-2 PN/DP  V3.2.7    plc              3s"},
		{100, []string{"ADDRESS↑", "MAC", "VENDOR", "NAME", "PRODUCT", "FIRMWARE", "ROLE/PROTO", "SEEN"}, []string{"PRODUCT/NAME", "PROTOCOLS"},
			"10.20.1.10      00:1b:1b:6a:10:01 Siemens     PLC-LINE1  CPU 315-2 PN/DP V3.2.7   plc          3s"},
		{120, []string{"ADDRESS↑", "MAC", "VENDOR", "NAME", "PRODUCT", "FIRMWARE", "ROLE · PROTOCOLS", "SEEN"}, []string{"PKTS"},
			"10.20.1.10      00:1b:1b:6a:10:01 Siemens       PLC-LINE1     CPU 315-2 PN/DP    V3.2.7    plc · s7comm,snmp +1    3s"},
		{160, []string{"MAC", "VLAN", "NAME", "PRODUCT", "FIRMWARE", "ROLE · PROTOCOLS", "SVC", "PKTS"}, nil, ""},
	} {
		v := view(fixtureModel(t, tc.w, 24))
		lines := strings.Split(v, "\n")
		header := lines[1]
		for _, h := range tc.header {
			if !strings.Contains(header, h) {
				t.Errorf("%d columns: header %q lacks %q", tc.w, header, h)
			}
		}
		for _, h := range tc.noHeader {
			if strings.Contains(header, h) {
				t.Errorf("%d columns: header %q has %q", tc.w, header, h)
			}
		}
		if tc.row != "" && !strings.Contains(v, tc.row) {
			t.Errorf("%d columns: no row %q in\n%s", tc.w, tc.row, v)
		}
		// An asset without a product shows its name in the product column
		// at 80 columns, and nothing in the product column when wider.
		if tc.w == 80 && !strings.Contains(v, "PLC-PACK2                  plc") {
			t.Errorf("80 columns: PLC-PACK2 (no product) does not show its name:\n%s", v)
		}
	}
}

// No line of any screen is wider than the terminal: every asset's detail,
// paged to its end, and the asset table in every sort.
func TestNoLineWiderThanTerminal(t *testing.T) {
	check := func(t *testing.T, what string, m Model, w, h int) {
		t.Helper()
		lines := strings.Split(m.View(), "\n")
		if len(lines) > h {
			t.Errorf("%s: %d lines, want at most %d", what, len(lines), h)
		}
		for i, l := range lines {
			if lw := ansi.StringWidth(l); lw > w {
				t.Errorf("%s: line %d is %d wide: %q", what, i, lw, ansi.Strip(l))
			}
		}
	}
	for _, sz := range []struct{ w, h int }{{80, 24}, {100, 30}, {120, 40}, {40, 10}} {
		name := itoa(sz.w) + "x" + itoa(sz.h)
		t.Run(name, func(t *testing.T) {
			m := fixtureModel(t, sz.w, sz.h)
			for range numSortsToCheck {
				check(t, "assets", m, sz.w, sz.h)
				m = press(t, m, "s")
			}
			for _, a := range fixtureAssets() {
				m.assets.Select(a.ID)
				m = press(t, m, "enter")
				if m.detail.Shown() != a.ID {
					t.Fatalf("detail shows %s, want %s", m.detail.Shown(), a.ID)
				}
				prev := ""
				for page := 0; page < 100; page++ {
					v := m.View()
					if v == prev {
						break // the last page
					}
					check(t, "detail "+a.Label()+" page "+itoa(page), m, sz.w, sz.h)
					prev = v
					m = press(t, m, "pgdown")
				}
				m = press(t, m, "esc")
			}
		})
	}
}

// numSortsToCheck covers every sort key once.
const numSortsToCheck = 8
