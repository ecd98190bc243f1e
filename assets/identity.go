package assets

import (
	"net/netip"
	"slices"

	"otscope/model"
)

// minGatewayAddrs is how many addresses of one family a MAC must send for,
// never having claimed them, to be a gateway: a router forwards for
// several; a host with a second address, or readdressed during the capture
// (a DCP Set, a new lease), sends from two.
const minGatewayAddrs = 3

// resolve finds (and with create, makes) the asset an endpoint belongs to.
//
// On the local segment a station is its MAC, and the IPs it uses join that
// asset. A MAC that sends for minGatewayAddrs or more addresses of one
// family that it never claimed (by ARP or DHCP) is a router or firewall: it
// becomes a gateway asset, and each of those addresses becomes an asset of
// its own, keyed by IP, taking its facts and services along.
func (inv *Inventory) resolve(ep model.Endpoint, claimed, create bool) *model.Asset {
	if ep.Sub != "" {
		return inv.subAsset(ep)
	}
	ip := ep.IP
	if !ep.MAC.IsUnicast() {
		if !ip.IsValid() {
			return nil
		}
		if id, ok := inv.byIP[ip]; ok {
			return inv.assets[id]
		}
		if !create {
			return nil
		}
		return inv.newIPAsset(ip)
	}
	mi := inv.macInfo(ep.MAC, create)
	if mi == nil {
		if ip.IsValid() {
			if id, ok := inv.byIP[ip]; ok {
				return inv.assets[id]
			}
		}
		return nil
	}
	a := inv.assets[mi.asset]
	if !ip.IsValid() {
		return a
	}
	if ip.Is6() && ip.IsLinkLocalUnicast() {
		claimed = true // link-local addresses never cross a router
	}
	if u := mi.use(ip); u != nil {
		if claimed && !u.claimed {
			u.claimed = true
			inv.bindIP(a, ip)
		}
		if mi.gateway && !u.claimed {
			return inv.routed(ip)
		}
		return a
	}
	mi.ips = append(mi.ips, ipUse{ip: ip, claimed: claimed})
	if claimed {
		inv.bindIP(a, ip)
		return a
	}
	if mi.gateway {
		return inv.routed(ip)
	}
	if inv.unclaimed(mi, ip.Is4()) >= minGatewayAddrs {
		inv.becomeGateway(mi)
		return inv.routed(ip)
	}
	if owner, ok := inv.byIP[ip]; ok && owner != a.ID {
		// Known elsewhere: a routed host now seen on its own segment merges
		// in; an address two stations send from (VRRP, a duplicate, a device
		// readdressed during the capture) stays with both.
		if o := inv.assets[owner]; o != nil && len(o.MACs) == 0 {
			inv.merge(a, o)
		}
	}
	inv.bindIP(a, ip)
	return a
}

// subAsset returns the asset of a device behind a protocol router (a BACnet
// device on another BACnet network): keyed by the router's address and the
// device's own address, so it never merges into the router.
func (inv *Inventory) subAsset(ep model.Endpoint) *model.Asset {
	id := model.SubAssetID(ep)
	if a := inv.assets[id]; a != nil {
		return a
	}
	if inv.full() {
		return nil
	}
	a := &model.Asset{ID: id}
	inv.assets[id] = a
	delete(inv.removed, id)
	inv.touch(a)
	return a
}

func (inv *Inventory) unclaimed(mi *macInfo, v4 bool) int {
	n := 0
	for _, u := range mi.ips {
		if ip := u.ip; !u.claimed && ip.Is4() == v4 && !(ip.Is6() && ip.IsLinkLocalUnicast()) {
			n++
		}
	}
	return n
}

// macInfo returns (creating with create) the index entry and asset of a MAC.
func (inv *Inventory) macInfo(m model.MAC, create bool) *macInfo {
	if mi := inv.byMAC[m]; mi != nil {
		return mi
	}
	if !create || inv.full() {
		return nil
	}
	id := model.MACAssetID(m)
	a := &model.Asset{ID: id, MACs: []model.MAC{m}}
	inv.assets[id] = a
	mi := &macInfo{asset: id}
	inv.byMAC[m] = mi
	if v := inv.vendor(m); v != "" {
		inv.addFact(a, model.Fact{
			Field:  model.FieldVendor,
			Value:  v,
			Source: model.Source{Kind: model.Derived, Protocol: "oui", Origin: "IEEE registry"},
		})
	}
	derive(a)
	inv.touch(a)
	return mi
}

// bindIP records that ip belongs to asset a and applies pending facts.
func (inv *Inventory) bindIP(a *model.Asset, ip netip.Addr) {
	if prev, ok := inv.byIP[ip]; ok && prev != a.ID {
		if p := inv.assets[prev]; p != nil && len(p.MACs) == 0 {
			inv.merge(a, p)
		}
	}
	inv.byIP[ip] = a.ID
	if !slices.Contains(a.IPs, ip) {
		a.IPs = addAddr(a.IPs, ip)
		inv.touch(a)
	}
	if lst, ok := inv.pending[ip]; ok {
		delete(inv.pending, ip)
		for i := range lst {
			inv.addFact(a, lst[i].Fact)
		}
	}
}

// routed returns the IP-keyed asset of a host behind a gateway.
func (inv *Inventory) routed(ip netip.Addr) *model.Asset {
	if id, ok := inv.byIP[ip]; ok {
		if a := inv.assets[id]; a != nil {
			if mi := inv.macOfAsset(a); mi == nil || !mi.gateway || mi.claimed(ip) {
				return a
			}
		}
	}
	return inv.newIPAsset(ip)
}

func (inv *Inventory) macOfAsset(a *model.Asset) *macInfo {
	if len(a.MACs) == 0 {
		return nil
	}
	return inv.byMAC[a.MACs[0]]
}

func (inv *Inventory) newIPAsset(ip netip.Addr) *model.Asset {
	id := model.IPAssetID(ip)
	a := inv.assets[id]
	if a == nil {
		if inv.full() {
			return nil
		}
		a = &model.Asset{ID: id}
		inv.assets[id] = a
		delete(inv.removed, id)
	}
	inv.bindIP(a, ip)
	inv.touch(a)
	return a
}

// becomeGateway marks a MAC as a router's and moves every address it did not
// claim, with the facts and services seen for it, to an asset of its own.
func (inv *Inventory) becomeGateway(mi *macInfo) {
	mi.gateway = true
	g := inv.assets[mi.asset]
	g.Gateway = true
	inv.addFact(g, model.Fact{
		Field:  model.FieldRole,
		Value:  model.RoleGateway,
		Detail: "sends traffic for several IP addresses it never claimed by ARP or DHCP",
		Source: model.Source{Kind: model.Derived, Protocol: "ip", Origin: "otscope", Time: g.LastSeen},
	})
	for _, u := range mi.ips {
		ip := u.ip
		if u.claimed || (ip.Is6() && ip.IsLinkLocalUnicast()) {
			continue
		}
		var h *model.Asset
		if owner, ok := inv.byIP[ip]; ok && owner != g.ID && inv.assets[owner] != nil {
			// the address belongs to a station seen with its own MAC: what
			// was noted on the router for it goes there
			h = inv.assets[owner]
		} else {
			h = &model.Asset{ID: model.IPAssetID(ip)}
			if prev := inv.assets[h.ID]; prev != nil {
				h = prev
			} else {
				inv.assets[h.ID] = h
				delete(inv.removed, h.ID)
			}
			inv.byIP[ip] = h.ID
		}
		g.IPs = slices.DeleteFunc(g.IPs, func(a netip.Addr) bool { return a == ip })
		h.IPs = addAddr(h.IPs, ip)
		for _, f := range factsFor(g.Facts, ip) {
			inv.addFact(h, f)
		}
		g.Facts = slices.DeleteFunc(g.Facts, func(f model.Fact) bool { return f.Source.IP == ip })
		for _, s := range g.Services {
			if s.IP == ip {
				inv.addService(h, s, false)
			}
		}
		g.Services = slices.DeleteFunc(g.Services, func(s model.Service) bool { return s.IP == ip })
		inv.seen(h, g.FirstSeen, g.LastSeen)
		derive(h)
		inv.touch(h)
	}
	derive(g)
	inv.touch(g)
	inv.reownConversations()
}

func factsFor(facts []model.Fact, ip netip.Addr) []model.Fact {
	var out []model.Fact
	for _, f := range facts {
		if f.Source.IP == ip {
			out = append(out, f)
		}
	}
	return out
}

// merge folds asset src into dst and removes src.
func (inv *Inventory) merge(dst, src *model.Asset) {
	if dst.ID == src.ID {
		return
	}
	for _, ip := range src.IPs {
		dst.IPs = addAddr(dst.IPs, ip)
		inv.byIP[ip] = dst.ID
	}
	for _, f := range src.Facts {
		inv.addFact(dst, f)
	}
	for _, s := range src.Services {
		inv.addService(dst, s, false)
	}
	for _, v := range src.VLANs {
		dst.VLANs = addSorted(dst.VLANs, v)
	}
	for _, p := range src.Protocols {
		dst.Protocols = addString(dst.Protocols, p)
	}
	inv.seen(dst, src.FirstSeen, src.LastSeen)
	dst.Packets += src.Packets
	dst.Bytes += src.Bytes
	delete(inv.assets, src.ID)
	delete(inv.dirtyAssets, src.ID)
	delete(inv.warmAssets, src.ID)
	if inv.want != 0 {
		inv.removed[src.ID] = inv.want
	}
	derive(dst)
	inv.touch(dst)
	inv.reownConversations()
}

// reownConversations recomputes which assets the conversations connect after
// addresses moved. Moves are rare (a gateway found, a routed host merged).
func (inv *Inventory) reownConversations() {
	for k, c := range inv.convs {
		cl := inv.owner(model.Endpoint{IP: c.ClientIP, MAC: c.ClientMAC})
		sv := inv.owner(model.Endpoint{IP: c.ServerIP, MAC: c.ServerMAC})
		if cl != c.Client || sv != c.Server {
			c.Client, c.Server = cl, sv
			inv.dirtyConvs[k] = allConsumers
		}
	}
}

// derive recomputes the summary fields of an asset from its facts.
func derive(a *model.Asset) {
	a.Vendor = ""
	var names, roles []string
	bestVendor := 0
	for _, f := range a.Facts {
		switch f.Field {
		case model.FieldVendor:
			rank := 1
			if f.Source.Kind != model.Derived {
				rank = 2 // the device said so
			}
			if rank > bestVendor {
				a.Vendor, bestVendor = f.Value, rank
			}
		case model.FieldHostname, model.FieldStationName:
			names = appendUnique(names, f.Value)
		case model.FieldRole:
			roles = appendUnique(roles, f.Value)
		}
	}
	for _, f := range a.Facts {
		if f.Field == model.FieldDNSName {
			names = appendUnique(names, f.Value)
		}
	}
	a.Names = names
	slices.SortFunc(roles, compareRoles)
	a.Roles = roles
	deriveIdentity(a)
}

func appendUnique(lst []string, s string) []string {
	if slices.Contains(lst, s) {
		return lst
	}
	return append(lst, s)
}
