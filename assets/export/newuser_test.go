package export

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
	"time"

	"otscope/assets/lifecycle"
	"otscope/model"
)

// TestLifecycleSummaryCountsAssets: a chassis with two rated modules is one
// asset with a verdict, not three; the modules are counted apart.
func TestLifecycleSummaryCountsAssets(t *testing.T) {
	res := &lifecycle.Result{Rule: "order number 6ES7*"}
	ip := func(s string) []netip.Addr { return []netip.Addr{netip.MustParseAddr(s)} }
	recs := []Record{
		{Asset: model.Asset{ID: "a", IPs: ip("10.0.0.1")}, Lifecycle: res,
			ModuleLifecycle: []lifecycle.ModuleResult{{Module: model.Module{Slot: 1}, Result: *res}, {Module: model.Module{Slot: 2}, Result: *res}}},
		{Asset: model.Asset{ID: "b", IPs: ip("10.0.0.2")}, Lifecycle: res},
		{Asset: model.Asset{ID: "c", IPs: ip("10.0.0.3")}, Lifecycle: res},
		{Asset: model.Asset{ID: "d", IPs: ip("10.0.0.4")}},
		{Asset: model.Asset{ID: "e", IPs: ip("10.0.0.5")}},
	}
	var b bytes.Buffer
	if err := Lifecycle(&b, "table", recs, time.Now()); err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(b.String(), "\n")
	if !strings.HasPrefix(first, "5 assets, 3 with a lifecycle verdict (+2 modules)") {
		t.Errorf("summary = %q, want 5 assets, 3 with a verdict (+2 modules)", first)
	}
}
