// Package safe makes device-controlled strings harmless for every output:
// the terminal (TUI, tables, logs) and spreadsheets (CSV, XLSX).
//
// Anything a device or a capture file said (names, banners, vendor strings,
// error reasons, file names) passes through Text before it is shown or
// written, and through CSV before it becomes a spreadsheet cell. Both are
// pure functions of their input, allocate only when something must change,
// and never grow the string by more than one rune per removed character.
package safe

import (
	"strings"
	"unicode/utf8"
)

// Text returns s with everything a terminal could interpret removed:
// C0 controls and DEL (ESC starts every terminal escape), C1 controls
// (U+0080–U+009F, 8-bit CSI and OSC), bidirectional overrides and isolates
// (U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C), zero-width and other
// invisible format characters (U+200B–U+200D, U+2060–U+2064, U+FEFF), and
// invalid UTF-8. Tabs and line breaks become one space; other removed runes
// become U+FFFD so that a reader sees something was there.
func Text(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteRune(utf8.RuneError)
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case unsafeRune(r):
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clean reports whether s needs no change (the common case: printable ASCII).
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			for _, r := range s[i:] {
				if r == utf8.RuneError || unsafeRune(r) || r < 0x20 {
					return false
				}
			}
			return utf8.ValidString(s[i:])
		}
	}
	return true
}

// unsafeRune reports runes a terminal or a text renderer acts on instead of
// printing.
func unsafeRune(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f: // C1 controls
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f: // ALM, LRM, RLM
		return true
	case r >= 0x200b && r <= 0x200d: // zero-width space, non-joiner, joiner
		return true
	case r >= 0x202a && r <= 0x202e: // bidi embeddings and overrides
		return true
	case r >= 0x2060 && r <= 0x2064, r >= 0x2066 && r <= 0x2069: // word joiner, invisible operators, bidi isolates
		return true
	case r == 0xfeff: // zero-width no-break space
		return true
	case r >= 0xfff9 && r <= 0xfffb: // interlinear annotation controls
		return true
	}
	return false
}

// CSV returns Text(s) made safe as a spreadsheet cell: a value that a
// spreadsheet would read as a formula (starting with =, +, -, @, or a tab or
// carriage return before sanitising) is prefixed with a single quote, as
// OWASP recommends for CSV injection. Plain negative numbers ("-12", "-3.5")
// are left alone so numeric columns stay numeric.
func CSV(s string) string {
	if s == "" {
		return s
	}
	first := s[0]
	t := Text(s)
	switch first {
	case '=', '+', '@', '\t', '\r':
		return "'" + t
	case '-':
		if isNumber(s[1:]) {
			return t
		}
		return "'" + t
	}
	return t
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	dot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}
