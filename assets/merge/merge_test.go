package merge_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	nip "net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"otscope/assets/bundle"
	"otscope/assets/bundle/bundletest"
	"otscope/assets/merge"
	"otscope/model"
)

// splitPcap cuts a classic pcap into two files at the quietest moment of
// its middle third (the longest pause between two packets), as two jump
// hosts would have recorded it: a request and its answer on either side of
// the cut would be lost to both halves (and to two real jump hosts).
func splitPcap(t *testing.T, raw []byte) (a, b []byte) {
	t.Helper()
	if len(raw) < 24 || binary.LittleEndian.Uint32(raw) != 0xa1b2c3d4 {
		t.Skip("not a little-endian classic pcap")
	}
	var offs []int
	for at := 24; at+16 <= len(raw); {
		offs = append(offs, at)
		at += 16 + int(binary.LittleEndian.Uint32(raw[at+8:]))
	}
	ts := func(at int) int64 {
		return int64(binary.LittleEndian.Uint32(raw[at:]))*1_000_000 + int64(binary.LittleEndian.Uint32(raw[at+4:]))
	}
	mid, gap := offs[len(offs)/2], int64(-1)
	for i := len(offs) / 3; i < 2*len(offs)/3 && i > 0; i++ {
		if g := ts(offs[i]) - ts(offs[i-1]); g > gap {
			mid, gap = offs[i], g
		}
	}
	a = append([]byte{}, raw[:mid]...)
	b = append(append([]byte{}, raw[:24]...), raw[mid:]...)
	return a, b
}

// summary is what "the same assets" means: the identity of every asset.
// keep, when set, says which facts count (by asset ID and field=value).
func summary(s bundle.Session, keep func(model.AssetID, string) bool) string {
	var b strings.Builder
	for _, a := range s.Assets {
		var svc, facts []string
		for _, x := range a.Services {
			svc = append(svc, x.Key()+"="+x.Protocol)
		}
		for _, f := range a.Facts {
			if keep == nil || keep(a.ID, f.Field+"="+f.Value) {
				facts = append(facts, f.Field+"="+f.Value)
			}
		}
		slices.Sort(facts)
		fmt.Fprintf(&b, "%s macs=%v ips=%v vendor=%q product=%q order=%q fw=%q hw=%q serial=%q packets=%d\n  services=%v\n  facts=%v\n",
			a.ID, a.MACs, a.IPs, a.Vendor, a.Product, a.OrderNumber, a.Firmware, a.HardwareVersion, a.Serial, a.Packets, svc, facts)
	}
	return b.String()
}

func checkHalves(t *testing.T, origin string, raw []byte) {
	t.Helper()
	whole := bundletest.Ingest(t, "whole", origin, raw)
	h1, h2 := splitPcap(t, raw)
	a := bundletest.Ingest(t, "first", origin, h1)
	b := bundletest.Ingest(t, "second", origin, h2)
	got, rep, err := merge.Sessions("merged", a, b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Joined == 0 {
		t.Fatalf("%s: no asset of the second half joined one of the first", origin)
	}
	// A request and its answer on either side of the cut are lost to both
	// halves (as to two jump hosts): such facts are left out of the
	// comparison, and logged. Everything either half saw must be merged.
	inHalf := map[string]bool{}
	for _, h := range []bundle.Session{a, b} {
		for _, x := range h.Assets {
			for _, f := range x.Facts {
				inHalf[f.Field+"="+f.Value] = true
			}
		}
	}
	lost := 0
	keep := func(id model.AssetID, fv string) bool {
		if !inHalf[fv] {
			lost++
			t.Logf("%s: %s %s is in neither half (its exchange straddles the cut)", origin, id, fv)
		}
		return inHalf[fv]
	}
	w, g := summary(whole, keep), summary(got, nil)
	if lost > 2 {
		t.Errorf("%s: %d facts lost at the cut, want at most 2", origin, lost)
	}
	if w != g {
		t.Errorf("%s: merged halves differ from the whole capture:\n%s", origin, diffLines(w, g))
	}
	if len(got.Conversations) != len(whole.Conversations) {
		t.Errorf("%s: %d conversations merged, %d in the whole", origin, len(got.Conversations), len(whole.Conversations))
	}
}

func diffLines(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for _, l := range la {
		if !slices.Contains(lb, l) {
			out = append(out, "- "+l)
		}
	}
	for _, l := range lb {
		if !slices.Contains(la, l) {
			out = append(out, "+ "+l)
		}
	}
	if len(out) > 20 {
		out = out[:20]
	}
	return strings.Join(out, "\n")
}

func TestHalvesOfDemoPlant(t *testing.T) {
	checkHalves(t, "plant.pcap", bundletest.PlantPcap(t, 10*time.Second))
}

func TestHalvesOfRealCapture(t *testing.T) {
	dir := bundletest.SharedDir(t)
	for _, p := range []string{"s7comm/s7comm_reading_plc_status.pcap", "modbus/modbus_test.pcap"} {
		f, err := os.Open(filepath.Join(dir, "pcaps", p))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(f)
		f.Close()
		checkHalves(t, p, raw)
	}
}

func TestRefusesSelf(t *testing.T) {
	s := bundletest.Ingest(t, "north", "plant.pcap", bundletest.PlantPcap(t, 2*time.Second))
	if _, _, err := merge.Sessions("c", s, s); !errors.Is(err, merge.ErrSelf) {
		t.Fatalf("err = %v", err)
	}
	if _, _, err := merge.Sessions("c", s); !errors.Is(err, merge.ErrNothing) {
		t.Fatalf("err = %v", err)
	}
}

// TestSitesKeepSameIPApart: the same routed IP at two sites stays two
// assets; the same MAC within a site is one.
func TestSitesKeepSameIPApart(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ip := model.IPAssetID
	mk := func(name, site, fw string) bundle.Session {
		a := model.Asset{ID: ip(netip("10.0.0.7")), IPs: ipsOf("10.0.0.7"), FirstSeen: t0, LastSeen: t0, Firmware: fw,
			Facts: []model.Fact{{Field: model.FieldFirmware, Value: fw, Source: model.Source{Kind: model.Active, Protocol: "s7", Time: t0}, Count: 1}}}
		return bundle.Session{Name: name, Site: site, Assets: []model.Asset{a}}
	}
	got, rep, err := merge.Sessions("c", mk("a", "north", "V1"), mk("b", "south", "V2"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Assets) != 2 || len(rep.Renamed) != 1 {
		t.Fatalf("two sites gave %d assets (renamed %v), want 2", len(got.Assets), rep.Renamed)
	}
	got, rep, _ = merge.Sessions("c", mk("a", "north", "V1"), mk("b", "north", "V2"))
	if len(got.Assets) != 1 || len(rep.Conflicts) != 1 || len(rep.Conflicts[0].Values[model.FieldFirmware]) != 2 {
		t.Fatalf("one site: %d assets, conflicts %+v; want 1 asset with a firmware conflict", len(got.Assets), rep.Conflicts)
	}
	// A walkdown's manual value wins the display.
	manual := mk("w", "north", "V9")
	manual.Assets[0].Facts[0].Source.Kind = model.Manual
	got, _, _ = merge.Sessions("c", mk("a", "north", "V1"), mk("b", "north", "V1"), manual)
	if got.Assets[0].Firmware != "V9" {
		t.Fatalf("firmware shown %q, want the manual V9", got.Assets[0].Firmware)
	}
}

func TestJournalsMergeByTime(t *testing.T) {
	s := bundletest.Ingest(t, "a", "plant.pcap", bundletest.PlantPcap(t, 2*time.Second))
	bundletest.AddJournals(t, &s)
	o := s
	o.Name = "b"
	o.Updated = s.Updated.Add(-time.Hour)
	o.Journals = nil
	bundletest.AddJournals(t, &o)
	got, _, err := merge.Sessions("c", s, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range got.Journals {
		var last time.Time
		for _, r := range j.Records {
			at := merge.RecordTime(r)
			if at.Before(last) {
				t.Fatalf("%s: records out of time order", j.Name)
			}
			last = at
		}
		if j.Name == "waivers" && len(j.Records) != 2 {
			t.Fatalf("waivers: %d records, want both visits'", len(j.Records))
		}
		if j.Name == "waivers" && !bytes.Equal(j.Records[0], o.Journals[2].Records[0]) {
			t.Fatalf("the earlier waiver is not first")
		}
	}
}

func netip(s string) nip.Addr { return nip.MustParseAddr(s) }

func ipsOf(s ...string) []nip.Addr {
	var out []nip.Addr
	for _, x := range s {
		out = append(out, netip(x))
	}
	return out
}

func TestWriteReport(t *testing.T) {
	r := merge.Report{Inputs: []string{"a", "b"}, Assets: 2, Joined: 1, Conflicts: []merge.Conflict{{Asset: "ip:10.0.0.7",
		Fields: []string{"firmware"}, Values: map[string][]string{"firmware": {"V1 (active s7, probe)", "V2\x1b[31m (active s7, probe)"}}}}}
	var b bytes.Buffer
	if err := merge.WriteReport(&b, "table", "c", &r); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.Contains(out, "merged a, b into c: 2 assets (1 joined") || !strings.Contains(out, "firmware: V1 (active s7, probe) | V2") ||
		strings.ContainsRune(out, 0x1b) {
		t.Fatalf("table:\n%s", out)
	}
	b.Reset()
	if err := merge.WriteReport(&b, "json", "c", &r); err != nil || !strings.Contains(b.String(), `"joined": 1`) {
		t.Fatalf("json: %v\n%s", err, b.String())
	}
}
