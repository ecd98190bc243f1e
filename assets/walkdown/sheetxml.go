package walkdown

import (
	"bytes"
	"encoding/xml"
	"html"
	"path"
	"strings"

	"github.com/xuri/excelize/v2"
)

// sheetMarks are what the row values do not tell: the merged ranges and
// the cells holding a formula (cell → formula, "" for a shared one).
type sheetMarks struct {
	merges   []string
	formulas map[string]string
}

// rawSheet returns the worksheet XML of sheet as the workbook stores it,
// or nil when excelize keeps it elsewhere (a very large sheet spilled to
// a temporary file).
func rawSheet(f *excelize.File, sheet string) []byte {
	load := func(p string) []byte {
		v, ok := f.Pkg.Load(p)
		if !ok {
			return nil
		}
		b, _ := v.([]byte)
		return b
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if xml.Unmarshal(load("xl/workbook.xml"), &wb) != nil || xml.Unmarshal(load("xl/_rels/workbook.xml.rels"), &rels) != nil {
		return nil
	}
	for _, s := range wb.Sheets {
		if !strings.EqualFold(s.Name, sheet) {
			continue
		}
		for _, r := range rels.Rels {
			if r.ID != s.RID {
				continue
			}
			t := r.Target
			if strings.HasPrefix(t, "/") {
				t = strings.TrimPrefix(t, "/")
			} else {
				t = path.Join("xl", t)
			}
			return load(t)
		}
	}
	return nil
}

// scanSheet finds merged ranges and formula cells in worksheet XML by
// scanning its bytes (no document tree: a 20,000-row sheet scans in a few
// milliseconds).
func scanSheet(raw []byte) sheetMarks {
	m := sheetMarks{formulas: map[string]string{}}
	for rest := raw; ; {
		i := bytes.Index(rest, []byte("<mergeCell "))
		if i < 0 {
			break
		}
		rest = rest[i+len("<mergeCell "):]
		if ref, ok := attr(rest, "ref"); ok {
			m.merges = append(m.merges, ref)
		}
	}
	cell := ""
	for rest := raw; len(rest) > 0; {
		i := bytes.IndexByte(rest, '<')
		if i < 0 || i+2 >= len(rest) {
			break
		}
		rest = rest[i+1:]
		switch {
		case rest[0] == 'c' && (rest[1] == ' ' || rest[1] == '>'):
			cell, _ = attr(rest, "r")
		case rest[0] == 'f' && (rest[1] == ' ' || rest[1] == '>' || rest[1] == '/'):
			end := bytes.IndexByte(rest, '>')
			if end < 0 {
				return m
			}
			text := ""
			if rest[end-1] != '/' {
				if j := bytes.Index(rest[end:], []byte("</f>")); j >= 0 {
					text = html.UnescapeString(string(rest[end+1 : end+j]))
				}
			}
			if cell != "" {
				m.formulas[cell] = text
			}
		}
	}
	return m
}

// attr reads name="value" from the start of a tag's attributes.
func attr(tag []byte, name string) (string, bool) {
	end := bytes.IndexByte(tag, '>')
	if end < 0 {
		return "", false
	}
	tag = tag[:end]
	for _, q := range []string{`"`, `'`} {
		key := []byte(" " + name + "=" + q)
		i := bytes.Index(append([]byte{' '}, tag...), key)
		if i < 0 {
			continue
		}
		v := tag[i+len(key)-1:]
		j := bytes.IndexByte(v, q[0])
		if j < 0 {
			return "", false
		}
		return string(v[:j]), true
	}
	return "", false
}
