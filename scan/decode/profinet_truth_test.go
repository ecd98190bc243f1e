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
	"strings"
	"testing"

	"otscope/model"
	"otscope/scan/capture"
)

// The profinet-bacnet truth check: every capture whose tshark truth has a
// field of testdata/truthmap/profinet-bacnet.tsv is decoded, and each
// tshark value must be a fact of the mapped field on the device: by IP or
// MAC for plain keys, by router address and Sub for "<addr>|bacnet-net..."
// keys.

type pbRow struct{ tshark, ours, match, note string }

func pbReadMap(t *testing.T, path string) map[string]pbRow {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	rows := map[string]pbRow{}
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
		case "exact", "ci", "enum", "num", "contains":
		case "skip":
			if len(p[3]) < 20 {
				t.Fatalf("truthmap: skip of %s needs a reason", p[0])
			}
		default:
			t.Fatalf("truthmap: bad match %q", p[2])
		}
		rows[p[0]] = pbRow{p[0], p[1], p[2], p[3]}
	}
	return rows
}

var pbEnum = regexp.MustCompile(`^(.*) \((0x[0-9a-fA-F]+|\d+)\)$`)

func pbNum(s string) (*big.Int, bool) {
	s = strings.TrimSpace(s)
	n := new(big.Int)
	if h, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		return n.SetString(h, 16)
	}
	return n.SetString(s, 10)
}

func pbMatch(match, want, got string) bool {
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
		a, ok1 := pbNum(want)
		b, ok2 := pbNum(got)
		return ok1 && ok2 && a.Cmp(b) == 0
	case "enum":
		if m := pbEnum.FindStringSubmatch(want); m != nil {
			if strings.EqualFold(m[1], got) {
				return true
			}
			a, ok1 := pbNum(m[2])
			b, ok2 := pbNum(got)
			return ok1 && ok2 && a.Cmp(b) == 0
		}
		return strings.EqualFold(want, got)
	}
	return false
}

type pbTruth struct {
	File    string `json:"file"`
	Devices map[string]struct {
		MAC      []string            `json:"mac"`
		IP       []string            `json:"ip"`
		Identity map[string][]string `json:"identity"`
	} `json:"devices"`
}

// pbDecodeFile runs a capture through a Decoder and returns its facts.
func pbDecodeFile(t testing.TB, path string) []model.Observation {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		t.Logf("%s: %v", path, err)
		return nil
	}
	defer src.Close()
	d := New(Options{Origin: path})
	var out []model.Observation
	keep := func(b model.Batch) {
		for _, o := range b.Obs {
			if o.Kind == model.ObsFact {
				out = append(out, o)
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
		if d.Pending() > 4096 {
			keep(d.Flush())
		}
	}
	keep(d.Flush())
	return out
}

// pbOn reports whether a fact's subject is the truth device key.
func pbOn(key string, macs []string, s model.Endpoint) bool {
	addr, sub, routed := strings.Cut(key, "|")
	if routed != (s.Sub != "") || (routed && s.Sub != sub) {
		return false
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		if s.IP == ip {
			return true
		}
		if !routed && !s.IP.IsValid() {
			for _, m := range macs {
				if mm, err := model.ParseMAC(m); err == nil && mm == s.MAC {
					return true
				}
			}
		}
		return false
	}
	if m, err := model.ParseMAC(addr); err == nil {
		return s.MAC == m
	}
	return false
}

func TestProfinetBACnetTruth(t *testing.T) {
	root := "../../../shared/pcaps"
	truths, _ := filepath.Glob(filepath.Join(root, "truth", "*", "*.json"))
	if len(truths) == 0 {
		t.Skip("../shared/pcaps not present")
	}
	rows := pbReadMap(t, "../../testdata/truthmap/profinet-bacnet.tsv")
	type tally struct{ want, found int }
	per := map[string]*tally{}
	var misses []string
	for _, tf := range truths {
		raw, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		var tr pbTruth
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
		facts := pbDecodeFile(t, filepath.Join(root, tr.File))
		for key, dev := range tr.Devices {
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
						if o.Fact.Field == r.ours && pbOn(key, dev.MAC, o.Subject) && pbMatch(r.match, want, o.Fact.Value) {
							hit = true
							break
						}
					}
					if hit {
						tl.found++
					} else {
						misses = append(misses, tr.File+" "+key+" "+f+"="+want)
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
		tl := per[f]
		want += tl.want
		found += tl.found
		t.Logf("%-60s %3d/%3d", f, tl.found, tl.want)
	}
	sort.Strings(misses)
	for _, m := range misses {
		t.Logf("miss: %s", m)
	}
	t.Logf("total %d/%d", found, want)
	if want > 0 && found*100 < want*95 {
		t.Errorf("truth coverage %d/%d below 95%%", found, want)
	}
	// per field the floor is 85% (pn_io.cminitiator_station_name needs the
	// flow table to hand the device's answer port to pnExpectParser)
	for _, f := range names {
		if tl := per[f]; tl.found*100 < tl.want*85 {
			t.Errorf("%s: %d/%d below 85%%", f, tl.found, tl.want)
		}
	}
}
