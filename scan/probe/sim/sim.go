// Package sim holds otscope's own device simulators for the industrial
// protocols that have no installable real server here: EtherNet/IP (a CIP
// adapter with an Identity object), DNP3 (an outstation's link layer) and
// IEC 60870-5-104 (a controlled station's U-format handling). They answer
// the way real devices do, written from the specifications (CIP Vol. 2
// chapter 2, IEEE 1815 chapter 9, IEC 60870-5-104 §5), so the scanner's
// probes can be tested end to end; cmd/otsim runs them standalone.
//
// A simulator is deliberately small: it answers the identification
// requests and the neighbouring requests a real device would also accept,
// refuses the rest the way the protocol says (an error status, or silence
// where the device would be silent), and never trusts a length it reads.
package sim

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Server is one running simulator (TCP, and UDP for EtherNet/IP).
type Server struct {
	ln net.Listener
	pc net.PacketConn

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	reqs  []string
	wg    sync.WaitGroup
	done  chan struct{}
}

// idle is how long a connection may stay silent before the simulator
// drops it, as devices do with stale connections.
const idle = 30 * time.Second

// newServer listens on TCP addr (and UDP addr when udp) and serves each
// connection with handle and each datagram with datagram.
func newServer(addr string, handle func(s *Server, c net.Conn), datagram func(s *Server, p []byte, from net.Addr) []byte) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, conns: map[net.Conn]struct{}{}, done: make(chan struct{})}
	if datagram != nil {
		// the same port on UDP, as EtherNet/IP devices serve 44818 on both
		pc, err := net.ListenPacket("udp", ln.Addr().String())
		if err != nil {
			ln.Close()
			return nil, err
		}
		s.pc = pc
		s.wg.Add(1)
		go s.serveUDP(datagram)
	}
	s.wg.Add(1)
	go s.serveTCP(handle)
	return s, nil
}

// Addr is the address the simulator listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Requests lists what the simulator received, in order: "tcp " or "udp "
// and the request's name.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.reqs...)
}

func (s *Server) log(r string) {
	s.mu.Lock()
	s.reqs = append(s.reqs, r)
	s.mu.Unlock()
}

// Close stops the simulator and its connections.
func (s *Server) Close() error {
	select {
	case <-s.done:
		return nil
	default:
	}
	close(s.done)
	err := s.ln.Close()
	if s.pc != nil {
		s.pc.Close()
	}
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return err
}

func (s *Server) serveTCP(handle func(*Server, net.Conn)) {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		s.mu.Lock()
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				c.Close()
			}()
			handle(s, c)
		}()
	}
}

func (s *Server) serveUDP(datagram func(*Server, []byte, net.Addr) []byte) {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if ans := datagram(s, buf[:n], from); ans != nil {
			_, _ = s.pc.WriteTo(ans, from)
		}
	}
}

// readFull reads exactly len(b) bytes, with the idle deadline.
func readFull(c net.Conn, b []byte) error {
	_ = c.SetReadDeadline(time.Now().Add(idle))
	_, err := io.ReadFull(c, b)
	return err
}
