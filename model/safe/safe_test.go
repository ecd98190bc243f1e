package safe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	cases := map[string]string{
		"Siemens S7-1500":      "Siemens S7-1500",
		"evil\x1b]0;pwned\x07": "evil\uFFFD]0;pwned\uFFFD",
		"clear\x1b[2J":         "clear\uFFFD[2J",
		"c1\u009b31m":          "c1\uFFFD31m",
		"bidi\u202egnp.exe":    "bidi\uFFFDgnp.exe",
		"zero\u200bwidth":      "zero\uFFFDwidth",
		"tab\tand\nline":       "tab and line",
		"bad\xffutf8":          "bad\uFFFDutf8",
		"Ünïcødé 控制器":          "Ünïcødé 控制器",
		"iso\u2066late\u2069":  "iso\uFFFDlate\uFFFD",
		"bom\ufeff":            "bom\uFFFD",
	}
	for in, want := range cases {
		if got := Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCSV(t *testing.T) {
	cases := map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+cmd":              "'+cmd",
		"@SUM(A1)":          "'@SUM(A1)",
		"-2+3":              "'-2+3",
		"-12":               "-12",
		"-3.5":              "-3.5",
		"\t=1":              "' =1",
		"PLC-1":             "PLC-1",
		"":                  "",
	}
	for in, want := range cases {
		if got := CSV(in); got != want {
			t.Errorf("CSV(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTextAllocatesNothingWhenClean(t *testing.T) {
	s := "6ES7 315-2EH14-0AB0 Ünïcødé"
	if n := testing.AllocsPerRun(100, func() { _ = Text(s) }); n != 0 {
		t.Fatalf("Text on a clean string allocates %v times", n)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "a", "\x1b[2J", "\u202e", "\xff\xfe", "=1", "-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, out := range []string{Text(s), strings.TrimPrefix(CSV(s), "'")} {
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 out of %q: %q", s, out)
			}
			for _, r := range out {
				if unsafeRune(r) {
					t.Fatalf("unsafe rune %U left in %q (from %q)", r, out, s)
				}
			}
			if utf8.RuneCountInString(out) > len(s) {
				t.Fatalf("output %q longer in runes than input bytes %q", out, s)
			}
		}
		if Text(Text(s)) != Text(s) {
			t.Fatalf("Text not idempotent on %q", s)
		}
	})
}
