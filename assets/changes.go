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
	for id, who := range inv.dirtyAssets {
		if who&c == 0 {
			continue
		}
		if a := inv.assets[id]; a != nil {
			inv.inferRoles(a)
			u.Assets = append(u.Assets, a.Clone())
		}
		if who &^= c; who == 0 {
			delete(inv.dirtyAssets, id)
		} else {
			inv.dirtyAssets[id] = who
		}
	}
	for id, who := range inv.removed {
		if who&c == 0 {
			continue
		}
		u.Removed = append(u.Removed, id)
		if who &^= c; who == 0 {
			delete(inv.removed, id)
		} else {
			inv.removed[id] = who
		}
	}
	for k, who := range inv.dirtyConvs {
		if who&c == 0 {
			continue
		}
		if cv := inv.convs[k]; cv != nil {
			u.Conversations = append(u.Conversations, *cv)
		}
		if who &^= c; who == 0 {
			delete(inv.dirtyConvs, k)
		} else {
			inv.dirtyConvs[k] = who
		}
	}
	for k, who := range inv.dirtyStats {
		if who&c == 0 {
			continue
		}
		u.Stats = append(u.Stats, inv.stats[k])
		if who &^= c; who == 0 {
			delete(inv.dirtyStats, k)
		} else {
			inv.dirtyStats[k] = who
		}
	}
	slices.SortFunc(u.Assets, func(a, b model.Asset) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return u
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
