package decode

// A small bounded BER (ITU-T X.690) reader for the ISO presentation layer
// and MMS. It never allocates: elements are views into the PDU. Every
// length is checked against what is left; indefinite lengths, tags longer
// than 4 bytes and lengths above the remaining bytes are errors. Callers
// that descend into constructed elements bound their depth (berMaxDepth).

// BER tag classes (the top two bits of the identifier octet).
const (
	berUniversal   = 0x00
	berApplication = 0x40
	berContext     = 0x80
)

// berMaxDepth bounds nested descent into MMS data.
const berMaxDepth = 8

// berElem is one TLV element.
type berElem struct {
	class       byte
	constructed bool
	tag         uint32
	content     []byte
}

// berNext reads the element at the start of b and returns what follows it.
func berNext(b []byte) (e berElem, rest []byte, ok bool) { return berRead(b, false) }

// berOpen is berNext for an outer element of a PDU cut at the end of a
// segment when cut is set: its content is what arrived. Leaves are always
// read with berNext, so a value is complete or not reported.
func berOpen(b []byte, cut bool) (e berElem, rest []byte, ok bool) { return berRead(b, cut) }

func berRead(b []byte, cut bool) (e berElem, rest []byte, ok bool) {
	if len(b) < 2 {
		return e, nil, false
	}
	id := b[0]
	e.class = id & 0xc0
	e.constructed = id&0x20 != 0
	e.tag = uint32(id & 0x1f)
	i := 1
	if e.tag == 0x1f { // high tag number form
		e.tag = 0
		for n := 0; ; n++ {
			if i >= len(b) || n == 4 {
				return e, nil, false
			}
			e.tag = e.tag<<7 | uint32(b[i]&0x7f)
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
	}
	if i >= len(b) {
		return e, nil, false
	}
	l := int(b[i])
	i++
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 3 || i+n > len(b) {
			return e, nil, false // indefinite or oversized length
		}
		l = 0
		for k := 0; k < n; k++ {
			l = l<<8 | int(b[i+k])
		}
		i += n
	}
	if l > len(b)-i {
		if !cut {
			return e, nil, false
		}
		e.content = b[i:]
		return e, nil, true
	}
	e.content = b[i : i+l]
	return e, b[i+l:], true
}

// is reports whether e has this class, constructed flag and tag.
func (e berElem) is(class byte, constructed bool, tag uint32) bool {
	return e.class == class && e.constructed == constructed && e.tag == tag
}

// berFirst returns the first element inside a constructed element's content.
func berFirst(b []byte) (berElem, bool) {
	e, _, ok := berNext(b)
	return e, ok
}

// berChild returns the n-th (0-based) element of content b.
func berChild(b []byte, n int) (berElem, bool) {
	for i := 0; ; i++ {
		e, rest, ok := berNext(b)
		if !ok {
			return e, false
		}
		if i == n {
			return e, true
		}
		b = rest
	}
}

// berUint reads a non-negative INTEGER content of at most 4 bytes.
func berUint(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 5 || (len(b) == 5 && b[0] != 0) {
		return 0, false
	}
	var v uint32
	for _, x := range b {
		v = v<<8 | uint32(x)
	}
	return v, true
}

// berContextFields walks the elements of a constructed value and puts the
// content of each context-specific primitive with tag 0..len(out)-1 in
// out[tag], stopping after the element with tag len(out)-1: the identity
// fields of GOOSE and SV PDUs come first, their data set values after. ok
// is false for a malformed element.
func berContextFields(b []byte, out [][]byte) (ok bool) {
	last := uint32(len(out) - 1)
	for len(b) > 0 {
		e, rest, ok := berNext(b)
		if !ok {
			return false
		}
		if e.class == berContext && !e.constructed && e.tag <= last {
			out[e.tag] = e.content
		}
		if e.tag >= last {
			return true
		}
		b = rest
	}
	return true
}
