package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"otscope/assets"
	"otscope/assets/oui"
	"otscope/assets/store"
	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/scan"
	"otscope/scan/capture"
)

// openLog opens the log file (creating its directory). Badger and otscope log
// there, never to the terminal.
func openLog(path string) (*log.Logger, io.Closer, error) {
	if path == "" {
		base := os.Getenv("XDG_STATE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return log.New(io.Discard, "", 0), io.NopCloser(nil), nil
			}
			base = filepath.Join(home, ".local", "state")
		}
		path = filepath.Join(base, "otscope", "otscope.log")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, nil, fmt.Errorf("log file: %w (pass --log FILE)", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return nil, nil, fmt.Errorf("log file: %w (pass --log FILE)", err)
	}
	return log.New(f, "", log.LstdFlags|log.Lmicroseconds), f, nil
}

// env is an opened database with its log.
type env struct {
	st     *store.Store
	logger *log.Logger
	closer io.Closer
}

// openEnv opens the database and the log file of the persistent flags.
func (a *app) openEnv() (*env, error) {
	return openEnvAt(a.db, a.logPath, false)
}

// openEnvAt opens the database dir ("" = the default) with its log.
func openEnvAt(dir, logPath string, readOnly bool) (*env, error) {
	logger, lc, err := openLog(logPath)
	if err != nil {
		return nil, err
	}
	if dir == "" {
		if dir, err = store.DefaultDir(); err != nil {
			lc.Close()
			return nil, err
		}
	}
	st, err := store.Open(store.Options{Dir: dir, Logger: logger, ReadOnly: readOnly})
	if err != nil {
		lc.Close()
		return nil, err
	}
	logger.Printf("opened database %s", dir)
	return &env{st: st, logger: logger, closer: lc}, nil
}

// withEnv opens the database and the log of the persistent flags, runs fn
// and closes them.
func (a *app) withEnv(fn func(e *env) error) error {
	e, err := a.openEnv()
	if err != nil {
		return err
	}
	defer e.close()
	return fn(e)
}

func (e *env) close() error {
	err := e.st.Close()
	e.closer.Close()
	return err
}

// withSession opens the database, loads a session that must exist and runs
// fn with them, then closes the database.
func (a *app) withSession(session string, fn func(e *env, snap store.Snapshot) error) error {
	return a.withEnv(func(e *env) error {
		snap, err := e.st.Load(session)
		if err != nil {
			return fmt.Errorf("session %q: %w", session, err) // said once: tidyErr
		}
		return fn(e, snap)
	})
}

// openSession creates (if needed) and loads a session.
func (e *env) openSession(name string) (*assets.Session, error) {
	if err := store.ValidSessionName(name); err != nil {
		return nil, fmt.Errorf("%w: --session %q: %v", ErrUsage, name, err)
	}
	if _, err := e.st.EnsureSession(name, time.Now()); err != nil {
		return nil, err
	}
	snap, err := e.st.Load(name)
	if err != nil {
		return nil, err
	}
	if snap.Skipped > 0 {
		e.logger.Printf("session %s: %d stored records could not be decoded and were skipped", name, snap.Skipped)
	}
	j, err := assets.ReadJournals(e.st, name)
	if err != nil {
		return nil, err
	}
	if j.Skipped > 0 {
		e.logger.Printf("session %s: %d journal records could not be decoded and were skipped", name, j.Skipped)
	}
	return assets.NewSession(name, e.st, snap, assets.SessionOptions{Vendor: oui.Lookup, States: j.States, Waivers: j.Waivers}), nil
}

// feed runs sources one after the other into a session, from a goroutine.
type feed struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs []error
	last model.CaptureStats
}

func (f *feed) start(ctx context.Context, sess *assets.Session, open func() (capture.Source, error), o scan.IngestOptions) {
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		src, err := open()
		if err != nil {
			f.fail(err)
			sess.Ingest() <- model.Batch{Stats: model.CaptureStats{Source: o.Name, Done: true, Err: err.Error(), Started: time.Now(), Updated: time.Now()}}
			return
		}
		defer src.Close()
		if o.Name == "" {
			o.Name = src.Name()
		}
		st, err := scan.Ingest(ctx, src, sess.Ingest(), o)
		f.mu.Lock()
		f.last = st
		f.mu.Unlock()
		if err != nil {
			f.fail(err)
		}
	}()
}

func (f *feed) fail(err error) {
	f.mu.Lock()
	f.errs = append(f.errs, err)
	f.mu.Unlock()
}

func (f *feed) wait() (model.CaptureStats, error) {
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last, errors.Join(f.errs...)
}

// feedGrace is how long a source may take to stop once the command is
// interrupted: a source blocked reading an idle pipe (or opening a FIFO no
// one writes) never returns, and Ctrl-C must not wait for it.
const feedGrace = 2 * time.Second

// waitCtx is wait, giving up feedGrace after ctx is done: stuck says the
// source did not stop (its goroutine is left blocked; the process exits).
func (f *feed) waitCtx(ctx context.Context) (st model.CaptureStats, err error, stuck bool) {
	done := make(chan struct{})
	go func() {
		f.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		t := time.NewTimer(feedGrace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			return model.CaptureStats{}, nil, true
		}
	}
	st, err = f.wait()
	return st, err, false
}

// errInterrupted is the error a run interrupted by the user is recorded
// with.
var errInterrupted = errors.New("interrupted")

// run is one source a headless command reads into its session; each is
// recorded in the session's runs (store.BeginRun, FinishRun), so a run
// that is killed shows as interrupted and a file read to its end is
// recognised when it is given again.
type run struct {
	name   string
	open   func() (capture.Source, error)
	file   *store.FileID // nil: live capture, the demo, a pipe
	forced bool
}

// addStats adds the counters of one run to the total of a command.
func addStats(total *model.CaptureStats, st model.CaptureStats) {
	total.Packets += st.Packets
	total.Bytes += st.Bytes
	total.Truncated += st.Truncated
	total.Undecodable += st.Undecodable
	total.DecodeErrors += st.DecodeErrors
	total.KernelDrops += st.KernelDrops
	total.QueueDrops += st.QueueDrops
	total.EvictedFlows += st.EvictedFlows
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// termWidth is the width of the terminal w writes to, 0 when w is not a
// terminal (or its size cannot be read).
func termWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	if cols, _, err := term.GetSize(int(f.Fd())); err == nil && cols > 0 {
		return cols
	}
	return 0
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// operator is who waivers and manual transitions are recorded as: $USER,
// else "operator".
func operator() string {
	if u := strings.TrimSpace(os.Getenv("USER")); u != "" {
		return u
	}
	return "operator"
}

// loadSession opens the database, loads one session with its journals and
// its walkdown book and closes it again.
func (a *app) loadSession(session string) (store.Snapshot, assets.Journals, *walkdown.Book, error) {
	e, err := a.openEnv()
	if err != nil {
		return store.Snapshot{}, assets.Journals{}, nil, err
	}
	defer e.close()
	snap, err := e.st.Load(session)
	if err != nil {
		return snap, assets.Journals{}, nil, err // the store names the session
	}
	j, err := assets.ReadJournals(e.st, session)
	if err != nil {
		return snap, j, nil, err
	}
	if j.Skipped > 0 {
		e.logger.Printf("session %s: %d journal records could not be decoded and were skipped", session, j.Skipped)
	}
	b, skipped, err := walkdown.Open(e.st, session)
	if skipped > 0 {
		e.logger.Printf("session %s: %d walkdown records could not be used and were skipped", session, skipped)
	}
	return snap, j, b, err
}

// loadSnapshot opens the database, loads one session and closes it again;
// its assets carry the walkdown (withWalkdown).
func (a *app) loadSnapshot(session string) (store.Snapshot, error) {
	snap, _, b, err := a.loadSession(session)
	if err != nil {
		return snap, err
	}
	snap.Assets = withWalkdown(b, snap.Assets)
	return snap, nil
}

// withWalkdown is what every export lists: the session's assets with the
// facts people entered on walkdowns, then the devices people added.
func withWalkdown(b *walkdown.Book, as []model.Asset) []model.Asset {
	out := make([]model.Asset, 0, len(as))
	for i := range as {
		out = append(out, b.Overlay(&as[i]))
	}
	return append(out, b.ManualAssets()...)
}

// headless ingests one source into a session without the TUI, with a
// progress line on a terminal and a summary at the end.
func (a *app) headless(session string, open func() (capture.Source, error), o scan.IngestOptions, progress bool) error {
	return a.headlessRuns(session, []run{{name: o.Name, open: open}}, o, progress)
}

// headlessRuns reads runs one after the other into a session.
func (a *app) headlessRuns(session string, runs []run, o scan.IngestOptions, progress bool) error {
	return a.withEnv(func(e *env) error {
		return headlessEnv(e, session, a.io.Stderr, a.io.Stdout, runs, o, progress)
	})
}

func headlessEnv(e *env, session string, stderr, stdout io.Writer, runs []run, o scan.IngestOptions, progress bool) error {
	// Ctrl-C is caught from the start: opening a source may block (a FIFO
	// no one writes to yet).
	ctx, stop := signalContext()
	defer stop()
	sess, err := e.openSession(session)
	if err != nil {
		return err
	}
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	runDone := make(chan error, 1)
	go func() { runDone <- sess.Run(runCtx) }()
	start := time.Now()
	var (
		lastMu sync.Mutex
		last   model.CaptureStats
		bar    *progressBar
		barWG  sync.WaitGroup
	)
	stopBar := make(chan struct{})
	if progress {
		bar = &progressBar{w: stderr, tty: isTerminal(stderr), width: func() int { return termWidth(stderr) }, start: start}
		for _, r := range runs {
			if r.file == nil || r.file.Size <= 0 {
				bar.total = 0 // a pipe or a live source: no bar, the counts
				break
			}
			bar.total += r.file.Size
		}
		barWG.Add(1)
		go func() { defer barWG.Done(); bar.run(stopBar) }()
	}
	var stopOnce sync.Once
	stopProgress := func() {
		stopOnce.Do(func() {
			close(stopBar)
			barWG.Wait()
		})
	}
	defer stopProgress()
	o.Progress = func(s model.CaptureStats) {
		lastMu.Lock()
		last = s
		lastMu.Unlock()
		if bar != nil {
			bar.update(s)
		}
	}
	var (
		total model.CaptureStats
		errs  []error
		stuck bool
	)
	for _, r := range runs {
		if ctx.Err() != nil {
			break
		}
		id, err := e.st.BeginRun(session, r.name, r.file, r.forced)
		if err != nil {
			errs = append(errs, err)
			break
		}
		lastMu.Lock()
		last = model.CaptureStats{Source: r.name}
		lastMu.Unlock()
		ro := o
		ro.Name = r.name
		open := r.open
		if bar != nil {
			var size int64
			if r.file != nil {
				size = r.file.Size
			}
			bar.begin(r.name, size)
			open = func() (capture.Source, error) {
				src, err := r.open()
				if err == nil {
					bar.opened(src)
				}
				return src, err
			}
		}
		var f feed
		f.start(ctx, sess, open, ro)
		st, feedErr, stk := f.waitCtx(ctx)
		if stk {
			lastMu.Lock()
			st = last
			lastMu.Unlock()
		}
		runErr := feedErr
		if runErr == nil && ctx.Err() != nil {
			runErr = errInterrupted
		}
		if err := e.st.FinishRun(session, id, st, runErr); err != nil {
			errs = append(errs, err)
		}
		addStats(&total, st)
		if feedErr != nil {
			errs = append(errs, feedErr)
		}
		if stk {
			stuck = true
			break
		}
	}
	if stuck {
		cancelRun() // a source still holds the ingest channel: stop without closing it
	} else {
		sess.Close()
	}
	saveErr := <-runDone
	stopProgress()
	el := time.Since(start)
	inv := sess.Inventory()
	// two lines, each within 80 columns for a session name of up to 20
	fmt.Fprintf(stdout, "session %s: %d assets, %d conversations\n", session, inv.Len(), inv.ConversationCount())
	fmt.Fprintf(stdout, "  %d packets in %s (%.0f pkt/s), %d flows evicted\n",
		total.Packets, el.Round(time.Millisecond), float64(total.Packets)/max(el.Seconds(), 1e-9), total.EvictedFlows)
	if total.Truncated+total.Undecodable+total.DecodeErrors+total.KernelDrops+total.QueueDrops > 0 {
		fmt.Fprintf(stdout, "  truncated frames %d, undecodable %d, decode errors %d, kernel drops %d, queue drops %d\n",
			total.Truncated, total.Undecodable, total.DecodeErrors, total.KernelDrops, total.QueueDrops)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stdout, "  interrupted: everything read so far is saved")
	}
	return errors.Join(append(errs, saveErr)...)
}
