package store

import (
	"encoding/json"
	"reflect"
	"sync"

	sjson "github.com/segmentio/encoding/json"
)

// Values and journal records are written with encoding/json and read with
// github.com/segmentio/encoding/json, a drop-in decoder for the same JSON
// into the same types (it calls the types' UnmarshalJSON and UnmarshalText
// methods as encoding/json does) that decodes a stored asset about five
// times faster: decoding is most of the time a 10,000-asset session takes
// to open. The bytes on disk do not change. codec_test.go and
// FuzzDecodersAgree check that both decoders give the same values.

// UnmarshalJSON decodes the JSON in b into v (a pointer) as
// encoding/json.Unmarshal; it is how the store reads values and journal
// records, and bundles their records. What the fast decoder refuses is
// decoded again by encoding/json from a zero value, so an input that only
// encoding/json accepts (it is more lenient with some malformed
// timestamps) and every error are encoding/json's own.
func UnmarshalJSON(b []byte, v any) error {
	if sjson.Unmarshal(b, v) == nil {
		fitSlices(v)
		return nil
	}
	if p := reflect.ValueOf(v); p.Kind() == reflect.Pointer && !p.IsNil() {
		p.Elem().SetZero()
	}
	return json.Unmarshal(b, v)
}

// fitSlices gives every slice reachable from v (a pointer) a backing array
// of its length. The fast decoder starts each slice with room for ten
// elements, so a decoded asset with one service, one fact and one address
// would otherwise keep many times the memory its values need (about 10 KB
// per asset, a hundred megabytes for two 10,000-asset sessions).
func fitSlices(v any) {
	fit(reflect.ValueOf(v))
}

func fit(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() && holdsSlices(v.Type().Elem()) {
			fit(v.Elem())
		}
	case reflect.Struct:
		for _, i := range fitFields(v.Type()) {
			fit(v.Field(i))
		}
	case reflect.Slice:
		n := v.Len()
		if v.Cap() > n && n > 0 && v.CanSet() {
			s := reflect.MakeSlice(v.Type(), n, n)
			reflect.Copy(s, v)
			v.Set(s)
		}
		if holdsSlices(v.Type().Elem()) {
			for i := range n {
				fit(v.Index(i))
			}
		}
	}
}

// fitCache holds, per type, whether it holds slices (bool) and, per
// struct type, its exported fields that do ([]int, under fieldsKey).
var fitCache sync.Map

type fieldsKey struct{ t reflect.Type }

// fitFields returns the indexes of struct type t's exported fields that
// are or hold slices.
func fitFields(t reflect.Type) []int {
	if f, ok := fitCache.Load(fieldsKey{t}); ok {
		return f.([]int)
	}
	var out []int
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() && holdsSlices(f.Type) {
			out = append(out, i)
		}
	}
	fitCache.Store(fieldsKey{t}, out)
	return out
}

// holdsSlices reports whether a value of type t is or reaches a slice
// through exported struct fields, slices and pointers (not through maps,
// whose values a decoder allocates one by one).
func holdsSlices(t reflect.Type) bool {
	if h, ok := fitCache.Load(t); ok {
		return h.(bool)
	}
	h := holds(t, map[reflect.Type]bool{})
	fitCache.Store(t, h)
	return h
}

func holds(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Slice:
		return true
	case reflect.Pointer:
		return holds(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && holds(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// validJSON reports whether b is one JSON value, as encoding/json.Valid.
func validJSON(b []byte) bool { return sjson.Valid(b) }
