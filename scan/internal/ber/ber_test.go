package ber

import (
	"bytes"
	"testing"
)

func TestTLVLengthForms(t *testing.T) {
	for _, c := range []struct {
		n    int
		head []byte
	}{
		{0, []byte{0x04, 0x00}},
		{0x7f, []byte{0x04, 0x7f}},
		{0x80, []byte{0x04, 0x81, 0x80}},
		{0xff, []byte{0x04, 0x81, 0xff}},
		{0x100, []byte{0x04, 0x82, 0x01, 0x00}},
		{0x1234, []byte{0x04, 0x82, 0x12, 0x34}},
	} {
		content := bytes.Repeat([]byte{0xab}, c.n)
		// in two parts, to check they are joined in order
		got := TLV(0x04, content[:c.n/2], content[c.n/2:])
		if !bytes.Equal(got[:len(c.head)], c.head) || !bytes.Equal(got[len(c.head):], content) {
			t.Errorf("%d bytes: head % x, %d content bytes; want head % x", c.n, got[:min(len(got), len(c.head))], len(got)-len(c.head), c.head)
		}
	}
}

func TestOpenCloseNested(t *testing.T) {
	b, outer := Open([]byte{0xee}, 0x30)
	b, inner := Open(b, 0x04)
	b = append(b, bytes.Repeat([]byte{1}, 200)...)
	b = Close(b, inner)
	b = Close(b, outer)
	want := append([]byte{0xee, 0x30, 0x81, 203, 0x04, 0x81, 200}, bytes.Repeat([]byte{1}, 200)...)
	if !bytes.Equal(b, want) {
		t.Fatalf("got % x...", b[:8])
	}
	if n := testing.AllocsPerRun(100, func() {
		b, at := Open(b[:0], 0x02)
		b = append(b, 1, 2, 3)
		_ = Close(b, at)
	}); n != 0 {
		t.Errorf("Open/Close into a buffer with room allocate %.0f times", n)
	}
}
