package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Helpers shared by the industrial probes (modbus, s7, enip, dnp3, iec104).

// icsTimeout reports an exchange that got no (complete) answer in time.
func icsTimeout(err error) bool {
	var xe *ExchangeError
	return errors.As(err, &xe) && xe.Answer == "timeout"
}

// icsClosed reports an exchange the peer ended: reset, refused or closed.
func icsClosed(err error) bool {
	var xe *ExchangeError
	return errors.As(err, &xe) && (xe.Answer == "reset" || xe.Answer == "closed" || xe.Answer == "refused")
}

// icsClose closes c; a close failure is recorded by the session and ends
// nothing.
func icsClose(c *Conn) { _ = c.Close() }

// icsBE16 and icsLE16 read 16-bit integers.
func icsBE16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }
func icsLE16(b []byte) int { return int(binary.LittleEndian.Uint16(b)) }

// icsHex formats a byte as two hex digits.
func icsHex(b byte) string { return fmt.Sprintf("%02x", b) }
