// Package scanpane is the active scanner's pane: the user types a scope,
// sees the plan (per target the probes, packets and why) and confirms it;
// while the scan runs the pane shows the live gauges (packets per second
// globally and to the busiest device, connections open, progress) and the
// newest packet-log lines, and the panic key stops all transmission at
// once. Nothing is sent before the user confirms a plan on screen.
//
// The pane holds no protocol logic: it talks to a Control, in otscope the
// scan job's Controller (scan/job) that ui/cli wires to the session, the
// same job `otscope scan` runs.
package scanpane

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/model/safe"
	"otscope/scan/job"
	"otscope/ui/format"
	"otscope/ui/pane"
	"otscope/ui/pane/form"
	"otscope/ui/state"
)

// Request is what the user asked to scan; Status the scan's live state.
type (
	Request = job.Request
	Status  = job.Status
)

// Control is the scanner as the pane drives it. Every method returns at
// once; Stop must halt all transmission before it returns.
type Control interface {
	// Disabled says why scanning is not possible here ("" when it is): the
	// demo plant's devices are not on the user's network.
	Disabled() string
	// Plan builds the plan for r; nothing is sent.
	Plan(r Request) (*job.Plan, error)
	// Start sends the last plan built.
	Start() error
	Pause()
	Resume()
	// Stop is the panic key: no packet leaves after it returns (the
	// connections still open are aborted).
	Stop()
	Status() Status
}

// KeyMap is the keys of the scan pane.
type KeyMap struct {
	Scope, Send, Pause, Stop, Up, Down key.Binding
}

// DefaultKeyMap returns the default scan pane keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Scope: key.NewBinding(key.WithKeys("n", "enter"), key.WithHelp("n", "new scan (scope)")),
		Send:  key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "send the plan")),
		Pause: key.NewBinding(key.WithKeys("p", " "), key.WithHelp("p", "pause/resume")),
		Stop:  key.NewBinding(key.WithKeys("x", "esc"), key.WithHelp("x", "STOP all packets now")),
		Up:    key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "scroll")),
		Down:  key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "scroll")),
	}
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	switch {
	case m.ctl == nil || m.ctl.Disabled() != "":
		return nil
	case m.running():
		return []key.Binding{m.keys.Stop, m.keys.Pause}
	case m.plan != nil:
		return []key.Binding{m.keys.Send, m.keys.Scope}
	}
	return []key.Binding{m.keys.Scope}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{{m.keys.Scope, m.keys.Send, m.keys.Pause, m.keys.Stop}, {m.keys.Up, m.keys.Down}}
}

// Model is the scan pane.
type Model struct {
	ctx    pane.Context
	keys   KeyMap
	ctl    Control
	form   form.Model
	req    Request
	plan   *job.Plan
	status Status
	err    string
	scroll int
	pane.Focusable
	width  int
	height int
}

// New returns the scan pane; ctl nil means no scanner is wired (a stored
// session opened read-only).
func New(ctx pane.Context, ctl Control) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap(), ctl: ctl, form: form.New(ctx.Styles),
		req: Request{Targets: "assets", Probes: "all", FillGaps: true, Rate: 50, PerHost: 5}}
	m.SetSize(80, 20)
	return m
}

// Title implements pane.Pane.
func (m *Model) Title() string { return "Scan" }

// Summary implements pane.Pane.
func (m *Model) Summary() string {
	s := m.status
	switch {
	case m.ctl == nil || m.ctl.Disabled() != "":
		return "off"
	case s.Running && s.Paused:
		return "paused"
	case s.Running:
		return fmt.Sprintf("%d/%d · %d pps", s.TargetsDone, s.TargetsTotal, s.PPS)
	case s.Stopped:
		return "stopped"
	case m.plan != nil && s.TargetsTotal == 0:
		return "plan ready"
	case s.TargetsTotal > 0:
		return "done"
	}
	return "idle"
}

// Capturing implements pane.Pane: the scope form takes every key.
func (m *Model) Capturing() bool { return m.form.Active() }

// SetSize implements pane.Pane.
func (m *Model) SetSize(width, height int) { m.width, m.height = max(1, width), max(1, height) }

// DataChanged implements pane.Pane.
func (m *Model) DataChanged(state.Change) {}

func (m *Model) running() bool { return m.status.Running }

// PlanMsg carries a plan built off the UI goroutine back to the pane.
type PlanMsg struct {
	plan *job.Plan
	err  error
}

// Update implements pane.Pane.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pane.TickMsg:
		if m.ctl != nil {
			m.status = m.ctl.Status()
		}
	case PlanMsg:
		if msg.err != nil {
			m.err, m.plan = msg.err.Error(), nil
			return nil
		}
		m.err, m.plan, m.scroll = "", msg.plan, 0
		m.status = Status{}
	case tea.KeyMsg:
		if !m.Focused() {
			return nil
		}
		if m.form.Active() {
			return m.form.Update(msg)
		}
		return m.key(msg)
	}
	return nil
}

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	k := m.keys
	if m.ctl == nil || m.ctl.Disabled() != "" {
		return nil
	}
	switch {
	case key.Matches(msg, k.Stop):
		if m.running() {
			m.ctl.Stop()
			m.status = m.ctl.Status()
		}
	case key.Matches(msg, k.Pause):
		if m.running() {
			if m.status.Paused {
				m.ctl.Resume()
			} else {
				m.ctl.Pause()
			}
			m.status = m.ctl.Status()
		}
	case key.Matches(msg, k.Send):
		if m.plan != nil && !m.running() && m.plan.Packets > 0 {
			if err := m.ctl.Start(); err != nil {
				m.err = err.Error()
				return nil
			}
			m.plan = nil
			m.status = m.ctl.Status()
		}
	case key.Matches(msg, k.Scope):
		if !m.running() {
			m.openForm()
		}
	case key.Matches(msg, k.Up):
		m.scroll = max(0, m.scroll-1)
	case key.Matches(msg, k.Down):
		m.scroll++
	}
	return nil
}

// openForm asks for the scope; its submit builds the plan off the UI
// goroutine (the plan reads the session's assets).
func (m *Model) openForm() {
	gaps := "yes"
	if !m.req.FillGaps {
		gaps = "no"
	}
	m.form.Open("New scan: read-only identification questions, nothing sent before you confirm",
		[]string{"targets: addresses, ranges (10.0.0.5-20), CIDRs, or \"assets\" (this session's)"},
		[]form.Field{
			{Label: "Targets", Value: m.req.Targets, Hint: "assets"},
			{Label: "Fill gaps", Value: gaps, Hint: "yes: ask only what passive capture has not told"},
			{Label: "Probes", Value: m.req.Probes, Hint: "all"},
			{Label: "Packets/s", Value: caps(m.req), Hint: "50/5: at most 50 a second, 5 to one device"},
		},
		func(v []string) (tea.Cmd, error) {
			r := Request{Targets: strings.TrimSpace(v[0]), Probes: strings.TrimSpace(v[2])}
			if c := strings.TrimSpace(v[3]); c != "" {
				rate, per, ok := strings.Cut(c, "/")
				var err1, err2 error
				r.Rate, err1 = strconv.Atoi(strings.TrimSpace(rate))
				r.PerHost, err2 = strconv.Atoi(strings.TrimSpace(per))
				if !ok || err1 != nil || err2 != nil || r.Rate < 1 || r.PerHost < 1 || r.PerHost > r.Rate {
					return nil, fmt.Errorf("packets/s: global/per device, e.g. 20/2 (per device at most the global cap)")
				}
			}
			switch strings.ToLower(strings.TrimSpace(v[1])) {
			case "y", "yes", "":
				r.FillGaps = true
			case "n", "no":
			default:
				return nil, fmt.Errorf("fill gaps: yes or no")
			}
			if r.Targets == "" {
				return nil, fmt.Errorf("no targets")
			}
			if r.Probes == "" {
				r.Probes = "all"
			}
			m.req = r
			ctl := m.ctl
			return func() tea.Msg {
				p, err := ctl.Plan(r)
				return PlanMsg{plan: p, err: err}
			}, nil
		})
}

// View implements pane.Pane.
func (m *Model) View() string {
	st := m.ctx.Styles
	w := m.width
	var lines []string
	add := func(s string) { lines = append(lines, s) }
	// line and window are the pane's two boundaries for text a device
	// chose (answers, banners, error reasons): both pass it through
	// safe.Text before it is styled.
	line := func(s string) string { return format.Truncate(safe.Text(s), w) }
	if m.ctl == nil {
		add(st.Muted.Render(line(" Active scanning needs a live session: otscope ui --session S")))
		return m.box(lines)
	}
	if why := m.ctl.Disabled(); why != "" {
		add(" " + st.Section.Render("Active scanner"))
		for _, l := range format.Wrap(why, w-2) {
			add(st.Muted.Render(" " + l))
		}
		return m.box(lines)
	}
	s := m.status
	caps := fmt.Sprintf("cap %d pps, %d per device · every packet logged", max(s.Rate, 0), max(s.PerHost, 0))
	if s.Rate == 0 {
		caps = "hard packet caps · every packet logged"
	}
	add(" " + st.Section.Render("Active scanner") + st.Muted.Render(line("  "+caps)))
	var body []string
	switch {
	case s.Running:
		state := st.Good.Render("running")
		if s.Paused {
			state = st.Warn.Render("paused")
		}
		add(" " + state + line(fmt.Sprintf("  %d/%d targets  %s", s.TargetsDone, s.TargetsTotal, outcomes(s))))
		add(line(fmt.Sprintf(" %s  %s  %d connections open",
			gauge("global", s.PPS, s.Rate), gauge("busiest device", s.MaxHostPPS, s.PerHost), s.Conns)))
		add(" " + st.Error.Render("x STOP all packets now") + st.Muted.Render("  ·  p pause/resume"))
		body = s.Recent
	case m.plan != nil:
		add(" " + st.Warn.Render(line(fmt.Sprintf("Plan: at most %d packets to %s. Nothing sent yet.", m.plan.Packets, plural(m.plan.Targets, "target")))))
		if m.plan.Packets > 0 {
			add(" " + st.Prompt.Render("y") + " send  ·  " + st.Prompt.Render("n") + " change the scope")
		} else {
			add(st.Muted.Render(" nothing to ask: n to change the scope"))
		}
		body = planLines(m.plan, w)
	default:
		if s.Stopped {
			add(" " + st.Error.Render("stopped") + line(fmt.Sprintf(": %d/%d targets, %d requests, %d answers; nothing more was sent", s.TargetsDone, s.TargetsTotal, s.Requests, s.Answers)))
		} else if s.TargetsTotal > 0 {
			add(" " + st.Good.Render("done") + line(fmt.Sprintf(": %d targets, %s", s.TargetsTotal, outcomes(s))))
		}
		if s.Err != "" {
			add(" " + st.Error.Render(line("✗ "+s.Err)))
		}
		add(st.Muted.Render(line(" n: new scan. You see the plan (probes, packets, why) before anything is sent.")))
		body = s.Recent
	}
	if m.err != "" {
		add(" " + st.Error.Render(line("✗ "+m.err)))
	}
	if m.form.Active() {
		room := m.height - len(lines) - m.form.Height()
		lines = append(lines, m.window(body, room)...)
		lines = append(lines, m.form.View(w)...)
		return m.box(lines)
	}
	lines = append(lines, m.window(body, m.height-len(lines))...)
	return m.box(lines)
}

// planLines renders the plan as a table in width columns (the WHY column
// takes what is left) with its summary.
func planLines(p *job.Plan, width int) []string {
	var out []string
	why := max(10, width-55)
	if len(p.Rows) > 0 {
		out = append(out, fmt.Sprintf("%-15s %-14s %-7s %5s %3s %4s %s", "TARGET", "ASSET", "PROBE", "PORT", "REQ", "PKTS", "WHY"))
	}
	var last netip.Addr
	for _, r := range p.Rows {
		addr, asset := "", ""
		if r.Target != last {
			addr, asset, last = r.Target.String(), r.Asset, r.Target
		}
		port := "-"
		if r.Port != 0 {
			port = strconv.Itoa(int(r.Port))
		}
		reason := r.Why
		if r.IfOpen {
			reason = "if open; " + reason
		}
		out = append(out, fmt.Sprintf("%-15s %-14s %-7s %5s %3d %4d %s", format.Truncate(addr, 15), format.Truncate(safe.Text(asset), 14),
			format.Truncate(r.Probe, 7), port, r.Requests, r.Packets, format.Truncate(safe.Text(reason), why)))
	}
	if p.Nothing > 0 {
		out = append(out, plural(p.Nothing, "target")+": nothing to ask")
	}
	out = append(out, fmt.Sprintf("%s, %s: at most %d packets", plural(p.Targets, "target"), plural(p.Probes, "probe"), p.Packets),
		fmt.Sprintf("sending them takes up to %s at %d pps, %d per host (answers add to it)",
			max(p.Duration, time.Second).Round(time.Second), p.Rate, p.PerHost))
	return out
}

// window returns the body lines that fit in room, from the scroll offset
// (the newest log lines stay in view while a scan runs).
func (m *Model) window(body []string, room int) []string {
	if room <= 0 || len(body) == 0 {
		return nil
	}
	start := 0
	if m.status.Running || m.plan == nil {
		start = max(0, len(body)-room)
	} else {
		m.scroll = min(m.scroll, max(0, len(body)-room))
		start = m.scroll
	}
	end := min(len(body), start+room)
	out := make([]string, 0, end-start)
	for _, l := range body[start:end] {
		out = append(out, format.Truncate(" "+safe.Text(l), m.width))
	}
	return out
}

// box pads lines to the pane's height.
func (m *Model) box(lines []string) string {
	if len(lines) > m.height {
		lines = lines[:m.height]
	}
	for len(lines) < m.height {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// gauge renders "global 12/50 pps".
func gauge(name string, v, limit int) string {
	if limit <= 0 {
		return name + " " + strconv.Itoa(v) + " pps"
	}
	return fmt.Sprintf("%s %d/%d pps", name, v, limit)
}

// plural returns "1 target" or "3 targets".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

// caps shows a request's caps as the form's "rate/per-device" field.
func caps(r Request) string {
	if r.Rate <= 0 || r.PerHost <= 0 {
		return ""
	}
	return strconv.Itoa(r.Rate) + "/" + strconv.Itoa(r.PerHost)
}

// outcomes says what the requests found: answers, closed ports and
// silence are findings; only the rest are errors.
func outcomes(s Status) string {
	return fmt.Sprintf("%d asked: %d answered, %d closed, %d silent, %d errors", s.Requests, s.Answers, s.Closed, s.NoAnswer, s.Errors)
}
