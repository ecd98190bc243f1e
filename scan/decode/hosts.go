package decode

import (
	"net/netip"
	"time"

	"otscope/model"
)

// hostKey identifies a sender as one frame shows it.
type hostKey struct {
	mac  model.MAC
	ip   netip.Addr
	vlan uint16
}

// hostState accumulates one sender's counters between flushes.
type hostState struct {
	key            hostKey
	packets, bytes uint64 // since the last flush
	first, last    time.Time
	l2             uint32 // protocol bits already reported
	newL2          uint32 // protocol bits to report at the next flush
	reported       bool   // the host itself was reported at least once
	fresh          bool   // in Decoder.freshHosts: to report at the next flush
	dirty          bool   // in Decoder.dirtyHosts: counters to report at the next Flush
}

// usableIP reports whether a source address can identify a host.
func usableIP(a netip.Addr) bool {
	return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() &&
		!(a.Is4() && a.As4() == [4]byte{255, 255, 255, 255})
}

// sight records a frame sent by (fi.src, ip) and returns its state.
func (d *Decoder) sight(fi *frameInfo, ip netip.Addr) *hostState {
	if !usableIP(ip) {
		ip = netip.Addr{}
	}
	var mac model.MAC
	if fi.hasMAC && fi.src.IsUnicast() {
		mac = fi.src
	}
	if mac.IsZero() && !ip.IsValid() {
		return nil
	}
	k := hostKey{mac: mac, ip: ip, vlan: fi.vlan}
	h := d.hosts[k]
	if h == nil {
		h = &hostState{key: k, first: d.now}
		d.hosts[k] = h
	}
	d.count(h, fi)
	return h
}

// count adds the current frame to a host's counters.
func (d *Decoder) count(h *hostState, fi *frameInfo) {
	h.packets++
	h.bytes += uint64(fi.length)
	h.last = d.now
	if !h.reported {
		d.freshen(h)
	} else if !h.dirty {
		h.dirty = true
		d.dirtyHosts = append(d.dirtyHosts, h)
	}
}

// freshen queues h for the next flush, counters or not.
func (d *Decoder) freshen(h *hostState) {
	if !h.fresh {
		h.fresh = true
		d.freshHosts = append(d.freshHosts, h)
	}
}

// sightMAC records a layer-2 frame and the layer-2 protocol it spoke.
func (d *Decoder) sightMAC(fi *frameInfo, proto uint8) {
	h := d.sight(fi, netip.Addr{})
	if h == nil {
		return
	}
	bit := uint32(1) << proto
	if h.l2&bit == 0 {
		h.l2 |= bit
		h.newL2 |= bit
		d.freshen(h)
	}
}

// flushFreshHosts emits one host observation per host not reported yet or
// with new layer-2 protocols.
func (d *Decoder) flushFreshHosts() {
	for _, h := range d.freshHosts {
		h.fresh = false
		d.emitHost(h)
	}
	clear(d.freshHosts)
	d.freshHosts = d.freshHosts[:0]
}

// flushHostCounters emits one host observation per host that sent since its
// last report, at most budget of them, and returns the budget left and
// whether no host is left. A host reported here that sends again is queued
// again.
func (d *Decoder) flushHostCounters(budget int) (int, bool) {
	for ; d.hostsDone < len(d.dirtyHosts); d.hostsDone++ {
		if budget == 0 {
			return 0, false
		}
		h := d.dirtyHosts[d.hostsDone]
		h.dirty = false
		if h.packets > 0 { // not reported already as a fresh host
			d.emitHost(h)
			budget--
		}
	}
	clear(d.dirtyHosts)
	d.dirtyHosts, d.hostsDone = d.dirtyHosts[:0], 0
	return budget, true
}

func (d *Decoder) emitHost(h *hostState) {
	o := model.Observation{
		Kind:    model.ObsHost,
		Subject: model.Endpoint{MAC: h.key.mac, IP: h.key.ip, VLAN: h.key.vlan},
		Packets: h.packets,
		Bytes:   h.bytes,
		First:   h.first,
		Last:    h.last,
		Source:  d.source("", h.key.ip),
	}
	d.obs = append(d.obs, o)
	for bits := h.newL2; bits != 0; bits &= bits - 1 {
		p := trailingZeros(bits)
		d.obs = append(d.obs, model.Observation{
			Kind:     model.ObsHost,
			Subject:  o.Subject,
			First:    h.last,
			Last:     h.last,
			Protocol: l2ProtoNames[p],
			Source:   d.source(l2ProtoNames[p], netip.Addr{}),
		})
	}
	h.newL2 = 0
	h.packets, h.bytes = 0, 0
	h.reported = true
}

func trailingZeros(v uint32) int {
	n := 0
	for v&1 == 0 {
		v >>= 1
		n++
	}
	return n
}

// maxHosts bounds the senders the decoder remembers between flushes. Past
// it the table is emptied at the next flush: a sender seen again is counted
// afresh and its layer-2 protocols are reported once more (the inventory
// merges repeats), so a flood of distinct MACs costs bounded memory.
const maxHosts = 1 << 16

// trimHosts empties the host table when it holds more than maxHosts
// senders; it runs after the last part of a counters flush, when no sender
// is queued.
func (d *Decoder) trimHosts() {
	if len(d.hosts) > maxHosts {
		clear(d.hosts)
	}
}

// maxBroadcasts bounds the directed broadcast addresses remembered.
const maxBroadcasts = 4096

// noteBroadcast records that ip, a unicast-looking IPv4 address, was the
// destination of a link-layer broadcast frame: a subnet's directed
// broadcast address (10.10.1.255 for 10.10.1.0/24), which receives
// datagrams but is no device. The same address reached through a router
// (a unicast frame to the router's MAC) is then known not to be a server.
func (d *Decoder) noteBroadcast(fi *frameInfo, ip netip.Addr) {
	if fi.dst.IsBroadcast() {
		d.markBroadcast(ip)
	}
}

// markBroadcast records ip as a broadcast address on a payload's word (a
// BACnet Original-Broadcast-NPDU is sent to one by definition).
func (d *Decoder) markBroadcast(ip netip.Addr) {
	if ip.Is4() && usableIP(ip) && len(d.bcast) < maxBroadcasts {
		d.bcast[ip] = struct{}{}
	}
}

// isBroadcast reports whether ip is a directed broadcast address seen.
func (d *Decoder) isBroadcast(ip netip.Addr) bool {
	_, ok := d.bcast[ip]
	return ok
}

// claimKey identifies a claim within one batch.
type claimKey struct {
	mac   model.MAC
	ip    netip.Addr
	vlan  uint16
	proto string
}

// claim records that the station mac itself claimed ip (ARP, DHCP). A claim
// repeated before the next flush only widens the first one's time span, so a
// burst of identical ARP replies costs one observation per batch.
func (d *Decoder) claim(mac model.MAC, ip netip.Addr, vlan uint16, proto string) {
	if !mac.IsUnicast() || !usableIP(ip) {
		return
	}
	k := claimKey{mac: mac, ip: ip, vlan: vlan, proto: proto}
	if i, ok := d.claims[k]; ok && i < len(d.obs) && d.obs[i].Binding == model.BindClaimed && d.obs[i].Subject.MAC == mac {
		if d.now.After(d.obs[i].Last) {
			d.obs[i].Last = d.now
		}
		return
	}
	d.claims[k] = len(d.obs)
	d.obs = append(d.obs, model.Observation{
		Kind:     model.ObsHost,
		Subject:  model.Endpoint{MAC: mac, IP: ip, VLAN: vlan},
		Binding:  model.BindClaimed,
		First:    d.now,
		Last:     d.now,
		Protocol: proto,
		Source:   d.source(proto, ip),
	})
}

// source builds the provenance of something learnt from the current frame.
func (d *Decoder) source(proto string, ip netip.Addr) model.Source {
	return model.Source{
		Kind:     d.opts.Kind,
		Protocol: proto,
		Origin:   d.opts.Origin,
		Frame:    d.frame,
		Time:     d.now,
		IP:       ip,
	}
}

// fact records field=value about subject, learnt from proto in this frame.
func (d *Decoder) fact(subject model.Endpoint, field, value, proto string) {
	d.factDetail(subject, field, value, "", proto)
}

// factDetail records a fact with an explanation. A fact about no address
// and no MAC (the anonymous client of an Exchange) is about nobody: dropped.
func (d *Decoder) factDetail(subject model.Endpoint, field, value, detail, proto string) {
	if value == "" || (!subject.IP.IsValid() && subject.MAC.IsZero()) {
		return
	}
	d.obs = append(d.obs, model.Observation{
		Kind:    model.ObsFact,
		Subject: subject,
		First:   d.now,
		Last:    d.now,
		Fact: model.Fact{
			Field:    field,
			Value:    value,
			Detail:   detail,
			Source:   d.source(proto, subject.IP),
			LastSeen: d.now,
			Count:    1,
		},
	})
}
