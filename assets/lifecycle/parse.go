package lifecycle

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Problem is a catalog entry (or file) that was not imported: where it is
// and why. Problems never stop an import; the other entries are kept.
type Problem struct {
	File   string
	Line   int // 1-based; 0 when the problem concerns the whole file
	Reason string
}

// Error formats the problem as "file:line: reason".
func (p Problem) Error() string {
	if p.Line > 0 {
		return p.File + ":" + strconv.Itoa(p.Line) + ": " + p.Reason
	}
	return p.File + ": " + p.Reason
}

// MaxFileSize is the largest catalog file ParseFile reads: a file picked
// from a USB stick may be anything.
const MaxFileSize = 8 << 20

// maxProblems bounds the problems reported for one file; the rest are
// summarised in one last problem.
const maxProblems = 200

// field names shared by the YAML and CSV formats.
const (
	fID              = "id"
	fVendor          = "vendor"
	fVendorAliases   = "vendor_aliases"
	fFamily          = "family"
	fOrderPrefix     = "order_prefix"
	fOrderPattern    = "order_pattern"
	fProductPattern  = "product_pattern"
	fOSPattern       = "os_pattern"
	fFirmwarePattern = "firmware_pattern"
	fPhase           = "phase"
	fVendorTerm      = "vendor_term"
	fAnnounced       = "announced"
	fEndOfSale       = "end_of_sale"
	fEndOfSupport    = "end_of_support"
	fSuccessor       = "successor"
	fSource          = "source"
	fAsOf            = "as_of"
	fNotes           = "notes"
)

// Fields lists the catalog columns (CSV) and keys (YAML), in CSV order.
var Fields = []string{
	fID, fVendor, fVendorAliases, fFamily, fOrderPrefix, fOrderPattern, fProductPattern, fOSPattern,
	fFirmwarePattern, fPhase, fVendorTerm, fAnnounced, fEndOfSale, fEndOfSupport, fSuccessor, fSource,
	fAsOf, fNotes,
}

// fieldAliases are other spellings accepted for a key or column.
var fieldAliases = map[string]string{
	"order_prefixes": fOrderPrefix, "order_number": fOrderPrefix, "order_numbers": fOrderPrefix,
	"aliases": fVendorAliases, "product": fProductPattern, "os": fOSPattern, "firmware": fFirmwarePattern,
	"end_of_life": fEndOfSupport, "eol": fEndOfSupport, "eos": fEndOfSale, "data_as_of": fAsOf,
}

// fieldName maps a key or column header to its field: lower case, '-' and
// ' ' as '_', aliases resolved. ok is false for unknown names.
func fieldName(s string) (string, bool) {
	k := strings.ToLower(strings.TrimSpace(s))
	k = strings.NewReplacer("-", "_", " ", "_").Replace(k)
	if a, ok := fieldAliases[k]; ok {
		return a, true
	}
	for _, f := range Fields {
		if f == k {
			return f, true
		}
	}
	return "", false
}

// entryBuilder collects the fields of one entry and the reasons it is bad.
type entryBuilder struct {
	e    Entry
	errs []fieldErr
}

// fieldErr is a reason to skip an entry, with the line of the field.
type fieldErr struct {
	line int
	msg  string
}

func (b *entryBuilder) bad(line int, format string, args ...any) {
	b.errs = append(b.errs, fieldErr{line, fmt.Sprintf(format, args...)})
}

// set stores one field. list holds the values of a list field.
func (b *entryBuilder) set(field string, line int, value string, list []string) {
	if !utf8.ValidString(value) {
		b.bad(line, "%s: not valid UTF-8", field)
		return
	}
	value = strings.TrimSpace(value)
	e := &b.e
	text := map[string]*string{fID: &e.ID, fVendor: &e.Vendor, fFamily: &e.Family, fOrderPattern: &e.OrderPattern,
		fProductPattern: &e.ProductPattern, fOSPattern: &e.OSPattern, fFirmwarePattern: &e.FirmwarePattern,
		fVendorTerm: &e.VendorTerm, fSuccessor: &e.Successor, fSource: &e.Source, fNotes: &e.Notes}
	lists := map[string]*[]string{fVendorAliases: &e.VendorAliases, fOrderPrefix: &e.OrderPrefixes}
	dates := map[string]*Date{fAnnounced: &e.Announced, fEndOfSale: &e.EndOfSale, fEndOfSupport: &e.EndOfSupport, fAsOf: &e.AsOf}
	var err error
	switch {
	case text[field] != nil:
		*text[field] = value
	case lists[field] != nil:
		*lists[field] = list
	case dates[field] != nil:
		*dates[field], err = ParseDate(value)
	case field == fPhase:
		e.Phase, err = ParsePhase(value)
	}
	if err != nil {
		b.bad(line, "%s: %v", field, err)
	}
}

// finish validates the entry; it returns the problem when the entry must be
// skipped.
func (b *entryBuilder) finish(file string, line int) (Entry, *Problem) {
	b.e.Catalog, b.e.Line = file, line
	if _, err := compile(&b.e); err != nil {
		for _, s := range strings.Split(err.Error(), "\n") {
			b.errs = append(b.errs, fieldErr{0, s})
		}
	}
	if len(b.errs) > 0 {
		msgs := make([]string, len(b.errs))
		for i, fe := range b.errs {
			msgs[i] = fe.msg
			if fe.line > 0 && fe.line != line {
				msgs[i] = "line " + strconv.Itoa(fe.line) + ": " + fe.msg
			}
		}
		what := "entry"
		if b.e.ID != "" {
			what = "entry " + strconv.Quote(b.e.ID)
		} else if b.e.Family != "" {
			what = "entry " + strconv.Quote(b.e.Family)
		}
		return Entry{}, &Problem{File: file, Line: line, Reason: what + " skipped: " + strings.Join(msgs, "; ")}
	}
	return b.e, nil
}

// splitList splits a CSV list cell on '|' (or ';' when the file is not
// ';'-separated), dropping empty items.
func splitList(s string, seps string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(seps, r) }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// problems collects a file's problems up to maxProblems.
type problems struct {
	file    string
	list    []Problem
	dropped int
}

func (ps *problems) add(p Problem) {
	if len(ps.list) < maxProblems {
		ps.list = append(ps.list, p)
		return
	}
	ps.dropped++
}

func (ps *problems) result() []Problem {
	if ps.dropped > 0 {
		ps.list = append(ps.list, Problem{File: ps.file, Reason: strconv.Itoa(ps.dropped) + " more problems not listed"})
	}
	return ps.list
}

// ParseYAML reads a YAML catalog: a mapping with an "entries" list (and
// optional "name" and "as_of", the default as_of of its entries), or a bare
// list of entries. Each entry is a mapping with the keys in Fields;
// order_prefix and vendor_aliases take a string or a list. name is the
// file name used in entries and problems. Malformed entries are skipped and
// reported with their line; the others are returned.
func ParseYAML(name string, data []byte) (entries []Entry, probs []Problem) {
	ps := &problems{file: name}
	defer func() {
		// yaml.v3 is not known to panic on v3.0.1, but an imported file
		// must never take the program down.
		if r := recover(); r != nil {
			entries = nil
			probs = append(ps.result(), Problem{File: name, Reason: fmt.Sprintf("YAML parser failed: %v", r)})
		}
	}()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ps.add(Problem{File: name, Line: yamlErrLine(err), Reason: "not valid YAML: " + yamlErrText(err)})
		return nil, ps.result()
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		ps.add(Problem{File: name, Reason: "empty catalog"})
		return nil, ps.result()
	}
	root := doc.Content[0]
	var asOf string
	var list *yaml.Node
	switch root.Kind {
	case yaml.SequenceNode:
		list = root
	case yaml.MappingNode:
		for i := 0; i+1 < len(root.Content); i += 2 {
			k, v := root.Content[i], root.Content[i+1]
			switch k.Value {
			case "entries":
				if v.Kind != yaml.SequenceNode {
					ps.add(Problem{File: name, Line: v.Line, Reason: "entries: want a list of entries"})
					return nil, ps.result()
				}
				list = v
			case "as_of":
				if v.Kind != yaml.ScalarNode {
					ps.add(Problem{File: name, Line: v.Line, Reason: "as_of: want a date"})
					continue
				}
				if _, err := ParseDate(v.Value); err != nil {
					ps.add(Problem{File: name, Line: v.Line, Reason: "as_of: " + err.Error()})
					continue
				}
				asOf = v.Value
			case "name", "description", "version":
			default:
				ps.add(Problem{File: name, Line: k.Line, Reason: fmt.Sprintf("unknown top-level key %q ignored (want entries, name, as_of)", k.Value)})
			}
		}
		if list == nil {
			ps.add(Problem{File: name, Line: root.Line, Reason: "no entries list"})
			return nil, ps.result()
		}
	default:
		ps.add(Problem{File: name, Line: root.Line, Reason: "want a mapping with entries, or a list of entries"})
		return nil, ps.result()
	}
	for _, n := range list.Content {
		e, p := yamlEntry(name, n, asOf)
		if p != nil {
			ps.add(*p)
			continue
		}
		entries = append(entries, e)
	}
	return entries, ps.result()
}

// yamlEntry builds one entry from its mapping node.
func yamlEntry(file string, n *yaml.Node, asOf string) (Entry, *Problem) {
	if n.Kind == yaml.AliasNode || n.Kind != yaml.MappingNode {
		return Entry{}, &Problem{File: file, Line: n.Line, Reason: "entry skipped: want a mapping of keys (id, vendor, family, phase, ...)"}
	}
	b := &entryBuilder{}
	if asOf != "" {
		b.set(fAsOf, n.Line, asOf, nil)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		field, ok := fieldName(k.Value)
		if !ok || k.Kind != yaml.ScalarNode {
			b.bad(k.Line, "unknown key %q", k.Value)
			continue
		}
		if seen[field] {
			b.bad(k.Line, "%s given twice", field)
			continue
		}
		seen[field] = true
		switch {
		case v.Kind == yaml.ScalarNode:
			if v.Tag == "!!null" {
				continue
			}
			b.set(field, v.Line, v.Value, splitList(v.Value, "|"))
		case v.Kind == yaml.SequenceNode && (field == fOrderPrefix || field == fVendorAliases):
			var list []string
			for _, it := range v.Content {
				if it.Kind != yaml.ScalarNode {
					b.bad(it.Line, "%s: want a list of strings", field)
					continue
				}
				if s := strings.TrimSpace(it.Value); s != "" {
					list = append(list, s)
				}
			}
			b.set(field, v.Line, "", list)
		default:
			b.bad(v.Line, "%s: want a single value", field)
		}
	}
	return b.finish(file, n.Line)
}

// yamlErrLine digs the line out of a yaml.v3 error ("yaml: line 7: ...").
func yamlErrLine(err error) int {
	var te *yaml.TypeError
	msg := err.Error()
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	if _, rest, ok := strings.Cut(msg, "line "); ok {
		end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if end > 0 {
			if n, err := strconv.Atoi(rest[:end]); err == nil {
				return n
			}
		}
	}
	return 0
}

// yamlErrText strips the "yaml: line N: " prefix (the line is reported apart).
func yamlErrText(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if strings.HasPrefix(msg, "line ") {
		if _, rest, ok := strings.Cut(msg, ": "); ok {
			return rest
		}
	}
	return msg
}

// ParseCSV reads a CSV catalog: a header row naming the columns (the names
// in Fields, any order, unknown columns reported and ignored), then one
// entry per row. Lists (order_prefix, vendor_aliases) are separated by '|'.
// The separator is ',' unless the header has ';' and no ',' (spreadsheets
// in German locales), and a UTF-8 byte-order mark is skipped. Lines starting
// with '#' are comments.
func ParseCSV(name string, data []byte) (entries []Entry, probs []Problem) {
	ps := &problems{file: name}
	defer func() {
		// encoding/csv does not panic on input; this guards our own use of it.
		if r := recover(); r != nil {
			entries = nil
			probs = append(ps.result(), Problem{File: name, Reason: fmt.Sprintf("CSV parser failed: %v", r)})
		}
	}()
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.Comment = '#'
	listSeps := "|;"
	if hdr, _, _ := bytes.Cut(data, []byte("\n")); bytes.IndexByte(hdr, ';') >= 0 && bytes.IndexByte(hdr, ',') < 0 {
		r.Comma = ';'
		listSeps = "|"
	}
	header, err := r.Read()
	if err != nil {
		if err == io.EOF {
			ps.add(Problem{File: name, Reason: "empty catalog"})
		} else {
			ps.add(Problem{File: name, Line: csvErrLine(err), Reason: "bad header: " + csvErrText(err)})
		}
		return nil, ps.result()
	}
	cols := make([]string, len(header))
	have := map[string]bool{}
	for i, h := range header {
		f, ok := fieldName(h)
		switch {
		case !ok:
			ps.add(Problem{File: name, Line: 1, Reason: fmt.Sprintf("unknown column %q ignored (columns: %s)", h, strings.Join(Fields, ","))})
		case have[f]:
			ps.add(Problem{File: name, Line: 1, Reason: fmt.Sprintf("column %q given twice; the second is ignored", h)})
		default:
			cols[i], have[f] = f, true
		}
	}
	for _, need := range []string{fVendor, fFamily, fPhase, fSource} {
		if !have[need] {
			ps.add(Problem{File: name, Line: 1, Reason: "header has no " + need + " column; nothing imported"})
			return nil, ps.result()
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				ps.add(Problem{File: name, Reason: "unreadable: " + err.Error()})
				break
			}
			ps.add(Problem{File: name, Line: pe.StartLine, Reason: "row skipped: " + csvErrText(err)})
			continue
		}
		if len(rec) == 0 {
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line with spaces
		}
		if len(rec) > len(cols) {
			ps.add(Problem{File: name, Line: line, Reason: fmt.Sprintf("row skipped: %d fields, header has %d", len(rec), len(cols))})
			continue
		}
		b := &entryBuilder{}
		for i, v := range rec {
			if cols[i] == "" || strings.TrimSpace(v) == "" {
				continue
			}
			fl, _ := r.FieldPos(i)
			b.set(cols[i], fl, v, splitList(v, listSeps))
		}
		e, p := b.finish(name, line)
		if p != nil {
			ps.add(*p)
			continue
		}
		entries = append(entries, e)
	}
	return entries, ps.result()
}

func csvErrLine(err error) int {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.StartLine
	}
	return 0
}

func csvErrText(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// ParseFile reads a user catalog file: YAML for ".yaml"/".yml", CSV for
// ".csv" (case-insensitive). Files larger than MaxFileSize, unreadable
// files and other extensions give one problem and no entries.
func ParseFile(path string) ([]Entry, []Problem) {
	ext := strings.ToLower(filepath.Ext(path))
	if ext != ".yaml" && ext != ".yml" && ext != ".csv" {
		return nil, []Problem{{File: path, Reason: "not a catalog: want a .yaml, .yml or .csv file"}}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, []Problem{{File: path, Reason: "cannot read: " + errText(err)}}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, []Problem{{File: path, Reason: "cannot read: " + errText(err)}}
	}
	if len(data) > MaxFileSize {
		return nil, []Problem{{File: path, Reason: fmt.Sprintf("larger than %d MiB: not imported", MaxFileSize>>20)}}
	}
	if ext == ".csv" {
		return ParseCSV(path, data)
	}
	return ParseYAML(path, data)
}

// errText drops the path an *os.PathError repeats.
func errText(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// WriteCSV writes entries as a CSV catalog that ParseCSV reads back: a
// template for a user catalog, or an export of the effective catalog.
func WriteCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Fields); err != nil {
		return err
	}
	for i := range entries {
		e := &entries[i]
		if err := cw.Write([]string{
			e.ID, e.Vendor, strings.Join(e.VendorAliases, "|"), e.Family, strings.Join(e.OrderPrefixes, "|"),
			e.OrderPattern, e.ProductPattern, e.OSPattern, e.FirmwarePattern, e.Phase.String(), e.VendorTerm,
			e.Announced.String(), e.EndOfSale.String(), e.EndOfSupport.String(), e.Successor, e.Source,
			e.AsOf.String(), e.Notes,
		}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
