package lifecycle

import (
	"bytes"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"otscope/model"
)

// checkParsed holds for every parser result: each entry compiles, has the
// file name and a line; each problem has the file name and a reason.
func checkParsed(t *testing.T, name string, es []Entry, ps []Problem) {
	t.Helper()
	for i := range es {
		if _, err := compile(&es[i]); err != nil {
			t.Fatalf("entry %d returned although invalid: %v", i, err)
		}
		if es[i].Catalog != name || es[i].Line <= 0 {
			t.Fatalf("entry %d: catalog %q line %d", i, es[i].Catalog, es[i].Line)
		}
	}
	for _, p := range ps {
		if p.File != name || p.Reason == "" || p.Line < 0 {
			t.Fatalf("problem %+v", p)
		}
	}
	if len(ps) > maxProblems+1 {
		t.Fatalf("%d problems", len(ps))
	}
	// whatever was imported builds and matches without trouble
	c, _ := Build(Set{Name: name, Entries: es})
	for _, e := range es[:min(len(es), 5)] {
		a := asset("fuzz", fact("vendor", e.Vendor, "x"), fact("product", e.Family, "x"),
			fact("order_number", e.Family, "x"), fact("os", e.Family, "x"), fact("firmware", e.Family, "x"))
		c.Match(a)
	}
}

func FuzzParseYAML(f *testing.F) {
	// the head of the built-in catalog (the whole file is tested elsewhere;
	// a small seed keeps minimisation fast)
	head, _, _ := bytes.Cut(defaultYAML, []byte("  - id: siemens-s7-300-modules"))
	f.Add(head)
	f.Add([]byte(userYAML))
	f.Add([]byte("- {id: a, vendor: V, family: F, order_prefix: AB, phase: active, source: s, as_of: 2025}\n"))
	f.Add([]byte("entries: &a [*a]\n"))
	f.Add([]byte(hostileCatalog(2)))
	f.Add([]byte("entries:\n  - id: x\n    order_prefix: [[1], {a: b}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, ps := ParseYAML("f.yaml", data)
		checkParsed(t, "f.yaml", es, ps)
	})
}

func FuzzParseCSV(f *testing.F) {
	var def bytes.Buffer
	des, _ := DefaultEntries()
	if err := WriteCSV(&def, des[:8]); err != nil {
		f.Fatal(err)
	}
	f.Add(def.Bytes())
	f.Add([]byte(userCSV))
	f.Add([]byte("\xef\xbb\xbfid;vendor;family;phase;source;as_of;order_prefix\na;V;F;active;s;2025;AB|CD\n"))
	f.Add([]byte("vendor,family,phase,source\n\"a\"\"b,c\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, ps := ParseCSV("f.csv", data)
		checkParsed(t, "f.csv", es, ps)
		// what was imported survives an export and re-import unchanged
		var buf bytes.Buffer
		if err := WriteCSV(&buf, es); err != nil {
			t.Fatal(err)
		}
		back, bps := ParseCSV("f.csv", buf.Bytes())
		if len(bps) > 0 || len(back) != len(es) {
			t.Fatalf("re-import: %d of %d entries, problems %v\n%s", len(back), len(es), bps, buf.String())
		}
		for i := range es {
			a, b := es[i], back[i]
			a.Line, b.Line = 0, 0
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("entry %d changed:\n%+v\n%+v\n%s", i, a, b, strings.TrimSpace(buf.String()))
			}
		}
	})
}

// FuzzPrefilter checks that a prefilter never rejects a value its regexp
// matches.
func FuzzPrefilter(f *testing.F) {
	es, _ := DefaultEntries()
	for _, e := range es {
		for _, p := range []string{e.ProductPattern, e.OSPattern, e.FirmwarePattern} {
			if p != "" {
				f.Add("(?i)"+p, e.Family)
			}
		}
	}
	f.Add("(?i)windows 7", "WINDOWS 7")
	f.Add("(?i)s", "ſ")
	f.Add("(?i)k", "\u212a")
	f.Fuzz(func(t *testing.T, pattern, val string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		v := newValue("f", val, model.Source{})
		if re.MatchString(val) && !newPrefilter(re.String()).mayMatch(v.lower, v.ascii) {
			t.Fatalf("prefilter of %q rejects %q, which matches", pattern, val)
		}
	})
}
