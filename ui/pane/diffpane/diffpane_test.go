package diffpane

import (
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"otscope/assets/diff"
	"otscope/ui/format"
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
	if !m.Update(teaKey("esc")) {
		t.Fatal("esc does not close the view")
	}
}

func teaKey(s string) tea.KeyMsg {
	if s == "esc" {
		return tea.KeyMsg{Type: tea.KeyEsc}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)}
}
