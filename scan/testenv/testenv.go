// Package testenv decides what a test does when an input it needs is
// missing: the shared captures and advisories (../shared), a tool (tshark,
// tcpdump), a real protocol server (a peer) or root. On a user's machine
// the test skips, naming what is missing; under OTSCOPE_STRICT=1 (CI) it
// fails instead, so a CI run without its inputs cannot pass blind.
//
// It imports only the standard library, so tests of every layer (scan,
// assets, ui, the root) may use it.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// StrictVar is the environment variable that turns skips into failures.
const StrictVar = "OTSCOPE_STRICT"

// Strict reports whether missing inputs fail tests (OTSCOPE_STRICT=1).
func Strict() bool { return os.Getenv(StrictVar) == "1" }

// Skip skips t because an input is missing, or fails it under
// OTSCOPE_STRICT=1; args say what is missing, as for t.Skip.
func Skip(t testing.TB, args ...any) {
	t.Helper()
	missing(t, fmt.Sprint(args...))
}

// Skipf is Skip with a format.
func Skipf(t testing.TB, format string, args ...any) {
	t.Helper()
	missing(t, fmt.Sprintf(format, args...))
}

// Need skips (or, strict, fails) t unless ok; what names the input:
//
//	testenv.Need(t, "../shared/pcaps", err == nil)
func Need(t testing.TB, what string, ok bool) {
	t.Helper()
	if !ok {
		missing(t, "needs "+what)
	}
}

// NeedPath skips (or fails) t unless path exists.
func NeedPath(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missing(t, fmt.Sprintf("needs %s: %v", path, err))
	}
}

// NeedCommand returns the path of an executable, or skips (or fails) t
// when it is not installed.
func NeedCommand(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, fmt.Sprintf("needs %s installed: %v", name, err))
	}
	return p
}

// NeedRoot skips (or fails) t unless it runs as root.
func NeedRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		missing(t, "needs root: "+why)
	}
}

func missing(t testing.TB, msg string) {
	t.Helper()
	if Strict() {
		t.Fatalf("%s=1: %s", StrictVar, msg)
	}
	t.Skip(msg)
}
