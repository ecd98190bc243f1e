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
	var out bytes.Buffer
	s := &screen{out: &out}
	s.resize(10, 4)
	out.Reset()
	s.draw("aaaaaaaaaa\nbb\ncc\ndd")
	if got := out.String(); got != "\x1b[1;1Haaaaaaaaaa\x1b[2;1Hbb\x1b[K\x1b[3;1Hcc\x1b[K\x1b[4;1Hdd\x1b[K" {
		t.Fatalf("first frame: %q", got)
	}
	out.Reset()
	s.draw("aaaaaaaaaa\nbb\ncc\ndd")
	if out.Len() != 0 {
		t.Fatalf("an unchanged frame wrote %q", out.String())
	}
	s.draw("aaaaaaaaaa\nBB\ncc\ndd")
	if got := out.String(); got != "\x1b[2;1HBB\x1b[K" {
		t.Fatalf("one changed line: %q", got)
	}
	out.Reset()
	s.draw("aaaaaaaaaa\nBB")
	if got := out.String(); got != "\x1b[3;1H\x1b[K\x1b[4;1H\x1b[K" {
		t.Fatalf("shorter frame: %q", got)
	}
	out.Reset()
	s.draw("1\n2\n3\n4\n5\n6")
	if strings.Contains(out.String(), "5") {
		t.Fatalf("drew below the screen: %q", out.String())
	}
	out.Reset()
	s.resize(12, 4)
	s.draw("1\n2\n3\n4")
	if got := out.String(); !strings.HasPrefix(got, "\x1b[2J") || strings.Count(got, ";1H") != 4 {
		t.Fatalf("after a resize the frame is not drawn whole: %q", got)
	}
}

// TestScreenCutsWideLines: a line wider than the screen (a wide character
// measured short, a pane that forgot to cut) is cut to the width, styles
// kept, so the terminal never wraps it and scrolls.
func TestScreenCutsWideLines(t *testing.T) {
	var out bytes.Buffer
	s := &screen{out: &out}
	s.resize(6, 2)
	out.Reset()
	s.draw("\x1b[1mabcdefgh\x1b[0m\n日本語です")
	got := out.String()
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
