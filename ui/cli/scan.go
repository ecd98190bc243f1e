package cli

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"otscope/model"
	"otscope/scan/probe"
)

// scanFlags are the flags of `otscope scan`.
type scanFlags struct {
	session                              string
	exclude, excludeRole, communities    []string
	ports                                []string
	probes, modbusUnits, iface, commFile string
	tcpPorts                             string
	rate, perHost, inFlight, retries     int
	timeout                              time.Duration
	fillGaps, dryRun, yes                bool
	allowLarge, allowPublic, allowBcast  bool
}

func (a *app) newScanCmd() *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan TARGET... -s SESSION [--dry-run] [--yes] [--fill-gaps] [--probes LIST]",
		Short: "ask devices read-only questions under a hard packet budget",
		Long: `Ask devices read-only identification questions under a hard packet budget.
TARGET: an address, range, CIDR or "assets" (every address of the session's
assets). The plan is printed first (--dry-run: only the plan); without --yes
otscope asks before sending. Ctrl-C stops every packet at once.`,
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, targets []string) error {
			return a.runScanCmd(&f, targets)
		},
	}
	fs := cmd.Flags()
	a.sessionFlag(cmd, &f.session, "session whose assets are scanned and that receives the answers (required)", true)
	fs.StringArrayVar(&f.exclude, "exclude", nil, "addresses, ranges or CIDRs never to touch (comma-separated; repeatable)")
	fs.StringArrayVar(&f.excludeRole, "exclude-role", nil, "asset roles never to touch, e.g. plc,safety (comma-separated; repeatable)")
	fs.IntVar(&f.rate, "rate", 50, "global cap: packets per second, every packet the scan causes counted")
	fs.IntVar(&f.perHost, "per-host", 5, "per-device cap: packets per second to one target")
	fs.IntVar(&f.inFlight, "in-flight", 4, "devices scanned at the same time (one connection each)")
	fs.IntVar(&f.retries, "retries", 1, "UDP retransmissions when no answer comes (TCP is never retried)")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Second, "wait this long for a connection or an answer")
	fs.StringVar(&f.probes, "probes", "all", "probes to use: all or a comma-separated list ("+probeNames()+")")
	fs.BoolVar(&f.fillGaps, "fill-gaps", false, "passive first: ask only what the session does not already know")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and send nothing")
	fs.BoolVarP(&f.yes, "yes", "y", false, "do not ask before sending")
	fs.StringArrayVar(&f.communities, "community", nil, "SNMP community to try (repeatable, in order; kept secret)")
	fs.StringVar(&f.commFile, "community-file", "", "file with SNMP communities, one per line (keeps them out of ps)")
	fs.StringVar(&f.tcpPorts, "tcp-ports", "", "extra TCP ports the tcp probe may connect to (connect and close only), e.g. 9600,48898")
	fs.StringVar(&f.modbusUnits, "modbus-units", "", "Modbus unit ids to ask besides those seen passively, e.g. 1,2")
	fs.StringArrayVar(&f.ports, "port", nil, "probe=port for a service on a non-standard port, e.g. modbus=5020 (repeatable)")
	fs.StringVarP(&f.iface, "interface", "i", "", "interface `IFACE` for layer-2 probes (ARP, DCP; default: the route's)")
	fs.BoolVar(&f.allowLarge, "allow-large-scope", false, "allow a scope larger than a /16 (65536 addresses)")
	fs.BoolVar(&f.allowPublic, "allow-public", false, "allow public (internet-routable) addresses in the scope")
	fs.BoolVar(&f.allowBcast, "allow-broadcast", false, "allow broadcast addresses in the scope")
	cmd.RegisterFlagCompletionFunc("probes", completeProbes)
	cmd.RegisterFlagCompletionFunc("port", completeProbePorts)
	cmd.RegisterFlagCompletionFunc("interface", completeInterfaces)
	cmd.RegisterFlagCompletionFunc("exclude-role", cobra.NoFileCompletions)
	return cmd
}

func (a *app) runScanCmd(f *scanFlags, targets []string) error {
	if len(targets) == 0 {
		return usagef("scan", "no targets (addresses, ranges, CIDRs or \"assets\")")
	}
	if f.rate < 1 || f.perHost < 1 || f.inFlight < 1 || f.retries < 0 || f.timeout <= 0 {
		return usagef("scan", "--rate, --per-host and --in-flight must be >= 1, --retries >= 0, --timeout > 0")
	}
	if f.perHost > f.rate {
		return usagef("scan", "--per-host %d is above --rate %d", f.perHost, f.rate)
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
	scope, plan, po, err := f.plan(targets, snap.Assets)
	if err != nil {
		return err
	}
	stdout := a.io.Stdout
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
		ok, err := confirm(a.io.Stdin, stdout, fmt.Sprintf("send at most %d packets to %d targets? [y/N] ", plan.Packets, len(plan.Targets)))
		if err != nil {
			return err
		}
		if !ok {
			fmt.Fprintln(stdout, "nothing sent")
			return nil
		}
	}
	return runScan(e, *f, scope, plan, po, stdout, a.io.Stderr)
}

// planOptions turns the probe-shaping flags into probe.PlanOptions.
func (f *scanFlags) planOptions() (probe.PlanOptions, error) {
	po := probe.PlanOptions{FillGaps: f.fillGaps, Communities: f.communities, Ports: map[string]uint16{}}
	if f.commFile != "" {
		b, err := os.ReadFile(f.commFile)
		if err != nil {
			return po, fmt.Errorf("%w: scan: --community-file: %v", ErrUsage, err)
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
			return po, fmt.Errorf("%w: scan: --modbus-units %q: a unit id is 0-255", ErrUsage, u)
		}
		po.ModbusUnits = append(po.ModbusUnits, uint8(n))
	}
	for _, p := range splitList(f.tcpPorts) {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return po, fmt.Errorf("%w: scan: --tcp-ports %q: a port is 1-65535", ErrUsage, p)
		}
		po.TCPPorts = append(po.TCPPorts, uint16(n))
	}
	for _, p := range f.ports {
		name, port, ok := strings.Cut(p, "=")
		n, err := strconv.ParseUint(port, 10, 16)
		if !ok || err != nil || n == 0 {
			return po, fmt.Errorf("%w: scan: --port %q: want probe=port, e.g. modbus=5020", ErrUsage, p)
		}
		if _, err := probe.Lookup([]string{name}); err != nil {
			return po, fmt.Errorf("%w: scan: --port %q: %v", ErrUsage, p, err)
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
			return nil, nil, po, fmt.Errorf("%w: scan: --probes: %v", ErrUsage, err)
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
			return nil, fmt.Errorf("%w: scan: \"assets\" is the whole session: give it alone", ErrUsage)
		}
		sc, err = probe.ScopeFromAssets(as, o)
	} else {
		sc, err = probe.ParseScope(targets, o)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: scan: %v", ErrUsage, err)
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
		return false, fmt.Errorf("%w: scan: not asking on a non-terminal: pass --yes to send, or --dry-run", ErrUsage)
	}
	fmt.Fprint(stdout, q)
	line, _ := bufio.NewReader(stdin).ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(line))
	return a == "y" || a == "yes", nil
}
