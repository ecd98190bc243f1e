package walkdown

import (
	"otscope/scan/testenv"

	"bytes"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"otscope/model"
)

// bigPlant returns n assets and m documented rows: every asset is
// documented once (by MAC, IP or serial in turn), the rest are unseen.
func bigPlant(n, m int) ([]model.Asset, string) {
	assets := make([]model.Asset, n)
	var b strings.Builder
	b.WriteString("Tag,Location,Vendor,Order Number,Serial,Firmware,IP address,MAC\n")
	for i := range assets {
		mac := model.MAC{0x00, 0x1b, 0x1b, byte(i >> 16), byte(i >> 8), byte(i)}
		ip := netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})
		assets[i] = model.Asset{ID: model.MACAssetID(mac), MACs: []model.MAC{mac}, IPs: []netip.Addr{ip}, Vendor: "Siemens AG",
			OrderNumber: "6ES7 315-2EH14-0AB0", Serial: fmt.Sprintf("S%06d", i), Firmware: "V3.2.6"}
	}
	for j := range m {
		loc := fmt.Sprintf("Plant/Hall %d/Cabinet %d", j%7, j%400)
		if j < n {
			a := &assets[j]
			mac, ip, serial := "", "", a.Serial
			switch j % 3 {
			case 0:
				mac = a.MACs[0].String()
			case 1:
				ip = a.IPs[0].String()
			}
			fmt.Fprintf(&b, "T%d,%s,Siemens,6ES7 315-2EH14-0AB0,%s,V3.2,%s,%s\n", j, loc, serial, ip, mac)
			continue
		}
		fmt.Fprintf(&b, "T%d,%s,Siemens,6ES7 315-2EH14-0AB0,X%d,,,\n", j, loc, j)
	}
	return assets, b.String()
}

// csvCells splits the lines of csv (no quoting) into the cells of a sheet.
func csvCells(csv string) [][]any {
	var rows [][]any
	for _, l := range strings.Split(strings.TrimSpace(csv), "\n") {
		var r []any
		for _, c := range strings.Split(l, ",") {
			r = append(r, c)
		}
		rows = append(rows, r)
	}
	return rows
}

func TestImportAndMatchAtSize(t *testing.T) {
	if testing.Short() || testenv.Race {
		t.Skip("a time budget at 20,000 rows: run without -race and -short (make speed)")
	}
	assets, csv := bigPlant(10_000, 20_000)
	xlsx := writeXLSX(t, "Sheet1", csvCells(csv), nil)
	runtime.GC()
	c0, w0 := testenv.CPUTime(), time.Now()
	im, err := ReadCSV("big.csv", strings.NewReader(csv), ImportOptions{})
	if err != nil || len(im.Rows) != 20_000 || len(im.Problems) != 0 {
		t.Fatal(err, len(im.Rows), im.Problems)
	}
	b, _ := NewBook(nil, nil)
	if _, err := b.Import(im, "big.csv", "anna", t0); err != nil {
		t.Fatal(err)
	}
	impCPU, impWall := testenv.CPUTime()-c0, time.Since(w0)
	runtime.GC()
	c0, w0 = testenv.CPUTime(), time.Now()
	xim, err := ReadFile(xlsx, ImportOptions{})
	if err != nil || len(xim.Rows) != 20_000 {
		t.Fatal(err, len(xim.Rows))
	}
	xCPU, xWall := testenv.CPUTime()-c0, time.Since(w0)
	runtime.GC()
	c0, w0 = testenv.CPUTime(), time.Now()
	ev := b.Evaluate(assets)
	matchCPU, matchWall := testenv.CPUTime()-c0, time.Since(w0)
	c := ev.Counts()
	if c[model.VerdictMatch] != 10_000 || c[model.VerdictUnseen] != 10_000 {
		t.Errorf("counts = %v", c)
	}
	t.Logf("import 20,000 CSV rows: %v CPU (%v wall); XLSX: %v CPU (%v wall); match against 10,000 assets: %v CPU (%v wall)",
		impCPU, impWall, xCPU, xWall, matchCPU, matchWall)
	if impCPU > 2*time.Second || xCPU > 2*time.Second || matchCPU > time.Second {
		t.Errorf("too slow: import CSV %v, XLSX %v (limit 2 s), match %v (limit 1 s)", impCPU, xCPU, matchCPU)
	}
}

func BenchmarkImportCSV20k(b *testing.B) {
	_, csv := bigPlant(10_000, 20_000)
	b.SetBytes(int64(len(csv)))
	for b.Loop() {
		im, err := ReadCSV("big.csv", strings.NewReader(csv), ImportOptions{})
		if err != nil || len(im.Rows) != 20_000 {
			b.Fatal(err)
		}
	}
}

func BenchmarkImportXLSX20k(b *testing.B) {
	_, csv := bigPlant(10_000, 20_000)
	p := writeXLSX(b, "Sheet1", csvCells(csv), nil)
	for b.Loop() {
		im, err := ReadFile(p, ImportOptions{})
		if err != nil || len(im.Rows) != 20_000 {
			b.Fatal(err, len(im.Problems))
		}
	}
}

func BenchmarkMatch20kAgainst10k(b *testing.B) {
	assets, csv := bigPlant(10_000, 20_000)
	im, _ := ReadCSV("big.csv", strings.NewReader(csv), ImportOptions{})
	bk, _ := NewBook(nil, nil)
	_, _ = bk.Import(im, "big.csv", "anna", t0)
	for b.Loop() {
		if ev := bk.Evaluate(assets); len(ev.Items) != 20_000 {
			b.Fatal(len(ev.Items))
		}
	}
}

func BenchmarkChecklistHTML(b *testing.B) {
	assets, csv := bigPlant(10_000, 20_000)
	im, _ := ReadCSV("big.csv", strings.NewReader(csv), ImportOptions{})
	bk, _ := NewBook(nil, nil)
	_, _ = bk.Import(im, "big.csv", "anna", t0)
	ev := bk.Evaluate(assets)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WriteChecklistHTML(&buf, ev, model.ParseLocation("Plant/Hall 1"), "s", t0); err != nil {
			b.Fatal(err)
		}
	}
}
