package grid

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"otscope/ui/theme"
)

type testCol uint8

const (
	tcName testCol = iota
	tcAlias
	tcSize
	tcAge
)

var testCols = []Column{
	tcName:  {Title: "NAME", Width: 6, Max: 10},
	tcAlias: {Title: "ALIAS", Width: 6},
	tcSize:  {Title: "SIZE", Width: 5, Right: true},
	tcAge:   {Title: "AGE", Width: 4, Right: true},
}

// TestTableRows lays out columns, marks the sort column and its stand-in,
// and draws rows: the cached text is rebuilt only when the layout changes,
// the last column every time, the cursor row marked and styled.
func TestTableRows(t *testing.T) {
	st := theme.New()
	tb := NewTable[testCol](&st)
	def := func(c testCol) Column { return testCols[c] }
	tb.SetColumns([]testCol{tcName, tcSize, tcAge}, def, 24)
	if tb.Width(0) != 10 || tb.LastWidth() != 4 || len(tb.Cols()) != 3 {
		t.Fatalf("widths %d, %d of %v", tb.Width(0), tb.LastWidth(), tb.Cols())
	}
	tb.SetSort("↑", tcAlias, tcName) // the alias column is not shown
	if h := ansi.Strip(tb.Header()); h != " NAME↑       SIZE  AGE" {
		t.Fatalf("header %q", h)
	}
	tb.SetSort("↓", tcAlias)
	if h := ansi.Strip(tb.Header()); strings.ContainsAny(h, "↑↓") {
		t.Fatalf("a sort shown in no column marked %q", h)
	}
	var c Cache
	built := 0
	cell := func(_ int, col testCol) string {
		built++
		return map[testCol]string{tcName: "plc-1", tcSize: "12"}[col]
	}
	if r := tb.Row(&c, cell, "5s", "", false); r != " plc-1         12   5s" || built != 2 {
		t.Fatalf("row %q, %d cells built", r, built)
	}
	if r := ansi.Strip(tb.Row(&c, cell, "6s", "", true)); r != "▸plc-1         12   6s" || built != 2 {
		t.Fatalf("cursor row %q, %d cells built (the cache was not used)", r, built)
	}
	if r := ansi.Strip(tb.Row(&c, cell, "6s", "●", true)); !strings.HasPrefix(r, "●plc-1") {
		t.Fatalf("marked cursor row %q", r)
	}
	tb.SetColumns([]testCol{tcName, tcAge}, def, 12)
	if r := tb.Row(&c, cell, "7s", "", false); r != " plc-1     7s" || built != 3 {
		t.Fatalf("row after a new layout %q, %d cells built", r, built)
	}
}

// TestVisible yields the rows on screen and the cursor among them.
func TestVisible(t *testing.T) {
	g := New[int]()
	g.SetHeight(3)
	g.SetRows([]int{10, 11, 12, 13, 14})
	g.Update(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("G")})
	var got []int
	cursor := -1
	for k, cur := range g.Visible() {
		got = append(got, k)
		if cur {
			cursor = k
		}
		if k == 13 {
			break
		}
	}
	if len(got) != 2 || got[0] != 12 || got[1] != 13 || cursor != -1 {
		t.Fatalf("visible %v, cursor %d (stopped at 13)", got, cursor)
	}
	for k, cur := range g.Visible() {
		if cur && k != 14 {
			t.Fatalf("cursor on %d, want 14", k)
		}
	}
}

type testKey uint8

func (k testKey) String() string   { return SortName([]string{"name", "age"}, int(k)) }
func (k testKey) Descending() bool { return k == 1 }

// TestSortKeys cycles the sort keys with s, each in its natural
// direction, and reverses with S.
func TestSortKeys(t *testing.T) {
	var s Sort[testKey]
	k := DefaultSortKeyMap()
	if s.String() != "name ↑" || s.Directed(-1) != -1 {
		t.Fatalf("start %q", s)
	}
	if !s.Update(k, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("S")}, 2) || s.String() != "name ↓" || s.Directed(-1) != 1 {
		t.Fatalf("reversed %q", s)
	}
	if !s.Update(k, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("s")}, 2) || s.String() != "age ↓" || s.Reverse {
		t.Fatalf("next key %q, reverse %v", s, s.Reverse)
	}
	s.Update(k, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("s")}, 2)
	if s.By != 0 {
		t.Fatalf("cycled to %d, want 0", s.By)
	}
	if s.Update(k, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("x")}, 2) {
		t.Fatal("x changed the sort")
	}
}
