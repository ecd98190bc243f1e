package decode

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"net/netip"
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

// The it-hosts truth check: every capture whose tshark truth has a field of
// testdata/truthmap/it-hosts.tsv is decoded, and each tshark value must be
// a fact of the mapped field on the device (by IP for IP keys, by MAC for
// MAC keys).

type ithRow struct{ tshark, ours, match, note string }

func ithReadMap(t *testing.T, path string) map[string]ithRow {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows := map[string]ithRow{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		p := strings.Split(line, "\t")
		if len(p) != 4 {
			t.Fatalf("truthmap row has %d columns: %q", len(p), line)
		}
		switch p[2] {
		case "exact", "ci", "enum", "num", "contains", "skip":
		default:
			t.Fatalf("truthmap: bad match %q", p[2])
		}
		if p[2] == "skip" && len(p[3]) < 20 {
			t.Fatalf("truthmap: skip of %s needs a reason", p[0])
		}
		rows[p[0]] = ithRow{p[0], p[1], p[2], p[3]}
	}
	return rows
}

var ithEnum = regexp.MustCompile(`^(.*) \((0x[0-9a-fA-F]+|\d+)\)$`)

func ithNum(s string) (*big.Int, bool) {
	s = strings.TrimSpace(s)
	n := new(big.Int)
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		return n.SetString(h, 16)
	}
	return n.SetString(s, 10)
}

// ithMatch reports whether our value satisfies tshark's under match.
func ithMatch(match, want, got string) bool {
	want, got = strings.TrimSpace(want), strings.TrimSpace(got)
	switch match {
	case "exact":
		return want == got
	case "ci":
		return strings.EqualFold(want, got)
	case "contains":
		w, g := strings.ToLower(want), strings.ToLower(got)
		return g != "" && (strings.Contains(w, g) || strings.Contains(g, w))
	case "num":
		a, ok1 := ithNum(want)
		b, ok2 := ithNum(got)
		return ok1 && ok2 && a.Cmp(b) == 0
	case "enum":
		if m := ithEnum.FindStringSubmatch(want); m != nil {
			if strings.EqualFold(m[1], got) {
				return true
			}
			a, ok1 := ithNum(m[2])
			b, ok2 := ithNum(got)
			return ok1 && ok2 && a.Cmp(b) == 0
		}
		return strings.EqualFold(want, got)
	}
	return false
}

type ithTruth struct {
	File    string `json:"file"`
	Devices map[string]struct {
		MAC      []string            `json:"mac"`
		IP       []string            `json:"ip"`
		Identity map[string][]string `json:"identity"`
	} `json:"devices"`
}

// ithDecodeFile runs a capture through a Decoder and returns its facts.
func ithDecodeFile(t *testing.T, path string) []model.Observation {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		t.Logf("%s: %v", path, err)
		return nil
	}
	defer src.Close()
	d := New(Options{Origin: path})
	var out []model.Observation
	for {
		data, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Logf("%s: %v", path, err)
			}
			break
		}
		d.Decode(data, ci, src.LinkType(), src.Frame())
		if d.Pending() > 4096 {
			for _, o := range d.Flush().Obs {
				if o.Kind == model.ObsFact {
					out = append(out, o)
				}
			}
		}
	}
	for _, o := range d.Flush().Obs {
		if o.Kind == model.ObsFact {
			out = append(out, o)
		}
	}
	return out
}

func TestITHostsTruth(t *testing.T) {
	root := "../../../shared/pcaps"
	truths, _ := filepath.Glob(filepath.Join(root, "truth", "*", "*.json"))
	if len(truths) == 0 {
		t.Skip("../shared/pcaps not present")
	}
	rows := ithReadMap(t, "../../testdata/truthmap/it-hosts.tsv")
	type tally struct{ want, found int }
	per := map[string]*tally{}
	var misses []string
	for _, tf := range truths {
		raw, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		var tr ithTruth
		if err := json.Unmarshal(raw, &tr); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
		relevant := false
		for _, dev := range tr.Devices {
			for f := range dev.Identity {
				if r, ok := rows[f]; ok && r.match != "skip" {
					relevant = true
				}
			}
		}
		if !relevant {
			continue
		}
		facts := ithDecodeFile(t, filepath.Join(root, tr.File))
		for key, dev := range tr.Devices {
			keyIP, ipErr := netip.ParseAddr(key)
			isIP := ipErr == nil
			keyMAC, macErr := model.ParseMAC(key)
			for f, vals := range dev.Identity {
				r, ok := rows[f]
				if !ok || r.match == "skip" {
					continue
				}
				for _, want := range vals {
					tl := per[f]
					if tl == nil {
						tl = &tally{}
						per[f] = tl
					}
					tl.want++
					hit := false
					for _, o := range facts {
						if o.Fact.Field != r.ours {
							continue
						}
						s := o.Subject
						on := (isIP && s.IP == keyIP) || (macErr == nil && s.MAC == keyMAC)
						if isIP && !s.IP.IsValid() {
							for _, m := range dev.MAC {
								if mm, err := model.ParseMAC(m); err == nil && mm == s.MAC {
									on = true
								}
							}
						}
						if on && ithMatch(r.match, want, o.Fact.Value) {
							hit = true
							break
						}
					}
					if hit {
						tl.found++
					} else {
						misses = append(misses, tr.File+" "+key+" "+f+" = "+strconv.Quote(want))
					}
				}
			}
		}
	}
	var names []string
	for f := range per {
		names = append(names, f)
	}
	sort.Strings(names)
	want, found := 0, 0
	for _, f := range names {
		t.Logf("%-50s %3d / %3d", f, per[f].found, per[f].want)
		want += per[f].want
		found += per[f].found
	}
	for _, m := range misses {
		t.Logf("missing: %s", m)
	}
	t.Logf("it-hosts truth: %d / %d", found, want)
	if want > 0 && found*100 < want*85 {
		t.Errorf("it-hosts truth coverage %d/%d below 85%%", found, want)
	}
}
