package walkdown

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"otscope/model"
	"otscope/model/safe"
)

// DefaultMaxRows bounds the rows of one documented inventory. A larger
// file is refused whole (nothing is imported) with a message that says so.
const DefaultMaxRows = 100_000

// maxValue bounds one cell's length; longer values make the row bad.
const maxValue = 512

// ImportOptions configure reading a documented inventory.
type ImportOptions struct {
	// Map names the field of columns whose header is not recognised:
	// header (case-insensitive) → field, or "-" to ignore the column.
	Map map[string]string
	// Sheet is the XLSX sheet to read (default: the first).
	Sheet string
	// MaxRows bounds the data rows (default DefaultMaxRows).
	MaxRows int
}

// Problem is a row (or cell range) that was not imported, and why.
type Problem struct {
	// Place is "file.csv:12" or "file.xlsx:Sheet1!C12".
	Place string `json:"place"`
	Msg   string `json:"message"`
}

func (p Problem) Error() string { return p.Place + ": " + p.Msg }

// Imported is what a documented inventory file gave.
type Imported struct {
	// Rows are the good rows, in file order.
	Rows []model.DocumentedDevice
	// Problems are the rows skipped, in file order.
	Problems []Problem
	// Columns maps each recognised field to the header it was read from.
	Columns map[string]string
	// Ignored lists headers no field was recognised for.
	Ignored []string
}

// headerAliases maps normalised headers (lower case, letters and digits
// only) as engineers write them to fields.
var headerAliases = map[string]string{}

func init() {
	for field, names := range map[string][]string{
		"tag": {"tag", "tagname", "tagno", "tagnumber", "devicetag", "equipmenttag", "equipment", "equipmentid",
			"devicename", "name", "kks", "bmk", "asset", "assettag", "assetname"},
		"location": {"location", "loc", "place", "area", "position", "installationlocation", "cabinet", "site"},
		"vendor":   {"vendor", "manufacturer", "make", "mfr", "mfg", "brand", "hersteller"},
		"product":  {"product", "productname", "model", "modelname", "type", "devicetype", "typ"},
		model.FieldOrderNumber: {"ordernumber", "orderno", "ordernr", "ordercode", "mlfb", "partnumber", "partno",
			"catalognumber", "catalogno", "catno", "cat", "articlenumber", "articleno", "article", "artnr",
			"bestellnummer", "productnumber", "productcode", "typecode"},
		model.FieldSerial: {"serial", "serialno", "serialnumber", "serialnr", "sn", "snr", "sno", "seriennummer"},
		model.FieldFirmware: {"firmware", "firmwareversion", "fw", "fwversion", "fwrev", "software",
			"softwareversion", "swversion", "sw", "version"},
		model.FieldHardwareVersion: {"hardwareversion", "hardware", "hw", "hwversion", "hwrev", "hardwarerevision",
			"hwstand", "revision"},
		"ip":          {"ip", "ipaddress", "ipaddr", "ipv4", "ipv4address", "address"},
		"mac":         {"mac", "macaddress", "macaddr", "hwaddress", "physicaladdress"},
		"description": {"description", "desc", "comment", "comments", "notes", "note", "remark", "remarks", "function"},
	} {
		for _, n := range names {
			headerAliases[n] = field
		}
	}
}

// normHeader lower-cases a header and keeps its letters and digits:
// "Order No." → "orderno".
func normHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127 && r != 0xfeff {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParseMap reads --map arguments "COLUMN=field" (field "-" ignores the
// column).
func ParseMap(specs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, s := range specs {
		col, field, ok := strings.Cut(s, "=")
		col, field = strings.TrimSpace(col), strings.ToLower(strings.TrimSpace(field))
		if !ok || col == "" || field == "" {
			return nil, fmt.Errorf("--map %q: write COLUMN=field", s)
		}
		if field != "-" && !slices.Contains(model.DocumentedFields, field) {
			return nil, fmt.Errorf("--map %q: unknown field %q (fields: %s, or - to ignore)", s, field,
				strings.Join(model.DocumentedFields, ", "))
		}
		out[col] = field
	}
	return out, nil
}

// ReadFile reads a documented inventory from a .csv, .txt or .xlsx file.
func ReadFile(path string, o ImportOptions) (Imported, error) {
	f, err := os.Open(path)
	if err != nil {
		return Imported{}, err
	}
	defer f.Close()
	name := filepath.Base(path)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".xlsx", ".xlsm":
		return ReadXLSX(name, f, o)
	case ".xls":
		return Imported{}, fmt.Errorf("%s: the old binary .xls format is not read; save it as .xlsx or .csv", name)
	}
	return ReadCSV(name, f, o)
}

// table turns a file's rows (header first) into documented devices.
type table struct {
	name    string
	o       ImportOptions
	out     Imported
	cols    []string // field of each column ("" ignored)
	headers []string
	tags    map[string]string // lower-case tag → place of its first row
	rows    int
}

func newTable(name string, o ImportOptions) *table {
	if o.MaxRows <= 0 {
		o.MaxRows = DefaultMaxRows
	}
	return &table{name: name, o: o, tags: map[string]string{}, out: Imported{Columns: map[string]string{}}}
}

// header reads the header row; it fails without a tag column.
func (t *table) header(cells []string, place string) error {
	mapped := map[string]string{}
	for k, v := range t.o.Map {
		mapped[strings.ToLower(strings.TrimSpace(k))] = v
	}
	used := map[string]bool{}
	t.cols = make([]string, len(cells))
	t.headers = make([]string, len(cells))
	for i, h := range cells {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		t.headers[i] = h
		if h == "" {
			continue
		}
		field, ok := mapped[strings.ToLower(h)]
		if !ok {
			field = headerAliases[normHeader(h)]
		}
		if field == "" || field == "-" {
			if field == "" {
				t.out.Ignored = append(t.out.Ignored, h)
			}
			continue
		}
		if used[field] {
			t.out.Problems = append(t.out.Problems, Problem{place, fmt.Sprintf("column %q gives %s again (already from %q); it is ignored, --map it to another field",
				h, field, t.out.Columns[field])})
			continue
		}
		used[field] = true
		t.cols[i] = field
		t.out.Columns[field] = h
	}
	for k := range t.o.Map {
		found := false
		for _, h := range t.headers {
			found = found || strings.EqualFold(h, strings.TrimSpace(k))
		}
		if !found {
			return fmt.Errorf("%s: --map names column %q, which the header does not have (headers: %s)", place, k, strings.Join(nonEmpty(t.headers), ", "))
		}
	}
	if !used["tag"] {
		return fmt.Errorf("%s: no tag column (headers: %s); name one with --map COLUMN=tag", place, strings.Join(nonEmpty(t.headers), ", "))
	}
	if !used["mac"] && !used["ip"] && !used[model.FieldSerial] && !used[model.FieldOrderNumber] {
		return fmt.Errorf("%s: no column to match devices by (MAC, IP address, serial or order number; headers: %s); name one with --map COLUMN=field",
			place, strings.Join(nonEmpty(t.headers), ", "))
	}
	return nil
}

func nonEmpty(xs []string) []string {
	var out []string
	for _, x := range xs {
		if x != "" {
			out = append(out, fmt.Sprintf("%q", x))
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

var (
	dateLike = regexp.MustCompile(`^(\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[-/]\d{1,2}[-/]\d{2,4}|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}-[A-Za-z]{3}(-\d{2,4})?|[A-Za-z]{3}-\d{2,4})([ T]\d{1,2}:\d{2}(:\d{2})?)?$`)
	sciLike  = regexp.MustCompile(`^\d(\.\d+)?[Ee]\+\d+$`)
)

// ErrTooManyRows is returned for a file with more than MaxRows data rows.
var ErrTooManyRows = errors.New("too many rows")

// row adds one data row; cellPlace names a cell of it for messages.
func (t *table) row(cells []string, place string, cellPlace func(col int) string) error {
	var d model.DocumentedDevice
	empty := true
	var bad []string
	for i, v := range cells {
		if i >= len(t.cols) || t.cols[i] == "" {
			continue
		}
		if !utf8.ValidString(v) {
			v = latin1(v)
		}
		v = strings.TrimSpace(safe.Text(v))
		if v == "" {
			continue
		}
		empty = false
		field := t.cols[i]
		switch {
		case len(v) > maxValue:
			bad = append(bad, fmt.Sprintf("%s %s is %d characters long (at most %d)", field, cellPlace(i), len(v), maxValue))
			continue
		case (field == model.FieldSerial || field == model.FieldOrderNumber) && dateLike.MatchString(v):
			bad = append(bad, fmt.Sprintf("%s %s is a date (%s): the spreadsheet turned it into one; format the column as text and type it again",
				field, cellPlace(i), v))
			continue
		case (field == model.FieldSerial || field == model.FieldOrderNumber) && sciLike.MatchString(v):
			bad = append(bad, fmt.Sprintf("%s %s is shown as %s (a number in scientific notation); format the column as text",
				field, cellPlace(i), v))
			continue
		case field == "mac":
			m, err := model.ParseMAC(v)
			if err != nil {
				bad = append(bad, fmt.Sprintf("mac %s %q is not a MAC address", cellPlace(i), v))
				continue
			}
			v = m.String()
		case field == "ip":
			a, err := netip.ParseAddr(v)
			if err != nil {
				bad = append(bad, fmt.Sprintf("ip %s %q is not an IP address", cellPlace(i), v))
				continue
			}
			v = a.Unmap().String()
		case field == "location":
			v = model.ParseLocation(v).String()
		}
		d.SetField(field, v)
	}
	if empty && len(bad) == 0 {
		return nil // a blank row
	}
	t.rows++
	if t.rows > t.o.MaxRows {
		return fmt.Errorf("%s: %w: more than %d documented rows; nothing was imported (split the list per site or area)", t.name, ErrTooManyRows, t.o.MaxRows)
	}
	if d.Tag == "" && len(bad) == 0 {
		bad = append(bad, "no tag")
	}
	if len(bad) == 0 {
		key := strings.ToLower(d.Tag)
		if first, dup := t.tags[key]; dup {
			bad = append(bad, fmt.Sprintf("duplicate tag %q (first at %s)", d.Tag, first))
		} else {
			t.tags[key] = place
		}
	}
	if len(bad) > 0 {
		t.out.Problems = append(t.out.Problems, Problem{place, strings.Join(bad, "; ") + "; row skipped"})
		return nil
	}
	d.Source = place
	t.out.Rows = append(t.out.Rows, d)
	return nil
}

// latin1 reads bytes that are not UTF-8 as Windows-1252/Latin-1, the
// encoding spreadsheet programs export CSV in on many plant PCs.
func latin1(s string) string {
	r := make([]rune, 0, len(s))
	for i := 0; i < len(s); i++ {
		r = append(r, rune(s[i]))
	}
	return string(r)
}

// ReadCSV reads a documented inventory in CSV (comma, semicolon or tab
// separated, detected from the header line). Places are "name:line".
func ReadCSV(name string, r io.Reader, o ImportOptions) (Imported, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(16 << 10)
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(head, 0) >= 0 || bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return Imported{}, fmt.Errorf("%s: not a text file (an .xlsx saved as .csv? give it the .xlsx name)", name)
	}
	cr := csv.NewReader(br)
	cr.Comma = sniffComma(head)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.ReuseRecord = true
	t := newTable(name, o)
	seenHeader := false
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line, _ := cr.FieldPos(0)
		place := fmt.Sprintf("%s:%d", name, line)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				if !seenHeader {
					return Imported{}, fmt.Errorf("%s: %v", place, pe.Err)
				}
				t.out.Problems = append(t.out.Problems, Problem{fmt.Sprintf("%s:%d", name, pe.Line), pe.Err.Error() + "; row skipped"})
				continue
			}
			if !errors.As(err, &pe) {
				return Imported{}, fmt.Errorf("%s: %w", name, err)
			}
		}
		if !seenHeader {
			if allEmpty(rec) {
				continue
			}
			if err := t.header(rec, place); err != nil {
				return Imported{}, err
			}
			seenHeader = true
			continue
		}
		if err := t.row(rec, place, func(col int) string { return fmt.Sprintf("(column %q)", t.headers[col]) }); err != nil {
			return Imported{}, err
		}
	}
	if !seenHeader {
		return Imported{}, fmt.Errorf("%s: empty file: no header row", name)
	}
	return t.out, nil
}

// sniffComma picks the separator that splits the first line most.
func sniffComma(head []byte) rune {
	line := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		line = head[:i]
	}
	best, n := ',', 0
	for _, c := range []rune{',', ';', '\t'} {
		if k := bytes.Count(line, []byte(string(c))); k > n {
			best, n = c, k
		}
	}
	return best
}

func allEmpty(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// ReadXLSX reads a documented inventory from a sheet of an XLSX workbook,
// streaming its rows. Places are "name:Sheet!row". Cells that hold a
// formula and rows covered by merged cells are reported and skipped.
func ReadXLSX(name string, r io.Reader, o ImportOptions) (Imported, error) {
	f, err := excelize.OpenReader(r)
	if err != nil {
		return Imported{}, fmt.Errorf("%s: not a readable XLSX workbook: %v", name, err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	sheet := o.Sheet
	if sheet == "" {
		if len(sheets) == 0 {
			return Imported{}, fmt.Errorf("%s: the workbook has no sheet", name)
		}
		sheet = sheets[0]
	} else if i := slices.IndexFunc(sheets, func(s string) bool { return strings.EqualFold(s, o.Sheet) }); i >= 0 {
		sheet = sheets[i]
	} else {
		return Imported{}, fmt.Errorf("%s: no sheet %q (sheets: %s)", name, o.Sheet, strings.Join(sheets, ", "))
	}
	rows, err := f.Rows(sheet)
	if err != nil {
		return Imported{}, fmt.Errorf("%s: sheet %s: %v", name, sheet, err)
	}
	defer rows.Close()
	t := newTable(name, o)
	type rowAt struct {
		n     int
		cells []string
	}
	var data []rowAt
	headerRow := 0
	n := 0
	for rows.Next() {
		n++
		cells, err := rows.Columns()
		if err != nil {
			return Imported{}, fmt.Errorf("%s:%s!%d: %v", name, sheet, n, err)
		}
		if headerRow == 0 {
			if allEmpty(cells) {
				continue
			}
			headerRow = n
			if err := t.header(cells, fmt.Sprintf("%s:%s!%d", name, sheet, n)); err != nil {
				return Imported{}, err
			}
			continue
		}
		if allEmpty(cells) {
			continue
		}
		if len(data) >= t.o.MaxRows {
			return Imported{}, fmt.Errorf("%s: %w: more than %d documented rows; nothing was imported (split the list per site or area)", name, ErrTooManyRows, t.o.MaxRows)
		}
		data = append(data, rowAt{n, slices.Clone(cells)})
	}
	if err := rows.Error(); err != nil {
		return Imported{}, fmt.Errorf("%s: sheet %s: %v", name, sheet, err)
	}
	if headerRow == 0 {
		return Imported{}, fmt.Errorf("%s: sheet %s is empty: no header row", name, sheet)
	}
	// Merged cells: the value sits in the top-left cell only, so the other
	// rows of the range would import with that field empty. Formulas: the
	// value is computed, not what the plate says.
	var marks sheetMarks
	if raw := rawSheet(f, sheet); raw != nil {
		marks = scanSheet(raw)
	} else {
		merges, err := f.GetMergeCells(sheet, true)
		if err != nil {
			return Imported{}, fmt.Errorf("%s: sheet %s: %v", name, sheet, err)
		}
		marks.formulas = nil
		for _, m := range merges {
			marks.merges = append(marks.merges, m.GetStartAxis()+":"+m.GetEndAxis())
		}
	}
	mergedRow := map[int]string{}
	for _, rng := range marks.merges {
		a, b, _ := strings.Cut(rng, ":")
		_, r0, e1 := excelize.CellNameToCoordinates(a)
		_, r1, e2 := excelize.CellNameToCoordinates(b)
		if e1 != nil || e2 != nil {
			continue
		}
		if r0 <= headerRow && headerRow <= r1 {
			return Imported{}, fmt.Errorf("%s:%s!%s: the header has merged cells; unmerge them and give every column its own header", name, sheet, rng)
		}
		for r := r0; r <= r1; r++ {
			if _, ok := mergedRow[r]; !ok {
				mergedRow[r] = rng
			}
		}
	}
	for _, d := range data {
		place := fmt.Sprintf("%s:%s!%d", name, sheet, d.n)
		if rng, ok := mergedRow[d.n]; ok {
			t.out.Problems = append(t.out.Problems, Problem{place, fmt.Sprintf("merged cells %s: the value is in the first cell only; unmerge and fill every row; row skipped", rng)})
			continue
		}
		var formulas []string
		for c := range d.cells {
			if c >= len(t.cols) || t.cols[c] == "" || d.cells[c] == "" {
				continue
			}
			cell, _ := excelize.CoordinatesToCellName(c+1, d.n)
			fm, ok := marks.formulas[cell]
			if marks.formulas == nil {
				fm, _ = f.GetCellFormula(sheet, cell)
				ok = fm != ""
			}
			if ok {
				if fm == "" {
					fm = "(shared)"
				}
				formulas = append(formulas, fmt.Sprintf("%s %s =%s", t.cols[c], cell, fm))
			}
		}
		if len(formulas) > 0 {
			t.out.Problems = append(t.out.Problems, Problem{place, "formula where a value should be (" + strings.Join(formulas, ", ") +
				"); paste the values instead; row skipped"})
			continue
		}
		dn := d.n
		if err := t.row(d.cells, place, func(col int) string {
			c, _ := excelize.CoordinatesToCellName(col+1, dn)
			return c
		}); err != nil {
			return Imported{}, err
		}
	}
	return t.out, nil
}
