// Package assetpane is the asset table of the otscope TUI: one row per
// asset saying what it is (vendor, product, firmware, role) besides its
// address and how long ago it was seen, sortable by cycling a key,
// filterable with "/", and Enter to open the selected asset's detail.
// Space marks rows; L places the marked assets (or the selected one) at a
// location through the session's walkdown book, many at once.
//
// The columns depend on the width. At 80 cells: address, vendor, product
// (the name when no product is known), firmware, role, seen. From 100 the
// MAC and a separate name column join; from 120 the role column adds the
// protocols; from 150 VLAN, service and packet counts.
//
// Row text is built when an asset changes or the width changes, never per
// frame; View renders only the rows on screen, so a keypress costs the same
// with ten assets or ten thousand. Only the "seen" column, which ages with
// the clock, is formatted in View, and only for visible rows.
package assetpane

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/lifecycle"
	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/model/safe"
	"otscope/ui/format"
	"otscope/ui/pane"
	"otscope/ui/pane/form"
	"otscope/ui/pane/grid"
	"otscope/ui/state"
)

// SortKey is a column the table can be ordered by.
type SortKey uint8

// Sort keys in the order the Sort key cycles through them.
const (
	ByIP SortKey = iota
	ByMAC
	ByVendor
	ByName
	ByProduct
	ByFirmware
	ByLastSeen
	ByPackets
	numSortKeys
)

var sortNames = [...]string{"ip", "mac", "vendor", "name", "product", "firmware", "last seen", "packets"}

// String names the sort key as the summary shows it.
func (k SortKey) String() string { return grid.SortName(sortNames[:], int(k)) }

// Descending reports whether the key sorts largest first unless reversed:
// recent and busy assets are the interesting ones.
func (k SortKey) Descending() bool { return k == ByLastSeen || k == ByPackets }

// KeyMap is the keys of the asset table.
type KeyMap struct {
	Move   grid.KeyMap
	Filter grid.FilterKeyMap
	grid.SortKeyMap
	// Open shows the detail.
	Open key.Binding
	// Verify and Decommission record manual state transitions of the
	// selected asset (again: withdraw, recommission).
	Verify, Decommission key.Binding
	// Mark toggles the mark of the selected row; Place places the marked
	// assets (or the selected one) at a location.
	Mark, Place key.Binding
}

// DefaultKeyMap returns the default asset table keys.
func DefaultKeyMap() KeyMap {
	return KeyMap{
		Move:         grid.DefaultKeyMap(),
		Filter:       grid.DefaultFilterKeyMap(),
		SortKeyMap:   grid.DefaultSortKeyMap(),
		Open:         key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "detail")),
		Verify:       key.NewBinding(key.WithKeys("v"), key.WithHelp("v", "verify (walkdown)")),
		Decommission: key.NewBinding(key.WithKeys("D"), key.WithHelp("D", "decommission")),
		Mark:         key.NewBinding(key.WithKeys(" "), key.WithHelp("space", "mark")),
		Place:        key.NewBinding(key.WithKeys("L"), key.WithHelp("L", "place marked at a location")),
	}
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.form.Active() {
		return m.form.Help()
	}
	if m.filter.Typing() {
		return []key.Binding{m.keys.Filter.Accept, m.keys.Filter.Clear}
	}
	if len(m.marked) > 0 {
		return []key.Binding{m.keys.Mark, m.keys.Place, m.keys.Open, m.keys.Filter.Open}
	}
	return []key.Binding{m.keys.Open, m.keys.Filter.Open, m.keys.Sort, m.keys.Reverse}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		m.keys.Move.Bindings(),
		{m.keys.Open, m.keys.Sort, m.keys.Reverse, m.keys.Filter.Open, m.keys.Filter.Accept, m.keys.Filter.Clear},
		{m.keys.Verify, m.keys.Decommission, m.keys.Mark, m.keys.Place},
	}
}

// Legend explains the one-letter flags in front of the address.
const Legend = "G gateway (routes for other hosts) · ! conflicting facts · " +
	"s cycles ip, mac, vendor, name, product, firmware, last seen, packets"

// colID names a column the table may show.
type colID uint8

const (
	colFlag colID = iota
	colAddr
	colAddrMAC
	colMAC
	colVLAN
	colVendor
	colName
	colProduct
	colProdName
	colFirmware
	colRole
	colRoleProto
	colSvc
	colPkts
	colSeen
	numCols
)

var colDefs = [numCols]grid.Column{
	colFlag:      {Title: "", Width: 1},
	colAddr:      {Title: "ADDRESS", Width: 15}, // widened to the longest address (addrWidth)
	colAddrMAC:   {Title: "ADDRESS", Width: 17},
	colMAC:       {Title: "MAC", Width: 17},
	colVLAN:      {Title: "VLAN", Width: 4, Right: true},
	colVendor:    {Title: "VENDOR", Width: 10, Max: 24, Flex: 1},
	colName:      {Title: "NAME", Width: 10, Max: 24, Flex: 1},
	colProduct:   {Title: "PRODUCT", Width: 15, Max: 28, Flex: 1},
	colProdName:  {Title: "PRODUCT/NAME", Width: 12, Max: 28, Flex: 1},
	colFirmware:  {Title: "FIRMWARE", Width: 8, Max: 9, Flex: 1},
	colRole:      {Title: "ROLE/PROTO", Width: 10, Max: 30, Flex: 1},
	colRoleProto: {Title: "ROLE · PROTOCOLS", Width: 12, Max: 48, Flex: 3},
	colSvc:       {Title: "SVC", Width: 3, Right: true},
	colPkts:      {Title: "PKTS", Width: 5, Right: true},
	colSeen:      {Title: "SEEN", Width: 4, Right: true},
}

// columnsFor picks the column set for a pane width cells wide (one cell is
// taken by the cursor marker). colSeen is always last. Below 100 cells the
// table answers "what is it" before "where is it": the MAC gives way to
// product and firmware, and the product column shows the name of an asset
// whose product is unknown.
func columnsFor(width int) []colID {
	switch {
	case width >= 150:
		return []colID{colFlag, colAddr, colMAC, colVLAN, colVendor, colName, colProduct, colFirmware, colRoleProto, colSvc, colPkts, colSeen}
	case width >= 120:
		return []colID{colFlag, colAddr, colMAC, colVendor, colName, colProduct, colFirmware, colRoleProto, colSeen}
	case width >= 100:
		return []colID{colFlag, colAddr, colMAC, colVendor, colName, colProduct, colFirmware, colRole, colSeen}
	case width >= 80:
		return []colID{colFlag, colAddr, colVendor, colProdName, colFirmware, colRole, colSeen}
	case width >= 60:
		return []colID{colFlag, colAddrMAC, colVendor, colProdName, colRole, colSeen}
	default:
		return []colID{colFlag, colAddrMAC, colProdName, colSeen}
	}
}

// row is one asset with its sort keys and cached text.
type row struct {
	a      *model.Asset
	ip     netip.Addr
	mac    model.MAC
	hasMAC bool
	vendor string // lower-case sort keys
	name   string
	// product and firmware are lower-case sort keys too; firmware sorts
	// numerically by its digit runs ("V3.10" after "V3.9").
	product  string
	firmware string
	// prodName is the lower-cased PRODUCT/NAME cell of narrow layouts,
	// which sorts by what it shows
	prodName string
	// roles and protos feed the role columns, fitted to their width when
	// the line is built; protos is ordered by telling.
	roles  []string
	protos []string
	cells  [numCols]string
	// cache is cells joined for the layout (all columns but seen).
	cache grid.Cache
	// hay is the asset's lower-cased search text, cached by the state.
	hay string
}

func newRow(a *model.Asset, hay string) *row {
	r := &row{a: a, hay: hay}
	if len(a.IPs) > 0 {
		r.ip = a.IPs[0]
	}
	if len(a.MACs) > 0 {
		r.mac, r.hasMAC = a.MACs[0], true
	}
	r.vendor = strings.ToLower(a.Vendor)
	if len(a.Names) > 0 {
		r.name = strings.ToLower(a.Names[0])
	}
	r.product, r.firmware = strings.ToLower(a.Product), strings.ToLower(a.Firmware)
	c := &r.cells
	switch {
	case a.Gateway:
		c[colFlag] = "G"
	case len(a.Conflicts()) > 0:
		c[colFlag] = "!"
	}
	// colAddr sits beside the MAC column, so a MAC-only asset says so;
	// colAddrMAC is the narrow layout's only address column.
	switch {
	case len(a.IPs) > 1:
		c[colAddr] = a.IPs[0].String() + " +" + strconv.Itoa(len(a.IPs)-1)
		c[colAddrMAC] = c[colAddr]
	case len(a.IPs) == 1:
		c[colAddr] = a.IPs[0].String()
		c[colAddrMAC] = c[colAddr]
	case r.hasMAC:
		c[colAddr] = "(L2 only)"
		c[colAddrMAC] = r.mac.String()
	default:
		c[colAddr] = string(a.ID)
		c[colAddrMAC] = c[colAddr]
	}
	if r.hasMAC {
		c[colMAC] = r.mac.String()
		if len(a.MACs) > 1 {
			c[colMAC] += " +" + strconv.Itoa(len(a.MACs)-1)
		}
	}
	if len(a.VLANs) > 0 {
		c[colVLAN] = strconv.Itoa(int(a.VLANs[0]))
		if len(a.VLANs) > 1 {
			c[colVLAN] += "+"
		}
	}
	c[colVendor] = shortVendor(a.Vendor)
	if len(a.Names) > 0 {
		c[colName] = a.Names[0]
	}
	c[colProduct], c[colFirmware] = a.Product, shortFirmware(a.Firmware)
	c[colProdName] = a.Product
	if c[colProdName] == "" {
		c[colProdName] = c[colName]
	}
	r.prodName = strings.ToLower(c[colProdName])
	r.roles, r.protos = a.Roles, telling(a)
	c[colSvc] = strconv.Itoa(len(a.Services))
	c[colPkts] = format.Count(a.Packets)
	return r
}

// Model is the asset table pane.
type Model struct {
	ctx    pane.Context
	keys   KeyMap
	grid   grid.Model[model.AssetID]
	filter grid.Filter
	form   form.Model
	rows   map[model.AssetID]*row
	sort   grid.Sort[SortKey]
	pane.Focusable

	width, height int
	table         grid.Table[colID]
	addrW         int // the widest address cell seen
	// sorted holds every row in table order; it is rebuilt only when the
	// data or the sort changes (stale), so a filter keystroke only scans it.
	sorted []*row
	stale  bool
	// order is the rows shown: sorted filtered with lastQuery.
	lastQuery string
	order     []*row
	// marked are the rows marked with space, for Place.
	marked map[model.AssetID]bool
	// wd places assets (SetWalkdown); nil: no stored session.
	wd walkdownCfg
}

// walkdownCfg is the walkdown book the pane places assets through (the
// one the Walkdown pane uses), who places them and the clock.
type walkdownCfg struct {
	book *walkdown.Book
	user string
	now  func() time.Time
}

// SetWalkdown gives the pane the session's walkdown book: L places assets
// through it, by user.
func (m *Model) SetWalkdown(b *walkdown.Book, user string, now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	m.wd = walkdownCfg{book: b, user: user, now: now}
}

// Marked returns the marked assets in table order.
func (m *Model) Marked() []model.AssetID {
	var out []model.AssetID
	for _, id := range m.grid.Rows() {
		if m.marked[id] {
			out = append(out, id)
		}
	}
	return out
}

// New returns an empty asset table sorted by IP.
func New(ctx pane.Context) *Model {
	m := &Model{
		ctx:    ctx,
		keys:   DefaultKeyMap(),
		grid:   grid.New[model.AssetID](),
		filter: grid.NewFilter(ctx.Styles),
		form:   form.New(ctx.Styles),
		rows:   make(map[model.AssetID]*row),
		marked: make(map[model.AssetID]bool),
		table:  grid.NewTable[colID](ctx.Styles),
	}
	m.SetSize(80, 20)
	return m
}

// Title implements pane.Pane.
func (m *Model) Title() string { return "Assets" }

// Summary implements pane.Pane: the row count and the sort.
func (m *Model) Summary() string {
	total := len(m.rows)
	s := strconv.Itoa(total) + " assets"
	if m.filter.Query() != "" {
		s = strconv.Itoa(m.grid.Len()) + " of " + s
	}
	s += " · sort " + m.sort.String()
	if n := len(m.marked); n > 0 {
		s += " · " + strconv.Itoa(n) + " marked"
	}
	return s
}

// Capturing implements pane.Pane: true while the filter is being typed or
// a state transition is being confirmed.
func (m *Model) Capturing() bool { return m.filter.Typing() || m.form.Active() }

// SetSize implements pane.Pane.
func (m *Model) SetSize(width, height int) {
	m.width, m.height = max(1, width), max(1, height)
	m.table.SetColumns(columnsFor(m.width), m.colDef, m.width-1)
	m.filter.SetWidth(m.width)
	m.markSort()
	m.grid.SetHeight(m.rowsHeight())
}

// colDef is the definition of column c: colAddr widens to the longest
// address seen, for never cutting one ("192.168.10.120 +1" takes 17 cells).
func (m *Model) colDef(c colID) grid.Column {
	d := colDefs[c]
	if c == colAddr {
		d.Width = max(d.Width, min(m.addrW, maxAddrWidth))
	}
	return d
}

// sortCols are the columns each sort key marks in the header: its own and
// its stand-ins in narrow layouts (the one address column takes the IP
// sort, the product/name column the name and product sorts). The MAC and
// packet sorts mark nothing where their column is not shown.
var sortCols = [numSortKeys][]colID{
	ByIP: {colAddr, colAddrMAC}, ByMAC: {colMAC}, ByVendor: {colVendor}, ByName: {colName, colProdName},
	ByProduct: {colProduct, colProdName}, ByFirmware: {colFirmware}, ByLastSeen: {colSeen}, ByPackets: {colPkts},
}

// markSort puts the sort arrow in the header.
func (m *Model) markSort() { m.table.SetSort(m.sort.Arrow(), sortCols[m.sort.By]...) }

// rowsTop is the line of the pane the first row is on: after the filter
// line when it is open, and the column header.
func (m *Model) rowsTop() int { return 1 + m.filter.Lines() }

// rowsHeight is the number of table rows that fit under the header and the
// filter line, above the form.
func (m *Model) rowsHeight() int { return max(1, m.height-m.rowsTop()-m.form.Height()) }

// Selected returns the ID of the asset under the cursor.
func (m *Model) Selected() (model.AssetID, bool) { return m.grid.Selected() }

// Select moves the cursor to the asset id and reports whether it is shown.
func (m *Model) Select(id model.AssetID) bool { return m.grid.Select(id) }

// Rows returns the IDs of the rows shown, in order. The slice must not be modified.
func (m *Model) Rows() []model.AssetID { return m.grid.Rows() }

// SetSort orders the table by k, reversed from its natural direction when
// reverse is set.
func (m *Model) SetSort(k SortKey, reverse bool) {
	m.sort = grid.Sort[SortKey]{By: k, Reverse: reverse}
	m.resort()
}

// resort redraws the header and re-sorts after a change of the sort.
func (m *Model) resort() {
	m.markSort()
	m.stale = true
	m.refresh()
}

// SetFilter sets the filter query, as if typed and accepted.
func (m *Model) SetFilter(q string) {
	grid.SetFilter(&m.filter, &m.grid, q, m.rowsHeight, m.refresh)
}

// DataChanged implements pane.Pane: it rebuilds the rows of changed assets
// and re-sorts.
func (m *Model) DataChanged(c state.Change) {
	st := m.ctx.State
	w := m.addrW
	add := func(id model.AssetID, a *model.Asset) {
		r := newRow(a, st.SearchText(id))
		m.rows[id] = r
		if !strings.Contains(r.cells[colAddr], ":") { // IPv6 is cut: it would take the row
			w = max(w, len(r.cells[colAddr])) // ASCII
		}
	}
	switch {
	case c.Reset:
		clear(m.rows)
		clear(m.marked)
		st.EachAsset(func(a *model.Asset) { add(a.ID, a) })
	case len(c.Assets) > 0:
		for id := range c.Assets {
			if a, ok := st.Asset(id); ok {
				add(id, a)
			} else {
				delete(m.rows, id)
				delete(m.marked, id)
			}
		}
	default:
		return
	}
	// an address wider than its column widens it (rows are rebuilt)
	if w > m.addrW {
		m.addrW = w
		m.SetSize(m.width, m.height)
	}
	m.stale = true
	m.refresh()
}

// maxAddrWidth bounds the address column: "255.255.255.255 +9".
const maxAddrWidth = 18

// refresh filters the rows with the query and hands the order to the grid.
// Sorting happens only when the data or the sort changed; a query that
// extends the previous one only re-tests the rows it kept, in place.
func (m *Model) refresh() {
	q := m.filter.Query()
	words := strings.Fields(strings.ToLower(q))
	narrowing := !m.stale && m.lastQuery != "" && strings.HasPrefix(q, m.lastQuery)
	if m.stale {
		m.sorted = m.sorted[:0]
		for _, r := range m.rows {
			m.sorted = append(m.sorted, r)
		}
		slices.SortFunc(m.sorted, m.compare)
		m.stale = false
	}
	src := m.sorted
	if narrowing {
		src = m.order // filtered in place below: kept rows stay in order
	}
	kept := m.order[:0]
	for _, r := range src {
		if len(words) == 0 || model.MatchesText(r.hay, words) {
			kept = append(kept, r)
		}
	}
	m.order, m.lastQuery = kept, q
	keys := make([]model.AssetID, len(m.order))
	for i, r := range m.order {
		keys[i] = r.a.ID
	}
	m.grid.SetRows(keys)
}

// prodNameShown reports whether the layout merges product and name into
// one column.
func (m *Model) prodNameShown() bool {
	cols := m.table.Cols()
	return slices.Contains(cols, colProdName) && !slices.Contains(cols, colName)
}

// Update implements pane.Pane.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	k, ok := m.Key(msg, func(line int) {
		if !m.form.Active() {
			m.grid.Click(line - m.rowsTop())
		}
	})
	if !ok {
		return nil
	}
	if m.form.Active() {
		cmd := m.form.Update(k)
		m.grid.SetHeight(m.rowsHeight())
		return cmd
	}
	if grid.FilterKey(&m.filter, &m.grid, k, m.rowsHeight, m.refresh) {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Mark):
		if id, ok := m.grid.Selected(); ok {
			if m.marked[id] {
				delete(m.marked, id)
			} else {
				m.marked[id] = true
			}
		}
	case key.Matches(k, m.keys.Place):
		cmd := m.openPlace()
		m.grid.SetHeight(m.rowsHeight())
		return cmd
	case m.grid.Update(k):
	case m.sort.Update(m.keys.SortKeyMap, k, numSortKeys):
		m.resort()
	case key.Matches(k, m.keys.Open):
		if id, ok := m.grid.Selected(); ok {
			return pane.OpenAsset(id)
		}
	case key.Matches(k, m.keys.Verify), key.Matches(k, m.keys.Decommission):
		id, ok := m.grid.Selected()
		if !ok {
			return nil
		}
		cur := lifecycle.Untracked
		if an := m.ctx.State.Analysis(); an != nil {
			cur = an.State(id)
		}
		cmd := pane.OpenTransition(&m.form, m.rows[id].a, cur, pane.Toggle(cur, key.Matches(k, m.keys.Verify)))
		m.grid.SetHeight(m.rowsHeight())
		return cmd
	}
	return nil
}

// Legend implements the help overlay's optional legend: what the flag
// letters in front of the address mean.
func (m *Model) Legend() string { return Legend }

// openPlace opens the form that places the marked assets (or the
// selected one) at a location, all in one walkdown record.
func (m *Model) openPlace() tea.Cmd {
	ids := m.Marked()
	if len(ids) == 0 {
		id, ok := m.grid.Selected()
		if !ok {
			return nil
		}
		ids = []model.AssetID{id}
	}
	if m.wd.book == nil {
		return pane.Notice("placing assets needs a stored session (the walkdown journal)", true)
	}
	what := safe.Text(m.rows[ids[0]].a.Label())
	if len(ids) > 1 {
		what = strconv.Itoa(len(ids)) + " marked assets"
	}
	wd := m.wd
	m.form.Open("Place "+what, []string{"levels separated by /"},
		[]form.Field{{Label: "Location", Value: wd.book.Location(ids[0]).String(), Hint: "Plant/Hall 1/Cabinet +A2"}},
		func(vals []string) (tea.Cmd, error) {
			loc := model.ParseLocation(vals[0])
			if len(loc) == 0 {
				return nil, fmt.Errorf("give a location like Plant/Hall 1/Cabinet +A2")
			}
			clear(m.marked)
			return func() tea.Msg {
				if err := wd.book.Locate(ids, loc, wd.user, "assets pane", wd.now()); err != nil {
					return pane.NoticeMsg{Text: "not placed: " + err.Error(), Err: true}
				}
				return pane.NoticeMsg{Text: "placed " + what + " at " + loc.String()}
			}, nil
		})
	return nil
}

// shortAge is format.Ago that fits width cells: ages of more than 999
// days (a capture years old) are given in years, never cut.
func shortAge(now, t time.Time, width int) string {
	a := format.Ago(now, t)
	if len(a) <= width || t.IsZero() {
		return a
	}
	return strconv.Itoa(int(now.Sub(t).Hours()/(24*365))) + "y"
}
