package oui

import (
	"os"
	"strings"
	"testing"

	"otscope/model"
)

func mac(t testing.TB, s string) model.MAC {
	t.Helper()
	m, err := model.ParseMAC(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The expected names are those in ieee-data 20220827.1 (oui.csv, mam.csv,
// oui36.csv, iab.csv); vendors keep their assignments, so regenerating from
// newer data should not break these.
func TestLookupIndustrialVendors(t *testing.T) {
	tests := map[string]struct {
		mac, short, full string
	}{
		"Siemens 00:0e:8c":       {"00:0e:8c:12:34:56", "Siemens", "Siemens AG"},
		"Siemens 00:1b:1b":       {"00:1b:1b:12:34:56", "Siemens", "Siemens AG,"},
		"Rockwell 00:00:bc":      {"00:00:bc:01:02:03", "Rockwell Automation", "Rockwell Automation"},
		"Rockwell 00:1d:9c":      {"00:1d:9c:01:02:03", "Rockwell Automation", "Rockwell Automation"},
		"Schneider 00:11:00":     {"00:11:00:01:02:03", "Schneider Electric", "Schneider Electric"},
		"Telemecanique 00:80:f4": {"00:80:f4:01:02:03", "Telemecanique Electrique", "TELEMECANIQUE ELECTRIQUE"},
		"Phoenix 00:a0:45":       {"00:a0:45:01:02:03", "PHOENIX CONTACT Electronics", "PHOENIX CONTACT Electronics GmbH"},
		"Hirschmann ec:e5:55":    {"ec:e5:55:01:02:03", "Hirschmann Automation", "Hirschmann Automation"},
		"Hirschmann 64:60:38":    {"64:60:38:01:02:03", "Hirschmann Automation and Control", "Hirschmann Automation and Control GmbH"},
		"Moxa 00:90:e8":          {"00:90:e8:01:02:03", "Moxa Technologies", "MOXA TECHNOLOGIES CORP., LTD."},
		"Beckhoff 00:01:05":      {"00:01:05:01:02:03", "Beckhoff Automation", "Beckhoff Automation GmbH"},
		"WAGO 00:30:de":          {"00:30:de:01:02:03", "WAGO Kontakttechnik", "WAGO Kontakttechnik GmbH"},
		"Cisco 00:00:0c":         {"00:00:0c:01:02:03", "Cisco Systems", "Cisco Systems, Inc"},
		// MA-M 3C24F09 inside the IEEE's 3C:24:F0 block.
		"MA-M Siemens": {"3c:24:f0:9a:bc:de", "Siemens AG - Siemens Deutschland Mobility", "Siemens AG - Siemens Deutschland Mobility"},
		// MA-S 70B3D59C0 inside 70:B3:D5.
		"MA-S Schneider Displaytechnik": {"70:b3:d5:9c:0a:bc", "Schneider Displaytechnik", "Schneider Displaytechnik GmbH"},
		// IAB 0050C2FBE inside 00:50:C2.
		"IAB senTec": {"00:50:c2:fb:ea:bc", "senTec Elektronik", "senTec Elektronik GmbH"},
		// 3C24F0F is not assigned as MA-M, so the 24-bit holder answers.
		"MA-L fallback": {"3c:24:f0:f0:00:01", "IEEE Registration Authority", "IEEE Registration Authority"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			m := mac(t, tc.mac)
			if got := Lookup(m); got != tc.short {
				t.Errorf("Lookup(%s) = %q, want %q", m, got, tc.short)
			}
			if got := LookupFull(m); got != tc.full {
				t.Errorf("LookupFull(%s) = %q, want %q", m, got, tc.full)
			}
			if got := Describe(m); got != "" {
				t.Errorf("Describe(%s) = %q, want \"\" for a registered unicast address", m, got)
			}
		})
	}
}

func TestLookupPrefixBoundaries(t *testing.T) {
	// The MA-S assignment 70B3D59C0 covers exactly ...9c:00:00 - ...9c:0f:ff.
	if got := Lookup(mac(t, "70:b3:d5:9c:00:00")); got != "Schneider Displaytechnik" {
		t.Errorf("first address of MA-S block: %q", got)
	}
	if got := Lookup(mac(t, "70:b3:d5:9c:0f:ff")); got != "Schneider Displaytechnik" {
		t.Errorf("last address of MA-S block: %q", got)
	}
	if got := Lookup(mac(t, "70:b3:d5:9c:10:00")); got == "Schneider Displaytechnik" {
		t.Errorf("address past MA-S block still resolves to %q", got)
	}
}

func TestLookupUnassigned(t *testing.T) {
	tb, err := load()
	if err != nil {
		t.Fatal(err)
	}
	// Find a universal unicast 24-bit prefix that no block covers.
	var free model.MAC
	found := false
	for p := uint32(0x000100); p < 0x400000 && !found; p++ {
		m := model.MAC{byte(p >> 16), byte(p >> 8), byte(p), 0x12, 0x34, 0x56}
		if m.IsMulticast() || m.IsLocal() {
			continue
		}
		if tb.index(m) < 0 {
			free, found = m, true
		}
	}
	if !found {
		t.Fatal("no unassigned prefix found")
	}
	if got := Lookup(free); got != "" {
		t.Errorf("Lookup(%s) = %q, want \"\"", free, got)
	}
	if got := LookupFull(free); got != "" {
		t.Errorf("LookupFull(%s) = %q, want \"\"", free, got)
	}
}

func TestLookupNonVendorAddresses(t *testing.T) {
	// Each of these carries a registered OUI in its low bits, so only the
	// local/group/zero handling keeps Lookup from naming a vendor.
	for _, s := range []string{
		"02:1b:1b:12:34:56", // locally administered, Siemens bits otherwise
		"01:1b:1b:12:34:56", // group bit on a Siemens OUI
		"01:00:5e:00:00:fb", // IPv4 multicast
		"33:33:00:00:00:01", // IPv6 multicast
		"ff:ff:ff:ff:ff:ff", // broadcast
		"00:00:00:00:00:00", // zero (00:00:00 is Xerox's OUI)
	} {
		m := mac(t, s)
		if got := Lookup(m); got != "" {
			t.Errorf("Lookup(%s) = %q, want \"\"", s, got)
		}
		if got := LookupFull(m); got != "" {
			t.Errorf("LookupFull(%s) = %q, want \"\"", s, got)
		}
		if Describe(m) == "" {
			t.Errorf("Describe(%s) = \"\", want a description", s)
		}
	}
}

func TestDescribe(t *testing.T) {
	tests := map[string]string{
		"ff:ff:ff:ff:ff:ff": "broadcast",
		"01:80:c2:00:00:0e": "LLDP",
		"01:80:c2:00:00:00": "STP",
		"01:80:c2:00:00:02": "slow protocols (LACP)",
		"01:80:c2:00:00:0b": "IEEE 802.1 reserved",
		"01:00:0c:cc:cc:cc": "CDP",
		"01:00:0c:cc:cc:cd": "Cisco PVST+",
		"01:0e:cf:00:00:00": "PROFINET DCP identify",
		"01:0e:cf:00:00:01": "PROFINET DCP hello",
		"01:0e:cf:00:01:01": "PROFINET RT class 3",
		"01:0e:cf:00:04:20": "PROFINET PTCP",
		"01:0e:cf:00:05:00": "PROFINET",
		"01:15:4e:00:00:01": "MRP",
		"01:15:4e:00:01:00": "PRP/HSR supervision",
		"01:0c:cd:01:00:01": "IEC 61850 GOOSE",
		"01:0c:cd:01:01:ff": "IEC 61850 GOOSE",
		"01:0c:cd:02:00:01": "IEC 61850 GSSE",
		"01:0c:cd:04:00:01": "IEC 61850 SV",
		"01:0c:cd:03:00:01": "multicast",
		"01:1b:19:00:00:00": "PTP",
		"01:00:5e:7f:ff:fa": "IPv4 multicast",
		"01:00:5e:80:00:01": "multicast", // upper half of 01:00:5e is not IPv4
		"33:33:ff:12:34:56": "IPv6 multicast",
		"03:00:00:00:00:01": "multicast",
		"02:42:ac:11:00:02": "locally administered",
		"da:a1:19:00:00:01": "locally administered",
		"00:00:00:00:00:00": "zero address",
		"00:1b:1b:12:34:56": "",
	}
	for s, want := range tests {
		if got := Describe(mac(t, s)); got != want {
			t.Errorf("Describe(%s) = %q, want %q", s, got, want)
		}
	}
}

func TestDataVersionMatchesDoc(t *testing.T) {
	v := DataVersion()
	if v == "" {
		t.Fatal("DataVersion() is empty")
	}
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(strings.Fields(string(doc)), " "), "embedded now is "+v+".") {
		t.Errorf("doc.go does not name the embedded data %q; update the package comment", v)
	}
}

func TestLenAndLoad(t *testing.T) {
	if err := Load(); err != nil {
		t.Fatalf("embedded data: %v", err)
	}
	tb, _ := load()
	want := 0
	for _, b := range tb.blocks {
		if len(b.Keys) == 0 {
			t.Errorf("%d-bit block is empty", b.Bits)
		}
		want += len(b.Keys)
	}
	if got := Len(); got != want || got < 40000 {
		t.Errorf("Len() = %d, want %d (and a full registry, > 40000)", got, want)
	}
	if len(embedded) > 1<<20 {
		t.Errorf("embedded data is %d bytes, want under 1 MiB", len(embedded))
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	if err := Load(); err != nil {
		t.Fatal(err)
	}
	ms := []model.MAC{mac(t, "00:1b:1b:12:34:56"), mac(t, "70:b3:d5:9c:0a:bc"), mac(t, "02:00:00:00:00:01"), mac(t, "01:0c:cd:01:00:01")}
	allocs := testing.AllocsPerRun(100, func() {
		for _, m := range ms {
			_ = Lookup(m)
			_ = LookupFull(m)
			_ = Describe(m)
		}
	})
	if allocs != 0 {
		t.Errorf("Lookup/LookupFull/Describe allocate %.1f times per run, want 0", allocs)
	}
}

func BenchmarkLookup(b *testing.B) {
	if err := Load(); err != nil {
		b.Fatal(err)
	}
	ms := []model.MAC{
		mac(b, "00:1b:1b:12:34:56"), // MA-L
		mac(b, "3c:24:f0:9a:bc:de"), // MA-M
		mac(b, "70:b3:d5:9c:0a:bc"), // MA-S
		mac(b, "00:08:33:00:00:01"), // unassigned
	}
	b.ReportAllocs()
	var n int
	for i := 0; b.Loop(); i++ {
		n += len(Lookup(ms[i%len(ms)]))
	}
	if n == 0 {
		b.Fatal("no lookups resolved")
	}
}
