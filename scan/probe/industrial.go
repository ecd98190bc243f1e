package probe

import (
	"context"
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

// icsEach asks each item in turn on one TCP connection to port. An item
// that times out (nothing behind that unit or address) does not end the
// probe; a stop does, and is returned; any other failure ends the probe
// quietly (the session has recorded it).
func icsEach[T any](ctx context.Context, s *Session, probe string, port uint16, items []T, ask func(*Conn, T) error) error {
	c, err := s.DialTCP(ctx, probe, port)
	if err != nil {
		return stopErr(ctx, err)
	}
	defer icsClose(c)
	for _, it := range items {
		err := ask(c, it)
		if err == nil {
			continue
		}
		if stop := stopErr(ctx, err); stop != nil {
			return stop
		}
		if !icsTimeout(err) {
			return nil
		}
	}
	return nil
}

// icsBE16 and icsLE16 read 16-bit integers.
func icsBE16(b []byte) int { return int(binary.BigEndian.Uint16(b)) }
func icsLE16(b []byte) int { return int(binary.LittleEndian.Uint16(b)) }

// icsHex formats a byte as two hex digits.
func icsHex(b byte) string { return fmt.Sprintf("%02x", b) }
