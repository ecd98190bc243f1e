package oui

import "testing"

func TestShortName(t *testing.T) {
	tests := map[string]string{
		// Examples from the package's brief and the registry.
		"Siemens AG":  "Siemens",
		"Siemens AG,": "Siemens",
		"Siemens AG, Sector Industry, Drive Technologies, Motion Control Systems": "Siemens",
		"Rockwell Automation":              "Rockwell Automation",
		"Schneider Electric":               "Schneider Electric",
		"Cisco Systems, Inc":               "Cisco Systems",
		"Phoenix Contact GmbH & Co. KG":    "Phoenix Contact",
		"HUAWEI TECHNOLOGIES CO.,LTD":      "Huawei Technologies",
		"MOXA TECHNOLOGIES CORP., LTD.":    "Moxa Technologies",
		"WAGO Kontakttechnik GmbH":         "WAGO Kontakttechnik",
		"TELEMECANIQUE ELECTRIQUE":         "Telemecanique Electrique",
		"Beckhoff Automation GmbH":         "Beckhoff Automation",
		"PHOENIX CONTACT Electronics GmbH": "PHOENIX CONTACT Electronics", // mixed case: left alone
		// White space.
		"  Shenzhen YOUHUA Technology Co., Ltd\t":                  "Shenzhen YOUHUA Technology",
		"Jiangsu fulian  Communication Technology":                 "Jiangsu fulian Communication Technology",
		"Sichuan\u00a0AI-Link\u00a0Technology\u00a0Co.,\u00a0Ltd.": "Sichuan AI-Link Technology",
		// Legal forms in their many spellings.
		"Hon Hai Precision Ind. Co.,Ltd.":     "Hon Hai Precision Ind.",
		"Mianyang Netop Co.Ltd":               "Mianyang Netop",
		"Foo Technology Co.,.Ltd.":            "Foo Technology",
		"Rohde & Schwarz GmbH & Co. KG":       "Rohde & Schwarz",
		"ABB S.p.A.":                          "ABB",
		"Eilersen Electric A/S":               "Eilersen Electric",
		"Nubewell Networks Pvt Ltd":           "Nubewell Networks",
		"Belden India Private Limited":        "Belden India",
		"Xingluo Technology Company  Limited": "Xingluo Technology",
		"Foo Sp. z o.o.":                      "Foo",
		"Bar s. r. o.":                        "Bar",
		"Baz S.A. de C.V.":                    "Baz",
		"Belden Singapore Pte. Ltd.":          "Belden Singapore",
		"emz-Hanauer GmbH & Co. KGaA":         "emz-Hanauer",
		"NEC Corporation":                     "NEC",
		// Conservative cases: keep the name rather than guess.
		"Corporation":                 "Corporation", // never strip the only word
		"S.& A.S. Ltd.":               "S.& A.S.",    // stop before one letter is left
		"ABB Oy Drives":               "ABB Oy Drives",
		"3M COMPANY":                  "3M COMPANY",
		"CERN":                        "CERN", // one all-caps word may be an acronym
		"IEEE Registration Authority": "IEEE Registration Authority",
		"Private":                     "Private",
		"":                            "",
		// Re-casing all-capitals names keeps short words (acronyms).
		"ABB INDUSTRIAL SYSTEMS AB":               "ABB Industrial Systems",
		"NETWORK RESEARCH CORPORATION":            "Network Research",
		"COMPAL INFORMATION (KUNSHAN) CO., LTD. ": "Compal Information (Kunshan)",
		"CENTER FOR THE ADVANCEMENT OF ROBOTS":    "Center for the Advancement of Robots",
		"D-LINK SYSTEMS, INC.":                    "D-Link Systems",
		"ÉLECTRICITÉ DE FRANCE SA":                "Électricité DE France",
	}
	for in, want := range tests {
		if got := ShortName(in); got != want {
			t.Errorf("ShortName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShortNameIdempotent(t *testing.T) {
	tb, err := load()
	if err != nil {
		t.Fatal(err)
	}
	for i, full := range tb.full {
		s := tb.short[i]
		if s == "" {
			t.Errorf("ShortName(%q) is empty", full)
		}
		if again := ShortName(s); again != s {
			t.Errorf("ShortName not idempotent: %q -> %q -> %q", full, s, again)
		}
	}
}
