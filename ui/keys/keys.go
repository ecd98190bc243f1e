// Package keys holds the global key bindings of the otscope TUI: switching
// panes, the help overlay and quitting. Each pane keeps its own KeyMap in its
// package; the root's help is this map plus the focused pane's.
//
// Bindings are matched with key.Matches and listed by help.Model, so the
// help text cannot drift from what the keys do:
//
//	km := keys.DefaultKeyMap(4)
//	if key.Matches(msg, km.Quit) { return m, tea.Quit }
//
// A KeyMap is a plain value; DefaultKeyMap returns a fresh one each call.
package keys

import (
	"strconv"

	"github.com/charmbracelet/bubbles/key"
)

// KeyMap is the set of keys the root model handles itself.
type KeyMap struct {
	// Next and Prev move the focus to the next and previous pane.
	Next, Prev key.Binding
	// Goto focuses pane N with the digit key N (1-based).
	Goto key.Binding
	// Help toggles the full-help overlay.
	Help key.Binding
	// Open opens the session picker.
	Open key.Binding
	// Quit leaves the program. Quit's "q" is not seen while a pane is
	// taking text input; ForceQuit (ctrl+c) always is.
	Quit, ForceQuit key.Binding
	// Export writes the session to a file (bundle or report); Diff shows
	// what changed since another session. No pane binds "e" or "d", so
	// they work on every pane.
	Export, Diff key.Binding
}

// DefaultKeyMap returns the global keys for a UI with panes panes (1-9).
func DefaultKeyMap(panes int) KeyMap {
	panes = max(1, min(panes, 9))
	digits := make([]string, panes)
	for i := range digits {
		digits[i] = strconv.Itoa(i + 1)
	}
	return KeyMap{
		Next:      key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
		Prev:      key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "previous pane")),
		Goto:      key.NewBinding(key.WithKeys(digits...), key.WithHelp("1-"+digits[panes-1], "go to pane")),
		Help:      key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
		Open:      key.NewBinding(key.WithKeys("O"), key.WithHelp("O", "open session")),
		Quit:      key.NewBinding(key.WithKeys("q"), key.WithHelp("q", "quit")),
		ForceQuit: key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit (always)")),
		Export:    key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "export session")),
		Diff:      key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "diff with session")),
	}
}

// ShortHelp returns the global keys shown in the status bar.
func (k KeyMap) ShortHelp() []key.Binding { return []key.Binding{k.Help, k.Quit} }

// FullHelp returns the global keys shown in the help overlay.
func (k KeyMap) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Next, k.Prev, k.Goto, k.Open, k.Help, k.Quit, k.ForceQuit}, {k.Export, k.Diff}}
}
