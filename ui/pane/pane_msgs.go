package pane

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/lifecycle"
	"otscope/model"
)

// TickMsg is the root's once-a-second clock tick, broadcast to every pane
// after the shared state has taken its packets/s sample. Panes that show
// ages or rates refresh their cached text on it.
type TickMsg struct{ Time time.Time }

// ClickMsg is a left click in the focused pane's area, Row lines below
// its first line. Table panes select the row clicked; others ignore it.
type ClickMsg struct{ Row int }

// SetStateMsg asks the root to record a manual inventory-state transition
// of an asset (verified on a walkdown, decommissioned) for a reason.
type SetStateMsg struct {
	ID  model.AssetID
	To  lifecycle.State
	Why string
}

// WaiveMsg asks the root to store a waiver of Rule for Asset ("*": every
// asset) until Until (zero: no expiry), or with Revoke to end it now.
type WaiveMsg struct {
	Rule   string
	Asset  model.AssetID
	Reason string
	Until  time.Time
	Revoke bool
}

// NoticeMsg asks the root to show a one-line notice for a few seconds:
// what an action did, or why it failed (Err).
type NoticeMsg struct {
	Text string
	Err  bool
}

// Notice returns a command that sends NoticeMsg.
func Notice(text string, isErr bool) tea.Cmd {
	return func() tea.Msg { return NoticeMsg{Text: text, Err: isErr} }
}

// Send returns a command that delivers msg.
func Send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
