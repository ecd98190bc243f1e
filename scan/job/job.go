package job

import (
	"context"
	"errors"
	"fmt"
	"log"
	"slices"
	"sync"
	"time"

	"otscope/model"
	"otscope/scan/probe"
)

// Sink is where a job's results go: the answers into the session, the
// packet log into the session's journal.
type Sink struct {
	// Session names the session in the log file.
	Session string
	// AppendLog stores packet-log records (every 200 ms while the scan
	// runs); an error stops the scan, so no packet goes out unrecorded
	// for long.
	AppendLog func([]model.ScanRecord) error
	// Observe receives what the answers taught, after each target.
	Observe func(model.Batch)
	// Logger receives the start and end of the scan (nil: discarded).
	Logger *log.Logger
}

// RecentLines is how many packet-log lines a job keeps for the TUI.
const RecentLines = 200

// flushEvery is how often the packet log is written while a scan runs: a
// crash loses at most that much of it.
const flushEvery = 200 * time.Millisecond

// Job is one scan in flight.
type Job struct {
	// ID names the scan in the packet log and in the facts it found.
	ID string
	sc *probe.Scanner
	// done is closed when the scan has ended and its log is written; err
	// is then final.
	done chan struct{}
	sink Sink

	mu      sync.Mutex
	pending []model.ScanRecord
	logged  int
	logErr  error
	recent  []string
	err     error
}

// Start sends plan; it returns at once.
func Start(plan *Plan, sink Sink) *Job {
	if sink.Logger == nil {
		sink.Logger = log.New(discard{}, "", 0)
	}
	s := plan.settings
	j := &Job{ID: time.Now().UTC().Format(time.RFC3339), done: make(chan struct{}), sink: sink}
	retries := s.Retries
	if retries == 0 {
		retries = -1 // probe.Options: 0 is the default (1), negative is none
	}
	j.sc = probe.New(probe.Options{
		Rate: s.Rate, PerHost: s.PerHost, InFlight: s.InFlight, Timeout: s.Timeout, Retries: retries,
		Iface: s.Iface, Scope: plan.scope, Plan: plan.po, ScanID: j.ID,
		Log:     j.note,
		Observe: sink.Observe,
	})
	sink.Logger.Printf("scan %s: session %s, scope %s, %d targets, at most %d packets, %d pps / %d per host",
		j.ID, sink.Session, plan.scope, plan.Targets, plan.Packets, s.Rate, s.PerHost)
	flushDone := make(chan struct{})
	go func() {
		t := time.NewTicker(flushEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if err := j.flush(); err != nil {
					j.sc.Stop()
				}
			case <-flushDone:
				return
			}
		}
	}()
	go func() {
		err := j.sc.Run(context.Background(), plan.plan)
		close(flushDone)
		err = errors.Join(err, j.flush())
		j.mu.Lock()
		j.err = err
		n := j.logged
		j.mu.Unlock()
		sink.Logger.Printf("scan %s: ended: %v (%d log records)", j.ID, err, n)
		close(j.done)
	}()
	return j
}

// note keeps a packet-log record for the journal and a line for the TUI.
func (j *Job) note(r model.ScanRecord) {
	ans := r.Answer
	if r.Error != "" {
		ans = "✗ " + r.Error
	}
	l := fmt.Sprintf("%s %-15s %-24s %3dB %2dp  %s", r.Time.Local().Format("15:04:05"), r.Target, r.Kind, r.Bytes, r.Packets, ans)
	j.mu.Lock()
	j.pending = append(j.pending, r)
	j.logged++
	j.recent = append(j.recent, l)
	if len(j.recent) > RecentLines {
		j.recent = slices.Delete(j.recent, 0, len(j.recent)-RecentLines)
	}
	j.mu.Unlock()
}

// flush writes the pending packet-log records; the first error sticks.
func (j *Job) flush() error {
	j.mu.Lock()
	p := j.pending
	j.pending = nil
	j.mu.Unlock()
	if len(p) > 0 && j.sink.AppendLog != nil {
		if err := j.sink.AppendLog(p); err != nil {
			j.mu.Lock()
			if j.logErr == nil {
				j.logErr = err
			}
			j.mu.Unlock()
		}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.logErr
}

// Pause holds every packet until Resume.
func (j *Job) Pause() { j.sc.Pause() }

// Resume continues a paused scan.
func (j *Job) Resume() { j.sc.Resume() }

// Stop is the panic key: it returns once nothing more can leave (open
// connections are reset).
func (j *Job) Stop() { j.sc.Stop() }

// Gauges are the live counters.
func (j *Job) Gauges() probe.Gauges { return j.sc.Gauges() }

// Done is closed when the scan has ended and its log is written.
func (j *Job) Done() <-chan struct{} { return j.done }

// Err is why the scan ended, once Done is closed; a stopped scan's
// error is nil.
func (j *Job) Err() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if Stopped(j.err) {
		return nil
	}
	return j.err
}

// Logged counts the packet-log records.
func (j *Job) Logged() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.logged
}

// Recent returns the newest packet-log lines, oldest first.
func (j *Job) Recent() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.recent)
}

// Stopped tells a scan ended by the panic key (or Ctrl-C) from a failure.
func Stopped(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, probe.ErrStopped)
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
