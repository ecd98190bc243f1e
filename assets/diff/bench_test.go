package diff_test

import (
	"testing"

	"otscope/assets/bundle/bundletest"
	"otscope/assets/diff"
	"otscope/scan/testenv"
)

// BenchmarkDiff10000 compares two 10,000-asset sessions that differ in a
// tenth of their assets (target: under 1 s).
func BenchmarkDiff10000(b *testing.B) {
	a := bundletest.Large(b, "visit1", 10_000)
	c := copyOf(b, a, "visit2")
	for i := range c.Assets {
		if i%10 == 0 {
			c.Assets[i].Firmware += "-new"
		}
	}
	c.Assets = c.Assets[:len(c.Assets)-100]
	var r diff.Result
	cpu := testenv.CPUTime()
	for b.Loop() {
		r = diff.Sessions(&a, &c, diff.Options{})
	}
	bundletest.ReportCPU(b, cpu)
	if r.Counts[diff.Changed] < 900 || r.Counts[diff.Vanished] < 100 {
		b.Fatalf("counts %v", r.Counts)
	}
}
