package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"otscope/model"
)

// crashEnv names the database directory for the crash-test child process.
const crashEnv = "OTSCOPE_STORE_CRASH_CHILD_DIR"

// TestMain turns the test binary into the crash-test child when crashEnv is
// set (the standard re-exec helper-process pattern).
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashEnv); dir != "" {
		if err := crashChild(dir); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// crashChild saves one flush after another and prints each flush's counter
// after its Save returned, until it is killed (or 20 s pass).
func crashChild(dir string) error {
	s, err := Open(Options{Dir: dir})
	if err != nil {
		return err
	}
	if _, err := s.EnsureSession("crash", time.Now()); err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second)
	for i := uint64(1); time.Now().Before(deadline); i++ {
		a := testAsset(crashID(i), i)
		latest := testAsset("latest", i)
		if err := s.Save("crash", Flush{Assets: []model.Asset{a, latest}, Time: time.Now()}); err != nil {
			return err
		}
		if _, err := fmt.Fprintln(os.Stdout, i); err != nil {
			return err
		}
	}
	return s.Close()
}

func crashID(i uint64) string { return fmt.Sprintf("c:%08d", i) }

func openDisk(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestCrashKill9 kills a writer with SIGKILL mid-ingest and checks that every
// flush it reported as saved is intact after reopening.
func TestCrashKill9(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan uint64, 1<<16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if n, err := strconv.ParseUint(sc.Text(), 10, 64); err == nil {
				lines <- n
			}
		}
	}()

	var reported uint64
	select {
	case n, ok := <-lines:
		if !ok {
			_ = cmd.Wait()
			t.Fatalf("child exited before its first flush: %s", stderr.String())
		}
		reported = n
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("child reported no flush within 5 s: %s", stderr.String())
	}
	kill := time.After(300 * time.Millisecond)
wait:
	for {
		select {
		case n := <-lines:
			reported = n
		case <-kill:
			break wait
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill: %v", err)
	}
	for n := range lines { // lines printed before the kill count as saved
		reported = n
	}
	if err := cmd.Wait(); err == nil {
		t.Fatalf("child exited cleanly; it should have been killed (stderr: %s)", stderr.String())
	}
	t.Logf("child reported %d flushes before SIGKILL", reported)

	// A read-only open must not repair anything: it either reads the data
	// or asks for a read-write open first.
	if ro, err := Open(Options{Dir: dir, ReadOnly: true}); err == nil {
		t.Logf("read-only open after crash worked")
		_ = ro.Close()
	} else if !errors.Is(err, ErrUnclean) {
		t.Errorf("read-only open after crash = %v, want success or ErrUnclean", err)
	} else {
		t.Logf("read-only open after crash: %v", err)
	}

	s := openDisk(t, dir)
	snap, err := s.Load("crash")
	if err != nil {
		t.Fatalf("Load after crash: %v", err)
	}
	if snap.Skipped != 0 {
		t.Errorf("Skipped = %d after crash, want 0", snap.Skipped)
	}
	have := map[string]model.Asset{}
	for _, a := range snap.Assets {
		have[string(a.ID)] = a
	}
	for i := uint64(1); i <= reported; i++ {
		a, ok := have[crashID(i)]
		if !ok {
			t.Fatalf("flush %d of %d reported saved is missing", i, reported)
		}
		if want := testAsset(crashID(i), i); !reflect.DeepEqual(a, want) {
			t.Fatalf("flush %d differs after crash:\n got %+v\nwant %+v", i, a, want)
		}
	}
	if l := have["latest"].Packets; l < reported {
		t.Errorf("latest upsert has counter %d, want >= %d", l, reported)
	}
	// The recovered database takes new writes.
	mustSave(t, s, "crash", Flush{Assets: []model.Asset{testAsset("after", 1)}})
}

func TestReopenOnDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "db")
	s := openDisk(t, dir)
	ensure(t, s, "plant")
	f := Flush{
		Assets:        []model.Asset{testAsset("a", 1), testAsset("b", 2)},
		Conversations: []model.Conversation{testConv("a", "b", 502)},
		Stats:         []model.CaptureStats{testStats("eth0", 77)},
		Time:          t0,
	}
	mustSave(t, s, "plant", f)
	before := mustLoad(t, s, "plant")
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s2 := openDisk(t, dir)
	after := mustLoad(t, s2, "plant")
	if !reflect.DeepEqual(before, after) {
		t.Errorf("snapshot changed across reopen:\nbefore %+v\n after %+v", before, after)
	}
	if !reflect.DeepEqual(after.Assets, f.Assets) {
		t.Errorf("assets changed across reopen")
	}
}

// TestLockedSessionNamesOwner: a session written by one store is refused
// to another with the writer's pid, and other sessions stay usable
// (issue 10: a TUI on session A never locks out session B).
func TestLockedSessionNamesOwner(t *testing.T) {
	dir := t.TempDir()
	a := openDisk(t, dir)
	ensure(t, a, "busy")
	b := openDisk(t, dir)
	for what, err := range map[string]error{
		"Load": func() error { _, err := b.Load("busy"); return err }(),
		"Save": b.Save("busy", Flush{}),
	} {
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("%s of a session another store writes = %v, want ErrLocked", what, err)
		}
		msg := err.Error()
		if !strings.Contains(msg, fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(msg, `"busy"`) || strings.Contains(msg, "\n") {
			t.Errorf("lock error %q should be one line naming the session and pid %d", msg, os.Getpid())
		}
	}
	// Another session, and listing, work meanwhile.
	ensure(t, b, "other")
	mustSave(t, b, "other", Flush{Assets: []model.Asset{testAsset("x", 1)}})
	list, err := b.Sessions()
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions while another store writes = %v, %v", list, err)
	}
	mustSave(t, a, "busy", Flush{Assets: []model.Asset{testAsset("y", 1), testAsset("z", 1)}})
	if info, err := b.Session("busy"); err != nil || info.Assets != 2 {
		t.Errorf("Session(busy) from the metadata file = %+v, %v; want 2 assets", info, err)
	}
	// Closing the writer frees the session and removes the owner file.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "busy", ownerFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("owner file left after Close: %v", err)
	}
	if snap := mustLoad(t, b, "busy"); len(snap.Assets) != 2 {
		t.Errorf("Load after the writer closed: %d assets", len(snap.Assets))
	}
}

func TestReadOnly(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir)
	ensure(t, s, "ro")
	mustSave(t, s, "ro", Flush{Assets: []model.Asset{testAsset("a", 1)}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	r1, err := Open(Options{Dir: dir, ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only Open: %v", err)
	}
	defer r1.Close()
	r2, err := Open(Options{Dir: dir, ReadOnly: true})
	if err != nil {
		t.Fatalf("second read-only Open: %v", err)
	}
	defer r2.Close()
	if snap := mustLoad(t, r1, "ro"); len(snap.Assets) != 1 {
		t.Errorf("read-only Load: %d assets, want 1", len(snap.Assets))
	}
	if snap := mustLoad(t, r2, "ro"); len(snap.Assets) != 1 {
		t.Errorf("second reader's Load: %d assets, want 1", len(snap.Assets))
	}
	if err := r1.Save("ro", Flush{}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Save on read-only store = %v, want ErrReadOnly", err)
	}
	if _, err := r1.EnsureSession("new", t0); !errors.Is(err, ErrReadOnly) {
		t.Errorf("EnsureSession on read-only store = %v, want ErrReadOnly", err)
	}
	missing := filepath.Join(t.TempDir(), "none")
	if _, err := Open(Options{Dir: missing, ReadOnly: true}); !errors.Is(err, ErrNotFound) {
		t.Errorf("read-only Open of a missing dir = %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("read-only Open created %s", missing)
	}
}

func TestSchemaNewer(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir)
	ensure(t, s, "x")
	if err := sessionDB(t, s, "x").Update(func(txn *badger.Txn) error {
		return txn.Set(schemaKey, []byte(strconv.Itoa(SchemaVersion+1)))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openDisk(t, dir)
	_, err := s2.Load("x")
	if !errors.Is(err, ErrSchema) {
		t.Fatalf("Load of a newer schema = %v, want ErrSchema", err)
	}
	if !strings.Contains(err.Error(), "upgrade") {
		t.Errorf("schema error %q should say to upgrade", err)
	}
	// Refusing left the version alone.
	if err := s2.Save("x", Flush{}); !errors.Is(err, ErrSchema) {
		t.Fatalf("Save to a newer schema = %v, want ErrSchema", err)
	}
}

func TestSchemaWrittenOnCreate(t *testing.T) {
	s := openMem(t)
	var v []byte
	ensure(t, s, "x")
	if err := sessionDB(t, s, "x").View(func(txn *badger.Txn) error {
		item, err := txn.Get(schemaKey)
		if err != nil {
			return err
		}
		v, err = item.ValueCopy(nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if string(v) != "2" {
		t.Errorf("schema value = %q, want \"2\"", v)
	}
}

func TestForeignBadgerDatabase(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("other"), []byte("app")) }); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dir)
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrNotDatabase) {
		t.Errorf("Open of another program's badger db = %v, want ErrNotDatabase", err)
	}
	after := listDir(t, dir)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("Open changed another program's database:\nbefore %v\n after %v", before, after)
	}
}

func TestNotADatabaseDirectory(t *testing.T) {
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: dir}); !errors.Is(err, ErrNotDatabase) {
		t.Errorf("Open of a dir with other files = %v, want ErrNotDatabase", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("Open wrote into a foreign directory: %v", entries)
	}
	if _, err := Open(Options{Dir: notes}); !errors.Is(err, ErrNotDatabase) {
		t.Errorf("Open of a file = %v, want ErrNotDatabase", err)
	}
}

func TestCorruptManifest(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir)
	ensure(t, s, "x")
	mustSave(t, s, "x", Flush{Assets: []model.Asset{testAsset("a", 1)}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dbDir := filepath.Join(dir, "x", dbDirName)
	manifest := filepath.Join(dbDir, badger.ManifestFilename)
	garbage := bytes.Repeat([]byte("not a manifest\n"), 20)
	if err := os.WriteFile(manifest, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	before := listDir(t, dbDir)
	for _, ro := range []bool{false, true} {
		s := openDisk(t, dir)
		if ro {
			s.opts.ReadOnly = true
		}
		_, err := s.Load("x")
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Load(ReadOnly=%v) of a corrupt session = %v, want ErrCorrupt", ro, err)
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, `"x"`) || !strings.Contains(msg, "untouched") {
			t.Errorf("corrupt error should be one line naming the session: %q", msg)
		}
		if err := s.Save("x", Flush{}); !ro && !errors.Is(err, ErrCorrupt) {
			t.Errorf("Save to a corrupt session = %v, want ErrCorrupt", err)
		}
	}
	got, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatalf("MANIFEST gone after failed open: %v", err)
	}
	if !bytes.Equal(got, garbage) {
		t.Error("failed open rewrote the MANIFEST")
	}
	if after := listDir(t, dbDir); !reflect.DeepEqual(before, after) {
		t.Errorf("failed open changed the data files:\nbefore %v\n after %v", before, after)
	}
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() == "LOCK" {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %d", e.Name(), fi.Size()))
	}
	return out
}

func TestValueLogGCLoopStopsOnClose(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), GCInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ensure(t, s, "gc")
	for i := range 20 {
		mustSave(t, s, "gc", Flush{Assets: []model.Asset{testAsset("a", uint64(i))}})
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return: GC goroutine not stopped")
	}
}

func BenchmarkSave(b *testing.B) {
	s, err := Open(Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.EnsureSession("bench", t0); err != nil {
		b.Fatal(err)
	}
	assets := make([]model.Asset, 1000)
	for i := range assets {
		assets[i] = testAsset(fmt.Sprintf("ip:10.0.%d.%d", i>>8, i&0xff), uint64(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		for j := range assets {
			assets[j].Packets = uint64(i)
		}
		if err := s.Save("bench", Flush{Assets: assets, Time: t0}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenLoad10k opens a store and loads a 10,000-asset session
// (with 20,000 conversations) from disk, as a command or the TUI does at
// start (issue 12 goal: opens in ≤ 1 s).
func BenchmarkOpenLoad10k(b *testing.B) {
	dir := b.TempDir()
	s, err := Open(Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.EnsureSession("big", t0); err != nil {
		b.Fatal(err)
	}
	var f Flush
	for i := range 10000 {
		id := fmt.Sprintf("ip:10.%d.%d.%d", i>>16, (i>>8)&0xff, i&0xff)
		f.Assets = append(f.Assets, testAsset(id, uint64(i)))
		for _, port := range []uint16{502, 102} {
			c := testConv(id, "ip:10.0.0.1", port)
			c.ClientIP = netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
			f.Conversations = append(f.Conversations, c)
		}
	}
	if err := s.Save("big", f); err != nil {
		b.Fatal(err)
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(Options{Dir: dir, ReadOnly: true})
		if err != nil {
			b.Fatal(err)
		}
		snap, err := s.Load("big")
		if err != nil || len(snap.Assets) != 10000 || len(snap.Conversations) != 20000 {
			b.Fatalf("Load: %d assets, %v", len(snap.Assets), err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestCountsAfterReopen checks the counts of a session written, closed and
// written again: a writer takes the keys its open scanned as the session's
// whole, so a stored record rewritten must not count as new, a new one
// must, and a removed one must leave the count, whether it was stored
// before the open or written since.
func TestCountsAfterReopen(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir)
	ensure(t, s, "r")
	var f Flush
	for i := range 10 {
		f.Assets = append(f.Assets, testAsset(fmt.Sprintf("a%02d", i), uint64(i)))
		f.Conversations = append(f.Conversations, testConv("cli", "srv", uint16(1000+i)))
	}
	mustSave(t, s, "r", f)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openDisk(t, dir)
	var g Flush
	for i := 5; i < 15; i++ { // 5 stored, 5 new
		g.Assets = append(g.Assets, testAsset(fmt.Sprintf("a%02d", i), uint64(i)))
		g.Conversations = append(g.Conversations, testConv("cli", "srv", uint16(1000+i)))
	}
	mustSave(t, s, "r", g)
	// one stored before the open, one written since, one never stored
	mustSave(t, s, "r", Flush{Removed: []model.AssetID{"a01", "a12", "zz"}})
	want := func(s *Store, stage string) {
		t.Helper()
		info, err := s.Session("r")
		if err != nil {
			t.Fatal(err)
		}
		if info.Assets != 13 || info.Conversations != 15 {
			t.Errorf("%s: %d assets, %d conversations; want 13 and 15", stage, info.Assets, info.Conversations)
		}
	}
	want(s, "after the writes")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openDisk(t, dir)
	want(s, "counted again at open")
	snap, err := s.Load("r")
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Assets) != 13 || len(snap.Conversations) != 15 {
		t.Errorf("loaded %d assets, %d conversations; want 13 and 15", len(snap.Assets), len(snap.Conversations))
	}
}

// TestShortWritersKeepLevelZeroSmall opens a session for writing, writes a
// little and closes it, many times over, as commands that write and exit
// do. Each close adds a level-0 table and Badger's compactors never get to
// run in so short a life: without the merge at close of a session that
// opened with level0MergeAtClose tables, they piled up (30 after 30 small
// reads), each one more for every later open to check and load to read.
func TestShortWritersKeepLevelZeroSmall(t *testing.T) {
	dir := t.TempDir()
	most := 0
	for i := range 3 * level0MergeAtClose {
		s := openDisk(t, dir)
		ensure(t, s, "w")
		mustSave(t, s, "w", Flush{Assets: []model.Asset{testAsset(fmt.Sprintf("a%02d", i), uint64(i))}})
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		_, level0, err := inspect(filepath.Join(dir, "w", dbDirName), nil)
		if err != nil {
			t.Fatal(err)
		}
		most = max(most, level0)
	}
	if most > level0MergeAtClose {
		t.Errorf("level 0 reached %d tables; a writer that opens with %d merges them when it closes", most, level0MergeAtClose)
	}
	if most == 0 {
		t.Error("no level-0 table after any close: the test no longer sees what a short writer leaves")
	}
	s := openDisk(t, dir)
	if info, err := s.Session("w"); err != nil || info.Assets != 3*level0MergeAtClose {
		t.Errorf("Session = %+v, %v; want %d assets", info, err, 3*level0MergeAtClose)
	}
}
