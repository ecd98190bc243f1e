//go:build !race

package assets_test

// raceEnabled is set under the race detector, which slows code ~10x and
// makes wall-clock budgets meaningless.
const raceEnabled = false
