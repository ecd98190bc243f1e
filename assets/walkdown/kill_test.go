package walkdown

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"otscope/assets/store"
	"otscope/model"
)

// TestKill9LosesNothingConfirmed runs a walkdown in a child process that
// prints each action once the book confirmed it, kills the child with
// SIGKILL in the middle, reopens the store and finds every confirmed
// action.
func TestKill9LosesNothingConfirmed(t *testing.T) {
	if os.Getenv("WALKDOWN_CHILD") != "" {
		walkChild()
		return
	}
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKill9LosesNothingConfirmed$")
	cmd.Env = append(os.Environ(), "WALKDOWN_CHILD="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var confirmed []string
	sc := bufio.NewScanner(out)
	deadline := time.AfterFunc(60*time.Second, func() { _ = cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if l := sc.Text(); strings.HasPrefix(l, "confirmed ") {
			confirmed = append(confirmed, strings.TrimPrefix(l, "confirmed "))
			if len(confirmed) == 40 {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				break
			}
		}
	}
	_ = cmd.Wait()
	if len(confirmed) < 40 {
		t.Fatalf("child confirmed only %d actions", len(confirmed))
	}
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, skipped, err := Open(st, "walk")
	if err != nil || skipped != 0 {
		t.Fatal(err, skipped)
	}
	if len(b.Documented()) != 100 {
		t.Errorf("documented rows after kill = %d", len(b.Documented()))
	}
	for _, c := range confirmed {
		kind, what, _ := strings.Cut(c, " ")
		switch kind {
		case "verdict":
			if r, ok := b.PersonVerdict(DocTarget(what)); !ok || r.Verdict != model.VerdictMissing {
				t.Errorf("confirmed verdict on %s lost", what)
			}
		case "nameplate":
			if fs := b.ManualFacts(model.AssetID(what)); len(fs) == 0 || fs[0].Value != "SN-"+what {
				t.Errorf("confirmed nameplate of %s lost: %+v", what, fs)
			}
		case "add":
			if _, ok := b.Manual(model.AssetID(what)); !ok {
				t.Errorf("confirmed device %s lost", what)
			}
		}
	}
}

// walkChild imports a list and then records actions until it is killed.
func walkChild() {
	dir := os.Getenv("WALKDOWN_CHILD")
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	if _, err := st.EnsureSession("walk", time.Now()); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	b, _, _ := Open(st, "walk")
	var rows []model.DocumentedDevice
	for i := range 100 {
		rows = append(rows, model.DocumentedDevice{Tag: fmt.Sprintf("K%d", i), OrderNumber: "6ES7 315-2EH14-0AB0", Location: "Plant/+A1"})
	}
	if _, err := b.Import(Imported{Rows: rows}, "p.csv", "anna", time.Now()); err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		var line string
		switch i % 3 {
		case 0:
			tag := fmt.Sprintf("K%d", i%100)
			if err := b.SetVerdict(DocTarget(tag), model.VerdictMissing, "not there", "anna", time.Now(), nil); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			line = "verdict " + tag
		case 1:
			id := fmt.Sprintf("mac:00:00:00:00:00:%02x", i%256)
			if err := b.Nameplate(model.AssetID(id), map[string]string{"serial": "SN-" + id}, "anna", "nameplate", time.Now()); err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			line = "nameplate " + id
		case 2:
			id, err := b.AddManual(fmt.Sprintf("module %d", i), "", "", model.ParseLocation("Plant/+A1"), nil, "anna", "walkdown", time.Now())
			if err != nil {
				fmt.Println("error", err)
				os.Exit(1)
			}
			line = "add " + string(id)
		}
		fmt.Println("confirmed " + line)
	}
}
