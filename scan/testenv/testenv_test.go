package testenv

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestStrictFails runs a child test that needs something missing: it
// skips normally and fails, naming the input, under OTSCOPE_STRICT=1.
func TestStrictFails(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Need(t, "a unicorn", false)
		return
	}
	for _, strict := range []string{"0", "1"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStrictFails$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", StrictVar+"="+strict)
		out, err := cmd.CombinedOutput()
		switch {
		case strict == "0" && (err != nil || !strings.Contains(string(out), "SKIP") || !strings.Contains(string(out), "needs a unicorn")):
			t.Errorf("not strict: %v\n%s", err, out)
		case strict == "1" && (err == nil || !strings.Contains(string(out), "FAIL") || !strings.Contains(string(out), "OTSCOPE_STRICT=1: needs a unicorn")):
			t.Errorf("strict: %v\n%s", err, out)
		}
	}
}

// CPUTime and ThreadCPUTime grow with work done and not with time spent
// waiting: a busy machine cannot fail a budget measured with them.
func TestCPUTime(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	p0, t0 := CPUTime(), ThreadCPUTime()
	time.Sleep(30 * time.Millisecond) // waiting is no work
	if d := ThreadCPUTime() - t0; d > 20*time.Millisecond {
		t.Errorf("a 30 ms sleep cost %v of thread CPU time", d)
	}
	x := uint64(1)
	for ThreadCPUTime()-t0 < 20*time.Millisecond {
		for i := range 100000 {
			x = x*6364136223846793005 + uint64(i)
		}
	}
	if x == 0 {
		t.Log(x)
	}
	if p, th := CPUTime()-p0, ThreadCPUTime()-t0; p < th || th < 20*time.Millisecond {
		t.Errorf("process %v, thread %v after 20 ms of work on this thread", p, th)
	}
}
