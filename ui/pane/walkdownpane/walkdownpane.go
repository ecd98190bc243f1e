// Package walkdownpane is the Walkdown pane of the otscope TUI: the
// engineer's checklist while walking the plant cabinet by cabinet.
//
//   - left, the location tree (the levels people placed devices in and
//     the documented inventory names) with progress per location;
//   - right, the selected location's checklist: documented devices and
//     devices found there, each with its verdict;
//   - one key per verdict (m match, c compatible, x mismatch, - missing,
//     u withdraw), n nameplate form, a add a device the network cannot
//     see, p place the device at a location.
//
// The walkdown is evaluated off the UI goroutine when the inventory
// changes (at most every few seconds); a key changes one item and the
// counts of its locations, never the whole evaluation. Every action is
// stored in the session's walkdown journal before the pane shows it, so
// a kill -9 loses nothing the user confirmed.
package walkdownpane

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"otscope/assets/walkdown"
	"otscope/model"
	"otscope/ui/pane"
	"otscope/ui/pane/form"
	"otscope/ui/pane/grid"
	"otscope/ui/state"
)

// Unplaced names the tree node of items with no location.
const Unplaced = "(not placed)"

// RefreshEvery bounds how often a changing inventory is re-evaluated.
const RefreshEvery = 3 * time.Second

// KeyMap is the keys of the walkdown pane.
type KeyMap struct {
	Move                                           grid.KeyMap
	Left, Right, Open                              key.Binding
	Match, Compatible, Mismatch, Missing, Withdraw key.Binding
	Nameplate, Add, Place                          key.Binding
}

// DefaultKeyMap returns the default keys.
func DefaultKeyMap() KeyMap {
	b := func(k, h, d string) key.Binding { return key.NewBinding(key.WithKeys(k), key.WithHelp(h, d)) }
	return KeyMap{
		Move:       grid.DefaultKeyMap(),
		Left:       key.NewBinding(key.WithKeys("left", "h"), key.WithHelp("←", "locations")),
		Right:      key.NewBinding(key.WithKeys("right", "l"), key.WithHelp("→", "checklist")),
		Open:       b("enter", "enter", "open"),
		Match:      b("m", "m", "match"),
		Compatible: b("c", "c", "compatible"),
		Mismatch:   b("x", "x", "mismatch"),
		Missing:    b("-", "-", "missing"),
		Withdraw:   b("u", "u", "withdraw verdict"),
		Nameplate:  b("n", "n", "nameplate"),
		Add:        b("a", "a", "add device"),
		Place:      b("p", "p", "place at location"),
	}
}

// ShortHelp implements help.KeyMap.
func (m *Model) ShortHelp() []key.Binding {
	if m.form.Active() {
		return m.form.Help()
	}
	k := m.keys
	return []key.Binding{k.Match, k.Compatible, k.Mismatch, k.Missing, k.Nameplate, k.Add, k.Place}
}

// FullHelp implements help.KeyMap.
func (m *Model) FullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{m.keys.Move.Bindings(), {k.Left, k.Right, k.Open},
		{k.Match, k.Compatible, k.Mismatch, k.Missing, k.Withdraw}, {k.Nameplate, k.Add, k.Place}}
}

// Config is what the pane records with: the session's walkdown book (nil:
// the pane explains that a stored session is needed), who the user is,
// and the inventory states verdicts drive (nil: none).
type Config struct {
	Book   *walkdown.Book
	User   string
	States func() walkdown.States
	// Now stamps records; nil means time.Now.
	Now func() time.Time
}

// node is one location of the tree.
type node struct {
	path   string
	name   string
	depth  int
	keys   []string // items at or below it, sorted
	walked int
}

// evalMsg delivers a new evaluation.
type evalMsg struct {
	ev  *walkdown.Evaluation
	gen int
}

// doneMsg reports a stored action: the items it changed, or its error.
type doneMsg struct {
	keys  []string
	text  string
	err   error
	moved bool
}

// Model is the walkdown pane.
type Model struct {
	ctx   pane.Context
	cfg   Config
	keys  KeyMap
	form  form.Model
	width int
	hgt   int

	ev       *walkdown.Evaluation
	gen      int
	running  bool
	stale    bool
	lastEval time.Time

	nodes []*node
	byKey map[string]int // node path → index
	tcur  int
	toff  int
	list  grid.Model[string]
	lines map[string]string
	right bool

	pane.Focusable
	notice string
}

// New returns the walkdown pane.
func New(ctx pane.Context, cfg Config) *Model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	m := &Model{ctx: ctx, cfg: cfg, keys: DefaultKeyMap(), form: form.New(ctx.Styles), list: grid.New[string](),
		lines: map[string]string{}, stale: true}
	m.SetSize(80, 20)
	return m
}

// Title implements pane.Pane.
func (m *Model) Title() string { return "Walkdown" }

// ShortTitle is the tab name when the tab bar is crowded.
func (m *Model) ShortTitle() string { return "Walk" }

// Summary implements pane.Pane.
func (m *Model) Summary() string {
	if m.ev == nil || len(m.nodes) == 0 {
		return ""
	}
	root := m.nodes[0]
	return strconv.Itoa(root.walked) + "/" + strconv.Itoa(len(root.keys)) + " walked"
}

// Capturing implements pane.Pane.
func (m *Model) Capturing() bool { return m.form.Active() }

// SetSize implements pane.Pane.
func (m *Model) SetSize(width, height int) {
	m.width, m.hgt = max(1, width), max(1, height)
	clear(m.lines)
	m.list.SetHeight(m.bodyHeight() - 1)
}

// treeWidth is the width of the location tree.
func (m *Model) treeWidth() int { return min(32, max(16, m.width*3/10)) }

// bodyHeight is the height of the tree and checklist.
func (m *Model) bodyHeight() int {
	return max(3, m.hgt-2-m.footHeight())
}

func (m *Model) footHeight() int {
	if m.form.Active() {
		return m.form.Height()
	}
	return 3
}

// DataChanged implements pane.Pane.
func (m *Model) DataChanged(c state.Change) {
	if c.Reset || len(c.Assets) > 0 {
		m.stale = true
	}
}

// Update implements pane.Pane.
func (m *Model) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case evalMsg:
		m.running = false
		if msg.gen == m.gen {
			m.setEval(msg.ev)
		}
		return nil
	case doneMsg:
		return m.done(msg)
	case pane.TickMsg:
		if !m.Focused() {
			return nil // evaluated when the pane is looked at
		}
		return m.maybeEval(false)
	case tea.KeyMsg:
		if !m.Focused() {
			return nil
		}
		if m.form.Active() {
			cmd := m.form.Update(msg)
			m.list.SetHeight(m.bodyHeight() - 1)
			return cmd
		}
		return tea.Batch(m.key(msg), m.maybeEval(false))
	}
	return nil
}

// Evaluate starts an evaluation now (tests, first show).
func (m *Model) Evaluate() tea.Cmd { return m.maybeEval(true) }

// maybeEval starts an evaluation off the UI goroutine when the inventory
// changed and the last one is old enough.
func (m *Model) maybeEval(now bool) tea.Cmd {
	if m.cfg.Book == nil || m.running || !m.stale {
		return nil
	}
	if !now && m.ev != nil && m.cfg.Now().Sub(m.lastEval) < RefreshEvery {
		return nil
	}
	m.stale, m.running = false, true
	m.gen++
	m.lastEval = m.cfg.Now()
	assets := make([]model.Asset, 0, m.ctx.State.NumAssets())
	m.ctx.State.EachAsset(func(a *model.Asset) { assets = append(assets, *a) })
	book, gen := m.cfg.Book, m.gen
	return func() tea.Msg { return evalMsg{ev: book.Evaluate(assets), gen: gen} }
}

// SetEvaluation installs an evaluation directly (tests, the root on open).
func (m *Model) SetEvaluation(ev *walkdown.Evaluation) { m.stale = false; m.setEval(ev) }

func (m *Model) setEval(ev *walkdown.Evaluation) {
	sel, _ := m.list.Selected()
	path := ""
	if m.tcur < len(m.nodes) {
		path = m.nodes[m.tcur].path
	}
	m.ev = ev
	m.buildTree()
	if i, ok := m.byKey[path]; ok {
		m.tcur = i
	}
	m.showNode()
	if sel != "" {
		m.list.Select(sel)
	}
}

// buildTree groups the items by location: every prefix of every path is
// a node, each holding the keys of the items at or below it.
func (m *Model) buildTree() {
	clear(m.lines)
	m.byKey = map[string]int{}
	m.nodes = m.nodes[:0]
	root := &node{path: "", name: "All locations"}
	m.nodes = append(m.nodes, root)
	m.byKey[""] = 0
	get := func(parts []string) *node {
		p := strings.Join(parts, "/")
		if i, ok := m.byKey[p]; ok {
			return m.nodes[i]
		}
		n := &node{path: p, name: parts[len(parts)-1], depth: len(parts)}
		m.byKey[p] = len(m.nodes)
		m.nodes = append(m.nodes, n)
		return n
	}
	canon := map[string]string{} // lower-case path → first spelling
	for i := range m.ev.Items {
		it := &m.ev.Items[i]
		loc := []string(it.Location)
		if len(loc) == 0 {
			loc = []string{Unplaced}
		}
		lc := strings.ToLower(strings.Join(loc, "/"))
		if c, ok := canon[lc]; ok {
			loc = strings.Split(c, "/")
		} else {
			canon[lc] = strings.Join(loc, "/")
		}
		walked := it.Walked()
		root.keys = append(root.keys, it.Key)
		if walked {
			root.walked++
		}
		for d := 1; d <= len(loc); d++ {
			n := get(loc[:d])
			n.keys = append(n.keys, it.Key)
			if walked {
				n.walked++
			}
		}
	}
	rest := m.nodes[1:]
	slices.SortFunc(rest, func(x, y *node) int {
		if (x.path == Unplaced) != (y.path == Unplaced) {
			if x.path == Unplaced {
				return 1
			}
			return -1
		}
		return strings.Compare(strings.ToLower(x.path), strings.ToLower(y.path))
	})
	for i, n := range m.nodes {
		m.byKey[n.path] = i
		slices.SortFunc(n.keys, m.compareItems)
	}
	m.tcur = min(m.tcur, len(m.nodes)-1)
}

// compareItems orders a checklist: by location, then label.
func (m *Model) compareItems(x, y string) int {
	a, b := &m.ev.Items[m.ev.Find(x)], &m.ev.Items[m.ev.Find(y)]
	if c := strings.Compare(a.Location.String(), b.Location.String()); c != 0 {
		return c
	}
	return strings.Compare(a.Label(), b.Label())
}

// showNode puts the selected node's items in the checklist.
func (m *Model) showNode() {
	if m.tcur >= len(m.nodes) {
		m.list.SetRows(nil)
		return
	}
	m.list.SetHeight(m.bodyHeight() - 1)
	m.list.SetRows(m.nodes[m.tcur].keys)
}

// key handles a key outside the form.
func (m *Model) key(k tea.KeyMsg) tea.Cmd {
	if m.ev == nil {
		return nil
	}
	km := m.keys
	switch {
	case key.Matches(k, km.Left):
		m.right = false
		return nil
	case key.Matches(k, km.Right):
		m.right = true
		return nil
	case key.Matches(k, km.Open):
		if !m.right {
			m.right = true
			return nil
		}
		if it := m.selected(); it != nil && it.Asset != nil && !strings.HasPrefix(it.Key, "manual:") {
			return pane.OpenAsset(it.Asset.ID)
		}
		return nil
	}
	if !m.right {
		if m.moveTree(k) {
			m.showNode()
			m.list.Top()
			return nil
		}
	} else if m.list.Update(k) {
		return nil
	}
	it := m.selected()
	switch {
	case key.Matches(k, km.Match):
		return m.verdict(it, model.VerdictMatch)
	case key.Matches(k, km.Compatible):
		return m.verdict(it, model.VerdictCompatible)
	case key.Matches(k, km.Mismatch):
		return m.verdict(it, model.VerdictMismatch)
	case key.Matches(k, km.Missing):
		return m.verdict(it, model.VerdictMissing)
	case key.Matches(k, km.Withdraw):
		return m.verdict(it, model.VerdictUnverified)
	case key.Matches(k, km.Nameplate):
		return m.openNameplate(it)
	case key.Matches(k, km.Add):
		return m.openAdd(it)
	case key.Matches(k, km.Place):
		return m.openPlace(it)
	}
	return nil
}

// moveTree moves the tree cursor; it reports whether k was a movement.
func (m *Model) moveTree(k tea.KeyMsg) bool {
	mv := m.keys.Move
	n := len(m.nodes)
	page := max(1, m.bodyHeight()-1)
	switch {
	case key.Matches(k, mv.Up):
		m.tcur = max(0, m.tcur-1)
	case key.Matches(k, mv.Down):
		m.tcur = min(n-1, m.tcur+1)
	case key.Matches(k, mv.PageUp):
		m.tcur = max(0, m.tcur-page)
	case key.Matches(k, mv.PageDown):
		m.tcur = min(n-1, m.tcur+page)
	case key.Matches(k, mv.Home):
		m.tcur = 0
	case key.Matches(k, mv.End):
		m.tcur = n - 1
	default:
		return false
	}
	return true
}

// selected returns the checklist item under the cursor.
func (m *Model) selected() *walkdown.Item {
	k, ok := m.list.Selected()
	if !ok || m.ev == nil {
		return nil
	}
	if i := m.ev.Find(k); i >= 0 {
		return &m.ev.Items[i]
	}
	return nil
}

// Selected returns the key of the checklist item under the cursor.
func (m *Model) Selected() (string, bool) { return m.list.Selected() }

// SelectLocation moves the tree cursor to path (as Location.String()).
func (m *Model) SelectLocation(path string) bool {
	i, ok := m.byKey[path]
	if ok {
		m.tcur = i
		m.showNode()
		m.list.Top()
	}
	return ok
}

func (m *Model) user() string {
	if m.cfg.User != "" {
		return m.cfg.User
	}
	return "walkdown"
}

func (m *Model) states() walkdown.States {
	if m.cfg.States == nil {
		return nil
	}
	return m.cfg.States()
}

func (m *Model) where() string {
	if m.tcur < len(m.nodes) && m.nodes[m.tcur].path != "" {
		return m.nodes[m.tcur].path
	}
	return "the plant"
}

// verdict stores a person's verdict on the item, off the UI goroutine.
func (m *Model) verdict(it *walkdown.Item, v model.VerdictValue) tea.Cmd {
	if it == nil || m.cfg.Book == nil {
		return nil
	}
	target, book, by, states, at := it.Key, m.cfg.Book, m.user(), m.states(), m.cfg.Now()
	why := "walkdown at " + m.where()
	if v == model.VerdictUnverified {
		why = "verdict withdrawn on the walkdown at " + m.where()
	}
	label := it.Label()
	return func() tea.Msg {
		err := book.SetVerdict(target, v, why, by, at, states)
		if err != nil && !strings.HasPrefix(err.Error(), "verdict "+string(v)+" stored") {
			return doneMsg{err: err}
		}
		text := label + ": " + string(v)
		if err != nil {
			text += " (" + err.Error() + ")"
		}
		return doneMsg{keys: []string{target}, text: text}
	}
}

// done applies a stored action to the items it changed.
func (m *Model) done(msg doneMsg) tea.Cmd {
	if msg.err != nil {
		m.notice = "✗ " + msg.err.Error()
		return pane.Notice(msg.err.Error(), true)
	}
	m.notice = msg.text
	if m.ev == nil {
		return nil
	}
	if msg.moved || slices.ContainsFunc(msg.keys, func(k string) bool { return m.ev.Find(k) < 0 }) {
		// a new device or a new place: regroup (the evaluation is current)
		m.stale = true
		return tea.Batch(m.maybeEval(true), pane.Notice(msg.text, false))
	}
	for _, k := range msg.keys {
		i := m.ev.Find(k)
		before := m.ev.Items[i].Walked()
		m.cfg.Book.Refresh(m.ev, k)
		after := m.ev.Items[i].Walked()
		delete(m.lines, k)
		if before != after {
			d := 1
			if before {
				d = -1
			}
			m.adjust(&m.ev.Items[i], d)
		}
	}
	return pane.Notice(msg.text, false)
}

// adjust changes the walked counts of an item's locations by d.
func (m *Model) adjust(it *walkdown.Item, d int) {
	loc := []string(it.Location)
	if len(loc) == 0 {
		loc = []string{Unplaced}
	}
	m.nodes[0].walked += d
	for i := 1; i <= len(loc); i++ {
		if j, ok := m.byKey[strings.Join(loc[:i], "/")]; ok {
			m.nodes[j].walked += d
		} else if j, ok := m.lookupFold(strings.Join(loc[:i], "/")); ok {
			m.nodes[j].walked += d
		}
	}
}

func (m *Model) lookupFold(p string) (int, bool) {
	for k, i := range m.byKey {
		if strings.EqualFold(k, p) {
			return i, true
		}
	}
	return 0, false
}

// nameplateFields are the fields of the nameplate form, in order.
var nameplateFields = []struct{ field, label, hint string }{
	{model.FieldVendor, "Vendor", "Siemens"},
	{model.FieldProduct, "Product", "CPU 315-2 PN/DP"},
	{model.FieldOrderNumber, "Order number", "scan or type: 6ES7 315-2EH14-0AB0"},
	{model.FieldSerial, "Serial", "scan or type"},
	{model.FieldFirmware, "Firmware", "V3.2.6"},
	{model.FieldHardwareVersion, "Hardware", "hardware version"},
	{model.FieldTag, "Tag", "+A2-K1"},
	{model.FieldNotes, "Notes", ""},
}

// Legend explains the pane in the help overlay.
const Legend = "Verdicts after OPC 10000-81: match = vendor, order number (and serial, firmware where known) agree; " +
	"compatible = same vendor and order number, other serial or firmware; mismatch = vendor or order number differ; " +
	"unseen = documented, not on the network; missing = not there (a person said so); new = not documented. " +
	"A * marks a verdict a person gave. Nameplate values are manual facts: a barcode scanner fills one field per scan."

// Legend implements the help overlay's optional legend.
func (m *Model) Legend() string { return Legend }
