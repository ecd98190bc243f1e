package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"
)

// BudgetOptions are the packet caps of a scan.
type BudgetOptions struct {
	// Rate is the global cap in packets per second (default 50).
	Rate int
	// PerHost is the cap per target in packets per second (default 5).
	PerHost int
	// InFlight is how many targets are scanned at once (default 4).
	InFlight int
	// Window is the sliding window the caps hold in. It is a little longer
	// than a second (default 1.05 s) so that kernel send delay cannot push
	// one more packet into a wire-measured second.
	Window time.Duration
}

// Default caps.
const (
	DefaultRate     = 50
	DefaultPerHost  = 5
	DefaultInFlight = 4
	DefaultWindow   = 1050 * time.Millisecond
)

func (o BudgetOptions) withDefaults() BudgetOptions {
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	if o.PerHost > o.Rate {
		o.PerHost = o.Rate
	}
	if o.InFlight <= 0 {
		o.InFlight = DefaultInFlight
	}
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	return o
}

// ErrStopped is returned by every reservation once the scan is stopped.
var ErrStopped = errors.New("scan stopped")

// window holds the send times of one cap's recent packets, oldest first,
// plus the packets reserved and not yet known to be sent. Reserved packets
// count as sent now until they are settled, so a packet that leaves late
// (the ACK of an answer that took a second) is never missed.
type window struct {
	stamps  []time.Time
	pending int
}

// prune drops stamps that left the window.
func (w *window) prune(now time.Time, span time.Duration) {
	cut := now.Add(-span)
	i := 0
	for i < len(w.stamps) && !w.stamps[i].After(cut) {
		i++
	}
	if i > 0 {
		w.stamps = append(w.stamps[:0], w.stamps[i:]...)
	}
}

// used counts the packets in the window (pruned) and the pending ones.
func (w *window) used() int { return len(w.stamps) + w.pending }

// wait says how long until n more packets fit under limit: 0 now, the time
// until enough stamps age out, or -1 when pending packets must settle first.
func (w *window) wait(now time.Time, span time.Duration, n, limit int) time.Duration {
	excess := w.used() + n - limit
	if excess <= 0 {
		return 0
	}
	if excess > len(w.stamps) {
		return -1
	}
	return w.stamps[excess-1].Add(span).Sub(now)
}

// Budget is the choke point's accountant: every packet a scan causes is
// reserved here before it is sent, and recorded when it was.
type Budget struct {
	o BudgetOptions

	mu      sync.Mutex
	global  window
	hosts   map[netip.Addr]*window
	wake    chan struct{} // closed and replaced when a waiter may go on
	stopCh  chan struct{}
	paused  bool
	stopped bool
	conns   map[netip.Addr]*Conn
	sent    uint64
}

// NewBudget returns a budget with o's caps (defaults filled in).
func NewBudget(o BudgetOptions) *Budget {
	return &Budget{
		o:      o.withDefaults(),
		hosts:  map[netip.Addr]*window{},
		wake:   make(chan struct{}),
		stopCh: make(chan struct{}),
		conns:  map[netip.Addr]*Conn{},
	}
}

// Options returns the caps in force.
func (b *Budget) Options() BudgetOptions { return b.o }

// Headroom: the kernel sends a few packets no reservation can time — the
// delayed ACK of a peer's FIN that comes after the close was settled, its
// own ARP for a neighbour — and they count on the wire like any other. So
// reservations may fill a cap only up to the cap minus this headroom: one
// packet per second per host (when the per-host cap is 3 or more), and one
// per target in flight globally (when the global cap leaves room for it).
func (o BudgetOptions) hostHeadroom() int {
	if o.PerHost >= 3 {
		return 1
	}
	return 0
}

func (o BudgetOptions) globalHeadroom() int {
	if o.Rate >= 2*o.InFlight+o.PerHost {
		return o.InFlight
	}
	return 0
}

// MaxReserve is the largest reservation for one host: the per-host cap
// less its headroom.
func (o BudgetOptions) MaxReserve() int { return o.PerHost - o.hostHeadroom() }

// notify wakes every waiter; b.mu held.
func (b *Budget) notify() {
	close(b.wake)
	b.wake = make(chan struct{})
}

func (b *Budget) host(h netip.Addr) *window {
	w := b.hosts[h]
	if w == nil {
		w = &window{}
		b.hosts[h] = w
	}
	return w
}

// Reservation is packets reserved for one step. Sent records those that
// went out; Done releases the rest.
type Reservation struct {
	b       *Budget
	host    netip.Addr
	pending int
	sent    int
}

// Reserve blocks until n packets to host fit under both caps, then holds
// them. It fails at once when the budget is stopped or ctx is done, and
// for n above the per-host cap (the plan must split such a step).
func (b *Budget) Reserve(ctx context.Context, host netip.Addr, n int) (*Reservation, error) {
	if n <= 0 {
		return nil, fmt.Errorf("reservation of %d packets", n)
	}
	if n > b.o.MaxReserve() {
		return nil, fmt.Errorf("reservation of %d packets exceeds the per-host cap of %d/s (less %d of headroom)", n, b.o.PerHost, b.o.hostHeadroom())
	}
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		b.mu.Lock()
		if b.stopped {
			b.mu.Unlock()
			return nil, ErrStopped
		}
		if err := ctx.Err(); err != nil {
			b.mu.Unlock()
			return nil, err
		}
		var d time.Duration = -1
		if !b.paused {
			now := time.Now()
			hw := b.host(host)
			b.global.prune(now, b.o.Window)
			hw.prune(now, b.o.Window)
			dg := b.global.wait(now, b.o.Window, n, b.o.Rate-b.o.globalHeadroom())
			dh := hw.wait(now, b.o.Window, n, b.o.MaxReserve())
			if dg == 0 && dh == 0 {
				b.global.pending += n
				hw.pending += n
				b.mu.Unlock()
				return &Reservation{b: b, host: host, pending: n}, nil
			}
			if dg >= 0 && dh >= 0 {
				d = max(dg, dh, time.Millisecond)
			}
		}
		wake, stop := b.wake, b.stopCh
		b.mu.Unlock()
		var tc <-chan time.Time
		if d > 0 {
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			tc = timer.C
		}
		select {
		case <-tc:
		case <-wake:
		case <-stop:
		case <-ctx.Done():
		}
		if timer != nil && tc != nil && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// Sent records k packets as sent now. Packets beyond the reservation are
// debt: they are recorded all the same, so later reservations wait for them.
func (r *Reservation) Sent(k int) {
	if r == nil || k <= 0 {
		return
	}
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	hw := b.host(r.host)
	m := min(k, r.pending)
	r.pending -= m
	b.global.pending -= m
	hw.pending -= m
	for range k {
		b.global.stamps = append(b.global.stamps, now)
		hw.stamps = append(hw.stamps, now)
	}
	r.sent += k
	b.sent += uint64(k)
	if m > 0 {
		b.notify()
	}
}

// Done releases the packets that were reserved and not sent.
func (r *Reservation) Done() {
	if r == nil {
		return
	}
	b := r.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if r.pending > 0 {
		b.global.pending -= r.pending
		b.host(r.host).pending -= r.pending
		r.pending = 0
		b.notify()
	}
}

// Charge records k packets to host sent now outside any reservation (debt
// found after a step: a late ACK).
func (b *Budget) Charge(host netip.Addr, k int) {
	r := &Reservation{b: b, host: host}
	r.Sent(k)
}

// Pause holds every new reservation until Resume.
func (b *Budget) Pause() {
	b.mu.Lock()
	b.paused = true
	b.mu.Unlock()
}

// Resume lets reservations go again.
func (b *Budget) Resume() {
	b.mu.Lock()
	b.paused = false
	b.notify()
	b.mu.Unlock()
}

// Stop fails every pending and future reservation at once and aborts the
// open connections (RST, SO_LINGER 0), so nothing more is sent on them.
func (b *Budget) Stop() {
	b.mu.Lock()
	if b.stopped {
		b.mu.Unlock()
		return
	}
	b.stopped = true
	close(b.stopCh)
	b.notify()
	conns := make([]*Conn, 0, len(b.conns))
	for _, c := range b.conns {
		conns = append(conns, c)
	}
	clear(b.conns)
	b.mu.Unlock()
	for _, c := range conns {
		c.abort()
	}
}

// Stopped reports whether Stop was called.
func (b *Budget) Stopped() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stopped
}

// Done is closed by Stop.
func (b *Budget) Done() <-chan struct{} { return b.stopCh }

// openConn registers c as host's one open connection.
func (b *Budget) openConn(host netip.Addr, c *Conn) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return ErrStopped
	}
	if _, busy := b.conns[host]; busy {
		return fmt.Errorf("%s already has an open connection: one at a time per target", host)
	}
	b.conns[host] = c
	return nil
}

// closeConn forgets host's connection c.
func (b *Budget) closeConn(host netip.Addr, c *Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns[host] == c {
		delete(b.conns, host)
	}
}

// BudgetGauges are the budget's live counters.
type BudgetGauges struct {
	// PPS counts the packets sent in the last second; HostPPS per target
	// (targets with none are left out) and MaxHostPPS the highest.
	PPS        int
	HostPPS    map[netip.Addr]int
	MaxHostPPS int
	Conns      int
	Sent       uint64
	Paused     bool
	Stopped    bool
}

// Gauges returns the current counters.
func (b *Budget) Gauges() BudgetGauges {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	g := BudgetGauges{HostPPS: map[netip.Addr]int{}, Conns: len(b.conns), Sent: b.sent, Paused: b.paused, Stopped: b.stopped}
	g.PPS = lastSecond(b.global.stamps, now)
	for h, w := range b.hosts {
		w.prune(now, b.o.Window)
		if n := lastSecond(w.stamps, now); n > 0 {
			g.HostPPS[h] = n
			g.MaxHostPPS = max(g.MaxHostPPS, n)
		} else if len(w.stamps) == 0 && w.pending == 0 {
			delete(b.hosts, h) // forget idle hosts
		}
	}
	return g
}

// lastSecond counts the stamps within the last second.
func lastSecond(stamps []time.Time, now time.Time) int {
	cut := now.Add(-time.Second)
	i := sort.Search(len(stamps), func(i int) bool { return stamps[i].After(cut) })
	return len(stamps) - i
}
