package oui

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// legalForms lists company-form suffixes ShortName removes, as lower-case
// words with dots dropped ("S.p.A." is "spa"). A multi-word entry matches
// consecutive words ("Sp. z o.o.", "S.A. de C.V.").
var legalForms = [][]string{
	{"sp", "z", "oo"}, {"s", "r", "o"}, {"sa", "de", "cv"}, {"s", "a"},
	{"private", "limited"}, {"company", "limited"}, {"company", "ltd"},
	{"inc"}, {"incorporated"}, {"corp"}, {"corporation"}, {"co"}, {"ltd"}, {"limited"}, {"ltda"},
	{"coltd"}, {"cokg"}, {"llc"}, {"llp"}, {"lp"}, {"plc"}, {"pte"}, {"pty"}, {"pvt"}, {"p/l"},
	{"gmbh"}, {"mbh"}, {"ag"}, {"kg"}, {"kgaa"}, {"ohg"}, {"ug"}, {"ev"}, {"se"},
	{"sa"}, {"sas"}, {"sarl"}, {"spa"}, {"srl"}, {"sl"}, {"bv"}, {"nv"}, {"bvba"},
	{"ab"}, {"as"}, {"asa"}, {"a/s"}, {"aps"}, {"oy"}, {"oyj"},
	{"kk"}, {"kft"}, {"zrt"}, {"sro"}, {"doo"}, {"jsc"}, {"bhd"}, {"sdn"}, {"tbk"},
}

// lowerWords stay lower case when ShortName re-cases an all-capitals name.
var lowerWords = map[string]bool{"AND": true, "OF": true, "FOR": true, "THE": true}

// ShortName tidies a registered organisation name for a narrow terminal
// column. It collapses white space and then removes trailing company-form
// words ("Inc.", "Co., Ltd.", "GmbH & Co. KG", "S.p.A.", ...) and the
// commas, "&" and spaces left before them, never the first word and never
// leaving fewer than two letters or digits. A name written entirely in
// capitals with at least two words of four or more letters is re-cased:
// those words become "Title" case, "AND", "OF", "FOR" and "THE" after the
// first word become lower case, other short words (acronyms such as "ABB" or
// "NEC") are kept. Everything else is left as registered, so a legal form in
// the middle of a name ("ABB Oy Drives") stays:
//
//	"Siemens AG,"                       -> "Siemens"
//	"Cisco Systems, Inc"                -> "Cisco Systems"
//	"Phoenix Contact GmbH & Co. KG"     -> "Phoenix Contact"
//	"HUAWEI TECHNOLOGIES CO.,LTD"       -> "Huawei Technologies"
//	"Rockwell Automation"               -> "Rockwell Automation"
//	"Siemens AG, Sector Industry, DT"   -> "Siemens"
func ShortName(full string) string {
	s := full
	if needsSpaceCleanup(s) {
		s = strings.Join(strings.Fields(s), " ")
	}
	// "Siemens AG, Sector Industry, Drive Technologies" names a division
	// after the company and its legal form: keep the company.
	if i := strings.Index(s, ", "); i > 0 {
		if head := s[:i]; stripLegalForm(head) != head && alnums(stripLegalForm(head)) >= 2 {
			s = head
		}
	}
	for {
		t := stripLegalForm(s)
		if t == s || alnums(t) < 2 { // "S.& A.S. Ltd." must not become "S."
			break
		}
		s = t
	}
	return recase(s)
}

// needsSpaceCleanup reports whether s has leading, trailing, repeated or
// non-ASCII-space white space.
func needsSpaceCleanup(s string) bool {
	prevSpace := true
	for _, r := range s {
		sp := unicode.IsSpace(r)
		if sp && (prevSpace || r != ' ') {
			return true
		}
		prevSpace = sp
	}
	return prevSpace && s != ""
}

// maxFormWords is the most words any legalForms entry has.
const maxFormWords = 3

// lastWords finds up to maxFormWords words at the end of s, words being runs
// of bytes other than space and comma, skipping words made only of dots. It
// returns their start and end offsets, last word first.
func lastWords(s string) (starts, ends [maxFormWords]int, n int) {
	i := len(s)
	for n < maxFormWords {
		for i > 0 && (s[i-1] == ' ' || s[i-1] == ',') {
			i--
		}
		if i == 0 {
			break
		}
		end := i
		for i > 0 && s[i-1] != ' ' && s[i-1] != ',' {
			i--
		}
		if strings.Trim(s[i:end], ".") == "" { // a lone "." or ".."
			continue
		}
		starts[n], ends[n] = i, end
		n++
	}
	return starts, ends, n
}

// wordIs reports whether w, ignoring dots and ASCII case, is key.
func wordIs(w, key string) bool {
	j := 0
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == '.' {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if j >= len(key) || key[j] != c {
			return false
		}
		j++
	}
	return j == len(key)
}

// formsByLastWord indexes legalForms by their last word.
var formsByLastWord = func() map[string][][]string {
	m := make(map[string][][]string)
	for _, f := range legalForms {
		last := f[len(f)-1]
		m[last] = append(m[last], f)
	}
	return m
}()

// wordKey writes w lower-cased (ASCII) without dots into buf and returns it,
// or nil if it does not fit.
func wordKey(buf []byte, w string) []byte {
	buf = buf[:0]
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c == '.' {
			continue
		}
		if len(buf) == cap(buf) {
			return nil
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf
}

// stripLegalForm removes one trailing legal form from s, with the spaces,
// commas and "&" before it, or returns s without trailing spaces and commas.
func stripLegalForm(s string) string {
	starts, ends, n := lastWords(s)
	if n == 0 {
		return s
	}
	var buf [16]byte
	key := wordKey(buf[:], s[starts[0]:ends[0]])
	for _, form := range formsByLastWord[string(key)] {
		k := len(form)
		if k > n {
			continue
		}
		if k == n && strings.TrimLeft(s[:starts[n-1]], " ,.") == "" { // keep at least one word
			continue
		}
		match := true
		for i, want := range form {
			w := k - 1 - i // form is in reading order, words last-first
			if !wordIs(s[starts[w]:ends[w]], want) {
				match = false
				break
			}
		}
		if match {
			return strings.TrimRight(s[:starts[k-1]], " ,&")
		}
	}
	return strings.TrimRight(s, " ,")
}

// alnums counts the letters and digits in s.
func alnums(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			n++
		}
	}
	return n
}

// recase title-cases an all-capitals name; see ShortName.
func recase(s string) string {
	long := 0
	for i := 0; ; {
		start, end := nextLetterRun(s, i)
		if start < 0 {
			break
		}
		w := s[start:end]
		if strings.IndexFunc(w, unicode.IsLower) >= 0 {
			return s
		}
		if utf8.RuneCountInString(w) >= 4 {
			long++
		}
		i = end
	}
	if long < 2 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := 0; ; {
		start, end := nextLetterRun(s, i)
		if start < 0 {
			break
		}
		b.WriteString(s[last:start])
		w := s[start:end]
		switch {
		case start > 0 && lowerWords[w]:
			b.WriteString(strings.ToLower(w))
		case utf8.RuneCountInString(w) >= 4:
			r, n := utf8.DecodeRuneInString(w)
			b.WriteRune(r)
			b.WriteString(strings.ToLower(w[n:]))
		default:
			b.WriteString(w)
		}
		last, i = end, end
	}
	b.WriteString(s[last:])
	return b.String()
}

// nextLetterRun returns the byte offsets of the first run of letters in s at
// or after offset i, or -1, -1 when there is none.
func nextLetterRun(s string, i int) (start, end int) {
	j := strings.IndexFunc(s[i:], unicode.IsLetter)
	if j < 0 {
		return -1, -1
	}
	start = i + j
	k := strings.IndexFunc(s[start:], func(r rune) bool { return !unicode.IsLetter(r) })
	if k < 0 {
		return start, len(s)
	}
	return start, start + k
}
