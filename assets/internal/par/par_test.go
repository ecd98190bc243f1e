package par

import (
	"errors"
	"fmt"
	"runtime"
	"slices"
	"testing"
)

// TestWindowsEmitsEveryChunkInOrder checks that every item is worked on once
// and emitted once, in order, through the slot that worked on it, for sizes
// around the chunk and window boundaries and on one core and several.
func TestWindowsEmitsEveryChunkInOrder(t *testing.T) {
	for _, procs := range []int{1, 2, 3} {
		old := runtime.GOMAXPROCS(procs)
		for _, n := range []int{1, 4, 5, 7, 8, 9, 24, 25, 100} {
			t.Run(fmt.Sprintf("procs=%d/n=%d", procs, n), func(t *testing.T) {
				const chunk = 4
				slots := Slots(n, chunk)
				if want := min(procs, (n+chunk-1)/chunk); slots != want {
					t.Fatalf("Slots(%d, %d) = %d, want %d", n, chunk, slots, want)
				}
				buf := make([][]int, slots)
				worked := make([]int, n)
				var got []int
				err := Windows(n, chunk, func(slot, lo, hi int) error {
					buf[slot] = buf[slot][:0]
					for i := lo; i < hi; i++ {
						worked[i]++
						buf[slot] = append(buf[slot], i*10)
					}
					return nil
				}, func(slot, lo, hi int) error {
					if len(buf[slot]) != hi-lo || buf[slot][0] != lo*10 {
						return fmt.Errorf("slot %d holds %v for [%d,%d)", slot, buf[slot], lo, hi)
					}
					got = append(got, buf[slot]...)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				want := make([]int, n)
				for i := range want {
					want[i] = i * 10
				}
				if !slices.Equal(got, want) {
					t.Errorf("emitted %v, want %v", got, want)
				}
				for i, c := range worked {
					if c != 1 {
						t.Errorf("item %d worked on %d times", i, c)
					}
				}
			})
		}
		runtime.GOMAXPROCS(old)
	}
}

// TestWindowsStopsAtTheFirstError checks that a failed chunk stops the run:
// its window is not emitted, nor anything after it, and the error is the
// first chunk's in order, not whichever finished first.
func TestWindowsStopsAtTheFirstError(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	errA, errB := errors.New("chunk 5"), errors.New("chunk 6")
	var emitted []int
	err := Windows(100, 2, func(slot, lo, hi int) error {
		switch lo {
		case 10:
			return errA
		case 12:
			return errB
		}
		return nil
	}, func(slot, lo, hi int) error {
		emitted = append(emitted, lo)
		return nil
	})
	if err != errA {
		t.Fatalf("error %v, want %v", err, errA)
	}
	// windows of 4 chunks of 2: [0,8) is emitted, [8,16) holds the failures
	if want := []int{0, 2, 4, 6}; !slices.Equal(emitted, want) {
		t.Errorf("emitted chunks at %v, want %v", emitted, want)
	}
	errEmit := errors.New("write")
	n := 0
	err = Windows(10, 2, func(int, int, int) error { return nil }, func(slot, lo, hi int) error {
		n++
		if lo == 2 {
			return errEmit
		}
		return nil
	})
	if err != errEmit || n != 2 {
		t.Errorf("emit error: got %v after %d emits, want %v after 2", err, n, errEmit)
	}
	if err := Windows(0, 4, nil, nil); err != nil {
		t.Errorf("no items: %v", err)
	}
}
