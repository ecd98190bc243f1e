package dnp3crc

import "testing"

// TestCheckValue: the catalogued check value of CRC-16/DNP over
// "123456789", and the table against a bit-by-bit computation.
func TestCheckValue(t *testing.T) {
	if got := Sum([]byte("123456789")); got != 0xea82 {
		t.Fatalf("Sum(123456789) = %#04x, want 0xea82", got)
	}
	bitwise := func(b []byte) uint16 {
		var crc uint16
		for _, x := range b {
			crc ^= uint16(x)
			for range 8 {
				if crc&1 != 0 {
					crc = crc>>1 ^ 0xa6bc
				} else {
					crc >>= 1
				}
			}
		}
		return ^crc
	}
	for _, b := range [][]byte{{}, {0x05, 0x64, 0x05, 0xc9, 0x01, 0x00, 0x03, 0x00}, []byte("a longer block of user data")} {
		if Sum(b) != bitwise(b) {
			t.Errorf("Sum(% x) = %#04x, bitwise %#04x", b, Sum(b), bitwise(b))
		}
	}
}
