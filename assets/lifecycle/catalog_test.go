package lifecycle

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"otscope/model"
)

func TestDefaultCatalogIsSound(t *testing.T) {
	c := defaultCatalog(t)
	if c.Len() < 80 {
		t.Fatalf("default catalog has %d entries", c.Len())
	}
	vendors := map[string]int{}
	for _, e := range c.Entries() {
		vendors[e.Vendor]++
		if e.Catalog != DefaultName || e.Line == 0 || e.ID == "" {
			t.Errorf("%s: catalog %q line %d", e.ID, e.Catalog, e.Line)
		}
		// the catalog's phase must agree with its own dates at its as-of date
		if got := e.PhaseAt(e.AsOf.End().Add(-1)); got != e.Phase {
			t.Errorf("%s: phase %s, but its dates make it %s as of %s", e.ID, e.Phase, got, e.AsOf)
		}
		// a product past active without an end-of-support date must say why
		if e.Phase >= Mature && e.EndOfSupport.IsZero() && len(e.Notes) < 20 {
			t.Errorf("%s: %s without end of support needs notes saying why the date is empty", e.ID, e.Phase)
		}
	}
	for _, v := range []string{"Siemens", "Rockwell Automation", "Schneider Electric", "ABB", "Emerson (GE)",
		"Mitsubishi Electric", "Omron", "Beckhoff", "WAGO", "Moxa", "Hirschmann", "Microsoft", "Cisco", "Fortinet"} {
		if vendors[v] == 0 {
			t.Errorf("no entries for %s", v)
		}
	}
}

const userYAML = `name: plant overrides
as_of: 2026-03
entries:
  # replaces the built-in S7-300 CPU entry
  - id: siemens-s7-300-cpu
    vendor: Siemens
    family: S7-300 CPU (plant spares policy)
    order_prefix: [6ES7 31]
    phase: discontinued
    vendor_term: no spares left in the plant store
    source: plant maintenance list 2026
  - id: acme-rtu
    vendor: Acme
    family: Acme RTU 5
    product_pattern: '^RTU-5\d'
    phase: eol
    end_of_sale: 2024-06
    source: Acme letter 2024-03
    notes: last-time buy placed
  - id: bad-phase
    vendor: Acme
    family: Broken
    product_pattern: x
    phase: ancient
    source: s
  - id: bad-date
    vendor: Acme
    family: Broken 2
    order_prefix: AC-
    phase: active
    end_of_support: 31.12.2030
    source: s
  - vendor: Acme
    family: no rule
    phase: active
    source: s
  - id: bad-regexp
    vendor: Acme
    family: Broken 3
    product_pattern: '(unclosed'
    phase: active
    source: s
  - id: typo
    vendor: Acme
    family: Broken 4
    order_prefix: AC-
    phase: active
    end_of_suport: 2030
    source: s
  - just a string
`

const userCSV = "id,vendor,family,order_prefix,phase,vendor_term,end_of_support,source,as_of,notes\n" +
	"rockwell-controllogix-l7x,Rockwell Automation,ControlLogix 5570 (site),1756-L7,end-of-life,End of Life,2029,Rockwell notice PN-XYZ,2026-05,site-specific\n" +
	"wago-750-881,WAGO,750-881 controller,750-881,discontinued,,,WAGO letter,2025,replace with PFC200\n" +
	"short-row,WAGO\n" +
	"no-source,WAGO,x,750-1,active,,,,2025,\n" +
	"\"unterminated,WAGO,y,750-2,active,,,s,2025,\n"

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadUserCatalogsOverride(t *testing.T) {
	yp := writeFile(t, "plant.yaml", userYAML)
	cp := writeFile(t, "usb.csv", userCSV)
	c, probs := Load(yp, cp)

	// problems: file:line and reason, the good entries imported
	want := []struct {
		file string
		line int
		has  string
	}{
		{yp, 20, `entry "bad-phase" skipped: line 24: phase: unknown phase "ancient"`},
		{yp, 26, `entry "bad-date" skipped: line 31: end_of_support: bad date "31.12.2030"`},
		{yp, 33, `entry "no rule" skipped: no match rule`},
		{yp, 37, "product_pattern: error parsing regexp: missing closing )"},
		{yp, 43, `line 48: unknown key "end_of_suport"`},
		{yp, 50, "want a mapping"},
		{cp, 4, `entry "short-row" skipped: family is empty`},
		{cp, 5, `entry "no-source" skipped: source is empty`},
		{cp, 6, "row skipped: extraneous or missing \" in quoted-field"},
	}
	if len(probs) != len(want) {
		t.Errorf("%d problems, want %d:", len(probs), len(want))
		for _, p := range probs {
			t.Log(p)
		}
	}
	for i := 0; i < len(want) && i < len(probs); i++ {
		p, w := probs[i], want[i]
		if p.File != w.file || p.Line != w.line || !strings.Contains(p.Reason, w.has) {
			t.Errorf("problem %d = %v; want %s:%d containing %q", i, p, w.file, w.line, w.has)
		}
		if !strings.HasPrefix(p.Error(), w.file+":") {
			t.Errorf("Error() = %q", p.Error())
		}
	}

	def, _ := DefaultEntries()
	if c.Len() != len(def)+2 { // acme-rtu and wago-750-881 are new; two entries replaced
		t.Errorf("%d entries, want %d", c.Len(), len(def)+2)
	}
	s7 := asset("s7", fact(model.FieldOrderNumber, "6ES7 315-2EH14-0AB0", "s7comm"))
	r, _ := c.Match(s7)
	if r.ID != "siemens-s7-300-cpu" || r.Phase != Discontinued || r.Catalog != yp || r.Line != 5 ||
		!strings.HasPrefix(r.Overrides, "default:") || r.AsOf.String() != "2026-03" {
		t.Errorf("YAML override: %s %s catalog %s:%d overrides %q as_of %s", r.ID, r.Phase, r.Catalog, r.Line, r.Overrides, r.AsOf)
	}
	cl := asset("cl", fact(model.FieldVendor, "Rockwell Automation", "enip"), fact(model.FieldOrderNumber, "1756-L73", "enip"))
	r, _ = c.Match(cl)
	if r.ID != "rockwell-controllogix-l7x" || r.Phase != EndOfLife || r.Catalog != cp || r.Line != 2 || r.EndOfSupport.String() != "2029" {
		t.Errorf("CSV override: %s %s %s:%d %s", r.ID, r.Phase, r.Catalog, r.Line, r.EndOfSupport)
	}
	rtu := asset("rtu", fact(model.FieldVendor, "ACME Corp", "dnp3"), fact(model.FieldProduct, "RTU-52", "dnp3"))
	r, _ = c.Match(rtu)
	if r.ID != "acme-rtu" || r.Phase != EndOfLife || r.EndOfSale.String() != "2024-06" || r.AsOf.String() != "2026-03" {
		t.Errorf("user entry: %+v", r)
	}
	w := asset("w", fact(model.FieldOrderNumber, "750-881", "modbus"))
	if r, _ = c.Match(w); r.ID != "wago-750-881" || r.Catalog != cp {
		t.Errorf("CSV entry: %s %s", r.ID, r.Catalog)
	}
}

func TestParseCSVSemicolonAndBOM(t *testing.T) {
	data := "\xef\xbb\xbfID;Vendor;Family;Order-Prefix;Phase;Source;As of;Vendor aliases\n" +
		"# comment line\n" +
		"acme-1;Acme;Acme 1;AC-1|AC-2;Active Mature;Acme list;2025-01-31;Acme Corp|ACME Ltd\n"
	es, ps := ParseCSV("excel.csv", []byte(data))
	if len(ps) > 0 || len(es) != 1 {
		t.Fatalf("entries %v problems %v", es, ps)
	}
	e := es[0]
	if e.Phase != Mature || !reflect.DeepEqual(e.OrderPrefixes, []string{"AC-1", "AC-2"}) ||
		!reflect.DeepEqual(e.VendorAliases, []string{"Acme Corp", "ACME Ltd"}) || e.Line != 3 || e.AsOf.String() != "2025-01-31" {
		t.Errorf("entry %+v", e)
	}
}

func TestParseFileRejects(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.csv")
	if err := os.WriteFile(big, bytes.Repeat([]byte("x"), MaxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(dir, "notes.txt"):         "not a catalog",
		filepath.Join(dir, "gone.yaml"):         "cannot read",
		big:                                     "larger than 8 MiB",
		writeFile(t, "empty.yaml", ""):          "empty catalog",
		writeFile(t, "empty.csv", ""):           "empty catalog",
		writeFile(t, "tabs.yaml", "a:\tb\n\tc"): "not valid YAML",
		writeFile(t, "hdr.csv", "id,family\n"):  "header has no vendor column",
	} {
		es, ps := ParseFile(path)
		if len(es) != 0 || len(ps) == 0 || ps[0].File != path || !strings.Contains(ps[0].Reason, want) {
			t.Errorf("%s: entries %d, problems %v; want %q", filepath.Base(path), len(es), ps, want)
		}
	}
}

func TestBuildDuplicateIDInOneFile(t *testing.T) {
	data := "- {id: a, vendor: V, family: F, order_prefix: AB, phase: active, source: s, as_of: 2025}\n" +
		"- {id: A, vendor: V, family: G, order_prefix: CD, phase: active, source: s, as_of: 2025}\n"
	es, ps := ParseYAML("dup.yaml", []byte(data))
	if len(ps) != 0 || len(es) != 2 {
		t.Fatalf("%v %v", es, ps)
	}
	c, ps := Build(Set{Name: "dup.yaml", Entries: es})
	if c.Len() != 1 || len(ps) != 1 || ps[0].Line != 2 || !strings.Contains(ps[0].Reason, "same id as the entry at line 1") {
		t.Errorf("len %d problems %v", c.Len(), ps)
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	def, _ := DefaultEntries()
	var buf bytes.Buffer
	if err := WriteCSV(&buf, def); err != nil {
		t.Fatal(err)
	}
	back, ps := ParseCSV("export.csv", buf.Bytes())
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	if len(back) != len(def) {
		t.Fatalf("%d entries back, want %d", len(back), len(def))
	}
	for i := range def {
		a, b := def[i], back[i]
		a.Catalog, a.Line, b.Catalog, b.Line = "", 0, "", 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("entry %d differs:\n%+v\n%+v", i, a, b)
		}
	}
}

func TestPhaseAndDateText(t *testing.T) {
	for _, p := range []Phase{Unknown, Active, Mature, EndOfLife, Discontinued} {
		b, err := p.MarshalText()
		var q Phase
		if err != nil || q.UnmarshalText(b) != nil || q != p {
			t.Errorf("%v: %s %v %v", p, b, err, q)
		}
	}
	if _, err := Phase(9).MarshalText(); err == nil {
		t.Error("invalid phase marshalled")
	}
	for in, want := range map[string]Phase{"Phase-Out": Mature, "END OF LIFE": EndOfLife, "active_mature": Mature, "Obsolete": Discontinued} {
		if p, err := ParsePhase(in); err != nil || p != want {
			t.Errorf("ParsePhase(%q) = %v, %v", in, p, err)
		}
	}
	for _, s := range []string{"", "2033", "2025-10", "2020-01-14"} {
		d, err := ParseDate(s)
		if err != nil || d.String() != s {
			t.Errorf("ParseDate(%q) = %v, %v", s, d, err)
		}
	}
	for _, s := range []string{"2020-02-30", "20", "1899", "2020-13", "14.01.2020", "2020-1-14"} {
		if _, err := ParseDate(s); err == nil {
			t.Errorf("ParseDate(%q) accepted", s)
		}
	}
}

func TestParseYAMLStructure(t *testing.T) {
	good := "{id: a, vendor: V, family: F, order_prefix: AB, phase: active, source: s, as_of: 2025}"
	for name, tc := range map[string]struct {
		data    string
		entries int
		line    int
		reason  string
	}{
		"bare list":             {"- " + good + "\n", 1, 0, ""},
		"entries not a list":    {"entries: {a: b}\n", 0, 1, "entries: want a list"},
		"no entries":            {"name: x\n", 0, 1, "no entries list"},
		"scalar document":       {"hello\n", 0, 1, "want a mapping with entries"},
		"unknown top-level key": {"entires: []\nentries:\n  - " + good + "\n", 1, 1, `unknown top-level key "entires"`},
		"bad default as_of":     {"as_of: soon\nentries:\n  - " + good + "\n", 1, 1, `as_of: bad date "soon"`},
		"list for a scalar":     {"- {id: a, vendor: [V], family: F, order_prefix: AB, phase: active, source: s, as_of: 2025}\n", 0, 1, "vendor: want a single value"},
		"nested list item":      {"- {id: a, vendor: V, family: F, order_prefix: [[AB]], phase: active, source: s, as_of: 2025}\n", 0, 1, "order_prefix: want a list of strings"},
		"key given twice":       {"- {id: a, vendor: V, vendor: W, family: F, order_prefix: AB, phase: active, source: s, as_of: 2025}\n", 0, 1, "vendor given twice"},
		"empty pattern match":   {"- {id: a, vendor: V, family: F, os_pattern: 'x*', phase: active, source: s, as_of: 2025}\n", 0, 1, "matches the empty string"},
		"short prefix":          {"- {id: a, vendor: V, family: F, order_prefix: '-A-', phase: active, source: s, as_of: 2025}\n", 0, 1, "needs at least 2 letters or digits"},
		"comment id":            {"- {id: '#a', vendor: V, family: F, order_prefix: AB, phase: active, source: s, as_of: 2025}\n", 0, 1, "must not start with '#'"},
	} {
		t.Run(name, func(t *testing.T) {
			es, ps := ParseYAML("c.yaml", []byte(tc.data))
			if len(es) != tc.entries {
				t.Errorf("%d entries, want %d", len(es), tc.entries)
			}
			if tc.reason == "" {
				if len(ps) > 0 {
					t.Errorf("problems %v", ps)
				}
				return
			}
			if len(ps) == 0 || ps[0].Line != tc.line || !strings.Contains(ps[0].Reason, tc.reason) {
				t.Errorf("problems %v, want line %d with %q", ps, tc.line, tc.reason)
			}
		})
	}
}

func TestProblemsAreCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("vendor,family,phase,source\n")
	for range maxProblems + 50 {
		b.WriteString("V,F,nonsense,s\n")
	}
	_, ps := ParseCSV("many.csv", []byte(b.String()))
	if len(ps) != maxProblems+1 || ps[maxProblems].Error() != "many.csv: 50 more problems not listed" {
		t.Errorf("%d problems, last %v", len(ps), ps[len(ps)-1])
	}
}

func TestResultJSON(t *testing.T) {
	c := defaultCatalog(t)
	r, _ := c.Match(asset("s7", fact(model.FieldOrderNumber, "6ES7 315-2EH14-0AB0", "s7comm")))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"phase":"end-of-life"`, `"end_of_sale":"2025-10"`, `"end_of_support":"2033"`,
		`"catalog":"default"`, `"rule":"order number 6ES7 31* → SIMATIC S7-300 CPU"`, `"field":"order_number"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s: %s", want, b)
		}
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil || back.Phase != r.Phase || back.EndOfSupport != r.EndOfSupport || back.Rule != r.Rule {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

// TestParseCSVFieldErrors skips an entry whose cells are not valid UTF-8
// or not a date or a phase, naming each field once.
func TestParseCSVFieldErrors(t *testing.T) {
	def, _ := DefaultEntries()
	e := def[0]
	e.ID, e.Family = "bad-cells", "F\xff"
	var buf bytes.Buffer
	if err := WriteCSV(&buf, []Entry{e}); err != nil {
		t.Fatal(err)
	}
	data := strings.Replace(buf.String(), ","+e.Phase.String()+",", ",ancient,", 1)
	es, ps := ParseCSV("bad.csv", []byte(data))
	if len(es) != 0 || len(ps) != 1 {
		t.Fatalf("entries %v, problems %v; want the entry skipped", es, ps)
	}
	for _, want := range []string{`entry "bad-cells" skipped`, "family: not valid UTF-8", `phase: unknown phase "ancient"`} {
		if !strings.Contains(ps[0].Reason, want) {
			t.Errorf("reason %q lacks %q", ps[0].Reason, want)
		}
	}
}
