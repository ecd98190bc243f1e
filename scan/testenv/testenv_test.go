package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
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
