package ui

import (
	"bytes"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
)

// TestScreenDrawsOnlyChangedLines: a frame equal to the screen writes
// nothing, a changed line is rewritten alone at its row, a shorter frame
// erases the rows it no longer covers, and a resize redraws everything.
func TestScreenDrawsOnlyChangedLines(t *testing.T) {
	s, draw := newTestScreen(10, 4)
	for _, step := range []struct {
		why, frame string
		resize     int // a new width before the frame, 0: none
		want       string
	}{
		{why: "first frame", frame: "aaaaaaaaaa\nbb\ncc\ndd",
			want: "\x1b[1;1Haaaaaaaaaa\x1b[2;1Hbb\x1b[K\x1b[3;1Hcc\x1b[K\x1b[4;1Hdd\x1b[K"},
		{why: "an unchanged frame", frame: "aaaaaaaaaa\nbb\ncc\ndd", want: ""},
		{why: "one changed line", frame: "aaaaaaaaaa\nBB\ncc\ndd", want: "\x1b[2;1HBB\x1b[K"},
		{why: "a shorter frame", frame: "aaaaaaaaaa\nBB", want: "\x1b[3;1H\x1b[K\x1b[4;1H\x1b[K"},
		{why: "a frame taller than the screen", frame: "1\n2\n3\n4\n5\n6",
			want: "\x1b[1;1H1\x1b[K\x1b[2;1H2\x1b[K\x1b[3;1H3\x1b[K\x1b[4;1H4\x1b[K"},
		{why: "after a resize", resize: 12, frame: "1\n2\n3\n4",
			want: "\x1b[2J\x1b[1;1H1\x1b[K\x1b[2;1H2\x1b[K\x1b[3;1H3\x1b[K\x1b[4;1H4\x1b[K"},
	} {
		if step.resize > 0 {
			s.resize(step.resize, 4)
		}
		if got := draw(step.frame); got != step.want {
			t.Fatalf("%s: wrote %q, want %q", step.why, got, step.want)
		}
	}
}

// newTestScreen returns a w×h screen on a buffer, and draw, which draws a
// frame and returns what the screen wrote since the last draw (a resize's
// clear with it).
func newTestScreen(w, h int) (*screen, func(frame string) string) {
	out := new(bytes.Buffer)
	s := &screen{out: out}
	s.resize(w, h)
	out.Reset()
	return s, func(frame string) string {
		s.draw(frame)
		defer out.Reset()
		return out.String()
	}
}

// TestScreenCutsWideLines: a line wider than the screen (a wide character
// measured short, a pane that forgot to cut) is cut to the width, styles
// kept, so the terminal never wraps it and scrolls.
func TestScreenCutsWideLines(t *testing.T) {
	_, draw := newTestScreen(6, 2)
	got := draw("\x1b[1mabcdefgh\x1b[0m\n日本語です")
	if strings.Contains(got, "gh") || strings.Contains(got, "で") || !strings.Contains(got, "abcdef") || !strings.Contains(got, "日本語") {
		t.Fatalf("wide lines not cut to 6 columns: %q", got)
	}
}

// TestFramedDrawsTheUI: under Run, the frame Bubble Tea asks for is drawn
// on the screen and Bubble Tea itself gets nothing to render.
func TestFramedDrawsTheUI(t *testing.T) {
	var out bytes.Buffer
	f := framed{m: fixtureModel(t, 80, 24), scr: &screen{out: &out}}
	nm, _ := f.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	f = nm.(framed)
	if v := f.View(); v != "" {
		t.Fatalf("framed.View returned %d bytes to Bubble Tea", len(v))
	}
	if !strings.Contains(out.String(), "plant-a") || strings.Count(out.String(), ";1H") != 24 {
		t.Fatalf("the first frame was not drawn whole: %q", out.String())
	}
	out.Reset()
	f.View()
	if out.Len() != 0 {
		t.Fatalf("an unchanged frame was drawn again: %q", out.String())
	}
}
