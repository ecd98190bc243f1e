// Package job is one active scan from plan to packet log: the settings a
// scan is asked with, the typed plan, the running job (pause, resume, the
// panic stop) and its packet log, and the Controller the TUI's Scan pane
// drives. `otscope scan` and the Scan pane use the same code.
package job

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"otscope/model"
	"otscope/scan/probe"
)

// Settings are what a scan is asked with: the flags of `otscope scan`, the
// Scan pane's form on top of the defaults.
type Settings struct {
	// Targets are addresses, ranges, CIDRs, or "assets" alone (every
	// address of the session's assets).
	Targets []string
	// Exclude are addresses, ranges or CIDRs never to touch; ExcludeRoles
	// asset roles never to touch.
	Exclude, ExcludeRoles []string
	// Probes are the probes to use; empty or "all" means every probe.
	Probes []string
	// FillGaps asks only what the session does not already know.
	FillGaps bool
	// Communities are SNMP communities to try, in order (secret).
	Communities []string
	ModbusUnits []uint8
	TCPPorts    []uint16
	// Ports are non-standard ports by probe name (modbus=5020).
	Ports map[string]uint16
	// Rate and PerHost are the caps in packets per second, InFlight the
	// devices scanned at once, Retries the UDP retransmissions.
	Rate, PerHost, InFlight, Retries int
	Timeout                          time.Duration
	// Iface is the interface for layer-2 probes ("": the route's).
	Iface                                   string
	AllowLarge, AllowPublic, AllowBroadcast bool
	// DCPMulticast sends one PROFINET DCP Identify to the segment's
	// multicast address: every PROFINET station answers, in scope or not.
	DCPMulticast bool
}

// Defaults are the settings of a scan nobody tuned.
func Defaults() Settings {
	return Settings{Rate: probe.DefaultRate, PerHost: probe.DefaultPerHost, InFlight: probe.DefaultInFlight,
		Retries: 1, Timeout: probe.DefaultTimeout}
}

// Check refuses caps that make no sense.
func (s *Settings) Check() error {
	if s.Rate < 1 || s.PerHost < 1 || s.InFlight < 1 || s.Retries < 0 || s.Timeout <= 0 {
		return errors.New("--rate, --per-host and --in-flight must be >= 1, --retries >= 0, --timeout > 0")
	}
	if s.PerHost > s.Rate {
		return fmt.Errorf("--per-host %d is above --rate %d", s.PerHost, s.Rate)
	}
	return nil
}

// Row is one probe of one target in a plan.
type Row struct {
	Target   netip.Addr `json:"target"`
	Asset    string     `json:"asset"`
	Probe    string     `json:"probe"`
	Port     uint16     `json:"port,omitempty"`
	Requests int        `json:"requests"`
	Packets  int        `json:"packets"`
	// IfOpen marks a probe that runs only when its port accepts a TCP
	// connection (a device nothing is known of).
	IfOpen bool   `json:"if_open,omitempty"`
	Why    string `json:"why"`
}

// Plan is what a scan would send, before anything is sent.
type Plan struct {
	// Rows are the planned probes, target by target in scope order.
	Rows []Row `json:"rows"`
	// Targets counts the targets with something to ask, Nothing those
	// without; Probes the planned probes; Packets bounds the packets.
	Targets, Nothing, Probes, Packets int
	// Duration bounds the sending at the caps (answers add to it).
	Duration      time.Duration
	Rate, PerHost int

	settings Settings
	scope    *probe.Scope
	plan     *probe.Plan
	po       probe.PlanOptions
}

// Build plans a scan of s.Targets over the session's assets. Its errors
// name the setting at fault, in the words of the command's flags.
func Build(s Settings, assets []model.Asset) (*Plan, error) {
	if len(s.Targets) == 0 {
		return nil, errors.New("no targets (addresses, ranges, CIDRs or \"assets\")")
	}
	if err := s.Check(); err != nil {
		return nil, err
	}
	po := probe.PlanOptions{FillGaps: s.FillGaps, Communities: s.Communities, ModbusUnits: s.ModbusUnits,
		TCPPorts: s.TCPPorts, Ports: map[string]uint16{}, DCPMulticast: s.DCPMulticast}
	for name, port := range s.Ports {
		if _, err := probe.Lookup([]string{name}); err != nil {
			return nil, fmt.Errorf("--port %s=%d: %v", name, port, err)
		}
		po.Ports[name] = port
	}
	probes := probe.Probes()
	if len(s.Probes) > 0 && !slices.Equal(s.Probes, []string{"all"}) {
		var err error
		if probes, err = probe.Lookup(s.Probes); err != nil {
			return nil, fmt.Errorf("--probes: %v", err)
		}
		po.Named = s.Probes
	} else if len(po.Communities) > 0 {
		// giving a community asks for SNMP, on unknown hosts too
		po.Named = []string{"snmp"}
	}
	// never this host's own addresses: the scanner would only talk to itself
	o := probe.ScopeOptions{Exclude: append(slices.Clone(s.Exclude), localAddrs()...), AllowLarge: s.AllowLarge,
		AllowPublic: s.AllowPublic, AllowBroadcast: s.AllowBroadcast, Subnets: probe.LocalSubnets()}
	var scope *probe.Scope
	var err error
	if slices.Contains(s.Targets, "assets") {
		if len(s.Targets) > 1 {
			return nil, errors.New("\"assets\" is the whole session: give it alone")
		}
		scope, err = probe.ScopeFromAssets(assets, o)
	} else {
		scope, err = probe.ParseScope(s.Targets, o)
	}
	if err != nil {
		return nil, err
	}
	pp := probe.BuildPlan(probe.Targets(scope, assets, s.ExcludeRoles), probes, &po,
		probe.BudgetOptions{Rate: s.Rate, PerHost: s.PerHost, InFlight: s.InFlight})
	p := &Plan{Targets: len(pp.Targets), Nothing: pp.Nothing, Probes: pp.Probes, Packets: pp.Packets,
		Duration: pp.Duration, Rate: pp.Budget.Rate, PerHost: pp.Budget.PerHost,
		settings: s, scope: scope, plan: pp, po: po}
	for i := range pp.Targets {
		tp := &pp.Targets[i]
		for j := range tp.Probes {
			pl := &tp.Probes[j]
			p.Rows = append(p.Rows, Row{Target: tp.Target.Addr, Asset: tp.Target.AssetLabel(), Probe: pl.Probe,
				Port: pl.Port, Requests: pl.Requests(), Packets: pl.Packets(), IfOpen: pl.IfOpen, Why: pl.Why})
		}
	}
	return p, nil
}

// Settings returns what the plan was built with.
func (p *Plan) Settings() Settings { return p.settings }

// Scope is the plan's scope, as checked before every packet.
func (p *Plan) Scope() string { return p.scope.String() }

// Formats are the formats Write takes.
var Formats = []string{"table", "json", "csv"}

// Write prints the plan as a table that fits 80 columns with its summary,
// or as JSON or CSV for a change record (probe.Plan's writers: one
// definition of the fields).
func (p *Plan) Write(w io.Writer, format string) error {
	switch format {
	case "json":
		return p.plan.WriteJSON(w)
	case "csv":
		return p.plan.WriteCSV(w)
	case "table", "":
		return p.plan.Write(w)
	}
	return fmt.Errorf("--format %q: one of %s", format, strings.Join(Formats, ", "))
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
