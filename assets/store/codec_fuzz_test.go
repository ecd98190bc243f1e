package store

import (
	"encoding/json"
	"reflect"
	"testing"

	"otscope/model"
)

// FuzzDecodersAgree checks that the decoder the store reads values with
// (UnmarshalJSON) and encoding/json agree on any input: both accept it
// and give the same value, or both refuse it; and that the encoder the
// store writes JSON values with (encodeJSON) gives the bytes of
// encoding/json.Marshal for every value decoded, and for an asset and a
// conversation whose strings are the raw input (invalid UTF-8, control
// characters and HTML included, as hostile traffic would name a device).
// Seeds are stored values of every kind.
func FuzzDecodersAgree(f *testing.F) {
	seeds := []any{testAsset("ip:10.20.0.7", 7), testConv("ip:10.20.0.5", "ip:10.20.0.7", 502), testStats("plant.pcap", 9)}
	for _, v := range seeds {
		b, err := encodeJSON(v)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b[1:])
	}
	f.Add([]byte(`{"id":"x","macs":["00:1b:1b:01:02:03"],"facts":[{"source":{"kind":"active"}}]}`))
	f.Add([]byte(`{"id":"\ud800","ips":["10.0.0.1","fe80::1%eth0"],"vlans":[1,70000]}`))
	f.Add([]byte(`{"ID":"upper","Vendor":null,"names":null,"first_seen":"2026-01-01T00:00:00+01:00"}`))
	f.Add([]byte("plc\xff\xfe<script>&\u2028\x00\x1f\"\\ \xe2\x80"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if json.Valid(b) != validJSON(b) {
			t.Fatalf("%q: encoding/json.Valid says %v, validJSON the opposite", b, json.Valid(b))
		}
		agree[model.Asset](t, b)
		agree[model.Conversation](t, b)
		agree[model.CaptureStats](t, b)
		a := testAsset("ip:"+string(b), 7)
		a.Names = append(a.Names, string(b))
		a.Facts[0].Value = string(b)
		a.Facts[0].Source.Origin = string(b)
		sameBytes(t, &a)
		c := testConv("ip:10.20.0.5", "ip:"+string(b), 502)
		c.Protocol = string(b)
		sameBytes(t, &c)
	})
}

// sameBytes fails unless encodeJSON writes v as encoding/json.Marshal
// does, after the version byte.
func sameBytes(t *testing.T, v any) {
	t.Helper()
	want, errStd := json.Marshal(v)
	got, err := encodeJSON(v)
	if (errStd == nil) != (err == nil) {
		t.Fatalf("%T: encoding/json.Marshal says %v, encodeJSON %v", v, errStd, err)
	}
	if err == nil && (got[0] != valueVersion || string(got[1:]) != string(want)) {
		t.Fatalf("%T encoded differently:\nencoding/json %s\nencodeJSON    %s", v, want, got[1:])
	}
}

// agree decodes b as T with both decoders and fails unless they agree.
func agree[T any](t *testing.T, b []byte) {
	t.Helper()
	var std, got T
	errStd := json.Unmarshal(b, &std)
	err := UnmarshalJSON(b, &got)
	if (errStd == nil) != (err == nil) {
		t.Fatalf("%T from %q: encoding/json says %v, UnmarshalJSON %v", got, b, errStd, err)
	}
	if errStd == nil && !reflect.DeepEqual(std, got) {
		t.Fatalf("%T from %q: decoded differently:\nencoding/json %#v\nUnmarshalJSON %#v", got, b, std, got)
	}
	if errStd == nil {
		sameBytes(t, &std)
	}
}

// TestFitSlices checks that decoded slices keep no spare capacity (the
// fast decoder starts each with room for ten) and their values.
func TestFitSlices(t *testing.T) {
	a := testAsset("ip:10.20.0.7", 7)
	a.Modules = []model.Module{{Slot: 1, OrderNumber: "6ES7 315-2EH14-0AB0"}}
	b, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	var std, got model.Asset
	if err := json.Unmarshal(b, &std); err != nil {
		t.Fatal(err)
	}
	if err := UnmarshalJSON(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(std, got) {
		t.Fatalf("decoded %+v, want %+v", got, std)
	}
	for name, c := range map[string][2]int{
		"MACs": {len(got.MACs), cap(got.MACs)}, "IPs": {len(got.IPs), cap(got.IPs)}, "Services": {len(got.Services), cap(got.Services)},
		"Facts": {len(got.Facts), cap(got.Facts)}, "Modules": {len(got.Modules), cap(got.Modules)}, "Names": {len(got.Names), cap(got.Names)},
	} {
		if c[0] == 0 || c[0] != c[1] {
			t.Errorf("%s: len %d, cap %d; want equal and non-zero", name, c[0], c[1])
		}
	}
}
