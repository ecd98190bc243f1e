package store

import (
	"encoding/binary"
	"net/netip"
	"time"

	"otscope/model"
)

// The primitives of the store's binary values (counter records, counters.go;
// asset and conversation records, record.go): uvarints and zig-zag varints
// for numbers, counts and lengths; strings as their length and bytes;
// addresses as netip's binary form with its length; times as a flag, then
// the offset from UTC when it is not 0, the Unix seconds and the
// nanoseconds. One reader reads them all and checks every length against
// what is left, so damaged or hostile bytes are an error, never a panic or
// a large allocation.

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendAddr(b []byte, a netip.Addr) []byte {
	b = binary.AppendUvarint(b, uint64(a.BitLen()/8+len(a.Zone())))
	b, _ = a.AppendBinary(b) // never fails
	return b
}

// Time flags. A time keeps its instant and its offset from UTC, as JSON
// does: one at offset 0 reads back in UTC, one at another offset in Local
// when Local has that offset then, else in a fixed zone.
const (
	timeZero = iota
	timeUTC
	timeOffset
)

func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return append(b, timeZero)
	}
	if _, off := t.Zone(); off == 0 {
		b = append(b, timeUTC)
	} else {
		b = append(b, timeOffset)
		b = binary.AppendVarint(b, int64(off))
	}
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// reader reads a value. Strings are cut from s, one copy of the value, so
// a decoded record's strings share one allocation. After the first error
// every read returns a zero value and bad stays set. syms holds the
// strings read by sym, for later references (record.go).
type reader struct {
	s    string
	i    int
	syms []string
	bad  bool
}

func newReader(b []byte) *reader { return &reader{s: string(b)} }

func (r *reader) fail() {
	r.bad = true
	r.i = len(r.s)
}

// left is how many bytes are unread.
func (r *reader) left() int { return len(r.s) - r.i }

func (r *reader) uvarint() uint64 {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.i >= len(r.s) {
			break
		}
		c := r.s[r.i]
		r.i++
		if c < 0x80 {
			if shift == 63 && c > 1 {
				break // overflows 64 bits
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
	}
	r.fail()
	return 0
}

// varint reads what binary.AppendVarint wrote (zig-zag over a uvarint).
func (r *reader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

// max returns v, failing when it is over limit.
func (r *reader) max(v, limit uint64) uint64 {
	if v > limit {
		r.fail()
		return 0
	}
	return v
}

func (r *reader) byte() byte {
	if r.i >= len(r.s) {
		r.fail()
		return 0
	}
	r.i++
	return r.s[r.i-1]
}

func (r *reader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail()
	return false
}

// count reads an element count, failing when fewer than size bytes per
// element are left: a count beyond what is left is damage, not a reason
// to allocate.
func (r *reader) count(size int) int {
	n := r.uvarint()
	return int(r.max(n, uint64(r.left()/size)))
}

func (r *reader) string() string {
	n := int(r.max(r.uvarint(), uint64(r.left())))
	s := r.s[r.i : r.i+n]
	r.i += n
	return s
}

func (r *reader) addr() netip.Addr {
	b := r.string()
	switch len(b) {
	case 0:
		return netip.Addr{}
	case 4:
		var a4 [4]byte
		copy(a4[:], b)
		return netip.AddrFrom4(a4)
	case 16:
		var a16 [16]byte
		copy(a16[:], b)
		return netip.AddrFrom16(a16)
	}
	var a netip.Addr // an IPv6 address with a zone
	if a.UnmarshalBinary([]byte(b)) != nil {
		r.fail()
	}
	return a
}

func (r *reader) mac() model.MAC {
	var m model.MAC
	if r.left() < len(m) {
		r.fail()
		return m
	}
	r.i += copy(m[:], r.s[r.i:])
	return m
}

func (r *reader) time() time.Time {
	var off int64
	switch r.byte() {
	case timeZero:
		return time.Time{}
	case timeUTC:
	case timeOffset:
		if off = r.varint(); off <= -24*3600 || off >= 24*3600 || off == 0 {
			r.fail()
		}
	default:
		r.fail()
	}
	sec := r.varint()
	ns := r.max(r.uvarint(), 999_999_999)
	if r.bad {
		return time.Time{}
	}
	t := time.Unix(sec, int64(ns))
	if off == 0 {
		return t.UTC()
	}
	if _, lo := t.Zone(); int64(lo) == off {
		return t // time.Unix gives Local
	}
	return t.In(time.FixedZone("", int(off)))
}

// readValue checks a binary value's version byte and reads the rest with
// read: errValueVersion for another version, malformed unless read used
// every byte without error.
func readValue(b []byte, version byte, malformed error, read func(*reader)) error {
	if len(b) == 0 || b[0] != version {
		return errValueVersion
	}
	r := newReader(b[1:])
	read(r)
	if !r.done() {
		return malformed
	}
	return nil
}

// done fails unless every byte was read.
func (r *reader) done() bool {
	if r.i != len(r.s) {
		r.fail()
	}
	return !r.bad
}

// appendTraffic writes what a conversation's record and its counter record
// share: its packets, bytes and flows, first and last seen.
func appendTraffic(b []byte, packets, bytes, flows uint64, first, last time.Time) []byte {
	b = binary.AppendUvarint(b, packets)
	b = binary.AppendUvarint(b, bytes)
	b = binary.AppendUvarint(b, flows)
	b = appendTime(b, first)
	return appendTime(b, last)
}

// traffic reads what appendTraffic wrote.
func (r *reader) traffic(packets, bytes, flows *uint64, first, last *time.Time) {
	*packets, *bytes, *flows = r.uvarint(), r.uvarint(), r.uvarint()
	*first, *last = r.time(), r.time()
}
