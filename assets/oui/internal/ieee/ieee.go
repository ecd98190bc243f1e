// Package ieee reads the IEEE Registration Authority's public CSV listings
// (MA-L oui.csv, MA-M mam.csv, MA-S oui36.csv and the older IAB iab.csv, as
// shipped by Debian's ieee-data package or downloaded from
// https://standards-oui.ieee.org/) and builds the table that package format
// writes. It is used by internal/gen and by tests; it is not linked into
// otscope itself.
package ieee

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"otscope/assets/oui/internal/format"
)

// DebianDir is where Debian's ieee-data package installs the registry.
const DebianDir = "/usr/share/ieee-data"

// Record is one registry assignment.
type Record struct {
	Bits   int    // prefix length: 24 (MA-L), 28 (MA-M) or 36 (MA-S, IAB)
	Prefix uint64 // the top Bits bits of the MAC addresses assigned
	Org    string // organisation name as listed, whitespace collapsed
}

// registryBits maps the CSV "Registry" column to prefix length.
var registryBits = map[string]int{"MA-L": 24, "MA-M": 28, "MA-S": 36, "IAB": 36}

// ReadCSV parses one registry CSV. It checks the header and every row and
// reports the first problem with its line number.
func ReadCSV(r io.Reader) ([]Record, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if len(head) < 3 || strings.TrimPrefix(head[0], "\ufeff") != "Registry" || head[1] != "Assignment" || head[2] != "Organization Name" {
		return nil, fmt.Errorf("header %q: want Registry, Assignment and Organization Name first", head)
	}
	var out []Record
	for {
		row, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(row) < 3 {
			return nil, fmt.Errorf("line %d: %d fields, want at least 3", line, len(row))
		}
		bits, ok := registryBits[row[0]]
		if !ok {
			return nil, fmt.Errorf("line %d: unknown registry %q", line, row[0])
		}
		hex := row[1]
		if len(hex)*4 != bits {
			return nil, fmt.Errorf("line %d: %s assignment %q is not %d hex digits", line, row[0], hex, bits/4)
		}
		prefix, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: assignment %q: %w", line, hex, err)
		}
		org := CleanSpace(strings.ToValidUTF8(row[2], "\uFFFD"))
		if org == "" {
			return nil, fmt.Errorf("line %d: assignment %s has no organisation name", line, hex)
		}
		if len(org) > format.MaxName {
			org = strings.ToValidUTF8(org[:format.MaxName], "") // drop a rune cut in half
		}
		out = append(out, Record{Bits: bits, Prefix: prefix, Org: org})
	}
}

// CleanSpace trims s and turns every run of white space (tabs, no-break and
// other Unicode spaces included) and control characters into one ASCII space,
// so a name cannot break a terminal layout.
func CleanSpace(s string) string {
	f := strings.FieldsFunc(s, func(r rune) bool {
		return r < 0x20 || r == 0x7f || strings.ContainsRune(" \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000", r)
	})
	return strings.Join(f, " ")
}

// Build turns records into a table. When the registry lists an assignment
// more than once (a few historic MA-L entries), the first record wins and
// the others are returned as duplicates so the caller can report them.
func Build(version string, recs []Record) (t *format.Table, duplicates []Record) {
	type key struct {
		bits   int
		prefix uint64
	}
	seen := make(map[key]bool, len(recs))
	var kept []Record
	for _, r := range recs {
		k := key{r.Bits, r.Prefix}
		if seen[k] {
			duplicates = append(duplicates, r)
			continue
		}
		seen[k] = true
		kept = append(kept, r)
	}
	names := make([]string, 0, len(kept))
	for _, r := range kept {
		names = append(names, r.Org)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	index := make(map[string]uint32, len(names))
	for i, n := range names {
		index[n] = uint32(i)
	}
	t = &format.Table{Version: version, Names: names}
	for bi, bits := range format.PrefixBits {
		var rs []Record
		for _, r := range kept {
			if r.Bits == bits {
				rs = append(rs, r)
			}
		}
		slices.SortFunc(rs, func(a, b Record) int { return cmp.Compare(a.Prefix, b.Prefix) })
		b := format.Block{Bits: bits, Keys: make([]uint64, len(rs)), Names: make([]uint32, len(rs))}
		for i, r := range rs {
			b.Keys[i], b.Names[i] = r.Prefix, index[r.Org]
		}
		t.Blocks[bi] = b
	}
	return t, duplicates
}

// Sources says which files to read. Empty file fields default to the
// standard file name inside Dir when that file exists; OUI is required.
type Sources struct {
	Dir   string // directory holding the CSVs, e.g. DebianDir
	OUI   string // MA-L listing (oui.csv)
	MAM   string // MA-M listing (mam.csv)
	OUI36 string // MA-S listing (oui36.csv)
	IAB   string // IAB listing (iab.csv)
	// Version overrides the detected provenance text (see DetectVersion).
	Version string
}

// Files returns the CSV paths to read, in order.
func (s Sources) Files() ([]string, error) {
	pick := func(explicit, name string, required bool) (string, error) {
		if explicit != "" {
			return explicit, nil
		}
		if s.Dir == "" {
			if required {
				return "", fmt.Errorf("no %s: set a source directory or file", name)
			}
			return "", nil
		}
		p := filepath.Join(s.Dir, name)
		if _, err := os.Stat(p); err != nil {
			if required {
				return "", err
			}
			return "", nil
		}
		return p, nil
	}
	var files []string
	for _, f := range []struct {
		explicit, name string
		required       bool
	}{{s.OUI, "oui.csv", true}, {s.MAM, "mam.csv", false}, {s.OUI36, "oui36.csv", false}, {s.IAB, "iab.csv", false}} {
		p, err := pick(f.explicit, f.name, f.required)
		if err != nil {
			return nil, err
		}
		if p != "" {
			files = append(files, p)
		}
	}
	return files, nil
}

// Load reads every source file and builds the table.
func (s Sources) Load() (t *format.Table, duplicates []Record, err error) {
	files, err := s.Files()
	if err != nil {
		return nil, nil, err
	}
	var recs []Record
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, err
		}
		rs, err := ReadCSV(f)
		f.Close()
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", p, err)
		}
		recs = append(recs, rs...)
	}
	version := s.Version
	if version == "" {
		version = DetectVersion(s.Dir, files)
	}
	t, duplicates = Build(version, recs)
	return t, duplicates, nil
}

// DetectVersion describes where the data came from. When dir is Debian's
// ieee-data directory and dpkg-query works, it names the package version
// ("ieee-data 20220827.1"); otherwise "IEEE registry". The date in brackets
// is dir/.lastupdate (a Unix time ieee-data's updater writes) when present,
// else the newest modification time of files, in UTC.
func DetectVersion(dir string, files []string) string {
	name := "IEEE registry"
	if abs, err := filepath.Abs(dir); err == nil && dir != "" && abs == DebianDir {
		out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", "ieee-data").Output()
		if v := strings.TrimSpace(string(out)); err == nil && v != "" {
			name = "ieee-data " + v
		}
	}
	var when time.Time
	if dir != "" {
		if b, err := os.ReadFile(filepath.Join(dir, ".lastupdate")); err == nil {
			if sec, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil {
				when = time.Unix(sec, 0)
			}
		}
	}
	if when.IsZero() {
		for _, p := range files {
			if fi, err := os.Stat(p); err == nil && fi.ModTime().After(when) {
				when = fi.ModTime()
			}
		}
	}
	if when.IsZero() {
		return name
	}
	return name + " (" + when.UTC().Format(time.DateOnly) + ")"
}
