package oui

import (
	"os"
	"strings"
	"testing"
)

// The repository is Apache-2.0 and its NOTICE names the registry this
// package embeds, with its source and the version DataVersion reports
// (issue 14, item 22).
func TestLicenseAndNotice(t *testing.T) {
	lic, err := os.ReadFile("../../LICENSE")
	if err != nil {
		t.Fatalf("no LICENSE: %v", err)
	}
	if !strings.Contains(string(lic), "Apache License") || !strings.Contains(string(lic), "Version 2.0, January 2004") {
		t.Error("LICENSE is not the Apache License 2.0")
	}
	notice, err := os.ReadFile("../../NOTICE")
	if err != nil {
		t.Fatalf("no NOTICE: %v", err)
	}
	n := string(notice)
	for _, want := range []string{"IEEE Registration Authority", "https://standards-oui.ieee.org/", "assets/oui/oui.bin.gz",
		"ieee-data 20220827.1",
		"ODVA", "scan/decode/cip_vendors.go", "ASHRAE", "https://bacnet.org/assigned-vendor-ids/", "scan/decode/bacnetvendors.go",
		"PROFINET", "scan/decode/pnvendors.go", "IANA", "scan/decode/snmp_enterprises.go"} {
		if !strings.Contains(n, want) {
			t.Errorf("NOTICE does not name %q", want)
		}
	}
	// every embedded table NOTICE names is still there
	for _, f := range []string{"oui.bin.gz", "../../scan/decode/cip_vendors.go", "../../scan/decode/bacnetvendors.go",
		"../../scan/decode/pnvendors.go", "../../scan/decode/snmp_enterprises.go", "../lifecycle/catalog/default.yaml"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("NOTICE names %s: %v", f, err)
		}
	}
	if v := DataVersion(); !strings.Contains(n, "20220827.1") || !strings.Contains(v, "20220827") {
		t.Errorf("NOTICE and DataVersion %q disagree", v)
	}
}
