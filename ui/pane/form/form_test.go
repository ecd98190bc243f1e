package form

import (
	"errors"
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"otscope/ui/theme"
)

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

var enter = tea.KeyMsg{Type: tea.KeyEnter}

// nameplate opens a three-field form and returns it with where the
// submitted values land.
func nameplate(t *testing.T) (*Model, *[]string) {
	t.Helper()
	st := theme.New()
	f := New(&st)
	var got []string
	f.Open("Nameplate of PLC-LINE1", nil, []Field{{Label: "order number"}, {Label: "serial"}, {Label: "firmware", Value: "V"}},
		func(v []string) (tea.Cmd, error) {
			if v[0] == "" {
				return nil, errors.New("order number is empty")
			}
			got = slices.Clone(v)
			return tea.Quit, nil
		})
	return &f, &got
}

// TestBarcodeWedge types what a keyboard-wedge barcode scanner sends: a
// fast burst of runes and Enter, either as the terminal splits them (runes,
// then an enter key) or in one message; each scan fills one field and
// moves on, and the last one submits.
func TestBarcodeWedge(t *testing.T) {
	f, got := nameplate(t)
	f.Update(runes("6ES7 516-3AN01-0AB0"))
	if cmd := f.Update(enter); cmd != nil || f.focus != 1 {
		t.Fatalf("enter after the first scan: focus %d, cmd %v", f.focus, cmd)
	}
	f.Update(runes("S C-X4U21234\r"))
	if f.focus != 2 || !f.Active() {
		t.Fatalf("a burst ending in CR: focus %d, open %v", f.focus, f.Active())
	}
	cmd := f.Update(runes("2.9.4\r\n"))
	if cmd == nil || f.Active() {
		t.Fatalf("the last scan did not submit: cmd %v, open %v", cmd, f.Active())
	}
	if want := []string{"6ES7 516-3AN01-0AB0", "S C-X4U21234", "V2.9.4"}; !slices.Equal(*got, want) {
		t.Fatalf("submitted %q, want %q", *got, want)
	}

	// two scans in one burst fill two fields
	f, got = nameplate(t)
	f.Update(runes("6AV2 124-0GC01-0AX0\nSZVB1234\n"))
	if f.focus != 2 || !slices.Equal(f.Values(), []string{"6AV2 124-0GC01-0AX0", "SZVB1234", "V"}) {
		t.Fatalf("two scans in one burst: focus %d, values %q", f.focus, f.Values())
	}
	if *got != nil {
		t.Fatal("submitted before the last field")
	}
}

// TestEditing checks the line editor's keys: word and line deletion,
// cursor movement with insertion in the middle, control runes dropped.
func TestEditing(t *testing.T) {
	f, _ := nameplate(t)
	for _, step := range []struct {
		what string
		keys []tea.KeyMsg
		want string
	}{
		{"ctrl+w", []tea.KeyMsg{runes("spare on shelf"), {Type: tea.KeyCtrlW}}, "spare on "},
		{"ctrl+u", []tea.KeyMsg{{Type: tea.KeyCtrlU}}, ""},
		{"insert at the cursor", []tea.KeyMsg{runes("ac"), {Type: tea.KeyLeft}, runes("b\x07"), {Type: tea.KeySpace}}, "ab c"},
		{"backspace", []tea.KeyMsg{{Type: tea.KeyBackspace}}, "abc"},
	} {
		for _, k := range step.keys {
			f.Update(k)
		}
		if v := f.Values()[0]; v != step.want {
			t.Fatalf("%s: %q", step.what, v)
		}
	}
}

// TestKeysLine says what enter does: next field until the last, where it
// confirms; a submit error keeps the form open and shows it.
func TestKeysLine(t *testing.T) {
	f, _ := nameplate(t)
	view := func() string { return ansi.Strip(strings.Join(f.View(80), "\n")) }
	if v := view(); !strings.Contains(v, "enter/tab next field") || strings.Contains(v, "enter confirm") {
		t.Fatalf("first field:\n%s", v)
	}
	f.Update(tea.KeyMsg{Type: tea.KeyTab})
	f.Update(tea.KeyMsg{Type: tea.KeyTab})
	if v := view(); !strings.Contains(v, "enter confirm") {
		t.Fatalf("last field:\n%s", v)
	}
	if cmd := f.Update(enter); cmd != nil || !f.Active() || !strings.Contains(view(), "order number is empty") {
		t.Fatalf("an invalid submit: cmd %v, open %v\n%s", cmd, f.Active(), view())
	}
	if len(f.View(80)) != f.Height() {
		t.Fatalf("View has %d lines, Height says %d", len(f.View(80)), f.Height())
	}
	if h := f.Help(); len(h) != 3 || h[0].Help().Desc != "confirm" {
		t.Fatalf("help on the last field: %+v", h)
	}
	f.Update(tea.KeyMsg{Type: tea.KeyShiftTab})
	if h := f.Help(); len(h) != 2 || h[0].Help().Desc != "next field" {
		t.Fatalf("help on another field: %+v", h)
	}
}
