package walkdownpane

import (
	"fmt"
	"net/netip"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/scan/testenv"
	"otscope/ui/internal/keymsg"
	"otscope/ui/pane"
	"otscope/ui/state"
	"otscope/ui/theme"
)

var now = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

// plant builds n assets and m documented rows over cabinets: every asset
// documented by MAC, the rest of the rows unseen.
func plant(n, m int) ([]model.Asset, []model.DocumentedDevice) {
	assets := make([]model.Asset, n)
	for i := range assets {
		mac := model.MAC{0x00, 0x1b, 0x1b, byte(i >> 16), byte(i >> 8), byte(i)}
		assets[i] = model.Asset{ID: model.MACAssetID(mac), MACs: []model.MAC{mac},
			IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})}, Vendor: "Siemens AG",
			OrderNumber: "6ES7 315-2EH14-0AB0", Serial: fmt.Sprintf("S%06d", i), Names: []string{fmt.Sprintf("plc%05d", i)}}
	}
	docs := make([]model.DocumentedDevice, m)
	for j := range docs {
		d := model.DocumentedDevice{Tag: fmt.Sprintf("+C%03d-K%05d", j%200, j), Vendor: "Siemens", OrderNumber: "6ES7 315-2EH14-0AB0",
			Location: fmt.Sprintf("Plant/Hall %d/Cabinet +C%03d", j%5, j%200), Source: fmt.Sprintf("big.csv:%d", j+2)}
		if j < n {
			d.MAC, d.Serial = assets[j].MACs[0].String(), assets[j].Serial
		} else {
			d.Serial = fmt.Sprintf("X%06d", j)
		}
		docs[j] = d
	}
	return assets, docs
}

func newPane(t testing.TB, assets []model.Asset, docs []model.DocumentedDevice, journal func(...walkdown.Record) error) (*Model, *walkdown.Book) {
	t.Helper()
	st := state.New()
	st.Apply([]model.Update{{Reset: true, Assets: assets}})
	book, _ := walkdown.NewBook(nil, journal)
	if len(docs) > 0 {
		if _, err := book.Import(walkdown.Imported{Rows: docs}, "big.csv", "anna", now); err != nil {
			t.Fatal(err)
		}
	}
	styles := theme.New()
	m := New(pane.Context{Styles: &styles, State: st, Now: func() time.Time { return now }, Session: "s"},
		Config{Book: book, User: "anna", Now: func() time.Time { return now }})
	m.SetSize(80, 21)
	m.Focus()
	msg := m.Evaluate()()
	m.Update(msg)
	return m, book
}

// press sends a key, runs the command it returns (the store write, off
// the UI goroutine in the program) and hands its message back, as the
// Bubble Tea runtime does. It returns the UI-goroutine time only.
//
// The time is the CPU time of the goroutine's thread, held for the
// measure: a busy machine stretches wall time, not the work a keypress
// does, and on an idle core the two are the same.
func press(m *Model, k string) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start := testenv.ThreadCPUTime()
	cmd := m.Update(keymsg.For(k))
	_ = m.View()
	spent := testenv.ThreadCPUTime() - start
	for _, msg := range run(cmd) {
		start = testenv.ThreadCPUTime()
		m.Update(msg)
		_ = m.View()
		spent += testenv.ThreadCPUTime() - start
	}
	return spent
}

// run executes a command tree and returns the pane's messages.
func run(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	msg := cmd()
	switch msg := msg.(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, run(c)...)
		}
		return out
	case evalMsg, doneMsg:
		return []tea.Msg{msg}
	}
	return nil
}

func TestKeypressFastAtSize(t *testing.T) {
	if testing.Short() || testenv.Race {
		t.Skip("a wall-clock budget at 10,000 assets / 20,000 documented rows: run without -race and -short (make speed)")
	}
	assets, docs := plant(10_000, 20_000)
	m, _ := newPane(t, assets, docs, nil)
	if got := m.nodes[0]; len(got.keys) != 20_000 {
		t.Fatalf("root holds %d items", len(got.keys))
	}
	var worst time.Duration
	worstKey := ""
	seq := []string{"down", "down", "down", "right", "m", "down", "c", "down", "x", "down", "-", "u", "down",
		"left", "down", "down", "right", "m", "m", "pgdown", "left", "up", "up", "up", "right", "down", "m"}
	for i := range 3 {
		for _, k := range seq {
			if k == "pgdown" {
				k = " "
			}
			if d := press(m, k); d > worst && i > 0 { // the first round warms line caches
				worst, worstKey = d, k
			}
		}
	}
	t.Logf("slowest keypress at 10,000 assets / 20,000 documented rows: %v (%q)", worst, worstKey)
	if worst > 16*time.Millisecond {
		t.Errorf("keypress took %v (%q), limit 16 ms", worst, worstKey)
	}
	if m.nodes[0].walked == 0 {
		t.Error("no verdict recorded")
	}
}

func TestVerdictKeysNameplateScanAndProgress(t *testing.T) {
	assets, docs := plant(4, 6)
	var stored []walkdown.Record
	m, book := newPane(t, assets, docs, func(rs ...walkdown.Record) error { stored = append(stored, rs...); return nil })
	v := ansi.Strip(m.View())
	if !strings.Contains(v, "walked 0/6 (0%)") || !strings.Contains(v, "match 4") || !strings.Contains(v, "unseen 2") {
		t.Fatalf("first view:\n%s", v)
	}
	// tree: All, Plant, Plant/Hall 0, Plant/Hall 0/Cabinet +C000, ...
	if !m.SelectLocation("Plant/Hall 0/Cabinet +C000") {
		t.Fatalf("no node; nodes %d", len(m.nodes))
	}
	press(m, "right")
	key, _ := m.Selected()
	press(m, "x")
	if r, ok := book.PersonVerdict(key); !ok || r.Verdict != model.VerdictMismatch || r.By != "anna" || !strings.Contains(r.Why, "Cabinet +C000") {
		t.Fatalf("verdict record = %+v %v", r, ok)
	}
	v = ansi.Strip(m.View())
	if !strings.Contains(v, "walked 1/6") || !regexp.MustCompile(`Cabinet \+C000 +1/1`).MatchString(v) {
		t.Errorf("progress after one verdict:\n%s", v)
	}
	// nameplate with a barcode scanner: a burst of runes then Enter per field
	press(m, "n")
	if !m.Capturing() {
		t.Fatal("nameplate form not open")
	}
	for _, scan := range []string{"Siemens", "", "6ES7 315-2EH14-0AB0", "SVPX1234567"} {
		if scan != "" {
			m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(scan)})
		}
		m.Update(keymsg.For("enter"))
	}
	vals := m.form.Values()
	if vals[0] != "Siemens" || vals[1] != "" || vals[2] != "6ES7 315-2EH14-0AB0" || vals[3] != "SVPX1234567" {
		t.Fatalf("scanned fields = %q", vals)
	}
	for range 4 { // firmware, hardware, tag, notes: empty, enter submits from the last
		if cmd := m.Update(keymsg.For("enter")); cmd != nil {
			for _, msg := range run(cmd) {
				m.Update(msg)
			}
		}
	}
	if m.Capturing() {
		t.Fatal("form still open")
	}
	if got := walkdown.Compare(m.ev.Items[m.ev.Find(key)].Doc, m.ev.Items[m.ev.Find(key)].Asset); got.Basis != model.BasisWalkdown {
		t.Errorf("nameplate did not reach the item: %+v", got)
	}
	fs := book.ManualFacts(model.AssetID(key))
	if len(fs) != 3 || fs[2].Value != "SVPX1234567" || fs[2].Source.Kind != model.Manual || fs[2].Source.Origin != "anna" {
		t.Errorf("manual facts = %+v", fs)
	}
	// withdraw, then the unseen row at another cabinet goes missing
	press(m, "u")
	if _, ok := book.PersonVerdict(key); ok {
		t.Error("verdict not withdrawn")
	}
	if !m.SelectLocation("Plant/Hall 4/Cabinet +C004") {
		t.Fatal("no cabinet +C004")
	}
	press(m, "right")
	press(m, "-")
	if r, ok := book.PersonVerdict(walkdown.DocTarget("+C004-K00004")); !ok || r.Verdict != model.VerdictMissing {
		t.Errorf("missing = %+v %v", r, ok)
	}
	if !strings.Contains(ansi.Strip(m.View()), "missing 1") {
		t.Errorf("view:\n%s", ansi.Strip(m.View()))
	}
	if len(stored) < 6 {
		t.Errorf("journal got %d records", len(stored))
	}
	// place the first asset elsewhere: the tree regroups
	m.SelectLocation("Plant/Hall 0/Cabinet +C000")
	press(m, "right")
	press(m, "p")
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("Plant/Hall 9/Cabinet +Z1")})
	for _, msg := range run(m.Update(keymsg.For("enter"))) {
		for _, msg2 := range run(m.Update(msg)) {
			m.Update(msg2)
		}
	}
	if !m.SelectLocation("Plant/Hall 9/Cabinet +Z1") {
		t.Errorf("moved asset's location not in the tree:\n%s", ansi.Strip(m.View()))
	}
}

func TestViewFitsSmallTerminal(t *testing.T) {
	assets, docs := plant(30, 40)
	m, _ := newPane(t, assets, docs, nil)
	for _, sz := range [][2]int{{80, 21}, {120, 37}, {40, 8}} {
		m.SetSize(sz[0], sz[1])
		lines := strings.Split(m.View(), "\n")
		if len(lines) > sz[1] {
			t.Errorf("%dx%d: %d lines", sz[0], sz[1], len(lines))
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > sz[0] {
				t.Errorf("%dx%d: line %d is %d wide: %q", sz[0], sz[1], i, w, ansi.Strip(l))
			}
		}
	}
}

func TestAddDeviceTheNetworkCannotSee(t *testing.T) {
	assets, docs := plant(2, 2)
	m, book := newPane(t, assets, docs, nil)
	m.SelectLocation("Plant/Hall 0/Cabinet +C000")
	press(m, "right")
	parent, _ := m.Selected()
	press(m, "a")
	if !m.Capturing() {
		t.Fatal("add form not open")
	}
	// name, parent (prefilled), slot, location (prefilled), vendor, product, order number
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("DI 16 slot 4")})
	m.Update(keymsg.For("enter"))
	m.Update(keymsg.For("enter"))
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("4")})
	m.Update(keymsg.For("enter"))
	m.Update(keymsg.For("enter"))
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("Siemens")})
	m.Update(keymsg.For("enter"))
	m.Update(keymsg.For("enter"))
	m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("6ES7 321-1BH02-0AA0")})
	var cmd tea.Cmd
	for m.Capturing() {
		cmd = m.Update(keymsg.For("enter"))
	}
	for _, msg := range run(cmd) {
		for _, msg2 := range run(m.Update(msg)) {
			m.Update(msg2)
		}
	}
	ma, ok := book.Manual("manual:di-16-slot-4")
	if !ok || string(ma.Parent) != parent || ma.Slot != "4" {
		t.Fatalf("manual asset = %+v %v (parent want %s)", ma, ok, parent)
	}
	if i := m.ev.Find("manual:di-16-slot-4"); i < 0 || m.ev.Items[i].Location.String() != "Plant/Hall 0/Cabinet +C000" ||
		m.ev.Items[i].Verdict.Value != model.VerdictNew || m.ev.Items[i].Asset.OrderNumber != "6ES7 321-1BH02-0AA0" {
		t.Errorf("new device not in the checklist of its cabinet")
	}
	if v := ansi.Strip(m.View()); !strings.Contains(v, "DI 16 slot") {
		t.Errorf("view:\n%s", v)
	}
}
