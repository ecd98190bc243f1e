package grid

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

func TestCursorFollowsKeyAcrossReorder(t *testing.T) {
	g := New[string]()
	g.SetHeight(3)
	g.SetRows([]string{"a", "b", "c", "d", "e"})
	g.Update(tea.KeyMsg{Type: tea.KeyDown})
	g.Update(tea.KeyMsg{Type: tea.KeyDown})
	if k, _ := g.Selected(); k != "c" {
		t.Fatalf("selected %q, want c", k)
	}
	g.SetRows([]string{"z", "e", "d", "c", "b", "a"})
	if k, _ := g.Selected(); k != "c" || g.Cursor() != 3 {
		t.Fatalf("after reorder selected %q at %d, want c at 3", k, g.Cursor())
	}
	if s, e := g.Window(); g.Cursor() < s || g.Cursor() >= e || e-s != 3 {
		t.Fatalf("window [%d,%d) does not show cursor %d in 3 rows", s, e, g.Cursor())
	}
	g.SetRows([]string{"a", "b"})
	if k, _ := g.Selected(); k != "b" {
		t.Fatalf("after the key vanished selected %q, want the clamped last row b", k)
	}
	g.SetRows(nil)
	if _, ok := g.Selected(); ok {
		t.Fatal("empty grid reports a selection")
	}
}

func TestMovementKeys(t *testing.T) {
	g := New[int]()
	g.SetHeight(10)
	keys := make([]int, 100)
	for i := range keys {
		keys[i] = i
	}
	g.SetRows(keys)
	for _, tc := range []struct {
		key  tea.KeyMsg
		want int
	}{
		{tea.KeyMsg{Type: tea.KeyPgDown}, 10},
		{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")}, 99},
		{tea.KeyMsg{Type: tea.KeyDown}, 99},
		{tea.KeyMsg{Type: tea.KeyPgUp}, 89},
		{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")}, 0},
		{tea.KeyMsg{Type: tea.KeyUp}, 0},
	} {
		if !g.Update(tc.key) {
			t.Fatalf("%v not handled", tc.key)
		}
		if g.Cursor() != tc.want {
			t.Fatalf("after %v cursor %d, want %d", tc.key, g.Cursor(), tc.want)
		}
		if s, e := g.Window(); g.Cursor() < s || g.Cursor() >= e {
			t.Fatalf("after %v window [%d,%d) hides cursor %d", tc.key, s, e, g.Cursor())
		}
	}
}

func TestLayout(t *testing.T) {
	cols := []Column{{Width: 3}, {Width: 4, Max: 10}, {Width: 2, Max: 20, Flex: 2}}
	ws := Layout(cols, 20)
	if ws[0] != 3 || ws[0]+ws[1]+ws[2]+2 != 20 || ws[2] <= ws[1]-4+2 {
		t.Fatalf("Layout = %v", ws)
	}
	if got := Join(cols, ws, []string{"abcdef", "x", "y"}); len([]rune(got)) != 20 {
		t.Fatalf("Join width %d: %q", len([]rune(got)), got)
	}
}

func TestCursorStaysOnTopUntilMoved(t *testing.T) {
	g := New[string]()
	g.SetHeight(2)
	g.SetRows([]string{"m"})
	g.SetRows([]string{"a", "b", "m"})
	if k, _ := g.Selected(); k != "a" {
		t.Fatalf("untouched grid selected %q after rows arrived above, want the first row a", k)
	}
	if s, _ := g.Window(); s != 0 {
		t.Fatalf("untouched grid scrolled to %d, want the top", s)
	}
	g.Update(tea.KeyMsg{Type: tea.KeyDown})
	g.SetRows([]string{"0", "a", "b", "m"})
	if k, _ := g.Selected(); k != "b" {
		t.Fatalf("after moving, selected %q, want b kept", k)
	}
	g.Top()
	g.SetRows([]string{"z", "0", "a", "b", "m"})
	if k, _ := g.Selected(); k != "z" {
		t.Fatalf("after Top, selected %q, want the first row z", k)
	}
}

// TestScroll moves a viewport of 30 lines, 10 high, with the movement keys,
// and only with them.
func TestScroll(t *testing.T) {
	vp := NewViewport()
	vp.Width, vp.Height = 20, 10
	vp.SetContent(strings.Repeat("line\n", 29) + "last")
	k := DefaultKeyMap()
	for _, step := range []struct {
		key  tea.KeyMsg
		want int
	}{
		{tea.KeyMsg{Type: tea.KeyDown}, 1},
		{tea.KeyMsg{Type: tea.KeyPgDown}, 11},
		{tea.KeyMsg{Type: tea.KeyUp}, 10},
		{tea.KeyMsg{Type: tea.KeyPgUp}, 0},
		{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")}, 20},
		{tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("g")}, 0},
	} {
		if !k.Scroll(&vp, step.key) || vp.YOffset != step.want {
			t.Fatalf("%s: offset %d, want %d", step.key, vp.YOffset, step.want)
		}
	}
	if k.Scroll(&vp, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")}) {
		t.Fatal("x scrolled")
	}
}
