package oui

import (
	"bytes"
	"compress/gzip"
	"errors"
	"testing"

	"otscope/assets/oui/internal/format"
	"otscope/model"
)

// gz compresses raw the way a damaged but well-wrapped file would look, so
// the payload parser (not just gzip's checksum) sees the damage.
func gz(t testing.TB, raw []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func embeddedPayload(t testing.TB) []byte {
	t.Helper()
	raw, err := format.Gunzip(embedded)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestParseRejectsCorruptData(t *testing.T) {
	raw := embeddedPayload(t)
	flipped := bytes.Clone(embedded)
	flipped[len(flipped)/2] ^= 0xff
	badMagic := bytes.Clone(raw)
	badMagic[0] = 'X'
	tests := map[string][]byte{
		"empty":                  nil,
		"not gzip":               []byte("oui.csv"),
		"truncated gzip":         embedded[:len(embedded)/2],
		"flipped compressed bit": flipped,
		"bad magic":              gz(t, badMagic),
		"truncated payload":      gz(t, raw[:len(raw)-1]),
		"trailing bytes":         gz(t, append(bytes.Clone(raw), 0)),
		"magic only":             gz(t, []byte(format.Magic)),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			tb, err := parse(data)
			if err == nil {
				t.Fatalf("parse accepted corrupt data (%d assignments)", tb.n)
			}
			if !errors.Is(err, format.ErrCorrupt) {
				t.Errorf("error %v does not wrap format.ErrCorrupt", err)
			}
		})
	}
}

func TestParseRejectsBadTables(t *testing.T) {
	// Build small valid payloads and break one rule in each.
	base := func() *format.Table {
		return &format.Table{
			Version: "test",
			Names:   []string{"Alpha", "Beta"},
			Blocks: [3]format.Block{
				{Bits: 36, Keys: []uint64{0x70b3d59c0}, Names: []uint32{1}},
				{Bits: 28, Keys: []uint64{0x3c24f09}, Names: []uint32{0}},
				{Bits: 24, Keys: []uint64{0x000e8c, 0x000e8d}, Names: []uint32{0, 1}}, // second delta is one byte
			},
		}
	}
	good, err := format.Marshal(base())
	if err != nil {
		t.Fatal(err)
	}
	tb, err := parse(gz(t, good))
	if err != nil {
		t.Fatalf("valid table rejected: %v", err)
	}
	if got := tb.short[tb.index(model.MAC{0x00, 0x0e, 0x8d, 1, 2, 3})]; got != "Beta" {
		t.Errorf("lookup in small table = %q, want Beta", got)
	}
	// Marshal refuses to write tables Unmarshal would reject, so patch bytes.
	at := bytes.LastIndexByte(good, 24) // the 24-bit block header
	tests := map[string]func(b []byte){
		"wrong block bits":   func(b []byte) { b[at] = 25 },
		"name index range":   func(b []byte) { b[len(b)-1] = 2 },
		"keys not ascending": func(b []byte) { b[len(b)-2] = 0 },
		"count too large":    func(b []byte) { b[at+1] = 0x7f },
	}
	for name, corrupt := range tests {
		t.Run(name, func(t *testing.T) {
			b := bytes.Clone(good)
			corrupt(b)
			if _, err := parse(gz(t, b)); !errors.Is(err, format.ErrCorrupt) {
				t.Errorf("parse = %v, want an ErrCorrupt error", err)
			}
		})
	}
}

// FuzzParse checks that no input makes the loader panic, and that whatever
// it accepts can be looked up in safely.
func FuzzParse(f *testing.F) {
	// Seeds stay small (the whole embedded file takes tens of milliseconds
	// to parse, which would starve the fuzzer): the start of the real file
	// and payload, and a minimal valid table.
	raw := embeddedPayload(f)
	small, err := format.Encode(&format.Table{
		Version: "seed",
		Names:   []string{"Siemens AG"},
		Blocks: [3]format.Block{
			{Bits: 36, Keys: []uint64{0x70b3d59c0}, Names: []uint32{0}},
			{Bits: 28, Keys: []uint64{}, Names: []uint32{}},
			{Bits: 24, Keys: []uint64{0x001b1b}, Names: []uint32{0}},
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(small)
	f.Add(embedded[:100])
	f.Add(gz(f, raw[:4096]))
	probes := []model.MAC{{}, {0x00, 0x1b, 0x1b, 1, 2, 3}, {0x70, 0xb3, 0xd5, 0x9c, 0, 1}, {0xfc, 0xff, 0xff, 0xff, 0xff, 0xff}}
	f.Fuzz(func(t *testing.T, data []byte) {
		tb, err := parse(data)
		if err != nil {
			return
		}
		for _, m := range probes {
			if i := tb.index(m); i >= len(tb.short) {
				t.Fatalf("index %d beyond %d names", i, len(tb.short))
			}
		}
	})
}
