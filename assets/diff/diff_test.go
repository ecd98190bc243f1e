package diff_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"otscope/assets/bundle"
	"otscope/assets/bundle/bundletest"
	"otscope/assets/diff"
	"otscope/model"
)

func demo(t testing.TB) bundle.Session {
	t.Helper()
	return bundletest.Ingest(t, "visit1", "plant.pcap", bundletest.PlantPcap(t, 8*time.Second))
}

func copyOf(t testing.TB, s bundle.Session, name string) bundle.Session {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var c bundle.Session
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c.Name = name
	return c
}

func find(r diff.Result, kind diff.Kind, subj diff.Subject, id model.AssetID, field string) *diff.Change {
	for i, c := range r.Changes {
		if c.Kind == kind && c.Subject == subj && c.Asset == id && c.Field == field {
			return &r.Changes[i]
		}
	}
	return nil
}

func TestSameSessionNoChanges(t *testing.T) {
	a := demo(t)
	b := copyOf(t, a, "visit2")
	r := diff.Sessions(&a, &b, diff.Options{})
	if len(r.Changes) != 0 || r.Unchanged != len(a.Assets) {
		t.Fatalf("%d changes, %d unchanged of %d: %+v", len(r.Changes), r.Unchanged, len(a.Assets), r.Changes[:min(3, len(r.Changes))])
	}
}

func TestWhatChanged(t *testing.T) {
	a := demo(t)
	b := copyOf(t, a, "visit2")
	// Pick assets: a MAC-keyed device with an IP, another one, and one to remove.
	var mk []int
	for i, x := range b.Assets {
		if strings.HasPrefix(string(x.ID), "mac:") && len(x.IPs) == 1 && !x.Gateway {
			mk = append(mk, i)
		}
	}
	if len(mk) < 3 {
		t.Fatalf("only %d identified devices in the demo plant", len(mk))
	}
	fw, moved, swapped := &b.Assets[mk[0]], &b.Assets[mk[1]], &b.Assets[mk[2]]
	oldFW, oldIP := fw.Firmware, moved.IPs[0]
	fw.Firmware = "V9.9.9"
	moved.IPs = []netip.Addr{netip.MustParseAddr("10.99.0.1")}
	swappedOld := swapped.ID
	swapped.MACs = []model.MAC{{0x00, 0x1b, 0x1b, 0xee, 0xee, 0xee}}
	swapped.ID = model.MACAssetID(swapped.MACs[0])
	swapped.Serial = "NEW-SERIAL"
	fw.Services = append(fw.Services, model.Service{Transport: "tcp", Port: 23, Protocol: "telnet"})
	gone := b.Assets[len(b.Assets)-1]
	b.Assets = b.Assets[:len(b.Assets)-1]
	b.Assets = append(b.Assets, model.Asset{ID: "ip:10.77.0.5", IPs: []netip.Addr{netip.MustParseAddr("10.77.0.5")}, Names: []string{"=HYPERLINK(\"x\")"}})
	b.Conversations = append(b.Conversations, model.Conversation{Client: "ip:10.77.0.5", Server: fw.ID,
		ClientIP: netip.MustParseAddr("10.77.0.5"), ServerIP: fw.IPs[0], Transport: "tcp", Port: 102, Protocol: "s7comm"})
	before := map[model.AssetID]diff.Status{fw.ID: {Phase: "active", Verdict: "pass"}}
	after := map[model.AssetID]diff.Status{fw.ID: {Phase: "end-of-life", Verdict: "fail", Violations: []string{"cleartext-engineering"}}}

	r := diff.Sessions(&a, &b, diff.Options{Before: before, After: after})
	if c := find(r, diff.Changed, diff.Asset, fw.ID, diff.FieldFirmware); c == nil || c.Old != oldFW || c.New != "V9.9.9" {
		t.Errorf("firmware change: %+v", c)
	}
	if c := find(r, diff.Changed, diff.Asset, moved.ID, diff.FieldIP); c == nil || c.Old != oldIP.String() || c.New != "10.99.0.1" {
		t.Errorf("IP change: %+v", c)
	}
	if c := find(r, diff.Changed, diff.Asset, swapped.ID, diff.FieldMAC); c == nil || !strings.Contains(string(swappedOld), c.Old) {
		t.Errorf("MAC change (swap): %+v", c)
	}
	if c := find(r, diff.Changed, diff.Asset, swapped.ID, diff.FieldSerial); c == nil || c.New != "NEW-SERIAL" {
		t.Errorf("serial change: %+v", c)
	}
	if find(r, diff.Vanished, diff.Asset, swappedOld, "") != nil || find(r, diff.New, diff.Asset, swapped.ID, "") != nil {
		t.Error("a swapped module was reported as a vanished and a new asset")
	}
	if find(r, diff.Vanished, diff.Asset, gone.ID, "") == nil {
		t.Error("the removed asset is not vanished")
	}
	if find(r, diff.New, diff.Asset, "ip:10.77.0.5", "") == nil {
		t.Error("the added asset is not new")
	}
	if c := find(r, diff.New, diff.Service, fw.ID, ""); c == nil || !strings.Contains(c.Detail, "tcp/23") {
		t.Errorf("new service: %+v", c)
	}
	if c := find(r, diff.New, diff.Conversation, fw.ID, ""); c == nil || !strings.Contains(c.Detail, "10.77.0.5 >") {
		t.Errorf("new conversation: %+v", c)
	}
	for _, f := range []string{diff.FieldPhase, diff.FieldVerdict} {
		if find(r, diff.Changed, diff.Asset, fw.ID, f) == nil {
			t.Errorf("no %s change", f)
		}
	}
	if c := find(r, diff.New, diff.Asset, fw.ID, diff.FieldViolation); c == nil || c.New != "cleartext-engineering" {
		t.Errorf("new violation: %+v", c)
	}
	for _, k := range []diff.Kind{diff.New, diff.Vanished, diff.Changed} {
		f, err := diff.ParseFailOn(string(k))
		if err != nil || !r.Fails(f) {
			t.Errorf("--fail-on %s: %v", k, err)
		}
	}

	// Writers.
	var js bytes.Buffer
	if err := diff.Write(&js, "json", &r); err != nil {
		t.Fatal(err)
	}
	var back diff.Result
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || len(back.Changes) != len(r.Changes) {
		t.Fatalf("json: %v, %d changes", err, len(back.Changes))
	}
	var cs bytes.Buffer
	if err := diff.Write(&cs, "csv", &r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&cs).ReadAll()
	if err != nil || len(rows) != len(r.Changes)+1 {
		t.Fatalf("csv: %v, %d rows", err, len(rows))
	}
	for _, row := range rows {
		for _, cell := range row {
			if strings.HasPrefix(cell, "=") {
				t.Errorf("CSV cell starts a formula: %q", cell)
			}
		}
	}
	var tb bytes.Buffer
	if err := diff.Write(&tb, "table", &r); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(tb.String()), "\n") {
		if utf8.RuneCountInString(l) > 80 {
			t.Errorf("table line over 80 columns: %q", l)
		}
	}
	if err := diff.Write(&tb, "xml", &r); !errors.Is(err, diff.ErrFormat) {
		t.Errorf("xml: %v", err)
	}
}

func TestFailOn(t *testing.T) {
	if _, err := diff.ParseFailOn("new,bogus"); !errors.Is(err, diff.ErrFailOn) {
		t.Fatalf("err = %v", err)
	}
	f, _ := diff.ParseFailOn("any")
	r := diff.Result{Counts: map[diff.Kind]int{}}
	if r.Fails(f) {
		t.Fatal("an empty diff fails")
	}
	r.Counts[diff.Vanished] = 1
	if g, _ := diff.ParseFailOn("new"); r.Fails(g) || !r.Fails(f) {
		t.Fatal("fail-on does not follow the kinds")
	}
}

// TestTwoVisits: a longer visit finds what a shorter one had and more; a
// real capture against itself is unchanged.
func TestTwoVisits(t *testing.T) {
	short := bundletest.Ingest(t, "v1", "plant.pcap", bundletest.PlantPcap(t, 2*time.Second))
	long := demo(t)
	r := diff.Sessions(&short, &long, diff.Options{})
	ids := map[model.AssetID]bool{}
	for _, a := range short.Assets {
		ids[a.ID] = true
	}
	want := 0
	for _, a := range long.Assets {
		if !ids[a.ID] {
			want++
		}
	}
	if want == 0 {
		t.Fatal("the longer visit found nothing new; the test proves nothing")
	}
	newAssets := 0
	for _, c := range r.Changes {
		if c.Kind == diff.New && c.Subject == diff.Asset && c.Field == "" {
			newAssets++
		}
	}
	if newAssets > want || newAssets == 0 {
		t.Fatalf("%d new assets reported, %d IDs are new", newAssets, want)
	}
	dir := bundletest.SharedDir(t)
	raw, err := os.ReadFile(filepath.Join(dir, "pcaps", "s7comm", "s7ident.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	x := bundletest.Ingest(t, "x", "s7ident.pcap", raw)
	y := copyOf(t, x, "y")
	if r := diff.Sessions(&x, &y, diff.Options{}); len(r.Changes) != 0 {
		t.Fatalf("a real capture against itself: %d changes", len(r.Changes))
	}
}
