//go:build !race

package testenv

// Race is set when the race detector is on: it slows code 5-20x and makes
// wall-clock budgets meaningless, so speed tests skip under it and run in
// the non-race step (make speed).
const Race = false
