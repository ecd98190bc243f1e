package store

import (
	"bytes"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"otscope/model"
)

// laterCounters returns a's counters after more traffic: more packets and bytes,
// every last seen time and fact count moved on.
func laterCounters(a model.Asset, d time.Duration) model.AssetCounters {
	c := a.Counters()
	c.Packets += 100
	c.Bytes += 6400
	c.LastSeen = c.LastSeen.Add(d)
	for i := range c.Services {
		c.Services[i].LastSeen = c.Services[i].LastSeen.Add(d)
	}
	for i := range c.Facts {
		c.Facts[i].Count += 5
		c.Facts[i].LastSeen = c.Facts[i].LastSeen.Add(d)
	}
	return c
}

// widened returns a with c applied, as Load should give it.
func widened(a model.Asset, c model.AssetCounters) model.Asset {
	a = a.Clone()
	a.Widen(&c)
	return a
}

// TestCounterRecords: a counters-only save changes what Load gives by
// exactly the counters; a full save replaces them (its counter record is
// deleted, also one written before the store was reopened); removing the
// asset removes them; the session's asset count does not see them.
func TestCounterRecords(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	s := openDisk(t, dir)
	ensure(t, s, "s")
	a, b := testAsset("ip:10.20.0.7", 7), testAsset("ip:10.20.0.8", 8)
	mustSave(t, s, "s", Flush{Assets: []model.Asset{a, b}})

	ca := laterCounters(a, time.Minute)
	mustSave(t, s, "s", Flush{Counters: []model.AssetCounters{ca}})
	snap := mustLoad(t, s, "s")
	if want := widened(a, ca); !reflect.DeepEqual(snap.Assets[0], want) {
		t.Fatalf("after a counters save:\ngot  %+v\nwant %+v", snap.Assets[0], want)
	}
	if snap.Assets[0].Packets != a.Packets+100 || snap.Assets[0].Facts[0].Count != a.Facts[0].Count+5 {
		t.Fatalf("counters not applied: packets %d, fact count %d", snap.Assets[0].Packets, snap.Assets[0].Facts[0].Count)
	}
	if !reflect.DeepEqual(snap.Assets[1], b) {
		t.Errorf("the other asset changed: %+v", snap.Assets[1])
	}
	if snap.Info.Assets != 2 || snap.Skipped != 0 {
		t.Errorf("Info.Assets %d, Skipped %d; want 2 and 0", snap.Info.Assets, snap.Skipped)
	}
	// a second counters save replaces the first
	ca2 := laterCounters(a, time.Hour)
	mustSave(t, s, "s", Flush{Counters: []model.AssetCounters{ca2}})
	if got := mustLoad(t, s, "s").Assets[0]; got.LastSeen != a.LastSeen.Add(time.Hour) {
		t.Errorf("LastSeen %v after the second counters save, want %v", got.LastSeen, a.LastSeen.Add(time.Hour))
	}

	// reopened, a full save of a with lower counters than the record
	// (a restored inventory would not, but the record must go all the same)
	// leaves exactly the full record
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openDisk(t, dir)
	a2 := a.Clone()
	a2.Vendor = "Siemens AG, renamed"
	mustSave(t, s, "s", Flush{Assets: []model.Asset{a2}, Counters: []model.AssetCounters{b.Counters()}})
	snap = mustLoad(t, s, "s")
	if !reflect.DeepEqual(snap.Assets[0], a2) {
		t.Fatalf("after a full save the counter record still applies:\ngot  %+v\nwant %+v", snap.Assets[0], a2)
	}
	if n := countKind(t, s, "s", kindCounters); n != 1 {
		t.Errorf("%d counter records, want 1 (b's)", n)
	}
	mustSave(t, s, "s", Flush{Removed: []model.AssetID{b.ID}})
	if n := countKind(t, s, "s", kindCounters); n != 0 {
		t.Errorf("%d counter records after removing b, want 0", n)
	}
	if snap = mustLoad(t, s, "s"); len(snap.Assets) != 1 || snap.Info.Assets != 1 {
		t.Errorf("%d assets (Info %d) after removing b, want 1", len(snap.Assets), snap.Info.Assets)
	}
}

// TestCounterRecordsDamaged: a counter record that does not decode is
// counted in Skipped and leaves its asset as stored; one whose asset is
// gone is dropped.
func TestCounterRecordsDamaged(t *testing.T) {
	s := openMem(t)
	ensure(t, s, "s")
	a := testAsset("ip:10.20.0.7", 7)
	mustSave(t, s, "s", Flush{Assets: []model.Asset{a}})
	db := sessionDB(t, s, "s")
	good := encodeCounters(&model.AssetCounters{ID: "ip:10.20.0.9", Packets: 1})
	if err := db.Update(func(txn *badger.Txn) error {
		if err := txn.Set(recordKey(kindCounters, string(a.ID)), good[:len(good)-1]); err != nil {
			return err
		}
		return txn.Set(recordKey(kindCounters, "ip:10.20.0.9"), good)
	}); err != nil {
		t.Fatal(err)
	}
	snap := mustLoad(t, s, "s")
	if len(snap.Assets) != 1 || !reflect.DeepEqual(snap.Assets[0], a) || snap.Skipped != 1 {
		t.Errorf("got %d assets, Skipped %d; want a as stored and 1 skipped", len(snap.Assets), snap.Skipped)
	}
}

func countKind(t *testing.T, s *Store, name string, kind byte) int {
	t.Helper()
	n := 0
	if err := sessionDB(t, s, name).View(func(txn *badger.Txn) error {
		eachKey(txn, kind, func([]byte) { n++ })
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// FuzzCounters: decodeCounters never panics nor allocates more than its
// input can hold, and what it accepts encodes back to a value it decodes
// the same.
func FuzzCounters(f *testing.F) {
	a := testAsset("ip:10.20.0.7", 7)
	c := laterCounters(a, time.Minute)
	f.Add(encodeCounters(&c))
	f.Add(encodeCounters(&model.AssetCounters{ID: "x"}))
	f.Add([]byte{countersVersion, 1, 'x', 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := decodeCounters(b)
		if err != nil {
			return
		}
		enc := encodeCounters(&c)
		c2, err := decodeCounters(enc)
		if err != nil || !reflect.DeepEqual(c, c2) {
			t.Fatalf("%x decodes to %+v, which encodes to %x, which decodes to %+v, %v", b, c, enc, c2, err)
		}
		if !bytes.Equal(enc, encodeCounters(&c2)) {
			t.Fatalf("encoding of %+v is not stable", c)
		}
	})
}

func TestCountersRoundTrip(t *testing.T) {
	a := testAsset("ip:10.20.0.7", 7)
	a.Services[0].LastSeen = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC) // not zero, before 1970
	c := laterCounters(a, 90*time.Second)
	got, err := decodeCounters(encodeCounters(&c))
	if err != nil {
		t.Fatal(err)
	}
	// times come back as the same instants, in UTC
	for _, p := range []struct{ got, want time.Time }{
		{got.FirstSeen, c.FirstSeen}, {got.LastSeen, c.LastSeen},
		{got.Services[0].LastSeen, c.Services[0].LastSeen}, {got.Facts[1].LastSeen, c.Facts[1].LastSeen},
	} {
		if !p.got.Equal(p.want) || p.got.IsZero() != p.want.IsZero() {
			t.Errorf("time %v came back as %v", p.want, p.got)
		}
	}
	got.FirstSeen, got.LastSeen = c.FirstSeen, c.LastSeen
	for i := range got.Services {
		got.Services[i].LastSeen = c.Services[i].LastSeen
	}
	for i := range got.Facts {
		got.Facts[i].LastSeen = c.Facts[i].LastSeen
	}
	if !reflect.DeepEqual(got, c) {
		t.Errorf("round trip:\ngot  %+v\nwant %+v", got, c)
	}
}
