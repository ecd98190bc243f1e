package ui

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/x/ansi"

	"otscope/ui/format"
	"otscope/ui/pane"
	"otscope/ui/state"
)

// View implements tea.Model.
func (m Model) View() string {
	if m.width == 0 || m.height == 0 {
		return ""
	}
	if m.width < MinWidth || m.height < MinHeight {
		return format.Truncate("terminal too small: "+strconv.Itoa(m.width)+"x"+strconv.Itoa(m.height)+
			", otscope needs "+strconv.Itoa(MinWidth)+"x"+strconv.Itoa(MinHeight), m.width)
	}
	body := ""
	switch {
	case m.pick.open:
		body = m.pickerView()
	case m.showHelp:
		body = m.helpView()
	default:
		body = m.tr.overlay(m.styles, m.panes[m.focus].View(), m.width, m.height-2, m.cfg.Now())
	}
	var b strings.Builder
	b.WriteString(m.tabBar())
	b.WriteByte('\n')
	lines := strings.Split(body, "\n")
	bh := m.height - 2
	for i := range bh {
		if i < len(lines) {
			b.WriteString(format.Truncate(lines[i], m.width))
		}
		b.WriteByte('\n')
	}
	b.WriteString(m.statusBar())
	return b.String()
}

// minSummary is the room the tab bar keeps for the summary before it
// shortens the names of the panes that are not focused.
const minSummary = 26

// tabBar is " 1 Assets [2 Detail] 3 Matrix 4 Capture      summary". When
// the names leave less than minSummary cells for the summary, the panes
// that are not focused show a short name (a ShortTitle method), then only
// its first letter. The form depends on the width alone, never on the
// focused pane or its summary, so the bar keeps its shape from pane to
// pane (the summary is cut instead).
func (m Model) tabBar() string {
	summary := m.panes[m.focus].Summary()
	if s := m.tr.summary(); s != "" {
		summary = s
	}
	if m.showHelp {
		summary = "help · ? or esc closes"
	}
	if m.pick.open {
		summary = "sessions · esc closes"
	}
	notice := m.notice != "" && m.cfg.Now().Before(m.noticeUntil)
	if notice {
		summary = m.notice
	}
	level := 0
	for level < 2 && m.width-m.tabsWidth(level)-2 < minSummary {
		level++
	}
	var b strings.Builder
	plain := 0
	for i, p := range m.panes {
		t := strconv.Itoa(i + 1)
		if Focus(i) == m.focus {
			t += " " + p.Title()
			b.WriteString(m.styles.TabActive.Render("[" + t + "]"))
		} else {
			t += " " + tabTitle(p, level)
			b.WriteString(m.styles.Tab.Render(" " + t + " "))
		}
		plain += format.Width(t) + 2
	}
	tabs := b.String()
	room := m.width - plain - 2
	if room < 8 {
		return format.Truncate(tabs, m.width)
	}
	summary = format.Truncate(summary, room)
	gap := m.width - plain - format.Width(summary) - 1
	style := m.styles.Summary
	if notice {
		style = m.styles.Good
		if m.noticeErr {
			style = m.styles.Error
		}
	}
	return tabs + strings.Repeat(" ", max(1, gap)) + style.Render(summary) + " "
}

// tabTitle is a pane's name on the tab bar at level 0 (full), 1 (short)
// or 2 (first letter).
func tabTitle(p pane.Pane, level int) string {
	switch level {
	case 0:
		return p.Title()
	case 1:
		if st, ok := p.(interface{ ShortTitle() string }); ok {
			return st.ShortTitle()
		}
		return p.Title()
	}
	return string([]rune(p.Title())[:1])
}

// tabsWidth is the widest the tab bar is at level, whichever pane is
// focused (the focused one shows its full name).
func (m Model) tabsWidth(level int) int {
	w, extra := 0, 0
	for i, p := range m.panes {
		short := format.Width(strconv.Itoa(i+1)+" "+tabTitle(p, level)) + 2
		w += short
		extra = max(extra, format.Width(strconv.Itoa(i+1)+" "+p.Title())+2-short)
	}
	return w + extra
}

// statusBar is session, asset count, packets, pps (while a source runs),
// capture state, a note when ages are measured from the last packet, and
// short help. When the help would get fewer than two keys, the left part
// gives up room in steps: no packet count (the Capture pane has it), a
// shorter state, a shorter note, a shorter session name, no asset count.
func (m Model) statusBar() string {
	st := m.state
	packets, pps := st.Totals()
	session := m.cfg.Session
	if session == "" {
		session = "otscope"
	}
	phase, short := phaseText(st), phaseShort(st)
	note, noteShort := "", ""
	if ref, rel := m.ctx().Ref(); rel {
		when := ref.Format("2006-01-02 15:04")
		note, noteShort = "SEEN as of last packet "+when, "SEEN as of "+when
	}
	// Help first, so it is never the binding cut for room; while a pane
	// takes text input "?" and "q" type, so only its own keys are listed.
	p := m.panes[m.focus]
	bindings := p.ShortHelp()
	if tb := m.tr.help(); tb != nil {
		bindings = tb
	} else if !p.Capturing() {
		bindings = append(append([]key.Binding{m.keys.Help}, bindings...), m.keys.Quit)
	}
	if m.pick.open {
		bindings = []key.Binding{pickerOpen, pickerClose, m.keys.Quit}
	}
	need := m.helpWidth(bindings, 2)

	sessW, showAssets, showPkts := 20, true, true
	var left string
	var lw int
	for step := 0; ; step++ {
		switch step {
		case 1:
			showPkts = false
		case 2:
			phase = short
		case 3:
			note = noteShort
		case 4:
			sessW = 12
		case 5:
			showAssets = false
		}
		segs := []string{format.Truncate(session, sessW)}
		if showAssets {
			segs = append(segs, strconv.Itoa(st.NumAssets())+" assets")
		}
		if showPkts {
			segs = append(segs, format.Count(packets)+" pkts")
		}
		if st.Phase() == state.Running {
			segs = append(segs, format.Rate(pps)+" pps")
		}
		left = " " + strings.Join(segs, " │ ") + " │ "
		lw = format.Width(left) + format.Width(phase) + 1
		if note != "" {
			lw += 3 + format.Width(note)
		}
		if step == 5 || m.width-lw-2 >= need {
			break
		}
	}
	out := m.styles.Bar.Render(left) + m.styles.BarAccent.Render(phase)
	if note != "" {
		out += m.styles.Bar.Render(" │ " + note)
	}
	out += m.styles.Bar.Render(" ")
	if lw > m.width {
		return m.styles.Bar.Render(format.Fit(ansi.Strip(out), m.width))
	}
	help := m.shortHelp(bindings, m.width-lw-2)
	gap := m.width - lw - format.Width(help) - 1
	return out + m.styles.Bar.Render(strings.Repeat(" ", max(0, gap))) + help + m.styles.Bar.Render(" ")
}

// ctx is the pane context, for the root's own use of Ref.
func (m Model) ctx() pane.Context {
	return pane.Context{Styles: m.styles, State: m.state, Now: m.cfg.Now, Session: m.cfg.Session}
}

// helpWidth is the width shortHelp needs for the first n enabled bindings.
func (m Model) helpWidth(bindings []key.Binding, n int) int {
	w, k := 0, 0
	for _, kb := range bindings {
		if !kb.Enabled() || k == n {
			continue
		}
		h := kb.Help()
		if k > 0 {
			w += 3
		}
		w += format.Width(h.Key) + 1 + format.Width(h.Desc)
		k++
	}
	return w
}

// shortHelp renders "key desc · key desc" with as many bindings as fit in
// width cells. (help.Model.ShortHelpView can overflow its width when even
// its ellipsis does not fit, so the status bar renders its own.)
func (m Model) shortHelp(bindings []key.Binding, width int) string {
	var b strings.Builder
	used := 0
	for _, kb := range bindings {
		if !kb.Enabled() {
			continue
		}
		h := kb.Help()
		sep := ""
		if used > 0 {
			sep = " · "
		}
		w := format.Width(sep) + format.Width(h.Key) + 1 + format.Width(h.Desc)
		if used+w > width {
			break
		}
		used += w
		b.WriteString(m.styles.Bar.Render(sep) + m.styles.BarKey.Render(h.Key) + m.styles.Bar.Render(" "+h.Desc))
	}
	return b.String()
}

// phaseText words the capture state; symbols repeat the word, never replace it.
func phaseText(st *state.State) string {
	switch st.Phase() {
	case state.Waiting:
		return "○ waiting"
	case state.Running:
		for _, s := range st.Sources() {
			if s.Stats.Live && !s.Stats.Done {
				return "● live"
			}
		}
		return "● running"
	case state.Finished:
		return "✓ capture finished"
	case state.Stopped:
		return "■ stopped"
	case state.Failed:
		return "✗ error"
	case state.Stored:
		return "stored session"
	case state.Idle:
		return "○ no source"
	}
	return st.Phase().String()
}

// phaseShort is phaseText in fewer cells, for a crowded status bar.
func phaseShort(st *state.State) string {
	switch st.Phase() {
	case state.Finished:
		return "✓ finished"
	case state.Stored:
		return "stored"
	}
	return phaseText(st)
}

// helpView lists the global keys and the focused pane's keys.
func (m Model) helpView() string {
	p := m.panes[m.focus]
	title := " otscope"
	if m.cfg.Version != "" {
		title += " " + m.cfg.Version
	}
	lines := []string{m.styles.Section.Render(title + " · keys"), ""}
	global := m.helpColumn("GLOBAL", m.keys.FullHelp())
	local := m.helpColumn(strings.ToUpper(p.Title()), p.FullHelp())
	colW := 30
	if m.width >= 2*colW+2 {
		for i := range max(len(global), len(local)) {
			l, r := "", ""
			if i < len(global) {
				l = global[i]
			}
			if i < len(local) {
				r = local[i]
			}
			lines = append(lines, " "+format.Fit(l, colW)+" "+r)
		}
	} else {
		for _, l := range global {
			lines = append(lines, " "+l)
		}
		lines = append(lines, "")
		for _, l := range local {
			lines = append(lines, " "+l)
		}
	}
	if lg, ok := p.(interface{ Legend() string }); ok {
		lines = append(lines, "")
		for _, l := range format.Wrap(lg.Legend(), m.width-2) {
			lines = append(lines, " "+m.styles.Muted.Render(l))
		}
	}
	return strings.Join(lines, "\n")
}

func (m Model) helpColumn(title string, groups [][]key.Binding) []string {
	out := []string{m.styles.HelpTitle.Render(title)}
	for _, g := range groups {
		for _, b := range g {
			if !b.Enabled() {
				continue
			}
			h := b.Help()
			out = append(out, m.styles.HelpKey.Render(format.Fit(h.Key, 11))+" "+m.styles.HelpDesc.Render(h.Desc))
		}
	}
	return out
}
