package lifecycle

import (
	"fmt"
	"os"
	"otscope/scan/testenv"
	"path/filepath"
	"regexp/syntax"
	"strings"
	"testing"
	"time"
)

// hostileCatalog is the issue 13 item 6 reproduction: rows whose patterns
// are short (under 800 bytes) but expand to a huge program.
func hostileCatalog(rows int) string {
	alts := make([]string, 100)
	for i := range alts {
		alts[i] = fmt.Sprintf("P%03d", i)
	}
	var b strings.Builder
	b.WriteString("entries:\n")
	for i := range rows {
		fmt.Fprintf(&b, "  - id: big-%d\n    vendor: Acme\n    family: F%d\n    product_pattern: '^(%s){1,1000}$'\n    phase: active\n    source: s\n    as_of: 2025-01\n",
			i, i, strings.Join(alts, "|"))
	}
	return b.String()
}

// A catalog of patterns that expand to millions of instructions is refused
// row by row, quickly and in little memory, each row named (issue 13 item 6).
func TestHostilePatternsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "hostile.yaml")
	if err := os.WriteFile(path, []byte(hostileCatalog(400)), 0o600); err != nil {
		t.Fatal(err)
	}
	start := testenv.CPUTime()
	c, probs := Load(path)
	if d := testenv.CPUTime() - start; d > testenv.CPUBudget(2*time.Second) {
		t.Errorf("loading took %v of CPU time", d)
	}
	def, _ := DefaultEntries()
	if c.Len() != len(def) {
		t.Errorf("%d entries, want the %d built-in ones only", c.Len(), len(def))
	}
	n := 0
	for _, p := range probs {
		if strings.Contains(p.Reason, "repetition count 1000 is more than 100") && strings.Contains(p.Reason, `"big-`) && p.Line > 0 {
			n++
		}
	}
	if n < maxProblems {
		t.Errorf("%d rows refused with their name, want at least %d: %v", n, maxProblems, probs[:min(3, len(probs))])
	}
}

func TestPatternBounds(t *testing.T) {
	e := func(pat string) Entry {
		return Entry{ID: "x", Vendor: "V", Family: "F", ProductPattern: pat, Source: "s", AsOf: Date{2025, 1, 0}}
	}
	for pat, want := range map[string]string{
		"^RTU-5\\d":                          "",
		"^(ab){1,100}$":                      "",
		"^(ab){1,101}$":                      "repetition count 101",
		"^(x[0-9]{1,9}y){1,90}$":             "more than 2000 regexp instructions",
		"(a{1,10}b{1,10}c{1,10}){1,50}":      "more than 2000 regexp instructions",
		strings.Repeat("a", maxPatternLen+1): "longer than",
	} {
		en := e(pat)
		_, err := compile(&en)
		switch {
		case want == "" && err != nil:
			t.Errorf("%.40q: %v", pat, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("%.40q: error %v, want %q", pat, err, want)
		}
	}
}

// The patterns of one catalog together stay under maxCatalogSize: the rows
// past it are skipped and named, the others kept.
func TestCatalogPatternBudget(t *testing.T) {
	var es []Entry
	for i := range 60 {
		es = append(es, Entry{ID: fmt.Sprintf("e%d", i), Vendor: "V", Family: fmt.Sprintf("F%d", i), ProductPattern: "^(x[0-9]{1,9}y){1,60}$", // about 1,600 instructions
			Source: "s", AsOf: Date{2025, 1, 0}, Line: i + 1})
	}
	c, probs := Build(Set{Name: "user.yaml", Entries: es})
	if c.Len() == 0 || c.Len() == len(es) || len(probs) != len(es)-c.Len() {
		t.Fatalf("%d kept, %d problems of %d entries", c.Len(), len(probs), len(es))
	}
	total := 0
	for _, r := range c.rules {
		total += r.size
	}
	if total > maxCatalogSize {
		t.Errorf("kept patterns total %d instructions", total)
	}
	if p := probs[0]; p.File != "user.yaml" || !strings.Contains(p.Reason, fmt.Sprintf("%q skipped", es[c.Len()].ID)) {
		t.Errorf("problem %+v", p)
	}
}

// patternSize never underestimates what regexp/syntax compiles (so the
// bound is a real bound).
func FuzzPatternSize(f *testing.F) {
	for _, s := range []string{"^RTU-5\\d", "(a|b){3,7}", "(?i)x{0,5}y*", "((a{2}){3}){4}", "[a-z]+\\b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 200 {
			return
		}
		re, err := syntax.Parse(src, syntax.Perl)
		if err != nil || maxRepeatOf(re) > maxRepeat {
			return
		}
		est := patternSize(re, maxPatternSize)
		prog, err := syntax.Compile(re.Simplify())
		if err != nil {
			return
		}
		if est <= maxPatternSize && len(prog.Inst) > est+2 {
			t.Fatalf("%q: estimate %d, program %d", src, est, len(prog.Inst))
		}
	})
}
