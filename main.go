// Command otscope builds an inventory of an industrial plant network from its
// own traffic and shows it in a terminal UI. Run `otscope help` for commands.
//
// main.go is wiring only: flags, the log file, the store, the goroutines
// that connect packet sources (scan) to a session (assets) and the TUI (ui).
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
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
	"otscope/assets/review"
	"otscope/assets/store"
	"otscope/model"
	"otscope/scan"
	"otscope/scan/capture"
	"otscope/scan/plant"
	"otscope/scan/probe"
	"otscope/ui"
	"otscope/ui/pane/scanpane"
)

// version is set with -ldflags "-X main.version=v1.2.3"; otherwise it comes
// from the build info.
var version = ""

const usage = `otscope — OT asset inventory for plant networks (passive first)

Usage:
  otscope
      open the TUI on the most recent session
  otscope ui [--session S] [-i IFACE | FILE...] [--csaf P] [--kev F]
      TUI; optionally capture live or read files into S
  otscope demo [--session S] [--speed X] [--headless]
      replay the built-in demo plant into a new session, in the TUI
  otscope demo --write FILE [--duration D | --packets N] [--scale N]
      write the demo plant as a pcap file
  otscope read FILE... --session S [--filter F] [--speed X]
      ingest pcap/pcapng files (gzip ok), print a summary
  otscope capture -i IFACE --session S [--duration D] [--filter F]
      live capture without the TUI (needs CAP_NET_RAW)
  otscope assets --session S [--format json|csv|table] [--catalog F...]
                 [--csaf P...] [--kev F]
      export a session's assets (JSON: lifecycle, advisories, violations)
  otscope lifecycle --session S [--catalog F...] [--format table|json|csv]
      product lifecycle phase of every asset (embedded catalog + yours)
  otscope advisories --session S --csaf PATH... [--kev FILE] [--format ...]
      CISA ICS advisories (CSAF 2.0, offline) that name the session's assets
  otscope audit --session S [--policy F...] [--catalog F...] [--csaf P...]
                [--kev F] [--format table|json|csv] [--fail-on SEVERITY]
      check the session against the default policy pack (and yours); exits 3
      when violations at or above --fail-on exist; waivers apply
  otscope waive --session S --rule ID --asset ID|* --reason TEXT
                [--until 2027-01-31 | --for 30d]
  otscope waive --session S --rule ID --asset ID|* --revoke
      acknowledge (or stop acknowledging) a violation in the session
  otscope waivers --session S [--all] [--format table|json|csv]
      the session's waivers: active, expired, revoked
  otscope state --session S --asset ID [--set STATE --why TEXT]
      an asset's inventory state and history; --set verified|decommissioned|
      identified|discovered records a manual transition (walkdown)
  otscope scan TARGET... --session S [--dry-run] [--yes] [--fill-gaps]
               [--probes LIST] [--rate 50] [--per-host 5] [--exclude A,..]
               [--exclude-role R,..] [--community C]... (see scan --help)
      ask devices read-only identification questions under a hard packet
      budget; TARGET: address, range, CIDR or "assets" (the session's)
  otscope scanlog --session S [--format table|json|csv]
      every packet the scanner sent, for the change record
  otscope sessions
      list sessions with counts
  otscope version

Every command takes --db DIR (default: $XDG_DATA_HOME/otscope/db) and
--log FILE (default: $XDG_STATE_HOME/otscope/otscope.log); COMMAND --help
lists its flags.
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
	case "scan":
		return cmdScan(rest, os.Stdin, stdout, stderr)
	case "scanlog":
		return cmdScanLog(rest, stdout)
	case "waive":
		return cmdWaive(rest, stdout, stderr)
	case "waivers":
		return cmdWaivers(rest, stdout, stderr)
	case "state":
		return cmdState(rest, stdout, stderr)
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

// helpOut receives a command's flag list for -h / --help.
var helpOut io.Writer = os.Stdout

// parse parses flags that may come before, between or after positional
// arguments (`read a.pcap --session S`).
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(helpOut, "otscope %s: flags (see 'otscope help' for the commands)\n", fs.Name())
				fs.SetOutput(helpOut)
				fs.PrintDefaults()
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
	var cat catalogFlags
	cat.register(fs)
	var policies multiFlag
	fs.Var(&policies, "policy", "policy file or directory (YAML; repeatable), on top of the default pack")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	src, err := tuiSources(cat, policies, stderr)
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
	return runTUI(e, c.session, open, sources, scan.IngestOptions{Name: strings.Join(sources, " ")}, src)
}

// demoSourceName names the demo plant as a capture source.
const demoSourceName = "demo plant"

// runTUI runs the TUI over a session, with an optional source feeding it.
func runTUI(e *env, session string, open func() (capture.Source, error), sources []string, io scan.IngestOptions, src review.Sources) error {
	sess, err := e.openSession(session)
	if err != nil {
		return err
	}
	// The demo plant's addresses are made up: on the user's network they
	// may be real devices, so a session that holds the demo never scans.
	var noScan string
	if slices.Contains(sources, demoSourceName) || slices.ContainsFunc(sess.Inventory().Stats(), func(st model.CaptureStats) bool { return st.Source == demoSourceName }) {
		noScan = "Scanning is off in the demo: its devices are simulated, and their addresses may belong to real devices on your network."
	}
	scanCtl := newScanControl(e, sess, noScan)
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
	p := tea.NewProgram(ui.New(ui.Config{Session: session, Updates: updates, Sources: sources, Version: appVersion(),
		Analysis: src, Ledger: sess, User: operator(), Scan: scanCtl}),
		tea.WithAltScreen())
	_, uiErr := p.Run()
	scanCtl.wait()
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
	var cat catalogFlags
	cat.register(fs)
	var policies multiFlag
	fs.Var(&policies, "policy", "policy file or directory (YAML; repeatable), on top of the default pack")
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
		return headlessEnv(e, c.session, stderr, stdout, open, scan.IngestOptions{Name: demoSourceName}, true)
	}
	src, err := tuiSources(cat, policies, stderr)
	if err != nil {
		return err
	}
	return runTUI(e, c.session, open, []string{demoSourceName}, scan.IngestOptions{Name: demoSourceName, Pace: *speed}, src)
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
		scan.IngestOptions{Name: demoSourceName}, false)
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
	snap, j, err := loadSession(c)
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
	en.States = stateHistories(j)
	in := auditInput(snap, en)
	rep := policy.Audit(in, loadPack(nil, stderr), review.Effective(j.Waivers, in.Now))
	en.Audit = &rep
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
	pack := loadPack(policies, stderr)
	snap, j, err := loadSession(c)
	if err != nil {
		return err
	}
	en, err := cat.enricher(stderr, true)
	if err != nil {
		return err
	}
	in := auditInput(snap, en)
	rep := policy.Audit(in, pack, review.Effective(j.Waivers, in.Now))
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
	return review.AuditInput(snap.Assets, snap.Conversations, review.Sources{Catalog: en.Catalog, Advisories: en.Advisories}, time.Now())
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

// ---- active scanner ------------------------------------------------------

// scanFlags are the flags of `otscope scan`.
type scanFlags struct {
	c                                    common
	exclude, excludeRole, communities    multiFlag
	ports                                multiFlag
	probes, modbusUnits, iface, commFile string
	tcpPorts                             string
	rate, perHost, inFlight, retries     int
	timeout                              time.Duration
	fillGaps, dryRun, yes                bool
	allowLarge, allowPublic, allowBcast  bool
}

func cmdScan(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("scan", flag.ContinueOnError)
	var f scanFlags
	f.c.register(fs, "session whose assets are scanned and that receives the answers (required)")
	fs.Var(&f.exclude, "exclude", "addresses, ranges or CIDRs never to touch (comma-separated; repeatable)")
	fs.Var(&f.excludeRole, "exclude-role", "asset roles never to touch, e.g. plc,safety (comma-separated; repeatable)")
	fs.IntVar(&f.rate, "rate", 50, "global cap: packets per second, every packet the scan causes counted")
	fs.IntVar(&f.perHost, "per-host", 5, "per-device cap: packets per second to one target")
	fs.IntVar(&f.inFlight, "in-flight", 4, "devices scanned at the same time (one connection each)")
	fs.IntVar(&f.retries, "retries", 1, "UDP retransmissions when no answer comes (TCP is never retried)")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Second, "wait this long for a connection or an answer")
	fs.StringVar(&f.probes, "probes", "all", "probes to use: all or a comma-separated list ("+probeNames()+")")
	fs.BoolVar(&f.fillGaps, "fill-gaps", false, "passive first: ask only what the session does not already know")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and send nothing")
	fs.BoolVar(&f.yes, "yes", false, "do not ask before sending")
	fs.Var(&f.communities, "community", "SNMP community to try (repeatable, in order; kept secret)")
	fs.StringVar(&f.commFile, "community-file", "", "file with SNMP communities, one per line (keeps them out of ps)")
	fs.StringVar(&f.tcpPorts, "tcp-ports", "", "extra TCP ports the tcp probe may connect to (connect and close only), e.g. 9600,48898")
	fs.StringVar(&f.modbusUnits, "modbus-units", "", "Modbus unit ids to ask besides those seen passively, e.g. 1,2")
	fs.Var(&f.ports, "port", "probe=port for a service on a non-standard port, e.g. modbus=5020 (repeatable)")
	fs.StringVar(&f.iface, "iface", "", "interface for layer-2 probes (ARP, DCP; default: the route's)")
	fs.BoolVar(&f.allowLarge, "allow-large-scope", false, "allow a scope larger than a /16 (65536 addresses)")
	fs.BoolVar(&f.allowPublic, "allow-public", false, "allow public (internet-routable) addresses in the scope")
	fs.BoolVar(&f.allowBcast, "allow-broadcast", false, "allow broadcast addresses in the scope")
	targets, err := parse(fs, args)
	if err != nil {
		return err
	}
	if f.c.session == "" {
		return fmt.Errorf("%w: scan: --session is required", errUsage)
	}
	if len(targets) == 0 {
		return fmt.Errorf("%w: scan: no targets (addresses, ranges, CIDRs or \"assets\")", errUsage)
	}
	if f.rate < 1 || f.perHost < 1 || f.inFlight < 1 || f.retries < 0 || f.timeout <= 0 {
		return fmt.Errorf("%w: scan: --rate, --per-host and --in-flight must be >= 1, --retries >= 0, --timeout > 0", errUsage)
	}
	if f.perHost > f.rate {
		return fmt.Errorf("%w: scan: --per-host %d is above --rate %d", errUsage, f.perHost, f.rate)
	}
	if err := store.ValidSessionName(f.c.session); err != nil {
		return fmt.Errorf("%w: --session %q: %v", errUsage, f.c.session, err)
	}
	e, err := openEnv(f.c)
	if err != nil {
		return err
	}
	defer e.close()
	if _, err := e.st.EnsureSession(f.c.session, time.Now()); err != nil {
		return err
	}
	snap, err := e.st.Load(f.c.session)
	if err != nil {
		return err
	}
	scope, plan, po, err := f.plan(targets, snap.Assets)
	if err != nil {
		return err
	}
	plan.Write(stdout)
	if f.dryRun {
		fmt.Fprintln(stdout, "dry run: nothing was sent")
		return nil
	}
	if plan.Packets == 0 {
		fmt.Fprintln(stdout, "nothing to ask: no packet sent")
		return nil
	}
	if !f.yes {
		ok, err := confirm(stdin, stdout, fmt.Sprintf("send at most %d packets to %d targets? [y/N] ", plan.Packets, len(plan.Targets)))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(stdout, "nothing sent")
			return nil
		}
	}
	return runScan(e, f, scope, plan, po, stdout, stderr)
}

// planOptions turns the probe-shaping flags into probe.PlanOptions.
func (f *scanFlags) planOptions() (probe.PlanOptions, error) {
	po := probe.PlanOptions{FillGaps: f.fillGaps, Communities: f.communities, Ports: map[string]uint16{}}
	if f.commFile != "" {
		b, err := os.ReadFile(f.commFile)
		if err != nil {
			return po, fmt.Errorf("%w: scan: --community-file: %v", errUsage, err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				po.Communities = append(po.Communities, l)
			}
		}
	}
	for _, u := range splitList(f.modbusUnits) {
		n, err := strconv.ParseUint(u, 10, 8)
		if err != nil {
			return po, fmt.Errorf("%w: scan: --modbus-units %q: a unit id is 0-255", errUsage, u)
		}
		po.ModbusUnits = append(po.ModbusUnits, uint8(n))
	}
	for _, p := range splitList(f.tcpPorts) {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return po, fmt.Errorf("%w: scan: --tcp-ports %q: a port is 1-65535", errUsage, p)
		}
		po.TCPPorts = append(po.TCPPorts, uint16(n))
	}
	for _, p := range f.ports {
		name, port, ok := strings.Cut(p, "=")
		n, err := strconv.ParseUint(port, 10, 16)
		if !ok || err != nil || n == 0 {
			return po, fmt.Errorf("%w: scan: --port %q: want probe=port, e.g. modbus=5020", errUsage, p)
		}
		if _, err := probe.Lookup([]string{name}); err != nil {
			return po, fmt.Errorf("%w: scan: --port %q: %v", errUsage, p, err)
		}
		po.Ports[name] = uint16(n)
	}
	return po, nil
}

// plan builds the scan plan for targets over the session's assets: the
// scope, the probes --probes names (all by default), their options and the
// plan. Mistakes in the flags are usage errors.
func (f *scanFlags) plan(targets []string, as []model.Asset) (*probe.Scope, *probe.Plan, probe.PlanOptions, error) {
	po, err := f.planOptions()
	if err != nil {
		return nil, nil, po, err
	}
	probes := probe.Probes()
	if names := splitList(f.probes); !slices.Equal(names, []string{"all"}) {
		if probes, err = probe.Lookup(names); err != nil {
			return nil, nil, po, fmt.Errorf("%w: scan: --probes: %v", errUsage, err)
		}
		po.Named = names
	} else if len(po.Communities) > 0 {
		// giving a community asks for SNMP, on unknown hosts too
		po.Named = []string{"snmp"}
	}
	scope, err := f.scope(targets, as)
	if err != nil {
		return nil, nil, po, err
	}
	plan := probe.BuildPlan(probe.Targets(scope, as, splitList(f.excludeRole...)), probes, &po, f.budget())
	return scope, plan, po, nil
}

func (f *scanFlags) budget() probe.BudgetOptions {
	return probe.BudgetOptions{Rate: f.rate, PerHost: f.perHost, InFlight: f.inFlight}
}

// scope parses the targets; "assets" stands for every address of the
// session's assets.
func (f *scanFlags) scope(targets []string, as []model.Asset) (*probe.Scope, error) {
	// never this host's own addresses: the scanner would only talk to itself
	o := probe.ScopeOptions{Exclude: append(splitList(f.exclude...), localAddrs()...), AllowLarge: f.allowLarge, AllowPublic: f.allowPublic, AllowBroadcast: f.allowBcast}
	var sc *probe.Scope
	var err error
	if slices.Contains(targets, "assets") {
		if len(targets) > 1 {
			return nil, fmt.Errorf("%w: scan: \"assets\" is the whole session: give it alone", errUsage)
		}
		sc, err = probe.ScopeFromAssets(as, o)
	} else {
		sc, err = probe.ParseScope(targets, o)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: scan: %v", errUsage, err)
	}
	return sc, nil
}

// localAddrs are the addresses of this host's interfaces.
func localAddrs() []string {
	var out []string
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if pn, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(pn.IP); ok {
				out = append(out, ip.Unmap().String())
			}
		}
	}
	return out
}

// splitList splits comma-separated values (of one or more flags).
func splitList(vs ...string) []string {
	var out []string
	for _, v := range vs {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// confirm asks a yes/no question on a terminal; anything but y/yes is no.
func confirm(stdin io.Reader, stdout io.Writer, q string) (bool, error) {
	if f, ok := stdin.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return false, fmt.Errorf("%w: scan: not asking on a non-terminal: pass --yes to send, or --dry-run", errUsage)
	}
	fmt.Fprint(stdout, q)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}

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
	sess, err := e.openSession(f.c.session)
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
		j.id, g.TargetsDone, g.TargetsTotal, g.Requests, g.Answers, g.Errors, j.lw.n, f.c.session)
	if g.Stopped || errors.Is(runErr, context.Canceled) || errors.Is(runErr, probe.ErrStopped) {
		fmt.Fprintln(stdout, "  stopped: nothing more was sent; the answers so far are saved")
		if errors.Is(runErr, context.Canceled) || errors.Is(runErr, probe.ErrStopped) {
			runErr = nil
		}
	}
	return errors.Join(runErr, saveErr)
}

func cmdScanLog(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("scanlog", flag.ContinueOnError)
	var c common
	c.register(fs, "session (required)")
	format := fs.String("format", "table", "json, csv or table")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if c.session == "" {
		return fmt.Errorf("%w: scanlog: --session is required", errUsage)
	}
	if !slices.Contains(export.Formats, *format) {
		return fmt.Errorf("%w: scanlog: --format %q: %v", errUsage, *format, export.ErrFormat)
	}
	e, err := openEnv(c)
	if err != nil {
		return err
	}
	defer e.close()
	recs, skipped, err := store.ReadJournal[model.ScanRecord](e.st, c.session, store.ScanLog)
	if err != nil {
		return fmt.Errorf("session %q: %w", c.session, err)
	}
	if skipped > 0 {
		e.logger.Printf("session %s: %d scan-log records could not be decoded", c.session, skipped)
	}
	return export.ScanLog(stdout, *format, recs)
}

// probeNames lists the probes for --probes' help.
func probeNames() string {
	var n []string
	for _, p := range probe.Probes() {
		n = append(n, p.Name())
	}
	return strings.Join(n, ",")
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
	s := strings.TrimPrefix(err.Error(), errUsage.Error()+": ")
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

// ---- waivers and inventory states ---------------------------------------

// The commands that keep a session's waivers and inventory states, and the
// wiring of the TUI's analysis (lifecycle catalog, advisories, policy).

// operator is who waivers and manual transitions are recorded as: $USER,
// else "operator".
func operator() string {
	if u := strings.TrimSpace(os.Getenv("USER")); u != "" {
		return u
	}
	return "operator"
}

// loadSession opens the database, loads one session with its journals and
// closes it again.
func loadSession(c common) (store.Snapshot, assets.Journals, error) {
	e, err := openEnv(c)
	if err != nil {
		return store.Snapshot{}, assets.Journals{}, err
	}
	defer e.close()
	snap, err := e.st.Load(c.session)
	if err != nil {
		return snap, assets.Journals{}, err // the store names the session
	}
	j, err := assets.ReadJournals(e.st, c.session)
	if j.Skipped > 0 {
		e.logger.Printf("session %s: %d journal records could not be decoded and were skipped", c.session, j.Skipped)
	}
	return snap, j, err
}

// stateHistories replays a session's state journal.
func stateHistories(j assets.Journals) map[model.AssetID]lifecycle.History {
	tr, _ := review.NewTracker(j.States, lifecycle.MissingPolicy{}, nil)
	return tr.Snapshot()
}

// loadPack is the default policy pack plus the user's files; problems are
// reported on stderr and the rest is used.
func loadPack(policies []string, stderr io.Writer) *policy.Pack {
	pack := policy.DefaultPack()
	if len(policies) > 0 {
		user, problems := policy.Load(policies...)
		for _, p := range problems {
			fmt.Fprintf(stderr, "otscope: policy: %v (skipped; the other rules run)\n", p)
		}
		pack = policy.Merge(pack, user)
	}
	return pack
}

// tuiSources loads what the TUI analyses the inventory with: the embedded
// lifecycle catalog (plus --catalog files), advisories when --csaf is
// given, and the policy pack.
func tuiSources(cat catalogFlags, policies []string, stderr io.Writer) (review.Sources, error) {
	en, err := cat.enricher(stderr, true)
	if err != nil {
		return review.Sources{}, err
	}
	return review.Sources{Catalog: en.Catalog, Advisories: en.Advisories, Pack: loadPack(policies, stderr)}, nil
}

// findAsset resolves an asset by ID, IP address, MAC address or name.
func findAsset(snap store.Snapshot, session, ref string) (model.AssetID, error) {
	ref = strings.TrimSpace(ref)
	var hits []model.AssetID
	ipRef, ipErr := netip.ParseAddr(ref)
	macRef, macErr := model.ParseMAC(ref)
	for i := range snap.Assets {
		a := &snap.Assets[i]
		switch {
		case string(a.ID) == ref:
			return a.ID, nil
		case ipErr == nil && slices.Contains(a.IPs, ipRef),
			macErr == nil && slices.Contains(a.MACs, macRef),
			slices.ContainsFunc(a.Names, func(n string) bool { return strings.EqualFold(n, ref) }):
			hits = append(hits, a.ID)
		}
	}
	switch len(hits) {
	case 0:
		return "", fmt.Errorf("no asset %q in session %q (give its id, IP, MAC or name; see otscope assets)", ref, session)
	case 1:
		return hits[0], nil
	}
	return "", fmt.Errorf("%q names %d assets (%s): give the id", ref, len(hits), hits[0])
}

func cmdWaive(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("waive", flag.ContinueOnError)
	var c common
	c.register(fs, "session (required)")
	rule := fs.String("rule", "", "rule ID the waiver acknowledges (required)")
	asset := fs.String("asset", "", "asset id, IP, MAC or name, or * for every asset (required)")
	reason := fs.String("reason", "", "why the violation is accepted (required unless --revoke)")
	until := fs.String("until", "", "last day the waiver holds (2027-01-31)")
	dur := fs.String("for", "", "how long the waiver holds (30d, 2w, 12h)")
	revoke := fs.Bool("revoke", false, "end the waiver for --rule and --asset now")
	by := fs.String("by", operator(), "who accepts it")
	var policies multiFlag
	fs.Var(&policies, "policy", "policy file or directory defining the rule, if not in the default pack")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case c.session == "" || *rule == "" || *asset == "":
		return fmt.Errorf("%w: waive: --session, --rule and --asset are required", errUsage)
	case *until != "" && *dur != "":
		return fmt.Errorf("%w: waive: give --until or --for, not both", errUsage)
	case *revoke && (*until != "" || *dur != ""):
		return fmt.Errorf("%w: waive: --revoke takes no expiry", errUsage)
	case !*revoke && strings.TrimSpace(*reason) == "":
		return fmt.Errorf("%w: waive: --reason is required", errUsage)
	}
	now := time.Now()
	var expiry time.Time
	var err error
	if *dur != "" {
		d, derr := review.ParseDuration(*dur)
		if derr != nil {
			return fmt.Errorf("%w: waive: --for: %v", errUsage, derr)
		}
		expiry = now.Add(d)
	} else if expiry, err = review.ParseExpiry(*until, now); err != nil {
		return fmt.Errorf("%w: waive: --until: %v", errUsage, err)
	}
	pack := loadPack(policies, stderr)
	if !slices.ContainsFunc(pack.Rules, func(r *policy.Rule) bool { return r.ID == *rule }) {
		return fmt.Errorf("%w: waive: unknown rule %q (rules: otscope audit; a rule of your own needs --policy)", errUsage, *rule)
	}
	e, err := openEnv(c)
	if err != nil {
		return err
	}
	defer e.close()
	snap, err := e.st.Load(c.session)
	if err != nil {
		return fmt.Errorf("session %q: %w", c.session, err)
	}
	id := model.AssetID("*")
	if *asset != "*" {
		if id, err = findAsset(snap, c.session, *asset); err != nil {
			return err
		}
	}
	var rec review.WaiverRecord
	if *revoke {
		j, err := assets.ReadJournals(e.st, c.session)
		if err != nil {
			return err
		}
		k := review.Key{Rule: *rule, Asset: id}
		if !slices.ContainsFunc(review.Effective(j.Waivers, now), func(w policy.Waiver) bool { return review.KeyOf(w) == k }) {
			return fmt.Errorf("no active waiver of %s for %s in session %q", *rule, id, c.session)
		}
		rec = review.Revoke(k, *reason, *by, now)
	} else if rec, err = review.NewWaiver(*rule, id, *reason, *by, expiry, now); err != nil {
		return fmt.Errorf("%w: waive: %v", errUsage, err)
	}
	if err := e.st.Append(c.session, store.Waivers, rec); err != nil {
		return err
	}
	switch {
	case *revoke:
		fmt.Fprintf(stdout, "revoked the waiver of %s for %s\n", *rule, id)
	case expiry.IsZero():
		fmt.Fprintf(stdout, "waived %s for %s, no expiry (by %s)\n", *rule, id, rec.By)
	default:
		fmt.Fprintf(stdout, "waived %s for %s until %s (by %s)\n", *rule, id, expiry.Local().Format("2006-01-02 15:04"), rec.By)
	}
	return nil
}

func cmdWaivers(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("waivers", flag.ContinueOnError)
	var c common
	c.register(fs, "session (required)")
	format := fs.String("format", "table", "json, csv or table")
	all := fs.Bool("all", false, "every record, superseded ones too, oldest first")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if c.session == "" {
		return fmt.Errorf("%w: waivers: --session is required", errUsage)
	}
	if !slices.Contains(export.Formats, *format) {
		return fmt.Errorf("%w: waivers: --format %q: %v", errUsage, *format, export.ErrFormat)
	}
	_, j, err := loadSession(c)
	if err != nil {
		return err
	}
	recs := j.Waivers
	if !*all {
		recs = review.Latest(recs)
	}
	return writeWaivers(stdout, *format, recs, time.Now())
}

func writeWaivers(w io.Writer, format string, recs []review.WaiverRecord, now time.Time) error {
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("2006-01-02 15:04")
	}
	switch format {
	case "json":
		type out struct {
			review.WaiverRecord
			Status string `json:"status"`
		}
		list := make([]out, len(recs))
		for i, r := range recs {
			list[i] = out{r, r.Status(now)}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(list)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"rule", "asset", "status", "until", "by", "at", "reason"})
		for _, r := range recs {
			cw.Write([]string{r.RuleID, string(r.AssetID), r.Status(now), stamp(r.Until), r.By, stamp(r.At), r.Reason})
		}
		cw.Flush()
		return cw.Error()
	}
	if len(recs) == 0 {
		_, err := fmt.Fprintln(w, "no waivers: acknowledge a violation with 'otscope waive' or 'a' in the Violations pane")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RULE\tASSET\tSTATUS\tUNTIL\tBY\tREASON")
	for _, r := range recs {
		until := stamp(r.Until)
		if until == "" {
			until = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.RuleID, r.AssetID, r.Status(now), until, r.By, r.Reason)
	}
	return tw.Flush()
}

func cmdState(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("state", flag.ContinueOnError)
	var c common
	c.register(fs, "session (required)")
	asset := fs.String("asset", "", "asset id, IP, MAC or name (required)")
	set := fs.String("set", "", "new state: verified, decommissioned, identified (withdraw a verification), discovered (recommission)")
	why := fs.String("why", "", "reason for the transition (required with --set)")
	by := fs.String("by", operator(), "who makes it")
	if _, err := parse(fs, args); err != nil {
		return err
	}
	if c.session == "" || *asset == "" {
		return fmt.Errorf("%w: state: --session and --asset are required", errUsage)
	}
	var to lifecycle.State
	if *set != "" {
		if err := to.UnmarshalText([]byte(*set)); err != nil {
			return fmt.Errorf("%w: state: --set: %v", errUsage, err)
		}
		if strings.TrimSpace(*why) == "" {
			return fmt.Errorf("%w: state: --why is required with --set", errUsage)
		}
	}
	e, err := openEnv(c)
	if err != nil {
		return err
	}
	defer e.close()
	snap, err := e.st.Load(c.session)
	if err != nil {
		return fmt.Errorf("session %q: %w", c.session, err)
	}
	id, err := findAsset(snap, c.session, *asset)
	if err != nil {
		return err
	}
	j, err := assets.ReadJournals(e.st, c.session)
	if err != nil {
		return err
	}
	tr, _ := review.NewTracker(j.States, review.MissingPolicyFor(snap.Stats, review.DefaultMissingAfter),
		func(recs ...review.StateRecord) error {
			rs := make([]any, len(recs))
			for i := range recs {
				rs[i] = recs[i]
			}
			return e.st.Append(c.session, store.StateHistory, rs...)
		})
	if *set != "" {
		// A session recorded before states were tracked gets its automatic
		// state first, so the manual transition starts from it.
		for i := range snap.Assets {
			if snap.Assets[i].ID == id && tr.Current(id) == lifecycle.Untracked {
				if _, err := tr.Observe([]*model.Asset{&snap.Assets[i]}, review.NewestPacket(snap.Stats, snap.Assets), time.Now()); err != nil {
					return err
				}
			}
		}
		if _, err := tr.Set(id, to, *by, *why, time.Now()); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
	}
	h := tr.History(id)
	fmt.Fprintf(stdout, "%s: %s\n", id, h.Current())
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	for _, t := range h {
		fmt.Fprintf(tw, "  %s\t%s → %s\t%s\t%s\n", t.At.Local().Format("2006-01-02 15:04:05"), t.From, t.To, t.By, t.Why)
	}
	return tw.Flush()
}
