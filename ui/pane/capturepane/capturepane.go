// Package capturepane is the capture status of the otscope TUI: for each
// packet source its kind (live, file, demo), state, packets and bytes,
// packets/s now with a sparkline of the last minute, drops, truncated and
// undecodable frames, decode errors, flows and first/last packet times,
// plus a totals line.
//
// Rates come from state.State, which samples the counters once per tick.
// The text is rebuilt on each tick, on new counters and on resize, and shown
// through a viewport so that many sources still scroll.
package capturepane

import (
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/model"
	"otscope/model/safe"
	"otscope/ui/format"
	"otscope/ui/pane"
	"otscope/ui/pane/grid"
	"otscope/ui/state"
)

// SparkSeconds is the longest history the sparkline shows.
const SparkSeconds = 60

// KeyMap is the keys of the capture pane.
type KeyMap struct{ Scroll grid.KeyMap }

// DefaultKeyMap returns the default capture pane keys.
func DefaultKeyMap() KeyMap { return KeyMap{Scroll: grid.DefaultKeyMap()} }

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding { return []key.Binding{m.keys.Scroll.Down} }

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding { return [][]key.Binding{m.keys.Scroll.Bindings()} }

// Model is the capture status pane.
type Model struct {
	ctx     pane.Context
	keys    KeyMap
	vp      viewport.Model
	sources []string
	pane.Focusable
	width  int
	height int
}

// New returns the capture pane. sources names what feeds the session
// (from the command line); they are listed as waiting until they report.
func New(ctx pane.Context, sources []string) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap(), vp: grid.NewViewport(), sources: slices.Clone(sources)}
	m.SetSize(80, 20)
	return m
}

// Title implements pane.Pane.
func (m *Model) Title() string { return "Capture" }

// ShortTitle is the tab name when the tab bar is crowded.
func (m *Model) ShortTitle() string { return "Capt" }

// Summary implements pane.Pane.
func (m *Model) Summary() string {
	st := m.ctx.State
	if st.Phase() == state.Idle {
		return "no source"
	}
	n := max(len(st.Sources()), len(m.sources))
	s := strconv.Itoa(n) + " source"
	if n != 1 {
		s += "s"
	}
	return s + " · " + st.Phase().String()
}

// Capturing implements pane.Pane; the capture pane takes no text input.
func (m *Model) Capturing() bool { return false }

// SetSize implements pane.Pane.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(1, width), max(1, height)
	m.vp.Width, m.vp.Height = m.width, m.height
	m.rebuild()
}

// DataChanged implements pane.Pane.
func (m *Model) DataChanged(c state.Change) {
	if c.Stats {
		m.rebuild()
	}
}

// Update implements pane.Pane.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pane.TickMsg:
		m.rebuild()
	case tea.KeyMsg:
		if !m.Focused() {
			return nil
		}
		m.keys.Scroll.Scroll(&m.vp, msg)
	}
	return nil
}

// View implements pane.Pane.
func (m *Model) View() string { return m.vp.View() }

const labelWidth = 9

func (m *Model) rebuild() {
	off := m.vp.YOffset
	var lines []string
	add := func(s string) { lines = append(lines, format.Truncate(s, m.width)) }
	styles, now, st := m.ctx.Styles, m.ctx.Now(), m.ctx.State
	label := func(s string) string { return " " + styles.Label.Render(format.Fit(s, labelWidth)) + " " }

	srcs := st.Sources()
	var tot model.CaptureStats
	var pps float64
	for _, s := range srcs {
		tot.Packets += s.Stats.Packets
		tot.Bytes += s.Stats.Bytes
		tot.KernelDrops += s.Stats.KernelDrops
		tot.QueueDrops += s.Stats.QueueDrops
		tot.DecodeErrors += s.Stats.DecodeErrors
		tot.Undecodable += s.Stats.Undecodable
		pps += s.PPS()
	}
	phase := st.Phase().String()
	if err := st.Err(); err != "" {
		phase = "error: " + safe.Text(err)
	}
	rate := ""
	if st.Phase() == state.Running {
		rate = format.Rate(pps) + " pps · "
	}
	add(" " + styles.Section.Render("TOTAL") + "  " + phase + " · " + format.Thousands(tot.Packets) + " pkts · " +
		format.Bytes(tot.Bytes) + " · " + rate + "drops " +
		format.Count(tot.KernelDrops+tot.QueueDrops) + " · errors " + format.Count(tot.DecodeErrors+tot.Undecodable))

	for _, name := range m.sources {
		if !slices.ContainsFunc(srcs, func(s *state.Source) bool { return s.Stats.Source == name }) {
			add("")
			add(" " + styles.Section.Render(safe.Text(name)) + " · " + styles.Muted.Render("waiting for first packets"))
		}
	}
	if len(srcs) == 0 && len(m.sources) == 0 {
		add("")
		if st.NumAssets() == 0 {
			add(styles.Muted.Render(" No capture attached and no data in this session (see Assets, 1)."))
		} else {
			add(styles.Muted.Render(" No capture attached: this session was reopened from storage."))
		}
	}
	_, rel := m.ctx.Ref()
	for _, src := range srcs {
		s := src.Stats
		add("")
		add(" " + styles.Section.Render(safe.Text(s.Source)) + " · " + kind(s) + " · " + m.stateText(s)) // a file name is anyone's text
		span := s.LastPacket.Sub(s.FirstPacket)
		// A finished source that was never seen reading (a reopened
		// session) has no rate history: show the traffic's own rate.
		idle := s.Done && peak(src.History) == 0
		if idle {
			avg := ""
			if span > 0 {
				avg = " · avg " + format.Rate(float64(s.Packets)/span.Seconds()) + " pps"
			}
			add(label("packets") + format.Thousands(s.Packets) + " · " + format.Bytes(s.Bytes) + avg)
		} else {
			add(label("packets") + format.Thousands(s.Packets) + " · " + format.Bytes(s.Bytes) +
				" · now " + format.Rate(src.PPS()) + " pps · peak " + format.Rate(peak(src.History)) + " pps")
		}
		sw := min(SparkSeconds, m.width-labelWidth-2-6)
		if sw >= 4 && !idle {
			hist := src.History
			n := min(len(hist), sw)
			add(label("pps/"+strconv.Itoa(sw)+"s") + styles.Spark.Render(format.Sparkline(hist, sw)) +
				styles.Muted.Render(" "+strconv.Itoa(n)+"s"))
		}
		add(label("drops") + warnIf(m, "kernel", s.KernelDrops) + " · " + warnIf(m, "queue", s.QueueDrops))
		add(label("frames") + warnIf(m, "truncated", s.Truncated) + " · " + warnIf(m, "undecodable", s.Undecodable) +
			" · " + warnIf(m, "decode errors", s.DecodeErrors))
		active := "active "
		if s.Done {
			active = "open at end "
		}
		add(label("flows") + active + format.Thousands(s.ActiveFlows) + " · evicted " + format.Thousands(s.EvictedFlows))
		when := ""
		switch {
		case s.FirstPacket.IsZero():
		case rel || s.Done:
			when = " · spans " + format.Ago(s.LastPacket, s.FirstPacket)
		default:
			when = " (" + format.Ago(now, s.LastPacket) + " ago)"
		}
		add(label("time") + "first " + format.Clock(now, s.FirstPacket) + " · last " + format.Clock(now, s.LastPacket) + when)
	}
	m.vp.SetContent(strings.Join(lines, "\n"))
	m.vp.SetYOffset(off)
}

func kind(s model.CaptureStats) string {
	switch {
	case s.Live:
		return "live"
	case strings.HasPrefix(s.Source, "demo"):
		return "demo"
	default:
		return "file"
	}
}

func (m *Model) stateText(s model.CaptureStats) string {
	styles := m.ctx.Styles
	switch {
	case s.Err != "":
		return styles.Error.Render("✗ error: " + safe.Text(s.Err))
	case s.Done:
		return "✓ finished"
	case m.ctx.State.Closed():
		return styles.Warn.Render("■ stopped")
	default:
		return styles.Good.Render("● running")
	}
}

// warnIf renders "name N", marked with ⚠ when N is not zero.
func warnIf(m *Model, name string, n uint64) string {
	if n == 0 {
		return name + " 0"
	}
	return m.ctx.Styles.Warn.Render("⚠ " + name + " " + format.Thousands(n))
}

func peak(h []float64) float64 {
	if len(h) > SparkSeconds {
		h = h[len(h)-SparkSeconds:]
	}
	p := 0.0
	for _, v := range h {
		p = max(p, v)
	}
	return p
}
