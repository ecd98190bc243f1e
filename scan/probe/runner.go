package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"otscope/model"
)

// Options configure a Scanner.
type Options struct {
	// Rate, PerHost and InFlight are the budget's caps (defaults 50 pps,
	// 5 pps per host, 4 targets at once).
	Rate, PerHost, InFlight int
	// Timeout bounds a connect and an answer (default 2 s).
	Timeout time.Duration
	// Retries is how often an unanswered UDP request is sent again
	// (default 1; negative: never).
	Retries int
	// Iface is the interface for layer-2 probes (default: the one toward
	// each target).
	Iface string
	// Scope is checked again before every packet; nil refuses everything.
	Scope *Scope
	// Plan is what the user chose that shapes probes.
	Plan PlanOptions
	// ScanID names the run in the packet log and in fact provenance.
	ScanID string
	// Log receives every packet-log record, serialised.
	Log func(model.ScanRecord)
	// Observe receives the observations learnt from the answers, after
	// each target.
	Observe func(model.Batch)
	// Now is the clock of records and facts (tests); default time.Now.
	Now func() time.Time
}

// DefaultTimeout bounds connects and answers.
const DefaultTimeout = 2 * time.Second

// Budget returns the caps the options ask for.
func (o *Options) Budget() BudgetOptions {
	return BudgetOptions{Rate: o.Rate, PerHost: o.PerHost, InFlight: o.InFlight}.withDefaults()
}

// Scanner runs a plan through one budget.
type Scanner struct {
	o      Options
	budget *Budget
	tr     *transcript

	logMu sync.Mutex
	seq   uint64

	runMu  sync.Mutex
	cancel context.CancelFunc

	total, done               atomic.Int64
	requests, answers, errors atomic.Int64
	closed, silent            atomic.Int64 // refused connections; no answer
}

// New returns a Scanner; nothing is sent until Run.
func New(o Options) *Scanner {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Retries == 0 {
		o.Retries = 1
	} else if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ScanID == "" {
		o.ScanID = o.Now().UTC().Format(time.RFC3339)
	}
	return &Scanner{o: o, budget: NewBudget(o.Budget()), tr: newTranscript(o.ScanID, o.Observe, o.Now)}
}

// Budget is the scanner's choke point.
func (sc *Scanner) Budget() *Budget { return sc.budget }

// record assigns the next sequence number and hands r to Options.Log.
func (sc *Scanner) record(r model.ScanRecord) uint64 {
	sc.logMu.Lock()
	defer sc.logMu.Unlock()
	sc.seq++
	r.Scan, r.Seq, r.Time = sc.o.ScanID, sc.seq, sc.o.Now()
	if sc.o.Log != nil {
		sc.o.Log(r)
	}
	return r.Seq
}

// NewSession opens the choke point for one target. End it with End.
func (sc *Scanner) NewSession(t *Target) (*Session, error) {
	if sc.o.Scope == nil || !sc.o.Scope.Contains(t.Addr) {
		return nil, fmt.Errorf("refused: %s is outside the scan scope", t.Addr)
	}
	s := &Session{sc: sc, t: t, timeout: sc.o.Timeout}
	s.local, s.iface, s.mac = route(t.Addr)
	if sc.o.Iface != "" {
		s.iface = sc.o.Iface
		if ifc, err := net.InterfaceByName(sc.o.Iface); err == nil && len(ifc.HardwareAddr) == 6 {
			s.mac = model.MACFrom(ifc.HardwareAddr)
		}
	}
	s.onLink = s.local.Is4() && itOnLink(t.Addr, s.iface) != ""
	return s, nil
}

// End aborts what the target's probes left open and hands the
// observations learnt so far to Options.Observe.
func (s *Session) End() {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
	s.sc.tr.flush()
}

// route finds the source address the kernel would use toward a (a UDP
// "connect" sends nothing) and the interface that holds it.
func route(a netip.Addr) (local netip.Addr, iface string, mac model.MAC) {
	uc, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 9)))
	if err != nil {
		return
	}
	local = uc.LocalAddr().(*net.UDPAddr).AddrPort().Addr().Unmap()
	_ = uc.Close()
	ifs, err := net.Interfaces()
	if err != nil {
		return
	}
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, ad := range addrs {
			if pn, ok := ad.(*net.IPNet); ok {
				if ip, ok := netip.AddrFromSlice(pn.IP); ok && ip.Unmap() == local {
					iface = ifc.Name
					if len(ifc.HardwareAddr) == 6 {
						mac = model.MACFrom(ifc.HardwareAddr)
					}
					return
				}
			}
		}
	}
	return
}

// Run runs every target's probes, one target's probes in sequence,
// InFlight targets at once. A probe's failure is recorded and the scan
// moves on; Stop or ctx ending returns context.Canceled promptly.
func (sc *Scanner) Run(ctx context.Context, p *Plan) error {
	if sc.o.Scope == nil {
		return errors.New("no scope: nothing may be sent")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sc.runMu.Lock()
	sc.cancel = cancel
	stopped := sc.budget.Stopped()
	sc.runMu.Unlock()
	if stopped {
		return context.Canceled
	}
	sc.total.Add(int64(len(p.Targets)))
	work := make(chan *TargetPlan)
	var wg sync.WaitGroup
	for range sc.budget.o.InFlight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tp := range work {
				if ctx.Err() != nil || sc.budget.Stopped() {
					continue // drain: Stop skips the targets not started
				}
				sc.runTarget(ctx, p, tp)
				sc.done.Add(1)
			}
		}()
	}
feed:
	for i := range p.Targets {
		if ctx.Err() != nil {
			break
		}
		select {
		case work <- &p.Targets[i]:
		case <-ctx.Done():
			break feed
		}
	}
	close(work)
	wg.Wait()
	if ctx.Err() != nil || sc.budget.Stopped() {
		return context.Canceled
	}
	return nil
}

// runTarget runs one target's probes in plan order.
func (sc *Scanner) runTarget(ctx context.Context, p *Plan, tp *TargetPlan) {
	s, err := sc.NewSession(&tp.Target)
	if err != nil {
		sc.errors.Add(1)
		sc.record(model.ScanRecord{Target: tp.Target.Addr, Answer: "not sent", Error: err.Error()})
		return
	}
	defer s.End()
	var skipped []string
	var absent string
	defer func() {
		if len(skipped) > 0 {
			sc.record(model.ScanRecord{Target: tp.Target.Addr, Answer: "skipped " + strings.Join(skipped, ", "), Error: absent})
		}
	}()
	for i := range tp.Probes {
		if ctx.Err() != nil || sc.budget.Stopped() {
			return
		}
		pl := &tp.Probes[i]
		if why := s.Absent(); why != "" && !pl.Segment {
			// nobody is there: asking on would only make the kernel ARP
			// again for every probe
			skipped = append(skipped, pl.Probe)
			absent = why
			continue
		}
		pr := p.probes[pl.Probe]
		if pr == nil {
			continue
		}
		if err := pr.Run(ctx, s, &tp.Target, pl, &sc.o.Plan); err != nil {
			if ctx.Err() != nil || errors.Is(err, ErrStopped) {
				return
			}
			// the session logged its own failures (an IfOpen port that is
			// closed, a timeout); budget refusals and probe bugs are logged
			// here; the scan goes on
			var xe *ExchangeError
			var re *RefusedError
			if !errors.As(err, &xe) && !errors.As(err, &re) {
				sc.errors.Add(1)
				sc.record(model.ScanRecord{Target: tp.Target.Addr, Transport: pl.Transport.String(), Port: pl.Port,
					Probe: pl.Probe, Answer: "probe failed", Error: err.Error()})
			}
		}
		// a probe that left its connection open: close it before the next
		s.mu.Lock()
		c := s.conn
		s.mu.Unlock()
		if c != nil {
			_ = c.Close()
		}
	}
}

// Pause holds every new packet until Resume.
func (sc *Scanner) Pause() { sc.budget.Pause() }

// Resume lets packets go again.
func (sc *Scanner) Resume() { sc.budget.Resume() }

// Stop is the panic key: every reservation fails, open connections are
// reset, Run returns context.Canceled.
func (sc *Scanner) Stop() {
	sc.budget.Stop()
	sc.runMu.Lock()
	if sc.cancel != nil {
		sc.cancel()
	}
	sc.runMu.Unlock()
}

// Gauges are a scan's live counters.
type Gauges struct {
	BudgetGauges
	TargetsDone, TargetsTotal int
	Requests, Answers         int
	// Closed counts connections the target refused (a closed port) and
	// NoAnswer requests nothing answered (nothing there, or filtered): what
	// the scan found out, as nmap's closed and filtered, not failures.
	// Errors are the rest: resets, garbage, unreachable, refusals by the
	// budget or the allow-list, probe failures.
	Closed, NoAnswer, Errors int
}

// tally counts an exchange that got no good answer by what it was (see
// Gauges); a stopped one is not counted.
func (sc *Scanner) tally(answer string) {
	switch answer {
	case "stopped":
	case "refused":
		sc.closed.Add(1)
	case "timeout":
		sc.silent.Add(1)
	default:
		sc.errors.Add(1)
	}
}

// Gauges returns the live counters.
func (sc *Scanner) Gauges() Gauges {
	return Gauges{
		BudgetGauges: sc.budget.Gauges(),
		TargetsDone:  int(sc.done.Load()), TargetsTotal: int(sc.total.Load()),
		Requests: int(sc.requests.Load()), Answers: int(sc.answers.Load()), Errors: int(sc.errors.Load()),
		Closed: int(sc.closed.Load()), NoAnswer: int(sc.silent.Load()),
	}
}
