package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"otscope/assets/store"
)

// A test binary started with OTSCOPE_CLI_CHILD runs one command line (the
// arguments after "--") as the otscope binary would, so tests can signal
// and kill a real process.
func TestMain(m *testing.M) {
	if os.Getenv("OTSCOPE_CLI_CHILD") == "1" {
		args := os.Args
		for i, a := range args {
			if a == "--" {
				args = args[i+1:]
				break
			}
		}
		if err := Execute(args, IO{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}, "test"); err != nil {
			fmt.Fprintln(os.Stderr, "otscope:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// child starts otscope args in a new process.
func child(t *testing.T, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "OTSCOPE_CLI_CHILD=1")
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, &out
}

// waitMeta polls the session's metadata (read from its metadata file, as
// listing does while another process writes) until ok accepts it.
func waitMeta(t *testing.T, dir, session string, ok func(store.Meta) bool) store.Meta {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if st, err := store.Open(store.Options{Dir: dir, ReadOnly: true}); err == nil {
			ms, _ := st.ListMeta()
			st.Close()
			for _, m := range ms {
				if m.Name == session && ok(m) {
					return m
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %s: metadata never reached the expected state", session)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// demoCapture writes a one-minute demo capture into dir.
func demoCapture(t *testing.T, dir string) string {
	t.Helper()
	pcap := filepath.Join(dir, "demo.pcap")
	if _, errs, err := execute(t, "demo", "-o", pcap, "--duration", "1m"); err != nil {
		t.Fatal(err, errs)
	}
	return pcap
}

func metaOf(t *testing.T, db []string, session string) store.Meta {
	t.Helper()
	out, errs, err := executeDB(t, db, "sessions", "-f", "json")
	if err != nil {
		t.Fatal(err, errs)
	}
	var ms []store.Meta
	if err := json.Unmarshal([]byte(out), &ms); err != nil {
		t.Fatalf("sessions -f json: %v\n%s", err, out)
	}
	for _, m := range ms {
		if m.Name == session {
			return m
		}
	}
	t.Fatalf("session %s not listed: %s", session, out)
	return store.Meta{}
}

// TestSessionsCommands: listing (empty, table, JSON, CSV, sanitised),
// re-reading a capture (skipped, --force), set, copy, rename, delete
// (refused without a terminal unless --yes) and salvage.
func TestSessionsCommands(t *testing.T) {
	dir, db := tempDB(t)
	run := func(args ...string) (string, error) {
		t.Helper()
		out, errs, err := executeDB(t, db, args...)
		return out + errs, err
	}
	if out, err := run("sessions"); err != nil || !strings.Contains(out, "no sessions yet") {
		t.Fatalf("empty: %v %q", err, out)
	}
	if out, err := run("sessions", "-f", "json"); err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty json: %v %q", err, out)
	}
	pcap := demoCapture(t, dir)

	// read twice: the packets are counted once
	if out, err := run("read", pcap, "-s", "plant", "-q"); err != nil {
		t.Fatal(err, out)
	}
	first := metaOf(t, db, "plant")
	if first.Packets == 0 || first.Runs != 1 || first.Interrupted != 0 {
		t.Fatalf("after one read: %+v", first)
	}
	out, err := run("read", pcap, "-s", "plant", "-q")
	if err != nil || !strings.Contains(out, "already read into plant on ") || !strings.Contains(out, fmt.Sprintf("(%d packets); --force reads it again", first.Packets)) {
		t.Fatalf("second read: %v\n%s", err, out)
	}
	if m := metaOf(t, db, "plant"); m.Packets != first.Packets || m.Runs != 1 {
		t.Fatalf("second read changed the session: %+v, want %+v", m, first)
	}
	if out, err := run("read", pcap, pcap, "-s", "plant", "-q", "--force"); err != nil || !strings.Contains(out, "same capture as") {
		t.Fatalf("--force: %v\n%s", err, out)
	}
	if m := metaOf(t, db, "plant"); m.Packets != 2*first.Packets || m.Runs != 2 {
		t.Fatalf("after --force: %d packets %d runs, want %d and 2", m.Packets, m.Runs, 2*first.Packets)
	}

	// site and sensor are device-controlled text on output
	if out, err := run("sessions", "set", "plant", "--site", "Plant A\x1b[31m", "--sensor", "=cmd|x"); err != nil || !strings.Contains(out, "site Plant A") {
		t.Fatalf("set: %v %q", err, out)
	}
	if out, err := run("sessions", "set", "plant"); err == nil {
		t.Fatalf("set without flags: %q", out)
	}
	out, err = run("sessions")
	if err != nil || strings.Contains(out, "\x1b") || !strings.Contains(out, "Plant A") || !strings.Contains(out, "plant ") {
		t.Fatalf("table: %v %q", err, out)
	}
	for _, col := range []string{"SESSION", "SITE", "SENSOR", "ASSETS", "CONVS", "PACKETS", "RUNS", "UPDATED", "SOURCES", "demo.pcap"} {
		if !strings.Contains(out, col) {
			t.Errorf("table lacks %s:\n%s", col, out)
		}
	}
	out, err = run("sessions", "-f", "csv")
	if err != nil || !strings.Contains(out, "'=cmd|x") || !strings.HasPrefix(out, "session,site,sensor,") {
		t.Fatalf("csv: %v %q", err, out)
	}

	// copy, rename, delete
	if out, err := run("sessions", "copy", "plant", "p2"); err != nil || out != "session plant copied to p2\n" {
		t.Fatal(err, out)
	}
	if _, err := run("sessions", "copy", "plant", "p2"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("copy onto an existing session: %v", err)
	}
	if out, err := run("sessions", "rename", "p2", "p3"); err != nil || out != "session p2 renamed to p3\n" {
		t.Fatal(err, out)
	}
	if m := metaOf(t, db, "p3"); m.Packets != 2*first.Packets || m.Site != "Plant A\x1b[31m" {
		t.Fatalf("copy: %+v", m)
	}
	if _, err := run("sessions", "delete", "p3"); err == nil || !strings.Contains(err.Error(), "--yes") {
		t.Fatalf("delete without a terminal: %v", err)
	}
	metaOf(t, db, "p3") // still there
	if out, err := run("sessions", "delete", "p3", "--yes"); err != nil || !strings.Contains(out, "deleted") {
		t.Fatal(err, out)
	}
	if _, err := run("sessions", "rename", "p3", "p4"); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("rename a deleted session: %v", err)
	}
	if _, err := run("sessions", "rename", "plant", "../x"); err == nil {
		t.Fatal("rename to a bad name: no error")
	}

	// salvage reads every record of a healthy session
	out, err = run("sessions", "salvage", "plant")
	if err != nil || !strings.Contains(out, "into plant-salvaged") {
		t.Fatalf("salvage: %v %q", err, out)
	}
	if m := metaOf(t, db, "plant-salvaged"); m.Assets != first.Assets {
		t.Fatalf("salvaged %d assets, want %d", m.Assets, first.Assets)
	}

	// completion offers the session names to the subcommands
	words, _, err := execute(t, append(append([]string{"__complete"}, db...), "sessions", "delete", "")...)
	if err != nil || !strings.Contains(words, "plant\t") || !strings.Contains(words, "plant-salvaged") {
		t.Fatalf("completion: %v %q", err, words)
	}
}

// TestReadKilledShowsInterrupted: a read killed with SIGKILL leaves a run
// that never finished, and the listing says so.
func TestReadKilledShowsInterrupted(t *testing.T) {
	dir, db := tempDB(t)
	dbDir := filepath.Join(dir, "db")
	pcap := demoCapture(t, dir)
	cmd, out := child(t, append([]string{"read", pcap, "-s", "k", "-q", "--speed", "1"}, db...)...)
	waitMeta(t, dbDir, "k", func(m store.Meta) bool { return m.Interrupted == 1 && m.Packets > 0 })
	// while it runs, the listing says so and another command on the
	// session gets one line naming the process
	if o, _, err := executeDB(t, db, "sessions"); err != nil || !strings.Contains(o, "1 (1 running)") {
		t.Errorf("sessions while reading: %v\n%s", err, o)
	}
	_, _, err := executeDB(t, db, "assets", "-s", "k")
	if !errors.Is(err, store.ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("being written by pid %d", cmd.Process.Pid)) ||
		strings.Count(err.Error(), `session "k"`) != 1 {
		t.Errorf("assets on a session being read: %v", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Log(out.String())
	o, _, err := executeDB(t, db, "sessions")
	if err != nil || !strings.Contains(o, "1 (1 interrupted)") || !strings.Contains(o, "interrupted: a run that never finished") {
		t.Fatalf("sessions after kill -9: %v\n%s", err, o)
	}
	// the interrupted file was not read to its end: a new read reads it
	o, _, err = executeDB(t, db, "read", pcap, "-s", "k", "-q")
	if err != nil || strings.Contains(o, "already read") {
		t.Fatalf("read after an interrupted read: %v\n%s", err, o)
	}
}

// TestReadIdlePipeInterrupt: Ctrl-C ends a read of a FIFO no one writes to
// promptly, recording the run as finished with an error.
func TestReadIdlePipeInterrupt(t *testing.T) {
	dir, db := tempDB(t)
	dbDir := filepath.Join(dir, "db")
	fifo := filepath.Join(dir, "p")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	cmd, out := child(t, append([]string{"read", fifo, "-s", "x"}, db...)...)
	waitMeta(t, dbDir, "x", func(m store.Meta) bool { return m.Runs == 1 })
	sent := time.Now()
	cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if el := time.Since(sent); err != nil || el > 5*time.Second {
			t.Fatalf("exit after %s: %v\n%s", el, err, out)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("read of an idle pipe still running 20s after SIGINT\n%s", out)
	}
	if !strings.Contains(out.String(), "interrupted: everything read so far is saved") {
		t.Errorf("output: %s", out)
	}
	if m := metaOf(t, db, "x"); m.Runs != 1 || m.Interrupted != 0 {
		t.Errorf("after Ctrl-C: %d runs, %d interrupted; want 1 finished run", m.Runs, m.Interrupted)
	}
}

// TestTidyErr: store errors reach the user on one line, the session named
// once, a damaged session with the command that salvages it.
func TestTidyErr(t *testing.T) {
	locked := fmt.Errorf("session %q: %w", "held", fmt.Errorf("session %q is being written by pid 42 (otscope read x.pcap)\nsince 05:29: %w", "held", store.ErrLocked))
	err := tidyErr(locked)
	if !errors.Is(err, store.ErrLocked) || strings.Count(err.Error(), `session "held"`) != 1 || strings.Contains(err.Error(), "\n") {
		t.Errorf("locked: %q", err)
	}
	damaged := fmt.Errorf("session %q %w (table 1.sst: checksum); otscope left its files untouched: salvage what can be read into a new session, or move /d/plant aside", "plant", store.ErrCorrupt)
	err = tidyErr(damaged)
	if !errors.Is(err, store.ErrCorrupt) || !strings.Contains(err.Error(), "new session ('otscope sessions salvage plant')") {
		t.Errorf("damaged: %q", err)
	}
	usage := fmt.Errorf("%w: read: no capture files given", ErrUsage)
	if err := tidyErr(usage); err != usage {
		t.Errorf("usage error rewritten: %q", err)
	}
	if tidyErr(nil) != nil {
		t.Error("tidyErr(nil) != nil")
	}
}

// TestSavedLine: quitting the TUI says where the session is kept and the
// command that reopens it (with --db when one was given, quoted).
func TestSavedLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my db")
	e, err := openEnvAt(dir, filepath.Join(t.TempDir(), "log"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer e.close()
	var out strings.Builder
	a := &app{io: IO{Stdout: &out}, db: dir}
	a.savedLine(e, "plant-a")
	want := "session plant-a saved in " + filepath.Join(dir, "plant-a") + " — reopen: otscope --db '" + dir + "' ui -s plant-a\n"
	if out.String() != want {
		t.Errorf("got  %q\nwant %q", out.String(), want)
	}
	if got := shellQuote("/a/b-c.d"); got != "/a/b-c.d" {
		t.Errorf("shellQuote plain: %q", got)
	}
	if got := shellQuote("it's"); got != `'it'\''s'` {
		t.Errorf("shellQuote quote: %q", got)
	}
}
