package lifecycle

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"otscope/model"
)

// State is an asset's place in the inventory: how far it has been
// identified and confirmed, or whether it has gone.
type State uint8

// The inventory states. The zero State, Untracked, is that of an asset with
// no history yet.
const (
	Untracked State = iota
	// Discovered: seen on the network, not yet identified.
	Discovered
	// Identified: the asset told us what it is (product, order number or
	// firmware), or a protocol proved its role.
	Identified
	// Verified: a person confirmed it on a walkdown (manual only).
	Verified
	// Missing: not seen for the policy's time, or not since the last
	// session.
	Missing
	// Decommissioned: taken out of service (manual only). Automatic
	// transitions never leave it.
	Decommissioned
)

var stateNames = [...]string{"untracked", "discovered", "identified", "verified", "missing", "decommissioned"}

// String returns the state's name: "discovered", "identified", ...
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// MarshalText implements encoding.TextMarshaler.
func (s State) MarshalText() ([]byte, error) {
	if int(s) >= len(stateNames) {
		return nil, fmt.Errorf("lifecycle: invalid state %d", uint8(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *State) UnmarshalText(b []byte) error {
	for i, n := range stateNames {
		if strings.EqualFold(n, string(b)) {
			*s = State(i)
			return nil
		}
	}
	return fmt.Errorf("lifecycle: unknown state %q", b)
}

// System is the By of transitions otscope makes itself.
const System = "otscope"

// Transition is one change of an asset's state: from, to, when, by whom
// (System or a user name) and why.
type Transition struct {
	From State     `json:"from"`
	To   State     `json:"to"`
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Why  string    `json:"why"`
}

// Manual reports whether a person made the transition.
func (t Transition) Manual() bool { return t.By != System }

// MissingPolicy says when an asset counts as missing. Both conditions are
// optional; with neither, assets never go missing.
type MissingPolicy struct {
	// After: missing when not seen for longer than this (0: off).
	After time.Duration
	// Since: missing when not seen since this time, typically the start of
	// the last completed session (zero: off).
	Since time.Time
}

// Errors of Apply and History.Record.
var (
	ErrNotAllowed = errors.New("transition not allowed")
	ErrBadManual  = errors.New("manual transition incomplete")
	ErrStale      = errors.New("transition does not start from the current state")
)

// Next computes the automatic state of an asset: current is its state now,
// lastSeen when it was last seen (a.LastSeen when zero). It returns the new
// state, why it changed and whether it did.
//
//   - untracked → discovered, or identified when the asset already says what it is;
//   - discovered → identified when it has a product, order number or
//     firmware, or a role proven by a protocol (not inferred from behaviour);
//   - discovered, identified, verified → missing per policy;
//   - missing → identified or discovered when seen again (a verified asset
//     that comes back must be verified again: it may be a replacement);
//   - verified and decommissioned are only entered by Apply, and
//     decommissioned is never left automatically.
func Next(current State, a *model.Asset, lastSeen, now time.Time, policy MissingPolicy) (State, string, bool) {
	if lastSeen.IsZero() && a != nil {
		lastSeen = a.LastSeen
	}
	if current == Decommissioned || int(current) >= len(stateNames) {
		return current, "", false
	}
	if why, gone := missing(lastSeen, now, policy); gone {
		if current == Missing {
			return current, "", false
		}
		if current != Untracked {
			return Missing, why, true
		}
	}
	idWhy, ok := identified(a)
	switch current {
	case Untracked:
		if ok {
			return Identified, "first seen; " + idWhy, true
		}
		return Discovered, "first seen", true
	case Discovered:
		if ok {
			return Identified, idWhy, true
		}
	case Missing:
		seen := "seen again " + lastSeen.UTC().Format(time.DateTime)
		if ok {
			return Identified, seen + "; " + idWhy, true
		}
		return Discovered, seen, true
	}
	return current, "", false
}

// missing applies the policy.
func missing(lastSeen, now time.Time, p MissingPolicy) (string, bool) {
	if lastSeen.IsZero() {
		return "", false // never seen on the network (e.g. entered by hand)
	}
	if p.After > 0 && now.Sub(lastSeen) > p.After {
		return fmt.Sprintf("not seen for %s (policy: %s)", roundDuration(now.Sub(lastSeen)), roundDuration(p.After)), true
	}
	if !p.Since.IsZero() && lastSeen.Before(p.Since) {
		return "not seen since " + p.Since.UTC().Format(time.DateTime) + " (last session)", true
	}
	return "", false
}

// roundDuration writes d in days and hours, or minutes when short.
func roundDuration(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		days := d / (24 * time.Hour)
		h := (d % (24 * time.Hour)) / time.Hour
		if h == 0 {
			return fmt.Sprintf("%dd", days)
		}
		return fmt.Sprintf("%dd%dh", days, h)
	case d >= time.Hour:
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}

// identified says what identifies the asset: a product, order number or
// firmware, or a role fact from a protocol or a person (not one inferred
// from behaviour or an address).
func identified(a *model.Asset) (string, bool) {
	if a == nil {
		return "", false
	}
	for _, f := range []struct{ name, v string }{
		{"order number", a.OrderNumber}, {"product", a.Product}, {"firmware", a.Firmware},
	} {
		if strings.TrimSpace(f.v) != "" {
			return "identified by " + f.name + " " + f.v + fromFact(a, f.v), true
		}
	}
	for i := range a.Facts {
		f := &a.Facts[i]
		switch f.Field {
		case model.FieldOrderNumber, model.FieldProduct, model.FieldFirmware:
			if strings.TrimSpace(f.Value) != "" {
				return "identified by " + strings.ReplaceAll(f.Field, "_", " ") + " " + f.Value + provenance(f), true
			}
		case model.FieldRole:
			if f.Source.Kind != model.Derived && f.Value != "" {
				return "role " + f.Value + " proven" + provenance(f), true
			}
		}
	}
	return "", false
}

// fromFact names the provenance of the fact holding v, if any.
func fromFact(a *model.Asset, v string) string {
	for i := range a.Facts {
		if a.Facts[i].Value == v {
			return provenance(&a.Facts[i])
		}
	}
	return ""
}

func provenance(f *model.Fact) string {
	switch {
	case f.Source.Kind == model.Manual:
		return " (entered by hand)"
	case f.Source.Protocol != "":
		return " (" + f.Source.Protocol + ")"
	}
	return ""
}

// manualAllowed lists the transitions a person may make, with the reason
// the others are refused.
func manualAllowed(from, to State) error {
	switch to {
	case Verified:
		switch from {
		case Discovered, Identified:
			return nil
		case Missing:
			return errors.New("a missing asset must be seen on the network again before it can be verified")
		}
	case Decommissioned:
		switch from {
		case Discovered, Identified, Verified, Missing:
			return nil
		}
	case Identified:
		if from == Verified {
			return nil // verification withdrawn
		}
		return errors.New("identification comes from the asset's own facts; add a manual fact instead")
	case Discovered:
		if from == Decommissioned {
			return nil // recommissioned: otscope takes over again
		}
	case Missing:
		switch from {
		case Discovered, Identified, Verified:
			return nil // a person on the floor found it is not there
		}
	case Untracked:
		return errors.New("no transition leads back to untracked")
	}
	if from == to {
		return fmt.Errorf("already %s", to)
	}
	return fmt.Errorf("%s → %s is not a manual transition", from, to)
}

// autoAllowed lists the transitions Next may make.
func autoAllowed(from, to State) bool {
	switch from {
	case Untracked:
		return to == Discovered || to == Identified
	case Discovered:
		return to == Identified || to == Missing
	case Identified, Verified:
		return to == Missing
	case Missing:
		return to == Discovered || to == Identified
	}
	return false
}

// Apply validates a manual transition from current and returns the new
// state. The transition must come from a person (By not empty and not
// System), have a time and a reason, and be one of: discovered or
// identified → verified (walkdown); verified → identified (verification
// withdrawn); discovered, identified or verified → missing (not found on a
// walkdown); any tracked state → decommissioned; decommissioned →
// discovered (recommissioned).
func Apply(current State, t Transition) (State, error) {
	switch {
	case strings.TrimSpace(t.By) == "" || t.By == System:
		return current, fmt.Errorf("%w: who made it (By) must be a person, not %q", ErrBadManual, t.By)
	case t.At.IsZero():
		return current, fmt.Errorf("%w: no time (At)", ErrBadManual)
	case strings.TrimSpace(t.Why) == "":
		return current, fmt.Errorf("%w: no reason (Why)", ErrBadManual)
	case t.From != current:
		return current, fmt.Errorf("%w: from %s, but the asset is %s", ErrStale, t.From, current)
	case int(t.To) >= len(stateNames):
		return current, fmt.Errorf("%w: unknown state %d", ErrNotAllowed, t.To)
	}
	if err := manualAllowed(current, t.To); err != nil {
		return current, fmt.Errorf("%w: %v", ErrNotAllowed, err)
	}
	return t.To, nil
}

// History is an asset's transitions, oldest first.
type History []Transition

// Current is the state after the last transition (Untracked for no history).
func (h History) Current() State {
	if len(h) == 0 {
		return Untracked
	}
	return h[len(h)-1].To
}

// Record appends a transition after checking it: manual ones with Apply,
// automatic ones (By == System) against the transitions Next makes, and
// neither may go back in time.
func (h *History) Record(t Transition) error {
	cur := h.Current()
	if n := len(*h); n > 0 && t.At.Before((*h)[n-1].At) {
		return fmt.Errorf("%w: at %s, before the last transition (%s)", ErrNotAllowed,
			t.At.UTC().Format(time.DateTime), (*h)[n-1].At.UTC().Format(time.DateTime))
	}
	if t.Manual() {
		if _, err := Apply(cur, t); err != nil {
			return err
		}
	} else {
		if t.From != cur {
			return fmt.Errorf("%w: from %s, but the asset is %s", ErrStale, t.From, cur)
		}
		if !autoAllowed(t.From, t.To) {
			return fmt.Errorf("%w: %s → %s is not an automatic transition", ErrNotAllowed, t.From, t.To)
		}
	}
	*h = append(*h, t)
	return nil
}

// Next is Next for the history's current state, except that an asset a
// person declared missing stays missing until it is seen after they said
// so (traffic from before the walkdown does not bring it back).
func (h History) Next(a *model.Asset, lastSeen, now time.Time, policy MissingPolicy) (State, string, bool) {
	cur := h.Current()
	if lastSeen.IsZero() && a != nil {
		lastSeen = a.LastSeen
	}
	if n := len(h); cur == Missing && n > 0 && h[n-1].Manual() && !lastSeen.After(h[n-1].At) {
		return cur, "", false
	}
	return Next(cur, a, lastSeen, now, policy)
}

// Step runs Next on the history's current state and records the change, if
// any. It returns the transition and whether there was one.
func (h *History) Step(a *model.Asset, lastSeen, now time.Time, policy MissingPolicy) (Transition, bool) {
	cur := h.Current()
	to, why, changed := h.Next(a, lastSeen, now, policy)
	if !changed {
		return Transition{}, false
	}
	t := Transition{From: cur, To: to, At: now, By: System, Why: why}
	if h.Record(t) != nil {
		return Transition{}, false
	}
	return t, true
}
