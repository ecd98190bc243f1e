package walkdown

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"otscope/assets/lifecycle"
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/model"
)

var t0 = time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	s, err := store.Open(store.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.EnsureSession("walk", t0); err != nil {
		t.Fatal(err)
	}
	return s
}

func asset(id string, mac string, ip string, vendor, order, serial, fw string) model.Asset {
	a := model.Asset{ID: model.AssetID(id), Vendor: vendor, OrderNumber: order, Serial: serial, Firmware: fw, Names: []string{id}}
	if mac != "" {
		m, _ := model.ParseMAC(mac)
		a.MACs = []model.MAC{m}
	}
	if ip != "" {
		a.IPs = []netip.Addr{netip.MustParseAddr(ip)}
	}
	return a
}

func verdictOf(t *testing.T, ev *Evaluation, key string) model.Verdict {
	t.Helper()
	i := ev.Find(key)
	if i < 0 {
		t.Fatalf("no item %q", key)
	}
	return ev.Items[i].Verdict
}

func TestMatchingOrderAndVerdicts(t *testing.T) {
	const cpu = "6ES7 315-2EH14-0AB0"
	assets := []model.Asset{
		asset("plc1", "00:1b:1b:00:00:01", "10.0.0.1", "Siemens AG", cpu, "S1", "V3.2.6"),
		asset("plc2", "00:1b:1b:00:00:02", "10.0.0.2", "Siemens AG", cpu, "S2", "V3.2.6"),
		asset("plc3", "00:1b:1b:00:00:03", "10.0.0.3", "Siemens AG", "6ES7 317-2EK14-0AB0", "S3", "V3.2.6"),
		asset("plc4", "", "10.0.0.4", "Siemens AG", cpu, "S4", ""),
		asset("twin-a", "", "10.0.0.9", "Siemens AG", cpu, "TW", ""),
		asset("twin-b", "", "10.0.1.9", "Siemens AG", cpu, "TW", ""),
		asset("stranger", "00:1b:1b:00:00:99", "10.0.0.99", "Siemens AG", "", "", ""),
	}
	docs := []model.DocumentedDevice{
		{Tag: "K1", Vendor: "Siemens", OrderNumber: "6ES73152EH140AB0", Serial: "S1", Firmware: "V3.2", MAC: "00-1B-1B-00-00-01"},
		{Tag: "K2", Vendor: "Siemens", OrderNumber: cpu, Serial: "OLD", IP: "10.0.0.2"},               // serial differs: compatible
		{Tag: "K3", Vendor: "Siemens", OrderNumber: cpu, Serial: "S3", MAC: "00:1b:1b:00:00:03"},      // order differs: mismatch
		{Tag: "K4", Vendor: "Siemens", OrderNumber: cpu, Serial: "S4"},                                // by serial
		{Tag: "K5", Vendor: "Siemens", OrderNumber: cpu, Serial: "NOPE", IP: "10.9.9.9"},              // unseen
		{Tag: "K6", Vendor: "Siemens", OrderNumber: cpu, Serial: "TW"},                                // ambiguous by serial
		{Tag: "K7", Vendor: "Rockwell", OrderNumber: "1756-L85E", IP: "10.0.0.4", Location: "Site B"}, // plc4 is placed in site A
	}
	b, _ := NewBook(nil, nil)
	if _, err := b.Import(Imported{Rows: docs}, "p.csv", "anna", t0); err != nil {
		t.Fatal(err)
	}
	if err := b.Locate([]model.AssetID{"plc4"}, model.ParseLocation("Site A/Hall"), "anna", "test", t0); err != nil {
		t.Fatal(err)
	}
	ev := b.Evaluate(assets)
	for _, c := range []struct {
		key  string
		want model.VerdictValue
		by   string
	}{
		{"plc1", model.VerdictMatch, "mac"},
		{"plc2", model.VerdictCompatible, "ip"},
		{"plc3", model.VerdictMismatch, "mac"},
		{"plc4", model.VerdictMatch, "serial"},
		{DocTarget("K5"), model.VerdictUnseen, ""},
		{DocTarget("K6"), model.VerdictUnverified, "serial"},
		{"twin-a", model.VerdictUnverified, ""},
		{"twin-b", model.VerdictUnverified, ""},
		{"stranger", model.VerdictNew, ""},
		{DocTarget("K7"), model.VerdictUnseen, ""}, // same IP as plc4, but another site
	} {
		i := ev.Find(c.key)
		if i < 0 {
			t.Errorf("%s: no item", c.key)
			continue
		}
		it := ev.Items[i]
		if it.Verdict.Value != c.want || it.MatchedBy != c.by || it.Verdict.By != lifecycle.System {
			t.Errorf("%s: verdict %s by %q (%s), want %s by %q", c.key, it.Verdict.Value, it.MatchedBy, it.Verdict.Why, c.want, c.by)
		}
	}
	if a := ev.Items[ev.Find(DocTarget("K6"))].Ambiguous; strings.Join(a, ",") != "twin-a,twin-b" {
		t.Errorf("K6 ambiguous = %v", a)
	}
	v := verdictOf(t, ev, "plc2")
	if v.Basis != model.BasisNetwork || len(v.Compared) != 3 || v.Compared[2].Field != "serial" || v.Compared[2].Agree ||
		v.Compared[2].Documented != "OLD" || v.Compared[2].Observed != "S2" {
		t.Errorf("plc2 compared = %+v", v.Compared)
	}
	// firmware V3.2 documented, V3.2.6 seen: the same version at another precision
	if v := verdictOf(t, ev, "plc1"); len(v.Compared) != 4 || !v.Compared[3].Agree {
		t.Errorf("plc1 compared = %+v", v.Compared)
	}
	// no documented inventory: nothing to compare
	empty, _ := NewBook(nil, nil)
	if v := verdictOf(t, empty.Evaluate(assets), "plc1"); v.Value != model.VerdictUnverified {
		t.Errorf("without documentation: %s", v.Value)
	}
}

func TestTwoRowsClaimingOneAssetAreAmbiguous(t *testing.T) {
	b, _ := NewBook(nil, nil)
	_, _ = b.Import(Imported{Rows: []model.DocumentedDevice{
		{Tag: "A", OrderNumber: "X", IP: "10.0.0.1"}, {Tag: "B", OrderNumber: "X", MAC: "00:00:00:00:00:01"},
	}}, "p.csv", "anna", t0)
	ev := b.Evaluate([]model.Asset{asset("a1", "00:00:00:00:00:01", "10.0.0.1", "", "X", "", "")})
	for _, k := range []string{DocTarget("A"), DocTarget("B"), "a1"} {
		if v := verdictOf(t, ev, k); v.Value != model.VerdictUnverified || !strings.Contains(v.Why, "ambiguous") {
			t.Errorf("%s: %+v", k, v)
		}
	}
	if ev.Items[ev.Find("a1")].Doc != nil {
		t.Error("ambiguous asset was merged with a row")
	}
}

func TestNameplateFeedsTheVerdictAndDiscoveryKeepsItsValue(t *testing.T) {
	const cpu = "6ES7 315-2EH14-0AB0"
	a := asset("plc1", "00:1b:1b:00:00:01", "", "Siemens AG", cpu, "S1", "V3.2.6")
	b, _ := NewBook(nil, nil)
	_, _ = b.Import(Imported{Rows: []model.DocumentedDevice{{Tag: "K1", Vendor: "Siemens", OrderNumber: cpu, Serial: "S1", MAC: "00:1b:1b:00:00:01"}}}, "p.csv", "anna", t0)
	ev := b.Evaluate([]model.Asset{a})
	if v := verdictOf(t, ev, "plc1"); v.Value != model.VerdictMatch || v.Basis != model.BasisNetwork {
		t.Fatalf("before nameplate: %+v", v)
	}
	if err := b.Nameplate("plc1", map[string]string{"serial": "S9", "tag": "K1"}, "anna", "nameplate", t0); err != nil {
		t.Fatal(err)
	}
	b.Refresh(ev, "plc1")
	v := verdictOf(t, ev, "plc1")
	if v.Value != model.VerdictCompatible || v.Basis != model.BasisWalkdown {
		t.Fatalf("after nameplate: %+v", v)
	}
	var net, man bool
	for _, c := range v.Compared {
		net = net || c.Field == "serial" && c.Source == "network" && c.Observed == "S1" && c.Agree
		man = man || c.Field == "serial" && c.Source == "manual" && c.Observed == "S9" && !c.Agree
	}
	if !net || !man {
		t.Errorf("both serials must be shown: %+v", v.Compared)
	}
	o := b.Overlay(&a)
	if o.Serial != "S1" || len(o.FactValues("serial")) != 1 || o.Facts[0].Source.Kind != model.Manual || o.Facts[0].Source.Origin != "anna" {
		t.Errorf("overlay = serial %q facts %+v", o.Serial, o.Facts)
	}
	if err := b.Nameplate("plc1", map[string]string{"colour": "red"}, "anna", "nameplate", t0); err == nil {
		t.Error("unknown field accepted")
	}
	if err := b.Nameplate("plc1", map[string]string{"serial": "x"}, "", "nameplate", t0); !errors.Is(err, ErrNoPerson) {
		t.Errorf("no person: %v", err)
	}
}

func TestJournalReplayReimportAndStates(t *testing.T) {
	st := openStore(t)
	b, _, err := Open(st, "walk")
	if err != nil {
		t.Fatal(err)
	}
	rows := []model.DocumentedDevice{
		{Tag: "K1", Vendor: "Siemens", OrderNumber: "6ES7 315-2EH14-0AB0", Serial: "S1", MAC: "00:1b:1b:00:00:01", Source: "v1.csv:2"},
		{Tag: "K2", Vendor: "Siemens", OrderNumber: "6ES7 315-2EH14-0AB0", Serial: "S2", Source: "v1.csv:3"},
	}
	if s, err := b.Import(Imported{Rows: rows}, "v1.csv", "anna", t0); err != nil || s.Added != 2 {
		t.Fatal(s, err)
	}
	rows2 := []model.DocumentedDevice{
		{Tag: "K1", Vendor: "Siemens", OrderNumber: "6ES7 315-2EH14-0AB0", Serial: "S1b", MAC: "00:1b:1b:00:00:01", Source: "v2.csv:2"},
		{Tag: "K3", Vendor: "WAGO", OrderNumber: "750-8212", Source: "v2.csv:3"},
	}
	if s, err := b.Import(Imported{Rows: rows2}, "v2.csv", "anna", t0.Add(time.Hour)); err != nil || s != (ImportSummary{Added: 1, Updated: 1, Withdrawn: 1}) {
		t.Fatal(s, err)
	}
	if s, _ := b.Import(Imported{Rows: rows2}, "v2.csv", "anna", t0.Add(2*time.Hour)); s != (ImportSummary{Unchanged: 2}) {
		t.Errorf("same list again: %+v", s)
	}
	id, err := b.AddManual("DI 32 in +A2", "plc1", "4", model.ParseLocation("Plant/+A2"),
		map[string]string{"vendor": "Siemens", "order_number": "6ES7 321-1BL00-0AA0", "serial": "C-X1"}, "anna", "test", t0)
	if err != nil || id != "manual:di-32-in-+a2" {
		t.Fatal(id, err)
	}
	if _, err := b.AddManual("DI 32 in +A2", "", "", nil, nil, "anna", "test", t0); err == nil {
		t.Error("second device with the same name accepted")
	}
	tr, _ := review.NewTracker(nil, lifecycle.MissingPolicy{}, nil)
	tr.Observe([]*model.Asset{{ID: "plc1", OrderNumber: "x", LastSeen: t0}}, t0, t0)
	if err := b.SetVerdict("plc1", model.VerdictMatch, "nameplate read", "anna", t0.Add(3*time.Hour), tr); err != nil {
		t.Fatal(err)
	}
	if tr.Current("plc1") != lifecycle.Verified {
		t.Errorf("state after match: %s", tr.Current("plc1"))
	}
	if err := b.SetVerdict("plc1", model.VerdictMismatch, "wrong CPU in the rack", "ben", t0.Add(4*time.Hour), tr); err != nil {
		t.Fatal(err)
	}
	if h := tr.History("plc1"); tr.Current("plc1") != lifecycle.Identified || len(h) != 3 || h[2].By != "ben" {
		t.Errorf("state after mismatch: %s %+v", tr.Current("plc1"), h)
	}
	if err := b.SetVerdict(DocTarget("K3"), model.VerdictMissing, "not in the cabinet", "ben", t0.Add(5*time.Hour), tr); err != nil {
		t.Fatal(err)
	}
	if err := b.SetVerdict("plc1", model.VerdictNew, "x", "ben", t0, nil); err == nil {
		t.Error("a person set new")
	}
	if err := b.SetVerdict("plc1", model.VerdictMatch, " ", "ben", t0, nil); err == nil {
		t.Error("verdict without why accepted")
	}

	// reopen from the store: everything confirmed is there
	b2, skipped, err := Open(st, "walk")
	if err != nil || skipped != 0 {
		t.Fatal(err, skipped)
	}
	docs := b2.Documented()
	if len(docs) != 2 || docs[0].Tag != "K1" || docs[0].Serial != "S1b" || docs[1].Tag != "K3" {
		t.Errorf("documented after reopen = %+v", docs)
	}
	if h, withdrawn := b2.DocumentedHistory("K1"); len(h) != 1 || h[0].Serial != "S1" || withdrawn {
		t.Errorf("K1 history = %+v %v", h, withdrawn)
	}
	if _, withdrawn := b2.DocumentedHistory("K2"); !withdrawn {
		t.Error("K2 not withdrawn")
	}
	if len(b2.Imports()) != 3 {
		t.Errorf("imports = %d", len(b2.Imports()))
	}
	if r, ok := b2.PersonVerdict("plc1"); !ok || r.Verdict != model.VerdictMismatch || r.By != "ben" {
		t.Errorf("plc1 verdict after reopen = %+v", r)
	}
	if h := b2.VerdictHistory("plc1"); len(h) != 2 {
		t.Errorf("verdict history = %+v", h)
	}
	m := b2.ManualAssets()
	if len(m) != 1 || m[0].OrderNumber != "6ES7 321-1BL00-0AA0" || m[0].Fact(model.FieldParent) != "plc1" || m[0].Fact(model.FieldSlot) != "4" {
		t.Fatalf("manual assets = %+v", m)
	}
	if l := b2.Location(id); l.String() != "Plant/+A2" {
		t.Errorf("location = %v", l)
	}
	ev := b2.Evaluate([]model.Asset{asset("plc1", "00:1b:1b:00:00:01", "", "Siemens AG", "6ES7 315-2EH14-0AB0", "S1b", "")})
	if v := verdictOf(t, ev, "plc1"); v.Value != model.VerdictMismatch || v.Basis != model.BasisWalkdown || v.By != "ben" || len(v.Compared) == 0 {
		t.Errorf("person's verdict = %+v", v)
	}
	if v := verdictOf(t, ev, DocTarget("K3")); v.Value != model.VerdictMissing {
		t.Errorf("K3 = %+v", v)
	}
	if v := verdictOf(t, ev, string(id)); v.Value != model.VerdictNew || v.Basis != model.BasisWalkdown {
		t.Errorf("manual asset = %+v", v)
	}
	wd := b2.Annotate(nil)
	if w := wd[id]; w.Location != "Plant/+A2" || w.Verdict == nil {
		t.Errorf("annotate = %+v", w)
	}
}

func TestManualS7300ModuleIsEndOfLife(t *testing.T) {
	b, _ := NewBook(nil, nil)
	if _, err := b.AddManual("DI16 slot 4", "", "4", nil, map[string]string{"order_number": "6ES7 321-1BH02-0AA0"}, "anna", "nameplate", t0); err != nil {
		t.Fatal(err)
	}
	cat, probs := lifecycle.Load()
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	m := b.ManualAssets()
	r, ok := cat.Match(&m[0])
	if !ok || r.PhaseAt(t0) < lifecycle.EndOfLife || !strings.Contains(r.Family, "S7-300") {
		t.Errorf("lifecycle of a typed-in S7-300 module = %v %+v", ok, r.Entry)
	}
	if r.Evidence.Source.Kind != model.Manual {
		t.Errorf("evidence source = %+v", r.Evidence)
	}
}

func TestResolveAndCLIFunctions(t *testing.T) {
	st := openStore(t)
	assets := []model.Asset{asset("mac:00:1b:1b:00:00:01", "00:1b:1b:00:00:01", "10.0.0.1", "Siemens AG", "6ES7 315-2EH14-0AB0", "S1", "")}
	assets[0].Names = []string{"plc-a2"}
	dir := t.TempDir()
	p := dir + "/plant.csv"
	if err := writeFile(p, "Tag,MAC,Order Number,Location\n+A2-K1,00:1b:1b:00:00:01,6ES7 315-2EH14-0AB0,Plant/+A2\n+A2-K9,,6ES7 321-1BH02-0AA0,Plant/+A2\n"); err != nil {
		t.Fatal(err)
	}
	s, im, err := ImportFile(st, "walk", p, nil, "", "anna")
	if err != nil || s.Added != 2 || len(im.Problems) != 0 {
		t.Fatal(s, im, err)
	}
	if id, err := SetNameplate(st, "walk", assets, "+A2-K1", []string{"serial=S1", "firmware=V3.2.6"}, "anna"); err != nil || id != assets[0].ID {
		t.Fatal(id, err)
	}
	if _, err := SetNameplate(st, "walk", assets, "plc-a2", []string{"serial"}, "anna"); err == nil {
		t.Error("field without value accepted")
	}
	mid, err := AddDevice(st, "walk", assets, "K9 module", "plc-a2", "4", "Plant/+A2", []string{"order_number=6ES7 321-1BH02-0AA0"}, "anna")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := AddDevice(st, "walk", assets, "x", "", "4", "", nil, "anna"); err == nil {
		t.Error("--slot without --parent accepted")
	}
	if ids, err := LocateAssets(st, "walk", assets, []string{"10.0.0.1", "plc-a2"}, "Plant/Hall 1/+A2", "anna"); err != nil || len(ids) != 2 {
		t.Fatal(ids, err)
	}
	if _, err := SetAssetVerdict(st, "walk", assets, "00:1b:1b:00:00:01", "match", "read the label", "anna", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := SetAssetVerdict(st, "walk", assets, "nobody", "match", "x", "anna", nil); err == nil {
		t.Error("unknown asset accepted")
	}
	b, _, _ := Open(st, "walk")
	ev := b.Evaluate(assets)
	if v := verdictOf(t, ev, string(assets[0].ID)); v.Value != model.VerdictMatch || v.By != "anna" {
		t.Errorf("plc verdict %+v", v)
	}
	// a manual id resolves as typed from its label, in any case
	if id, err := b.Resolve(assets, strings.ToUpper(string(mid))); err != nil || id != mid {
		t.Errorf("Resolve(%q) = %q, %v; want %q", strings.ToUpper(string(mid)), id, err, mid)
	}
	// the module typed in at the same location with the documented order number
	it := ev.Items[ev.Find(string(mid))]
	if it.Doc == nil || it.Doc.Tag != "+A2-K9" || it.MatchedBy != "order number + location" {
		t.Errorf("module item = %+v", it)
	}
}

// TestMissingVerdictState: the walkdown's missing is the inventory's
// missing, with who and why in the state history; a device already
// decommissioned keeps its state.
func TestMissingVerdictState(t *testing.T) {
	b, _ := NewBook(nil, nil)
	tr, _ := review.NewTracker(nil, lifecycle.MissingPolicy{}, nil)
	tr.Observe([]*model.Asset{{ID: "plc1", OrderNumber: "x", LastSeen: t0}, {ID: "plc2", OrderNumber: "y", LastSeen: t0}}, t0, t0)
	if err := b.SetVerdict("plc1", model.VerdictMissing, "rack slot empty", "ben", t0.Add(time.Hour), tr); err != nil {
		t.Fatal(err)
	}
	if h := tr.History("plc1"); tr.Current("plc1") != lifecycle.Missing || len(h) != 2 || h[1].By != "ben" || !strings.Contains(h[1].Why, "rack slot empty") {
		t.Errorf("state after missing: %s %+v", tr.Current("plc1"), h)
	}
	if _, err := tr.Set("plc2", lifecycle.Decommissioned, "ben", "replaced", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := b.SetVerdict("plc2", model.VerdictMissing, "removed as planned", "ben", t0.Add(2*time.Hour), tr); err != nil || tr.Current("plc2") != lifecycle.Decommissioned {
		t.Errorf("decommissioned asset: %v, %s", err, tr.Current("plc2"))
	}
}
