// Package matrixpane is the communication matrix of the otscope TUI: one
// row per conversation (client asset → server asset on one transport, port
// and protocol) with packets, bytes and when it was last seen. It sorts by
// bytes, packets, last seen or protocol, filters with "/", and jumps to the
// server's (Enter) or client's (c) asset detail.
//
// Like the asset table it caches each row's text and renders only visible
// rows. A row is rebuilt when its conversation changes or when one of its
// two assets gets a new label.
package matrixpane

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/model"
	"otscope/ui/format"
	"otscope/ui/pane"
	"otscope/ui/pane/grid"
	"otscope/ui/state"
)

// SortKey is what the matrix can be ordered by.
type SortKey uint8

// Sort keys in the order the Sort key cycles through them.
const (
	ByBytes SortKey = iota
	ByPackets
	ByLastSeen
	ByProtocol
	numSortKeys
)

var sortNames = [...]string{"bytes", "packets", "last seen", "protocol"}

// String names the sort key as the summary shows it.
func (k SortKey) String() string { return grid.SortName(sortNames[:], int(k)) }

// Descending reports whether the key sorts largest first unless reversed:
// every key but the protocol.
func (k SortKey) Descending() bool { return k != ByProtocol }

// KeyMap is the keys of the matrix.
type KeyMap struct {
	Move   grid.KeyMap
	Filter grid.FilterKeyMap
	grid.SortKeyMap
	// Server and Client open the detail of the row's server or client asset.
	Server, Client key.Binding
}

// DefaultKeyMap returns the default matrix keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Move:       grid.DefaultKeyMap(),
		Filter:     grid.DefaultFilterKeyMap(),
		SortKeyMap: grid.DefaultSortKeyMap(),
		Server:     key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "server")),
		Client:     key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "client")),
	}
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.filter.Typing() {
		return []key.Binding{m.keys.Filter.Accept, m.keys.Filter.Clear}
	}
	return []key.Binding{m.keys.Server, m.keys.Client, m.keys.Filter.Open, m.keys.Sort}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		m.keys.Move.Bindings(),
		{m.keys.Server, m.keys.Client, m.keys.Sort, m.keys.Reverse, m.keys.Filter.Open, m.keys.Filter.Accept, m.keys.Filter.Clear},
	}
}

type colID uint8

const (
	colClient colID = iota
	colArrow
	colServer
	colProto
	colPort
	colFlows
	colPkts
	colBytes
	colSeen
	numCols
)

var colDefs = [numCols]grid.Column{
	colClient: {Title: "CLIENT", Width: 8, Max: 26},
	colArrow:  {Title: "", Width: 1},
	colServer: {Title: "SERVER", Width: 8, Max: 26},
	colProto:  {Title: "PROTOCOL", Width: 6, Max: 12},
	colPort:   {Title: "PORT", Width: 9},
	colFlows:  {Title: "FLOWS", Width: 5, Right: true},
	colPkts:   {Title: "PKTS", Width: 5, Right: true},
	colBytes:  {Title: "BYTES", Width: 6, Right: true},
	colSeen:   {Title: "SEEN", Width: 4, Right: true},
}

func columnsFor(width int) []colID {
	switch {
	case width >= 100:
		return []colID{colClient, colArrow, colServer, colProto, colPort, colFlows, colPkts, colBytes, colSeen}
	case width >= 80:
		return []colID{colClient, colArrow, colServer, colProto, colPort, colPkts, colBytes, colSeen}
	case width >= 60:
		return []colID{colClient, colArrow, colServer, colProto, colPort, colBytes, colSeen}
	default:
		return []colID{colClient, colArrow, colServer, colProto, colSeen}
	}
}

type row struct {
	key          string
	c            *model.Conversation
	client, serv string // labels the cells were built with
	cells        [numCols]string
	search       string // lower-case text the filter matches
	cache        grid.Cache
}

func newRow(key string, c *model.Conversation, st *state.State) *row {
	r := &row{key: key, c: c, client: st.Label(c.Client), serv: st.Label(c.Server)}
	r.cells[colClient] = r.client
	r.cells[colArrow] = "→"
	r.cells[colServer] = r.serv
	r.cells[colProto] = c.Protocol
	r.cells[colPort] = format.Port(c.Transport, c.Port)
	r.cells[colFlows] = format.Count(c.Flows)
	r.cells[colPkts] = format.Count(c.Packets)
	r.cells[colBytes] = format.Bytes(c.Bytes)
	var b strings.Builder
	for _, s := range []string{r.client, r.serv, string(c.Client), string(c.Server), r.cells[colPort], c.Protocol} {
		b.WriteString(s)
		b.WriteByte(' ')
	}
	if c.ClientIP.IsValid() {
		b.WriteString(c.ClientIP.String() + " ")
	}
	if c.ServerIP.IsValid() {
		b.WriteString(c.ServerIP.String())
	}
	r.search = strings.ToLower(b.String())
	return r
}

// matches reports whether every word of query (already lower-case and
// split) occurs in the row's text.
func (r *row) matches(words []string) bool {
	for _, w := range words {
		if !strings.Contains(r.search, w) {
			return false
		}
	}
	return true
}

// Legend explains the sort keys in the help overlay.
func (m *Model) Legend() string {
	return "s cycles bytes, packets, last seen, protocol · enter/c open the server/client asset"
}

// Model is the communication matrix pane.
type Model struct {
	ctx    pane.Context
	keys   KeyMap
	grid   grid.Model[string]
	filter grid.Filter
	rows   map[string]*row
	order  []*row
	sort   grid.Sort[SortKey]
	pane.Focusable

	width, height int
	table         grid.Table[colID]
}

// New returns an empty matrix sorted by bytes.
func New(ctx pane.Context) *Model {
	m := &Model{
		ctx:    ctx,
		keys:   DefaultKeyMap(),
		grid:   grid.New[string](),
		filter: grid.NewFilter(ctx.Styles),
		rows:   make(map[string]*row),
		table:  grid.NewTable[colID](ctx.Styles),
	}
	m.SetSize(80, 20)
	return m
}

// Title implements pane.Pane.
func (m *Model) Title() string { return "Matrix" }

// Summary implements pane.Pane.
func (m *Model) Summary() string {
	s := strconv.Itoa(len(m.rows)) + " conversations"
	if m.filter.Query() != "" {
		s = strconv.Itoa(m.grid.Len()) + " of " + s
	}
	return s + " · sort " + m.sort.String()
}

// Capturing implements pane.Pane.
func (m *Model) Capturing() bool { return m.filter.Typing() }

// SetSize implements pane.Pane.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(1, width), max(1, height)
	m.table.SetColumns(columnsFor(m.width), func(c colID) grid.Column { return colDefs[c] }, m.width-1)
	m.filter.SetWidth(m.width)
	m.markSort()
	m.grid.SetHeight(m.rowsHeight())
}

// sortCols is the column each sort key sorts by.
var sortCols = [numSortKeys]colID{ByBytes: colBytes, ByPackets: colPkts, ByLastSeen: colSeen, ByProtocol: colProto}

// markSort puts the sort arrow in the header.
func (m *Model) markSort() { m.table.SetSort(m.sort.Arrow(), sortCols[m.sort.By]) }

// rowsTop is the line of the pane the first row is on: after the filter
// line when it is open, and the column header.
func (m *Model) rowsTop() int { return 1 + m.filter.Lines() }

func (m *Model) rowsHeight() int { return max(1, m.height-m.rowsTop()) }

// Selected returns the key of the conversation under the cursor.
func (m *Model) Selected() (*model.Conversation, bool) {
	k, ok := m.grid.Selected()
	if !ok {
		return nil, false
	}
	return m.rows[k].c, true
}

// Rows returns the keys of the rows shown, in order. The slice must not be modified.
func (m *Model) Rows() []string { return m.grid.Rows() }

// SetSort orders the matrix by k, reversed from its natural direction when reverse is set.
func (m *Model) SetSort(k SortKey, reverse bool) {
	m.sort = grid.Sort[SortKey]{By: k, Reverse: reverse}
	m.resort()
}

// resort redraws the header and re-sorts after a change of the sort.
func (m *Model) resort() {
	m.markSort()
	m.refresh()
}

// SetFilter sets the filter query, as if typed and accepted.
func (m *Model) SetFilter(q string) {
	grid.SetFilter(&m.filter, &m.grid, q, m.rowsHeight, m.refresh)
}

// DataChanged implements pane.Pane.
func (m *Model) DataChanged(c state.Change) {
	st := m.ctx.State
	if c.Reset {
		clear(m.rows)
		st.EachConversation(func(k string, cv *model.Conversation) { m.rows[k] = newRow(k, cv, st) })
		m.refresh()
		return
	}
	dirty := false
	for k := range c.Conversations {
		if cv, ok := st.Conversation(k); ok {
			m.rows[k] = newRow(k, cv, st)
			dirty = true
		}
	}
	for id := range c.Assets {
		label := st.Label(id)
		for _, k := range st.ConversationsOf(id) {
			r, ok := m.rows[k]
			if ok && (r.c.Client == id && r.client != label || r.c.Server == id && r.serv != label) {
				m.rows[k] = newRow(k, r.c, st)
				dirty = true
			}
		}
	}
	if dirty {
		m.refresh()
	}
}

func (m *Model) refresh() {
	words := strings.Fields(strings.ToLower(m.filter.Query()))
	m.order = m.order[:0]
	for _, r := range m.rows {
		if r.matches(words) {
			m.order = append(m.order, r)
		}
	}
	slices.SortFunc(m.order, m.compare)
	keys := make([]string, len(m.order))
	for i, r := range m.order {
		keys[i] = r.key
	}
	m.grid.SetRows(keys)
}

func (m *Model) compare(x, y *row) int {
	var c int
	switch m.sort.By {
	case ByBytes:
		c = cmp.Compare(x.c.Bytes, y.c.Bytes)
	case ByPackets:
		c = cmp.Compare(x.c.Packets, y.c.Packets)
	case ByLastSeen:
		c = x.c.LastSeen.Compare(y.c.LastSeen)
	case ByProtocol:
		c = strings.Compare(x.c.Protocol, y.c.Protocol)
	}
	if c = m.sort.Directed(c); c != 0 {
		return c
	}
	return strings.Compare(x.key, y.key)
}

// Update implements pane.Pane.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := m.Key(msg, func(line int) { m.grid.Click(line - m.rowsTop()) })
	if !ok {
		return nil
	}
	if grid.FilterKey(&m.filter, &m.grid, k, m.rowsHeight, m.refresh) {
		return nil
	}
	switch {
	case m.grid.Update(k):
	case m.sort.Update(m.keys.SortKeyMap, k, numSortKeys):
		m.resort()
	case key.Matches(k, m.keys.Server):
		if c, ok := m.Selected(); ok {
			return pane.OpenAsset(c.Server)
		}
	case key.Matches(k, m.keys.Client):
		if c, ok := m.Selected(); ok {
			return pane.OpenAsset(c.Client)
		}
	}
	return nil
}

// View implements pane.Pane.
func (m *Model) View() string {
	st := m.ctx.Styles
	lines := make([]string, 0, m.height)
	if m.filter.Active() {
		lines = append(lines, m.filter.Line(" "+strconv.Itoa(m.grid.Len())+" of "+strconv.Itoa(len(m.rows))))
	}
	lines = append(lines, m.table.Header())
	if m.grid.Len() == 0 {
		empty := "No conversations yet."
		if q := m.filter.Query(); q != "" {
			empty = "No conversation matches “" + q + "”. Esc clears the filter."
		}
		lines = append(lines, st.Muted.Render(format.Truncate(" "+empty, m.width)))
	}
	now, _ := m.ctx.Ref()
	for k, cursor := range m.grid.Visible() {
		r := m.rows[k]
		cell := func(_ int, c colID) string { return r.cells[c] }
		lines = append(lines, m.table.Row(&r.cache, cell, format.Ago(now, r.c.LastSeen), "", cursor))
	}
	return strings.Join(lines, "\n")
}
