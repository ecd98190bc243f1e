package policy

import (
	"net/netip"
	"testing"
	"time"

	"otscope/model"
)

// TestIndustrialField checks rules decide "industrial" with model's
// registry, as role inference and the panes do: conv.industrial and a
// service's industrial are model.IsIndustrial of the protocol, for every
// registered protocol and for an unregistered name.
func TestIndustrialField(t *testing.T) {
	pack, probs := Parse("t.yaml", []byte(`rules:
  - id: ot-flow
    severity: low
    scope: conversation
    when: conv.industrial
  - id: ot-service
    severity: low
    when: asset.services.exists(s, s.industrial)
`))
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	names := []string{"some-unregistered-name"}
	for _, p := range model.Protocols() {
		names = append(names, p.Name)
	}
	for _, name := range names {
		in := Input{Now: now,
			Assets: []model.Asset{
				{ID: "mac:c", FirstSeen: now, LastSeen: now},
				{ID: "mac:s", FirstSeen: now, LastSeen: now, Services: []model.Service{{Transport: "tcp", Port: 9, Protocol: name}}},
			},
			Conversations: []model.Conversation{{Client: "mac:c", Server: "mac:s", ClientIP: netip.MustParseAddr("10.0.0.1"),
				ServerIP: netip.MustParseAddr("10.0.0.2"), Transport: "tcp", Port: 9, Protocol: name, Packets: 1,
				FirstSeen: now, LastSeen: now}},
		}
		r := Audit(in, pack, nil)
		if len(r.Errors) != 0 {
			t.Fatalf("%s: %v", name, r.Errors)
		}
		want := 0
		if model.IsIndustrial(name) {
			want = 1
		}
		if r.ByRule["ot-flow"] != want || r.ByRule["ot-service"] != want {
			t.Errorf("%s (%s): %d flow and %d service violations, want %d each", name, model.ClassOf(name),
				r.ByRule["ot-flow"], r.ByRule["ot-service"], want)
		}
	}
}
