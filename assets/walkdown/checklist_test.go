package walkdown

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"otscope/model"
)

func TestChecklists(t *testing.T) {
	b, _ := NewBook(nil, nil)
	_, _ = b.Import(Imported{Rows: []model.DocumentedDevice{
		{Tag: "+A2-K1", Location: "Plant/Hall 1/+A2", Vendor: "Siemens", OrderNumber: "6ES7 315-2EH14-0AB0", Serial: "S1", MAC: "00:1b:1b:00:00:01"},
		{Tag: "=HYPERLINK(\"http://x\")", Location: "Plant/Hall 1/+A2", OrderNumber: "<script>alert(1)</script>"},
		{Tag: "+B1-K1", Location: "Plant/Hall 1/+B1", OrderNumber: "750-8212"},
	}}, "p.csv", "anna", t0)
	ev := b.Evaluate([]model.Asset{asset("plc1", "00:1b:1b:00:00:01", "10.0.0.1", "Siemens AG", "6ES7 315-2EH14-0AB0", "S1", "V3.2.6")})
	var c bytes.Buffer
	if err := WriteChecklistCSV(&c, ev, model.ParseLocation("Plant/Hall 1/+A2")); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&c).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "tag" || recs[0][len(recs[0])-4] != "present" {
		t.Fatalf("csv = %q", recs)
	}
	for _, r := range recs[1:] {
		if strings.HasPrefix(r[0], "=") {
			t.Errorf("formula not escaped: %q", r[0])
		}
	}
	if recs[1][0] != "'+A2-K1" || recs[1][9] != "match" || recs[2][9] != "unseen" { // a leading + is escaped too
		t.Errorf("rows = %q", recs)
	}
	var h bytes.Buffer
	if err := WriteChecklistHTML(&h, ev, model.ParseLocation("Plant/Hall 1"), "walk", t0); err != nil {
		t.Fatal(err)
	}
	out := h.String()
	for _, want := range []string{"<h2>Plant/Hall 1/+A2</h2>", "<h2>Plant/Hall 1/+B1</h2>", "+A2-K1", "6ES7 315-2EH14-0AB0", "&lt;script&gt;", "☐"} {
		if !strings.Contains(out, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "src=", "href=", "<link"} {
		if strings.Contains(out, bad) {
			t.Errorf("html not self-contained/safe: has %q", bad)
		}
	}
	h.Reset()
	_ = WriteChecklistHTML(&h, ev, model.ParseLocation("Nowhere"), "walk", t0)
	if !strings.Contains(h.String(), "No device is expected or found here") {
		t.Error("empty checklist")
	}
}
