package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"otscope/assets"
	"otscope/assets/store"
	"otscope/model"
	"otscope/scan/job"
	"otscope/scan/probe"
)

// scanFlags are the flags of `otscope scan` that are not job.Settings as
// they are.
type scanFlags struct {
	session, format                         string
	exclude, excludeRole                    []string
	probes, modbusUnits, commFile, tcpPorts string
	ports                                   []string
	dryRun, yes                             bool
}

func (a *app) newScanCmd() *cobra.Command {
	var f scanFlags
	s := job.Defaults()
	cmd := &cobra.Command{
		Use:   "scan TARGET... -s SESSION [--dry-run] [--yes] [--fill-gaps] [--probes LIST]",
		Short: "ask devices read-only questions under a hard packet budget",
		Long: `Ask devices read-only identification questions under a hard packet budget.
TARGET: an address, range, CIDR or "assets" (every address of the session's
assets). The plan is printed first (--dry-run: only the plan, -f json or csv
for a machine); without --yes otscope asks before sending. Ctrl-C stops every
packet at once.`,
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, targets []string) error {
			s.Targets = targets
			return a.runScanCmd(&f, s)
		},
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &f.session, "session whose assets are scanned and that receives the answers (required)", true)
	a.formatFlag(cmd, &f.format)
	fs.StringArrayVar(&f.exclude, "exclude", nil, "addresses, ranges or CIDRs never to touch (comma-separated; repeatable)")
	fs.StringArrayVar(&f.excludeRole, "exclude-role", nil, "asset roles never to touch, e.g. plc,safety (comma-separated; repeatable)")
	fs.IntVar(&s.Rate, "rate", s.Rate, "global cap: packets per second, every packet the scan causes counted")
	fs.IntVar(&s.PerHost, "per-host", s.PerHost, "per-device cap: packets per second to one target")
	fs.IntVar(&s.InFlight, "in-flight", s.InFlight, "devices scanned at the same time (one connection each)")
	fs.IntVar(&s.Retries, "retries", s.Retries, "UDP retransmissions when no answer comes (TCP is never retried)")
	fs.DurationVar(&s.Timeout, "timeout", s.Timeout, "wait this long for a connection or an answer")
	fs.StringVar(&f.probes, "probes", "all", "probes to use: all or a comma-separated list ("+probeNames()+")")
	fs.BoolVar(&s.FillGaps, "fill-gaps", false, "passive first: ask only what the session does not already know")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and send nothing")
	fs.BoolVarP(&f.yes, "yes", "y", false, "do not ask before sending")
	fs.StringArrayVar(&s.Communities, "community", nil, "SNMP community to try (repeatable, in order; kept secret)")
	fs.StringVar(&f.commFile, "community-file", "", "file with SNMP communities, one per line (keeps them out of ps)")
	fs.StringVar(&f.tcpPorts, "tcp-ports", "", "extra TCP ports the tcp probe may connect to (connect and close only), e.g. 9600,48898")
	fs.StringVar(&f.modbusUnits, "modbus-units", "", "Modbus unit ids to ask besides those seen passively, e.g. 1,2")
	fs.StringArrayVar(&f.ports, "port", nil, "probe=port for a service on a non-standard port, e.g. modbus=5020 (repeatable)")
	fs.StringVarP(&s.Iface, "interface", "i", "", "interface `IFACE` for layer-2 probes (ARP, DCP; default: the route's)")
	fs.BoolVar(&s.AllowLarge, "allow-large-scope", false, "allow a scope larger than a /16 (65536 addresses)")
	fs.BoolVar(&s.AllowPublic, "allow-public", false, "allow public (internet-routable) addresses in the scope")
	fs.BoolVar(&s.AllowBroadcast, "allow-broadcast", false, "allow broadcast addresses in the scope")
	fs.BoolVar(&s.DCPMulticast, "dcp-multicast", false, "send one PROFINET DCP Identify to the segment's multicast address: every PROFINET station answers, in scope or not (default: unicast to in-scope targets)")
	cmd.RegisterFlagCompletionFunc("probes", completeProbes)
	cmd.RegisterFlagCompletionFunc("port", completeProbePorts)
	cmd.RegisterFlagCompletionFunc("interface", completeInterfaces)
	cmd.RegisterFlagCompletionFunc("exclude-role", cobra.NoFileCompletions)
	return cmd
}

func (a *app) runScanCmd(f *scanFlags, s job.Settings) error {
	if len(s.Targets) == 0 {
		return usagef("scan", "no targets (addresses, ranges, CIDRs or \"assets\")")
	}
	if err := f.settings(&s); err != nil {
		return usagef("scan", "%v", err)
	}
	if err := s.Check(); err != nil {
		return usagef("scan", "%v", err)
	}
	e, err := a.openEnv()
	if err != nil {
		return err
	}
	defer e.close()
	if _, err := e.st.EnsureSession(f.session, time.Now()); err != nil {
		return err
	}
	snap, err := e.st.Load(f.session)
	if err != nil {
		return err
	}
	plan, err := job.Build(s, snap.Assets)
	if err != nil {
		return usagef("scan", "%v", err)
	}
	stdout := a.io.Stdout
	if err := plan.Write(stdout, f.format); err != nil {
		return err
	}
	if f.dryRun {
		if f.format == "table" {
			fmt.Fprintln(stdout, "dry run: nothing was sent")
		}
		return nil
	}
	if f.format != "table" {
		return usagef("scan", "-f %s prints the plan only: add --dry-run", f.format)
	}
	if plan.Packets == 0 {
		fmt.Fprintln(stdout, "nothing to ask: no packet sent")
		return nil
	}
	if !f.yes {
		ok, err := confirm(a.io.Stdin, stdout, fmt.Sprintf("send at most %d packets to %d targets? [y/N] ", plan.Packets, plan.Targets))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(stdout, "nothing sent")
			return nil
		}
	}
	return runScan(e, f.session, plan, stdout, a.io.Stderr)
}

// settings completes s from the flags that need parsing.
func (f *scanFlags) settings(s *job.Settings) error {
	s.Exclude, s.ExcludeRoles = splitList(f.exclude...), splitList(f.excludeRole...)
	s.Probes = splitList(f.probes)
	if f.commFile != "" {
		b, err := os.ReadFile(f.commFile)
		if err != nil {
			return fmt.Errorf("--community-file: %v", err)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				s.Communities = append(s.Communities, l)
			}
		}
	}
	for _, u := range splitList(f.modbusUnits) {
		n, err := strconv.ParseUint(u, 10, 8)
		if err != nil {
			return fmt.Errorf("--modbus-units %q: a unit id is 0-255", u)
		}
		s.ModbusUnits = append(s.ModbusUnits, uint8(n))
	}
	for _, p := range splitList(f.tcpPorts) {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return fmt.Errorf("--tcp-ports %q: a port is 1-65535", p)
		}
		s.TCPPorts = append(s.TCPPorts, uint16(n))
	}
	s.Ports = map[string]uint16{}
	for _, p := range f.ports {
		name, port, ok := strings.Cut(p, "=")
		n, err := strconv.ParseUint(port, 10, 16)
		if !ok || err != nil || n == 0 {
			return fmt.Errorf("--port %q: want probe=port, e.g. modbus=5020", p)
		}
		s.Ports[name] = uint16(n)
	}
	return nil
}

// scanSink connects a job to a session: answers into it, the packet log
// into its journal.
func scanSink(e *env, sess *assets.Session) job.Sink {
	return job.Sink{
		Session: sess.Name(),
		AppendLog: func(recs []model.ScanRecord) error {
			rs := make([]any, len(recs))
			for i := range recs {
				rs[i] = recs[i]
			}
			return e.st.Append(sess.Name(), store.ScanLog, rs...)
		},
		Observe: func(b model.Batch) { sess.Ingest() <- b },
		Logger:  e.logger,
	}
}

// runScan sends the plan headless and merges the answers into the session;
// SIGINT (Ctrl-C) is the panic key.
func runScan(e *env, session string, plan *job.Plan, stdout, stderr io.Writer) error {
	sess, err := e.openSession(session)
	if err != nil {
		return err
	}
	runDone := make(chan error, 1)
	go func() { runDone <- sess.Run(context.Background()) }()
	ctx, stop := signalContext()
	defer stop()
	j := job.Start(plan, scanSink(e, sess))
	tty := isTerminal(stderr)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
loop:
	for {
		select {
		case <-j.Done():
			break loop
		case <-ctx.Done():
			j.Stop() // returns once nothing more can be sent
			ctx = context.Background()
		case <-tick.C:
			if tty {
				g := j.Gauges()
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
	g := j.Gauges()
	fmt.Fprintf(stdout, "scan %s: %d/%d targets, %d requests, %d answers, %d errors, %d log records (otscope scanlog --session %s)\n",
		j.ID, g.TargetsDone, g.TargetsTotal, g.Requests, g.Answers, g.Errors, j.Logged(), session)
	if g.Stopped {
		fmt.Fprintln(stdout, "  stopped: nothing more was sent; the answers so far are saved")
	}
	return errors.Join(j.Err(), saveErr)
}

// probeNames lists the probes for --probes' help.
func probeNames() string {
	var n []string
	for _, p := range probe.Probes() {
		n = append(n, p.Name())
	}
	return strings.Join(n, ", ")
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
		return false, usagef("scan", "not asking on a non-terminal: pass --yes to send, or --dry-run")
	}
	fmt.Fprint(stdout, q)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
