package central

import (
	"bytes"
	"context"
	"testing"
	"time"

	"otscope/assets/bundle"
	"otscope/assets/bundle/bundletest"
	"otscope/assets/merge"
)

func bundleBytes(t *testing.T, s *bundle.Session) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := bundle.Write(&b, s, bundle.Options{Otscope: "test", Created: time.Unix(0, 0).UTC()}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// What is pushed is exactly what the bundle holds: push the demo plant's
// session with its journals, read it back, and the bundle is identical.
func TestDemoSessionRoundTripsThroughCentral(t *testing.T) {
	_, dsn := freshDB(t)
	db := open(t, dsn)
	s := bundletest.Ingest(t, "plant-a", "demo", bundletest.PlantPcap(t, 3*time.Minute))
	bundletest.AddJournals(t, &s)
	s.Site, s.Sensor = "Plant A", "jump-1"
	c, err := FromBundle(&s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Push(context.Background(), c, PushOptions{Site: "Plant A", Sensor: "jump-1"}); err != nil {
		t.Fatal(err)
	}
	got, err := db.Load(context.Background(), LoadOptions{Sites: []string{"Plant A"}})
	if err != nil {
		t.Fatal(err)
	}
	back, err := got[0].Bundle()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Journals) == 0 || len(back.Journals) != len(s.Journals) {
		t.Fatalf("journals: pushed %d, read back %d", len(s.Journals), len(back.Journals))
	}
	if w, g := bundleBytes(t, &s), bundleBytes(t, &back); !bytes.Equal(w, g) {
		t.Fatalf("the session read back from the central database differs from the one pushed (%d vs %d bytes)", len(w), len(g))
	}
}

// Two sensors of one site: the site reads back as the local merge of the
// two sessions.
func TestSiteIsTheMergeOfItsSensors(t *testing.T) {
	_, dsn := freshDB(t)
	db := open(t, dsn)
	// Two jump hosts saw the same plant, one for longer.
	a := bundletest.Ingest(t, "a", "demo", bundletest.PlantPcap(t, 2*time.Minute))
	b := bundletest.Ingest(t, "b", "demo", bundletest.PlantPcap(t, 4*time.Minute))
	for i, s := range []*bundle.Session{&a, &b} {
		s.Site = "Plant B"
		c, err := FromBundle(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Push(context.Background(), c, PushOptions{Site: "Plant B", Sensor: []string{"jump-1", "jump-2"}[i]}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.Load(context.Background(), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sites, err := MergeSites(got)
	if err != nil {
		t.Fatal(err)
	}
	a.Name, b.Name = "jump-1/a", "jump-2/b"
	want, _, err := merge.Sessions("Plant B", a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(sites) != 1 || len(sites[0].Session.Assets) != len(want.Assets) || sites[0].Report.Joined == 0 {
		t.Fatalf("site merge: %d sites, %d assets (want %d), %d joined", len(sites), len(sites[0].Session.Assets), len(want.Assets), sites[0].Report.Joined)
	}
	for i := range want.Assets {
		if want.Assets[i].ID != sites[0].Session.Assets[i].ID || len(want.Assets[i].Facts) != len(sites[0].Session.Assets[i].Facts) {
			t.Fatalf("asset %d: %s with %d facts, want %s with %d", i, sites[0].Session.Assets[i].ID, len(sites[0].Session.Assets[i].Facts),
				want.Assets[i].ID, len(want.Assets[i].Facts))
		}
	}
}
