// Package planttest gives tests of every layer the demo plant's capture in
// memory, so that they read the same bytes through the real pipeline.
package planttest

import (
	"bytes"
	"testing"
	"time"

	"otscope/scan/plant"
)

// Pcap returns the demo plant's capture of plant time d (seed 1).
func Pcap(tb testing.TB, d time.Duration) []byte {
	tb.Helper()
	var b bytes.Buffer
	if _, err := plant.WritePcap(&b, plant.Options{Seed: 1, Duration: d}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}
