package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"otscope/model"
)

// FuzzDecodersAgree checks that the decoder the store reads values with
// (UnmarshalJSON) and encoding/json agree on any input: both accept it
// and give the same value, or both refuse it. Seeds are stored values of
// every kind.
func FuzzDecodersAgree(f *testing.F) {
	seeds := []any{testAsset("ip:10.20.0.7", 7), testConv("ip:10.20.0.5", "ip:10.20.0.7", 502), testStats("plant.pcap", 9)}
	for _, v := range seeds {
		b, err := encodeValue(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[1:])
	}
	f.Add([]byte(`{"id":"x","macs":["00:1b:1b:01:02:03"],"facts":[{"source":{"kind":"active"}}]}`))
	f.Add([]byte(`{"id":"\ud800","ips":["10.0.0.1","fe80::1%eth0"],"vlans":[1,70000]}`))
	f.Add([]byte(`{"ID":"upper","Vendor":null,"names":null,"first_seen":"2026-01-01T00:00:00+01:00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if json.Valid(b) != validJSON(b) {
			t.Fatalf("%q: encoding/json.Valid says %v, validJSON the opposite", b, json.Valid(b))
		}
		agree[model.Asset](t, b)
		agree[model.Conversation](t, b)
		agree[model.CaptureStats](t, b)
	})
}

// agree decodes b as T with both decoders and fails unless they agree.
func agree[T any](t *testing.T, b []byte) {
	t.Helper()
	var std, got T
	errStd := json.Unmarshal(b, &std)
	err := UnmarshalJSON(b, &got)
	if (errStd == nil) != (err == nil) {
		t.Fatalf("%T from %q: encoding/json says %v, the store's decoder %v", got, b, errStd, err)
	}
	if errStd == nil && !reflect.DeepEqual(std, got) {
		t.Fatalf("%T from %q: decoded differently:\nencoding/json %#v\nstore         %#v", got, b, std, got)
	}
}
