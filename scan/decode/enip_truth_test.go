package decode

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"otscope/model"
	"otscope/scan/capture"
)

// enipTruthRow is one line of a testdata/truthmap file.
type enipTruthRow struct{ tshark, field, match, note string }

func enipReadTruthMap(t *testing.T, path string) map[string]enipTruthRow {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows := map[string]enipTruthRow{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) < 4 {
			t.Fatalf("truthmap line %q: want 4 tab-separated columns", line)
		}
		switch p[2] {
		case "exact", "ci", "enum", "num", "contains", "skip":
		default:
			t.Fatalf("truthmap line %q: unknown match %q", line, p[2])
		}
		rows[p[0]] = enipTruthRow{p[0], p[1], p[2], p[3]}
	}
	return rows
}

var enipEnumRE = regexp.MustCompile(`^(.*) \((0x[0-9a-fA-F]+|[0-9]+)\)$`)

func enipParseNum(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		v, err := strconv.ParseUint(s[2:], 16, 64)
		return v, err == nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	return v, err == nil
}

// enipTruthMatch applies a truthmap match rule to a tshark value and one of ours.
func enipTruthMatch(match, want, got string) bool {
	want, got = strings.TrimSpace(want), strings.TrimSpace(got)
	switch match {
	case "exact":
		return want == got
	case "ci":
		return strings.EqualFold(want, got)
	case "num":
		a, ok1 := enipParseNum(want)
		b, ok2 := enipParseNum(got)
		return ok1 && ok2 && a == b
	case "contains":
		return want != "" && got != "" && (strings.Contains(got, want) || strings.Contains(want, got))
	case "enum":
		m := enipEnumRE.FindStringSubmatch(want)
		if m == nil {
			return strings.EqualFold(want, got)
		}
		a, ok1 := enipParseNum(m[2])
		b, ok2 := enipParseNum(got)
		return (ok1 && ok2 && a == b) || strings.EqualFold(m[1], got)
	}
	return false
}

type enipTruthFile struct {
	File    string `json:"file"`
	Devices map[string]struct {
		MAC      []string            `json:"mac"`
		IP       []string            `json:"ip"`
		Identity map[string][]string `json:"identity"`
	} `json:"devices"`
}

// enipDecodeCapture runs a capture through a Decoder and returns its facts.
func enipDecodeCapture(t *testing.T, path string) []model.Observation {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	defer src.Close()
	d := New(Options{Origin: path})
	var facts []model.Observation
	keep := func() {
		for _, o := range d.Flush().Obs {
			if o.Kind == model.ObsFact {
				facts = append(facts, o)
			}
		}
	}
	for n := uint64(1); ; n++ {
		data, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			var te *capture.TruncatedError
			if errors.Is(err, io.EOF) || errors.As(err, &te) {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		d.Decode(data, ci, src.LinkType(), n)
		if n%4096 == 0 {
			keep()
		}
	}
	keep()
	return facts
}

// TestENIPModbusTruth checks every identity value tshark decodes for the
// EtherNet/IP, CIP and Modbus captures against our facts, device by device.
func TestENIPModbusTruth(t *testing.T) {
	root := "../../../shared/pcaps"
	truths, _ := filepath.Glob(filepath.Join(root, "truth", "*", "*.json"))
	if len(truths) == 0 {
		t.Skip("../shared/pcaps not present")
	}
	rows := enipReadTruthMap(t, "../../testdata/truthmap/enip-modbus.tsv")
	type tally struct{ want, found int }
	perField := map[string]*tally{}
	var misses []string
	for _, tf := range truths {
		raw, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		var tr enipTruthFile
		if err := json.Unmarshal(raw, &tr); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
		relevant := false
		for _, dev := range tr.Devices {
			for f := range dev.Identity {
				if _, ok := rows[f]; ok {
					relevant = true
				}
			}
		}
		if !relevant {
			continue
		}
		facts := enipDecodeCapture(t, filepath.Join(root, tr.File))
		for key, dev := range tr.Devices {
			keyIP := key
			if i := strings.IndexByte(key, '|'); i >= 0 {
				keyIP = key[:i]
			}
			for tfield, values := range dev.Identity {
				row, ok := rows[tfield]
				if !ok || row.match == "skip" {
					continue
				}
				tl := perField[tfield]
				if tl == nil {
					tl = &tally{}
					perField[tfield] = tl
				}
				for _, want := range values {
					tl.want++
					hit := false
					for i := range facts {
						o := &facts[i]
						if o.Fact.Field != row.field {
							continue
						}
						if o.Subject.IP.String() != keyIP && o.Subject.MAC.String() != keyIP {
							continue
						}
						if enipTruthMatch(row.match, want, o.Fact.Value) {
							hit = true
							break
						}
					}
					if hit {
						tl.found++
					} else {
						misses = append(misses, tr.File+" "+key+" "+tfield+"="+want)
					}
				}
			}
		}
	}
	var names []string
	total, found := 0, 0
	for f, tl := range perField {
		names = append(names, f)
		total += tl.want
		found += tl.found
	}
	sort.Strings(names)
	for _, f := range names {
		t.Logf("%-45s expected %3d found %3d", f, perField[f].want, perField[f].found)
	}
	for _, m := range misses {
		t.Logf("missing: %s", m)
	}
	if total == 0 {
		t.Skip("no EtherNet/IP or Modbus identity in the truth files")
	}
	t.Logf("total: expected %d found %d", total, found)
	if found*100 < total*95 {
		t.Errorf("coverage %d/%d below 95%%", found, total)
	}
}
