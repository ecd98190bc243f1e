package store

import (
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"otscope/model"
)

// fill sets every exported field reachable from v (a pointer) to a random
// non-zero value: a field the record layout forgets then fails the round
// trip. Slices get one to three elements, pointers a value.
func fill(r *rand.Rand, v reflect.Value) {
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		t := time.Unix(r.Int64N(4e9)+1, r.Int64N(1e9))
		// UTC, or an offset Local does not have then (JSON and the record
		// both read an offset Local has as Local)
		t = t.UTC()
		if off := (1 + r.IntN(23)) * 1800 * (1 - 2*r.IntN(2)); r.IntN(2) == 0 {
			if _, lo := t.Local().Zone(); lo != off {
				t = t.In(time.FixedZone("", off))
			}
		}
		v.Set(reflect.ValueOf(t))
		return
	case reflect.TypeFor[netip.Addr]():
		var a netip.Addr
		switch r.IntN(3) {
		case 0:
			a = netip.AddrFrom4([4]byte{10, byte(r.IntN(256)), byte(r.IntN(256)), byte(1 + r.IntN(254))})
		case 1:
			a = netip.AddrFrom16([16]byte{0xfe, 0x80, 15: byte(1 + r.IntN(254))})
		default:
			a = netip.AddrFrom16([16]byte{0xfe, 0x80, 15: 7}).WithZone("eth0")
		}
		v.Set(reflect.ValueOf(a))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(r, v.Elem())
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(r, v.Field(i))
			}
		}
	case reflect.Slice:
		n := 1 + r.IntN(3)
		v.Set(reflect.MakeSlice(v.Type(), n, n))
		for i := range n {
			fill(r, v.Index(i))
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(r, v.Index(i))
		}
	case reflect.String:
		// repeats within a record, as origins and protocols do
		v.SetString([]string{"plant.pcapng", "s7comm", "plc\xff\x00<é>", "6ES7 315-2EH14-0AB0"}[r.IntN(4)])
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(r.Int64N(1<<40) - 1<<39)
	case reflect.Uint8:
		v.SetUint(1 + r.Uint64N(4)) // a SourceKind
	case reflect.Uint16:
		v.SetUint(1 + r.Uint64N(65535))
	case reflect.Uint64:
		v.SetUint(1 + r.Uint64())
	default:
		panic("fill: no rule for " + v.Type().String())
	}
}

// TestRecordRoundTrip fills every field of assets and conversations, nil
// and empty slices included, and checks that the binary record gives them
// back exactly, and that a reader of JSON gives the same value from both.
func TestRecordRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var a model.Asset
		fill(r, reflect.ValueOf(&a).Elem())
		switch i % 4 {
		case 1:
			a.ProtocolIDs, a.MACs, a.Facts = nil, nil, []model.Fact{}
		case 2:
			a.Services, a.Names = nil, []string{}
		}
		roundTrip(t, &a, decodeAsset)
		var c model.Conversation
		fill(r, reflect.ValueOf(&c).Elem())
		roundTrip(t, &c, decodeConversation)
	}
	a := testAsset("ip:10.20.0.7", 7)
	roundTrip(t, &a, decodeAsset)
	var zero model.Asset
	roundTrip(t, &zero, decodeAsset)
}

func roundTrip[R any](t *testing.T, v *R, decode func([]byte, *R) error) {
	t.Helper()
	b, err := encodeValue(v)
	if err != nil {
		t.Fatal(err)
	}
	if b[0] != recordVersion {
		t.Fatalf("%T stored with version %d, want %d", v, b[0], recordVersion)
	}
	var got R
	if err := decode(b, &got); err != nil {
		t.Fatalf("%T: %v", v, err)
	}
	if !reflect.DeepEqual(*v, got) {
		t.Fatalf("%T changed in the record:\nwrote %+v\nread  %+v", v, *v, got)
	}
	// what the record gives is what a JSON reader gives, hostile strings
	// aside (JSON replaces invalid UTF-8; the record keeps the bytes)
	var fromJSON, again R
	j, _ := json.Marshal(v)
	if err := json.Unmarshal(j, &fromJSON); err != nil {
		t.Fatal(err)
	}
	j2, _ := json.Marshal(&got)
	if err := json.Unmarshal(j2, &again); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, again) {
		t.Fatalf("%T: JSON of the record's value differs", v)
	}
	for n := range len(b) { // every truncation is an error, never a panic
		if decode(b[:n], new(R)) == nil && n > 0 {
			t.Fatalf("%T: a record cut to %d of %d bytes decoded", v, n, len(b))
		}
	}
	if decode(append(b[:len(b):len(b)], 0), new(R)) == nil {
		t.Fatalf("%T: a record with a byte left over decoded", v)
	}
}

// TestJSONValuesStillRead checks that assets and conversations stored as
// JSON, as sessions written before the binary records hold them, are read
// through the same path, next to binary ones.
func TestJSONValuesStillRead(t *testing.T) {
	a, c := testAsset("ip:10.20.0.7", 7), testConv("ip:10.20.0.5", "ip:10.20.0.7", 502)
	ja, err := encodeJSON(&a)
	if err != nil {
		t.Fatal(err)
	}
	jc, _ := encodeJSON(&c)
	ba, _ := encodeValue(&a)
	assets, bad := decodeAll[model.Asset]([][]byte{ja, ba})
	if bad != 0 || len(assets) != 2 || !reflect.DeepEqual(assets[0], assets[1]) {
		t.Fatalf("JSON and binary asset read differently (bad %d):\n%+v", bad, assets)
	}
	var gotC model.Conversation
	if err := decodeValue(jc, &gotC); err != nil || !reflect.DeepEqual(gotC, c) {
		t.Fatalf("JSON conversation read as %+v, %v", gotC, err)
	}
	var st model.CaptureStats
	if err := decodeValue(ba, &st); err == nil {
		t.Fatal("an asset record decoded into capture statistics")
	}
}

// FuzzRecordDecode feeds hostile bytes to the record readers: they must
// fail or give a value that writes back to a record that reads the same.
func FuzzRecordDecode(f *testing.F) {
	a, c := testAsset("ip:10.20.0.7", 7), testConv("ip:10.20.0.5", "ip:10.20.0.7", 502)
	ba, _ := encodeValue(&a)
	bc, _ := encodeValue(&c)
	f.Add(ba)
	f.Add(bc)
	f.Add([]byte{recordVersion, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		b[0] = recordVersion
		var ga model.Asset
		if decodeAsset(b, &ga) == nil {
			var again model.Asset
			if err := decodeAsset(appendAsset(nil, &ga), &again); err != nil || !reflect.DeepEqual(ga, again) {
				t.Fatalf("asset from %q does not read back: %v", b, err)
			}
		}
		var gc model.Conversation
		if decodeConversation(b, &gc) == nil {
			var again model.Conversation
			if err := decodeConversation(appendConversation(nil, &gc), &again); err != nil || !reflect.DeepEqual(gc, again) {
				t.Fatalf("conversation from %q does not read back: %v", b, err)
			}
		}
	})
}
