// Package detailpane is the asset detail of the otscope TUI: everything
// known about one asset in a scrollable view, what it is first:
//
//   - the header: addresses, VLANs, names, protocols, traffic, first and
//     last seen; a warning line when a peer used program functions on the
//     asset or the asset on a peer;
//   - IDENTITY: vendor, product, order number, firmware, hardware, serial,
//     device type, operating mode, station name and protocol ids, each with
//     the provenance of the fact that gave it (protocol · origin #frame ·
//     time), a field whose facts disagree marked "⚠ N values" with the other
//     values under it;
//   - ROLES with the reasons the role facts give;
//   - MODULES, the rack (rack/slot, product, order number, firmware, serial)
//     of a modular device;
//   - INDUSTRIAL PEERS: the assets it talks to in industrial protocols (as
//     model's protocol registry classes them), grouped by peer and
//     direction (→ it polls, ← polled by), with the
//     function categories the client used ("program ⚠" first);
//   - every fact grouped by field with its provenance; the services the
//     asset answers on; all its peers from the conversations.
//
// The text is built when the asset, its conversations, an industrial peer,
// the width or the clock second change, and handed to a viewport that
// renders only the visible lines.
package detailpane

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/viewport"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/lifecycle"
	"otscope/model"
	"otscope/model/safe"
	"otscope/ui/format"
	"otscope/ui/pane"
	"otscope/ui/pane/form"
	"otscope/ui/pane/grid"
	"otscope/ui/state"
)

// MaxPeers caps the peer rows listed; the matrix pane shows them all.
const MaxPeers = 200

// KeyMap is the keys of the detail pane.
type KeyMap struct {
	// Scroll moves the view (arrows, pgup/pgdn, g/G).
	Scroll grid.KeyMap
	// Back returns to the pane the detail was opened from.
	Back key.Binding
	// Verify and Decommission record manual state transitions (again:
	// withdraw the verification, recommission).
	Verify, Decommission key.Binding
}

// DefaultKeyMap returns the default detail keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Scroll:       grid.DefaultKeyMap(),
		Back:         key.NewBinding(key.WithKeys("esc", "backspace"), key.WithHelp("esc", "back")),
		Verify:       key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "verify (walkdown)")),
		Decommission: key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "decommission")),
	}
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.form.Active() {
		return m.form.Help()
	}
	return []key.Binding{m.keys.Back, m.keys.Scroll.PageDown, m.keys.Verify, m.keys.Decommission}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{m.keys.Scroll.Bindings(), {m.keys.Back, m.keys.Verify, m.keys.Decommission}}
}

// Model is the asset detail pane.
type Model struct {
	ctx     pane.Context
	keys    KeyMap
	vp      viewport.Model
	id      model.AssetID
	asset   *model.Asset // last known copy, kept when the asset is removed
	removed bool
	// peerIDs are the clients among the industrial peers shown: their
	// function facts feed the view, so a change to them rebuilds it.
	peerIDs map[model.AssetID]struct{}
	// form confirms a manual state transition and takes its reason.
	form form.Model
	pane.Focusable
	width  int
	height int
}

// New returns a detail pane showing no asset.
func New(ctx pane.Context) *Model {
	m := &Model{ctx: ctx, keys: DefaultKeyMap(), vp: grid.NewViewport(), form: form.New(ctx.Styles)}
	m.SetSize(80, 20)
	return m
}

// Title implements pane.Pane.
func (m *Model) Title() string { return "Detail" }

// Summary implements pane.Pane.
func (m *Model) Summary() string {
	if m.asset == nil {
		return "no asset selected"
	}
	s := m.asset.Label()
	if m.removed {
		s += " (removed)"
	}
	// where the view is when the asset does not fit: more below, the end,
	// or how far down
	if m.vp.TotalLineCount() > m.vp.Height {
		switch {
		case m.vp.AtTop():
			s += " · more ↓"
		case m.vp.AtBottom():
			s += " · end"
		default:
			s += " · " + strconv.Itoa(int(m.vp.ScrollPercent()*100)) + "% ↓"
		}
	}
	return s
}

// Capturing implements pane.Pane: true while the transition form is open.
func (m *Model) Capturing() bool { return m.form.Active() }

// SetSize implements pane.Pane.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(1, width), max(1, height)
	m.vp.Width, m.vp.Height = m.width, max(1, m.height-m.form.Height())
	m.rebuild()
}

// Show switches the pane to the asset id and scrolls to the top.
func (m *Model) Show(id model.AssetID) {
	m.id, m.asset, m.removed = id, nil, false
	m.load()
	m.vp.GotoTop()
}

// Shown returns the ID of the asset shown ("" when none).
func (m *Model) Shown() model.AssetID { return m.id }

func (m *Model) load() {
	if a, ok := m.ctx.State.Asset(m.id); ok {
		m.asset, m.removed = a, false
	} else if m.asset != nil {
		m.removed = true
	}
	m.rebuild()
}

// DataChanged implements pane.Pane: it rebuilds when the asset or one of
// its conversations changed.
func (m *Model) DataChanged(c state.Change) {
	if m.id == "" {
		return
	}
	if c.Analysis || c.AssetChanged(m.id) {
		m.load()
		return
	}
	for id := range c.Assets {
		if _, ok := m.peerIDs[id]; ok {
			m.rebuild()
			return
		}
	}
	for k := range c.Conversations {
		if cv, ok := m.ctx.State.Conversation(k); ok && (cv.Client == m.id || cv.Server == m.id) {
			m.rebuild()
			return
		}
	}
}

// Update implements pane.Pane.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case pane.TickMsg:
		if m.Focused() && m.asset != nil {
			m.rebuild() // ages ("3s ago") move with the clock
		}
	case tea.KeyMsg:
		if !m.Focused() {
			return nil
		}
		if m.form.Active() {
			cmd := m.form.Update(msg)
			m.vp.Height = max(1, m.height-m.form.Height())
			return cmd
		}
		k := m.keys
		switch {
		case key.Matches(msg, k.Back):
			return pane.Back()
		case key.Matches(msg, k.Verify), key.Matches(msg, k.Decommission):
			return m.transition(key.Matches(msg, k.Verify))
		default:
			k.Scroll.Scroll(&m.vp, msg)
		}
	}
	return nil
}

// Legend explains the detail's markers in the help overlay.
const Legend = "IDENTITY: what the device said about itself, each value with the fact that gave it " +
	"(protocol · capture #frame · time); ⚠ N values: its facts disagree (all in FACTS). " +
	"INDUSTRIAL PEERS: → it polls, ← polled by; FUNCTIONS: what the client did in that protocol " +
	"while they talked; program ⚠: it sent or fetched logic."

// Legend implements the help overlay's optional legend.
func (m *Model) Legend() string { return Legend }

// View implements pane.Pane.
func (m *Model) View() string {
	if !m.form.Active() {
		return m.vp.View()
	}
	return m.vp.View() + "\n" + strings.Join(m.form.View(m.width), "\n")
}

// transition opens the form for v (verify, or withdraw a verification) or
// x (decommission, or recommission) on the asset shown.
func (m *Model) transition(verify bool) tea.Cmd {
	if m.asset == nil || m.removed {
		return nil
	}
	cur := lifecycle.Untracked
	if an := m.ctx.State.Analysis(); an != nil {
		cur = an.State(m.asset.ID)
	}
	cmd := pane.OpenTransition(&m.form, m.asset, cur, pane.Toggle(cur, verify))
	m.vp.Height = max(1, m.height-m.form.Height())
	return cmd
}

// rebuild renders the asset into the viewport, keeping the scroll offset.
func (m *Model) rebuild() {
	off := m.vp.YOffset
	b := builder{st: m.ctx, width: m.width, peerIDs: map[model.AssetID]struct{}{}}
	if m.asset == nil {
		b.muted(" No asset selected. In Assets (1) or Matrix (3), pick a row and press Enter.")
	} else {
		b.asset(m.asset, m.removed)
	}
	m.peerIDs = b.peerIDs
	m.vp.SetContent(strings.Join(b.lines, "\n"))
	m.vp.SetYOffset(off)
}

// builder accumulates the detail lines, each cut to width.
type builder struct {
	st    pane.Context
	width int
	lines []string
	// peerIDs collects the assets whose facts the view used (see Model.peerIDs).
	peerIDs map[model.AssetID]struct{}
}

func (b *builder) add(s string) { b.lines = append(b.lines, format.Truncate(s, b.width)) }

func (b *builder) muted(s string) { b.add(b.st.Styles.Muted.Render(format.Truncate(s, b.width))) }

// header lays cols out in the width of the pane, adds their header line
// and returns the widths.
func (b *builder) header(cols []grid.Column) []int {
	ws := grid.Layout(cols, b.width-1)
	b.add(b.st.Styles.Header.Render(" " + grid.Header(cols, ws)))
	return ws
}

// morePeers ends a list of total peers cut at MaxPeers.
func (b *builder) morePeers(total int) {
	b.muted(" … " + strconv.Itoa(total-MaxPeers) + " more: see Matrix (3) filtered by this asset")
}

func (b *builder) section(title string) {
	b.lines = append(b.lines, "", " "+b.st.Styles.Section.Render(format.Truncate(title, b.width-1)))
}

// item is one "label value" pair of the detail header.
type item struct{ label, value string }

const labelWidth = 9

// items writes the header pairs, two to a line where both fit in half the
// width, else one to a line with long values wrapped under the value column.
func (b *builder) items(items []item) {
	st := b.st.Styles
	cell := func(it item) string {
		return " " + st.Label.Render(format.Fit(it.label, labelWidth)) + " " + it.value
	}
	cellWidth := func(it item) int { return 2 + labelWidth + format.Width(it.value) }
	half := (b.width - 1) / 2
	for i := range items {
		items[i].value = safe.Text(items[i].value) // names, vendors, products: a device's text
	}
	for i := 0; i < len(items); i++ {
		it := items[i]
		if it.value == "" {
			continue
		}
		if i+1 < len(items) && items[i+1].value != "" && cellWidth(it) <= half && cellWidth(items[i+1]) <= half {
			b.add(cell(it) + strings.Repeat(" ", half-cellWidth(it)) + " " + cell(items[i+1]))
			i++
			continue
		}
		room := b.width - labelWidth - 2
		for n, part := range format.Wrap(it.value, max(8, room)) {
			if n == 0 {
				b.add(cell(item{it.label, part}))
			} else {
				b.add(strings.Repeat(" ", labelWidth+2) + part)
			}
		}
	}
}

func (b *builder) asset(a *model.Asset, removed bool) {
	st := b.st.Styles
	now, rel := b.st.Ref()
	ago := " ago)"
	if rel {
		ago = " before the last packet)"
	}
	title := " " + st.Section.Render(safe.Text(a.Label())) + "  " + st.Muted.Render(safe.Text(string(a.ID)))
	b.add(title)
	if removed {
		b.add(" " + st.Warn.Render("⚠ removed from the inventory; last known state shown"))
	}
	if a.Gateway {
		for i, part := range format.Wrap("G gateway: sends traffic for other IPs; hosts behind it are listed by IP", max(8, b.width-2)) {
			if i == 0 {
				part = st.Warn.Render("G gateway:") + strings.TrimPrefix(part, "G gateway:")
			}
			b.add(" " + part)
		}
	}
	vlans := make([]string, len(a.VLANs))
	for i, v := range a.VLANs {
		vlans[i] = strconv.Itoa(int(v))
	}
	an := b.st.State.Analysis()
	// Vendor and roles have their own blocks below, with provenance and reasons.
	b.items(append([]item{
		{"MAC", join(a.MACs)},
		{"IP", join(a.IPs)},
		{"Names", strings.Join(a.Names, ", ")},
		{"VLAN", strings.Join(vlans, ", ")},
		{"Protocols", strings.Join(a.Protocols, ", ")},
		{"Sent", format.Thousands(a.Packets) + " pkts · " + format.Bytes(a.Bytes)},
		{"Seen", format.Clock(now, a.FirstSeen) + " → " + format.Clock(now, a.LastSeen) + " (" + format.Ago(now, a.LastSeen) + ago},
	}, b.statusItems(a, an)...))
	convs := b.conversations(a)
	ind := b.industrialRows(a, convs)
	b.programAlert(ind)
	b.identity(a)
	b.roles(a)
	b.modules(a)
	b.review(a, an)
	b.industrialPeers(ind)
	b.facts(a)
	b.services(a)
	b.peers(a, convs)
	b.inventoryState(a, an)
}

// conversations returns the asset's conversations, most bytes first.
func (b *builder) conversations(a *model.Asset) []*model.Conversation {
	s := b.st.State
	keys := s.ConversationsOf(a.ID)
	convs := make([]*model.Conversation, 0, len(keys))
	for _, k := range keys {
		if c, ok := s.Conversation(k); ok {
			convs = append(convs, c)
		}
	}
	slices.SortFunc(convs, func(x, y *model.Conversation) int {
		return cmp.Or(cmp.Compare(y.Bytes, x.Bytes), strings.Compare(x.Key(), y.Key()))
	})
	return convs
}

func join[T interface{ String() string }](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = x.String()
	}
	return strings.Join(s, ", ")
}

// fieldOrder puts generic fields (hostname, vendor, os…) before protocol
// fields ("lldp.system_name"), each group alphabetical.
func fieldOrder(x, y string) int {
	xd, yd := strings.Contains(x, "."), strings.Contains(y, ".")
	if xd != yd {
		if xd {
			return 1
		}
		return -1
	}
	return strings.Compare(x, y)
}

func (b *builder) facts(a *model.Asset) {
	st := b.st.Styles
	now, _ := b.st.Ref()
	byField := map[string][]model.Fact{}
	var fields []string
	for _, f := range a.Facts {
		if _, ok := byField[f.Field]; !ok {
			fields = append(fields, f.Field)
		}
		byField[f.Field] = append(byField[f.Field], f)
	}
	slices.SortFunc(fields, fieldOrder)
	conflicts := a.Conflicts()
	title := "FACTS (" + strconv.Itoa(len(a.Facts)) + ", heard on the wire unless marked)"
	if len(conflicts) > 0 {
		title += "  ⚠ " + strconv.Itoa(len(conflicts)) + " conflicting"
	}
	b.section(title)
	if len(fields) == 0 {
		b.muted(" none recorded")
		return
	}
	fw, vw, pw := 0, 0, 0
	for _, f := range fields {
		fw = max(fw, format.Width(f))
	}
	for _, f := range a.Facts {
		pw = max(pw, format.Width(provenance(f, now)))
	}
	// Field names get a column when the widest line then fits; otherwise
	// the column is capped and longer names head their own line. The value
	// column is as wide as the widest value of at most 24 cells that fits
	// beside the widest provenance (at least 8 cells), so provenances line
	// up; a longer value pushes its provenance right or wraps above it.
	fw = min(fw, 24)
	if 1+fw+1+20+2+pw > b.width {
		fw = min(fw, 16)
	}
	indent := 1 + fw + 1
	room := min(24, b.width-indent-2-pw)
	for _, f := range a.Facts {
		if w := format.Width(factValue(f)); w <= room {
			vw = max(vw, w)
		}
	}
	vw = max(8, vw)
	for _, field := range fields {
		heading := " " + st.Label.Render(field)
		own := format.Width(field) > fw
		if slices.Contains(conflicts, field) {
			b.add(heading + " " + st.Warn.Render("⚠ "+strconv.Itoa(len(a.FactValues(field)))+" values"))
			own = true
		} else if own {
			b.add(heading)
		}
		for n, f := range byField[field] {
			lead := strings.Repeat(" ", indent)
			if n == 0 && !own {
				lead = " " + st.Label.Render(format.Fit(field, fw)) + " "
			}
			b.value(lead, indent, vw, factValue(f), provenance(f, now))
			if f.Detail != "" {
				// A function fact's detail is its category, not a reason.
				why := "why: "
				if strings.HasSuffix(f.Field, ".function") {
					why = "category: "
				}
				for _, part := range format.Wrap(why+f.Detail, max(8, b.width-indent-2)) {
					b.add(strings.Repeat(" ", indent+2) + st.Muted.Render(part))
				}
			}
		}
	}
}

// factValue is a fact's value as the FACTS list shows it: module facts
// ("rack=0;slot=2;product=…") read as "0/2 CPU 315-2 PN/DP · 6ES7 … · V3.2.7".
func factValue(f model.Fact) string {
	if f.Field != model.FieldModule {
		return f.Value
	}
	m, ok := model.ParseModule(f.Value)
	if !ok {
		return f.Value
	}
	parts := []string{strconv.Itoa(m.Rack) + "/" + strconv.Itoa(m.Slot)}
	for _, p := range []string{m.Product, m.OrderNumber, m.Firmware, m.Serial} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return parts[0] + " " + strings.Join(parts[1:], " · ")
}

// value writes one fact value after lead (indent cells wide) with its
// provenance beside it when both fit, else the value (wrapped) and then
// the provenance on the next line.
func (b *builder) value(lead string, indent, vw int, value, prov string) {
	st := b.st.Styles
	value, prov = safe.Text(value), safe.Text(prov) // a device's text, and a capture file's name
	vwidth, pwidth := format.Width(value), format.Width(prov)
	switch {
	case vwidth <= vw && indent+vw+2+pwidth <= b.width:
		b.add(lead + format.Fit(value, vw) + "  " + st.Muted.Render(prov))
		return
	}
	// wider than the value column: the value on its own lines, the
	// provenance under it, so the column of provenances stays aligned
	for i, part := range format.Wrap(value, max(8, b.width-indent)) {
		if i == 0 {
			b.add(lead + part)
		} else {
			b.add(strings.Repeat(" ", indent) + part)
		}
	}
	b.add(strings.Repeat(" ", indent+2) + st.Muted.Render(format.Truncate(prov, max(1, b.width-indent-2))))
}

// provenance is "dhcp · plant.pcap #1234 · 10:02:03 ×3". The source kind
// leads when it is not passive: "derived oui · …", "active s7comm · …".
func provenance(f model.Fact, now time.Time) string {
	src := f.Source
	var b strings.Builder
	if src.Kind != model.Passive {
		b.WriteString(src.Kind.String() + " ")
	}
	b.WriteString(src.Protocol)
	if src.Origin != "" || src.Frame > 0 {
		b.WriteString(" ·")
		if src.Origin != "" {
			b.WriteString(" " + shortOrigin(src.Origin))
		}
		if src.Frame > 0 {
			b.WriteString(" #" + strconv.FormatUint(src.Frame, 10))
		}
	}
	if !src.Time.IsZero() {
		b.WriteString(" · " + format.Clock(now, src.Time))
	}
	if f.Count > 1 {
		b.WriteString(" ×" + format.Count(f.Count))
	}
	return b.String()
}

// maxOrigin caps the origin in a provenance so that the frame number and
// time after it still fit at 80 columns.
const maxOrigin = 32

// shortOrigin is a capture origin as a provenance shows it: a file by its
// base name ("/data/plant/line1.pcap" → "line1.pcap"), anything longer
// than maxOrigin cut in the middle, where names differ least. The Capture
// pane lists the full sources.
func shortOrigin(o string) string {
	if i := strings.LastIndexAny(o, "/\\"); i >= 0 && i < len(o)-1 {
		o = o[i+1:]
	}
	r := []rune(o)
	if len(r) <= maxOrigin {
		return o
	}
	head := (maxOrigin - 1) / 2
	return string(r[:head]) + "…" + string(r[len(r)-(maxOrigin-1-head):])
}

var serviceCols = []grid.Column{
	{Title: "PORT", Width: 9},
	{Title: "PROTOCOL", Width: 10, Max: 14},
	{Title: "IP", Width: 15, Max: 39},
	{Title: "FIRST", Width: 8},
	{Title: "SEEN", Width: 4, Right: true},
}

func (b *builder) services(a *model.Asset) {
	now, _ := b.st.Ref()
	b.section("SERVICES (" + strconv.Itoa(len(a.Services)) + ")")
	if len(a.Services) == 0 {
		b.muted(" none seen: this asset answered no connection")
		return
	}
	cols := serviceCols
	if b.width < 60 {
		cols = []grid.Column{serviceCols[0], serviceCols[1], serviceCols[4]}
	}
	ws := b.header(cols)
	svcs := slices.Clone(a.Services)
	slices.SortFunc(svcs, func(x, y model.Service) int {
		return cmp.Or(strings.Compare(x.Transport, y.Transport), cmp.Compare(x.Port, y.Port), x.IP.Compare(y.IP))
	})
	for _, s := range svcs {
		ip := ""
		if s.IP.IsValid() {
			ip = s.IP.String()
		}
		cells := []string{format.Port(s.Transport, s.Port), s.Protocol, ip, format.Clock(now, s.FirstSeen), format.Ago(now, s.LastSeen)}
		if len(cols) == 3 {
			cells = []string{cells[0], cells[1], cells[4]}
		}
		b.add(" " + grid.Join(cols, ws, cells))
	}
}

var peerCols = []grid.Column{
	{Title: "", Width: 1},
	{Title: "PEER", Width: 10, Max: 26},
	{Title: "PROTOCOL", Width: 8, Max: 12},
	{Title: "PORT", Width: 9},
	{Title: "PKTS", Width: 5, Right: true},
	{Title: "BYTES", Width: 6, Right: true},
	{Title: "SEEN", Width: 4, Right: true},
}

func (b *builder) peers(a *model.Asset, convs []*model.Conversation) {
	now, _ := b.st.Ref()
	s := b.st.State
	b.section("PEERS (" + strconv.Itoa(len(convs)) + ")  → this asset is client · ← peer is client")
	if len(convs) == 0 {
		b.muted(" no conversations")
		return
	}
	cols := peerCols
	if b.width < 60 {
		cols = []grid.Column{peerCols[0], peerCols[1], peerCols[2], peerCols[6]}
	}
	ws := b.header(cols)
	for i, c := range convs {
		if i == MaxPeers {
			b.morePeers(len(convs))
			break
		}
		dir, peer := "→", c.Server
		if c.Server == a.ID && c.Client != a.ID {
			dir, peer = "←", c.Client
		}
		cells := []string{dir, s.Label(peer), c.Protocol, format.Port(c.Transport, c.Port),
			format.Count(c.Packets), format.Bytes(c.Bytes), format.Ago(now, c.LastSeen)}
		if len(cols) == 4 {
			cells = []string{cells[0], cells[1], cells[2], cells[6]}
		}
		b.add(" " + grid.Join(cols, ws, cells))
	}
}
