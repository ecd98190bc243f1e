package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"sync"
	"testing"

	"otscope/model"
)

// testproto is a test-only protocol family for the core's tests. A request
// is 4 bytes: "TP", op, arg. Op 1 asks (read-only, allowed as the kind
// tpKind); op 2 "writes" and must be refused. An answer is "TP", a 32-bit
// length, then that many bytes.
const (
	tpName = "testproto"
	tpKind = KindIEC104TestFR
)

func init() {
	registerDissector(tpName, func(p []byte) (Kind, error) {
		if len(p) != 4 || p[0] != 'T' || p[1] != 'P' {
			return "", errors.New("not a testproto request")
		}
		switch p[2] {
		case 1:
			return tpKind, nil
		case 2:
			return "", errors.New("testproto write")
		}
		return "", fmt.Errorf("testproto op %d", p[2])
	})
	Register(tpProbe{})
}

func tpRequest(op, arg byte) *Request {
	return &Request{Kind: tpKind, Payload: []byte{'T', 'P', op, arg}, Frame: tpFrame,
		Summary: func(b []byte) string { return fmt.Sprintf("%d data bytes", len(b)-6) }}
}

func tpFrame(b []byte) (int, error) {
	for i := 0; i < min(2, len(b)); i++ {
		if b[i] != "TP"[i] {
			return 0, errors.New("not a testproto answer")
		}
	}
	if len(b) < 6 {
		return 0, nil
	}
	return 6 + int(binary.BigEndian.Uint32(b[2:6])), nil
}

// tpProbe sends Steps-2 requests on one connection.
type tpProbe struct{}

func (tpProbe) Name() string { return tpName }

func (tpProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	n := 1
	if t.Known.Has("tp.requests") {
		n = 4
	}
	p := Planned{Probe: tpName, Transport: TCP, Port: o.Port(tpName, 1), Why: "test"}
	p.Steps = append(p.Steps, Step{KindTCPConnect, 3})
	for range n {
		p.Steps = append(p.Steps, Step{tpKind, 3})
	}
	p.Steps = append(p.Steps, Step{KindTCPClose, 3})
	return p, true
}

func (tpProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	c, err := s.DialTCP(ctx, tpName, p.Port)
	if err != nil {
		return tpStop(ctx, err)
	}
	defer c.Close()
	for i := 1; i < len(p.Steps)-1; i++ {
		if _, err := c.Exchange(ctx, tpRequest(1, byte(i))); err != nil {
			return tpStop(ctx, err)
		}
	}
	return nil
}

// tpStop keeps only the errors a probe returns: a stopped scan.
func tpStop(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, ErrStopped) {
		return err
	}
	return nil
}

// tpServer listens on addr:port and runs behave for each connection. It
// counts the request bytes it received.
type tpServer struct {
	mu    sync.Mutex
	bytes int
	conns int
}

func (s *tpServer) got() (bytes, conns int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes, s.conns
}

func startTP(t *testing.T, addr string, port int, behave func(s *tpServer, c *net.TCPConn)) *tpServer {
	t.Helper()
	s := &tpServer{}
	serveTCP(t, net.JoinHostPort(addr, fmt.Sprint(port)), func(c net.Conn) {
		s.mu.Lock()
		s.conns++
		s.mu.Unlock()
		behave(s, c.(*net.TCPConn))
	})
	return s
}

// serveTCP listens on hostport (port 0: any) until the test ends and runs
// handle for each connection in a goroutine of its own, closing the
// connection when handle returns. It returns the port.
func serveTCP(t *testing.T, hostport string, handle func(c net.Conn)) int {
	t.Helper()
	ln, err := net.Listen("tcp", hostport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// readFrame reads one length-prefixed frame: the hdr bytes, then the rest
// of the size(header) bytes the whole frame has. A size below hdr (size
// returns -1 for one out of the protocol's range) is an error.
func readFrame(r io.Reader, hdr int, size func(h []byte) int) ([]byte, error) {
	h := make([]byte, hdr)
	if _, err := io.ReadFull(r, h); err != nil {
		return nil, err
	}
	n := size(h)
	if n < hdr {
		return nil, fmt.Errorf("frame size %d below its %d-byte header", n, hdr)
	}
	b := append(h, make([]byte, n-hdr)...)
	if _, err := io.ReadFull(r, b[hdr:]); err != nil {
		return nil, err
	}
	return b, nil
}

// readReq reads one 4-byte request.
func (s *tpServer) readReq(c net.Conn) ([]byte, error) {
	b := make([]byte, 4)
	n, err := io.ReadFull(c, b)
	s.mu.Lock()
	s.bytes += n
	s.mu.Unlock()
	return b, err
}

// tpEcho answers every request with 16 data bytes.
func tpEcho(s *tpServer, c *net.TCPConn) {
	for {
		if _, err := s.readReq(c); err != nil {
			return
		}
		ans := append([]byte{'T', 'P', 0, 0, 0, 16}, make([]byte, 16)...)
		if _, err := c.Write(ans); err != nil {
			return
		}
	}
}

// freePort finds a TCP port free on 127.0.0.2 (reused on other loopback
// addresses of the test).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// recorder collects packet-log records.
type recorder struct {
	mu   sync.Mutex
	recs []model.ScanRecord
}

func (r *recorder) log(rec model.ScanRecord) {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
}

func (r *recorder) all() []model.ScanRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]model.ScanRecord(nil), r.recs...)
}

func (r *recorder) forTarget(a netip.Addr) []model.ScanRecord {
	var out []model.ScanRecord
	for _, rec := range r.all() {
		if rec.Target == a {
			out = append(out, rec)
		}
	}
	return out
}

func mustScope(t *testing.T, targets ...string) *Scope {
	t.Helper()
	s, err := ParseScope(targets, ScopeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func tpTargets(t *testing.T, sc *Scope, requests bool) []Target {
	t.Helper()
	ts := Targets(sc, nil, nil)
	if requests {
		for i := range ts {
			ts[i].Known.Fields["tp.requests"] = true
		}
	}
	return ts
}

func tpProbes(t *testing.T) []Probe {
	t.Helper()
	ps, err := Lookup([]string{tpName})
	if err != nil {
		t.Fatal(err)
	}
	return ps
}
