package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"otscope/model"
)

// MaxPayload bounds one request payload (one Ethernet MTU); an L2 request
// is a whole frame and may carry its 14-byte header on top.
const MaxPayload = 1500

// ErrNeedRaw is returned by ExchangeL2 without the right to open a raw socket.
var ErrNeedRaw = errors.New("needs CAP_NET_RAW: run as root or setcap cap_net_raw+ep otscope")

// ExchangeError is a failed exchange: Answer is the packet log's summary
// ("timeout", "reset", "refused", "garbage", "too long", "closed").
type ExchangeError struct {
	Answer string
	Err    error
}

func (e *ExchangeError) Error() string {
	if e.Err == nil {
		return e.Answer
	}
	return e.Answer + ": " + e.Err.Error()
}

func (e *ExchangeError) Unwrap() error { return e.Err }

// RefusedError is a request the session refused before sending anything;
// it is already in the packet log.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }

func (e *RefusedError) Unwrap() error { return e.Err }

// Session is the choke point for one target: every packet a probe causes
// goes through it, and it refuses what is out of scope, off the allow-list,
// too big or over budget.
type Session struct {
	sc      *Scanner
	t       *Target
	local   netip.Addr
	mac     model.MAC
	iface   string
	timeout time.Duration

	mu   sync.Mutex
	conn *Conn

	// onLink: the target is on a directly connected IPv4 subnet, so the
	// kernel ARPs for it before the first IP packet (neighbourChecked once
	// that is accounted for). absent says why the target is known not to
	// be there (no answer to ARP): its remaining probes are skipped.
	onLink, neighbourChecked bool
	absent                   string
}

// MarkAbsent records that the target is not there (why: "no ARP reply");
// the runner skips its remaining probes and nothing more is sent to it.
func (s *Session) MarkAbsent(why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.absent == "" {
		s.absent = why
	}
}

// Absent returns why the target is known not to be there ("" when it may be).
func (s *Session) Absent() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.absent
}

// errAbsent refuses a request to a target known not to be there.
func (s *Session) errAbsent() error {
	if why := s.Absent(); why != "" {
		return &ExchangeError{Answer: "absent", Err: fmt.Errorf("%s is not there: %s", s.t.Addr, why)}
	}
	return nil
}

// viaNeighbour budgets the kernel's ARP for an on-link target before the
// first IP packet to it, unless the kernel already knows the target's MAC.
// Call finish once that packet's exchange is over: it charges the requests
// the kernel sent (read back from the neighbour table), logs them, and
// marks the target absent when nobody answered.
func (s *Session) viaNeighbour(ctx context.Context) (finish func(), err error) {
	s.mu.Lock()
	first := s.onLink && !s.neighbourChecked
	s.neighbourChecked = true
	s.mu.Unlock()
	if !first {
		return func() {}, nil
	}
	if st := neighbour(s.t.Addr); st.found && st.resolved {
		return func() {}, nil
	}
	// one request when the target answers; more (one a second) are charged
	// as they are found, and the headroom absorbs them
	res, err := s.sc.budget.Reserve(ctx, s.t.Addr, 1)
	if err != nil {
		return nil, err
	}
	return func() {
		// an answered entry was asked once (NDA_PROBES then counts other
		// things); an unanswered one as often as the kernel tried
		st := neighbour(s.t.Addr)
		n := 1
		if !st.resolved && st.probes > 1 && st.probes <= 10 {
			n = st.probes
		}
		res.Sent(n)
		res.Done()
		rec := model.ScanRecord{Target: s.t.Addr, Transport: "l2", Probe: "kernel", Kind: string(KindARPRequest),
			Packets: n, Answer: "resolved"}
		if !st.resolved {
			rec.Answer, rec.Error = "no reply", "the kernel's ARP for the target got no answer"
			s.MarkAbsent("no reply to ARP")
		}
		s.sc.record(rec)
	}, nil
}

// Target is the address the session may send to.
func (s *Session) Target() netip.Addr { return s.t.Addr }

// Local is the scanner's source address toward the target.
func (s *Session) Local() netip.Addr { return s.local }

// LocalMAC is the MAC of the interface toward the target (zero on loopback).
func (s *Session) LocalMAC() model.MAC { return s.mac }

// Iface is the interface toward the target (the scan interface for L2).
func (s *Session) Iface() string { return s.iface }

// Timeout is the default connect and answer timeout.
func (s *Session) Timeout() time.Duration { return s.timeout }

// inScope is the second line of defence: the scope was checked when the
// plan was built, and is checked again before every packet.
func (s *Session) inScope() error {
	if s.sc.o.Scope == nil || !s.sc.o.Scope.Contains(s.t.Addr) {
		return fmt.Errorf("refused: %s is outside the scan scope", s.t.Addr)
	}
	return nil
}

// refuse logs a request that was not sent and returns err.
func (s *Session) refuse(tr Transport, port uint16, probe string, kind Kind, n int, err error) error {
	s.sc.errors.Add(1)
	s.sc.record(model.ScanRecord{
		Target: s.t.Addr, Transport: tr.String(), Port: port, Probe: probe, Kind: string(kind),
		Bytes: n, Answer: "not sent", Error: err.Error(),
	})
	return &RefusedError{Err: err}
}

// check runs every refusal before a request is sent.
func (s *Session) check(probe string, kind Kind, payload []byte, maxLen int) error {
	if err := s.inScope(); err != nil {
		return err
	}
	if len(payload) > maxLen {
		return fmt.Errorf("refused %s request: %d bytes, more than %d", probe, len(payload), maxLen)
	}
	return Check(probe, kind, payload)
}

// stopCtx returns ctx also canceled when the scan is stopped.
func (s *Session) stopCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := s.sc.budget.Done()
	go func() {
		select {
		case <-stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// Conn is a TCP connection opened through a Session.
type Conn struct {
	s     *Session
	probe string
	port  uint16
	c     *net.TCPConn
	segs  uint32 // tcpi_segs_out already accounted for

	id uint64 // names the connection to the decoder (transcript)

	mu      sync.Mutex
	closed  bool
	aborted bool
	// failed is set when the stream lost its framing (garbage, a partial
	// or oversized answer, a reset): no further request may go on it. A
	// request that got no byte at all (a Modbus unit id nobody answers
	// for) leaves the stream usable.
	failed bool
}

// DialTCP reserves the handshake in the budget, connects (at most one open
// connection per target) and logs tcp.connect.
func (s *Session) DialTCP(ctx context.Context, probe string, port uint16) (*Conn, error) {
	if s.sc.budget.Stopped() {
		return nil, ErrStopped
	}
	if err := s.inScope(); err != nil {
		return nil, s.refuse(TCP, port, probe, KindTCPConnect, 0, err)
	}
	if err := s.errAbsent(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	busy := s.conn != nil
	s.mu.Unlock()
	if busy {
		return nil, s.refuse(TCP, port, probe, KindTCPConnect, 0, fmt.Errorf("refused: %s already has an open connection", s.t.Addr))
	}
	finish, err := s.viaNeighbour(ctx)
	if err != nil {
		return nil, err
	}
	defer finish()
	// SYN, one SYN retransmission (TCP_SYNCNT=1), the ACK; under a per-host
	// cap below 3 the retransmission, if any, is charged as debt
	res, err := s.sc.budget.Reserve(ctx, s.t.Addr, min(3, s.sc.budget.o.MaxReserve()))
	if err != nil {
		return nil, err
	}
	defer res.Done()
	c := &Conn{s: s, probe: probe, port: port, id: s.sc.tr.newConn()}
	if err := s.sc.budget.openConn(s.t.Addr, c); err != nil {
		return nil, err
	}
	dctx, cancel := s.stopCtx(ctx)
	defer cancel()
	d := net.Dialer{Timeout: s.timeout, Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_SYNCNT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	start := time.Now()
	nc, err := d.DialContext(dctx, "tcp", netip.AddrPortFrom(s.t.Addr, port).String())
	rec := model.ScanRecord{Target: s.t.Addr, Transport: "tcp", Port: port, Probe: probe, Kind: string(KindTCPConnect)}
	if err != nil {
		s.sc.budget.closeConn(s.t.Addr, c)
		// the socket is gone: count the SYNs from the retransmission
		// timer (first RTO 1 s)
		k := 1
		if time.Since(start) >= time.Second {
			k = 2
		}
		res.Sent(k)
		rec.Packets = k
		ans := classify(err)
		if ctx.Err() != nil || s.sc.budget.Stopped() {
			ans = "stopped"
		}
		rec.Answer, rec.Error = ans, err.Error()
		s.sc.tally(ans)
		s.sc.record(rec)
		if ans == "stopped" {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, ErrStopped
		}
		return nil, &ExchangeError{Answer: ans, Err: err}
	}
	c.c = nc.(*net.TCPConn)
	segs, _ := c.segsOut()
	c.segs = segs
	res.Sent(int(segs))
	s.mu.Lock()
	s.conn = c
	s.mu.Unlock()
	if s.sc.budget.Stopped() {
		// Stop ran between openConn and now: it may have missed c
		c.abort()
	}
	rec.Packets, rec.Answer = int(segs), "open"
	seq := s.sc.record(rec)
	s.sc.tr.connect(s, c, seq)
	return c, nil
}

// segsOut reads tcpi_segs_out: every segment the kernel sent on the
// connection, retransmissions and pure ACKs included.
func (c *Conn) segsOut() (uint32, error) {
	rc, err := c.c.SyscallConn()
	if err != nil {
		return c.segs, err
	}
	var info *unix.TCPInfo
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return c.segs, err
	}
	if ierr != nil {
		return c.segs, ierr
	}
	return info.Segs_out, nil
}

// delta returns the segments sent since the last call.
func (c *Conn) delta() int {
	n, err := c.segsOut()
	if err != nil || n < c.segs {
		return 0
	}
	d := int(n - c.segs)
	c.segs = n
	return d
}

// mss is the connection's send MSS (536 when unknown).
func (c *Conn) mss() int {
	rc, err := c.c.SyscallConn()
	mss := 536
	if err != nil {
		return mss
	}
	_ = rc.Control(func(fd uintptr) {
		if info, err := unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO); err == nil && info.Snd_mss >= 536 {
			mss = int(info.Snd_mss)
		}
	})
	return mss
}

// Exchange sends one request and reads its answer (see Request). It checks
// the request against the allow-list first (refused: nothing is sent),
// never retries, and logs one record.
func (c *Conn) Exchange(ctx context.Context, r *Request) ([]byte, error) {
	s := c.s
	if s.sc.budget.Stopped() {
		return nil, ErrStopped
	}
	if err := s.check(c.probe, r.Kind, r.Payload, MaxPayload); err != nil {
		return nil, s.refuse(TCP, c.port, c.probe, r.Kind, len(r.Payload), err)
	}
	c.mu.Lock()
	dead, failed := c.closed || c.aborted, c.failed
	c.mu.Unlock()
	if dead {
		return nil, s.refuse(TCP, c.port, c.probe, r.Kind, len(r.Payload), errors.New("refused: the connection is closed"))
	}
	if failed {
		return nil, s.refuse(TCP, c.port, c.probe, r.Kind, len(r.Payload), errors.New("refused: the connection lost its framing in an earlier exchange"))
	}
	// late ACKs of the previous step, charged before anything else
	pre := c.delta()
	s.sc.budget.Charge(s.t.Addr, pre)
	segs := max(1, (len(r.Payload)+c.mss()-1)/c.mss())
	want := segs + 1 // one retransmission
	if !r.NoAnswer {
		want++ // the ACK of the answer
	}
	res, err := s.sc.budget.Reserve(ctx, s.t.Addr, min(want, s.sc.budget.o.MaxReserve()))
	if err != nil {
		return nil, err
	}
	defer res.Done()
	rec := model.ScanRecord{Target: s.t.Addr, Transport: "tcp", Port: c.port, Probe: c.probe, Kind: string(r.Kind), Bytes: len(r.Payload)}
	stop := context.AfterFunc(ctx, func() { _ = c.c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = s.timeout
	}
	deadline := time.Now().Add(timeout)
	_ = c.c.SetWriteDeadline(deadline)
	s.sc.requests.Add(1)
	_, werr := c.c.Write(r.Payload)
	n := c.delta()
	res.Sent(n)
	sent := pre + n
	var answer []byte
	if werr == nil && !r.NoAnswer {
		_ = c.setQuickAck()
		answer, werr = c.read(r, deadline)
		n = c.delta()
		res.Sent(n)
		sent += n
	}
	rec.Packets = sent
	if werr != nil {
		if len(answer) > 0 || !errors.Is(werr, os.ErrDeadlineExceeded) {
			c.mu.Lock()
			c.failed = true
			c.mu.Unlock()
		}
		var xe *ExchangeError
		if !errors.As(werr, &xe) {
			xe = &ExchangeError{Answer: classify(werr), Err: werr}
		}
		rec.AnswerBytes = len(answer)
		return nil, s.failed(ctx, &rec, xe)
	}
	if r.NoAnswer {
		rec.Answer = "none expected"
	} else {
		s.sc.answers.Add(1)
		rec.Answer, rec.AnswerBytes = summary(r, answer), len(answer)
	}
	seq := s.sc.record(rec)
	decoded := answer
	if r.Decoded != nil && len(answer) > 0 {
		decoded = r.Decoded(answer)
	}
	s.sc.tr.tcpExchange(s, c, seq, r.Payload, decoded)
	return answer, nil
}

// read reads one answer until r.Frame says it is complete.
func (c *Conn) read(r *Request, deadline time.Time) ([]byte, error) {
	_ = c.c.SetReadDeadline(deadline)
	buf := make([]byte, 0, 2048)
	for {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(2*cap(buf), MaxAnswer+1))
			copy(nb, buf)
			buf = nb
		}
		n, err := c.c.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if n > 0 {
			if r.Frame == nil {
				return buf, nil
			}
			want, ferr := r.Frame(buf)
			switch {
			case ferr != nil:
				return buf, &ExchangeError{Answer: "garbage", Err: ferr}
			case want > MaxAnswer:
				return buf, &ExchangeError{Answer: "too long", Err: fmt.Errorf("answer announces %d bytes, more than %d", want, MaxAnswer)}
			case want > 0 && len(buf) >= want:
				return buf[:want], nil
			}
			if len(buf) > MaxAnswer {
				return buf, &ExchangeError{Answer: "too long", Err: fmt.Errorf("answer exceeds %d bytes", MaxAnswer)}
			}
		}
		if err != nil {
			if len(buf) > 0 && errors.Is(err, os.ErrDeadlineExceeded) {
				return buf, &ExchangeError{Answer: "timeout", Err: fmt.Errorf("answer incomplete after %d bytes", len(buf))}
			}
			return buf, err
		}
	}
}

// setQuickAck asks the kernel to ACK the answer at once rather than after
// the delayed-ACK timer, so the ACK is counted with its exchange.
func (c *Conn) setQuickAck() error {
	rc, err := c.c.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { _ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1) })
}

// Close closes gracefully (FIN, then the peer's FIN is awaited and ACKed),
// budgeted, and logs tcp.close. A peer that does not close in time gets a
// RST.
func (c *Conn) Close() error {
	s := c.s
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	aborted := c.aborted
	c.mu.Unlock()
	defer func() {
		s.sc.tr.endConn(s, c)
		s.sc.budget.closeConn(s.t.Addr, c)
		s.mu.Lock()
		if s.conn == c {
			s.conn = nil
		}
		s.mu.Unlock()
	}()
	rec := model.ScanRecord{Target: s.t.Addr, Transport: "tcp", Port: c.port, Probe: c.probe, Kind: string(KindTCPClose)}
	if aborted {
		rec.Packets, rec.Answer = 1, "reset sent"
		s.sc.record(rec)
		return nil
	}
	pre := c.delta()
	s.sc.budget.Charge(s.t.Addr, pre)
	// FIN, one retransmission, the ACK of the peer's FIN
	res, err := s.sc.budget.Reserve(context.Background(), s.t.Addr, min(3, s.sc.budget.o.MaxReserve()))
	if err != nil {
		c.abort()
		rec.Packets, rec.Answer, rec.Error = pre+1, "reset sent", err.Error()
		s.sc.record(rec)
		return err
	}
	defer res.Done()
	_ = c.c.CloseWrite()
	_ = c.c.SetReadDeadline(time.Now().Add(min(s.timeout, 2*time.Second)))
	var rerr error
	var discard [4096]byte
	for total := 0; ; {
		n, err := c.c.Read(discard[:])
		total += n
		if err != nil {
			rerr = err
			break
		}
		if total > MaxAnswer {
			rerr = errors.New("peer keeps sending after close")
			break
		}
	}
	n := c.delta()
	rec.Answer = "closed"
	if errors.Is(rerr, io.EOF) {
		_ = c.c.Close()
	} else {
		c.abort()
		n++
		rec.Answer, rec.Error = "reset sent", classify(rerr)
	}
	res.Sent(n)
	rec.Packets = pre + n
	s.sc.record(rec)
	return nil
}

// abort resets the connection (SO_LINGER 0): one RST, then nothing more.
func (c *Conn) abort() {
	c.mu.Lock()
	if c.aborted || c.c == nil {
		c.mu.Unlock()
		return
	}
	c.aborted = true
	c.mu.Unlock()
	_ = c.c.SetLinger(0)
	_ = c.c.Close()
}
