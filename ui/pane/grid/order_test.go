package grid

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"otscope/ui/theme"
)

// TestDirectedAndArrow checks the four combinations of a key's natural
// direction and the user's reverse, and that the arrow agrees with the order.
func TestDirectedAndArrow(t *testing.T) {
	for _, tc := range []struct {
		desc, rev bool
		want      int
		arrow     string
	}{
		{false, false, -1, "↑"},
		{false, true, 1, "↓"},
		{true, false, 1, "↓"},
		{true, true, -1, "↑"},
	} {
		if got := Directed(-1, tc.desc, tc.rev); got != tc.want {
			t.Errorf("Directed(-1, %v, %v) = %d, want %d", tc.desc, tc.rev, got, tc.want)
		}
		if got := Arrow(tc.desc, tc.rev); got != tc.arrow {
			t.Errorf("Arrow(%v, %v) = %q, want %q", tc.desc, tc.rev, got, tc.arrow)
		}
	}
	names := []string{"ip", "mac"}
	if SortName(names, 1) != "mac" || SortName(names, 2) != "unknown" || SortName(names, -1) != "unknown" {
		t.Fatal("SortName does not name the keys it has and only those")
	}
	if k := DefaultSortKeyMap(); k.Sort.Help().Key != "s" || k.Reverse.Help().Key != "S" {
		t.Fatalf("sort keys %q, %q", k.Sort.Help().Key, k.Reverse.Help().Key)
	}
}

// TestFilterKey types a query over a grid: the filter line takes a line,
// the rows are re-filtered, and the cursor goes to the top of a new list
// unless the selected row is still in it; SetFilter sets a query as if
// typed and accepted.
func TestFilterKey(t *testing.T) {
	st := theme.New()
	f := NewFilter(&st)
	f.SetWidth(20)
	all := []string{"alpha", "beta", "gamma", "delta"}
	g := New[string]()
	height := func() int { return 10 - f.Lines() }
	refresh := func() {
		var keep []string
		for _, k := range all {
			if strings.Contains(k, f.Query()) {
				keep = append(keep, k)
			}
		}
		g.SetRows(keep)
	}
	g.SetHeight(height())
	refresh()
	g.Update(tea.KeyMsg{Type: tea.KeyDown}) // beta
	if FilterKey(&f, &g, tea.KeyMsg{Type: tea.KeyDown}, height, refresh) {
		t.Fatal("a closed filter took a movement key")
	}
	if !FilterKey(&f, &g, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")}, height, refresh) || g.Height() != 9 || f.Lines() != 1 {
		t.Fatalf("opening the filter: height %d, lines %d", g.Height(), f.Lines())
	}
	FilterKey(&f, &g, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("ta")}, height, refresh)
	if k, _ := g.Selected(); k != "beta" || g.Len() != 2 {
		t.Fatalf("the selected row still shown moved: %q of %d", k, g.Len())
	}
	FilterKey(&f, &g, tea.KeyMsg{Type: tea.KeyBackspace}, height, refresh)
	FilterKey(&f, &g, tea.KeyMsg{Type: tea.KeyBackspace}, height, refresh)
	FilterKey(&f, &g, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("mm")}, height, refresh)
	if k, _ := g.Selected(); k != "gamma" || g.Cursor() != 0 {
		t.Fatalf("a new list does not start at its top: %q at %d", k, g.Cursor())
	}
	if l := ansi.Strip(f.Line(" 1 of 4")); l != "/mm█ 1 of 4" {
		t.Fatalf("filter line %q", l)
	}
	FilterKey(&f, &g, tea.KeyMsg{Type: tea.KeyEsc}, height, refresh)
	if g.Height() != 10 || f.Lines() != 0 || g.Len() != 4 {
		t.Fatalf("esc: height %d, lines %d, rows %d", g.Height(), f.Lines(), g.Len())
	}
	// SetFilter is the same without typing: the kept query takes its line
	SetFilter(&f, &g, "lt", height, refresh)
	if k, _ := g.Selected(); k != "delta" || g.Height() != 9 || f.Typing() || g.Len() != 1 {
		t.Fatalf("SetFilter: %q, height %d, typing %v, rows %d", k, g.Height(), f.Typing(), g.Len())
	}
	SetFilter(&f, &g, "", height, refresh)
	if g.Height() != 10 || g.Len() != 4 {
		t.Fatalf("SetFilter(\"\"): height %d, rows %d", g.Height(), g.Len())
	}
}
