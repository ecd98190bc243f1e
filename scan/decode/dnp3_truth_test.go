package decode

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"otscope/model"
	"otscope/scan/capture"
)

// Truth check for the "scada-other" group (DNP3, IEC 104, OPC UA, FINS,
// ADS, HART-IP): every capture whose tshark truth holds a field of
// testdata/truthmap/scada-other.tsv is decoded, and each truth value must be
// a fact (of the mapped field, matched as the row says) whose subject is the
// truth device's IP (or MAC).

type truthRow struct{ field, ours, match string }

func readTruthMap(t *testing.T, path string) map[string]truthRow {
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	out := map[string]truthRow{}
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 4 {
			t.Fatalf("truthmap line %q: want 4 tab-separated columns", line)
		}
		out[f[0]] = truthRow{f[0], f[1], f[2]}
	}
	return out
}

type truthFile struct {
	File    string `json:"file"`
	Devices map[string]struct {
		MAC      []string            `json:"mac"`
		IP       []string            `json:"ip"`
		Identity map[string][]string `json:"identity"`
	} `json:"devices"`
}

// decodeCaptureFacts decodes a capture file and returns its fact observations.
func decodeCaptureFacts(t *testing.T, path string) []model.Observation {
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
	for n := 0; ; n++ {
		data, ci, err := src.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var te *capture.TruncatedError
			if errors.As(err, &te) {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		d.Decode(data, ci, src.LinkType(), src.Frame())
		if n%4096 == 4095 {
			keep(d.Flush())
		}
	}
	keep(d.Flush())
	return facts
}

func truthMatch(match, want, got string) bool {
	want, got = strings.TrimSpace(want), strings.TrimSpace(got)
	switch match {
	case "exact":
		return want == got
	case "ci":
		return strings.EqualFold(want, got)
	case "contains":
		return strings.Contains(got, want) || strings.Contains(want, got)
	case "num":
		return truthNum(want) == truthNum(got) && truthNum(want) >= 0
	case "enum":
		name, num := want, ""
		if i := strings.LastIndex(want, " ("); i >= 0 && strings.HasSuffix(want, ")") {
			name, num = want[:i], want[i+2:len(want)-1]
		}
		if strings.EqualFold(name, got) {
			return true
		}
		return num != "" && truthNum(num) >= 0 && truthNum(num) == truthNum(got)
	}
	return false
}

func truthNum(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 0, 64)
	if err != nil {
		return -1
	}
	return n
}

func TestSCADAOtherTruth(t *testing.T) {
	root := "../../../shared/pcaps"
	files, _ := filepath.Glob(root + "/truth/*/*.json")
	if len(files) == 0 {
		t.Skip("../shared/pcaps not present")
	}
	rows := readTruthMap(t, "../../testdata/truthmap/scada-other.tsv")
	type tally struct{ want, found int }
	per := map[string]*tally{}
	for _, tf := range files {
		raw, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		var truth truthFile
		if err := json.Unmarshal(raw, &truth); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
		relevant := false
		for _, dev := range truth.Devices {
			for f := range dev.Identity {
				if r, ok := rows[f]; ok && r.match != "skip" {
					relevant = true
				}
			}
		}
		if !relevant {
			continue
		}
		facts := decodeCaptureFacts(t, filepath.Join(root, truth.File))
		for key, dev := range truth.Devices {
			ip, ipErr := netip.ParseAddr(key)
			mac, _ := model.ParseMAC(key)
			for f, vals := range dev.Identity {
				r, ok := rows[f]
				if !ok || r.match == "skip" {
					continue
				}
				if per[f] == nil {
					per[f] = &tally{}
				}
				for _, v := range vals {
					per[f].want++
					hit := false
					for _, o := range facts {
						if o.Fact.Field != r.ours || o.Subject.Sub != "" {
							continue
						}
						if ipErr == nil && o.Subject.IP != ip || ipErr != nil && o.Subject.MAC != mac {
							continue
						}
						if truthMatch(r.match, v, o.Fact.Value) {
							hit = true
							break
						}
					}
					if hit {
						per[f].found++
					} else {
						t.Errorf("%s: %s: %s = %q not found as %s", truth.File, key, f, v, r.ours)
					}
				}
			}
		}
	}
	for f, c := range per {
		t.Logf("%-28s expected %3d found %3d", f, c.want, c.found)
	}
}
