package walkdown

import (
	"slices"
	"strings"
	"testing"

	"otscope/assets/policy"
	"otscope/model"
)

func TestDefaultPackWalkdownRules(t *testing.T) {
	const cpu = "6ES7 315-2EH14-0AB0"
	assets := []model.Asset{
		asset("plc1", "00:1b:1b:00:00:01", "10.0.0.1", "Siemens AG", cpu, "S1", "V3.2.6"),
		asset("stranger", "00:1b:1b:00:00:99", "10.0.0.99", "Siemens AG", "", "", ""),
	}
	b, _ := NewBook(nil, nil)
	_, _ = b.Import(Imported{Rows: []model.DocumentedDevice{
		{Tag: "K1", Vendor: "Siemens", OrderNumber: cpu, MAC: "00:1b:1b:00:00:01", Source: "p.csv:2"},
		{Tag: "K2", Vendor: "Siemens", OrderNumber: cpu, Serial: "GONE", Source: "p.csv:3"},
	}}, "p.csv", "anna", t0)
	if err := b.Nameplate("plc1", map[string]string{"serial": "S9"}, "anna", "nameplate", t0); err != nil {
		t.Fatal(err)
	}
	pack := policy.DefaultPack()
	rep := policy.Audit(policy.Input{Assets: b.Evaluate(assets).AuditAssets(), Now: t0}, pack, nil)
	got := map[string][]string{}
	for _, v := range rep.Violations {
		if strings.Contains(v.RuleID, "document") || v.RuleID == "nameplate-mismatch" {
			got[v.RuleID] = append(got[v.RuleID], string(v.AssetID))
		}
	}
	want := map[string][]string{
		"undocumented-device":      {"stranger"},
		"documented-device-unseen": {DocTarget("K2")},
		"nameplate-mismatch":       {"plc1"},
	}
	for r, ids := range want {
		slices.Sort(got[r])
		if !slices.Equal(got[r], ids) {
			t.Errorf("%s fired for %v, want %v", r, got[r], ids)
		}
	}
	for _, v := range rep.Violations {
		if v.RuleID == "nameplate-mismatch" && !strings.Contains(strings.Join(v.Evidence, " "), "nameplate S9, network S1") {
			t.Errorf("nameplate-mismatch evidence = %q", v.Evidence)
		}
	}
}
