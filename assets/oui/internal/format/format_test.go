package format

import (
	"bytes"
	"compress/gzip"
	"errors"
	"reflect"
	"testing"
)

func sample() *Table {
	return &Table{
		Version: "test 1 (2022-08-27)",
		Names:   []string{"Alpha GmbH", "Beta, Inc.", "Ünïcode Oy"},
		Blocks: [3]Block{
			{Bits: 36, Keys: []uint64{0, 0x70b3d59c0, 1<<36 - 1}, Names: []uint32{2, 0, 1}},
			{Bits: 28, Keys: []uint64{}, Names: []uint32{}},
			{Bits: 24, Keys: []uint64{0x000e8c, 0x001b1b, 0xfcffff}, Names: []uint32{0, 0, 1}},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	in := sample()
	data, err := Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the table:\n in %+v\nout %+v", in, out)
	}
	if out.Len() != 6 {
		t.Errorf("Len() = %d, want 6", out.Len())
	}
	again, err := Encode(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, again) {
		t.Error("Encode is not deterministic")
	}
}

func TestMarshalRejectsInvalidTables(t *testing.T) {
	tests := map[string]func(t *Table){
		"empty name":        func(t *Table) { t.Names[0] = "" },
		"bad UTF-8 name":    func(t *Table) { t.Names[0] = "\xff" },
		"long version":      func(t *Table) { t.Version = string(make([]byte, MaxVersion+1)) },
		"block order":       func(t *Table) { t.Blocks[0], t.Blocks[2] = t.Blocks[2], t.Blocks[0] },
		"unsorted keys":     func(t *Table) { t.Blocks[2].Keys[1] = 1 },
		"duplicate key":     func(t *Table) { t.Blocks[2].Keys[1] = t.Blocks[2].Keys[0] },
		"key too wide":      func(t *Table) { t.Blocks[2].Keys[2] = 1 << 24 },
		"name out of range": func(t *Table) { t.Blocks[0].Names[0] = 3 },
		"length mismatch":   func(t *Table) { t.Blocks[2].Names = t.Blocks[2].Names[:2] },
	}
	for name, breakIt := range tests {
		t.Run(name, func(t *testing.T) {
			tb := sample()
			breakIt(tb)
			if _, err := Marshal(tb); err == nil {
				t.Error("Marshal accepted an invalid table")
			}
		})
	}
}

func TestUnmarshalRejectsEveryTruncation(t *testing.T) {
	raw, err := Marshal(sample())
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(raw) {
		if _, err := Unmarshal(raw[:n]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Unmarshal of first %d of %d bytes: err = %v, want ErrCorrupt", n, len(raw), err)
		}
	}
}

func TestGunzipLimit(t *testing.T) {
	var b bytes.Buffer
	big := make([]byte, MaxPayload+1)
	zw, err := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Gunzip(b.Bytes()); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Gunzip of %d bytes: err = %v, want ErrCorrupt", len(big), err)
	}
}

// FuzzUnmarshal feeds the payload parser directly, past gzip's checksum,
// and checks that what it accepts is a valid table that re-encodes to the
// same bytes.
func FuzzUnmarshal(f *testing.F) {
	raw, err := Marshal(sample())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(raw)
	f.Add([]byte(Magic))
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := Unmarshal(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		again, err := Marshal(tb)
		if err != nil {
			t.Fatalf("accepted table does not re-marshal: %v", err)
		}
		if !bytes.Equal(again, data) {
			// Only non-canonical varints may differ.
			if _, err := Unmarshal(again); err != nil {
				t.Fatalf("re-marshalled table does not parse: %v", err)
			}
		}
	})
}
