package capture

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// stream is a buffered reader that counts the bytes consumed, so a bad record
// can be reported by its offset.
type stream struct {
	br  *bufio.Reader
	off int64 // bytes consumed so far
}

// readFull fills b. It returns io.EOF only when no byte was read.
func (s *stream) readFull(b []byte) error {
	n, err := io.ReadFull(s.br, b)
	s.off += int64(n)
	return err
}

// discard skips n bytes.
func (s *stream) discard(n int64) error {
	for n > 0 {
		chunk := n
		if chunk > 1<<30 {
			chunk = 1 << 30
		}
		m, err := s.br.Discard(int(chunk))
		s.off += int64(m)
		n -= int64(m)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// cutShort describes a failed read of want bytes at the start of which
// started bytes before the current offset.
func cutShort(what string, err error) (string, error) {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return what + " cut short", io.ErrUnexpectedEOF
	}
	return fmt.Sprintf("reading %s: %v", what, err), err
}

// frameBuf grows buf to hold n bytes (n <= MaxFrameLen), keeping it across
// calls so steady-state reads allocate nothing.
func frameBuf(buf []byte, n int) []byte {
	if cap(buf) >= n {
		return buf[:n]
	}
	c := 2 * cap(buf)
	if c < 2048 {
		c = 2048
	}
	if c < n {
		c = n
	}
	if c > MaxFrameLen {
		c = MaxFrameLen
	}
	return make([]byte, n, c)
}
