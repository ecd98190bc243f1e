package lifecycle

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// A prefilter is a cheap necessary condition for a regular expression to
// match: the pattern's top-level alternatives, each with the literal texts
// (lower case, ASCII) any match of it contains. A value that contains all
// literals of no alternative cannot match, and the regexp is not run. A nil
// prefilter lets every value through.
type prefilter [][]string

// newPrefilter derives the prefilter of a pattern (as compiled, "(?i)"
// included); nil when some alternative has no required literal.
func newPrefilter(pattern string) prefilter {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	branches, ok := required(re.Simplify())
	if !ok {
		return nil
	}
	return branches
}

// required returns the alternatives of re with their required literals;
// ok is false when an alternative requires none.
func required(re *syntax.Regexp) ([][]string, bool) {
	switch re.Op {
	case syntax.OpAlternate:
		var out [][]string
		for _, sub := range re.Sub {
			b, ok := required(sub)
			if !ok {
				return nil, false
			}
			out = append(out, b...)
		}
		return out, true
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpLiteral:
		if lit, ok := asciiLower(re.Rune); ok {
			return [][]string{{lit}}, true
		}
	case syntax.OpConcat:
		// literals every match contains; a sub-expression with several
		// alternatives adds nothing (dropping a requirement only weakens
		// the filter)
		var lits []string
		for _, sub := range re.Sub {
			if b, ok := required(sub); ok && len(b) == 1 {
				lits = append(lits, b[0]...)
			}
		}
		if len(lits) > 0 {
			return [][]string{lits}, true
		}
	}
	return nil, false
}

// asciiLower returns runes as a lower-case string when all are ASCII.
func asciiLower(rs []rune) (string, bool) {
	b := make([]byte, 0, len(rs))
	for _, r := range rs {
		if r >= utf8.RuneSelf {
			return "", false
		}
		if r >= 'A' && r <= 'Z' {
			r += 'a' - 'A'
		}
		b = append(b, byte(r))
	}
	return string(b), len(b) > 0
}

// mayMatch reports whether lower (a value in lower case; ascii tells that
// it is pure ASCII) can match. Non-ASCII values always pass: case folding
// outside ASCII ("ſ" and "s", "K" and the Kelvin sign) is left to the
// regexp.
func (p prefilter) mayMatch(lower string, ascii bool) bool {
	if p == nil || !ascii {
		return true
	}
	for _, lits := range p {
		all := true
		for _, l := range lits {
			if !strings.Contains(lower, l) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}
