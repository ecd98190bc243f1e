package walkdownpane

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/model/safe"
	"otscope/ui/format"
	"otscope/ui/pane/grid"
)

var cols = []grid.Column{
	{Title: "VERDICT", Width: 10},
	{Title: "TAG", Width: 9, Max: 22, Flex: 2},
	{Title: "ORDER NUMBER", Width: 10, Max: 22, Flex: 2},
	{Title: "SERIAL", Width: 7, Max: 18, Flex: 1},
	{Title: "ADDRESS", Width: 7, Max: 15, Flex: 1},
}

func (m *Model) line(it *walkdown.Item, widths []int) string {
	if l, ok := m.lines[it.Key]; ok {
		return l
	}
	v := short[it.Verdict.Value]
	if it.Walked() {
		v = strings.Replace(v, " ", "*", 1)
	}
	order, serial, addr := "", "", ""
	if it.Doc != nil {
		order, serial, addr = it.Doc.OrderNumber, it.Doc.Serial, it.Doc.IP
	}
	if a := it.Asset; a != nil {
		if order == "" {
			order = a.OrderNumber
		}
		if serial == "" {
			serial = a.Serial
		}
		if len(a.IPs) > 0 {
			addr = a.IPs[0].String()
		} else if addr == "" && len(a.MACs) > 0 {
			addr = a.MACs[0].String()
		}
	}
	l := grid.Join(cols, widths, []string{v, safe.Text(it.Label()), safe.Text(order), safe.Text(serial), addr})
	m.lines[it.Key] = l
	return l
}

// View implements pane.Pane.
func (m *Model) View() string {
	st := m.ctx.Styles
	w := m.width
	if m.cfg.Book == nil {
		return st.Muted.Render(format.Truncate(" The walkdown needs a stored session: open one with otscope tui --session NAME.", w))
	}
	if m.ev == nil {
		return st.Muted.Render(format.Truncate(" Matching the documented inventory with the assets…", w))
	}
	lines := []string{format.Truncate(" "+m.progress(), w), ""}
	tw := m.treeWidth()
	rw := w - tw - 1
	widths := grid.Layout(cols, rw-2)
	body := m.bodyHeight()
	// tree window
	if m.tcur < m.toff {
		m.toff = m.tcur
	}
	if m.tcur >= m.toff+body {
		m.toff = m.tcur - body + 1
	}
	tree := make([]string, 0, body)
	for i := m.toff; i < len(m.nodes) && len(tree) < body; i++ {
		n := m.nodes[i]
		count := " " + strconv.Itoa(n.walked) + "/" + strconv.Itoa(len(n.keys))
		name := strings.Repeat(" ", n.depth) + n.name
		t := format.Fit(format.Truncate(name, tw-1-format.Width(count)), tw-1-format.Width(count)) + count
		switch {
		case i == m.tcur && !m.right:
			t = st.Selected.Render("▸" + t)
		case i == m.tcur:
			t = st.Section.Render("▸" + t)
		case n.walked == len(n.keys) && len(n.keys) > 0:
			t = " " + st.Good.Render(t)
		default:
			t = " " + t
		}
		tree = append(tree, t)
	}
	right := []string{st.Header.Render(format.Truncate(" "+grid.Header(cols, widths), rw))}
	start, end := m.list.Window()
	keys := m.list.Rows()
	cur := m.list.Cursor()
	for i := start; i < end; i++ {
		it := &m.ev.Items[m.ev.Find(keys[i])]
		l := m.line(it, widths)
		switch {
		case i == cur && m.right:
			right = append(right, st.Selected.Render(format.Truncate("▸"+l, rw)))
		case it.Verdict.Value == model.VerdictMismatch || it.Verdict.Value == model.VerdictMissing:
			right = append(right, " "+st.Warn.Render(format.Truncate(l, rw-1)))
		default:
			right = append(right, " "+format.Truncate(l, rw-1))
		}
	}
	if len(keys) == 0 {
		right = append(right, st.Muted.Render(" nothing expected or found here"))
	}
	for i := range body {
		l, r := "", ""
		if i < len(tree) {
			l = tree[i]
		}
		if i < len(right) {
			r = right[i]
		}
		lines = append(lines, format.Fit(l, tw)+st.Muted.Render("│")+r)
	}
	if m.form.Active() {
		lines = append(lines, m.form.View(w)...)
	} else {
		lines = append(lines, m.detail(w)...)
	}
	return strings.Join(lines, "\n")
}

// progress is the overall line: walked and the count of each verdict.
func (m *Model) progress() string {
	c := m.ev.Counts()
	root := m.nodes[0]
	pct := 0
	if len(root.keys) > 0 {
		pct = root.walked * 100 / len(root.keys)
	}
	parts := []string{fmt.Sprintf("walked %d/%d (%d%%)", root.walked, len(root.keys), pct)}
	for _, v := range []model.VerdictValue{model.VerdictMatch, model.VerdictCompatible, model.VerdictMismatch, model.VerdictUnseen,
		model.VerdictMissing, model.VerdictNew, model.VerdictUnverified} {
		if c[v] > 0 {
			parts = append(parts, string(v)+" "+strconv.Itoa(c[v]))
		}
	}
	if !m.ev.Documented {
		parts = append(parts, "no documented inventory: otscope inventory import")
	}
	return strings.Join(parts, " · ")
}

// detail is three lines about the selected item: its verdict and why,
// and the fields compared with both values.
func (m *Model) detail(w int) []string {
	st := m.ctx.Styles
	it := m.selected()
	out := []string{st.Muted.Render(strings.Repeat("─", w))}
	if it == nil {
		return append(out, "", "")
	}
	v := it.Verdict
	head := " " + st.Section.Render(safe.Text(it.Label())) + "  " + string(v.Value) + " (" + v.Basis
	if it.Walked() {
		head += ", " + safe.Text(v.By)
	}
	head += ")"
	if it.MatchedBy != "" {
		head += " · matched by " + it.MatchedBy
	}
	if v.Why != "" {
		head += st.Muted.Render(" · " + safe.Text(v.Why))
	}
	out = append(out, format.Truncate(head, w))
	var cmp []string
	compared := slices.Clone(v.Compared)
	slices.SortStableFunc(compared, func(x, y model.Comparison) int {
		if x.Agree == y.Agree {
			return 0
		}
		if !x.Agree {
			return -1
		}
		return 1
	})
	for _, c := range compared {
		mark := "="
		if !c.Agree {
			mark = "≠"
		}
		cmp = append(cmp, strings.ReplaceAll(c.Field, "_", " ")+" "+safe.Text(c.Documented)+mark+safe.Text(c.Observed)+"("+c.Source+")")
	}
	if len(cmp) == 0 && m.notice != "" {
		cmp = []string{m.notice}
	}
	return append(out, " "+st.Muted.Render(format.Truncate(strings.Join(cmp, " · "), w-1)))
}
