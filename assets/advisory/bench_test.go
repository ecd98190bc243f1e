package advisory

import (
	"fmt"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/testenv"
)

// plantAssets returns n assets like a large plant's: the realistic OT
// devices at several firmware levels, plus IT hosts and devices of vendors
// no advisory names.
func plantAssets(n int) []model.Asset {
	base := []model.Asset{
		{Vendor: "Siemens", Product: "CPU 315-2 PN/DP", OrderNumber: "6ES7 315-2EH14-0AB0", Firmware: "V3.2.7",
			Modules: []model.Module{{Rack: 0, Slot: 4, Product: "CP 343-1", OrderNumber: "6GK7 343-1EX30-0XE0", Firmware: "V3.0.1"}}},
		{Vendor: "Siemens", Product: "CPU 1516-3 PN/DP", OrderNumber: "6ES7 516-3AN02-0AB0", Firmware: "V2.9.4"},
		{Vendor: "Rockwell Automation/Allen-Bradley", Product: "1756-L83E/B", OrderNumber: "1756-L83E", Firmware: "33.11"},
		{Vendor: "Schneider Electric", Product: "Modicon M580", OrderNumber: "BMEP582040", Firmware: "v3.10"},
		{Vendor: "WAGO Kontakttechnik GmbH & Co. KG", Product: "PFC200 CS 2ETH RS", OrderNumber: "750-8212", Firmware: "03.10.08(22)"},
		{Vendor: "Moxa", Product: "EDS-510E-3GTXSFP", Firmware: "V5.5 build 20061114"},
		{Vendor: "Rockwell Automation", Product: "1766-L32BXB", OrderNumber: "1766-L32BXB", Firmware: "21.3", HardwareVersion: "Series B"},
		{Vendor: "Johnson Controls, Inc.", Product: "MS-NAE5510-3", Firmware: "10.1.0.1902"},
		{Vendor: "MOBOTIX AG", Product: "D24M", Firmware: "MX-V4.4.2.73"},
		{Vendor: "Dell Inc.", Product: "OptiPlex 7080", Firmware: "1.2.3"},
		{Vendor: "Hewlett Packard", Product: "ProLiant DL380", Firmware: "U46"},
		{Vendor: "", Product: "", Firmware: ""},
	}
	out := make([]model.Asset, n)
	for i := range out {
		a := base[i%len(base)].Clone()
		if a.Firmware != "" && i%3 == 1 {
			a.Firmware += fmt.Sprintf(".%d", i%7)
		}
		out[i] = a
	}
	return out
}

func BenchmarkMatch10000Assets(b *testing.B) {
	db := loadReal(b)
	assets := plantAssets(10_000)
	b.ReportAllocs()
	b.ResetTimer()
	matches := 0
	for range b.N {
		matches = 0
		for i := range assets {
			matches += len(db.Match(&assets[i]))
		}
	}
	b.ReportMetric(float64(matches), "matches")
}

func BenchmarkLoadRealSet(b *testing.B) {
	dir := needShared(b)
	b.ReportAllocs()
	for range b.N {
		Load(dir + "/csaf")
	}
}

// TestMatchThroughput checks the performance goal (the benchmark gives the
// real figure): 10,000 assets in under a second of CPU time, which a busy
// machine does not stretch (ten times that under the race detector).
func TestMatchThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	db := loadReal(t)
	assets := plantAssets(10_000)
	start := testenv.CPUTime()
	n := 0
	for i := range assets {
		n += len(db.Match(&assets[i]))
	}
	d := testenv.CPUTime() - start
	t.Logf("10,000 assets, %d matches in %v of CPU time", n, d)
	if n == 0 {
		t.Error("no matches")
	}
	if d > testenv.CPUBudget(time.Second) {
		t.Errorf("matching 10,000 assets took %v of CPU time", d)
	}
}
