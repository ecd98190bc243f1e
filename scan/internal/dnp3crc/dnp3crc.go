// Package dnp3crc computes the CRC that DNP3 (IEEE 1815) appends, little
// endian, to its link header and to every 16-byte block of user data:
// CRC-16/DNP, polynomial 0x3D65 reflected (0xA6BC), result complemented.
// One implementation for the prober, the demo plant and the simulators.
package dnp3crc

var table = func() (t [256]uint16) {
	for i := range t {
		crc := uint16(i)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xa6bc
			} else {
				crc >>= 1
			}
		}
		t[i] = crc
	}
	return t
}()

// Sum returns the CRC of b.
func Sum(b []byte) uint16 {
	var crc uint16
	for _, x := range b {
		crc = crc>>8 ^ table[byte(crc)^x]
	}
	return ^crc
}
