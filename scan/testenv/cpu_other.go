//go:build !linux

package testenv

import "time"

var start = time.Now()

// CPUTime is, off Linux, the time since the process started: the speed
// tests' budgets are checked on Linux (CI), where it is the process's CPU
// time.
func CPUTime() time.Duration { return time.Since(start) }

// ThreadCPUTime is, off Linux, the time since the process started.
func ThreadCPUTime() time.Duration { return time.Since(start) }

// CPUBudget is d, ten times d under the race detector.
func CPUBudget(d time.Duration) time.Duration {
	if Race {
		return 10 * d
	}
	return d
}
