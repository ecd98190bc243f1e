package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"otscope/model"
)

// The identity check compares, device by device, each identity value tshark
// decodes from the public captures (../shared/pcaps/truth) with the facts on
// the matching asset. testdata/truthmap/*.tsv say which fact holds each
// tshark field and how values compare; rows marked skip give their reason.

// Coverage floors (the acceptance: 95% overall, no protocol below 85%).
const (
	identityFloorOverall  = 0.95
	identityFloorProtocol = 0.85
)

type mapRow struct{ ours, match, note string }

type protoScore struct {
	devices           map[string]bool
	expected, found   int
	skipped, unmapped int
	misses            []string
}

type identityCheck struct {
	rows   map[string]mapRow
	scores map[string]*protoScore
}

func newIdentityCheck(t *testing.T) *identityCheck {
	ic := &identityCheck{rows: map[string]mapRow{}, scores: map[string]*protoScore{}}
	files, _ := filepath.Glob("testdata/truthmap/*.tsv")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for n := 1; sc.Scan(); n++ {
			line := sc.Text()
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				continue
			}
			cols := strings.Split(line, "\t")
			if len(cols) < 3 {
				t.Errorf("%s:%d: want tshark_field<TAB>fact_field<TAB>match[<TAB>note]", f, n)
				continue
			}
			r := mapRow{ours: cols[1], match: cols[2]}
			if len(cols) > 3 {
				r.note = cols[3]
			}
			if !slices.Contains([]string{"exact", "ci", "enum", "num", "contains", "skip"}, r.match) {
				t.Errorf("%s:%d: unknown match %q", f, n, r.match)
			}
			if r.match == "skip" && strings.TrimSpace(r.note) == "" {
				t.Errorf("%s:%d: a skip needs its reason", f, n)
			}
			ic.rows[cols[0]] = r
		}
		fh.Close()
	}
	return ic
}

// protocolOf groups a tshark field by protocol for the report.
func protocolOf(field string) string {
	f := field
	if i := strings.LastIndex(f, ":"); i >= 0 {
		f = f[i+1:]
	}
	p, _, _ := strings.Cut(f, ".")
	switch p {
	case "cip", "enip":
		return "enip/cip"
	case "mbtcp", "modbus":
		return "modbus"
	case "bacapp":
		return "bacnet"
	case "pn_dcp", "pn_io":
		return "profinet"
	case "iec60870_asdu":
		return "iec104"
	case "smb", "ntlmssp":
		return "smb/ntlmssp"
	case "nbns", "browser":
		return "netbios"
	case "s7comm-plus":
		return "s7comm-plus"
	}
	return p
}

var enumRe = regexp.MustCompile(`^(.*) \((0x[0-9a-fA-F]+|[0-9]+)\)$`)

func parseNum(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if v, err := strconv.ParseUint(s, 0, 64); err == nil {
		return v, true
	}
	return 0, false
}

func matches(match, truth, ours string) bool {
	// multi-line values (CDP software version, LLDP descriptions) are kept on
	// one line with " / " between the lines
	truth = strings.Join(strings.FieldsFunc(truth, func(r rune) bool { return r == '\n' || r == '\r' }), " / ")
	truth, ours = strings.TrimSpace(truth), strings.TrimSpace(ours)
	switch match {
	case "exact":
		return truth == ours
	case "ci":
		return strings.EqualFold(truth, ours)
	case "contains":
		lt, lo := strings.ToLower(truth), strings.ToLower(ours)
		return lo != "" && (strings.Contains(lt, lo) || strings.Contains(lo, lt))
	case "num":
		a, ok1 := parseNum(truth)
		b, ok2 := parseNum(ours)
		return ok1 && ok2 && a == b
	case "enum":
		if m := enumRe.FindStringSubmatch(truth); m != nil {
			if strings.EqualFold(m[1], ours) {
				return true
			}
			a, ok1 := parseNum(m[2])
			b, ok2 := parseNum(ours)
			return ok1 && ok2 && a == b
		}
		if a, ok := parseNum(truth); ok {
			b, ok2 := parseNum(ours)
			return ok2 && a == b
		}
		return strings.EqualFold(truth, ours)
	}
	return false
}

// candidates are the assets a truth device key names.
func candidates(key string, macs, ips []string, as []model.Asset) []*model.Asset {
	var out []*model.Asset
	if base, sub, ok := strings.Cut(key, "|"); ok {
		for i := range as {
			if strings.HasPrefix(string(as[i].ID), "sub:") && strings.HasSuffix(string(as[i].ID), "|"+sub) &&
				strings.Contains(string(as[i].ID), base) {
				out = append(out, &as[i])
			}
		}
		return out
	}
	if strings.HasPrefix(key, "mstp:") {
		for i := range as {
			if strings.HasSuffix(string(as[i].ID), "|"+key) {
				out = append(out, &as[i])
			}
		}
		return out
	}
	for i := range as {
		a := &as[i]
		hit := false
		for _, ip := range a.IPs {
			hit = hit || ip.String() == key || slices.Contains(ips, ip.String())
		}
		for _, m := range a.MACs {
			hit = hit || m.String() == key || (len(ips) == 0 && slices.Contains(macs, m.String()))
		}
		if hit {
			out = append(out, a)
		}
	}
	return out
}

func (ic *identityCheck) check(t *testing.T, truth truthFile, as []model.Asset) {
	keys := make([]string, 0, len(truth.Devices))
	for k := range truth.Devices {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		dev := truth.Devices[key]
		cands := candidates(key, dev.MAC, dev.IP, as)
		for field, vals := range dev.Identity {
			proto := protocolOf(field)
			sc := ic.scores[proto]
			if sc == nil {
				sc = &protoScore{devices: map[string]bool{}}
				ic.scores[proto] = sc
			}
			sc.devices[truth.File+" "+key] = true
			row, ok := ic.rows[field]
			for _, v := range vals {
				switch {
				case !ok:
					sc.expected++
					sc.unmapped++
					sc.misses = append(sc.misses, fmt.Sprintf("%s %s: %s=%q (no truthmap row)", truth.File, key, field, v))
					continue
				case row.match == "skip":
					sc.skipped++
					continue
				}
				sc.expected++
				hit := false
				for _, a := range cands {
					for _, f := range a.Facts {
						if f.Field == row.ours && matches(row.match, v, f.Value) {
							hit = true
						}
					}
				}
				if hit {
					sc.found++
				} else {
					sc.misses = append(sc.misses, fmt.Sprintf("%s %s: %s=%q not in %s (%d candidate assets)", truth.File, key, field, v, row.ours, len(cands)))
				}
			}
		}
	}
}

func (ic *identityCheck) report(t *testing.T) {
	protos := make([]string, 0, len(ic.scores))
	for p := range ic.scores {
		protos = append(protos, p)
	}
	sort.Strings(protos)
	var exp, found int
	var b strings.Builder
	fmt.Fprintf(&b, "identity values tshark decodes, found on the matching asset:\n%-14s %8s %9s %7s %7s %8s %9s\n", "protocol", "devices", "expected", "found", "%", "skipped", "unmapped")
	for _, p := range protos {
		s := ic.scores[p]
		exp += s.expected
		found += s.found
		fmt.Fprintf(&b, "%-14s %8d %9d %7d %6.1f%% %8d %9d\n", p, len(s.devices), s.expected, s.found, pct(s.found, s.expected), s.skipped, s.unmapped)
	}
	fmt.Fprintf(&b, "%-14s %8s %9d %7d %6.1f%%\n", "TOTAL", "", exp, found, pct(found, exp))
	t.Log(b.String())
	for _, p := range protos {
		s := ic.scores[p]
		for i, m := range s.misses {
			if i >= 8 {
				t.Logf("  %s: ... %d more misses", p, len(s.misses)-i)
				break
			}
			t.Logf("  miss %s", m)
		}
	}
	if os.Getenv("OTSCOPE_IDENTITY_REPORT_ONLY") != "" {
		return
	}
	if exp > 0 && pct(found, exp) < identityFloorOverall*100 {
		t.Errorf("identity coverage %.1f%% is below the %.0f%% floor", pct(found, exp), identityFloorOverall*100)
	}
	for _, p := range protos {
		if s := ic.scores[p]; s.expected > 0 && pct(s.found, s.expected) < identityFloorProtocol*100 {
			t.Errorf("%s: identity coverage %.1f%% is below the %.0f%% floor", p, pct(s.found, s.expected), identityFloorProtocol*100)
		}
	}
}

func pct(a, b int) float64 {
	if b == 0 {
		return 100
	}
	return 100 * float64(a) / float64(b)
}
