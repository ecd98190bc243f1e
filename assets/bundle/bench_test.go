package bundle_test

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"testing"

	"otscope/assets/bundle"
	"otscope/assets/bundle/bundletest"
	"otscope/assets/store"
	"otscope/scan/testenv"
)

// BenchmarkExport10000 writes a 10,000-asset session as a bundle (target:
// under 2 s).
func BenchmarkExport10000(b *testing.B) {
	s := bundletest.Large(b, "big", 10_000)
	var out bytes.Buffer
	cpu := testenv.CPUTime()
	for b.Loop() {
		out.Reset()
		if err := bundle.Write(&out, &s, bundle.Options{Created: created}); err != nil {
			b.Fatal(err)
		}
	}
	bundletest.ReportCPU(b, cpu)
	b.ReportMetric(float64(out.Len())/(1<<20), "MiB")
	b.ReportMetric(float64(len(s.Assets)), "assets")
}

// BenchmarkExportFromStore10000 is the whole export command's work: read
// the session and its journals from the store and write the bundle.
func BenchmarkExportFromStore10000(b *testing.B) {
	s := bundletest.Large(b, "big", 10_000)
	st, err := store.Open(store.Options{Dir: filepath.Join(b.TempDir(), "db")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := bundle.ToStore(st, "big", &s); err != nil {
		b.Fatal(err)
	}
	cpu := testenv.CPUTime()
	for b.Loop() {
		got, _, err := bundle.FromStore(st, "big")
		if err != nil {
			b.Fatal(err)
		}
		if err := bundle.Write(io.Discard, &got, bundle.Options{Created: created}); err != nil {
			b.Fatal(err)
		}
	}
	bundletest.ReportCPU(b, cpu)
}

// BenchmarkImport10000 reads and verifies a 10,000-asset bundle and writes
// it into the store as a new session (target: under 5 s).
func BenchmarkImport10000(b *testing.B) {
	s := bundletest.Large(b, "big", 10_000)
	var raw bytes.Buffer
	if err := bundle.Write(&raw, &s, bundle.Options{Created: created}); err != nil {
		b.Fatal(err)
	}
	st, err := store.Open(store.Options{Dir: filepath.Join(b.TempDir(), "db")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	n := 0
	cpu := testenv.CPUTime()
	for b.Loop() {
		in, _, err := bundle.Read(bytes.NewReader(raw.Bytes()), bundle.ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		n++
		if err := bundle.ToStore(st, fmt.Sprintf("imported-%d", n), &in); err != nil {
			b.Fatal(err)
		}
	}
	bundletest.ReportCPU(b, cpu)
}

// BenchmarkRead10000 reads and verifies a 10,000-asset bundle without the
// store (the bundle's share of an import).
func BenchmarkRead10000(b *testing.B) {
	s := bundletest.Large(b, "big", 10_000)
	var raw bytes.Buffer
	if err := bundle.Write(&raw, &s, bundle.Options{Created: created}); err != nil {
		b.Fatal(err)
	}
	cpu := testenv.CPUTime()
	for b.Loop() {
		if _, _, err := bundle.Read(bytes.NewReader(raw.Bytes()), bundle.ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	bundletest.ReportCPU(b, cpu)
}
