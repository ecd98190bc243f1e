package detailpane

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"

	"otscope/model"
	"otscope/ui/format"
	"otscope/ui/pane/grid"
)

// industrialProtocol reports whether a conversation protocol counts for
// INDUSTRIAL PEERS: model's registry decides.
func industrialProtocol(p string) bool { return model.IsIndustrial(p) }

// family folds the names one protocol goes by, so that a conversation named
// "enip" finds "cip.function" facts and "iso-tsap" finds "s7comm.function".
func family(p string) string { return model.ProtocolFamily(p) }

// categoryRank orders function categories by what they let a client do to
// a device: changing its logic first.
func categoryRank(c string) int {
	switch c {
	case "program":
		return 0
	case "control":
		return 1
	case "write":
		return 2
	case "read":
		return 3
	case "diagnostic":
		return 4
	case "identify":
		return 5
	}
	return 6
}

// functionCategories adds to cats the categories (the Detail of its
// "<protocol>.function" facts) client used in conversation c's protocol
// family while c was active; a function fact without a category counts as
// "other". The facts do not name the server, so a client that talks to
// several servers in one protocol at the same time is credited with its
// functions on each: the column tells what a client can do, and the time
// window keeps a one-off download from landing on a PLC it did not talk to
// then.
func functionCategories(cats []string, client *model.Asset, c *model.Conversation) []string {
	fam := family(c.Protocol)
	for i := range client.Facts {
		f := &client.Facts[i]
		proto, ok := strings.CutSuffix(f.Field, ".function")
		if !ok || family(proto) != fam || !during(f, c) {
			continue
		}
		cat := strings.ToLower(strings.TrimSpace(f.Detail))
		if cat == "" {
			cat = "other"
		}
		if !slices.Contains(cats, cat) {
			cats = append(cats, cat)
		}
	}
	return cats
}

// during reports whether fact f was seen (from its source time to its
// last sighting) while conversation c was active; unknown times count as
// overlapping.
func during(f *model.Fact, c *model.Conversation) bool {
	start, end := f.Source.Time, f.LastSeen
	if end.Before(start) {
		end = start
	}
	if start.IsZero() || c.FirstSeen.IsZero() || c.LastSeen.IsZero() {
		return true
	}
	return !start.After(c.LastSeen) && !end.Before(c.FirstSeen)
}

// indPeer is one row of INDUSTRIAL PEERS: a peer in one direction with
// every industrial protocol spoken that way.
type indPeer struct {
	id     model.AssetID
	label  string
	polled bool // the peer is the client: this asset is polled by it
	protos []string
	convs  []*model.Conversation
	cats   []string
	pkts   uint64
	bytes  uint64
	last   time.Time
}

var indPeerCols = []grid.Column{
	{Title: "", Width: 1},
	{Title: "PEER", Width: 10, Max: 22, Flex: 2},
	{Title: "PROTOCOL", Width: 8, Max: 12},
	{Title: "FUNCTIONS", Width: 10, Max: 48, Flex: 3},
	{Title: "SEEN", Width: 4, Right: true},
}

// industrialRows groups a's industrial conversations by peer and
// direction and finds the function categories of each, most consequential
// rows first. It records the clients whose facts it read in b.peerIDs.
func (b *builder) industrialRows(a *model.Asset, convs []*model.Conversation) []*indPeer {
	s := b.st.State
	byKey := map[string]*indPeer{}
	var rows []*indPeer
	for _, c := range convs {
		if !industrialProtocol(c.Protocol) {
			continue
		}
		polled, peer := false, c.Server
		if c.Server == a.ID && c.Client != a.ID {
			polled, peer = true, c.Client
		}
		k := string(peer) + "|" + strconv.FormatBool(polled)
		r := byKey[k]
		if r == nil {
			r = &indPeer{id: peer, label: s.Label(peer), polled: polled}
			byKey[k] = r
			rows = append(rows, r)
		}
		if !slices.Contains(r.protos, c.Protocol) {
			r.protos = append(r.protos, c.Protocol)
		}
		r.convs = append(r.convs, c)
		r.pkts += c.Packets
		r.bytes += c.Bytes
		if c.LastSeen.After(r.last) {
			r.last = c.LastSeen
		}
	}
	for _, r := range rows {
		client := a
		if r.polled {
			client = nil
			if p, ok := s.Asset(r.id); ok {
				client = p
			}
			b.peerIDs[r.id] = struct{}{}
		}
		if client == nil {
			continue
		}
		for _, c := range r.convs {
			r.cats = functionCategories(r.cats, client, c)
		}
		// "other" (functions without a category) says something only alone.
		if len(r.cats) > 1 {
			r.cats = slices.DeleteFunc(r.cats, func(c string) bool { return c == "other" })
		}
		slices.SortFunc(r.cats, func(x, y string) int {
			return cmp.Or(cmp.Compare(categoryRank(x), categoryRank(y)), strings.Compare(x, y))
		})
	}
	rank := func(r *indPeer) int {
		if len(r.cats) == 0 {
			return 7
		}
		return categoryRank(r.cats[0])
	}
	slices.SortFunc(rows, func(x, y *indPeer) int {
		return cmp.Or(cmp.Compare(rank(x), rank(y)), cmp.Compare(y.bytes, x.bytes),
			strings.Compare(x.label, y.label), strings.Compare(string(x.id), string(y.id)))
	})
	return rows
}

// industrialPeers writes the INDUSTRIAL PEERS block: the assets the asset
// talks to in industrial protocols, grouped by peer and direction, with
// the function categories the client side used (program ⚠ first: who can
// change a PLC's logic).
func (b *builder) industrialPeers(rows []*indPeer) {
	if len(rows) == 0 {
		return
	}
	st := b.st.Styles
	now, _ := b.st.Ref()
	b.section("INDUSTRIAL PEERS (" + strconv.Itoa(len(rows)) + ")  → it polls · ← polled by")
	ws := b.header(indPeerCols)
	for i, r := range rows {
		if i == MaxPeers {
			b.morePeers(len(rows))
			break
		}
		dir := "→"
		if r.polled {
			dir = "←"
		}
		cats := make([]string, len(r.cats))
		for j, c := range r.cats {
			if c == "program" {
				c = st.Warn.Render("program ⚠")
			}
			cats[j] = c
		}
		b.add(" " + grid.Join(indPeerCols, ws, []string{dir, r.label, strings.Join(r.protos, ","),
			strings.Join(cats, ", "), format.Ago(now, r.last)}))
	}
}

// programAlert writes one warning line under the header when a client
// used program functions (download, upload, block changes) on the asset
// ("⚠ program access by ENG-WS01 (s7comm)") or the asset used them on
// others ("⚠ program access to PLC-LINE1 (s7comm)"), so that it is on the
// first screen at 80x24; INDUSTRIAL PEERS below has the detail. The facts
// do not say whether logic went in or out, hence "access".
func (b *builder) programAlert(rows []*indPeer) {
	var by, to []string
	for _, r := range rows {
		if len(r.cats) == 0 || r.cats[0] != "program" {
			continue // rows are sorted: program rows come first
		}
		who := r.label + " (" + strings.Join(r.protos, ",") + ")"
		if r.polled {
			by = append(by, who)
		} else {
			to = append(to, who)
		}
	}
	list := func(xs []string) string {
		if len(xs) > 2 {
			return strings.Join(xs[:2], ", ") + " +" + strconv.Itoa(len(xs)-2)
		}
		return strings.Join(xs, ", ")
	}
	var parts []string
	if len(by) > 0 {
		parts = append(parts, "program access by "+list(by))
	}
	if len(to) > 0 {
		parts = append(parts, "program access to "+list(to))
	}
	if len(parts) > 0 {
		b.add(" " + b.st.Styles.Warn.Render(format.Truncate("⚠ "+strings.Join(parts, "; "), max(1, b.width-2))))
	}
}
