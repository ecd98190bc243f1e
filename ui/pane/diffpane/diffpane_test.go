package diffpane

import (
	"strconv"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"otscope/assets/diff"
	"otscope/ui/format"
	"otscope/ui/internal/keymsg"
	"otscope/ui/theme"
)

// TestHostileTextAndWidth: labels and values come from devices; they
// reach the terminal as text only, and no line is wider than the view.
func TestHostileTextAndWidth(t *testing.T) {
	lipgloss.SetColorProfile(termenv.Ascii)
	st := theme.New()
	m := New(&st)
	r := diff.Result{From: "a", To: "b", Counts: map[diff.Kind]int{diff.Changed: 1, diff.New: 2}, Changes: []diff.Change{
		{Kind: diff.Changed, Subject: diff.Asset, Asset: "mac:1", Label: "PLC\x1b]0;owned\x07", Field: diff.FieldFirmware,
			Old: "V1\x1b[2J", New: "V2\u202e"},
		{Kind: diff.New, Subject: diff.Service, Asset: "mac:1", Label: "PLC", Detail: "tcp/80 http"},
		{Kind: diff.New, Subject: diff.Conversation, Asset: "mac:1", Label: strings.Repeat("W", 60), Detail: strings.Repeat("x", 200)},
	}}
	for _, w := range []int{40, 80, 120} {
		m.SetSize(w, 20)
		m.Show(r)
		v := m.View()
		if strings.ContainsAny(v, "\x1b\x07\u202e") {
			t.Fatalf("width %d: control characters reached the view: %q", w, v)
		}
		for _, l := range strings.Split(v, "\n") {
			if format.Width(l) > w {
				t.Fatalf("width %d: line %q is %d wide", w, l, format.Width(l))
			}
		}
		for _, want := range []string{"CHANGED IDENTITY (1)", "firmware V1", "SERVICES (1)", "new service tcp/80 http", "CONVERSATIONS (1)",
			"assets: 0 new · 0 vanished · 1 changed"} {
			if !strings.Contains(v, want) {
				t.Fatalf("width %d: no %q in\n%s", w, want, v)
			}
		}
	}
	if m.Update(keymsg.For("esc")) != Close {
		t.Fatal("esc does not close the view")
	}
}

// TestCursorStaysVisible: the cursor walks the changes and the list
// scrolls so that it is always on screen.
func TestCursorStaysVisible(t *testing.T) {
	lipgloss.SetColorProfile(termenv.Ascii)
	st := theme.New()
	m := New(&st)
	r := diff.Result{From: "a", To: "b", Counts: map[diff.Kind]int{}}
	for i := range 60 {
		kind := diff.New
		if i%3 == 0 {
			kind = diff.Vanished
		}
		r.Changes = append(r.Changes, diff.Change{Kind: kind, Subject: diff.Service, Asset: "a", Label: "dev-" + strconv.Itoa(i),
			Detail: "tcp/" + strconv.Itoa(1000+i)})
	}
	m.SetSize(80, 12)
	m.Show(r)
	check := func(what string) {
		t.Helper()
		c, ok := m.Selected()
		if !ok {
			t.Fatalf("%s: no selection", what)
		}
		var line string
		for _, l := range strings.Split(m.View(), "\n") {
			if strings.HasPrefix(l, "▸") {
				line = l
			}
		}
		if !strings.Contains(line, c.Label+" ") {
			t.Fatalf("%s: selected %s, cursor line %q\n%s", what, c.Label, line, m.View())
		}
	}
	check("start")
	for _, step := range []struct {
		what, key string
		times     int
		want      string // the change selected after, when it matters
	}{
		{"25 down", "down", 25, ""},
		{"page down", "pgdown", 1, ""},
		{"end", "G", 1, "dev-59"},
		{"page up", "pgup", 1, ""},
		{"home", "g", 1, "dev-0"},
	} {
		for range step.times {
			m.Update(keymsg.For(step.key))
		}
		if c, _ := m.Selected(); step.want != "" && c.Label != step.want {
			t.Fatalf("%s selected %s, want %s", step.key, c.Label, step.want)
		}
		check(step.what)
	}
	if m.Update(tea.KeyMsg{Type: tea.KeyEnter}) != Open {
		t.Fatal("enter does not open the selected change")
	}
}
