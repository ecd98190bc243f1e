package grid

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"otscope/ui/theme"
)

// TestFilterEditing types, edits in the middle, accepts and clears a
// filter, and checks what it consumes and when the query changes.
func TestFilterEditing(t *testing.T) {
	st := theme.New()
	f := NewFilter(&st)
	f.SetWidth(12)
	if c, _ := f.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")}); c {
		t.Fatal("a closed filter consumed a key")
	}
	f.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")})
	if !f.Typing() {
		t.Fatal("/ did not open the filter")
	}
	if _, ch := f.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("siemns")}); !ch {
		t.Fatal("typing did not change the query")
	}
	f.Update(tea.KeyMsg{Type: tea.KeyLeft})
	f.Update(tea.KeyMsg{Type: tea.KeyLeft})
	f.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("e")})
	if q := f.Query(); q != "siemens" {
		t.Fatalf("insert in the middle: %q", q)
	}
	if v := ansi.Strip(f.View()); v != "/siemens" || ansi.StringWidth(f.View()) > 12 {
		t.Fatalf("view with the cursor over a character: %q", v)
	}
	f.Update(tea.KeyMsg{Type: tea.KeyEnd})
	f.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(" plc and a long tail")})
	if v := ansi.Strip(f.View()); ansi.StringWidth(v) != 12 || v[len(v)-3:] != "█" {
		t.Fatalf("a long query keeps its end and the cursor in 12 cells: %q", v)
	}
	if c, ch := f.Update(tea.KeyMsg{Type: tea.KeyEnter}); !c || ch || f.Typing() || !f.Active() {
		t.Fatal("enter did not keep the filter")
	}
	if c, ch := f.Update(tea.KeyMsg{Type: tea.KeyEsc}); !c || !ch || f.Active() || f.Query() != "" {
		t.Fatal("esc did not clear the kept filter")
	}
	// a scanned code ends in a newline: typed and accepted
	f.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")})
	f.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("6ES7\r")})
	if f.Typing() || f.Query() != "6ES7" {
		t.Fatalf("scanned query %q, typing %v", f.Query(), f.Typing())
	}
}
