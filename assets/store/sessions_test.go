package store

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"otscope/model"
)

// untar extracts testdata/legacy-v1.tar.gz (a database written by the
// schema-1 code at 1b6f56c: sessions plant-a, plant-b, empty) into dir,
// which then holds "db".
func untar(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Open("testdata/legacy-v1.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.Clean(hd.Name))
		if hd.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o700); err != nil {
				t.Fatal(err)
			}
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshotFiles returns name -> content of the regular files under dir.
func snapshotFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// legacyWant is what the fixture holds, per session: assets,
// conversations, packets, scan-log, waiver and state records.
var legacyWant = map[string][6]int{
	"plant-a": {50, 49, 1007, 3, 1, 2},
	"plant-b": {100, 99, 2007, 4, 1, 2},
	"empty":   {0, 0, 0, 0, 0, 0},
}

func checkMigrated(t *testing.T, s *Store) {
	t.Helper()
	list, err := s.Sessions()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(legacyWant) {
		t.Fatalf("migrated sessions = %+v, want %d", list, len(legacyWant))
	}
	for _, info := range list {
		w := legacyWant[info.Name]
		snap := mustLoad(t, s, info.Name)
		scans, sk1, err1 := ReadJournal[map[string]any](s, info.Name, ScanLog)
		waivers, sk2, err2 := ReadJournal[map[string]any](s, info.Name, Waivers)
		states, sk3, err3 := ReadJournal[map[string]any](s, info.Name, StateHistory)
		if err := errors.Join(err1, err2, err3); err != nil || sk1+sk2+sk3+snap.Skipped > 0 {
			t.Fatalf("%s: journals: %v, skipped %d", info.Name, err, sk1+sk2+sk3+snap.Skipped)
		}
		got := [6]int{len(snap.Assets), len(snap.Conversations), int(snap.Info.Packets), len(scans), len(waivers), len(states)}
		if got != w {
			t.Errorf("%s: migrated %v, want %v", info.Name, got, w)
		}
		if info.Assets != w[0] || info.Conversations != w[1] || int(info.Packets) != w[2] {
			t.Errorf("%s: listed %+v, want counts %v", info.Name, info, w)
		}
		if info.Created.IsZero() || (w[0] > 0 && !info.Updated.After(info.Created)) {
			t.Errorf("%s: times not migrated: %+v", info.Name, info)
		}
		if w[3] > 0 && scans[w[3]-1]["seq"] != float64(w[3]) {
			t.Errorf("%s: scan log order lost: %v", info.Name, scans)
		}
	}
}

// TestMigrateLegacyInPlace opens a schema-1 database (written by the code
// at 1b6f56c) given as --db: every session is migrated with every record,
// and the old files are kept, byte for byte, in .old-layout-*.
func TestMigrateLegacyInPlace(t *testing.T) {
	tmp := t.TempDir()
	untar(t, tmp)
	root := filepath.Join(tmp, "db")
	before := snapshotFiles(t, root)
	s := openDisk(t, root)
	checkMigrated(t, s)
	asides, _ := filepath.Glob(filepath.Join(root, ".old-layout-*"))
	if len(asides) != 1 {
		t.Fatalf("old database not kept aside: %v", asides)
	}
	if kept := snapshotFiles(t, asides[0]); !reflect.DeepEqual(kept, before) {
		t.Errorf("the old database kept aside differs from the original (%d vs %d files)", len(kept), len(before))
	}
	for _, n := range []string{migrationMarker, incomingDir, "MANIFEST"} {
		if _, err := os.Stat(filepath.Join(root, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left in the store directory: %v", n, err)
		}
	}
	// Writable after migration, and a second Open does not migrate again.
	mustSave(t, s, "plant-a", Flush{Assets: []model.Asset{testAsset("new", 1)}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openDisk(t, root)
	if info, err := s2.Session("plant-a"); err != nil || info.Assets != 51 {
		t.Errorf("after reopen: %+v, %v", info, err)
	}
}

// TestMigrateLegacyDefault migrates the old default database
// ($XDG_DATA_HOME/otscope/db) into the new default directory and renames
// the old one to db.migrated-*.
func TestMigrateLegacyDefault(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	base := filepath.Join(data, "otscope")
	if err := os.MkdirAll(base, 0o700); err != nil {
		t.Fatal(err)
	}
	untar(t, base)
	before := snapshotFiles(t, filepath.Join(base, "db"))
	s, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Dir() != filepath.Join(base, "sessions") {
		t.Fatalf("Dir = %s", s.Dir())
	}
	checkMigrated(t, s)
	asides, _ := filepath.Glob(filepath.Join(base, "db.migrated-*"))
	if len(asides) != 1 || !reflect.DeepEqual(snapshotFiles(t, asides[0]), before) {
		t.Errorf("old database not kept intact beside: %v", asides)
	}
}

// TestMigrateResumes: a migration interrupted after every session was
// built and verified finishes on the next Open.
func TestMigrateResumes(t *testing.T) {
	tmp := t.TempDir()
	untar(t, tmp)
	root := filepath.Join(tmp, "db")
	s := &Store{root: root, open: map[string]*handle{}}
	m := migration{Source: root, Aside: filepath.Join(root, ".old-layout-x"), Stage: "building"}
	if err := s.writeMarker(m); err != nil {
		t.Fatal(err)
	}
	if err := s.buildMigration(m); err != nil {
		t.Fatal(err)
	}
	m.Stage = "moving"
	if err := s.writeMarker(m); err != nil {
		t.Fatal(err)
	}
	// Interrupted after moving the MANIFEST only.
	if err := os.MkdirAll(m.Aside, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(root, "MANIFEST"), filepath.Join(m.Aside, "MANIFEST")); err != nil {
		t.Fatal(err)
	}
	s2 := openDisk(t, root)
	checkMigrated(t, s2)
	if _, err := os.Stat(filepath.Join(m.Aside, "000001.sst")); err != nil {
		t.Errorf("table file not moved aside: %v", err)
	}
}

func TestRenameCopyDelete(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir)
	ensure(t, s, "a")
	f := Flush{Assets: []model.Asset{testAsset("x", 1), testAsset("y", 2)}, Stats: []model.CaptureStats{testStats("eth0", 9)}, Time: t0}
	mustSave(t, s, "a", f)
	if err := AppendJournal(s, "a", ScanLog, model.ScanRecord{Scan: "s", Seq: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSite("a", "north"); err != nil {
		t.Fatal(err)
	}
	ensure(t, s, "b")
	if err := s.Rename("a", "b"); !errors.Is(err, ErrExists) {
		t.Errorf("Rename onto an existing session = %v, want ErrExists", err)
	}
	if err := s.Copy("a", "b"); !errors.Is(err, ErrExists) {
		t.Errorf("Copy onto an existing session = %v, want ErrExists", err)
	}
	if err := s.Copy("a", "a2"); err != nil {
		t.Fatalf("Copy: %v", err)
	}
	if err := s.Rename("a", "c"); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if _, err := s.Load("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load of the old name = %v, want ErrNotFound", err)
	}
	for _, n := range []string{"a2", "c"} {
		snap := mustLoad(t, s, n)
		if !reflect.DeepEqual(snap.Assets, f.Assets) || snap.Info.Packets != 9 || snap.Meta.Site != "north" {
			t.Errorf("%s: %+v", n, snap.Info)
		}
		recs, _, err := ReadJournal[model.ScanRecord](s, n, ScanLog)
		if err != nil || len(recs) != 1 {
			t.Errorf("%s: scan log %v, %v", n, recs, err)
		}
		if m, err := s.SessionMeta(n); err != nil || m.Name != n || m.Assets != 2 {
			t.Errorf("%s: meta %+v, %v", n, m, err)
		}
	}
	// Another process (here: another store) writing c: no rename or delete.
	other := openDisk(t, dir)
	mustSave(t, other, "c", Flush{Assets: []model.Asset{testAsset("z", 1)}})
	if err := s.DeleteSession("c"); !errors.Is(err, ErrLocked) {
		t.Errorf("Delete of a session another store writes = %v, want ErrLocked", err)
	}
	if err := s.Rename("c", "d"); !errors.Is(err, ErrLocked) {
		t.Errorf("Rename of a session another store writes = %v, want ErrLocked", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession("c"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	names := []string{}
	list, _ := s.Sessions()
	for _, i := range list {
		names = append(names, i.Name)
	}
	if strings.Join(names, ",") != "a2,b" {
		t.Errorf("sessions after delete = %v", names)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left %s in the store directory", e.Name())
		}
	}
}

func TestRenameCopyInMemory(t *testing.T) {
	s := openMem(t)
	ensure(t, s, "a")
	mustSave(t, s, "a", Flush{Assets: []model.Asset{testAsset("x", 1)}})
	if err := s.Copy("a", "b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Rename("a", "c"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"b", "c"} {
		if snap := mustLoad(t, s, n); len(snap.Assets) != 1 || snap.Info.Name != n {
			t.Errorf("%s: %+v", n, snap.Info)
		}
	}
	if _, err := s.Load("a"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(a) after rename = %v", err)
	}
}

func TestSiteSensorAndMetaFile(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir)
	ensure(t, s, "p")
	if err := s.SetSite("p", "plant north"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSensor("p", "jump-1/eth1"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetSite("nope", "x"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetSite on a missing session = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "p", metaFileName))
	if err != nil || !strings.Contains(string(b), `"site": "plant north"`) || !strings.Contains(string(b), `"sensor": "jump-1/eth1"`) {
		t.Errorf("metadata file %s, %v", b, err)
	}
	s2 := openDisk(t, dir)
	if snap := mustLoad(t, s2, "p"); snap.Meta.Site != "plant north" || snap.Meta.Sensor != "jump-1/eth1" {
		t.Errorf("meta after reopen: %+v", snap.Meta)
	}
}

func TestJournalRegistry(t *testing.T) {
	var names []string
	for _, j := range Journals() {
		names = append(names, j.Name)
	}
	for _, want := range []string{"runs", "scanlog", "state-history", "waivers"} {
		if !strings.Contains(strings.Join(names, ","), want) {
			t.Errorf("Journals() = %v, missing %s", names, want)
		}
	}
	if j, ok := JournalByName("waivers"); !ok || j != Waivers {
		t.Errorf("JournalByName(waivers) = %v, %v", j, ok)
	}
	for _, bad := range []struct {
		key  byte
		name string
	}{{'p', "again"}, {'a', "assets"}, {'z', "scanlog"}, {'1', "digit"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("RegisterJournal(%q, %q) did not panic", bad.key, bad.name)
				}
			}()
			RegisterJournal(bad.key, bad.name)
		}()
	}
	s := openMem(t)
	ensure(t, s, "j")
	if err := s.AppendRawJournal("j", Waivers, []byte(`{"rule":"r"}`), []byte(`{"rule":"s"}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendRawJournal("j", Waivers, []byte(`{not json`)); err == nil {
		t.Error("AppendRawJournal took invalid JSON")
	}
	raw, skipped, err := s.ReadRawJournal("j", Waivers)
	if err != nil || skipped != 0 || len(raw) != 2 || raw[1].Seq != 2 || string(raw[1].JSON) != `{"rule":"s"}` {
		t.Errorf("ReadRawJournal = %+v, %d, %v", raw, skipped, err)
	}
	kinds, err := s.JournalKinds("j")
	if err != nil || !reflect.DeepEqual(kinds, []Journal{Waivers}) {
		t.Errorf("JournalKinds = %v, %v", kinds, err)
	}
	if got := fmt.Sprint(Waivers); got != "waivers" {
		t.Errorf("Waivers.String() = %q", got)
	}
}
