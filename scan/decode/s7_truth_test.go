package decode

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"otscope/model"
	"otscope/scan/capture"
)

// The siemens-61850 group's truth check: every tshark identity value of
// S7comm, S7comm-plus, MMS, GOOSE, SV and C37.118 in the public captures
// must be a fact on the matching device (by IP, or MAC for layer-2 keys).

const s7TruthRoot = "../../../shared/pcaps"

type s7TruthRow struct{ tshark, ours, match string }

func s7TruthMap(t *testing.T) []s7TruthRow {
	fh, err := os.Open("../../testdata/truthmap/siemens-61850.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var rows []s7TruthRow
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			t.Fatalf("truthmap line %q: want 4 tab-separated fields", line)
		}
		switch f[2] {
		case "exact", "ci", "enum", "num", "contains":
		case "skip":
			if strings.TrimSpace(f[3]) == "" {
				t.Fatalf("skip without a reason: %q", line)
			}
		default:
			t.Fatalf("truthmap line %q: bad match %q", line, f[2])
		}
		rows = append(rows, s7TruthRow{f[0], f[1], f[2]})
	}
	return rows
}

type s7TruthDevice struct {
	MAC      []string            `json:"mac"`
	IP       []string            `json:"ip"`
	Identity map[string][]string `json:"identity"`
}

type s7TruthFile struct {
	File    string                   `json:"file"`
	Devices map[string]s7TruthDevice `json:"devices"`
}

// s7DecodeFile runs a capture through a Decoder and returns its facts.
func s7DecodeFile(t *testing.T, path string) []model.Observation {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer src.Close()
	d := New(Options{Origin: path})
	var facts []model.Observation
	keep := func(b model.Batch) {
		for _, o := range b.Obs {
			if o.Kind == model.ObsFact {
				facts = append(facts, o)
			}
		}
	}
	for {
		data, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("%s: %v", path, err)
			}
			break
		}
		d.Decode(data, ci, src.LinkType(), src.Frame())
		if d.frame%4096 == 0 {
			keep(d.Flush())
		}
	}
	keep(d.Flush())
	return facts
}

// s7TruthMatch compares a tshark value with one of ours.
func s7TruthMatch(mode, want, got string) bool {
	want, got = strings.TrimSpace(want), strings.TrimSpace(got)
	switch mode {
	case "exact":
		return want == got
	case "ci":
		return strings.EqualFold(want, got)
	case "contains":
		return want != "" && got != "" && (strings.Contains(want, got) || strings.Contains(got, want))
	case "num":
		a, ok1 := s7ParseNum(want)
		b, ok2 := s7ParseNum(got)
		return ok1 && ok2 && a == b
	case "enum":
		if strings.EqualFold(want, got) {
			return true
		}
		if i := strings.LastIndexByte(want, '('); i >= 0 && strings.HasSuffix(want, ")") {
			name := strings.TrimSpace(want[:i])
			a, ok1 := s7ParseNum(want[i+1 : len(want)-1])
			b, ok2 := s7ParseNum(got)
			return (ok1 && ok2 && a == b) || strings.EqualFold(name, got)
		}
		a, ok1 := s7ParseNum(want)
		b, ok2 := s7ParseNum(got)
		return ok1 && ok2 && a == b
	}
	return false
}

func s7ParseNum(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err := strconv.ParseUint(s[2:], 16, 64)
		return v, err == nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

func TestSiemens61850Truth(t *testing.T) {
	if _, err := os.Stat(s7TruthRoot); err != nil {
		t.Skip("../shared/pcaps not present")
	}
	rows := s7TruthMap(t)
	byField := map[string]s7TruthRow{}
	for _, r := range rows {
		byField[r.tshark] = r
	}
	truths, _ := filepath.Glob(s7TruthRoot + "/truth/*/*.json")
	type tally struct{ want, found int }
	per := map[string]*tally{}
	total, found := 0, 0
	for _, tf := range truths {
		raw, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		var truth s7TruthFile
		if err := json.Unmarshal(raw, &truth); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
		relevant := false
		for _, dev := range truth.Devices {
			for f := range dev.Identity {
				if _, ok := byField[f]; ok {
					relevant = true
				}
			}
		}
		if !relevant {
			continue
		}
		facts := s7DecodeFile(t, filepath.Join(s7TruthRoot, truth.File))
		for key, dev := range truth.Devices {
			for f, vals := range dev.Identity {
				row, ok := byField[f]
				if !ok || row.match == "skip" {
					continue
				}
				for _, v := range vals {
					total++
					ta := per[f]
					if ta == nil {
						ta = &tally{}
						per[f] = ta
					}
					ta.want++
					ok := false
					for _, o := range facts {
						if o.Fact.Field != row.ours || !s7SubjectIs(o.Subject, key, dev.MAC) {
							continue
						}
						if s7TruthMatch(row.match, v, o.Fact.Value) {
							ok = true
							break
						}
					}
					if ok {
						found++
						ta.found++
					} else {
						t.Errorf("%s %s: %s = %q not found as %s", truth.File, key, f, v, row.ours)
					}
				}
			}
		}
	}
	for f, ta := range per {
		t.Logf("%-50s expected %3d found %3d", f, ta.want, ta.found)
	}
	t.Logf("total: expected %d found %d", total, found)
	if total == 0 {
		t.Fatal("no truth values for this group's fields")
	}
}

// s7SubjectIs reports whether a fact's subject is the truth device key.
// A layer-2 fact (no IP) matches by one of the device's MACs: the truth
// merges a MAC seen with one IPv4 address into that IP's entry, and so does
// the inventory.
func s7SubjectIs(ep model.Endpoint, key string, macs []string) bool {
	if i := strings.IndexByte(key, '|'); i >= 0 {
		key = key[:i]
	}
	if strings.Count(key, ":") == 5 && len(key) == 17 {
		return ep.MAC.String() == key
	}
	if ep.IP.IsValid() {
		return ep.IP.String() == key
	}
	for _, m := range macs {
		if !ep.MAC.IsZero() && ep.MAC.String() == m {
			return true
		}
	}
	return false
}
