package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"otscope/assets"
	"otscope/assets/store"
	"otscope/model"
	"otscope/scan/probe"
	"otscope/ui/pane/scanpane"
)

// scanLogWriter appends packet-log records to the session in small batches
// (every 200 ms), so a crash loses at most that much of the log.
type scanLogWriter struct {
	st      *store.Store
	session string
	mu      sync.Mutex
	pending []any
	err     error
	n       int
}

func (w *scanLogWriter) add(r model.ScanRecord) {
	w.mu.Lock()
	w.pending = append(w.pending, r)
	w.n++
	w.mu.Unlock()
}

func (w *scanLogWriter) flush() error {
	w.mu.Lock()
	p := w.pending
	w.pending = nil
	w.mu.Unlock()
	if len(p) > 0 {
		if err := w.st.Append(w.session, store.ScanLog, p...); err != nil && w.err == nil {
			w.err = err
		}
	}
	return w.err
}

// scanJob is one scan in flight: the scanner, its packet log going to the
// session's journal, and the newest log lines for the TUI.
type scanJob struct {
	id string
	sc *probe.Scanner
	lw *scanLogWriter
	// done is closed when the scan has ended and its log is written; err
	// is then final.
	done chan struct{}

	mu     sync.Mutex
	recent []string
	err    error
}

// recentLines is how many packet-log lines a scan keeps for the TUI.
const recentLines = 200

// startScan starts sending plan; answers go into sess, the packet log into
// the session's journal (flushed every 200 ms until the scan ends).
func startScan(e *env, sess *assets.Session, f *scanFlags, scope *probe.Scope, plan *probe.Plan, po probe.PlanOptions) *scanJob {
	j := &scanJob{id: time.Now().UTC().Format(time.RFC3339), lw: &scanLogWriter{st: e.st, session: sess.Name()}, done: make(chan struct{})}
	retries := f.retries
	if retries == 0 {
		retries = -1 // probe.Options: 0 is the default (1), negative is none
	}
	j.sc = probe.New(probe.Options{
		Rate: f.rate, PerHost: f.perHost, InFlight: f.inFlight, Timeout: f.timeout, Retries: retries,
		Iface: f.iface, Scope: scope, Plan: po, ScanID: j.id,
		Log: func(r model.ScanRecord) {
			j.lw.add(r)
			j.note(r)
		},
		Observe: func(b model.Batch) { sess.Ingest() <- b },
	})
	e.logger.Printf("scan %s: session %s, scope %s, %d targets, at most %d packets, %d pps / %d per host",
		j.id, sess.Name(), scope, len(plan.Targets), plan.Packets, f.rate, f.perHost)
	flushDone := make(chan struct{})
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if err := j.lw.flush(); err != nil {
					// a log that cannot be written stops the scan: no
					// packet goes out unrecorded for long
					j.sc.Stop()
				}
			case <-flushDone:
				return
			}
		}
	}()
	go func() {
		err := j.sc.Run(context.Background(), plan)
		close(flushDone)
		err = errors.Join(err, j.lw.flush())
		e.logger.Printf("scan %s: ended: %v (%d log records)", j.id, err, j.lw.n)
		j.mu.Lock()
		j.err = err
		j.mu.Unlock()
		close(j.done)
	}()
	return j
}

// note keeps a packet-log line for the TUI.
func (j *scanJob) note(r model.ScanRecord) {
	ans := r.Answer
	if r.Error != "" {
		ans = "✗ " + r.Error
	}
	l := fmt.Sprintf("%s %-15s %-24s %3dB %2dp  %s", r.Time.Local().Format("15:04:05"), r.Target, r.Kind, r.Bytes, r.Packets, ans)
	j.mu.Lock()
	j.recent = append(j.recent, l)
	if len(j.recent) > recentLines {
		j.recent = slices.Delete(j.recent, 0, len(j.recent)-recentLines)
	}
	j.mu.Unlock()
}

// runScan sends the plan headless and merges the answers into the session;
// SIGINT (Ctrl-C) is the panic key.
func runScan(e *env, f scanFlags, scope *probe.Scope, plan *probe.Plan, po probe.PlanOptions, stdout, stderr io.Writer) error {
	sess, err := e.openSession(f.session)
	if err != nil {
		return err
	}
	runDone := make(chan error, 1)
	go func() { runDone <- sess.Run(context.Background()) }()
	ctx, stop := signalContext()
	defer stop()
	j := startScan(e, sess, &f, scope, plan, po)
	tty := isTerminal(stderr)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var runErr error
loop:
	for {
		select {
		case <-j.done:
			runErr = j.err
			break loop
		case <-ctx.Done():
			j.sc.Stop() // returns once nothing more can be sent
			ctx = context.Background()
		case <-tick.C:
			if tty {
				g := j.sc.Gauges()
				fmt.Fprintf(stderr, "\r%d/%d targets  %d requests  %d answers  %d errors  %2d pps  %d open ",
					g.TargetsDone, g.TargetsTotal, g.Requests, g.Answers, g.Errors, g.PPS, g.Conns)
			}
		}
	}
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	sess.Close()
	saveErr := <-runDone
	g := j.sc.Gauges()
	fmt.Fprintf(stdout, "scan %s: %d/%d targets, %d requests, %d answers, %d errors, %d log records (otscope scanlog --session %s)\n",
		j.id, g.TargetsDone, g.TargetsTotal, g.Requests, g.Answers, g.Errors, j.lw.n, f.session)
	if g.Stopped || errors.Is(runErr, context.Canceled) || errors.Is(runErr, probe.ErrStopped) {
		fmt.Fprintln(stdout, "  stopped: nothing more was sent; the answers so far are saved")
		if errors.Is(runErr, context.Canceled) || errors.Is(runErr, probe.ErrStopped) {
			runErr = nil
		}
	}
	return errors.Join(runErr, saveErr)
}

// probeNames lists the probes for --probes' help.
func probeNames() string {
	var n []string
	for _, p := range probe.Probes() {
		n = append(n, p.Name())
	}
	return strings.Join(n, ", ")
}

// scanControl drives the scanner from the TUI's scan pane: the same plan,
// budget, packet log and session as `otscope scan`, with the defaults of
// its flags.
type scanControl struct {
	e        *env
	sess     *assets.Session
	f        scanFlags
	disabled string

	mu    sync.Mutex
	scope *probe.Scope
	plan  *probe.Plan
	po    probe.PlanOptions
	// planFlags are the flags (caps) the plan was built with; started
	// those of the scan started last.
	planFlags, started scanFlags
	job                *scanJob
	ended              bool
}

// newScanControl returns the TUI's scanner for sess; disabled, when not
// empty, says why scanning is off (the demo plant is not a real network).
func newScanControl(e *env, sess *assets.Session, disabled string) *scanControl {
	return &scanControl{e: e, sess: sess, disabled: disabled, f: scanFlags{
		rate: probe.DefaultRate, perHost: probe.DefaultPerHost, inFlight: probe.DefaultInFlight,
		retries: 1, timeout: probe.DefaultTimeout,
	}}
}

func (c *scanControl) Disabled() string { return c.disabled }

func (c *scanControl) Plan(r scanpane.Request) (scanpane.Plan, error) {
	if c.disabled != "" {
		return scanpane.Plan{}, errors.New(c.disabled)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.job != nil && !c.ended {
		return scanpane.Plan{}, errors.New("a scan is running: stop it or let it finish first")
	}
	targets := strings.FieldsFunc(r.Targets, func(r rune) bool { return r == ',' || r == ' ' })
	f := c.f
	f.fillGaps, f.probes = r.FillGaps, r.Probes
	if r.Rate > 0 && r.PerHost > 0 {
		f.rate, f.perHost = r.Rate, r.PerHost
	}
	// the plan reads the session as last saved (at most a second old)
	snap, err := c.e.st.Load(c.sess.Name())
	if err != nil {
		return scanpane.Plan{}, err
	}
	scope, plan, po, err := f.plan(targets, snap.Assets)
	if err != nil {
		return scanpane.Plan{}, uiError(err)
	}
	var b strings.Builder
	plan.Write(&b)
	c.scope, c.plan, c.po, c.planFlags = scope, plan, po, f
	return scanpane.Plan{Lines: strings.Split(strings.TrimRight(b.String(), "\n"), "\n"), Packets: plan.Packets, Targets: len(plan.Targets)}, nil
}

// uiError drops the command-line prefix of a flag error for the pane.
func uiError(err error) error {
	s := strings.TrimPrefix(err.Error(), ErrUsage.Error()+": ")
	return errors.New(strings.TrimPrefix(s, "scan: "))
}

func (c *scanControl) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plan == nil {
		return errors.New("no plan: build one first")
	}
	if c.job != nil && !c.ended {
		return errors.New("a scan is running")
	}
	c.started = c.planFlags
	j := startScan(c.e, c.sess, &c.started, c.scope, c.plan, c.po)
	c.job, c.ended, c.plan = j, false, nil
	go func() {
		<-j.done
		c.mu.Lock()
		c.ended = true
		c.mu.Unlock()
	}()
	return nil
}

func (c *scanControl) running() *scanJob {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.job
}

func (c *scanControl) Pause() {
	if j := c.running(); j != nil {
		j.sc.Pause()
	}
}

func (c *scanControl) Resume() {
	if j := c.running(); j != nil {
		j.sc.Resume()
	}
}

// Stop is the panic key: Scanner.Stop returns once nothing more can leave.
func (c *scanControl) Stop() {
	if j := c.running(); j != nil {
		j.sc.Stop()
	}
}

func (c *scanControl) Status() scanpane.Status {
	c.mu.Lock()
	j, ended, started, planned, hasPlan := c.job, c.ended, c.started, c.planFlags, c.plan != nil
	c.mu.Unlock()
	// the caps shown: those of the plan on screen, else of the last scan,
	// else the defaults
	st := scanpane.Status{Rate: c.f.rate, PerHost: c.f.perHost}
	switch {
	case hasPlan:
		st.Rate, st.PerHost = planned.rate, planned.perHost
	case j != nil:
		st.Rate, st.PerHost = started.rate, started.perHost
	}
	if j == nil {
		return st
	}
	g := j.sc.Gauges()
	st.Running, st.Paused, st.Stopped = !ended, g.Paused, g.Stopped
	st.PPS, st.MaxHostPPS, st.Conns = g.PPS, g.MaxHostPPS, g.Conns
	st.TargetsDone, st.TargetsTotal = g.TargetsDone, g.TargetsTotal
	st.Requests, st.Answers, st.Errors = g.Requests, g.Answers, g.Errors
	j.mu.Lock()
	st.Recent = slices.Clone(j.recent)
	if j.err != nil && !errors.Is(j.err, context.Canceled) && !errors.Is(j.err, probe.ErrStopped) {
		st.Err = j.err.Error()
	}
	j.mu.Unlock()
	return st
}

// wait stops a running scan (the TUI is quitting) and waits for its log.
func (c *scanControl) wait() {
	c.mu.Lock()
	j, ended := c.job, c.ended
	c.mu.Unlock()
	if j != nil && !ended {
		j.sc.Stop()
		<-j.done
	}
}
