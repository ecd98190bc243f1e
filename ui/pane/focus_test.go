package pane

import (
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestKey hands a pane its keys and clicks only while it has focus.
func TestKey(t *testing.T) {
	var f Focusable
	clicked := -1
	click := func(line int) { clicked = line }
	esc := tea.KeyMsg{Type: tea.KeyEsc}
	if _, ok := f.Key(esc, click); ok {
		t.Fatal("a pane without focus got a key")
	}
	if f.Key(ClickMsg{Row: 3}, click); clicked != -1 {
		t.Fatal("a pane without focus got a click")
	}
	f.Focus()
	if k, ok := f.Key(esc, click); !ok || k.Type != tea.KeyEsc {
		t.Fatalf("focused pane: key %v, %v", k, ok)
	}
	if _, ok := f.Key(ClickMsg{Row: 3}, click); ok || clicked != 3 {
		t.Fatalf("focused pane: click went to line %d (key %v)", clicked, ok)
	}
	if _, ok := f.Key(tea.WindowSizeMsg{}, nil); ok {
		t.Fatal("a window size is not a key")
	}
	f.Key(ClickMsg{Row: 1}, nil) // no click handler: ignored
	f.Blur()
	if _, ok := f.Key(esc, click); ok {
		t.Fatal("a blurred pane got a key")
	}
}
