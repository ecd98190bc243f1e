package store

import (
	"encoding/binary"
	"errors"
	"math"

	badger "github.com/dgraph-io/badger/v4"

	"otscope/model"
)

// Counter records (kind kindCounters keyed by asset ID, kindConvCounters
// by conversation key) hold an asset's model.AssetCounters or a
// conversation's model.ConversationCounters written after its last full
// record: a save of an asset or conversation whose only change is its
// traffic writes some tens of bytes instead of its whole record. Writing the
// full record deletes the counter record; Load widens each record with its
// counters (model.Asset.Widen, model.Conversation.Widen), so a counter
// record left behind by a crash between the two is harmless.
//
// The value is binary: countersVersion, then the primitives of binary.go
// (encodeCounters, encodeConvCounters). It is read only by decodeCounters
// and decodeConvCounters, which check every length against what is left
// (decodeRecord, reader).

// countersVersion is the first byte of a counter record's value.
const countersVersion = 1

var errCounters = errors.New("malformed counter record")

// encodeCounters returns c's value.
func encodeCounters(c *model.AssetCounters) []byte {
	n := 48 + len(c.ID)
	for i := range c.Services {
		n += 24 + len(c.Services[i].Transport)
	}
	for i := range c.Facts {
		n += 24 + len(c.Facts[i].Field) + len(c.Facts[i].Value)
	}
	b := make([]byte, 0, n)
	b = append(b, countersVersion)
	b = appendString(b, string(c.ID))
	b = binary.AppendUvarint(b, c.Packets)
	b = binary.AppendUvarint(b, c.Bytes)
	b = appendTime(b, c.FirstSeen)
	b = appendTime(b, c.LastSeen)
	b = binary.AppendUvarint(b, uint64(len(c.Services)))
	for i := range c.Services {
		s := &c.Services[i]
		b = appendString(b, s.Transport)
		b = binary.AppendUvarint(b, uint64(s.Port))
		b = appendAddr(b, s.IP)
		b = appendTime(b, s.LastSeen)
	}
	b = binary.AppendUvarint(b, uint64(len(c.Facts)))
	for i := range c.Facts {
		f := &c.Facts[i]
		b = appendString(b, f.Field)
		b = appendString(b, f.Value)
		b = binary.AppendUvarint(b, f.Count)
		b = appendTime(b, f.LastSeen)
	}
	return b
}

// encodeConvCounters returns c's value: countersVersion, the key, the
// ends, the counters and the times.
func encodeConvCounters(c *model.ConversationCounters) []byte {
	b := make([]byte, 0, 48+len(c.Key)+len(c.Client)+len(c.Server))
	b = append(b, countersVersion)
	b = appendString(b, c.Key)
	b = appendString(b, string(c.Client))
	b = appendString(b, string(c.Server))
	return appendTraffic(b, c.Packets, c.Bytes, c.Flows, c.FirstSeen, c.LastSeen)
}

// decodeConvCounters parses a value written by encodeConvCounters.
func decodeConvCounters(b []byte) (model.ConversationCounters, error) {
	return decodeRecord(b, func(r *reader, c *model.ConversationCounters) {
		c.Key = r.string()
		c.Client = model.AssetID(r.string())
		c.Server = model.AssetID(r.string())
		r.traffic(&c.Packets, &c.Bytes, &c.Flows, &c.FirstSeen, &c.LastSeen)
	})
}

// decodeRecord reads a counter record's value with read (readValue).
func decodeRecord[T any](b []byte, read func(*reader, *T)) (T, error) {
	var v T
	if err := readValue(b, countersVersion, errCounters, func(r *reader) { read(r, &v) }); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// decodeCounters parses a value written by encodeCounters.
func decodeCounters(b []byte) (model.AssetCounters, error) {
	return decodeRecord(b, func(r *reader, c *model.AssetCounters) {
		c.ID = model.AssetID(r.string())
		c.Packets = r.uvarint()
		c.Bytes = r.uvarint()
		c.FirstSeen = r.time()
		c.LastSeen = r.time()
		c.Services = readList(r, func(s *model.ServiceSeen) {
			s.Transport = r.string()
			s.Port = uint16(r.max(r.uvarint(), math.MaxUint16))
			s.IP = r.addr()
			s.LastSeen = r.time()
		})
		c.Facts = readList(r, func(f *model.FactSeen) {
			f.Field = r.string()
			f.Value = r.string()
			f.Count = r.uvarint()
			f.LastSeen = r.time()
		})
	})
}

// readList reads a count and that many elements with read. An element
// takes at least 4 bytes: a count beyond what is left is damage, not a
// reason to allocate.
func readList[T any](r *reader, read func(*T)) []T {
	n := r.count(4)
	if n == 0 {
		return nil
	}
	out := make([]T, n)
	for i := range out {
		read(&out[i])
	}
	return out
}

// counterKeys returns the keys of the session's counter records (both
// kinds), read once per writing handle and kept current by write. The
// caller holds h.wmu.
func (h *handle) counterKeys() (map[string]struct{}, error) {
	if h.counters != nil {
		return h.counters, nil
	}
	m := map[string]struct{}{}
	err := h.view(func(txn *badger.Txn) error {
		for _, kind := range []byte{kindCounters, kindConvCounters} {
			eachKey(txn, kind, func(id []byte) { m[string(recordKey(kind, string(id)))] = struct{}{} })
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	h.counters = m
	return m, nil
}
