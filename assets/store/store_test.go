package store

import (
	"bytes"
	"errors"
	"fmt"
	"log"
	"net/netip"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"otscope/model"
)

var t0 = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)

// testAsset returns an asset with every field set, including an IPv6 address
// with a zone and a zero time.
func testAsset(id string, n uint64) model.Asset {
	mac := model.MAC{0x00, 0x1b, 0x1b, 0x01, 0x02, byte(n)}
	src := model.Source{Kind: model.Passive, Protocol: "lldp", Origin: "plant.pcapng", Frame: 42, Time: t0}
	return model.Asset{
		ID:     model.AssetID(id),
		MACs:   []model.MAC{mac},
		IPs:    []netip.Addr{netip.MustParseAddr("10.20.0.7"), netip.MustParseAddr("fe80::21b:1bff:fe01:203%eth0")},
		VLANs:  []uint16{1, 100},
		Vendor: "Siemens AG",
		Names:  []string{"plc-01"},
		Roles:  []string{"plc"},
		Services: []model.Service{{
			Transport: "tcp", Port: 102, Protocol: "s7comm", IP: netip.MustParseAddr("10.20.0.7"),
			FirstSeen: t0, LastSeen: t0.Add(time.Second),
		}, {Transport: "l2", Protocol: "lldp", FirstSeen: t0, LastSeen: t0}},
		Protocols: []string{"lldp", "s7comm"},
		FirstSeen: t0,
		LastSeen:  time.Unix(1741944413, 123).UTC(),
		Packets:   n,
		Bytes:     n * 60,
		Gateway:   n%2 == 1,
		Facts: []model.Fact{{
			Field: model.FieldLLDPSysName, Value: "plc-01", Detail: "chassis", Source: src,
			LastSeen: t0.Add(time.Minute), Count: 3,
		}, {
			Field: model.FieldRole, Value: "plc", Source: model.Source{Kind: model.Derived, Time: t0}, Count: 1,
		}},
	}
}

func testConv(client, server string, port uint16) model.Conversation {
	return model.Conversation{
		Client: model.AssetID(client), Server: model.AssetID(server),
		ClientIP: netip.MustParseAddr("10.20.0.5"), ServerIP: netip.MustParseAddr("10.20.0.7"),
		Transport: "tcp", Port: port, Protocol: "modbus", Packets: 10, Bytes: 640, Flows: 2,
		FirstSeen: t0, LastSeen: t0.Add(time.Hour),
	}
}

func testStats(source string, packets uint64) model.CaptureStats {
	return model.CaptureStats{
		Source: source, Packets: packets, Bytes: packets * 100, Truncated: 1, DecodeErrors: 2,
		FirstPacket: t0, LastPacket: t0.Add(time.Minute), Started: t0, Updated: t0.Add(2 * time.Minute),
		Done: true, Err: "",
	}
}

func openMem(t testing.TB) *Store {
	t.Helper()
	s, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// sessionDB returns the session's Badger database, open for writing.
func sessionDB(t testing.TB, s *Store, name string) *badger.DB {
	t.Helper()
	h, end, err := s.acquire(name, modeWrite)
	if err != nil {
		t.Fatalf("acquire(%q): %v", name, err)
	}
	end()
	return h.db
}

func ensure(t testing.TB, s *Store, name string) {
	t.Helper()
	if _, err := s.EnsureSession(name, t0); err != nil {
		t.Fatalf("EnsureSession(%q): %v", name, err)
	}
}

func mustSave(t testing.TB, s *Store, name string, f Flush) {
	t.Helper()
	if err := s.Save(name, f); err != nil {
		t.Fatalf("Save(%q): %v", name, err)
	}
}

func mustLoad(t testing.TB, s *Store, name string) Snapshot {
	t.Helper()
	snap, err := s.Load(name)
	if err != nil {
		t.Fatalf("Load(%q): %v", name, err)
	}
	return snap
}

func TestRoundTripInMemory(t *testing.T) {
	s := openMem(t)
	ensure(t, s, "plant-a")
	f := Flush{
		Assets:        []model.Asset{testAsset("mac:00:1b:1b:01:02:02", 2), testAsset("ip:10.20.0.9", 1)},
		Conversations: []model.Conversation{testConv("ip:10.20.0.9", "mac:00:1b:1b:01:02:02", 502)},
		Stats:         []model.CaptureStats{testStats("plant.pcapng", 1000)},
		Time:          t0.Add(time.Hour),
	}
	mustSave(t, s, "plant-a", f)
	snap := mustLoad(t, s, "plant-a")
	// Sorted by ID: "ip:..." before "mac:...".
	want := []model.Asset{f.Assets[1], f.Assets[0]}
	if !reflect.DeepEqual(snap.Assets, want) {
		t.Errorf("assets differ after round trip:\n got %#v\nwant %#v", snap.Assets, want)
	}
	if !reflect.DeepEqual(snap.Conversations, f.Conversations) {
		t.Errorf("conversations differ:\n got %#v\nwant %#v", snap.Conversations, f.Conversations)
	}
	if !reflect.DeepEqual(snap.Stats, f.Stats) {
		t.Errorf("stats differ:\n got %#v\nwant %#v", snap.Stats, f.Stats)
	}
	wantInfo := model.SessionInfo{
		Name: "plant-a", Created: t0, Updated: t0.Add(time.Hour), Assets: 2, Conversations: 1,
		Packets: 1000, Sources: []string{"plant.pcapng"},
	}
	if !reflect.DeepEqual(snap.Info, wantInfo) {
		t.Errorf("info = %+v, want %+v", snap.Info, wantInfo)
	}
	if snap.Skipped != 0 {
		t.Errorf("Skipped = %d, want 0", snap.Skipped)
	}
}

func TestTimeZonesKeepTheInstant(t *testing.T) {
	s := openMem(t)
	ensure(t, s, "tz")
	a := testAsset("tz", 1)
	a.FirstSeen = time.Now() // monotonic reading and Local zone
	a.LastSeen = t0.In(time.FixedZone("CET", 3600))
	mustSave(t, s, "tz", Flush{Assets: []model.Asset{a}})
	got := mustLoad(t, s, "tz").Assets[0]
	if !got.FirstSeen.Equal(a.FirstSeen) || !got.LastSeen.Equal(a.LastSeen) {
		t.Errorf("instants changed: %v, %v; want %v, %v", got.FirstSeen, got.LastSeen, a.FirstSeen, a.LastSeen)
	}
	if _, off := got.LastSeen.Zone(); off != 3600 {
		t.Errorf("LastSeen offset = %d, want 3600", off)
	}
}

func TestUpsertRemoveAndUpdated(t *testing.T) {
	s := openMem(t)
	ensure(t, s, "a")
	mustSave(t, s, "a", Flush{
		Assets: []model.Asset{testAsset("x", 1), testAsset("y", 1), testAsset("z", 1)},
		Stats:  []model.CaptureStats{testStats("eth0", 5)},
		Time:   t0.Add(2 * time.Hour),
	})
	mustSave(t, s, "a", Flush{
		Assets:  []model.Asset{testAsset("x", 7), testAsset("z", 9)},
		Removed: []model.AssetID{"y", "z"},
		Stats:   []model.CaptureStats{testStats("eth0", 50)},
		Time:    t0.Add(time.Hour), // earlier than the stored Updated: not moved back
	})
	snap := mustLoad(t, s, "a")
	var ids []string
	for _, a := range snap.Assets {
		ids = append(ids, fmt.Sprintf("%s=%d", a.ID, a.Packets))
	}
	if got, want := strings.Join(ids, ","), "x=7,z=9"; got != want {
		t.Errorf("assets = %s, want %s (y removed; z removed then upserted)", got, want)
	}
	if len(snap.Stats) != 1 || snap.Stats[0].Packets != 50 {
		t.Errorf("stats = %+v, want one eth0 entry with 50 packets", snap.Stats)
	}
	if !snap.Info.Updated.Equal(t0.Add(2 * time.Hour)) {
		t.Errorf("Updated = %v, want %v", snap.Info.Updated, t0.Add(2*time.Hour))
	}
}

func TestEnsureSession(t *testing.T) {
	s := openMem(t)
	created, err := s.EnsureSession("s1", t0)
	if err != nil || !created {
		t.Fatalf("first EnsureSession = %v, %v; want true, nil", created, err)
	}
	created, err = s.EnsureSession("s1", t0.Add(time.Hour))
	if err != nil || created {
		t.Fatalf("second EnsureSession = %v, %v; want false, nil", created, err)
	}
	info, err := s.Session("s1")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Created.Equal(t0) || !info.Updated.Equal(t0) {
		t.Errorf("info = %+v; want Created and Updated %v", info, t0)
	}
}

func TestSessionsListingAndCounts(t *testing.T) {
	s := openMem(t)
	if list, err := s.Sessions(); err != nil || len(list) != 0 {
		t.Fatalf("Sessions on empty db = %v, %v", list, err)
	}
	for _, n := range []string{"zeta", "alpha", "mid.1"} {
		ensure(t, s, n)
	}
	mustSave(t, s, "alpha", Flush{
		Assets:        []model.Asset{testAsset("a1", 1), testAsset("a2", 1), testAsset("a3", 1)},
		Conversations: []model.Conversation{testConv("a1", "a2", 502), testConv("a1", "a2", 102)},
		Stats:         []model.CaptureStats{testStats("b.pcap", 10), testStats("a.pcap", 5)},
		Time:          t0,
	})
	mustSave(t, s, "zeta", Flush{Assets: []model.Asset{testAsset("z1", 1)}, Time: t0})
	list, err := s.Sessions()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range list {
		got = append(got, fmt.Sprintf("%s:%d/%d/%d/%v", i.Name, i.Assets, i.Conversations, i.Packets, i.Sources))
	}
	want := []string{"alpha:3/2/15/[a.pcap b.pcap]", "mid.1:0/0/0/[]", "zeta:1/0/0/[]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Sessions = %v, want %v", got, want)
	}
	one, err := s.Session("alpha")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(one, list[0]) {
		t.Errorf("Session(alpha) = %+v, Sessions()[0] = %+v", one, list[0])
	}
	if _, err := s.Session("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session(nope) error = %v, want ErrNotFound", err)
	}
	if _, err := s.Load("nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(nope) error = %v, want ErrNotFound", err)
	}
	if err := s.Save("nope", Flush{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("Save(nope) error = %v, want ErrNotFound", err)
	}
}

func TestDeleteSession(t *testing.T) {
	s := openMem(t)
	ensure(t, s, "gone")
	ensure(t, s, "gone2") // shares a name prefix: must survive
	f := Flush{
		Assets:        []model.Asset{testAsset("a", 1)},
		Conversations: []model.Conversation{testConv("a", "b", 1)},
		Stats:         []model.CaptureStats{testStats("x", 1)},
	}
	mustSave(t, s, "gone", f)
	mustSave(t, s, "gone2", f)
	if err := s.DeleteSession("gone"); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	if _, err := s.Session("gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession("gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteSession: %v, want ErrNotFound", err)
	}
	snap := mustLoad(t, s, "gone2")
	if len(snap.Assets) != 1 || len(snap.Conversations) != 1 || len(snap.Stats) != 1 {
		t.Errorf("gone2 damaged by deleting gone: %+v", snap.Info)
	}
	ensure(t, s, "gone")
	if snap := mustLoad(t, s, "gone"); len(snap.Assets) != 0 {
		t.Errorf("recreated session has %d assets, want 0", len(snap.Assets))
	}
}

func TestValidSessionName(t *testing.T) {
	cases := map[string]bool{
		"plant-a":                  true,
		"A.b_c-1":                  true,
		"x":                        true,
		strings.Repeat("n", 64):    true,
		"":                         false,
		".hidden":                  false,
		strings.Repeat("n", 65):    false,
		"has space":                false,
		"slash/x":                  false,
		"nul\x00":                  false,
		"ümlaut":                   false,
		"colon:x":                  false,
		"..":                       false,
		"tab\t":                    false,
		strings.Repeat("é", 10):    false,
		"trailing.dot.":            true,
		"-leading-dash-is-allowed": true,
	}
	s := openMem(t)
	for name, ok := range cases {
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			err := ValidSessionName(name)
			if ok != (err == nil) {
				t.Fatalf("ValidSessionName(%q) = %v, want ok=%v", name, err, ok)
			}
			if !ok {
				if !errors.Is(err, ErrBadName) {
					t.Errorf("error %v does not wrap ErrBadName", err)
				}
				if _, err := s.EnsureSession(name, t0); !errors.Is(err, ErrBadName) {
					t.Errorf("EnsureSession(%q) = %v, want ErrBadName", name, err)
				}
				if err := s.Save(name, Flush{}); !errors.Is(err, ErrBadName) {
					t.Errorf("Save(%q) = %v, want ErrBadName", name, err)
				}
			}
		})
	}
}

func TestLargeFlushSplitsTransactions(t *testing.T) {
	s := openMem(t)
	ensure(t, s, "big")
	const n = 6000 // about 6 MB of JSON: more than one 16 MiB-memtable transaction
	assets := make([]model.Asset, n)
	for i := range assets {
		assets[i] = testAsset(fmt.Sprintf("ip:10.%d.%d.%d", i>>16, (i>>8)&0xff, i&0xff), uint64(i))
	}
	mustSave(t, s, "big", Flush{Assets: assets})
	info, err := s.Session("big")
	if err != nil {
		t.Fatal(err)
	}
	if info.Assets != n {
		t.Errorf("stored %d assets, want %d", info.Assets, n)
	}
}

func TestSkipsUndecodableValues(t *testing.T) {
	s := openMem(t)
	ensure(t, s, "s")
	mustSave(t, s, "s", Flush{Assets: []model.Asset{testAsset("good", 1)}})
	err := sessionDB(t, s, "s").Update(func(txn *badger.Txn) error {
		if err := txn.Set(recordKey(kindAsset, "bad-json"), []byte{valueVersion, '{', 'x'}); err != nil {
			return err
		}
		if err := txn.Set(recordKey(kindConv, "bad-version"), []byte{99, '{', '}'}); err != nil {
			return err
		}
		return txn.Set([]byte("no-kind"), []byte{valueVersion, '{', '}'})
	})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Load("s")
	if err != nil {
		t.Fatalf("Load with damaged records: %v", err)
	}
	if snap.Skipped != 3 {
		t.Errorf("Skipped = %d, want 3", snap.Skipped)
	}
	if len(snap.Assets) != 1 || snap.Assets[0].ID != "good" {
		t.Errorf("assets = %v, want the good one", snap.Assets)
	}
}

func TestClose(t *testing.T) {
	s, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := s.Sessions(); !errors.Is(err, ErrClosed) {
		t.Errorf("Sessions after Close = %v, want ErrClosed", err)
	}
	if err := s.Save("x", Flush{}); !errors.Is(err, ErrClosed) {
		t.Errorf("Save after Close = %v, want ErrClosed", err)
	}
}

func TestDefaultDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_DATA_HOME", "/srv/data")
	if d, err := DefaultDir(); err != nil || d != filepath.Join("/srv/data", "otscope", "sessions") {
		t.Errorf("with XDG_DATA_HOME: %q, %v", d, err)
	}
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	s, err := Open(Options{})
	if err != nil {
		t.Fatalf("Open with the default dir: %v", err)
	}
	if got := s.Dir(); got != filepath.Join(data, "otscope", "sessions") {
		t.Errorf("default Open used %q", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(home, ".local", "share", "otscope", "sessions")
	for _, x := range []string{"", "relative/path"} {
		t.Setenv("XDG_DATA_HOME", x)
		if d, err := DefaultDir(); err != nil || d != want {
			t.Errorf("XDG_DATA_HOME=%q: %q, %v; want %q", x, d, err, want)
		}
	}
}

func TestBadgerLogger(t *testing.T) {
	var buf bytes.Buffer
	l := log.New(&buf, "", 0)
	quiet := newBadgerLogger(l, false)
	quiet.Errorf("disk %s\n", "full")
	quiet.Warningf("slow")
	quiet.Infof("hidden")
	quiet.Debugf("hidden")
	if got, want := buf.String(), "badger: ERROR: disk full\nbadger: WARNING: slow\n"; got != want {
		t.Errorf("quiet logger wrote %q, want %q", got, want)
	}
	if newBadgerLogger(nil, true) != nil {
		t.Error("nil *log.Logger must give a nil badger.Logger (no output)")
	}

	// A real open with Verbose sends badger's info lines to our logger.
	buf.Reset()
	s, err := Open(Options{Dir: t.TempDir(), Logger: l, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	ensure(t, s, "logged")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if out == "" {
		t.Fatal("verbose open logged nothing")
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(line, "badger: ") {
			t.Errorf("log line without prefix: %q", line)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := openMem(t)
	names := []string{"c0", "c1", "c2", "c3"}
	for _, n := range names {
		ensure(t, s, n)
	}
	const rounds = 50
	errs := make(chan error, len(names)*2)
	for _, n := range names {
		go func() {
			for i := range rounds {
				if err := s.Save(n, Flush{Assets: []model.Asset{testAsset(fmt.Sprintf("a%03d", i), uint64(i))}}); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
		go func() {
			for range rounds {
				if _, err := s.Load(n); err != nil {
					errs <- err
					return
				}
				if _, err := s.Sessions(); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range len(names) * 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.Sessions()
	if err != nil {
		t.Fatal(err)
	}
	for _, info := range list {
		if info.Assets != rounds {
			t.Errorf("session %s has %d assets, want %d", info.Name, info.Assets, rounds)
		}
	}
}

func TestTranslateOpenErr(t *testing.T) {
	cases := map[string]struct {
		msg     string
		existed bool
		want    error
	}{
		"lock":      {`Cannot acquire directory lock on "/d".  Another process is using this Badger database. err: resource temporarily unavailable`, true, ErrLocked},
		"truncate":  {"while opening memtables error: while opening fid: 1 error: Log truncate required to run DB.", true, ErrUnclean},
		"corrupt":   {"manifest has bad magic", true, ErrCorrupt},
		"new dir":   {"something odd", false, nil},
		"perm":      {"open /d/MANIFEST: permission denied", true, nil},
		"disk full": {"write /d/00001.mem: no space left on device", true, nil},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			err := translateOpenErr("/d", c.existed, errors.New(c.msg))
			for _, sentinel := range []error{ErrLocked, ErrUnclean, ErrCorrupt} {
				if errors.Is(err, sentinel) != (sentinel == c.want) {
					t.Errorf("%q -> %v; errors.Is(%v) = %v", c.msg, err, sentinel, errors.Is(err, sentinel))
				}
			}
			if strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "/d") {
				t.Errorf("error %q should be one line naming the directory", err)
			}
		})
	}
}

// TestSaveEncodesWindowsInOrder saves flushes of several encoding windows
// (64 records per core) on one core and on three, half of them records
// stored before, then removes every third asset by ID, and checks what Load
// returns and the session's counts: a record stored under another's key,
// twice or not at all, or counted as new when it was stored, would show.
func TestSaveEncodesWindowsInOrder(t *testing.T) {
	for _, procs := range []int{1, 3} {
		t.Run(fmt.Sprintf("procs=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			s := openMem(t)
			ensure(t, s, "w")
			const n = 1000 // 15 full chunks of 64 and a short one
			var first, second Flush
			for i := range n {
				a := testAsset(fmt.Sprintf("a%04d", i), uint64(i))
				c := testConv(fmt.Sprintf("c%04d", i), "srv", uint16(i))
				if i%2 == 0 {
					first.Assets = append(first.Assets, a)
					first.Conversations = append(first.Conversations, c)
				}
				a.Names = []string{fmt.Sprintf("second-%d", i)}
				c.Packets = uint64(i)
				second.Assets = append(second.Assets, a)
				second.Conversations = append(second.Conversations, c)
			}
			mustSave(t, s, "w", first)
			mustSave(t, s, "w", second)
			var third Flush
			var kept []model.Asset
			for i, a := range second.Assets {
				if i%3 == 0 {
					third.Removed = append(third.Removed, a.ID)
				} else {
					kept = append(kept, a)
				}
			}
			mustSave(t, s, "w", third)
			snap, err := s.Load("w")
			if err != nil {
				t.Fatal(err)
			}
			if snap.Info.Assets != len(kept) || snap.Info.Conversations != n {
				t.Errorf("counts %d assets, %d conversations; want %d and %d", snap.Info.Assets, snap.Info.Conversations, len(kept), n)
			}
			if len(snap.Assets) != len(kept) || len(snap.Conversations) != n {
				t.Fatalf("loaded %d assets, %d conversations; want %d and %d", len(snap.Assets), len(snap.Conversations), len(kept), n)
			}
			for i := range kept {
				if !reflect.DeepEqual(snap.Assets[i], kept[i]) {
					t.Fatalf("asset %d: loaded %+v, saved %+v", i, snap.Assets[i], kept[i])
				}
			}
			want := slices.Clone(second.Conversations)
			slices.SortFunc(want, func(a, b model.Conversation) int { return strings.Compare(a.Key(), b.Key()) })
			for i := range n {
				if !reflect.DeepEqual(snap.Conversations[i], want[i]) {
					t.Fatalf("conversation %d: loaded %+v, saved %+v", i, snap.Conversations[i], want[i])
				}
			}
		})
	}
}
