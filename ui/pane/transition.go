package pane

import (
	"errors"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/lifecycle"
	"otscope/model"
	"otscope/ui/pane/form"
)

// OpenTransition opens f to confirm a manual state transition of asset a
// (current state cur) to state to, with the reason to record. When the
// transition is not allowed from cur it opens nothing and returns a
// notice saying why.
func OpenTransition(f *form.Model, a *model.Asset, cur, to lifecycle.State) tea.Cmd {
	probe := lifecycle.Transition{From: cur, To: to, At: time.Unix(1, 0), By: "check", Why: "check"}
	if _, err := lifecycle.Apply(cur, probe); err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, ": "); i >= 0 && errors.Is(err, lifecycle.ErrNotAllowed) {
			msg = msg[i+2:]
		}
		return Notice(a.Label()+": "+msg, true)
	}
	verb := map[lifecycle.State]string{
		lifecycle.Verified: "Verify", lifecycle.Decommissioned: "Decommission",
		lifecycle.Identified: "Withdraw the verification of", lifecycle.Discovered: "Recommission",
	}[to]
	hint := map[lifecycle.State]string{
		lifecycle.Verified:       "e.g. walkdown 2026-05, cabinet +A3, label matches",
		lifecycle.Decommissioned: "e.g. replaced by S7-1500, removed from cabinet",
	}[to]
	id := a.ID
	info := []string{"state: " + cur.String() + " → " + to.String() + " · recorded with your name and the time"}
	f.Open(verb+" "+a.Label()+"?", info, []form.Field{{Label: "reason", Hint: hint}}, func(v []string) (tea.Cmd, error) {
		why := strings.TrimSpace(v[0])
		if why == "" {
			return nil, errors.New("a reason is required")
		}
		return Send(SetStateMsg{ID: id, To: to, Why: why}), nil
	})
	return nil
}

// Toggle is the state v (verify) or x (decommission) leads to from cur:
// v on a verified asset withdraws the verification, x on a decommissioned
// one recommissions it.
func Toggle(cur lifecycle.State, verify bool) lifecycle.State {
	switch {
	case verify && cur == lifecycle.Verified:
		return lifecycle.Identified
	case verify:
		return lifecycle.Verified
	case cur == lifecycle.Decommissioned:
		return lifecycle.Discovered
	}
	return lifecycle.Decommissioned
}
