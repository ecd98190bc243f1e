package testenv

import (
	"syscall"
	"time"
	"unsafe"
)

// The CPU-time clocks of clock_gettime(2): nanosecond precision, where
// getrusage(2) moves in scheduler ticks (1-4 ms), too coarse for a
// keypress.
const (
	clockProcessCPUTime = 2 // CLOCK_PROCESS_CPUTIME_ID
	clockThreadCPUTime  = 3 // CLOCK_THREAD_CPUTIME_ID
)

// CPUTime is the CPU time (user + system) the whole process has used. Speed
// tests compare it, not wall time, with their budgets: a busy machine (a
// CI job beside another) stretches wall time but not the work done, and for
// the work they measure CPU time is at least the wall time an idle machine
// would show.
func CPUTime() time.Duration { return clock(clockProcessCPUTime) }

// ThreadCPUTime is the CPU time of the calling OS thread: the cost of work
// done on one goroutine (a keypress in the TUI's Update and View), without
// the other goroutines of the test. The caller must hold its thread with
// runtime.LockOSThread across the measurement.
func ThreadCPUTime() time.Duration { return clock(clockThreadCPUTime) }

func clock(id uintptr) time.Duration {
	var ts syscall.Timespec
	if _, _, e := syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, id, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}

// CPUBudget is a CPU-time budget for a test that also runs under the race
// detector (make test): d without it, ten times d with it (the detector
// slows code 5-10x). Budgets that guard against a pathological input
// (exponential backtracking, a quadratic loop) stay meaningful either way.
func CPUBudget(d time.Duration) time.Duration {
	if Race {
		return 10 * d
	}
	return d
}
