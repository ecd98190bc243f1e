package lifecycle

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"otscope/model"
)

func TestNext(t *testing.T) {
	now := t0
	week := MissingPolicy{After: 7 * 24 * time.Hour}
	bare := asset("mac:00:11:22:33:44:55", fact(model.FieldVendor, "Dell", "oui"))
	plc := asset("mac:00:0e:8c:9a:02:12", fact(model.FieldProduct, "CPU 315-2 PN/DP", "s7comm"))
	io := asset("mac:00:0e:8c:9a:02:13", fact(model.FieldRole, model.RoleIO, "profinet-dcp"))
	guessed := asset("mac:00:0e:8c:9a:02:14", model.Fact{Field: model.FieldRole, Value: model.RolePLC,
		Source: model.Source{Kind: model.Derived, Protocol: "roles", Origin: "behaviour"}})
	manual := asset("mac:00:0e:8c:9a:02:15", model.Fact{Field: model.FieldFirmware, Value: "V1.0",
		Source: model.Source{Kind: model.Manual, Origin: "walkdown"}})
	manual.Firmware = ""
	tests := map[string]struct {
		cur      State
		a        *model.Asset
		lastSeen time.Time
		policy   MissingPolicy
		want     State
		changed  bool
		why      string
	}{
		"new bare asset is discovered":             {Untracked, bare, now, week, Discovered, true, "first seen"},
		"new PLC is identified at once":            {Untracked, plc, now, week, Identified, true, "first seen; identified by product CPU 315-2 PN/DP (s7comm)"},
		"new asset from an old session":            {Untracked, bare, now.Add(-30 * 24 * time.Hour), week, Discovered, true, "first seen"},
		"discovered stays without identity":        {Discovered, bare, now, week, Discovered, false, ""},
		"discovered → identified by product":       {Discovered, plc, now, week, Identified, true, "identified by product CPU 315-2 PN/DP (s7comm)"},
		"discovered → identified by proven role":   {Discovered, io, now, week, Identified, true, "role io device proven (profinet-dcp)"},
		"an inferred role does not identify":       {Discovered, guessed, now, week, Discovered, false, ""},
		"a manual fact identifies":                 {Discovered, manual, now, week, Identified, true, "identified by firmware V1.0 (entered by hand)"},
		"discovered → missing after the policy":    {Discovered, bare, now.Add(-8 * 24 * time.Hour), week, Missing, true, "not seen for 8d (policy: 7d)"},
		"identified → missing":                     {Identified, plc, now.Add(-(7*24 + 5) * time.Hour), week, Missing, true, "not seen for 7d5h (policy: 7d)"},
		"verified → missing":                       {Verified, plc, now.Add(-8 * 24 * time.Hour), week, Missing, true, "not seen for 8d"},
		"not missing just inside the policy":       {Identified, plc, now.Add(-7 * 24 * time.Hour), week, Identified, false, ""},
		"missing since the last session":           {Identified, plc, now.Add(-2 * time.Hour), MissingPolicy{Since: now.Add(-time.Hour)}, Missing, true, "not seen since 2026-11-26 01:00:00 (last session)"},
		"seen in the last session":                 {Identified, plc, now.Add(-30 * time.Minute), MissingPolicy{Since: now.Add(-time.Hour)}, Identified, false, ""},
		"missing stays missing":                    {Missing, plc, now.Add(-9 * 24 * time.Hour), week, Missing, false, ""},
		"missing → identified when seen again":     {Missing, plc, now, week, Identified, true, "seen again 2026-11-26 02:00:00; identified by product"},
		"missing → discovered when seen again":     {Missing, bare, now, week, Discovered, true, "seen again 2026-11-26 02:00:00"},
		"verified stays verified":                  {Verified, plc, now, week, Verified, false, ""},
		"identified never drops to discovered":     {Identified, bare, now, week, Identified, false, ""},
		"decommissioned is never left":             {Decommissioned, plc, now, week, Decommissioned, false, ""},
		"decommissioned does not go missing":       {Decommissioned, plc, now.Add(-90 * 24 * time.Hour), week, Decommissioned, false, ""},
		"no policy: never missing":                 {Identified, plc, now.Add(-365 * 24 * time.Hour), MissingPolicy{}, Identified, false, ""},
		"zero lastSeen falls back to a.LastSeen":   {Identified, plc, time.Time{}, week, Identified, false, ""},
		"never seen (entered by hand) not missing": {Identified, &model.Asset{ID: "manual:1", Product: "X"}, time.Time{}, week, Identified, false, ""},
		"invalid state is left alone":              {State(42), plc, now, week, State(42), false, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, why, changed := Next(tc.cur, tc.a, tc.lastSeen, now, tc.policy)
			if got != tc.want || changed != tc.changed {
				t.Fatalf("Next(%s) = %s, %v (%q); want %s, %v", tc.cur, got, changed, why, tc.want, tc.changed)
			}
			if !strings.HasPrefix(why, tc.why) || (tc.why == "" && why != "") {
				t.Errorf("why = %q, want prefix %q", why, tc.why)
			}
		})
	}
}

func TestApply(t *testing.T) {
	at := t0
	tr := func(from, to State) Transition {
		return Transition{From: from, To: to, At: at, By: "j.miller", Why: "walkdown 2026-11, hall 3"}
	}
	allowed := [][2]State{
		{Discovered, Verified}, {Identified, Verified},
		{Verified, Identified},
		{Discovered, Missing}, {Identified, Missing}, {Verified, Missing},
		{Discovered, Decommissioned}, {Identified, Decommissioned}, {Verified, Decommissioned}, {Missing, Decommissioned},
		{Decommissioned, Discovered},
	}
	for _, ft := range allowed {
		got, err := Apply(ft[0], tr(ft[0], ft[1]))
		if err != nil || got != ft[1] {
			t.Errorf("%s → %s: %v, %v", ft[0], ft[1], got, err)
		}
	}
	// every other pair of states is refused, with a reason
	all := []State{Untracked, Discovered, Identified, Verified, Missing, Decommissioned}
	for _, from := range all {
		for _, to := range all {
			ok := false
			for _, ft := range allowed {
				ok = ok || ft == [2]State{from, to}
			}
			if ok {
				continue
			}
			got, err := Apply(from, tr(from, to))
			if !errors.Is(err, ErrNotAllowed) || got != from {
				t.Errorf("%s → %s allowed: %v, %v", from, to, got, err)
			}
		}
	}
	reasons := map[string]struct {
		cur State
		t   Transition
		err error
		msg string
	}{
		"missing cannot be verified":    {Missing, tr(Missing, Verified), ErrNotAllowed, "must be seen on the network again"},
		"untracked is not missing":      {Untracked, tr(Untracked, Missing), ErrNotAllowed, "untracked → missing is not a manual transition"},
		"decommissioned is not missing": {Decommissioned, tr(Decommissioned, Missing), ErrNotAllowed, "decommissioned → missing"},
		"identified is not set by hand": {Discovered, tr(Discovered, Identified), ErrNotAllowed, "add a manual fact"},
		"same state":                    {Verified, tr(Verified, Verified), ErrNotAllowed, "already verified"},
		"back to untracked":             {Identified, tr(Identified, Untracked), ErrNotAllowed, "back to untracked"},
		"unknown state":                 {Identified, tr(Identified, State(9)), ErrNotAllowed, "unknown state"},
		"by otscope":                    {Identified, Transition{From: Identified, To: Verified, At: at, By: System, Why: "x"}, ErrBadManual, "must be a person"},
		"by nobody":                     {Identified, Transition{From: Identified, To: Verified, At: at, Why: "x"}, ErrBadManual, "must be a person"},
		"no time":                       {Identified, Transition{From: Identified, To: Verified, By: "j", Why: "x"}, ErrBadManual, "no time"},
		"no reason":                     {Identified, Transition{From: Identified, To: Verified, At: at, By: "j", Why: " "}, ErrBadManual, "no reason"},
		"stale from":                    {Missing, tr(Identified, Verified), ErrStale, "the asset is missing"},
	}
	for name, tc := range reasons {
		t.Run(name, func(t *testing.T) {
			got, err := Apply(tc.cur, tc.t)
			if !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) || got != tc.cur {
				t.Errorf("Apply = %s, %v; want %v containing %q", got, err, tc.err, tc.msg)
			}
		})
	}
}

// TestManualMissing: a person who finds the device gone on a walkdown
// marks it missing; traffic from before that does not bring it back,
// traffic after it does.
func TestManualMissing(t *testing.T) {
	var h History
	week := MissingPolicy{After: 7 * 24 * time.Hour}
	plc := asset("plc", fact(model.FieldOrderNumber, "6ES7 315-2EH14-0AB0", "s7comm"))
	h.Step(plc, t0, t0, week)
	said := t0.Add(time.Hour)
	if err := h.Record(Transition{From: Identified, To: Missing, At: said, By: "j.miller", Why: "not in cabinet +A2"}); err != nil {
		t.Fatal(err)
	}
	if tr, ok := h.Step(plc, t0.Add(30*time.Minute), said.Add(time.Minute), week); ok {
		t.Fatalf("traffic from before the walkdown brought it back: %+v", tr)
	}
	if h.Current() != Missing || h[1].By != "j.miller" || h[1].Why != "not in cabinet +A2" {
		t.Fatalf("history %+v", h)
	}
	if tr, ok := h.Step(plc, said.Add(time.Hour), said.Add(time.Hour), week); !ok || tr.To != Identified || !strings.HasPrefix(tr.Why, "seen again") {
		t.Fatalf("seen after the walkdown: %+v %v", tr, ok)
	}
}

func TestHistory(t *testing.T) {
	var h History
	week := MissingPolicy{After: 7 * 24 * time.Hour}
	plc := asset("plc", fact(model.FieldOrderNumber, "6ES7 315-2EH14-0AB0", "s7comm"))
	if h.Current() != Untracked {
		t.Fatal("empty history is not untracked")
	}
	// first sight, walkdown, disappearance, return, decommissioning
	if tr, ok := h.Step(plc, t0, t0, week); !ok || tr.To != Identified || tr.By != System {
		t.Fatalf("first step: %+v %v", tr, ok)
	}
	if _, ok := h.Step(plc, t0, t0.Add(time.Hour), week); ok {
		t.Fatal("no change expected")
	}
	if err := h.Record(Transition{From: Identified, To: Verified, At: t0.Add(2 * time.Hour), By: "j.miller", Why: "nameplate checked, cabinet 3"}); err != nil {
		t.Fatal(err)
	}
	if tr, ok := h.Step(plc, t0, t0.Add(10*24*time.Hour), week); !ok || tr.To != Missing {
		t.Fatalf("missing step: %+v %v", tr, ok)
	}
	back := t0.Add(11 * 24 * time.Hour)
	if tr, ok := h.Step(plc, back, back, week); !ok || tr.To != Identified || !strings.HasPrefix(tr.Why, "seen again") {
		t.Fatalf("return step: %+v %v", tr, ok)
	}
	if err := h.Record(Transition{From: Identified, To: Decommissioned, At: back.Add(time.Hour), By: "a.ng", Why: "replaced by S7-1500, MOC-2026-17"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Step(plc, back.Add(2*time.Hour), back.Add(2*time.Hour), week); ok {
		t.Fatal("decommissioned left automatically")
	}
	want := []State{Identified, Verified, Missing, Identified, Decommissioned}
	if len(h) != len(want) {
		t.Fatalf("history %+v", h)
	}
	for i, s := range want {
		if h[i].To != s {
			t.Errorf("transition %d to %s, want %s", i, h[i].To, s)
		}
	}
	// refused records leave the history alone
	bad := []Transition{
		{From: Decommissioned, To: Identified, At: back.Add(3 * time.Hour), By: System, Why: "x"}, // not automatic
		{From: Identified, To: Missing, At: back.Add(3 * time.Hour), By: System, Why: "x"},        // stale
		{From: Decommissioned, To: Discovered, At: back, By: "j", Why: "x"},                       // before the last one
		{From: Decommissioned, To: Verified, At: back.Add(3 * time.Hour), By: "j", Why: "x"},      // not manual
	}
	for _, tr := range bad {
		if err := h.Record(tr); err == nil {
			t.Errorf("recorded %+v", tr)
		}
	}
	if len(h) != len(want) {
		t.Errorf("history grew to %d", len(h))
	}
	b, err := json.Marshal(h[1])
	if err != nil || !strings.Contains(string(b), `"from":"identified","to":"verified"`) || !strings.Contains(string(b), `"by":"j.miller"`) {
		t.Errorf("json %s %v", b, err)
	}
	var back2 Transition
	if err := json.Unmarshal(b, &back2); err != nil || back2 != h[1] {
		t.Errorf("json round trip: %+v %v", back2, err)
	}
}
