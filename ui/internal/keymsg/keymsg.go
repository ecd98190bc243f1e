// Package keymsg builds the key messages a terminal sends, from the names
// key bindings use, so that tests drive panes as a person would.
package keymsg

import tea "github.com/charmbracelet/bubbletea"

// named maps each key name Bubble Tea gives (tea.Key.String: "enter",
// "ctrl+w", "shift+tab", "pgdown", " ") to its key type.
var named = func() map[string]tea.KeyType {
	m := map[string]tea.KeyType{}
	for t := tea.KeyType(-128); t < 128; t++ {
		if t == tea.KeyRunes {
			continue
		}
		if s := (tea.Key{Type: t}).String(); s != "" {
			if _, dup := m[s]; !dup {
				m[s] = t
			}
		}
	}
	return m
}()

// For returns the message of the key named name: a named key ("enter",
// "esc", "ctrl+c", "down", " "), else the runes of name typed at once.
func For(name string) tea.KeyMsg {
	if t, ok := named[name]; ok {
		k := tea.KeyMsg{Type: t}
		if t == tea.KeySpace {
			k.Runes = []rune{' '} // as the terminal reader sends it
		}
		return k
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(name)}
}
