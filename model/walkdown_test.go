package model

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestLocationParseAndCompare(t *testing.T) {
	l := ParseLocation(" Plant / Hall 1 › Cabinet +A2 //")
	if got := l.String(); got != "Plant/Hall 1/Cabinet +A2" {
		t.Fatalf("String = %q", got)
	}
	if l.Site() != "Plant" || !l.Within(ParseLocation("plant/hall 1")) || l.Within(ParseLocation("Plant/Hall 2")) {
		t.Errorf("site/within wrong for %v", l)
	}
	if !l.Equal(ParseLocation("PLANT/hall 1/cabinet +a2")) || l.Equal(ParseLocation("Plant/Hall 1")) {
		t.Error("Equal wrong")
	}
	if ParseLocation("  / ") != nil || Location(nil).Site() != "" {
		t.Error("empty path not empty")
	}
}

func TestDocumentedFieldsByName(t *testing.T) {
	var d DocumentedDevice
	for i, f := range DocumentedFields {
		if !d.SetField(f, strings.Repeat("x", i+1)) {
			t.Fatalf("SetField(%q) refused", f)
		}
	}
	for i, f := range DocumentedFields {
		if got := d.Field(f); got != strings.Repeat("x", i+1) {
			t.Errorf("Field(%q) = %q", f, got)
		}
	}
	if d.SetField("colour", "red") || d.Field("colour") != "" {
		t.Error("unknown field accepted")
	}
}

func TestVerdictJSONAndManualFact(t *testing.T) {
	at := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	v := Verdict{Value: VerdictCompatible, Basis: BasisWalkdown, By: "anna", At: at,
		Compared: []Comparison{{Field: FieldSerial, Documented: "S1", Observed: "S2", Source: "manual"}}}
	b, err := json.Marshal(Walkdown{Location: "Plant/A2", Verdict: &v})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"location":"Plant/A2","verdict":{"value":"compatible","basis":"walkdown","compared":[{"field":"serial","documented":"S1","observed":"S2","source":"manual","agree":false}],"by":"anna","at":"2026-12-07T10:00:00Z"}}`
	if string(b) != want {
		t.Errorf("json\n got %s\nwant %s", b, want)
	}
	if p, ok := ParseVerdict(" MISSING "); !ok || p != VerdictMissing {
		t.Errorf("ParseVerdict = %q %v", p, ok)
	}
	if _, ok := ParseVerdict("maybe"); ok {
		t.Error("ParseVerdict accepted maybe")
	}
	f := ManualFact(FieldSerial, "S C-X4U1", "anna", "nameplate", at)
	fb, _ := json.Marshal(f)
	if !strings.Contains(string(fb), `"kind":"manual"`) || !strings.Contains(string(fb), `"origin":"anna"`) {
		t.Errorf("manual fact json %s", fb)
	}
	if !SameValue(FieldFirmware, "V2.9", "v2.9.4") || SameValue(FieldSerial, "A", "B") {
		t.Error("SameValue wrong")
	}
}
