package assets

import (
	"slices"
	"strings"

	"otscope/model"
)

// Changes returns, as copies, what changed for consumer c since it last
// asked, and forgets those changes for c.
func (inv *Inventory) Changes(c Consumer) model.Update {
	var u model.Update
	take(inv.dirtyAssets, c, func(id model.AssetID) {
		if a := inv.assets[id]; a != nil {
			inv.inferRoles(a)
			u.Assets = append(u.Assets, a.Clone())
		}
	})
	take(inv.removed, c, func(id model.AssetID) { u.Removed = append(u.Removed, id) })
	take(inv.dirtyConvs, c, func(k convKey) {
		if cv := inv.convs[k]; cv != nil {
			u.Conversations = append(u.Conversations, *cv)
		}
	})
	take(inv.dirtyStats, c, func(k string) { u.Stats = append(u.Stats, inv.stats[k]) })
	slices.SortFunc(u.Assets, func(a, b model.Asset) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return u
}

// take calls fn for each key marked for consumer c and clears c's mark,
// dropping keys no consumer still wants.
func take[K comparable](marks map[K]Consumer, c Consumer, fn func(K)) {
	for k, who := range marks {
		if who&c == 0 {
			continue
		}
		fn(k)
		if who &^= c; who == 0 {
			delete(marks, k)
		} else {
			marks[k] = who
		}
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
