package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"time"

	"otscope/model"
)

// ExchangeUDP sends one datagram to target:port and waits for one back from
// target:port, retransmitting at most Options.Retries times (each budgeted).
func (s *Session) ExchangeUDP(ctx context.Context, probe string, port uint16, r *Request) ([]byte, error) {
	if s.sc.budget.Stopped() {
		return nil, ErrStopped
	}
	if err := s.check(probe, r.Kind, r.Payload, MaxPayload); err != nil {
		return nil, s.refuse(UDP, port, probe, r.Kind, len(r.Payload), err)
	}
	if err := s.errAbsent(); err != nil {
		return nil, err
	}
	finish, err := s.viaNeighbour(ctx)
	if err != nil {
		return nil, err
	}
	defer finish()
	rec := model.ScanRecord{Target: s.t.Addr, Transport: "udp", Port: port, Probe: probe, Kind: string(r.Kind), Bytes: len(r.Payload)}
	// a connected socket only receives datagrams from target:port
	uc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.t.Addr, port)))
	if err != nil {
		return nil, s.refuse(UDP, port, probe, r.Kind, len(r.Payload), err)
	}
	defer uc.Close()
	uctx, cancel := s.stopCtx(ctx)
	defer cancel()
	stop := context.AfterFunc(uctx, func() { _ = uc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = s.timeout
	}
	buf := make([]byte, MaxAnswer+1)
	var lastErr error
	for try := 0; try <= s.sc.o.Retries; try++ {
		res, err := s.sc.budget.Reserve(ctx, s.t.Addr, 1)
		if err != nil {
			if rec.Packets > 0 {
				rec.Answer, rec.Error = "stopped", err.Error()
				s.sc.record(rec)
			}
			return nil, err
		}
		if try == 0 {
			s.sc.requests.Add(1)
		}
		_, werr := uc.Write(r.Payload)
		if werr == nil {
			res.Sent(1)
			rec.Packets++
		}
		res.Done()
		if werr != nil {
			lastErr = werr
			break
		}
		if r.NoAnswer {
			rec.Answer = "none expected"
			s.sc.tr.udpExchange(s, probe, port, s.sc.record(rec), r.Payload, nil)
			return nil, nil
		}
		_ = uc.SetReadDeadline(time.Now().Add(timeout))
		n, rerr := uc.Read(buf)
		if rerr == nil {
			if n > MaxAnswer {
				lastErr = &ExchangeError{Answer: "too long", Err: fmt.Errorf("datagram exceeds %d bytes", MaxAnswer)}
				break
			}
			ans := append([]byte(nil), buf[:n]...)
			s.sc.answers.Add(1)
			rec.Answer, rec.AnswerBytes = summary(r, ans), n
			s.sc.tr.udpExchange(s, probe, port, s.sc.record(rec), r.Payload, ans)
			return ans, nil
		}
		lastErr = rerr
		if ctx.Err() != nil || s.sc.budget.Stopped() || !errors.Is(rerr, os.ErrDeadlineExceeded) {
			break // only silence is worth a retransmission
		}
	}
	var xe *ExchangeError
	if !errors.As(lastErr, &xe) {
		xe = &ExchangeError{Answer: classify(lastErr), Err: lastErr}
	}
	return nil, s.failed(ctx, &rec, xe)
}

// failed logs an exchange that got no good answer and returns the error
// for the probe: the scan's own stop when it was stopped, else xe.
func (s *Session) failed(ctx context.Context, rec *model.ScanRecord, xe *ExchangeError) error {
	if ctx.Err() != nil || s.sc.budget.Stopped() {
		xe.Answer = "stopped"
	}
	rec.Answer, rec.Error = xe.Answer, xe.Error()
	s.sc.tally(xe.Answer)
	s.sc.record(*rec)
	if xe.Answer == "stopped" {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return ErrStopped
	}
	return xe
}

// summary is the log's description of an answer.
func summary(r *Request, b []byte) string {
	if r.Summary != nil {
		return r.Summary(b)
	}
	return fmt.Sprintf("%d bytes", len(b))
}

// classify names a network error for the packet log.
func classify(err error) string {
	var xe *ExchangeError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &xe):
		return xe.Answer
	case errors.Is(err, context.Canceled), errors.Is(err, ErrStopped):
		return "stopped"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable"
	case errors.Is(err, io.EOF):
		return "closed"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "error"
}
