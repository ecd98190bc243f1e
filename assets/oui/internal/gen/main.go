// Command gen compacts the IEEE MAC address registry into the gzip file that
// package oui embeds. Run it through go generate from assets/oui:
//
//	apt-get install ieee-data        # or download the CSVs from IEEE
//	go generate ./assets/oui
//
// which runs
//
//	go run ./internal/gen -src /usr/share/ieee-data -out oui.bin.gz
//
// To use CSVs downloaded from https://standards-oui.ieee.org/ instead, point
// -src at their directory or name files one by one (-oui, -mam, -oui36,
// -iab); only oui.csv is required. -version overrides the provenance text
// that oui.DataVersion reports.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"otscope/assets/oui/internal/format"
	"otscope/assets/oui/internal/ieee"
)

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// run parses args, builds the table and writes it; it reports progress to log.
func run(args []string, log io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	fs.SetOutput(log)
	var src ieee.Sources
	fs.StringVar(&src.Dir, "src", ieee.DebianDir, "directory holding oui.csv, mam.csv, oui36.csv, iab.csv")
	fs.StringVar(&src.OUI, "oui", "", "MA-L CSV (default <src>/oui.csv)")
	fs.StringVar(&src.MAM, "mam", "", "MA-M CSV (default <src>/mam.csv if present)")
	fs.StringVar(&src.OUI36, "oui36", "", "MA-S CSV (default <src>/oui36.csv if present)")
	fs.StringVar(&src.IAB, "iab", "", "IAB CSV (default <src>/iab.csv if present)")
	fs.StringVar(&src.Version, "version", "", "provenance text to embed (default: detected from dpkg and file dates)")
	out := fs.String("out", "oui.bin.gz", "output file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	t, dups, err := src.Load()
	if err != nil {
		return err
	}
	for _, d := range dups {
		fmt.Fprintf(log, "gen: duplicate %d-bit assignment %0*X (%s) ignored\n", d.Bits, d.Bits/4, d.Prefix, d.Org)
	}
	data, err := format.Encode(t)
	if err != nil {
		return err
	}
	if err := writeFile(*out, data); err != nil {
		return err
	}
	fmt.Fprintf(log, "gen: %s: %s, %d assignments, %d names, %d bytes\n", *out, t.Version, t.Len(), len(t.Names), len(data))
	return nil
}

// writeFile replaces path atomically so a failed run leaves the old file.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".oui-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
