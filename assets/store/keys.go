package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	badger "github.com/dgraph-io/badger/v4"

	"otscope/model"
)

// Record kinds inside a session database: the first byte of a key, followed
// by a zero byte and the record's ID.
const (
	kindMeta     = 'm'
	kindAsset    = 'a'
	kindConv     = 'c'
	kindStats    = 't'
	kindOldStats = 'T' // stats of earlier runs of a source, see Save
	kindCounters = 'A' // an asset's counters written after its record, see counters.go
	// a conversation's counters written after its record
	kindConvCounters = 'C'
)

// valueVersion is the first byte of every JSON value this package writes.
const valueVersion = 1

// schemaKey holds SchemaVersion as decimal text; metaKey the session's
// dbMeta.
var (
	schemaKey = []byte("m\x00schema")
	metaKey   = []byte("m\x00meta")
)

// errValueVersion is returned by decodeValue for a value written by another
// version of the value layout.
var errValueVersion = errors.New("unknown value version")

// kindPrefix returns "<kind>\x00".
func kindPrefix(kind byte) []byte { return []byte{kind, 0} }

// recordKey returns the key of one record of kind.
func recordKey(kind byte, id string) []byte {
	k := make([]byte, 0, 2+len(id))
	k = append(k, kind, 0)
	return append(k, id...)
}

// eachKey calls fn with the ID of every key of kind, reading no values;
// the ID is valid only during the call.
func eachKey(txn *badger.Txn, kind byte, fn func(id []byte)) {
	p := kindPrefix(kind)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
	defer it.Close()
	for it.Seek(p); it.ValidForPrefix(p); it.Next() {
		fn(it.Item().Key()[len(p):])
	}
}

// splitKey parses a key into its kind and ID; ok is false for keys of
// another shape.
func splitKey(key []byte) (kind byte, id string, ok bool) {
	if len(key) < 2 || key[1] != 0 {
		return 0, "", false
	}
	return key[0], string(key[2:]), true
}

// encodeValue returns the stored form of v: the binary record of an asset
// or a conversation (record.go), the JSON of anything else (encodeJSON).
// Each is encoded into a reused buffer and copied out once: a read of a
// 10,000-asset plant encodes every asset and conversation when it is new.
func encodeValue(v any) ([]byte, error) {
	switch r := v.(type) {
	case *model.Asset:
		return encodeRecord(r, appendAsset), nil
	case *model.Conversation:
		return encodeRecord(r, appendConversation), nil
	}
	return encodeJSON(v)
}

// encodeRecord appends r's record to a reused buffer and returns a copy.
func encodeRecord[R any](r *R, appendRec func([]byte, *R) []byte) []byte {
	e := encoders.Get().(*valueEncoder)
	defer encoders.Put(e)
	e.rec = appendRec(e.rec[:0], r)
	return bytes.Clone(e.rec)
}

// encodeJSON returns valueVersion followed by the JSON of v, the bytes of
// encoding/json.Marshal (FuzzDecodersAgree checks it). (The faster encoder
// of github.com/segmentio/encoding/json, which decodes, ignores the model's
// omitzero tags: its bytes would differ.)
func encodeJSON(v any) ([]byte, error) {
	e := encoders.Get().(*valueEncoder)
	defer encoders.Put(e)
	e.buf.Reset()
	e.buf.WriteByte(valueVersion)
	if err := e.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))), nil
}

// valueEncoder is a json.Encoder with the buffer it writes to, and a
// buffer for binary records.
type valueEncoder struct {
	buf bytes.Buffer
	enc *json.Encoder
	rec []byte
}

var encoders = sync.Pool{New: func() any {
	e := new(valueEncoder)
	e.enc = json.NewEncoder(&e.buf)
	return e
}}

// encodeRaw returns the version byte followed by j.
func encodeRaw(j []byte) []byte {
	b := make([]byte, 0, len(j)+1)
	b = append(b, valueVersion)
	return append(b, j...)
}

// decodeValue parses a value written by encodeValue into v: a binary
// record into an asset or a conversation, JSON into any value (sessions
// written before records were binary hold JSON assets and conversations).
func decodeValue(b []byte, v any) error {
	if len(b) > 0 && b[0] == recordVersion {
		switch r := v.(type) {
		case *model.Asset:
			return decodeAsset(b, r)
		case *model.Conversation:
			return decodeConversation(b, r)
		}
	}
	if len(b) == 0 || b[0] != valueVersion {
		return errValueVersion
	}
	if err := UnmarshalJSON(b[1:], v); err != nil {
		return fmt.Errorf("decode value: %w", err)
	}
	return nil
}

// Legacy (schema 1) layout: one database held every session, keys
// "s\x00<session>\x00m" (meta) and "s\x00<session>\x00<kind>\x00<id>".
var legacySessionsPrefix = []byte("s\x00")

// splitLegacyKey parses a schema-1 key into the session name, the record
// kind and the record ID. ok is false for keys of another shape.
func splitLegacyKey(key []byte) (session string, kind byte, id string, ok bool) {
	if len(key) < len(legacySessionsPrefix) || string(key[:2]) != string(legacySessionsPrefix) {
		return "", 0, "", false
	}
	rest := key[len(legacySessionsPrefix):]
	for i, c := range rest {
		if c != 0 {
			continue
		}
		session, rest = string(rest[:i]), rest[i+1:]
		switch {
		case len(rest) == 1 && rest[0] == kindMeta:
			return session, kindMeta, "", true
		case len(rest) >= 2 && rest[1] == 0:
			return session, rest[0], string(rest[2:]), true
		}
		return "", 0, "", false
	}
	return "", 0, "", false
}
