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
	mustSave(t, s, "s", Flush{AssetCounters: []model.AssetCounters{ca}})
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
	mustSave(t, s, "s", Flush{AssetCounters: []model.AssetCounters{ca2}})
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
	mustSave(t, s, "s", Flush{Assets: []model.Asset{a2}, AssetCounters: []model.AssetCounters{b.Counters()}})
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

// TestConversationCounterRecords: as TestCounterRecords for a
// conversation; its ends follow the counters only when they were seen
// later.
func TestConversationCounterRecords(t *testing.T) {
	s := openMem(t)
	ensure(t, s, "s")
	c := testConv("ip:10.20.0.5", "ip:10.20.0.7", 502)
	mustSave(t, s, "s", Flush{Conversations: []model.Conversation{c}})
	k := c.Counters()
	k.Packets, k.Bytes, k.Flows = c.Packets+7, c.Bytes+700, c.Flows+1
	k.Server, k.LastSeen = "mac:00:1b:1b:01:02:99", c.LastSeen.Add(time.Minute)
	mustSave(t, s, "s", Flush{ConversationCounters: []model.ConversationCounters{k}})
	want := c
	want.Packets, want.Bytes, want.Flows, want.Server, want.LastSeen = k.Packets, k.Bytes, k.Flows, k.Server, k.LastSeen
	got := mustLoad(t, s, "s").Conversations[0]
	if !got.LastSeen.Equal(want.LastSeen) {
		t.Fatalf("LastSeen %v, want %v", got.LastSeen, want.LastSeen)
	}
	got.LastSeen = want.LastSeen
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("after a counters save:\ngot  %+v\nwant %+v", got, want)
	}
	// counters seen earlier than the record move no end
	old := c.Counters()
	old.Server, old.LastSeen = "ip:10.20.0.99", c.LastSeen.Add(-time.Minute)
	mustSave(t, s, "s", Flush{ConversationCounters: []model.ConversationCounters{old}})
	if got := mustLoad(t, s, "s").Conversations[0]; got.Server != c.Server || got.Packets != c.Packets {
		t.Errorf("older counters: server %s, %d packets; want the record's %s, %d", got.Server, got.Packets, c.Server, c.Packets)
	}
	// a whole write deletes them
	mustSave(t, s, "s", Flush{Conversations: []model.Conversation{c}})
	if n := countKind(t, s, "s", kindConvCounters); n != 0 {
		t.Errorf("%d conversation counter records after a whole write, want 0", n)
	}
	if got := mustLoad(t, s, "s").Conversations; len(got) != 1 || !reflect.DeepEqual(got[0], c) {
		t.Errorf("after a whole write: %+v, want %+v", got, c)
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

// FuzzCounters: decodeCounters and decodeConvCounters never panic nor
// allocate more than their input can hold, and what they accept encodes
// back to a value they decode the same.
func FuzzCounters(f *testing.F) {
	a := testAsset("ip:10.20.0.7", 7)
	c := laterCounters(a, time.Minute)
	f.Add(encodeCounters(&c))
	f.Add(encodeCounters(&model.AssetCounters{ID: "x"}))
	f.Add([]byte{countersVersion, 1, 'x', 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f})
	cv := testConv("ip:10.20.0.5", "ip:10.20.0.7", 502)
	k := cv.Counters()
	f.Add(encodeConvCounters(&k))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, err := decodeConvCounters(b); err == nil {
			enc := encodeConvCounters(&k)
			if k2, err := decodeConvCounters(enc); err != nil || !reflect.DeepEqual(k, k2) {
				t.Fatalf("%x decodes to %+v, which encodes to %x, which decodes to %+v, %v", b, k, enc, k2, err)
			}
		}
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
