package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"otscope/assets/oui/internal/format"
	"otscope/assets/oui/internal/ieee"
	"otscope/scan/testenv"
)

// TestEmbeddedDataIsCurrent re-runs the generator exactly as go:generate
// does, into a temporary directory, and checks the result matches the
// committed ../../oui.bin.gz, so the embedded file cannot drift from the
// generator or from the installed ieee-data. The gzip wrapper is compared
// after decompression, since compressed bytes may differ between Go releases.
func TestEmbeddedDataIsCurrent(t *testing.T) {
	if _, err := os.Stat(filepath.Join(ieee.DebianDir, "oui.csv")); err != nil {
		testenv.Skipf(t, "ieee-data not installed (%v); apt-get install ieee-data to run", err)
	}
	out := filepath.Join(t.TempDir(), "oui.bin.gz")
	if err := run([]string{"-src", ieee.DebianDir, "-out", out}, io.Discard); err != nil {
		t.Fatal(err)
	}
	fresh := payload(t, out)
	committed := payload(t, filepath.Join("..", "..", "oui.bin.gz"))
	if !bytes.Equal(fresh, committed) {
		ft, _ := format.Unmarshal(fresh)
		ct, _ := format.Unmarshal(committed)
		t.Fatalf("assets/oui/oui.bin.gz is stale: generator gives %q with %d assignments, file has %q with %d; run go generate ./assets/oui",
			ft.Version, ft.Len(), ct.Version, ct.Len())
	}
}

func payload(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := format.Gunzip(readFile(t, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return raw
}

func TestRunWithDownloadedCSV(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "downloaded-oui.csv")
	err := os.WriteFile(csv, []byte("Registry,Assignment,Organization Name,Organization Address\n"+
		"MA-L,000E8C,Siemens AG,Siemensstraße 10 Regensburg  DE 93055 \n"), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.bin.gz")
	var log bytes.Buffer
	if err := run([]string{"-src", "", "-oui", csv, "-version", "IEEE 2024-01-01", "-out", out}, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	tb, err := format.Decode(readFile(t, out))
	if err != nil {
		t.Fatal(err)
	}
	if tb.Version != "IEEE 2024-01-01" || tb.Len() != 1 || tb.Names[0] != "Siemens AG" {
		t.Errorf("generated table = %q, %d assignments, names %q", tb.Version, tb.Len(), tb.Names)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	for name, args := range map[string][]string{
		"unknown flag":   {"-bogus"},
		"stray argument": {"-src", dir, "extra"},
		"no oui.csv":     {"-src", dir, "-out", filepath.Join(dir, "x.gz")},
	} {
		t.Run(name, func(t *testing.T) {
			if err := run(args, io.Discard); err == nil {
				t.Error("run succeeded")
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.gz")); !os.IsNotExist(err) {
		t.Errorf("failed run left an output file (stat: %v)", err)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
