package decode

import (
	"strings"
	"unicode/utf8"
)

// maxText bounds every string value taken from a packet.
const maxText = 256

// cleanText turns protocol bytes into a printable, bounded string: NULs and
// padding are trimmed, control characters become spaces, invalid UTF-8 is
// replaced. It returns "" for nothing printable.
func cleanText(b []byte) string {
	if len(b) > maxText*4 {
		b = b[:maxText*4]
	}
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		b = b[n:]
		switch {
		case r == 0:
			sb.WriteByte(' ')
		case r == utf8.RuneError && n == 1:
			sb.WriteRune('\uFFFD')
		case r < 0x20 || r == 0x7f:
			if r == '\n' || r == '\r' || r == '\t' {
				sb.WriteByte(' ')
			} else {
				sb.WriteByte(' ')
			}
		default:
			sb.WriteRune(r)
		}
	}
	s := strings.Join(strings.Fields(sb.String()), " ")
	if utf8.RuneCountInString(s) > maxText {
		r := []rune(s)
		s = string(r[:maxText])
	}
	return s
}

// cleanLines is cleanText that keeps line breaks as " / " (CDP software
// versions and LLDP descriptions are multi-line).
func cleanLines(b []byte) string {
	parts := strings.FieldsFunc(string(b), func(r rune) bool { return r == '\n' || r == '\r' })
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if c := cleanText([]byte(p)); c != "" {
			out = append(out, c)
		}
	}
	s := strings.Join(out, " / ")
	if len(s) > maxText*2 {
		s = s[:maxText*2]
	}
	return s
}
