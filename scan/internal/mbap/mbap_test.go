package mbap

import (
	"bytes"
	"testing"
)

func TestADU(t *testing.T) {
	got := ADU(0x1234, 255, 0x03, 0x00, 0x01)
	want := []byte{0x12, 0x34, 0, 0, 0, 4, 255, 0x03, 0x00, 0x01}
	if !bytes.Equal(got, want) {
		t.Fatalf("% x, want % x", got, want)
	}
}

func TestDeviceIDAnswer(t *testing.T) {
	got := DeviceIDAnswer(7, 1, "ACME", "P1")
	want := []byte{0, 7, 0, 0, 0, 18, 1, 0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, 2, 0, 4, 'A', 'C', 'M', 'E', 1, 2, 'P', '1'}
	if !bytes.Equal(got, want) {
		t.Fatalf("% x, want % x", got, want)
	}
}
