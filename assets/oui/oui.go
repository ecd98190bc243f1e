package oui

import (
	_ "embed"
	"fmt"
	"slices"
	"sync"

	"otscope/assets/oui/internal/format"
	"otscope/model"
)

//go:embed oui.bin.gz
var embedded []byte

// table is the parsed registry, read-only once built.
type table struct {
	version string
	full    []string // organisation names as registered
	short   []string // short[i] is ShortName(full[i])
	blocks  [3]format.Block
	n       int // assignments in all blocks
}

// load parses the embedded data on first use.
var load = sync.OnceValues(func() (*table, error) { return parse(embedded) })

// parse decodes a file written by internal/gen. It returns an error, never
// panics, whatever data holds.
func parse(data []byte) (*table, error) {
	ft, err := format.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("oui: %w", err)
	}
	t := &table{version: ft.Version, full: ft.Names, blocks: ft.Blocks, n: ft.Len()}
	t.short = make([]string, len(ft.Names))
	for i, n := range ft.Names {
		t.short[i] = ShortName(n)
	}
	return t, nil
}

// Load parses the embedded registry now instead of on the first lookup, and
// reports an error if it is unusable (then every lookup returns "").
// Calling it at start-up keeps the one-off cost (tens of milliseconds and
// about 5 MB of allocation) off the UI goroutine.
func Load() error {
	_, err := load()
	return err
}

// index returns the name index of the longest registered prefix of m, or -1.
func (t *table) index(m model.MAC) int {
	if m.IsMulticast() || m.IsLocal() || m.IsZero() {
		return -1
	}
	v := uint64(m[0])<<40 | uint64(m[1])<<32 | uint64(m[2])<<24 | uint64(m[3])<<16 | uint64(m[4])<<8 | uint64(m[5])
	for i := range t.blocks {
		b := &t.blocks[i]
		if j, ok := slices.BinarySearch(b.Keys, v>>(48-b.Bits)); ok {
			return int(b.Names[j])
		}
	}
	return -1
}

// Lookup returns the short vendor name registered for m, such as "Siemens"
// or "Rockwell Automation", or "" when m is not a registered universal
// unicast address.
func Lookup(m model.MAC) string {
	t, err := load()
	if err != nil {
		return ""
	}
	if i := t.index(m); i >= 0 {
		return t.short[i]
	}
	return ""
}

// LookupFull is Lookup returning the organisation name as registered, such as
// "Siemens AG" or "Cisco Systems, Inc".
func LookupFull(m model.MAC) string {
	t, err := load()
	if err != nil {
		return ""
	}
	if i := t.index(m); i >= 0 {
		return t.full[i]
	}
	return ""
}

// DataVersion returns where the embedded registry came from, for example
// "ieee-data 20220827.1 (2022-08-27)", or "" if it failed to load.
func DataVersion() string {
	t, err := load()
	if err != nil {
		return ""
	}
	return t.version
}

// Len returns the number of registry assignments embedded (MA-L, MA-M,
// MA-S and IAB together), or 0 if the data failed to load.
func Len() int {
	t, err := load()
	if err != nil {
		return 0
	}
	return t.n
}
