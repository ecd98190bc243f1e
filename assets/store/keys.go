package store

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Record kinds inside a session (the byte after "s\x00<session>\x00").
const (
	kindMeta  = 'm'
	kindAsset = 'a'
	kindConv  = 'c'
	kindStats = 't'
)

// valueVersion is the first byte of every JSON value this package writes.
const valueVersion = 1

// schemaKey holds SchemaVersion as decimal text.
var schemaKey = []byte("m\x00schema")

// sessionsPrefix is the prefix of every session record.
var sessionsPrefix = []byte("s\x00")

// errValueVersion is returned by decodeValue for a value written by another
// version of the value layout.
var errValueVersion = errors.New("unknown value version")

// sessionPrefix returns "s\x00<name>\x00", the prefix of all the session's records.
func sessionPrefix(name string) []byte {
	b := make([]byte, 0, len(sessionsPrefix)+len(name)+1)
	b = append(b, sessionsPrefix...)
	b = append(b, name...)
	return append(b, 0)
}

// metaKey returns the key of the session's meta record.
func metaKey(name string) []byte {
	return append(sessionPrefix(name), kindMeta)
}

// kindPrefix returns "s\x00<name>\x00<kind>\x00".
func kindPrefix(name string, kind byte) []byte {
	return append(sessionPrefix(name), kind, 0)
}

// recordKey returns the key of one record of kind in the session.
func recordKey(name string, kind byte, id string) []byte {
	p := kindPrefix(name, kind)
	k := make([]byte, 0, len(p)+len(id))
	k = append(k, p...)
	return append(k, id...)
}

// splitSessionKey parses a key under sessionsPrefix into the session name,
// the record kind and the record ID. ok is false for keys of another shape.
func splitSessionKey(key []byte) (session string, kind byte, id string, ok bool) {
	rest := key[len(sessionsPrefix):]
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

// encodeValue returns the version byte followed by the JSON of v.
func encodeValue(v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(j)+1)
	b = append(b, valueVersion)
	return append(b, j...), nil
}

// decodeValue parses a value written by encodeValue into v.
func decodeValue(b []byte, v any) error {
	if len(b) == 0 || b[0] != valueVersion {
		return errValueVersion
	}
	if err := json.Unmarshal(b[1:], v); err != nil {
		return fmt.Errorf("decode value: %w", err)
	}
	return nil
}
