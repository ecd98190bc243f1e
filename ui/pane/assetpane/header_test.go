package assetpane

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestHeaderMarksSortColumn checks which header title carries the sort
// arrow at each layout: the key's own column, or its stand-in where the
// layout merges it, and none where the key has no column (below 100 cells
// the MAC sort used to put its arrow on the unnamed flag column).
func TestHeaderMarksSortColumn(t *testing.T) {
	m, _ := newPlacePane(t, nil)
	for _, tc := range []struct {
		width int
		sort  SortKey
		want  string // the marked title; "" for no arrow at all
	}{
		{120, ByMAC, "MAC↑"},
		{80, ByMAC, ""},
		{60, ByMAC, ""},
		{80, ByIP, "ADDRESS↑"},
		{60, ByIP, "ADDRESS↑"},
		{100, ByName, "NAME↑"},
		{80, ByName, "PRODUCT/NAME↑"},
		{80, ByProduct, "PRODUCT/NAME↑"},
		{80, ByVendor, "VENDOR↑"},
		{80, ByPackets, ""},
		{150, ByPackets, "PKTS↓"},
	} {
		m.SetSize(tc.width, 20)
		m.SetSort(tc.sort, false)
		h := ansi.Strip(strings.SplitN(m.View(), "\n", 2)[0])
		marks := strings.Count(h, "↑") + strings.Count(h, "↓")
		switch {
		case tc.want == "" && marks != 0:
			t.Errorf("width %d, sort %s: header %q has an arrow", tc.width, tc.sort, h)
		case tc.want != "" && (marks != 1 || !strings.Contains(h, " "+tc.want)):
			t.Errorf("width %d, sort %s: header %q, want one arrow, on %s", tc.width, tc.sort, h, tc.want)
		}
		if strings.HasPrefix(h, "  ↑") || strings.HasPrefix(h, " ↑") {
			t.Errorf("width %d, sort %s: the flag column is marked: %q", tc.width, tc.sort, h)
		}
	}
}
