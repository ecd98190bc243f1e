package keymsg

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestFor checks that a key's message names itself as its binding names it,
// and that anything else is typed.
func TestFor(t *testing.T) {
	for name, want := range map[string]tea.KeyType{
		"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
		"down": tea.KeyDown, "up": tea.KeyUp, "left": tea.KeyLeft, "right": tea.KeyRight,
		"pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp, "backspace": tea.KeyBackspace,
		"ctrl+c": tea.KeyCtrlC, "ctrl+w": tea.KeyCtrlW, " ": tea.KeySpace,
		"q": tea.KeyRunes, "G": tea.KeyRunes, "runes": tea.KeyRunes, "siemens": tea.KeyRunes,
	} {
		k := For(name)
		if k.Type != want || k.String() != name {
			t.Errorf("For(%q) = type %d named %q, want type %d", name, k.Type, k.String(), want)
		}
	}
	if k := For(" "); len(k.Runes) != 1 || k.Runes[0] != ' ' {
		t.Errorf("space carries runes %q", k.Runes)
	}
}
