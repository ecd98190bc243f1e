package advisory

import (
	"slices"
	"testing"
)

func TestVendorKeys(t *testing.T) {
	tests := map[string][]string{
		"Schneider Electric ":               {"schneider electric"},
		"Schneider Electric Software, LLC":  {"schneider electric"},
		"MOXA":                              {"moxa"},
		"Moxa Inc.":                         {"moxa"},
		"Mitsubishi Electric Corporation":   {"mitsubishi electric"},
		"General Electric (GE)":             {"ge"},
		"General Electric (GE) and Emerson": {"ge", "emerson"},
		"Hirschmann Automation and Control GmbH, Belden Inc.": {"hirschmann"},
		"Belden":                            {"hirschmann"},
		"Johnson Controls Inc":              {"johnson controls"},
		"Johnson Controls, Inc.":            {"johnson controls"},
		"Rockwell Automation/Allen-Bradley": {"rockwell automation"},
		"WAGO Kontakttechnik GmbH & Co. KG": {"wago"},
		"Acme Automation GmbH":              {"acme automation"},
		"Generic Motors":                    {"generic motors"},
		"":                                  {""},
	}
	for in, want := range tests {
		if got := vendorKeys(in); !slices.Equal(got, want) {
			t.Errorf("vendorKeys(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOrderNumbers(t *testing.T) {
	if normOrder("6ES7 315-2EH14-0AB0") != normOrder("6ES7315-2EH14-0AB0") {
		t.Error("MLFB with and without the space differ")
	}
	tests := []struct {
		pattern, order string
		prefix, want   bool
	}{
		{"6ES7214-1AG40-0XB0", "6ES7214-1AG40-0XB0", false, true},
		{"6ES7214-1AG40-0XB0", "6ES7214-1AG40-0AB0", false, true},
		{"6ES7214-1AG40-0XB0", "6ES7214-1AG40-0AB1", false, false},
		{"6GK7443-1EX30-0XE0", "6GK7443-1AX30-0XE0", false, false}, // "EX": x after a letter is literal
		{"BMEP*", "BMEP582040", true, true},
		{"BMEP58*S", "BMEP582040", true, false},
		{"BMEP58*S", "BMEP584040S", true, true},
		{"1756-L8z", "1756-L83E", true, true},
		{"1756-L8z", "1756-L73", true, false},
		{"5069-L3zS2", "5069-L330ERS2", true, true},
		{"5069-L4", "5069-L46ERMW", true, true},
	}
	for _, tt := range tests {
		if got := compilePattern(tt.pattern, tt.prefix).MatchString(normOrder(tt.order)); got != tt.want {
			t.Errorf("%s ~ %s = %v, want %v", tt.pattern, tt.order, got, tt.want)
		}
	}
	glob := []struct {
		token, in string
		want      bool
	}{
		{"cj2h-cpu6□-eip", "cj2h-cpu64-eip", true},
		{"cs1d-cpu□□h", "cs1d-cpu65h", true},
		{"ilc1x0", "ilc150", true},
		{"ilc3xx", "ilc390", true},
		{"ilc1x0", "ilc151", false},
		{"r04(en)cpu", "r04encpu", true},
		{"r04(en)cpu", "r04cpu", true},
		{"l26cpu-(p)bt", "l26cpu-pbt", true},
		{"g120(c/p/d)", "g120p", true},
		{"g120(c/p/d)", "g120x", false},
	}
	for _, g := range glob {
		if !isGlobToken(g.token) {
			t.Errorf("%q not a glob", g.token)
		}
		if got := compilePattern(g.token, false).MatchString(g.in); got != g.want {
			t.Errorf("%s ~ %s = %v, want %v", g.token, g.in, got, g.want)
		}
	}
}

func TestParseProductName(t *testing.T) {
	pn := parseProductName("SIMATIC ET200SP (incl. SIPLUS variants, except IM155-6 PN ST and IM155-6 PN HF)")
	if !slices.Equal(pn.required, []string{"et200sp"}) || len(pn.exclusions) != 2 || !slices.Equal(pn.exclusions[0], []string{"im155-6", "pn", "st"}) {
		t.Errorf("exclusions: %+v", pn)
	}
	pn = parseProductName("SIMATIC S7-400 PN/DP V6 CPU family (incl. SIPLUS variants)")
	if !slices.Equal(pn.required, []string{"s7-400", "pn/dp"}) || len(pn.lines) != 1 || pn.lines[0].op != "=" || pn.lines[0].v.String() != "V6" {
		t.Errorf("product line: %+v", pn)
	}
	pn = parseProductName("SINAMICS S120 prior to V4.7 w. PN (incl. SIPLUS variants)")
	if len(pn.lines) != 1 || pn.lines[0].op != "<" {
		t.Errorf("prior to: %+v", pn)
	}
	pn = parseProductName("MicroLogix 1400 B/C")
	if !slices.Equal(pn.series, []string{"B", "C"}) || !slices.Equal(pn.required, []string{"micrologix", "1400"}) {
		t.Errorf("series: %+v", pn)
	}
	pn = parseProductName("Modicon M580 CPU (part numbers BMEP* and BMEH*)")
	if !slices.Equal(pn.codeText, []string{"BMEP*", "BMEH*"}) {
		t.Errorf("part numbers: %+v", pn)
	}
	pn = parseProductName("RSP RSPE RSPS RSPL MSP EES EES EESX GRS OS RED")
	if len(pn.families) != 10 || len(pn.required) != 0 {
		t.Errorf("family list: %+v", pn)
	}
	pn = parseProductName("MELSEC iQ-F Series FX5U-32MT/ES, Serial number 17X**** or later")
	if !slices.Equal(pn.required, []string{"iq-f", "fx5u-32mt/es"}) || len(pn.notes) != 1 {
		t.Errorf("serial clause: %+v", pn)
	}
}
