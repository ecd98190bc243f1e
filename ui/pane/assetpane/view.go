package assetpane

import (
	"strconv"
	"strings"

	"otscope/ui/format"
	"otscope/ui/pane/grid"
	"otscope/ui/state"
)

// View implements pane.Pane.
func (m *Model) View() string {
	st := m.ctx.Styles
	lines := make([]string, 0, m.height)
	if m.filter.Active() {
		lines = append(lines, m.filter.Line(" "+strconv.Itoa(m.grid.Len())+" of "+strconv.Itoa(len(m.rows))+" assets"))
	}
	lines = append(lines, m.header)
	start, end := m.grid.Window()
	if start == end {
		lines = append(lines, st.Muted.Render(format.Truncate(" "+m.emptyText(), m.width)))
		if m.filter.Query() == "" && m.ctx.State.Phase() == state.Idle {
			for _, l := range m.idleHint() {
				lines = append(lines, st.Muted.Render(format.Truncate(" "+l, m.width)))
			}
		}
	}
	now, _ := m.ctx.Ref()
	keys := m.grid.Rows()
	last := len(m.defs) - 1
	cursor := m.grid.Cursor()
	for i := start; i < end; i++ {
		r := m.rows[keys[i]]
		if r.gen != m.gen {
			r.line = grid.Join(m.defs[:last], m.widths[:last], m.pick(r, last))
			r.gen = m.gen
		}
		seen := format.FitRight(shortAge(now, r.a.LastSeen, m.widths[last]), m.widths[last])
		mark := " "
		if m.marked[r.a.ID] {
			mark = "●"
		}
		if i == cursor {
			if mark == " " {
				mark = "▸"
			}
			lines = append(lines, st.Selected.Render(mark+r.line+" "+seen))
		} else {
			lines = append(lines, mark+r.line+" "+seen)
		}
	}
	if m.form.Active() {
		for len(lines) < m.height-m.form.Height() {
			lines = append(lines, "")
		}
		lines = append(lines, m.form.View(m.width)...)
	}
	return strings.Join(lines, "\n")
}

// pick returns the cells of the first n columns, the role columns fitted
// to their width.
func (m *Model) pick(r *row, n int) []string {
	out := make([]string, n)
	for i, c := range m.cols[:n] {
		switch c {
		case colRole:
			out[i] = roleCell(r.roles, r.protos, m.widths[i])
		case colRoleProto:
			out[i] = roleProtoCell(r.roles, r.protos, m.widths[i])
		default:
			out[i] = r.cells[c]
		}
	}
	return out
}

func (m *Model) emptyText() string {
	if q := m.filter.Query(); q != "" {
		return "No asset matches “" + q + "”. Esc clears the filter."
	}
	switch m.ctx.State.Phase() {
	case state.Waiting:
		return "No assets yet: waiting for traffic…"
	case state.Idle:
		return "No data yet: nothing feeds this session."
	}
	return "No assets in this session."
}

// idleHint says how to fill an empty session that no source feeds.
func (m *Model) idleHint() []string {
	s := m.ctx.Session
	if s == "" || strings.ContainsAny(s, " \t\"'") {
		s = "S"
	}
	cmds := [][2]string{
		{"otscope read FILE --session " + s, "a pcap/pcapng file"},
		{"otscope capture -i IFACE --session " + s, "live, needs CAP_NET_RAW"},
		{"otscope ui --session " + s + " FILE…", "read files with this view open"},
		{"otscope demo", "a simulated plant, in a new session"},
	}
	w := 0
	for _, c := range cmds {
		w = max(w, format.Width(c[0]))
	}
	out := []string{"Quit (q) and fill it with one of:"}
	for _, c := range cmds {
		out = append(out, "  "+format.Fit(c[0], w)+"  "+c[1])
	}
	return out
}
