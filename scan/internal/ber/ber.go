// Package ber appends BER (X.690) elements with definite lengths: one
// encoder for the prober's SNMP requests, the demo plant's captures and the
// decoders' tests. Open and Close build an element in place without
// allocating; lengths up to 65535 bytes (the short form, 0x81 and 0x82).
package ber

// Open appends a tag and a one-byte length placeholder and returns the
// offset of the content, for Close.
func Open(b []byte, tag byte) ([]byte, int) {
	b = append(b, tag, 0)
	return b, len(b)
}

// Close fixes the length of the element whose content starts at at (from
// Open) and runs to the end of b, moving the content when the long form is
// needed.
func Close(b []byte, at int) []byte {
	n := len(b) - at
	switch {
	case n < 0x80:
		b[at-1] = byte(n)
	case n < 0x100:
		b = append(b, 0)
		copy(b[at+1:], b[at:at+n])
		b[at-1], b[at] = 0x81, byte(n)
	default:
		b = append(b, 0, 0)
		copy(b[at+2:], b[at:at+n])
		b[at-1], b[at], b[at+1] = 0x82, byte(n>>8), byte(n)
	}
	return b
}

// TLV returns one element: tag, length, then the parts as its content.
func TLV(tag byte, parts ...[]byte) []byte {
	size := 4
	for _, p := range parts {
		size += len(p)
	}
	b, at := Open(make([]byte, 0, size), tag)
	for _, p := range parts {
		b = append(b, p...)
	}
	return Close(b, at)
}
