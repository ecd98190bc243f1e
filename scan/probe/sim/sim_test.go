package sim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"otscope/scan/internal/dnp3crc"
)

// These tests speak to the simulators with hand-built bytes from the
// specifications, independently of the scanner's probes.

// ended reports a connection the peer closed (a reset when it closed with
// our bytes unread).
func ended(err error) bool { return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) }

func dial(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	return c
}

// encap builds an encapsulation message.
func encap(cmd uint16, session uint32, ctx byte, data []byte) []byte {
	b := make([]byte, 24, 24+len(data))
	binary.LittleEndian.PutUint16(b, cmd)
	binary.LittleEndian.PutUint16(b[2:], uint16(len(data)))
	binary.LittleEndian.PutUint32(b[4:], session)
	b[12] = ctx
	return append(b, data...)
}

// readEncap reads one encapsulation message.
func readEncap(t *testing.T, c net.Conn) (hdr, data []byte) {
	t.Helper()
	hdr = make([]byte, 24)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatal(err)
	}
	data = make([]byte, binary.LittleEndian.Uint16(hdr[2:]))
	if _, err := io.ReadFull(c, data); err != nil {
		t.Fatal(err)
	}
	return hdr, data
}

func rrData(path []byte, svc byte) []byte {
	cip := append([]byte{svc, byte(len(path) / 2)}, path...)
	d := []byte{0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0xb2, 0, byte(len(cip)), 0}
	return append(d, cip...)
}

func TestENIPSession(t *testing.T) {
	s, err := ListenENIP("127.0.0.40:0", DefaultENIP())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := dial(t, s)
	status := func(h []byte) uint32 { return binary.LittleEndian.Uint32(h[8:]) }

	// SendRRData before RegisterSession: invalid session handle
	c.Write(encap(0x6f, 0, 1, rrData([]byte{0x20, 1, 0x24, 1}, 0x01)))
	if h, _ := readEncap(t, c); status(h) != 0x64 || h[12] != 1 {
		t.Errorf("no session: status %#x, context %d", status(h), h[12])
	}
	// protocol version 2: unsupported
	c.Write(encap(0x65, 0, 2, []byte{2, 0, 0, 0}))
	if h, _ := readEncap(t, c); status(h) != 0x69 {
		t.Errorf("version 2: status %#x", status(h))
	}
	c.Write(encap(0x65, 0, 3, []byte{1, 0, 0, 0}))
	h, d := readEncap(t, c)
	session := binary.LittleEndian.Uint32(h[4:])
	if status(h) != 0 || session == 0 || !bytes.Equal(d, []byte{1, 0, 0, 0}) {
		t.Fatalf("register: status %#x session %#x data % x", status(h), session, d)
	}
	cipReply := func(d []byte) []byte { return d[16:] }
	// Get_Attributes_All of the Identity object: attributes 1-7
	c.Write(encap(0x6f, session, 4, rrData([]byte{0x20, 1, 0x24, 1}, 0x01)))
	_, d = readEncap(t, c)
	r := cipReply(d)
	if r[0] != 0x81 || r[2] != 0 || binary.LittleEndian.Uint16(r[4:]) != 1 || binary.LittleEndian.Uint16(r[8:]) != 55 ||
		r[10] != 20 || r[11] != 11 || binary.LittleEndian.Uint32(r[14:]) != 0x60a1b2c3 || string(r[19:]) != "1756-L61/B LOGIX5561" {
		t.Errorf("identity % x", r)
	}
	// 16-bit segments name the same object
	c.Write(encap(0x6f, session, 5, rrData([]byte{0x21, 0, 1, 0, 0x25, 0, 1, 0}, 0x01)))
	if _, d = readEncap(t, c); cipReply(d)[2] != 0 {
		t.Errorf("16-bit path: status %#x", cipReply(d)[2])
	}
	// a write service: service not supported; another object: path destination unknown
	c.Write(encap(0x6f, session, 6, rrData([]byte{0x20, 1, 0x24, 1}, 0x10)))
	if _, d = readEncap(t, c); cipReply(d)[0] != 0x90 || cipReply(d)[2] != 0x08 {
		t.Errorf("Set_Attribute_Single: % x", cipReply(d))
	}
	c.Write(encap(0x6f, session, 7, rrData([]byte{0x20, 0xf5, 0x24, 1}, 0x01)))
	if _, d = readEncap(t, c); cipReply(d)[2] != 0x05 {
		t.Errorf("class 0xf5: % x", cipReply(d))
	}
	// an unknown command: invalid command status
	c.Write(encap(0x70, session, 8, nil))
	if h, _ := readEncap(t, c); status(h) != 0x01 {
		t.Errorf("SendUnitData without a connection: status %#x", status(h))
	}
	// UnRegisterSession: no reply, the connection closes
	c.Write(encap(0x66, session, 9, nil))
	if n, err := c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
		t.Errorf("after UnRegisterSession: %d %v", n, err)
	}
}

func TestENIPListIdentityUDP(t *testing.T) {
	s, err := ListenENIP("127.0.0.40:0", DefaultENIP())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := net.Dial("udp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	c.Write(encap(0x63, 0, 42, nil))
	b := make([]byte, 600)
	n, err := c.Read(b)
	if err != nil {
		t.Fatal(err)
	}
	b = b[:n]
	item := b[24+2+4:]
	// version, sockaddr (AF_INET, our port, 127.0.0.40), identity, state
	port := s.Addr().(*net.TCPAddr).Port
	if b[12] != 42 || binary.LittleEndian.Uint16(b[24:]) != 1 || binary.LittleEndian.Uint16(b[26:]) != 0x0c ||
		binary.BigEndian.Uint16(item[2:]) != 2 || int(binary.BigEndian.Uint16(item[4:])) != port ||
		!bytes.Equal(item[6:10], []byte{127, 0, 0, 40}) || item[len(item)-1] != 3 {
		t.Errorf("ListIdentity % x", b)
	}
	// RegisterSession is TCP only: no answer over UDP
	c.Write(encap(0x65, 0, 1, []byte{1, 0, 0, 0}))
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.Read(b); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("RegisterSession over UDP answered: %v", err)
	}
	if got := s.Requests(); len(got) != 2 || got[0] != "udp 0x0063" || got[1] != "udp 0x0065" {
		t.Errorf("requests %v", got)
	}
}

func dnp3Hdr(ctrl byte, dest, src uint16) []byte {
	b := []byte{0x05, 0x64, 5, ctrl, 0, 0, 0, 0}
	binary.LittleEndian.PutUint16(b[4:], dest)
	binary.LittleEndian.PutUint16(b[6:], src)
	return binary.LittleEndian.AppendUint16(b, dnp3crc.Sum(b))
}

func TestDNP3Outstation(t *testing.T) {
	if dnp3crc.Sum([]byte("123456789")) != 0xea82 {
		t.Fatal("CRC-16/DNP check value")
	}
	s, err := ListenDNP3("127.0.0.40:0", DNP3Outstation{Address: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := dial(t, s)
	bad := dnp3Hdr(0xc9, 10, 3)
	bad[8] ^= 1
	// silence: another address, a broadcast, a bad CRC, a secondary frame
	for _, f := range [][]byte{dnp3Hdr(0xc9, 11, 3), dnp3Hdr(0xc9, 0xffff, 3), bad, dnp3Hdr(0x0b, 10, 3)} {
		c.Write(f)
	}
	c.Write(dnp3Hdr(0xc9, 10, 3))
	b := make([]byte, 10)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, dnp3Hdr(0x0b, 3, 10)) {
		t.Errorf("link status % x, want % x", b, dnp3Hdr(0x0b, 3, 10))
	}
	c.Write(dnp3Hdr(0xc0, 10, 3)) // reset link states
	if _, err := io.ReadFull(c, b); err != nil || !bytes.Equal(b, dnp3Hdr(0x00, 3, 10)) {
		t.Errorf("ack % x %v", b, err)
	}
	// lost framing: the connection is dropped
	c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
	if n, err := c.Read(b); n != 0 || !ended(err) {
		t.Errorf("after garbage: %d %v", n, err)
	}
}

func TestIEC104Station(t *testing.T) {
	s, err := ListenIEC104("127.0.0.40:0")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := dial(t, s)
	// an interrogation before STARTDT is ignored; the U-frames are confirmed
	c.Write([]byte{0x68, 0x0e, 0, 0, 0, 0, 100, 1, 6, 0, 1, 0, 0, 0, 0, 20})
	b := make([]byte, 6)
	for _, x := range [][2]byte{{0x43, 0x83}, {0x07, 0x0b}, {0x13, 0x23}} {
		c.Write([]byte{0x68, 4, x[0], 0, 0, 0})
		if _, err := io.ReadFull(c, b); err != nil || !bytes.Equal(b, []byte{0x68, 4, x[1], 0, 0, 0}) {
			t.Errorf("%#x: % x %v", x[0], b, err)
		}
	}
	c.Write([]byte{0x68, 2, 0, 0}) // length below 4: the connection ends
	if n, err := c.Read(b); n != 0 || !ended(err) {
		t.Errorf("after a bad length: %d %v", n, err)
	}
}

func TestServerCloseEndsConnections(t *testing.T) {
	s, err := ListenIEC104("127.0.0.40:0")
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, s)
	c.Write([]byte{0x68, 4, 0x43, 0, 0, 0})
	io.ReadFull(c, make([]byte, 6))
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close hangs with a connection open")
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open after Close")
	}
}
