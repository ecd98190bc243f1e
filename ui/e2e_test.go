package ui

import (
	"bytes"
	"io"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"otscope/model"
)

// TestEndToEnd runs the real program at 80x24: updates arrive through the
// channel while it runs, the user opens the detail of an asset, the feed
// closes, and q quits.
func TestEndToEnd(t *testing.T) {
	ch := make(chan model.Update, 4)
	tm := teatest.NewTestModel(t, New(testConfig(ch)), teatest.WithInitialTermSize(80, 24))
	waitFor := func(what string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
			return bytes.Contains([]byte(ansi.Strip(string(b))), []byte(what))
		}, teatest.WithDuration(5*time.Second), teatest.WithCheckInterval(10*time.Millisecond))
	}
	ch <- model.Update{Reset: true, Assets: fixtureAssets()[:3], Stats: fixtureStats(0)}
	waitFor("3 assets")
	ch <- model.Update{Assets: fixtureAssets()[3:], Conversations: fixtureConversations()}
	waitFor("CAM-DOCK")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("/")})
	tm.Type("hirsch")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor("1 of 11 assets")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	waitFor("derived oui · plant.pcap #5")
	close(ch)
	waitFor("stopped")
	tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("q")})
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))
	final := tm.FinalModel(t).(Model)
	if final.Focused() != FocusDetail || final.detail.Shown() != idSwitch {
		t.Fatalf("final focus %v showing %q, want the switch's detail", final.Focused(), final.detail.Shown())
	}
	if !final.state.Closed() {
		t.Fatal("final model did not see the feed close")
	}
	_, _ = io.Copy(io.Discard, tm.FinalOutput(t))
}
