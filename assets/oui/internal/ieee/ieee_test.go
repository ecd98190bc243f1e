package ieee

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const sampleCSV = "\ufeffRegistry,Assignment,Organization Name,Organization Address\n" +
	"MA-L,001B1B,\"Siemens AG,\",I IA SC MF-K PE 3 76187 Karlsruhe  Baden Wuerttemberg DE  \n" +
	"MA-L,00000C,\"Cisco Systems, Inc\",170 WEST TASMAN DRIVE SAN JOSE CA US 95134-1706 \n" +
	"MA-M,3C24F09,Siemens AG - Siemens Deutschland Mobility,Otto-Hahn-Ring 6 Munich  DE 81379 \n" +
	"MA-S,70B3D59C0,Schneider Displaytechnik GmbH,\"Tegelweg, 14 Paderborn  DE 33102 \"\n" +
	"IAB,0050C2FBE,  senTec\u00a0Elektronik\tGmbH ,Werner-von-Siemens-Strasse 6 Ilmenau  DE 98693 \n" +
	"MA-L,080030,NETWORK RESEARCH CORPORATION,2380 N. ROSE AVENUE OXNARD CA US 93010 \n" +
	"MA-L,080030,CERN,CH-1211  GENEVE SUISSE/SWITZ CH 023 \n"

func TestReadCSV(t *testing.T) {
	recs, err := ReadCSV(strings.NewReader(sampleCSV))
	if err != nil {
		t.Fatal(err)
	}
	want := []Record{
		{24, 0x001B1B, "Siemens AG,"},
		{24, 0x00000C, "Cisco Systems, Inc"},
		{28, 0x3C24F09, "Siemens AG - Siemens Deutschland Mobility"},
		{36, 0x70B3D59C0, "Schneider Displaytechnik GmbH"},
		{36, 0x0050C2FBE, "senTec Elektronik GmbH"},
		{24, 0x080030, "NETWORK RESEARCH CORPORATION"},
		{24, 0x080030, "CERN"},
	}
	if len(recs) != len(want) {
		t.Fatalf("got %d records, want %d: %+v", len(recs), len(want), recs)
	}
	for i := range want {
		if recs[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, recs[i], want[i])
		}
	}
}

func TestReadCSVErrors(t *testing.T) {
	const head = "Registry,Assignment,Organization Name,Organization Address\n"
	tests := map[string]string{
		"no header":          "",
		"wrong header":       "a,b,c\n",
		"unknown registry":   head + "MA-X,001B1B,Foo,\n",
		"short assignment":   head + "MA-L,001B1,Foo,\n",
		"MA-M length":        head + "MA-M,001B1B,Foo,\n",
		"not hex":            head + "MA-L,00ZB1B,Foo,\n",
		"no organisation":    head + "MA-L,001B1B, ,\n",
		"too few fields":     head + "MA-L,001B1B\n",
		"unterminated quote": head + "MA-L,001B1B,\"Foo,\n",
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ReadCSV(strings.NewReader(in)); err == nil {
				t.Error("ReadCSV accepted bad input")
			}
		})
	}
}

func TestBuild(t *testing.T) {
	recs, err := ReadCSV(strings.NewReader(sampleCSV))
	if err != nil {
		t.Fatal(err)
	}
	tb, dups := Build("v", recs)
	if len(dups) != 1 || dups[0].Org != "CERN" {
		t.Errorf("duplicates = %+v, want the second 080030 (CERN)", dups)
	}
	if tb.Len() != 6 {
		t.Errorf("Len() = %d, want 6", tb.Len())
	}
	// Names are sorted and deduplicated.
	for i := 1; i < len(tb.Names); i++ {
		if tb.Names[i-1] >= tb.Names[i] {
			t.Errorf("names not sorted and unique: %q", tb.Names)
		}
	}
	l := tb.Blocks[2]
	if l.Bits != 24 || len(l.Keys) != 3 || l.Keys[0] != 0x00000C || l.Keys[2] != 0x080030 {
		t.Errorf("24-bit block = %+v", l)
	}
	if got := tb.Names[l.Names[2]]; got != "NETWORK RESEARCH CORPORATION" {
		t.Errorf("first listed 080030 should win, got %q", got)
	}
}

func TestCleanSpace(t *testing.T) {
	tests := map[string]string{
		"  a  b\t c \n":               "a b c",
		"Sichuan\u00a0AI-Link\u2002X": "Sichuan AI-Link X",
		"ctl\x00char":                 "ctl char",
		"":                            "",
	}
	for in, want := range tests {
		if got := CleanSpace(in); got != want {
			t.Errorf("CleanSpace(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSourcesAndVersion(t *testing.T) {
	dir := t.TempDir()
	if _, err := (Sources{Dir: dir}).Files(); err == nil {
		t.Error("Files() without oui.csv should fail")
	}
	oui := filepath.Join(dir, "oui.csv")
	if err := os.WriteFile(oui, []byte(sampleCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	when := time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)
	if err := os.Chtimes(oui, when, when); err != nil {
		t.Fatal(err)
	}
	files, err := (Sources{Dir: dir}).Files()
	if err != nil || len(files) != 1 || files[0] != oui {
		t.Fatalf("Files() = %q, %v; want only %s", files, err, oui)
	}
	if got, want := DetectVersion(dir, files), "IEEE registry (2024-03-05)"; got != want {
		t.Errorf("DetectVersion from mtime = %q, want %q", got, want)
	}
	if err := os.WriteFile(filepath.Join(dir, ".lastupdate"), []byte("1661630937\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, want := DetectVersion(dir, files), "IEEE registry (2022-08-27)"; got != want {
		t.Errorf("DetectVersion from .lastupdate = %q, want %q", got, want)
	}
	tb, dups, err := (Sources{OUI: oui, Version: "pinned"}).Load()
	if err != nil {
		t.Fatal(err)
	}
	if tb.Version != "pinned" || tb.Len() != 6 || len(dups) != 1 {
		t.Errorf("Load() = version %q, %d assignments, %d duplicates", tb.Version, tb.Len(), len(dups))
	}
}
