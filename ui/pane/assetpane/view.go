package assetpane

import (
	"strconv"
	"strings"

	"otscope/ui/format"
	"otscope/ui/state"
)

// View implements pane.Pane.
func (m *Model) View() string {
	st := m.ctx.Styles
	lines := make([]string, 0, m.height)
	if m.filter.Active() {
		lines = append(lines, m.filter.Line(" "+strconv.Itoa(m.grid.Len())+" of "+strconv.Itoa(len(m.rows))+" assets"))
	}
	lines = append(lines, m.table.Header())
	if m.grid.Len() == 0 {
		lines = append(lines, st.Muted.Render(format.Truncate(" "+m.emptyText(), m.width)))
		if m.filter.Query() == "" && m.ctx.State.Phase() == state.Idle {
			for _, l := range m.idleHint() {
				lines = append(lines, st.Muted.Render(format.Truncate(" "+l, m.width)))
			}
		}
	}
	now, _ := m.ctx.Ref()
	for id, cursor := range m.grid.Visible() {
		r := m.rows[id]
		mark := ""
		if m.marked[id] {
			mark = "●"
		}
		cell := func(i int, c colID) string { return m.cell(r, i, c) }
		lines = append(lines, m.table.Row(&r.cache, cell, shortAge(now, r.a.LastSeen, m.table.LastWidth()), mark, cursor))
	}
	if m.form.Active() {
		for len(lines) < m.height-m.form.Height() {
			lines = append(lines, "")
		}
		lines = append(lines, m.form.View(m.width)...)
	}
	return strings.Join(lines, "\n")
}

// cell returns r's cell in column c, the i-th shown: the role columns are
// fitted to their width.
func (m *Model) cell(r *row, i int, c colID) string {
	switch c {
	case colRole:
		return roleCell(r.roles, r.protos, m.table.Width(i))
	case colRoleProto:
		return roleProtoCell(r.roles, r.protos, m.table.Width(i))
	}
	return r.cells[c]
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
