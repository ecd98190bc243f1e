package probe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/google/gopacket/pcapgo"
	"golang.org/x/sys/unix"

	"otscope/model"
)

// l2Poll bounds one blocking read of the raw socket, so a stop or the end
// of the wait is seen promptly.
const l2Poll = 50 * time.Millisecond

// ExchangeL2 sends one raw Ethernet frame (r.Payload, checked as a request
// of family probe) on the scan interface and collects the frames for which
// match returns true until the timeout. It needs CAP_NET_RAW.
func (s *Session) ExchangeL2(ctx context.Context, probe string, r *Request, match func(frame []byte) bool) ([][]byte, error) {
	if s.sc.budget.Stopped() {
		return nil, ErrStopped
	}
	err := s.check(probe, r.Kind, r.Payload, MaxPayload+14)
	if err == nil {
		err = s.checkL2Target(r.Payload)
	}
	if err != nil {
		return nil, s.refuse(L2, 0, probe, r.Kind, len(r.Payload), err)
	}
	if s.iface == "" {
		return nil, s.refuse(L2, 0, probe, r.Kind, len(r.Payload), fmt.Errorf("no interface toward %s for layer-2 probes", s.t.Addr))
	}
	h, fd, err := openRaw(s.iface)
	if err != nil {
		return nil, s.refuse(L2, 0, probe, r.Kind, len(r.Payload), err)
	}
	defer h.Close()
	res, err := s.sc.budget.Reserve(ctx, s.t.Addr, 1)
	if err != nil {
		return nil, err
	}
	defer res.Done()
	rec := model.ScanRecord{Target: s.t.Addr, Transport: "l2", Probe: probe, Kind: string(r.Kind), Bytes: len(r.Payload)}
	s.sc.requests.Add(1)
	// a packet socket bound to the interface sends a written frame as it is
	if _, err := unix.Write(fd, r.Payload); err != nil {
		rec.Answer, rec.Error = classify(err), err.Error()
		s.sc.errors.Add(1)
		s.sc.record(rec)
		return nil, &ExchangeError{Answer: rec.Answer, Err: err}
	}
	res.Sent(1)
	rec.Packets = 1
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = s.timeout
	}
	deadline := time.Now().Add(timeout)
	var got [][]byte
	size := 0
	for time.Now().Before(deadline) && ctx.Err() == nil && !s.sc.budget.Stopped() {
		data, _, err := h.ReadPacketData()
		if err != nil {
			// pcapgo formats the errno with %s
			if msg := err.Error(); strings.Contains(msg, syscall.EAGAIN.Error()) || strings.Contains(msg, syscall.EINTR.Error()) {
				continue
			}
			rec.Error = err.Error()
			break
		}
		if match(data) {
			got = append(got, append([]byte(nil), data...))
			size += len(data)
			if size > MaxAnswer {
				break
			}
		}
	}
	rec.AnswerBytes = size
	rec.Answer = fmt.Sprintf("%d frames", len(got))
	if len(got) == 0 {
		rec.Answer = "timeout"
	} else {
		s.sc.answers.Add(1)
	}
	seq := s.sc.record(rec)
	s.sc.tr.l2Exchange(seq, got)
	if ctx.Err() != nil {
		return got, ctx.Err()
	}
	if s.sc.budget.Stopped() {
		return got, ErrStopped
	}
	return got, nil
}

// checkL2Target refuses an ARP request for any address but the target, and
// a DCP Identify to the multicast address unless the user accepted it.
func (s *Session) checkL2Target(frame []byte) error {
	if len(frame) >= 14 && binary.BigEndian.Uint16(frame[12:14]) == dcpEtherType &&
		model.MAC(frame[:6]) == dcpMulticast && !s.sc.o.Plan.DCPMulticast {
		return errors.New("refused: DCP Identify to the multicast address reaches every PROFINET station of the segment; pass --dcp-multicast to accept that")
	}
	if len(frame) < 42 || binary.BigEndian.Uint16(frame[12:14]) != 0x0806 {
		return nil
	}
	if !s.t.Addr.Is4() {
		return fmt.Errorf("refused: ARP for IPv6 target %s", s.t.Addr)
	}
	tpa := s.t.Addr.As4()
	if [4]byte(frame[38:42]) != tpa {
		return fmt.Errorf("refused: ARP asks for %d.%d.%d.%d, not the target %s", frame[38], frame[39], frame[40], frame[41], s.t.Addr)
	}
	return nil
}

// openRaw opens an AF_PACKET socket on iface with a short receive timeout;
// without the right to, ErrNeedRaw.
func openRaw(iface string) (*pcapgo.EthernetHandle, int, error) {
	// pcapgo formats socket errors with %s: open one first to get the errno
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return nil, 0, ErrNeedRaw
		}
		return nil, 0, fmt.Errorf("raw socket: %w", err)
	}
	_ = unix.Close(fd)
	h, err := pcapgo.NewEthernetHandle(iface)
	if err != nil {
		return nil, 0, fmt.Errorf("raw socket on %s: %w", iface, err)
	}
	// pcapgo does not export the descriptor, needed to send and to set a
	// receive timeout
	v := reflect.ValueOf(h).Elem().FieldByName("fd")
	if !v.IsValid() || !v.CanInt() {
		h.Close()
		return nil, 0, errors.New("raw socket: cannot reach its descriptor")
	}
	fd = int(v.Int())
	tv := unix.NsecToTimeval(l2Poll.Nanoseconds())
	_ = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return h, fd, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }
