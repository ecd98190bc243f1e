package store

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/testenv"
)

// Regression tests for issue 13 (items 2, 3, 4, 5, 12, 14, 18). Each
// names what the code at 1b6f56c did with the same input.

// damagedSession writes a closed session "d" with n assets (so its data
// is in a table file) and returns the store directory and the session's
// Badger directory.
func damagedSession(t *testing.T, n int) (root, dbDir string) {
	t.Helper()
	root = t.TempDir()
	s := openDisk(t, root)
	ensure(t, s, "d")
	var f Flush
	for i := range n {
		f.Assets = append(f.Assets, testAsset(fmt.Sprintf("ip:10.0.%d.%d", i/256, i%256), uint64(i)))
	}
	mustSave(t, s, "d", f)
	ensure(t, s, "ok")
	mustSave(t, s, "ok", Flush{Assets: f.Assets[:1]})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	dbDir = filepath.Join(root, "d", dbDirName)
	if m, _ := filepath.Glob(filepath.Join(dbDir, "*.sst")); len(m) == 0 {
		t.Fatal("no table file written")
	}
	return root, dbDir
}

// expectDamaged checks that every kind of access to session "d" reports
// it damaged in one line naming it, that no file of it changed, and that
// the other session and the listing still work.
func expectDamaged(t *testing.T, root, dbDir string) {
	t.Helper()
	before := snapshotFiles(t, dbDir)
	for _, ro := range []bool{true, false} {
		s, err := Open(Options{Dir: root, ReadOnly: ro})
		if err != nil {
			t.Fatalf("Open(ReadOnly=%v): %v", ro, err)
		}
		_, err = s.Load("d")
		if !errors.Is(err, ErrCorrupt) {
			t.Errorf("Load(ReadOnly=%v) = %v, want ErrCorrupt", ro, err)
		} else if msg := err.Error(); strings.Contains(msg, "\n") || !strings.Contains(msg, `"d"`) || !strings.Contains(msg, "untouched") {
			t.Errorf("damage error should be one line naming the session and saying nothing changed: %q", msg)
		}
		if !ro {
			if err := s.Save("d", Flush{Assets: []model.Asset{testAsset("new", 1)}}); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Save to a damaged session = %v, want ErrCorrupt", err)
			}
		}
		if snap, err := s.Load("ok"); err != nil || len(snap.Assets) != 1 {
			t.Errorf("the undamaged session: %v", err)
		}
		if list, err := s.Sessions(); err != nil || len(list) != 2 {
			t.Errorf("Sessions with a damaged session = %v, %v; want both listed", list, err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if after := snapshotFiles(t, dbDir); !reflect.DeepEqual(before, after) {
		var changed []string
		for k := range before {
			if before[k] != after[k] {
				changed = append(changed, k)
			}
		}
		for k := range after {
			if _, ok := before[k]; !ok {
				changed = append(changed, k+" (new)")
			}
		}
		t.Errorf("a damaged session's files changed: %v", changed)
	}
}

// Item 2. At 1b6f56c, `otscope sessions` after removing 4 bytes from the
// end of MANIFEST exited 0 and deleted the table file the last MANIFEST
// entry named (badger's revertToManifest, even read-only).
func TestTruncatedManifestDeletesNothing(t *testing.T) {
	root, dbDir := damagedSession(t, 200)
	m := filepath.Join(dbDir, "MANIFEST")
	fi, err := os.Stat(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(m, fi.Size()-4); err != nil {
		t.Fatal(err)
	}
	expectDamaged(t, root, dbDir)
}

// Item 2. At 1b6f56c, a removed MANIFEST gave "no sessions yet" and a new
// empty database over the old table files.
func TestMissingManifestDeletesNothing(t *testing.T) {
	root, dbDir := damagedSession(t, 200)
	if err := os.Remove(filepath.Join(dbDir, "MANIFEST")); err != nil {
		t.Fatal(err)
	}
	expectDamaged(t, root, dbDir)
}

func tableFile(t *testing.T, dbDir string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dbDir, "*.sst"))
	if len(m) == 0 {
		t.Fatal("no table file")
	}
	return m[0]
}

// Item 5. At 1b6f56c, a truncated table file made every command panic
// inside badger ("slice bounds out of range").
func TestTruncatedTableIsAnError(t *testing.T) {
	root, dbDir := damagedSession(t, 300)
	sst := tableFile(t, dbDir)
	fi, _ := os.Stat(sst)
	if err := os.Truncate(sst, fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	expectDamaged(t, root, dbDir)
}

// Item 4. At 1b6f56c, flipped bytes inside a table file gave exit 0 with
// fewer assets (34 of 47) or emptied fields.
func TestFlippedBytesAreAnError(t *testing.T) {
	root, dbDir := damagedSession(t, 300)
	flipBytes(t, tableFile(t, dbDir))
	expectDamaged(t, root, dbDir)
}

// flipBytes flips 8 bytes a third of the way into the file at path.
func flipBytes(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(b) / 3; i < len(b)/3+8; i++ {
		b[i] ^= 0x5a
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A store verifies each table once (verifiedTables), so a command that
// reads a session several times does not decompress it again; bytes
// flipped between two reads of the same store, keeping the file's size
// and modification time, are still an error.
func TestFlippedBytesBetweenReadsOfOneStore(t *testing.T) {
	root, dbDir := damagedSession(t, 300)
	s, err := Open(Options{Dir: root, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 2 {
		if snap, err := s.Load("d"); err != nil || len(snap.Assets) != 300 {
			t.Fatalf("Load of the intact session: %d assets, %v", len(snap.Assets), err)
		}
	}
	sst := tableFile(t, dbDir)
	fi, err := os.Stat(sst)
	if err != nil {
		t.Fatal(err)
	}
	flipBytes(t, sst)
	if err := os.Chtimes(sst, fi.ModTime(), fi.ModTime()); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Load("d"); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("Load after flipping bytes = %v, want ErrCorrupt", err)
		}
	}
}

// Item 18. At 1b6f56c, table files in a pre-existing directory followed
// the umask (0644, 0666 with umask 0).
func TestFileModesWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	root := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(root, 0o777); err != nil {
		t.Fatal(err)
	}
	s := openDisk(t, root)
	ensure(t, s, "m")
	var f Flush
	for i := range 500 {
		f.Assets = append(f.Assets, testAsset(fmt.Sprintf("a%04d", i), uint64(i)))
	}
	mustSave(t, s, "m", f)
	if _, err := s.BeginRun("m", "x.pcap", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := filepath.WalkDir(filepath.Join(root, "m"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if d.IsDir() {
			want = 0o700
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 5 {
		t.Errorf("only %d files checked", n)
	}
}

// Item 12. At 1b6f56c, a second run of the same source overwrote the
// first's counters (sessions showed the latest run only), and nothing
// recorded which files were read or that a read was interrupted.
func TestRunsAccumulateAndFilesAreRecognised(t *testing.T) {
	dir := t.TempDir()
	s := openDisk(t, dir)
	ensure(t, s, "r")
	run1 := testStats("eth0", 100)
	mustSave(t, s, "r", Flush{Stats: []model.CaptureStats{run1}})
	run1.Packets = 150 // the same run, later
	mustSave(t, s, "r", Flush{Stats: []model.CaptureStats{run1}})
	run2 := testStats("eth0", 40)
	run2.Started = t0.Add(time.Hour)
	mustSave(t, s, "r", Flush{Stats: []model.CaptureStats{run2}})
	if info, _ := s.Session("r"); info.Packets != 190 {
		t.Errorf("packets over two runs = %d, want 190", info.Packets)
	}
	snap := mustLoad(t, s, "r")
	if snap.Info.Packets != 190 || len(snap.Stats) != 1 || snap.Stats[0].Packets != 40 {
		t.Errorf("Load: packets %d, stats %+v; want 190 and the latest run", snap.Info.Packets, snap.Stats)
	}

	// File identity: by content, not by name.
	data := make([]byte, 3*FileSample+123)
	rand.Read(data)
	files := t.TempDir()
	a, b := filepath.Join(files, "a.pcap"), filepath.Join(files, "copy-of-a.pcap")
	os.WriteFile(a, data, 0o600)
	os.WriteFile(b, data, 0o600)
	ida, err := IdentifyFile(a)
	if err != nil {
		t.Fatal(err)
	}
	if idb, _ := IdentifyFile(b); idb != ida {
		t.Errorf("same content, different IDs: %v %v", ida, idb)
	}
	os.WriteFile(b, append(data, 0), 0o600)
	if idb, _ := IdentifyFile(b); idb == ida {
		t.Error("a file that grew has the same ID")
	}
	small := filepath.Join(files, "small.pcap")
	os.WriteFile(small, data[:100], 0o600)
	if ids, err := IdentifyFile(small); err != nil || ids.Size != 100 {
		t.Errorf("small file: %v, %v", ids, err)
	}

	if _, ok, _ := s.FileRead("r", ida); ok {
		t.Fatal("unread file reported read")
	}
	id, err := s.BeginRun("r", a, &ida, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.FileRead("r", ida); ok {
		t.Error("a file whose read has not finished reported read")
	}
	if err := s.FinishRun("r", id, testStats(a, 88), nil); err != nil {
		t.Fatal(err)
	}
	run, ok, err := s.FileRead("r", ida)
	if err != nil || !ok || run.Source != a || run.Stats == nil || run.Stats.Packets != 88 {
		t.Errorf("FileRead after a finished run = %+v, %v, %v", run, ok, err)
	}
	// An interrupted run: started, never finished (the process died).
	if _, err := s.BeginRun("r", "eth1", nil, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := openDisk(t, dir)
	runs, err := s2.RunStates("r")
	if err != nil || len(runs) != 2 || runs[0].Interrupted || !runs[1].Interrupted || runs[1].Source != "eth1" {
		t.Errorf("runs = %+v, %v", runs, err)
	}
	if m, _ := s2.SessionMeta("r"); m.Runs != 2 || m.Interrupted != 1 {
		t.Errorf("meta runs %d interrupted %d, want 2 and 1", m.Runs, m.Interrupted)
	}
}

// mountTmpfs mounts a tmpfs of size at a new directory, or skips.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Skip(t, "mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Skipf(t, "cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// Item 14. At 1b6f56c, a database on read-only media was "damaged" and
// could not be read at all.
func TestReadOnlyMedia(t *testing.T) {
	dir := mountTmpfs(t, "128m")
	root := filepath.Join(dir, "db")
	s := openDisk(t, root)
	ensure(t, s, "ro")
	mustSave(t, s, "ro", Flush{Assets: []model.Asset{testAsset("a", 1), testAsset("b", 2)}})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		testenv.Skipf(t, "cannot remount read-only: %v %s", err, out)
	}
	for _, ro := range []bool{true, false} {
		s, err := Open(Options{Dir: root, ReadOnly: ro})
		if err != nil {
			t.Fatalf("Open(ReadOnly=%v) on read-only media: %v", ro, err)
		}
		if snap, err := s.Load("ro"); err != nil || len(snap.Assets) != 2 {
			t.Errorf("Load(ReadOnly=%v) on read-only media: %v", ro, err)
		}
		if list, err := s.Sessions(); err != nil || len(list) != 1 || list[0].Assets != 2 {
			t.Errorf("Sessions on read-only media: %v, %v", list, err)
		}
		if !ro {
			err := s.Save("ro", Flush{})
			if err == nil || errors.Is(err, ErrCorrupt) {
				t.Errorf("Save on read-only media = %v, want an error that is not 'damaged'", err)
			}
		}
		s.Close()
	}
}

// Item 3. At 1b6f56c, a full disk crashed every command with SIGBUS in
// badger's memory-mapped files (and `sessions`, `assets` too while it
// stayed full).
func TestFullDisk(t *testing.T) {
	dir := mountTmpfs(t, "8m")
	s := openDisk(t, filepath.Join(dir, "db"))
	_, err := s.EnsureSession("x", t0)
	if !errors.Is(err, ErrDiskFull) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("EnsureSession on an 8 MiB disk = %v, want one line wrapping ErrDiskFull", err)
	}
	if list, err := s.Sessions(); err != nil || len(list) != 0 {
		t.Errorf("Sessions on a full disk = %v, %v", list, err)
	}

	// Fill a larger disk while saving: Save refuses before Badger faults,
	// and everything saved before is kept.
	dir = mountTmpfs(t, "96m")
	root := filepath.Join(dir, "db")
	s = openDisk(t, root)
	ensure(t, s, "x")
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	filler := make([]byte, free-DefaultMinFree-6<<20)
	if err := os.WriteFile(filepath.Join(dir, "filler"), filler, 0o600); err != nil {
		t.Fatal(err)
	}
	saved := 0
	for round := 0; ; round++ {
		var f Flush
		for i := range 300 {
			a := testAsset(fmt.Sprintf("r%04d-%03d", round, i), uint64(i))
			a.Names = []string{strings.Repeat(fmt.Sprintf("%d", round), 200)}
			f.Assets = append(f.Assets, a)
		}
		err := s.Save("x", f)
		if errors.Is(err, ErrDiskFull) {
			break
		}
		if err != nil {
			t.Fatalf("Save round %d: %v", round, err)
		}
		saved += len(f.Assets)
		if round > 500 {
			t.Fatal("the disk never filled")
		}
	}
	if saved == 0 {
		t.Fatal("nothing saved before the disk filled")
	}
	if info, err := s.Session("x"); err != nil || info.Assets != saved {
		t.Errorf("Session on a full disk = %+v, %v; want %d assets", info, err, saved)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close on a full disk: %v", err)
	}
	r, err := Open(Options{Dir: root, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if snap, err := r.Load("x"); err != nil || len(snap.Assets) != saved {
		t.Errorf("after the disk filled: %d assets, %v; want %d", len(snap.Assets), err, saved)
	}
}

// A session left by a process killed with SIGKILL is readable by a
// read-only store without changing its files (Badger needs to truncate
// its log; the store reads a private copy instead).
func TestUncleanSessionReadOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	var got []byte
	deadline := time.Now().Add(20 * time.Second)
	for bytes.Count(got, []byte("\n")) < 20 && time.Now().Before(deadline) {
		n, err := out.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if bytes.Count(got, []byte("\n")) < 20 {
		t.Fatalf("crash child saved too little: %q", got)
	}
	dbDir := filepath.Join(dir, "crash", dbDirName)
	before := snapshotFiles(t, dbDir)
	r, err := Open(Options{Dir: dir, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.Load("crash")
	if err != nil || len(snap.Assets) < 20 {
		t.Fatalf("read-only Load after SIGKILL: %d assets, %v", len(snap.Assets), err)
	}
	r.Close()
	if after := snapshotFiles(t, dbDir); !reflect.DeepEqual(before, after) {
		t.Error("a read-only Load changed the files of an unclean session")
	}
	// The stale owner file names the dead writer; a writer takes over.
	if _, err := os.Stat(filepath.Join(dir, "crash", ownerFileName)); err != nil {
		t.Errorf("no owner file left by the killed writer: %v", err)
	}
	var logBuf bytes.Buffer
	w, err := Open(Options{Dir: dir, Logger: log.New(&logBuf, "", 0)})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	mustSave(t, w, "crash", Flush{Assets: []model.Asset{testAsset("after", 1)}})
	if !strings.Contains(logBuf.String(), "stale owner") {
		t.Errorf("taking over from a dead writer not logged: %q", logBuf.String())
	}
}

// The owner of a session is reported only while it lives.
func TestOwnerAlive(t *testing.T) {
	me := currentOwner()
	if !me.Alive() {
		t.Error("this process is not alive")
	}
	gone := me
	gone.ProcStart++ // same pid, another process
	if gone.Alive() {
		t.Error("a reused pid counts as the owner")
	}
	if (Owner{PID: 0}).Alive() {
		t.Error("pid 0 alive")
	}
	if !strings.Contains(me.String(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Errorf("owner string %q", me)
	}
}

// Salvage reads what can be read of a damaged session into a new one and
// leaves the damaged one as it is.
func TestSalvage(t *testing.T) {
	root, dbDir := damagedSession(t, 200)
	m := filepath.Join(dbDir, "MANIFEST")
	fi, _ := os.Stat(m)
	if err := os.Truncate(m, fi.Size()-4); err != nil {
		t.Fatal(err)
	}
	before := snapshotFiles(t, dbDir)
	s := openDisk(t, root)
	if _, err := s.Salvage("d", "ok"); !errors.Is(err, ErrExists) {
		t.Errorf("Salvage into an existing session = %v, want ErrExists", err)
	}
	rep, err := s.Salvage("d", "d-salvaged")
	if err != nil {
		t.Fatalf("Salvage: %v", err)
	}
	if len(rep.Tables) != 1 || len(rep.Damaged) != 0 || rep.Records < 201 {
		t.Errorf("report %+v", rep)
	}
	snap := mustLoad(t, s, "d-salvaged")
	if len(snap.Assets) != 200 || snap.Info.Created.IsZero() {
		t.Errorf("salvaged %d assets (created %v), want 200", len(snap.Assets), snap.Info.Created)
	}
	if after := snapshotFiles(t, dbDir); !reflect.DeepEqual(before, after) {
		t.Error("Salvage changed the damaged session")
	}

	// A table that fails its checksums, or whose bytes make Badger's
	// reader crash (damage in the first block), is reported in words and
	// not read; with nothing left to read no session is made.
	for _, at := range []float64{0, 1.0 / 3} {
		root, dbDir = damagedSession(t, 300)
		sst := tableFile(t, dbDir)
		b, _ := os.ReadFile(sst)
		for i := int(float64(len(b)) * at); i < int(float64(len(b))*at)+8; i++ {
			b[i] ^= 0x5a
		}
		os.WriteFile(sst, b, 0o600)
		s = openDisk(t, root)
		rep, err = s.Salvage("d", "d2")
		if !errors.Is(err, ErrNothingReadable) || len(rep.Damaged) != 1 || len(rep.Tables) != 0 {
			t.Errorf("damage at %.2f: Salvage with its only table bad = %+v, %v", at, rep, err)
		}
		if err != nil && (strings.Contains(err.Error(), "runtime error") || strings.Contains(err.Error(), "nil pointer")) {
			t.Errorf("damage at %.2f: the reason is Badger's crash, not the damage: %v", at, err)
		}
		if _, serr := os.Stat(filepath.Join(root, "d2")); serr == nil {
			t.Errorf("damage at %.2f: a salvage of nothing made a session", at)
		}
	}
}
