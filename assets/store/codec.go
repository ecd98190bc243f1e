package store

import (
	"encoding/json"
	"reflect"

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
// records, and bundles their records. What the fast decoder refuses is decoded again
// by encoding/json from a zero value, so an input that only encoding/json
// accepts (it is more lenient with some malformed timestamps) and every
// error are encoding/json's own.
func UnmarshalJSON(b []byte, v any) error {
	if sjson.Unmarshal(b, v) == nil {
		return nil
	}
	if p := reflect.ValueOf(v); p.Kind() == reflect.Pointer && !p.IsNil() {
		p.Elem().SetZero()
	}
	return json.Unmarshal(b, v)
}

// validJSON reports whether b is one JSON value, as encoding/json.Valid.
func validJSON(b []byte) bool { return sjson.Valid(b) }
