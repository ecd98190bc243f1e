package walkdown

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestCSVHeadersAsPeopleWriteThem(t *testing.T) {
	in := "\ufeffTag;Location;Manufacturer;Type;Order No.;Serial No;FW;IP address;MAC;Remarks;Colour\n" +
		"+A2-K1;Plant/Hall 1/Cabinet +A2;Siemens;CPU 315-2 PN/DP;6ES7 315-2EH14-0AB0;S C-X4U123;V3.2.6;10.10.10.20;00:1b:1b:10:00:02;main PLC;grey\n" +
		"\n" +
		"+A2-K2;Plant/Hall 1/Cabinet +A2;Siemens;ET 200SP;6ES7155-6AU01-0BN0;;;10.10.10.30;;;blue\n"
	im, err := ReadCSV("plant.csv", strings.NewReader(in), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Problems) != 0 || len(im.Rows) != 2 {
		t.Fatalf("rows %d problems %v", len(im.Rows), im.Problems)
	}
	r := im.Rows[0]
	if r.Tag != "+A2-K1" || r.Vendor != "Siemens" || r.Product != "CPU 315-2 PN/DP" || r.OrderNumber != "6ES7 315-2EH14-0AB0" ||
		r.Serial != "S C-X4U123" || r.Firmware != "V3.2.6" || r.IP != "10.10.10.20" || r.MAC != "00:1b:1b:10:00:02" ||
		r.Description != "main PLC" || r.Location != "Plant/Hall 1/Cabinet +A2" || r.Source != "plant.csv:2" {
		t.Errorf("row 1 = %+v", r)
	}
	if im.Rows[1].Source != "plant.csv:4" {
		t.Errorf("row 2 source %q (blank line counted?)", im.Rows[1].Source)
	}
	if len(im.Ignored) != 1 || im.Ignored[0] != "Colour" {
		t.Errorf("ignored = %v", im.Ignored)
	}
}

func TestCSVMapAndMLFB(t *testing.T) {
	in := "Equipment,MLFB,Schrank,SN\nK1,6ES7 321-1BL00-0AA0,Plant/Hall 1/+A2,123\n"
	m, err := ParseMap([]string{"Schrank=location"})
	if err != nil {
		t.Fatal(err)
	}
	im, err := ReadCSV("x.csv", strings.NewReader(in), ImportOptions{Map: m})
	if err != nil || len(im.Rows) != 1 {
		t.Fatal(err, im)
	}
	if r := im.Rows[0]; r.Location != "Plant/Hall 1/+A2" || r.OrderNumber != "6ES7 321-1BL00-0AA0" || r.Serial != "123" || r.Tag != "K1" {
		t.Errorf("row = %+v", r)
	}
	for _, bad := range []string{"Schrank", "Schrank=colour", "=tag"} {
		if _, err := ParseMap([]string{bad}); err == nil {
			t.Errorf("ParseMap(%q) accepted", bad)
		}
	}
	if _, err := ReadCSV("x.csv", strings.NewReader(in), ImportOptions{Map: map[string]string{"Cabinet": "location"}}); err == nil ||
		!strings.Contains(err.Error(), `"Cabinet"`) {
		t.Errorf("map of an absent column: %v", err)
	}
}

func TestCSVBadRowsReportedAndSkipped(t *testing.T) {
	in := "Tag,Serial,IP,MAC,Order Number\n" +
		"K1,S1,10.0.0.1,00:00:00:00:00:01,A\n" +
		"K2,2023-01-05,10.0.0.2,,A\n" + // a date where a serial should be
		"K3,S3,10.0.0.300,,A\n" + // bad IP
		"k1,S4,10.0.0.4,,A\n" + // duplicate tag (case-insensitive)
		",S5,10.0.0.5,,A\n" + // no tag
		"K6,1.23457E+11,,,A\n" + // scientific notation
		"K7,S7,,zz:zz,A\n" + // bad MAC
		"K8,S8,10.0.0.8,,A\n"
	im, err := ReadCSV("p.csv", strings.NewReader(in), ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Rows) != 2 || im.Rows[0].Tag != "K1" || im.Rows[1].Tag != "K8" {
		t.Errorf("good rows = %+v", im.Rows)
	}
	want := []struct{ place, msg string }{
		{"p.csv:3", "is a date (2023-01-05)"},
		{"p.csv:4", `"10.0.0.300" is not an IP address`},
		{"p.csv:5", `duplicate tag "k1" (first at p.csv:2)`},
		{"p.csv:6", "no tag"},
		{"p.csv:7", "scientific notation"},
		{"p.csv:8", "is not a MAC address"},
	}
	if len(im.Problems) != len(want) {
		t.Fatalf("problems = %v", im.Problems)
	}
	for i, w := range want {
		p := im.Problems[i]
		if p.Place != w.place || !strings.Contains(p.Msg, w.msg) || !strings.HasSuffix(p.Msg, "row skipped") {
			t.Errorf("problem %d = %v, want %s: …%s…", i, p, w.place, w.msg)
		}
	}
}

func TestCSVMissingHeaderAndTooManyRows(t *testing.T) {
	_, err := ReadCSV("p.csv", strings.NewReader("Name2,Serial\nx,y\n"), ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "p.csv:1: no tag column") || !strings.Contains(err.Error(), "--map COLUMN=tag") {
		t.Errorf("missing tag header: %v", err)
	}
	_, err = ReadCSV("p.csv", strings.NewReader("Tag,Comment\nx,y\n"), ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "no column to match devices by") {
		t.Errorf("no match column: %v", err)
	}
	if _, err := ReadCSV("p.csv", strings.NewReader(""), ImportOptions{}); err == nil || !strings.Contains(err.Error(), "empty file") {
		t.Errorf("empty: %v", err)
	}
	var b bytes.Buffer
	b.WriteString("Tag,Serial\n")
	for i := range 1_000_000 {
		fmt.Fprintf(&b, "T%d,S%d\n", i, i)
	}
	_, err = ReadCSV("big.csv", &b, ImportOptions{})
	if !errors.Is(err, ErrTooManyRows) || !strings.Contains(err.Error(), "nothing was imported") {
		t.Errorf("1,000,000 rows: %v", err)
	}
}

func TestCSVLatin1(t *testing.T) {
	in := "Tag,Serial,Description\nK1,S1,Pumpe S\xfcd\n"
	im, err := ReadCSV("p.csv", strings.NewReader(in), ImportOptions{})
	if err != nil || len(im.Rows) != 1 || im.Rows[0].Description != "Pumpe Süd" {
		t.Fatalf("%v %+v", err, im.Rows)
	}
}

// writeXLSX builds a workbook: rows of cells on sheet, then fix to add
// merges, formulas or styles.
func writeXLSX(t testing.TB, sheet string, rows [][]any, fix func(f *excelize.File)) string {
	t.Helper()
	f := excelize.NewFile()
	if sheet != "Sheet1" {
		if _, err := f.NewSheet(sheet); err != nil {
			t.Fatal(err)
		}
	}
	if fix == nil {
		sw, err := f.NewStreamWriter(sheet)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := sw.SetRow(cell, r); err != nil {
				t.Fatal(err)
			}
		}
		if err := sw.Flush(); err != nil {
			t.Fatal(err)
		}
	} else {
		for i, r := range rows {
			cell, _ := excelize.CoordinatesToCellName(1, i+1)
			if err := f.SetSheetRow(sheet, cell, &r); err != nil {
				t.Fatal(err)
			}
		}
	}
	if fix != nil {
		fix(f)
	}
	p := filepath.Join(t.TempDir(), "plant.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestXLSXProblems(t *testing.T) {
	rows := [][]any{
		{"Tag", "Location", "Order Number", "Serial", "IP address"},
		{"K1", "Plant/A2", "6ES7 315-2EH14-0AB0", "S1", "10.0.0.1"},
		{"K2", "Plant/A2", "6ES7 315-2EH14-0AB0", "S2", "10.0.0.2"},
		{"K3", "Plant/A2", "6ES7 315-2EH14-0AB0", "S3", "10.0.0.3"},
		{"K4", "Plant/A3", "6ES7 315-2EH14-0AB0", "S4", "10.0.0.4"},
		{"K5", "Plant/A3", "6ES7 315-2EH14-0AB0", "", "10.0.0.5"},
		{"K6", "Plant/A3", "6ES7 315-2EH14-0AB0", "S6", "10.0.0.6"},
	}
	p := writeXLSX(t, "Devices", rows, func(f *excelize.File) {
		if err := f.MergeCell("Devices", "B3", "B4"); err != nil { // location merged over K2, K3
			t.Fatal(err)
		}
		if err := f.SetCellFormula("Devices", "D6", `"S"&"5"`); err != nil { // serial by formula in K5
			t.Fatal(err)
		}
		st, _ := f.NewStyle(&excelize.Style{NumFmt: 14}) // a date format over K6's serial
		if err := f.SetCellValue("Devices", "D7", 45000); err != nil {
			t.Fatal(err)
		}
		if err := f.SetCellStyle("Devices", "D7", "D7", st); err != nil {
			t.Fatal(err)
		}
	})
	im, err := ReadFile(p, ImportOptions{Sheet: "devices"})
	if err != nil {
		t.Fatal(err)
	}
	var tags []string
	for _, r := range im.Rows {
		tags = append(tags, r.Tag+"@"+r.Source)
	}
	if strings.Join(tags, " ") != "K1@plant.xlsx:Devices!2 K4@plant.xlsx:Devices!5" {
		t.Errorf("rows = %v", tags)
	}
	want := []struct{ place, msg string }{
		{"plant.xlsx:Devices!3", "merged cells B3:B4"},
		{"plant.xlsx:Devices!4", "merged cells B3:B4"},
		{"plant.xlsx:Devices!6", `formula where a value should be (serial D6 ="S"&"5")`},
		{"plant.xlsx:Devices!7", "serial D7 is a date"},
	}
	if len(im.Problems) != len(want) {
		t.Fatalf("problems = %v", im.Problems)
	}
	for i, w := range want {
		if p := im.Problems[i]; p.Place != w.place || !strings.Contains(p.Msg, w.msg) {
			t.Errorf("problem %d = %v, want %s …%s…", i, p, w.place, w.msg)
		}
	}
	if _, err := ReadFile(p, ImportOptions{Sheet: "Nope"}); err == nil || !strings.Contains(err.Error(), `no sheet "Nope" (sheets: Sheet1, Devices)`) {
		t.Errorf("missing sheet: %v", err)
	}
}

func TestXLSXHeaderMergedAndMissing(t *testing.T) {
	p := writeXLSX(t, "Sheet1", [][]any{{"Tag", "", "Serial"}, {"K1", "", "S1"}}, func(f *excelize.File) {
		_ = f.MergeCell("Sheet1", "A1", "B1")
	})
	if _, err := ReadFile(p, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "the header has merged cells") {
		t.Errorf("merged header: %v", err)
	}
	p = writeXLSX(t, "Sheet1", [][]any{{"Name2", "Serial"}, {"K1", "S1"}}, nil)
	if _, err := ReadFile(p, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "plant.xlsx:Sheet1!1: no tag column") {
		t.Errorf("missing header: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "x.xlsx")
	_ = os.WriteFile(bad, []byte("Tag,Serial\n"), 0o600)
	if _, err := ReadFile(bad, ImportOptions{}); err == nil || !strings.Contains(err.Error(), "not a readable XLSX workbook") {
		t.Errorf("csv named xlsx: %v", err)
	}
}

func TestXLSXTooManyRows(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 1,000,000-row workbook")
	}
	rows := [][]any{{"Tag", "Serial"}}
	for i := range 1_000_000 {
		rows = append(rows, []any{fmt.Sprintf("T%d", i), fmt.Sprintf("S%d", i)})
	}
	p := writeXLSX(t, "Sheet1", rows, nil)
	_, err := ReadFile(p, ImportOptions{})
	if !errors.Is(err, ErrTooManyRows) || !strings.Contains(err.Error(), "more than 100000 documented rows; nothing was imported") {
		t.Errorf("1,000,000 rows: %v", err)
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add("Tag,Serial,IP,MAC\nK1,S1,10.0.0.1,00:00:00:00:00:01\n")
	f.Add("Tag;Order No.;Location\n\"K;1\";6ES7 315-2EH14-0AB0;Plant/A\n")
	f.Add("\ufeffTag\tMLFB\nK\"1\t2023-01-01\n")
	f.Fuzz(func(t *testing.T, in string) {
		im, err := ReadCSV("f.csv", strings.NewReader(in), ImportOptions{MaxRows: 1000})
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, r := range im.Rows {
			if r.Tag == "" || r.Source == "" {
				t.Fatalf("row without tag or source: %+v", r)
			}
			k := strings.ToLower(r.Tag)
			if seen[k] {
				t.Fatalf("duplicate tag %q imported", r.Tag)
			}
			seen[k] = true
			for _, v := range []string{r.Tag, r.Serial, r.Description, r.Location} {
				if strings.ContainsAny(v, "\x1b\x00\r\n") && v != "" {
					t.Fatalf("unsafe value %q", v)
				}
			}
		}
	})
}
