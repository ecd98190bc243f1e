package model

import (
	"errors"
	"fmt"
)

// MAC is a 48-bit Ethernet address held by value, so it can be a map key and
// never points into a packet buffer.
type MAC [6]byte

// ErrBadMAC is returned by ParseMAC for text that is not a 48-bit MAC.
var ErrBadMAC = errors.New("model: not a 48-bit MAC address")

// MACFrom copies the first six bytes of b; it returns the zero MAC when b is short.
func MACFrom(b []byte) MAC {
	var m MAC
	if len(b) >= 6 {
		copy(m[:], b[:6])
	}
	return m
}

// ParseMAC parses "00:1b:1b:aa:bb:cc", "00-1B-1B-AA-BB-CC" or "001b1baabbcc".
func ParseMAC(s string) (MAC, error) {
	// Separators (':', '-', '.') may stand anywhere; what is left must be
	// exactly 12 hex digits. No allocation: a session load parses a MAC per
	// asset and per conversation end.
	var m MAC
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case c == ':' || c == '-' || c == '.':
			continue
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return MAC{}, fmt.Errorf("%w: %q", ErrBadMAC, s)
		}
		if n == 12 {
			return MAC{}, fmt.Errorf("%w: %q", ErrBadMAC, s)
		}
		m[n/2] |= v << (4 * (1 - n%2))
		n++
	}
	if n != 12 {
		return MAC{}, fmt.Errorf("%w: %q", ErrBadMAC, s)
	}
	return m, nil
}

// IsZero reports whether m is 00:00:00:00:00:00.
func (m MAC) IsZero() bool { return m == MAC{} }

// IsBroadcast reports whether m is ff:ff:ff:ff:ff:ff.
func (m MAC) IsBroadcast() bool { return m == MAC{0xff, 0xff, 0xff, 0xff, 0xff, 0xff} }

// IsMulticast reports whether the group bit is set (this includes broadcast).
func (m MAC) IsMulticast() bool { return m[0]&0x01 != 0 }

// IsLocal reports whether the locally-administered bit is set (random or
// software-assigned addresses, which have no registered vendor).
func (m MAC) IsLocal() bool { return m[0]&0x02 != 0 }

// IsUnicast reports whether m can identify a single station.
func (m MAC) IsUnicast() bool { return !m.IsZero() && !m.IsMulticast() }

// OUI returns the 24-bit organisationally unique identifier.
func (m MAC) OUI() uint32 { return uint32(m[0])<<16 | uint32(m[1])<<8 | uint32(m[2]) }

const hexDigits = "0123456789abcdef"

// String formats m as lower-case colon-separated hex.
func (m MAC) String() string {
	var b [17]byte
	for i, v := range m {
		b[i*3] = hexDigits[v>>4]
		b[i*3+1] = hexDigits[v&0x0f]
		if i < 5 {
			b[i*3+2] = ':'
		}
	}
	return string(b[:])
}

// MarshalText implements encoding.TextMarshaler.
func (m MAC) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *MAC) UnmarshalText(b []byte) error {
	v, err := ParseMAC(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
