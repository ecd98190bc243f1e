package advisory

import "testing"

// Cisco IOS train versions ("15.2(6)E0a", as advisories for industrial
// switches built on IOS write them) are decided, within their train only
// (issue 14, item 19).
func TestCiscoIOSTrainVersions(t *testing.T) {
	for _, tt := range []struct {
		spec, v string
		in, ok  bool
	}{
		{"<= 15.2(6)E0a", "15.2(6)E0a", true, true},
		{"<= 15.2(6)E0a", "15.2(6)E0", true, true},
		{"<= 15.2(6)E0a", "15.2(6)E", true, true},
		{"<= 15.2(6)E0a", "15.2(6)E1", false, true},
		{"<= 15.2(6)E0a", "15.2(5)E2", true, true},
		{"<= 15.2(6)E0a", "15.2(7)E0", false, true},
		{"<= 15.2(6)E0a", "15.0(2)E10", true, true},
		{"<= 15.2(6)E0a", "Cisco IOS Software, IE2000 Software (IE2000-UNIVERSALK9-M), Version 15.2(6)E0a, RELEASE SOFTWARE (fc1)", true, true},
		{"< 12.2(55)SE10", "12.2(55)SE9", true, true},
		{"< 12.2(55)SE10", "12.2(55)SE10", false, true},
		{"< 12.2(55)SE10", "12.2(55)SE", true, true},
		// another train is another code line: undecided, not a guess
		{"<= 15.2(6)E0a", "15.2(4)M12", false, false},
		{"< 12.2(55)SE10", "12.2(55)EX3", false, false},
		// a plain version against a train bound: the train is unknown
		{"<= 15.2(6)E0a", "15.2.6", false, false},
		{">= 15.2(4)E1 and < 15.2(7)E3", "15.2(7)E2", true, true},
		{">= 15.2(4)E1 and < 15.2(7)E3", "15.2(4)E0", false, true},
		{"15.2(7)E3 | 15.2(7)E4", "15.2(7)E4", true, true},
		// a plain bound against a train version compares the numbers
		{"< 16.0", "15.2(7)E4", true, true},
	} {
		s := ParseVersionSpec(tt.spec)
		if s.Kind != SpecRanges {
			t.Errorf("%q: kind %v (%s)", tt.spec, s.Kind, s.Problem)
			continue
		}
		in, ok := s.Contains(tt.v)
		if in != tt.in || ok != tt.ok {
			t.Errorf("%q contains %q = %v, %v; want %v, %v", tt.spec, tt.v, in, ok, tt.in, tt.ok)
		}
	}
	// WAGO's firmware index in parentheses is still a FW index
	if v, err := ParseVersion("03.10.08(22)"); err != nil || v.fw != 22 || v.train != "" {
		t.Errorf("WAGO 03.10.08(22): %+v %v", v, err)
	}
	// strict parsing still refuses what is not a train
	for _, bad := range []string{"15.2(6)E0a junk", "15.2(6)TOOLONGTRAIN1"} {
		if _, err := ParseVersion(bad); err == nil {
			t.Errorf("ParseVersion(%q) accepted", bad)
		}
	}
	if c, err := CompareVersions("15.2(6)E0a", "15.2(6)E0b"); err != nil || c != -1 {
		t.Errorf("E0a vs E0b: %d %v", c, err)
	}
	if _, err := CompareVersions("15.2(6)E0a", "15.2(6)M0a"); err == nil {
		t.Error("two trains compared")
	}
}

// TestTruthEveryGrammarDecided: every version expression of the real CSAF
// set is decided, except bounds on what the network cannot see (serial
// number, production date) and the two that are not a version grammar: a
// range on another product's version, and two fixed versions on one line.
func TestTruthEveryGrammarDecided(t *testing.T) {
	notGrammar := map[string]bool{
		"All versions installed in conjunction with SIMATIC WinCC < V7.3 Update": true,
		"< 7.03 /7.04": true,
	}
	for _, r := range readTruth(t) {
		if r.category == "" {
			continue
		}
		var p Product
		s := versionNode(r.vendor, r.category, r.expr, &p)
		switch {
		case s.MachineReadable(), s.Kind == SpecSerial, s.Kind == SpecProductionDate:
		case notGrammar[r.expr]:
		default:
			t.Errorf("%s %q not decided: %s", r.file, r.expr, s.Problem)
		}
	}
}
