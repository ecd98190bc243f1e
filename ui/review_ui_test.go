package ui

import (
	"slices"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"otscope/assets/lifecycle"
	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/ui/internal/keymsg"
)

// TestGoldenReview pins the lifecycle and violations panes, a violation's
// evidence and the acknowledge form at both sizes.
func TestGoldenReview(t *testing.T) {
	cases := map[string]func(t *testing.T, m Model) Model{
		"lifecycle":           func(t *testing.T, m Model) Model { return press(t, m, "5") },
		"violations":          func(t *testing.T, m Model) Model { return press(t, m, "6") },
		"violations_by_rule":  func(t *testing.T, m Model) Model { return press(t, m, "6", "s") },
		"violations_evidence": func(t *testing.T, m Model) Model { return press(t, m, "6", "enter") },
		"violations_ack_form": func(t *testing.T, m Model) Model { return press(t, m, "6", "a", "spare on shelf") },
		"assets_verify_form": func(t *testing.T, m Model) Model {
			m.assets.Select(idPLC)
			return press(t, m, "v")
		},
	}
	for _, sz := range []struct{ w, h int }{{80, 24}, {120, 40}} {
		for name, setup := range cases {
			t.Run(name+"_"+itoa(sz.w)+"x"+itoa(sz.h), func(t *testing.T) {
				golden.RequireEqual(t, []byte(view(setup(t, fixtureModel(t, sz.w, sz.h)))))
			})
		}
	}
}

// TestLifecyclePane: the end-of-life assets lead (the Windows 10
// workstation, support ending soonest, then the S7-300), the ending support
// is listed as upcoming, and Enter opens the asset.
func TestLifecyclePane(t *testing.T) {
	m := press(t, fixtureModel(t, 80, 24), "5")
	v := view(m)
	for _, want := range []string{"end-of-life 2", "active 1", "identified 4", "2025-10-14  ENG-WS01  Windows 10", "PM410"} {
		if !strings.Contains(v, want) {
			t.Errorf("lifecycle pane lacks %q:\n%s", want, v)
		}
	}
	if id, _ := m.lifecycle.Selected(); id != idEWS {
		t.Fatalf("first row %s, want the workstation %s", id, idEWS)
	}
	m = press(t, m, "down", "enter")
	if m.Focused() != FocusDetail || m.detail.Shown() != idPLC {
		t.Fatalf("enter: focus %v showing %s", m.Focused(), m.detail.Shown())
	}
	if v := detailText(t, idPLC, 80); !strings.Contains(v, "LIFECYCLE  end-of-life") || !strings.Contains(v, "Successor SIMATIC S7-1500") ||
		!strings.Contains(v, "INVENTORY STATE  identified") || !strings.Contains(v, "no advisories loaded") {
		t.Errorf("detail lacks the lifecycle, state or advisory notes:\n%s", v)
	}
}

// TestAcknowledgeAndRevoke: a waives the selected violation through the
// form (reason and expiry checked), it is dimmed and counted apart; u
// revokes it.
func TestAcknowledgeAndRevoke(t *testing.T) {
	m := press(t, fixtureModel(t, 80, 24), "6")
	v, ok := m.violations.Selected()
	if !ok {
		t.Fatal("no violation in the fixture")
	}
	open := len(m.state.Analysis().Report.Violations)
	m = press(t, m, "a", "enter", "enter", "enter")
	if !m.violations.Capturing() || !strings.Contains(view(m), "a reason is required") {
		t.Fatalf("empty reason accepted:\n%s", view(m))
	}
	m = press(t, m, "up")
	m = send(t, m, keymsg.For("ctrl+u"))
	m = press(t, m, "soon", "up", "bench rig", "enter", "enter", "enter")
	if !strings.Contains(view(m), "invalid expiry") {
		t.Fatalf("bad expiry accepted:\n%s", view(m))
	}
	m = press(t, m, "up")
	m = send(t, m, keymsg.For("ctrl+u"))
	m = press(t, m, "2w", "enter", "enter")
	if m.violations.Capturing() {
		t.Fatalf("form still open:\n%s", view(m))
	}
	ws := m.cfg.Ledger.Waivers()
	if len(ws) != 1 || ws[0].RuleID != v.RuleID || ws[0].AssetID != v.AssetID || ws[0].Reason != "bench rig" || ws[0].By != "ana" ||
		!ws[0].Until.Equal(fixtureNow.AddDate(0, 0, 14)) {
		t.Fatalf("stored waivers %+v", ws)
	}
	rep := m.state.Analysis().Report
	if rep.Waived != 1 || len(rep.Violations) != open {
		t.Fatalf("after the waiver: %d waived of %d", rep.Waived, len(rep.Violations))
	}
	if !strings.Contains(m.violations.Summary(), "1 waived") || !strings.Contains(view(m), "~ med") {
		t.Errorf("waived violation not shown apart:\n%s", view(m))
	}
	if !m.violations.Select(v.RuleID, v.AssetID) {
		t.Fatal("waived violation gone from the list")
	}
	m = press(t, m, "u")
	if got := m.state.Analysis().Report.Waived; got != 0 {
		t.Fatalf("after revoke %d waived", got)
	}
	if ws := m.cfg.Ledger.Waivers(); len(ws) != 2 || !ws[1].Revoked() {
		t.Fatalf("revocation not stored: %+v", ws)
	}
}

// TestManualTransitions: v on the asset list verifies after a reason, x in
// the detail decommissions; a refused transition says why.
func TestManualTransitions(t *testing.T) {
	m := fixtureModel(t, 80, 24)
	m.assets.Select(idPLC)
	m = press(t, m, "v", "enter")
	if !strings.Contains(view(m), "a reason is required") {
		t.Fatalf("empty reason accepted:\n%s", view(m))
	}
	m = press(t, m, "walkdown cabinet 3", "enter")
	h := m.cfg.Ledger.States().History(idPLC)
	if h.Current() != lifecycle.Verified || h[len(h)-1].By != "ana" || h[len(h)-1].Why != "walkdown cabinet 3" {
		t.Fatalf("PLC history %+v", h)
	}
	if !strings.Contains(m.notice, "identified → verified") {
		t.Errorf("notice %q", m.notice)
	}
	m.assets.Select(idCamera)
	m = press(t, m, "enter", "D", "removed 2025-03", "enter") // D: x is STOP in the Scan pane
	if got := m.cfg.Ledger.States().Current(idCamera); got != lifecycle.Decommissioned {
		t.Fatalf("camera state %s", got)
	}
	if !strings.Contains(view(m), "State     decommissioned") {
		t.Errorf("detail does not show the new state:\n%s", view(m))
	}
	// verify a decommissioned asset: refused with the reason, no form
	m = press(t, m, "v")
	if m.detail.Capturing() || !m.noticeErr || !strings.Contains(m.notice, "decommissioned → verified is not a manual transition") {
		t.Fatalf("refused transition not explained:\n%s", view(m))
	}
}

// TestViolationsSeeTheWalkdown: the TUI's analysis audits the session
// with its walkdown in it, as the CLI's reports do (walkdown.Book.Review):
// a device the documented list lacks is undocumented, a documented row no
// asset matches is unseen, and a nameplate that disagrees with the network
// is a mismatch; a verdict given later re-runs the analysis.
func TestViolationsSeeTheWalkdown(t *testing.T) {
	book, _ := walkdown.NewBook(nil, nil)
	var plc model.Asset
	for _, a := range fixtureAssets() {
		if a.ID == idPLC {
			plc = a
		}
	}
	rows := []model.DocumentedDevice{{Tag: "K1", Vendor: plc.Vendor, OrderNumber: plc.OrderNumber, MAC: plc.MACs[0].String(), Source: "p.csv:2"},
		{Tag: "K2", Vendor: "Siemens", OrderNumber: "6ES7 315-2EH14-0AB0", Serial: "GONE", Source: "p.csv:3"}}
	if _, err := book.Import(walkdown.Imported{Rows: rows}, "p.csv", "anna", fixtureNow); err != nil {
		t.Fatal(err)
	}
	if err := book.Nameplate(idPLC, map[string]string{"serial": "NAMEPLATE-1"}, "anna", "nameplate", fixtureNow); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(make(chan model.Update))
	cfg.Walkdown = book
	m := New(cfg)
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, UpdatesMsg{Updates: []model.Update{fixtureSnapshot()}})
	m.analyseNow()
	fired := func() map[string][]model.AssetID {
		got := map[string][]model.AssetID{}
		for _, v := range m.state.Analysis().Report.Violations {
			if strings.Contains(v.RuleID, "document") || v.RuleID == "nameplate-mismatch" {
				got[v.RuleID] = append(got[v.RuleID], v.AssetID)
			}
		}
		return got
	}
	got := fired()
	if ids := got["documented-device-unseen"]; !slices.Equal(ids, []model.AssetID{model.AssetID(walkdown.DocTarget("K2"))}) {
		t.Errorf("documented-device-unseen fired for %v", ids)
	}
	if ids := got["nameplate-mismatch"]; !slices.Equal(ids, []model.AssetID{idPLC}) {
		t.Errorf("nameplate-mismatch fired for %v", ids)
	}
	if n := len(got["undocumented-device"]); n != len(fixtureAssets())-1 {
		t.Errorf("undocumented-device fired for %d assets, want every one but the documented PLC (%d)", n, len(fixtureAssets())-1)
	}
	if w, ok := m.state.Analysis().Walkdown[idPLC]; !ok || w.Documented == nil || w.Documented.Tag != "K1" {
		t.Errorf("the analysis carries no walkdown note for the PLC: %+v", w)
	}
	// a verdict stored later makes the next analysis due
	if err := book.SetVerdict(walkdown.DocTarget("K2"), model.VerdictMissing, "not in the cabinet", "anna", fixtureNow, nil); err != nil {
		t.Fatal(err)
	}
	if m.an.maybe(&m, false) == nil && !m.an.dirty {
		t.Error("a new walkdown verdict did not make an analysis due")
	}
}
