// Package mbap frames Modbus/TCP messages (Modbus Messaging on TCP/IP
// Implementation Guide V1.0b §3.1.3): one encoder for the prober's requests
// and the decoder's and prober's tests.
package mbap

import "encoding/binary"

// ADU returns the MBAP header (transaction tx, protocol 0, length, unit)
// followed by pdu.
func ADU(tx uint16, unit byte, pdu ...byte) []byte {
	b := make([]byte, 7, 7+len(pdu))
	binary.BigEndian.PutUint16(b[0:], tx)
	// b[2:4] protocol identifier 0 = Modbus
	binary.BigEndian.PutUint16(b[4:], uint16(1+len(pdu)))
	b[6] = unit
	return append(b, pdu...)
}

// DeviceIDAnswer returns a device's answer (transaction tx) to FC 43 / MEI
// 14 Read Device Identification, read code 01, from object 0: objs are the
// basic objects in order (vendor, product code, revision), all in one
// answer.
func DeviceIDAnswer(tx uint16, unit byte, objs ...string) []byte {
	pdu := []byte{0x2b, 0x0e, 0x01, 0x01, 0x00, 0x00, byte(len(objs))}
	for i, o := range objs {
		pdu = append(pdu, byte(i), byte(len(o)))
		pdu = append(pdu, o...)
	}
	return ADU(tx, unit, pdu...)
}
