package export_test

import (
	"io"
	"testing"

	"otscope/assets/bundle/bundletest"
	"otscope/assets/export"
	"otscope/scan/testenv"
)

// BenchmarkFormats10000 writes a 10,000-asset session, enriched with the
// catalogs and audited, in every report format (target: each under 2 s).
func BenchmarkFormats10000(b *testing.B) {
	s := bundletest.Large(b, "big", 10_000)
	b.Run("enrich", func(b *testing.B) {
		cpu := testenv.CPUTime()
		for b.Loop() {
			bundletest.Report(b, &s, reportNow)
		}
		bundletest.ReportCPU(b, cpu)
	})
	rep := bundletest.Report(b, &s, reportNow)
	for _, f := range []struct {
		name  string
		write func(io.Writer) error
	}{
		{"json", func(w io.Writer) error { return export.RecordsJSON(w, rep.Records) }},
		{"csv", func(w io.Writer) error { return export.ReportCSV(w, rep) }},
		{"html", func(w io.Writer) error { return export.HTML(w, rep) }},
		{"cyclonedx", func(w io.Writer) error { return export.CycloneDX(w, rep, "") }},
	} {
		b.Run(f.name, func(b *testing.B) {
			var n countWriter
			cpu := testenv.CPUTime()
			for b.Loop() {
				n = 0
				if err := f.write(&n); err != nil {
					b.Fatal(err)
				}
			}
			bundletest.ReportCPU(b, cpu)
			b.ReportMetric(float64(n)/(1<<20), "MiB")
		})
	}
}

type countWriter int

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }
