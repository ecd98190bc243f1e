// Package pane defines what every otscope TUI pane provides, the shared
// read-only Context panes are built with, and the messages panes use to ask
// the root for navigation.
//
// Adding a pane means writing a type that satisfies Pane in its own package
// under ui/pane/ and adding it to the list in ui.New; routing, focus, sizing,
// the tab bar and the help overlay pick it up from there.
//
// Panes are pointers updated in place: Update returns only a tea.Cmd. This
// deviates from bubbles' value-returning Update on purpose, so the root can
// keep its panes in one slice and broadcast sizes and data without type
// assertions. All methods run on the Bubble Tea goroutine.
package pane

import (
	"time"

	"github.com/charmbracelet/bubbles/help"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/model"
	"otscope/ui/state"
	"otscope/ui/theme"
)

// Pane is one screen of the TUI.
type Pane interface {
	// KeyMap gives the pane's keys for the status bar and the help overlay.
	help.KeyMap
	// Title is the pane's name in the tab bar.
	Title() string
	// Summary is one short line about the pane's content (counts, sort,
	// scroll position) shown at the right of the tab bar while focused.
	Summary() string
	// SetSize gives the pane its box. It is called for hidden panes too.
	SetSize(width, height int)
	// Focus and Blur tell the pane whether it receives keys.
	Focus()
	Blur()
	// Capturing reports whether the pane is taking text input; the root then
	// hands it every key first, so "q" or "?" type instead of acting.
	Capturing() bool
	// Update handles a message routed to the pane: keys when focused, other
	// messages always.
	Update(msg tea.Msg) tea.Cmd
	// DataChanged tells the pane that the shared state changed.
	DataChanged(c state.Change)
	// View renders exactly the pane's box (at most width cells wide and
	// height lines tall).
	View() string
}

// Context is what every pane is built with. It is shared and read-only.
type Context struct {
	Styles *theme.Styles
	State  *state.State
	// Now returns the current time for relative ages ("3s").
	Now func() time.Time
	// Session is the name of the session shown.
	Session string
}

// StaleAfter is how far the newest packet may lie behind the wall clock
// before ages are measured from that packet instead.
const StaleAfter = 10 * time.Minute

// Ref returns the time ages ("3s", "2h") are measured from. While a live
// capture runs, or when the data is recent, that is the wall clock. For a
// finished file, a reopened session or a capture that stopped long ago it
// is the newest packet in the session (rel is true), so that ages still
// tell which devices went quiet before the end instead of "996d" for all.
func (c Context) Ref() (ref time.Time, rel bool) {
	now := c.Now()
	latest := c.State.Latest()
	if latest.IsZero() || c.State.LiveRunning() || now.Sub(latest) <= StaleAfter {
		return now, false
	}
	return latest.In(now.Location()), true
}

// OpenAssetMsg asks the root to show the asset with ID in the detail pane.
type OpenAssetMsg struct{ ID model.AssetID }

// OpenAsset returns a command that sends OpenAssetMsg for id.
func OpenAsset(id model.AssetID) tea.Cmd {
	return func() tea.Msg { return OpenAssetMsg{ID: id} }
}

// BackMsg asks the root to focus the pane that was focused before the last
// OpenAssetMsg.
type BackMsg struct{}

// Back returns a command that sends BackMsg.
func Back() tea.Cmd { return func() tea.Msg { return BackMsg{} } }

// Focusable gives a pane that embeds it Focus and Blur; Focused tells
// whether the pane has the keys.
type Focusable struct{ focused bool }

// Focus implements Pane.
func (f *Focusable) Focus() { f.focused = true }

// Blur implements Pane.
func (f *Focusable) Blur() { f.focused = false }

// Focused reports whether the pane has the keys.
func (f *Focusable) Focused() bool { return f.focused }

// Key sorts a message for a pane's Update: a click in the focused pane goes
// to click (if any) with its line in the pane; a key is returned, ok only while the
// pane has focus. Other messages are not the pane's.
func (f *Focusable) Key(msg tea.Msg, click func(line int)) (k tea.KeyMsg, ok bool) {
	switch msg := msg.(type) {
	case ClickMsg:
		if f.focused && click != nil {
			click(msg.Row)
		}
	case tea.KeyMsg:
		return msg, f.focused
	}
	return tea.KeyMsg{}, false
}
