package ui

import (
	"errors"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"otscope/model"
	"otscope/ui/internal/keymsg"
)

// TestSessionPicker: O lists the stored sessions (name, assets, updated,
// site), the open one marked; enter on another ends the program with it
// chosen; esc closes; without a listing O does nothing.
func TestSessionPicker(t *testing.T) {
	cfg := testConfig(make(chan model.Update))
	upd := time.Date(2026, 12, 7, 5, 30, 0, 0, time.Local)
	cfg.Sessions = func() ([]SessionEntry, error) {
		return []SessionEntry{
			{Name: "lab", Assets: 3, Updated: upd},
			{Name: "plant-a", Site: "Plant A", Assets: 11, Updated: upd},
			{Name: "plant-b", Site: "North\x1b[2J yard", Assets: 250, Updated: upd},
		}, nil
	}
	m := send(t, New(cfg), tea.WindowSizeMsg{Width: 80, Height: 24})
	if h := view(press(t, m, "?")); !strings.Contains(h, " O ") || !strings.Contains(h, "open session") {
		t.Errorf("help does not list O:\n%s", h)
	}
	nm, cmd := m.Update(keymsg.For("O"))
	m = nm.(Model)
	if !m.PickerShown() || cmd == nil {
		t.Fatal("O did not open the picker")
	}
	m = send(t, m, cmd())
	v := view(m)
	for _, want := range []string{"Open a session", "SESSION", "ASSETS", "UPDATED", "SITE", "• plant-a", "Plant A", "250", "2026-12-07 05:30", "[2J yard", "enter opens", "enter open · esc close"} {
		if !strings.Contains(v, want) {
			t.Errorf("picker lacks %q:\n%s", want, v)
		}
	}
	if strings.Contains(m.View(), "\x1b[2J") {
		t.Error("a site name's escape sequence reached the terminal")
	}
	for i, l := range strings.Split(v, "\n") {
		if w := len([]rune(l)); w > 80 {
			t.Errorf("line %d is %d columns", i+1, w)
		}
	}
	// enter on the open session just closes the picker
	m = press(t, m, "enter")
	if m.PickerShown() || m.Chosen() != "" {
		t.Fatalf("enter on the open session: shown %v, chosen %q", m.PickerShown(), m.Chosen())
	}
	// esc closes without choosing
	nm, cmd = m.Update(keymsg.For("O"))
	m = send(t, nm.(Model), cmd())
	m = press(t, m, "esc")
	if m.PickerShown() || m.Chosen() != "" {
		t.Fatal("esc did not close the picker")
	}
	// down, enter: plant-b is chosen and the program quits
	nm, cmd = m.Update(keymsg.For("O"))
	m = send(t, nm.(Model), cmd())
	m = press(t, m, "down")
	nm, cmd = m.Update(keymsg.For("enter"))
	m = nm.(Model)
	if m.Chosen() != "plant-b" || cmd == nil {
		t.Fatalf("chosen %q", m.Chosen())
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Error("choosing another session does not end the program")
	}

	// a listing error is shown, not fatal
	cfg.Sessions = func() ([]SessionEntry, error) { return nil, errors.New("database is closed") }
	m = send(t, New(cfg), tea.WindowSizeMsg{Width: 80, Height: 24})
	nm, cmd = m.Update(keymsg.For("O"))
	m = send(t, nm.(Model), cmd())
	if !strings.Contains(view(m), "database is closed") {
		t.Errorf("error not shown:\n%s", view(m))
	}
	// no listing: O is not a key
	cfg.Sessions = nil
	m = send(t, New(cfg), tea.WindowSizeMsg{Width: 80, Height: 24})
	if m = press(t, m, "O"); m.PickerShown() {
		t.Error("O opened a picker without a listing")
	}
	if strings.Contains(view(press(t, m, "?")), "open session") {
		t.Error("help lists O without a listing")
	}
}
