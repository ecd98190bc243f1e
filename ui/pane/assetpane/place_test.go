package assetpane

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/ui/internal/keymsg"
	"otscope/ui/pane"
	"otscope/ui/state"
	"otscope/ui/theme"
)

// newPlacePane is a focused asset table over three PLCs (sorted by IP)
// with a walkdown book whose journal is journal.
func newPlacePane(t *testing.T, journal func(...walkdown.Record) error) (*Model, *walkdown.Book) {
	t.Helper()
	var as []model.Asset
	for i, n := range []string{"plc-a", "plc-b", "plc-c"} {
		as = append(as, model.Asset{ID: model.AssetID("ip:10.0.0." + string(rune('1'+i))), Names: []string{n},
			IPs: []netip.Addr{netip.AddrFrom4([4]byte{10, 0, 0, byte(1 + i)})}})
	}
	st := state.New()
	st.Apply([]model.Update{{Reset: true, Assets: as}})
	styles := theme.New()
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	m := New(pane.Context{Styles: &styles, State: st, Now: func() time.Time { return now }, Session: "s"})
	m.DataChanged(state.Change{Reset: true})
	book, _ := walkdown.NewBook(nil, journal)
	m.SetWalkdown(book, "anna", func() time.Time { return now })
	m.Focus()
	return m, book
}

// press sends keys and runs the command the last one returned.
func press(m *Model, keys ...string) tea.Msg {
	var cmd tea.Cmd
	for _, k := range keys {
		cmd = m.Update(keymsg.For(k))
	}
	if cmd == nil {
		return nil
	}
	return cmd()
}

func typeText(m *Model, s string) {
	for _, r := range s {
		m.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// TestPlaceMarked: space marks rows, L places every marked asset in one
// walkdown record through the book; without marks L places the row under
// the cursor.
func TestPlaceMarked(t *testing.T) {
	var stored [][]walkdown.Record
	m, book := newPlacePane(t, func(rs ...walkdown.Record) error { stored = append(stored, rs); return nil })
	press(m, " ", "down", "down", " ")
	if got := m.Marked(); !slices.Equal(got, []model.AssetID{"ip:10.0.0.1", "ip:10.0.0.3"}) {
		t.Fatalf("marked %v", got)
	}
	if !strings.Contains(m.Summary(), "2 marked") || !strings.Contains(m.View(), "●") {
		t.Errorf("marks not shown: %q\n%s", m.Summary(), m.View())
	}
	press(m, "L")
	if !m.Capturing() || !strings.Contains(m.View(), "Place 2 marked assets") {
		t.Fatalf("no place form:\n%s", m.View())
	}
	typeText(m, "Plant/Hall 1/Cabinet +A2")
	msg := press(m, "enter")
	if n, ok := msg.(pane.NoticeMsg); !ok || n.Err || !strings.Contains(n.Text, "placed 2 marked assets at Plant/Hall 1/Cabinet +A2") {
		t.Fatalf("notice %#v", msg)
	}
	for _, id := range []model.AssetID{"ip:10.0.0.1", "ip:10.0.0.3"} {
		if got := book.Location(id).String(); got != "Plant/Hall 1/Cabinet +A2" {
			t.Errorf("%s at %q", id, got)
		}
	}
	if book.Location("ip:10.0.0.2") != nil || len(stored) != 1 || len(m.Marked()) != 0 {
		t.Errorf("unmarked row placed, %d journal writes, marks %v", len(stored), m.Marked())
	}

	// no marks: the cursor row (plc-c); an empty location is refused in the form
	press(m, "L")
	if !strings.Contains(m.View(), "Place plc-c") {
		t.Fatalf("no form for the cursor row:\n%s", m.View())
	}
	m.Update(tea.KeyMsg{Type: tea.KeyCtrlU})
	if msg := press(m, "enter"); msg != nil || !m.Capturing() {
		t.Fatalf("empty location accepted: %#v", msg)
	}
	typeText(m, "Plant/Hall 2")
	press(m, "enter")
	if got := book.Location("ip:10.0.0.3").String(); got != "Plant/Hall 2" {
		t.Errorf("cursor row at %q", got)
	}
}

// TestPlaceErrors: a journal that fails says so (and stores nothing); a
// pane without a session's book explains why it cannot place.
func TestPlaceErrors(t *testing.T) {
	m, book := newPlacePane(t, func(...walkdown.Record) error { return errors.New("disk full") })
	press(m, "L")
	typeText(m, "Plant")
	if n, ok := press(m, "enter").(pane.NoticeMsg); !ok || !n.Err || !strings.Contains(n.Text, "disk full") {
		t.Errorf("failed journal: %#v", n)
	}
	if book.Location("ip:10.0.0.1") != nil {
		t.Error("placed although the journal failed")
	}
	m.SetWalkdown(nil, "anna", nil)
	if n, ok := press(m, "L").(pane.NoticeMsg); !ok || !n.Err || !strings.Contains(n.Text, "stored session") || m.Capturing() {
		t.Errorf("no book: %#v", n)
	}
}
