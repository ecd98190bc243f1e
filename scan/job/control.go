package job

import (
	"errors"
	"strings"
	"sync"

	"otscope/model"
)

// Request is what the Scan pane's form asks for.
type Request struct {
	// Targets are addresses, ranges, CIDRs or "assets" (the session's),
	// separated by spaces or commas.
	Targets string
	// FillGaps asks only what the session does not already know.
	FillGaps bool
	// Probes is "all" or a comma-separated list.
	Probes string
	// Rate and PerHost are the caps in packets per second, globally and
	// per device (0: the defaults).
	Rate, PerHost int
}

// Status is a scan's live state, as the Scan pane shows it.
type Status struct {
	Running, Paused, Stopped bool
	// PPS is packets sent in the last second; MaxHostPPS to the busiest
	// target; Rate and PerHost are the caps.
	PPS, MaxHostPPS, Rate, PerHost int
	Conns                          int
	TargetsDone, TargetsTotal      int
	Requests, Answers, Errors      int
	// Closed are connections refused (closed ports), NoAnswer requests
	// nothing answered: findings, not errors (probe.Gauges).
	Closed, NoAnswer int
	// Recent are the newest packet-log lines, oldest first.
	Recent []string
	// Err is why the scan failed, if it did.
	Err string
}

// Controller runs one scan at a time for the TUI: plan, start, pause,
// resume, stop, status. Its methods return at once, and Stop once nothing
// more can leave.
type Controller struct {
	disabled string
	defaults Settings
	assets   func() ([]model.Asset, error)
	sink     Sink

	mu   sync.Mutex
	plan *Plan
	// started are the settings of the scan started last.
	started Settings
	job     *Job
	ended   bool
}

// NewController returns the scanner of a session: assets reads the
// session's assets for planning, sink receives the results; disabled,
// when not empty, says why scanning is off.
func NewController(assets func() ([]model.Asset, error), sink Sink, disabled string) *Controller {
	return &Controller{disabled: disabled, defaults: Defaults(), assets: assets, sink: sink}
}

// Disabled says why scanning is off ("" when it is on).
func (c *Controller) Disabled() string { return c.disabled }

// Plan builds the plan for r with the defaults for the rest; nothing is
// sent until Start.
func (c *Controller) Plan(r Request) (*Plan, error) {
	if c.disabled != "" {
		return nil, errors.New(c.disabled)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.job != nil && !c.ended {
		return nil, errors.New("a scan is running: stop it or let it finish first")
	}
	s := c.defaults
	s.Targets = strings.FieldsFunc(r.Targets, func(r rune) bool { return r == ',' || r == ' ' })
	s.FillGaps = r.FillGaps
	s.Probes = strings.FieldsFunc(r.Probes, func(r rune) bool { return r == ',' || r == ' ' })
	if r.Rate > 0 && r.PerHost > 0 {
		s.Rate, s.PerHost = r.Rate, r.PerHost
	}
	as, err := c.assets()
	if err != nil {
		return nil, err
	}
	p, err := Build(s, as)
	if err != nil {
		return nil, err
	}
	c.plan = p
	return p, nil
}

// Start sends the last plan built.
func (c *Controller) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.plan == nil {
		return errors.New("no plan: build one first")
	}
	if c.job != nil && !c.ended {
		return errors.New("a scan is running")
	}
	j := Start(c.plan, c.sink)
	c.job, c.ended, c.started, c.plan = j, false, c.plan.settings, nil
	go func() {
		<-j.Done()
		c.mu.Lock()
		c.ended = true
		c.mu.Unlock()
	}()
	return nil
}

func (c *Controller) running() *Job {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.job
}

// Pause holds the running scan.
func (c *Controller) Pause() {
	if j := c.running(); j != nil {
		j.Pause()
	}
}

// Resume continues it.
func (c *Controller) Resume() {
	if j := c.running(); j != nil {
		j.Resume()
	}
}

// Stop is the panic key.
func (c *Controller) Stop() {
	if j := c.running(); j != nil {
		j.Stop()
	}
}

// Status is the scan's live state; the caps shown are those of the plan
// on screen, else of the last scan, else the defaults.
func (c *Controller) Status() Status {
	c.mu.Lock()
	j, ended, started, plan := c.job, c.ended, c.started, c.plan
	c.mu.Unlock()
	st := Status{Rate: c.defaults.Rate, PerHost: c.defaults.PerHost}
	switch {
	case plan != nil:
		st.Rate, st.PerHost = plan.settings.Rate, plan.settings.PerHost
	case j != nil:
		st.Rate, st.PerHost = started.Rate, started.PerHost
	}
	if j == nil {
		return st
	}
	g := j.Gauges()
	st.Running, st.Paused, st.Stopped = !ended, g.Paused, g.Stopped
	st.PPS, st.MaxHostPPS, st.Conns = g.PPS, g.MaxHostPPS, g.Conns
	st.TargetsDone, st.TargetsTotal = g.TargetsDone, g.TargetsTotal
	st.Requests, st.Answers, st.Errors = g.Requests, g.Answers, g.Errors
	st.Closed, st.NoAnswer = g.Closed, g.NoAnswer
	st.Recent = j.Recent()
	if ended {
		if err := j.Err(); err != nil {
			st.Err = err.Error()
		}
	}
	return st
}

// Wait stops a running scan (the TUI is quitting) and waits for its log.
func (c *Controller) Wait() {
	c.mu.Lock()
	j, ended := c.job, c.ended
	c.mu.Unlock()
	if j != nil && !ended {
		j.Stop()
		<-j.Done()
	}
}
