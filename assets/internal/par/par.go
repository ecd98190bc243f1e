// Package par runs ordered work on all cores: encoders that must write
// their records in order (an export, a store flush) encode a window of
// chunks at once and hand them on in order.
package par

import (
	"runtime"
	"sync"
)

// Slots is how many chunks of size chunk Windows runs at once for n items:
// one per core, at least one, at most one per chunk. A caller keeps that many
// buffers, indexed by slot.
func Slots(n, chunk int) int {
	return max(1, min(runtime.GOMAXPROCS(0), (n+chunk-1)/chunk))
}

// Windows splits [0, n) into chunks of size chunk (the last may be shorter)
// and runs work on Slots(n, chunk) consecutive chunks at once, each with its
// slot. Once all of them are done it calls emit for each, in order and with
// the same slot, then moves to the next window. It stops at the first error,
// work's before emit's; nothing of a window whose work failed is emitted.
func Windows(n, chunk int, work, emit func(slot, lo, hi int) error) error {
	if n <= 0 {
		return nil
	}
	chunk = max(chunk, 1)
	slots := Slots(n, chunk)
	errs := make([]error, slots)
	for start := 0; start < n; start += slots * chunk {
		used := 0
		var wg sync.WaitGroup
		for k := range slots {
			lo := start + k*chunk
			if lo >= n {
				break
			}
			hi := min(lo+chunk, n)
			used++
			if slots == 1 {
				errs[k] = work(k, lo, hi)
				continue
			}
			wg.Go(func() { errs[k] = work(k, lo, hi) })
		}
		wg.Wait()
		for k := range used {
			if errs[k] != nil {
				return errs[k]
			}
		}
		for k := range used {
			lo := start + k*chunk
			if err := emit(k, lo, min(lo+chunk, n)); err != nil {
				return err
			}
		}
	}
	return nil
}
