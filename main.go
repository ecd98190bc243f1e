// Command otscope builds an inventory of an industrial plant network from its
// own traffic and shows it in a terminal UI. Run `otscope help` for commands.
//
// main.go is wiring only: flags, the log file, the store, the goroutines
// that connect packet sources (scan) to a session (assets) and the TUI (ui).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"golang.org/x/term"

	"otscope/assets"
	"otscope/assets/advisory"
	"otscope/assets/export"
	"otscope/assets/lifecycle"
	"otscope/assets/oui"
	"otscope/assets/policy"
	"otscope/assets/store"
	"otscope/model"
	"otscope/scan"
	"otscope/scan/capture"
	"otscope/scan/plant"
	"otscope/ui"
)

// version is set with -ldflags "-X main.version=v1.2.3"; otherwise it comes
// from the build info.
var version = ""

const usage = `otscope — passive OT asset inventory for plant networks

Usage:
  otscope                          open the TUI on the most recent session
  otscope ui [--session S] [-i IFACE | FILE...]
                                   TUI; optionally capture live or read files into S
  otscope demo [--session S] [--speed X] [--headless]
                                   replay the built-in demo plant into a new session, in the TUI
  otscope demo --write FILE [--duration D | --packets N] [--scale N]
                                   write the demo plant as a pcap file
  otscope read FILE... --session S [--filter F] [--speed X]
                                   ingest pcap/pcapng files (gzip ok), print a summary
  otscope capture -i IFACE --session S [--duration D] [--filter F]
                                   live capture without the TUI (needs CAP_NET_RAW)
  otscope assets --session S [--format json|csv|table] [--catalog F...] [--csaf P...] [--kev F]
                                   export a session's assets (JSON: with lifecycle and advisories)
  otscope lifecycle --session S [--catalog F...] [--format table|json|csv]
                                   product lifecycle phase of every asset (embedded catalog + yours)
  otscope advisories --session S --csaf PATH... [--kev FILE] [--format table|json|csv]
                                   CISA ICS advisories (CSAF 2.0, offline) that name the session's assets
  otscope audit --session S [--policy F...] [--catalog F...] [--csaf P... [--kev F]]
                [--format table|json|csv] [--fail-on SEVERITY]
                                   check the session against the default policy pack (and yours);
                                   exits 3 when violations at or above --fail-on exist
  otscope sessions                 list sessions with counts
  otscope version

Every command takes --db DIR (default: $XDG_DATA_HOME/otscope/db) and
--log FILE (default: $XDG_STATE_HOME/otscope/otscope.log).
`

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	err := dispatch(args, stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errViolations):
		fmt.Fprintf(stderr, "otscope: %v\n", err)
		return 3
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "otscope: %v\n", strings.TrimPrefix(err.Error(), "usage: "))
		fmt.Fprintln(stderr, "run 'otscope help' for usage")
		return 2
	default:
		fmt.Fprintf(stderr, "otscope: %v\n", err)
		return 1
	}
}

func dispatch(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return cmdUI(nil, stderr)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "ui":
		return cmdUI(rest, stderr)
	case "demo":
		return cmdDemo(rest, stdout, stderr)
	case "read":
		return cmdRead(rest, stdout, stderr)
	case "capture":
		return cmdCapture(rest, stdout, stderr)
	case "assets":
		return cmdAssets(rest, stdout, stderr)
	case "sessions":
		return cmdSessions(rest, stdout, stderr)
	case "lifecycle":
		return cmdLifecycle(rest, stdout, stderr)
	case "advisories":
		return cmdAdvisories(rest, stdout, stderr)
	case "audit":
		return cmdAudit(rest, stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "otscope", appVersion())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	if strings.HasPrefix(cmd, "-") {
		// flags without a command: the TUI
		return cmdUI(args, stderr)
	}
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

func appVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// common holds the flags every command takes.
type common struct {
	db      string
	logPath string
	session string
}

func (c *common) register(fs *flag.FlagSet, sessionHelp string) {
	fs.StringVar(&c.db, "db", "", "database directory (default $XDG_DATA_HOME/otscope/db)")
	fs.StringVar(&c.logPath, "log", "", "log file (default $XDG_STATE_HOME/otscope/otscope.log)")
	if sessionHelp != "" {
		fs.StringVar(&c.session, "session", "", sessionHelp)
	}
}

// parse parses flags that may come before, between or after positional
// arguments (`read a.pcap --session S`).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %s: %v", errUsage, fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

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

func openEnv(c common) (*env, error) {
	logger, lc, err := openLog(c.logPath)
	if err != nil {
		return nil, err
	}
	dir := c.db
	if dir == "" {
		if dir, err = store.DefaultDir(); err != nil {
			lc.Close()
			return nil, err
		}
	}
	st, err := store.Open(store.Options{Dir: dir, Logger: logger})
	if err != nil {
		lc.Close()
		return nil, err
	}
	logger.Printf("opened database %s", dir)
	return &env{st: st, logger: logger, closer: lc}, nil
}

func (e *env) close() error {
	err := e.st.Close()
	e.closer.Close()
	return err
}

// openSession creates (if needed) and loads a session.
func (e *env) openSession(name string) (*assets.Session, error) {
	if err := store.ValidSessionName(name); err != nil {
		return nil, fmt.Errorf("%w: --session %q: %v", errUsage, name, err)
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
	return assets.NewSession(name, e.st, snap, assets.SessionOptions{Vendor: oui.Lookup}), nil
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

// memBudget keeps a soft memory limit that grows with the inventory, not
// with the packet count: a base for the runtime, the store and the OUI table,
// plus a per-asset/conversation and per-flow allowance. The garbage collector
// then keeps resident memory flat however long a capture runs. A GOMEMLIMIT
// set by the user wins.
func memBudget(ctx context.Context, sess *assets.Session, flows func() uint64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	const base, perItem, perFlow = 38 << 20, 4 << 10, 256
	set := func() {
		debug.SetMemoryLimit(int64(base) + perItem*sess.Size() + perFlow*int64(flows()))
	}
	set()
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				set()
			case <-ctx.Done():
				return
			}
		}
	}()
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// ---- commands ----------------------------------------------------------

func cmdUI(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	var c common
	c.register(fs, "session to open (default: the most recent, or \"default\")")
	iface := fs.String("i", "", "capture live from this interface into the session")
	filter := fs.String("filter", "", "capture filter (tcpdump syntax subset)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *iface != "" && len(files) > 0 {
		return fmt.Errorf("%w: give either -i IFACE or capture files, not both", errUsage)
	}
	e, err := openEnv(c)
	if err != nil {
		return err
	}
	defer e.close()
	if c.session == "" {
		c.session = "default"
		if infos, err := e.st.Sessions(); err == nil && len(infos) > 0 {
			slices.SortFunc(infos, func(a, b model.SessionInfo) int { return b.Updated.Compare(a.Updated) })
			c.session = infos[0].Name
		}
	}
	var open func() (capture.Source, error)
	var sources []string
	opts := capture.Options{Filter: *filter, Promisc: true, ReportIdle: *iface != ""}
	switch {
	case *iface != "":
		open = func() (capture.Source, error) { return capture.OpenLive(*iface, opts) }
		sources = []string{"iface:" + *iface}
		// fail before the TUI starts when the interface cannot be opened
		src, err := open()
		if err != nil {
			return err
		}
		open = func() (capture.Source, error) { return src, nil }
	case len(files) > 0:
		open = func() (capture.Source, error) { return capture.OpenFiles(files, opts) }
		sources = files
	}
	return runTUI(e, c.session, open, sources, scan.IngestOptions{Name: strings.Join(sources, " ")})
}

// runTUI runs the TUI over a session, with an optional source feeding it.
func runTUI(e *env, session string, open func() (capture.Source, error), sources []string, io scan.IngestOptions) error {
	sess, err := e.openSession(session)
	if err != nil {
		return err
	}
	updates := sess.Watch()
	runDone := make(chan error, 1)
	go func() { runDone <- sess.Run(context.Background()) }()
	ctx, cancel := context.WithCancel(context.Background())
	var flows atomic.Uint64
	memBudget(ctx, sess, flows.Load)
	io.Progress = func(s model.CaptureStats) { flows.Store(s.ActiveFlows) }
	var f feed
	if open != nil {
		f.start(ctx, sess, open, io)
	}
	p := tea.NewProgram(ui.New(ui.Config{Session: session, Updates: updates, Sources: sources, Version: appVersion()}),
		tea.WithAltScreen())
	_, uiErr := p.Run()
	cancel()
	_, feedErr := f.wait()
	sess.Close()
	saveErr := <-runDone
	if feedErr != nil {
		e.logger.Printf("session %s: %v", session, feedErr)
	}
	return errors.Join(uiErr, saveErr)
}

func cmdDemo(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	var c common
	c.register(fs, "session to replay into (default: demo-<date>-<time>, a fresh one)")
	write := fs.String("write", "", "write the demo plant to this pcap file instead of replaying it")
	duration := fs.Duration("duration", 0, "plant time to generate (default 10m for --write, 8h for the replay)")
	packets := fs.Int("packets", 0, "stop after this many frames")
	scale := fs.Int("scale", 1, "multiply the steady industrial polling rate (for benchmark captures)")
	seed := fs.Int64("seed", 1, "random seed (the same seed gives the same bytes)")
	speed := fs.Float64("speed", 1, "replay speed: 1 = real time, 10 = ten times faster")
	noUI := fs.Bool("headless", false, "replay without the TUI, as fast as possible, and print a summary")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *speed <= 0 || *scale < 1 || *packets < 0 || *duration < 0 {
		return fmt.Errorf("%w: --speed must be > 0, --scale >= 1, --packets and --duration >= 0", errUsage)
	}
	po := plant.Options{Seed: *seed, Duration: *duration, MaxPackets: *packets, Scale: *scale}
	if *write != "" {
		if po.Duration == 0 && po.MaxPackets == 0 {
			po.Duration = 10 * time.Minute
		}
		return writeDemo(*write, po, stdout)
	}
	// The replay happens now: plant time starts at the wall clock, so "last
	// seen 3s ago" means what it says.
	po.Start = time.Now()
	if po.Duration == 0 && po.MaxPackets == 0 {
		po.Duration = 8 * time.Hour
		if *noUI {
			po.Duration = 10 * time.Minute
		}
	}
	e, err := openEnv(c)
	if err != nil {
		return err
	}
	defer e.close()
	if c.session == "" {
		c.session = "demo-" + time.Now().Format("20060102-150405")
	}
	open := func() (capture.Source, error) { return demoSource(po) }
	if *noUI {
		return headlessEnv(e, c.session, stderr, stdout, open, scan.IngestOptions{Name: "demo plant"}, true)
	}
	return runTUI(e, c.session, open, []string{"demo plant"}, scan.IngestOptions{Name: "demo plant", Pace: *speed})
}

// demoSource streams the generated plant as pcap bytes through a pipe into
// the same reader a capture file goes through.
func demoSource(po plant.Options) (capture.Source, error) {
	pr, pw := io.Pipe()
	go func() {
		_, err := plant.WritePcap(pw, po)
		pw.CloseWithError(err)
	}()
	src, err := capture.OpenReader("demo", pr, capture.Options{})
	if err != nil {
		pr.CloseWithError(err)
		return nil, err
	}
	return src, nil
}

func writeDemo(path string, po plant.Options, stdout io.Writer) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	n, err := plant.WritePcap(f, po)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "wrote %d frames of the demo plant to %s\n", n, path)
	return nil
}

func cmdRead(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("read", flag.ContinueOnError)
	var c common
	c.register(fs, "session to add to (required)")
	filter := fs.String("filter", "", "capture filter (tcpdump syntax subset)")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	quiet := fs.Bool("q", false, "no progress bar")
	speed := fs.Float64("speed", 0, "replay at capture-time speed times this (0: as fast as possible)")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("%w: read: no capture files given", errUsage)
	}
	if c.session == "" {
		return fmt.Errorf("%w: read: --session is required", errUsage)
	}
	if err := store.ValidSessionName(c.session); err != nil {
		return fmt.Errorf("%w: --session %q: %v", errUsage, c.session, err)
	}
	src, err := capture.OpenFiles(files, capture.Options{Filter: *filter})
	if err != nil {
		return err
	}
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer pf.Close()
		if err := pprof.StartCPUProfile(pf); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	name := files[0]
	if len(files) > 1 {
		name = fmt.Sprintf("%s +%d more", files[0], len(files)-1)
	}
	if *speed < 0 {
		return fmt.Errorf("%w: read: --speed must be >= 0", errUsage)
	}
	return headless(c, stderr, stdout, func() (capture.Source, error) { return src, nil }, scan.IngestOptions{Name: name, Pace: *speed}, !*quiet)
}

func cmdCapture(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("capture", flag.ContinueOnError)
	var c common
	c.register(fs, "session to add to (required)")
	iface := fs.String("i", "", "interface to capture from (required)")
	filter := fs.String("filter", "", "capture filter (tcpdump syntax subset)")
	duration := fs.Duration("duration", 0, "stop after this long (default: until Ctrl-C)")
	quiet := fs.Bool("q", false, "no progress line")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if *iface == "" || c.session == "" {
		return fmt.Errorf("%w: capture: -i IFACE and --session S are required", errUsage)
	}
	if err := store.ValidSessionName(c.session); err != nil {
		return fmt.Errorf("%w: --session %q: %v", errUsage, c.session, err)
	}
	src, err := capture.OpenLive(*iface, capture.Options{Filter: *filter, Promisc: true, ReportIdle: true})
	if err != nil {
		return err
	}
	if *duration > 0 {
		time.AfterFunc(*duration, func() { src.Close() })
	}
	return headless(c, stderr, stdout, func() (capture.Source, error) { return src, nil }, scan.IngestOptions{Name: src.Name()}, !*quiet)
}

// headless ingests one source into a session without the TUI, with a
// progress line on a terminal and a summary at the end.
func headless(c common, stderr, stdout io.Writer, open func() (capture.Source, error), o scan.IngestOptions, progress bool) error {
	e, err := openEnv(c)
	if err != nil {
		return err
	}
	defer e.close()
	return headlessEnv(e, c.session, stderr, stdout, open, o, progress)
}

// replayHeadless replays the demo plant into a session without the TUI, as
// fast as it can be decoded.
func replayHeadless(e *env, session string, po plant.Options) error {
	return headlessEnv(e, session, io.Discard, io.Discard, func() (capture.Source, error) { return demoSource(po) },
		scan.IngestOptions{Name: "demo plant"}, false)
}

func headlessEnv(e *env, session string, stderr, stdout io.Writer, open func() (capture.Source, error), o scan.IngestOptions, progress bool) error {
	c := common{session: session}
	sess, err := e.openSession(c.session)
	if err != nil {
		return err
	}
	runDone := make(chan error, 1)
	go func() { runDone <- sess.Run(context.Background()) }()
	ctx, stop := signalContext()
	defer stop()
	start := time.Now()
	tty := progress && isTerminal(stderr)
	var flows atomic.Uint64
	memBudget(ctx, sess, flows.Load)
	o.Progress = func(s model.CaptureStats) {
		flows.Store(s.ActiveFlows)
		if tty {
			el := time.Since(start).Seconds()
			fmt.Fprintf(stderr, "\r%-40.40s %10d pkts %9.0f pkt/s %6d truncated", s.Source, s.Packets, float64(s.Packets)/max(el, 1e-9), s.Truncated)
		}
	}
	var f feed
	f.start(ctx, sess, open, o)
	st, feedErr := f.wait()
	sess.Close()
	saveErr := <-runDone
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	el := time.Since(start)
	inv := sess.Inventory()
	fmt.Fprintf(stdout, "session %s: %d packets in %s (%.0f pkt/s), %d assets, %d conversations, %d flows evicted\n",
		c.session, st.Packets, el.Round(time.Millisecond), float64(st.Packets)/max(el.Seconds(), 1e-9),
		inv.Len(), inv.ConversationCount(), st.EvictedFlows)
	if st.Truncated+st.Undecodable+st.DecodeErrors+st.KernelDrops+st.QueueDrops > 0 {
		fmt.Fprintf(stdout, "  truncated frames %d, undecodable %d, decode errors %d, kernel drops %d, queue drops %d\n",
			st.Truncated, st.Undecodable, st.DecodeErrors, st.KernelDrops, st.QueueDrops)
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stdout, "  interrupted: everything read so far is saved")
	}
	return errors.Join(feedErr, saveErr)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// reportFlags parses the flags of a command that reports on one stored
// session in a format, with the offline catalogs.
func reportFlags(name string, args []string) (common, string, catalogFlags, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var c common
	c.register(fs, "session (required)")
	format := fs.String("format", "table", "json, csv or table")
	var cat catalogFlags
	cat.register(fs)
	if _, err := parse(fs, args); err != nil {
		return c, "", cat, err
	}
	if c.session == "" {
		return c, "", cat, fmt.Errorf("%w: %s: --session is required", errUsage, name)
	}
	if !slices.Contains(export.Formats, *format) {
		return c, "", cat, fmt.Errorf("%w: %s: --format %q: %v", errUsage, name, *format, export.ErrFormat)
	}
	return c, *format, cat, nil
}

func cmdAssets(args []string, stdout, stderr io.Writer) error {
	c, format, cat, err := reportFlags("assets", args)
	if err != nil {
		return err
	}
	snap, err := loadSnapshot(c)
	if err != nil {
		return err
	}
	if format != "json" {
		return export.Assets(stdout, format, snap.Assets)
	}
	en, err := cat.enricher(stderr, true)
	if err != nil {
		return err
	}
	return export.RecordsJSON(stdout, en.Enrich(snap.Assets))
}

// loadSnapshot opens the database, loads one session and closes it again.
func loadSnapshot(c common) (store.Snapshot, error) {
	e, err := openEnv(c)
	if err != nil {
		return store.Snapshot{}, err
	}
	defer e.close()
	snap, err := e.st.Load(c.session)
	if err != nil {
		return store.Snapshot{}, fmt.Errorf("session %q: %w", c.session, err)
	}
	return snap, nil
}

// catalogFlags are the offline catalogs a command can enrich assets with.
type catalogFlags struct {
	catalogs, csaf multiFlag
	kev            string
}

func (cf *catalogFlags) register(fs *flag.FlagSet) {
	fs.Var(&cf.catalogs, "catalog", "user lifecycle catalog (YAML or CSV; repeatable), on top of the embedded one")
	fs.Var(&cf.csaf, "csaf", "CISA CSAF 2.0 advisory file or directory (repeatable)")
	fs.StringVar(&cf.kev, "kev", "", "CISA KEV catalog JSON (known_exploited_vulnerabilities.json)")
}

// enricher loads the catalogs; problems in them are reported on stderr and
// skipped (the rest is used), a file that cannot be read at all is an error.
func (cf *catalogFlags) enricher(stderr io.Writer, withLifecycle bool) (export.Enricher, error) {
	var en export.Enricher
	if withLifecycle {
		cat, problems := lifecycle.Load(cf.catalogs...)
		for _, p := range problems {
			fmt.Fprintf(stderr, "otscope: catalog: %v (skipped)\n", p)
		}
		if cat == nil {
			return en, fmt.Errorf("lifecycle catalog could not be loaded")
		}
		en.Catalog = cat
	}
	if len(cf.csaf) > 0 {
		db, errs := advisory.Load(cf.csaf...)
		for _, err := range errs {
			fmt.Fprintf(stderr, "otscope: advisories: %v (skipped)\n", err)
		}
		if cf.kev != "" {
			for _, err := range db.LoadKEV(cf.kev) {
				fmt.Fprintf(stderr, "otscope: kev: %v (skipped)\n", err)
			}
		}
		if db.Len() == 0 {
			return en, fmt.Errorf("no advisories could be loaded from %s", strings.Join(cf.csaf, ", "))
		}
		en.Advisories = db
	} else if cf.kev != "" {
		return en, fmt.Errorf("%w: --kev needs --csaf (KEV flags CVEs of the advisories)", errUsage)
	}
	return en, nil
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func cmdLifecycle(args []string, stdout, stderr io.Writer) error {
	c, format, cat, err := reportFlags("lifecycle", args)
	if err != nil {
		return err
	}
	snap, err := loadSnapshot(c)
	if err != nil {
		return err
	}
	en, err := cat.enricher(stderr, true)
	if err != nil {
		return err
	}
	en.Advisories = nil
	return export.Lifecycle(stdout, format, en.Enrich(snap.Assets), time.Now())
}

func cmdAdvisories(args []string, stdout, stderr io.Writer) error {
	c, format, cat, err := reportFlags("advisories", args)
	if err != nil {
		return err
	}
	if len(cat.csaf) == 0 {
		return fmt.Errorf("%w: advisories: --csaf PATH is required (CSAF 2.0 files or a directory of them)", errUsage)
	}
	snap, err := loadSnapshot(c)
	if err != nil {
		return err
	}
	en, err := cat.enricher(stderr, false)
	if err != nil {
		return err
	}
	return export.Advisories(stdout, format, en.Enrich(snap.Assets))
}

// errViolations marks an audit that found violations at or above --fail-on
// (exit status 3, so scripts can tell it from an error).
var errViolations = errors.New("violations at or above the --fail-on severity")

func cmdAudit(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	var c common
	c.register(fs, "session (required)")
	format := fs.String("format", "table", "json, csv or table")
	failOn := fs.String("fail-on", "", "exit 3 when violations of this severity or higher exist (info, low, medium, high, critical)")
	var policies multiFlag
	fs.Var(&policies, "policy", "policy file or directory (YAML; repeatable), on top of the default pack")
	var cat catalogFlags
	cat.register(fs)
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if c.session == "" {
		return fmt.Errorf("%w: audit: --session is required", errUsage)
	}
	if !slices.Contains(export.Formats, *format) {
		return fmt.Errorf("%w: audit: --format %q: %v", errUsage, *format, export.ErrFormat)
	}
	var threshold policy.Severity
	if *failOn != "" {
		sev, err := policy.ParseSeverity(*failOn)
		if err != nil {
			return fmt.Errorf("%w: audit: --fail-on: %v", errUsage, err)
		}
		threshold = sev
	}
	pack, problems := policy.DefaultPack(), []policy.Problem(nil)
	if len(policies) > 0 {
		user, ps := policy.Load(policies...)
		problems = ps
		pack = policy.Merge(pack, user)
	}
	for _, p := range problems {
		fmt.Fprintf(stderr, "otscope: policy: %v (skipped; the other rules run)\n", p)
	}
	snap, err := loadSnapshot(c)
	if err != nil {
		return err
	}
	en, err := cat.enricher(stderr, true)
	if err != nil {
		return err
	}
	rep := policy.Audit(auditInput(snap, en), pack, nil)
	if err := export.Audit(stdout, *format, rep); err != nil {
		return err
	}
	for _, p := range rep.Errors {
		fmt.Fprintf(stderr, "otscope: policy: %v\n", p)
	}
	if *failOn != "" && len(policy.SeverityAtLeast(unwaived(rep.Violations), threshold)) > 0 {
		return errViolations
	}
	return nil
}

// auditInput connects a stored session and the offline catalogs to the
// policy engine.
func auditInput(snap store.Snapshot, en export.Enricher) policy.Input {
	in := policy.Input{Assets: snap.Assets, Conversations: snap.Conversations, Now: time.Now()}
	if en.Catalog != nil {
		in.Lifecycle = func(a *model.Asset) (string, string, bool) {
			res, ok := en.Catalog.Match(a)
			if !ok {
				return "", "", false
			}
			return res.PhaseAt(in.Now).String(), res.EndOfSupport.String(), true
		}
	}
	if en.Advisories != nil {
		in.Advisories = func(a *model.Asset) []policy.AdvisoryRef {
			var out []policy.AdvisoryRef
			for _, m := range en.Advisories.Match(a) {
				out = append(out, policy.AdvisoryRef{ID: m.AdvisoryID, Title: m.Title, CVSS: m.MaxCVSS, KEV: m.KEV})
			}
			return out
		}
	}
	return in
}

func unwaived(vs []policy.Violation) []policy.Violation {
	return slices.DeleteFunc(slices.Clone(vs), func(v policy.Violation) bool { return v.Waived != nil })
}

func cmdSessions(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sessions", flag.ContinueOnError)
	var c common
	c.register(fs, "")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	e, err := openEnv(c)
	if err != nil {
		return err
	}
	defer e.close()
	infos, err := e.st.Sessions()
	if err != nil {
		return err
	}
	if len(infos) == 0 {
		fmt.Fprintln(stdout, "no sessions yet: try 'otscope demo' or 'otscope read FILE --session NAME'")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION\tASSETS\tCONVERSATIONS\tPACKETS\tUPDATED\tSOURCES")
	for _, s := range infos {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.Assets, s.Conversations, s.Packets,
			s.Updated.Local().Format("2006-01-02 15:04:05"), strings.Join(s.Sources, ", "))
	}
	return tw.Flush()
}
