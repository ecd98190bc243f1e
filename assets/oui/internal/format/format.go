// Package format is the compact binary form of the IEEE MAC address registry
// that package oui embeds and that internal/gen writes.
//
// A file is a gzip stream (no name, zero modification time, so the same input
// always gives the same payload) holding:
//
//	magic    8 bytes  "OTSOUI\x00\x01"
//	version  uvarint length + UTF-8 text (where the data came from)
//	names    uvarint count, then per name: uvarint length + UTF-8 text;
//	         deduplicated and sorted, so each organisation is stored once
//	blocks   three blocks, longest prefix first (36, 28, 24 bits):
//	         1 byte prefix length, uvarint count, then per assignment
//	         uvarint key delta (the first delta is the key itself; later
//	         deltas are at least 1, so keys strictly increase) and
//	         uvarint name index
//
// Nothing may follow the last block. Decode checks every length, index and
// ordering rule and returns an error instead of panicking on corrupt input.
package format

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Magic starts every payload; its last byte is the format version.
const Magic = "OTSOUI\x00\x01"

// PrefixBits lists the prefix length of each block, in file and lookup order:
// MA-S/IAB (36 bits), MA-M (28 bits), MA-L (24 bits).
var PrefixBits = [3]int{36, 28, 24}

// Limits that keep a corrupt or hostile file from using much memory.
const (
	MaxPayload = 16 << 20 // bytes after gunzip
	MaxName    = 1024     // bytes per organisation name
	MaxVersion = 256      // bytes of version text
)

// ErrCorrupt is wrapped by every error Decode and Unmarshal return for bad data.
var ErrCorrupt = errors.New("oui data corrupt")

// Block holds the assignments of one prefix length, sorted by key.
type Block struct {
	Bits  int      // prefix length in bits: 36, 28 or 24
	Keys  []uint64 // prefixes (the top Bits bits of the MAC), strictly increasing
	Names []uint32 // Names[i] indexes Table.Names for Keys[i]
}

// Table is the decoded registry.
type Table struct {
	Version string   // provenance of the data, e.g. "ieee-data 20220827.1 (2022-08-27)"
	Names   []string // organisation names, deduplicated
	Blocks  [3]Block // one per PrefixBits entry, same order
}

// Len returns the number of assignments in all blocks.
func (t *Table) Len() int {
	n := 0
	for _, b := range t.Blocks {
		n += len(b.Keys)
	}
	return n
}

// Marshal returns the uncompressed payload of t. It fails if t breaks a rule
// that Unmarshal would reject, so a written file always reads back.
func Marshal(t *Table) ([]byte, error) {
	if err := validate(t); err != nil {
		return nil, err
	}
	buf := make([]byte, 0, 1<<20)
	buf = append(buf, Magic...)
	buf = appendString(buf, t.Version)
	buf = binary.AppendUvarint(buf, uint64(len(t.Names)))
	for _, n := range t.Names {
		buf = appendString(buf, n)
	}
	for _, b := range t.Blocks {
		buf = append(buf, byte(b.Bits))
		buf = binary.AppendUvarint(buf, uint64(len(b.Keys)))
		var prev uint64
		for i, k := range b.Keys {
			buf = binary.AppendUvarint(buf, k-prev)
			buf = binary.AppendUvarint(buf, uint64(b.Names[i]))
			prev = k
		}
	}
	return buf, nil
}

// Encode returns the gzip-compressed payload of t, byte-for-byte the same for
// the same table and Go version.
func Encode(t *Table) ([]byte, error) {
	raw, err := Marshal(t)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(raw); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Gunzip decompresses a file, refusing payloads larger than MaxPayload.
func Gunzip(data []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	raw, err := io.ReadAll(io.LimitReader(zr, MaxPayload+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(raw) > MaxPayload {
		return nil, fmt.Errorf("%w: payload larger than %d bytes", ErrCorrupt, MaxPayload)
	}
	return raw, nil
}

// Decode reads a gzip-compressed file written by Encode.
func Decode(data []byte) (*Table, error) {
	raw, err := Gunzip(data)
	if err != nil {
		return nil, err
	}
	return Unmarshal(raw)
}

// Unmarshal parses an uncompressed payload, checking every rule in the
// package comment.
func Unmarshal(raw []byte) (*Table, error) {
	var r reader
	if len(raw) < len(Magic) || string(raw[:len(Magic)]) != Magic {
		return nil, fmt.Errorf("%w: bad magic", ErrCorrupt)
	}
	r.b = raw[len(Magic):]
	t := &Table{}
	var err error
	if t.Version, err = r.string(MaxVersion, true); err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	n, err := r.count(1)
	if err != nil {
		return nil, fmt.Errorf("name count: %w", err)
	}
	// Names become substrings of one string holding the name section, so
	// loading costs one allocation for them rather than one per name.
	spans := make([][2]int, n) // offset in raw, length
	first := len(raw) - len(r.b)
	for i := range spans {
		off, err := r.bytes(MaxName, false)
		if err != nil {
			return nil, fmt.Errorf("name %d: %w", i, err)
		}
		spans[i] = [2]int{len(raw) - len(r.b) - len(off), len(off)}
	}
	section := string(raw[first : len(raw)-len(r.b)])
	t.Names = make([]string, n)
	for i, sp := range spans {
		t.Names[i] = section[sp[0]-first : sp[0]-first+sp[1]]
	}
	for bi, bits := range PrefixBits {
		if len(r.b) == 0 || int(r.b[0]) != bits {
			return nil, fmt.Errorf("%w: block %d: want %d-bit prefixes", ErrCorrupt, bi, bits)
		}
		r.b = r.b[1:]
		cnt, err := r.count(2)
		if err != nil {
			return nil, fmt.Errorf("block %d count: %w", bi, err)
		}
		b := Block{Bits: bits, Keys: make([]uint64, cnt), Names: make([]uint32, cnt)}
		limit := uint64(1) << bits
		var prev uint64
		for i := range cnt {
			delta, err := r.uvarint()
			if err != nil {
				return nil, fmt.Errorf("block %d entry %d: %w", bi, i, err)
			}
			if i > 0 && delta == 0 {
				return nil, fmt.Errorf("%w: block %d entry %d: keys not increasing", ErrCorrupt, bi, i)
			}
			if delta >= limit-prev {
				return nil, fmt.Errorf("%w: block %d entry %d: key beyond %d bits", ErrCorrupt, bi, i, bits)
			}
			prev += delta
			idx, err := r.uvarint()
			if err != nil {
				return nil, fmt.Errorf("block %d entry %d: %w", bi, i, err)
			}
			if idx >= uint64(len(t.Names)) {
				return nil, fmt.Errorf("%w: block %d entry %d: name index %d out of range", ErrCorrupt, bi, i, idx)
			}
			b.Keys[i], b.Names[i] = prev, uint32(idx)
		}
		t.Blocks[bi] = b
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(r.b))
	}
	return t, nil
}

// validate applies Unmarshal's rules to a table about to be written.
func validate(t *Table) error {
	if len(t.Version) > MaxVersion || !utf8.ValidString(t.Version) {
		return fmt.Errorf("format: bad version %q", t.Version)
	}
	for i, n := range t.Names {
		if n == "" || len(n) > MaxName || !utf8.ValidString(n) {
			return fmt.Errorf("format: bad name %d %q", i, n)
		}
	}
	for bi, b := range t.Blocks {
		if b.Bits != PrefixBits[bi] {
			return fmt.Errorf("format: block %d has %d-bit prefixes, want %d", bi, b.Bits, PrefixBits[bi])
		}
		if len(b.Keys) != len(b.Names) {
			return fmt.Errorf("format: block %d: %d keys but %d names", bi, len(b.Keys), len(b.Names))
		}
		for i, k := range b.Keys {
			if k >= 1<<b.Bits || (i > 0 && k <= b.Keys[i-1]) {
				return fmt.Errorf("format: block %d: key %#x out of order or range", bi, k)
			}
			if int(b.Names[i]) >= len(t.Names) {
				return fmt.Errorf("format: block %d: name index %d out of range", bi, b.Names[i])
			}
		}
	}
	return nil
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// reader consumes a payload front to back.
type reader struct{ b []byte }

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		return 0, fmt.Errorf("%w: bad varint", ErrCorrupt)
	}
	r.b = r.b[n:]
	return v, nil
}

// count reads an element count and checks it against the bytes left, given
// that each element takes at least minBytes, so a corrupt count cannot make
// Unmarshal allocate more than the input justifies.
func (r *reader) count(minBytes int) (int, error) {
	v, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if v > uint64(len(r.b)/minBytes) {
		return 0, fmt.Errorf("%w: count %d exceeds data", ErrCorrupt, v)
	}
	return int(v), nil
}

// bytes reads a length-prefixed UTF-8 string, returning a slice of the input.
func (r *reader) bytes(maxLen int, emptyOK bool) ([]byte, error) {
	v, err := r.uvarint()
	if err != nil {
		return nil, err
	}
	if v > uint64(maxLen) || v > uint64(len(r.b)) || (v == 0 && !emptyOK) {
		return nil, fmt.Errorf("%w: string length %d", ErrCorrupt, v)
	}
	s := r.b[:v]
	if !utf8.Valid(s) {
		return nil, fmt.Errorf("%w: string not UTF-8", ErrCorrupt)
	}
	r.b = r.b[v:]
	return s, nil
}

func (r *reader) string(maxLen int, emptyOK bool) (string, error) {
	b, err := r.bytes(maxLen, emptyOK)
	return string(b), err
}
