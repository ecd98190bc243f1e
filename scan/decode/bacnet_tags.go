package decode

import (
	"encoding/binary"
	"unicode/utf16"
)

// bacTag is one decoded BACnet tag: application or context, with its
// content (nil for opening/closing tags and application booleans).
type bacTag struct {
	num         uint8
	context     bool
	open, close bool
	lvt         uint32
	data        []byte
}

// bacNext decodes the tag at the start of b and returns the bytes after it.
// Every length is checked against b.
func bacNext(b []byte) (t bacTag, rest []byte, ok bool) {
	if len(b) < 1 {
		return t, nil, false
	}
	h := b[0]
	i := 1
	t.num = h >> 4
	t.context = h&0x08 != 0
	if t.num == 15 {
		if len(b) < 2 {
			return t, nil, false
		}
		t.num = b[1]
		i = 2
	}
	lvt := uint32(h & 7)
	if t.context && lvt == 6 {
		t.open = true
		return t, b[i:], true
	}
	if t.context && lvt == 7 {
		t.close = true
		return t, b[i:], true
	}
	if lvt == 5 {
		if i >= len(b) {
			return t, nil, false
		}
		lvt = uint32(b[i])
		i++
		switch lvt {
		case 254:
			if i+2 > len(b) {
				return t, nil, false
			}
			lvt = uint32(binary.BigEndian.Uint16(b[i:]))
			i += 2
		case 255:
			if i+4 > len(b) {
				return t, nil, false
			}
			lvt = binary.BigEndian.Uint32(b[i:])
			i += 4
		}
	}
	t.lvt = lvt
	if !t.context && t.num == 1 { // boolean: the value is the length field
		return t, b[i:], true
	}
	if uint64(lvt) > uint64(len(b)-i) {
		return t, nil, false
	}
	t.data = b[i : i+int(lvt)]
	return t, b[i+int(lvt):], true
}

// bacSkip skips to after the closing tag num that matches an opening tag
// already read, through nested constructed values.
func bacSkip(b []byte, num uint8) ([]byte, bool) {
	depth := 0
	for k := 0; k < 4096; k++ {
		t, rest, ok := bacNext(b)
		if !ok {
			return nil, false
		}
		b = rest
		switch {
		case t.open:
			depth++
		case t.close && depth > 0:
			depth--
		case t.close:
			return b, t.num == num
		}
	}
	return nil, false
}

// bacObject splits an object identifier into type and instance.
func bacObject(b []byte) (typ uint16, inst uint32) {
	v := binary.BigEndian.Uint32(b)
	return uint16(v >> 22), v & 0x3fffff
}

// bacUnsigned decodes an unsigned of 1-4 bytes (longer values saturate).
func bacUnsigned(b []byte) uint32 {
	if len(b) > 4 {
		return 0xffffffff
	}
	var v uint32
	for _, c := range b {
		v = v<<8 | uint32(c)
	}
	return v
}

// bacString decodes a character string (UTF-8/ANSI, UCS-2, ISO 8859-1);
// other application types give "".
func bacString(t bacTag) string {
	if t.context || t.num != 7 || len(t.data) < 1 {
		return ""
	}
	s := t.data[1:]
	switch t.data[0] {
	case 0: // UTF-8 (ANSI X3.4)
		return cleanText(s)
	case 4: // UCS-2, big-endian
		if len(s) > 2*maxText {
			s = s[:2*maxText]
		}
		u := make([]uint16, len(s)/2)
		for i := range u {
			u[i] = binary.BigEndian.Uint16(s[2*i:])
		}
		return cleanText([]byte(string(utf16.Decode(u))))
	case 5: // ISO 8859-1
		if len(s) > maxText {
			s = s[:maxText]
		}
		r := make([]rune, len(s))
		for i, c := range s {
			r[i] = rune(c)
		}
		return cleanText([]byte(string(r)))
	}
	return ""
}
