package assets

import (
	"slices"
	"strings"

	"otscope/model"
)

// Changes returns, as copies, what changed for consumer c since it last
// asked (content and counters), and forgets those changes for c.
func (inv *Inventory) Changes(c Consumer) model.Update { return inv.changes(c, true, true) }

// ContentChanges is Changes without the entries whose only change since
// consumer c last asked is their counters and times: those stay marked for a
// later Changes. Per call it costs the number of changed entries, not the
// size of the inventory.
func (inv *Inventory) ContentChanges(c Consumer) model.Update { return inv.changes(c, false, true) }

// changes collects c's marks: content always, counters when counters is
// set. deep copies the assets' slices (for another goroutine); otherwise the
// copies share them and are valid only until the inventory changes again
// (for a synchronous store write), and an asset or conversation whose only
// change is its counters goes in AssetCounters or ConversationCounters
// (the store writes a small record).
func (inv *Inventory) changes(c Consumer, counters, deep bool) model.Update {
	var u model.Update
	u.Assets, u.AssetCounters = sized[model.Asset, model.AssetCounters](inv.dirtyAssets, inv.warmAssets, counters, deep)
	full := func(a *model.Asset) {
		if deep {
			u.Assets = append(u.Assets, a.Clone())
		} else {
			u.Assets = append(u.Assets, *a)
		}
	}
	// Roles are inferred as the asset is taken. Where that changes its
	// content, c takes it whole, and the other consumers (which may have
	// taken the asset already) have it marked again once the marks are
	// taken: a mark set while they are being taken would be lost.
	var reinferred []model.AssetID
	infer := func(a *model.Asset) bool {
		if inv.inferRoles(a) {
			reinferred = append(reinferred, a.ID)
			return true
		}
		return false
	}
	asset := func(id model.AssetID) {
		if a := inv.assets[id]; a != nil {
			infer(a)
			full(a)
		}
	}
	warm := asset
	if !deep {
		warm = func(id model.AssetID) {
			a := inv.assets[id]
			if a == nil {
				return
			}
			if infer(a) {
				full(a)
				return
			}
			u.AssetCounters = append(u.AssetCounters, a.Counters())
		}
	}
	takeBoth(inv.dirtyAssets, inv.warmAssets, c, counters, asset, warm)
	if others := inv.want &^ c; others != 0 {
		for _, id := range reinferred {
			inv.dirtyAssets[id] |= others
		}
	}
	take(inv.removed, c, func(id model.AssetID) { u.Removed = append(u.Removed, id) })
	conv := func(k convKey) {
		if cv := inv.convs[k]; cv != nil {
			u.Conversations = append(u.Conversations, *cv)
		}
	}
	warmConv := conv
	if !deep {
		warmConv = func(k convKey) {
			if cv := inv.convs[k]; cv != nil {
				u.ConversationCounters = append(u.ConversationCounters, cv.Counters())
			}
		}
	}
	u.Conversations, u.ConversationCounters = sized[model.Conversation, model.ConversationCounters](
		inv.dirtyConvs, inv.warmConvs, counters, deep)
	takeBoth(inv.dirtyConvs, inv.warmConvs, c, counters, conv, warmConv)
	take(inv.dirtyStats, c, func(k string) { u.Stats = append(u.Stats, inv.stats[k]) })
	slices.SortFunc(u.Assets, func(a, b model.Asset) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return u
}

// sized returns empty slices with room for what changes takes from dirty
// and warm: whole records, and counter records where a store write takes
// them (counters, not deep).
func sized[R, C any, K comparable](dirty, warm map[K]Consumer, counters, deep bool) (whole []R, counts []C) {
	n := len(dirty)
	if counters && deep {
		n += len(warm)
	}
	if counters && !deep {
		counts = make([]C, 0, len(warm))
	}
	return make([]R, 0, n), counts
}

// unmark clears consumer c's mark of k (marked for who).
func unmark[K comparable](marks map[K]Consumer, k K, who, c Consumer) {
	if who &^= c; who == 0 {
		delete(marks, k)
	} else {
		marks[k] = who
	}
}

// drop clears the marks of the consumers in gone.
func drop[K comparable](marks map[K]Consumer, gone Consumer) {
	for k, who := range marks {
		unmark(marks, k, who, gone)
	}
}

// take calls fn for each key marked for consumer c and clears c's mark,
// dropping keys no consumer still wants.
func take[K comparable](marks map[K]Consumer, c Consumer, fn func(K)) {
	for k, who := range marks {
		if who&c == 0 {
			continue
		}
		fn(k)
		unmark(marks, k, who, c)
	}
}

// takeBoth takes consumer c's content marks (dirty), calling full, and,
// with counters, its counter marks (warm), calling warm, once per key: a
// key taken for its content is no longer warm for c.
func takeBoth[K comparable](dirty, warm map[K]Consumer, c Consumer, counters bool, full, warmFn func(K)) {
	take(dirty, c, func(k K) {
		if counters {
			if who, ok := warm[k]; ok {
				unmark(warm, k, who, c)
			}
		}
		full(k)
	})
	if counters {
		take(warm, c, warmFn)
	}
}

// Snapshot returns everything as one Reset update (for a new watcher).
func (inv *Inventory) Snapshot() model.Update {
	return model.Update{Reset: true, Assets: inv.Assets(), Conversations: inv.Conversations(), Stats: inv.Stats()}
}

// Restore loads stored assets, conversations and statistics into an empty
// inventory, rebuilding its indexes. Nothing is marked as changed.
func (inv *Inventory) Restore(assets []model.Asset, convs []model.Conversation, stats []model.CaptureStats) {
	for i := range assets {
		a := assets[i].Clone()
		inv.assets[a.ID] = &a
		for _, ip := range a.IPs {
			inv.byIP[ip] = a.ID
		}
		for _, m := range a.MACs {
			mi := &macInfo{asset: a.ID, gateway: a.Gateway}
			for _, ip := range a.IPs {
				mi.ips = append(mi.ips, ipUse{ip: ip, claimed: true})
			}
			inv.byMAC[m] = mi
		}
	}
	for i := range convs {
		c := convs[i]
		inv.convs[keyOf(&c)] = &c
	}
	for _, s := range stats {
		inv.stats[s.Source] = s
	}
}
