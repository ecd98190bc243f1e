package decode

import (
	"net/netip"
	"time"

	"otscope/model"
)

// flowKey is a canonical 5-tuple (plus VLAN): endpoint a sorts before b, so
// both directions of a flow share one entry.
type flowKey struct {
	a, b   netip.Addr
	pa, pb uint16
	proto  uint8 // 6 tcp, 17 udp, 1 icmp
	vlan   uint16
}

// flowState is one flow's bookkeeping: about 150 bytes with its map slot.
type flowState struct {
	key        flowKey
	macA, macB model.MAC
	first      time.Time
	last       time.Time
	packets    uint64 // since the last flush
	bytes      uint64
	server     int8 // 0: a serves, 1: b serves, -1: unknown
	strong     bool // server known from the handshake
	sent       [2]bool
	reported   bool // the conversation has been reported (Flows counted)
	service    bool // the service has been reported
	dirty      bool
	host       [2]*hostState // sender state of side a and b, checked before use
}

type tcpFlags struct{ syn, ack, fin, rst bool }

// flowTable holds the live flows of one decoder.
type flowTable struct {
	m         map[flowKey]*flowState
	dirty     []*flowState
	idle      time.Duration
	max       int
	lastSweep time.Time
	evicted   uint64
}

func (t *flowTable) init(idle time.Duration, maxFlows int) {
	t.m = make(map[flowKey]*flowState, 1024)
	t.idle = idle
	t.max = maxFlows
}

func addrLess(a netip.Addr, pa uint16, b netip.Addr, pb uint16) bool {
	if c := a.Compare(b); c != 0 {
		return c < 0
	}
	return pa < pb
}

// update counts one packet of a flow and returns the flow and the sender's
// side (0 = a, 1 = b).
func (t *flowTable) update(d *Decoder, fi *frameInfo, src, dst netip.Addr, sp, dp uint16, proto uint8, payload int, fl tcpFlags) (*flowState, int) {
	k := flowKey{a: src, b: dst, pa: sp, pb: dp, proto: proto, vlan: fi.vlan}
	side := 0
	if !addrLess(src, sp, dst, dp) {
		k.a, k.b, k.pa, k.pb = dst, src, dp, sp
		side = 1
	}
	f := t.m[k]
	if f == nil {
		f = &flowState{key: k, first: d.now, server: -1}
		switch proto {
		case 6, 17:
			if s := serverSide(proto == 17, k.pa, k.pb); s >= 0 {
				f.server = int8(s)
			}
		case 1:
			// ICMP: the first sender asks (echo request), the other answers.
			f.server = int8(1 - side)
		}
		t.m[k] = f
	}
	if side == 0 {
		f.macA = fi.src
		f.macB = fi.dst
	} else {
		f.macB = fi.src
		f.macA = fi.dst
	}
	if proto == 6 && fl.syn && !f.strong {
		// SYN from the client, SYN/ACK from the server.
		s := int8(1 - side)
		if fl.ack {
			s = int8(side)
		}
		if !f.reported || f.server == s {
			f.server, f.strong = s, true
		}
	}
	if f.server < 0 && proto == 17 {
		// unknown UDP ports: the first sender is the requester.
		f.server = int8(1 - side)
	}
	if f.server < 0 && proto == 6 && payload > 0 && !f.sent[side] && !f.sent[1-side] {
		// TCP mid-stream with unknown ports: the first one to send data is
		// usually the client (request before response).
		f.server = int8(1 - side)
	}
	f.sent[side] = true
	f.packets++
	f.bytes += uint64(fi.length)
	f.last = d.now
	if !f.dirty {
		f.dirty = true
		t.dirty = append(t.dirty, f)
	}
	return f, side
}

// flush emits one conversation observation per flow that saw traffic.
func (t *flowTable) flush(d *Decoder) {
	for _, f := range t.dirty {
		t.emit(d, f)
	}
	t.dirty = t.dirty[:0]
}

func (t *flowTable) emit(d *Decoder, f *flowState) {
	f.dirty = false
	if f.packets == 0 {
		return
	}
	ca, cm, cp := f.key.a, f.macA, f.key.pa
	sa, sm, sp := f.key.b, f.macB, f.key.pb
	if f.server == 0 {
		ca, cm, cp, sa, sm, sp = sa, sm, sp, ca, cm, cp
	}
	_ = cp
	transport, proto := transportName(f.key.proto), ""
	switch f.key.proto {
	case 6, 17:
		proto = portProtocol(f.key.proto == 17, sp)
		if proto == "" {
			proto = transport
		}
	case 1:
		proto, sp = "icmp", 0
		if f.key.a.Is6() {
			proto = "icmpv6"
		}
	}
	var flows uint64
	if !f.reported {
		flows = 1
		f.reported = true
	}
	d.obs = append(d.obs, model.Observation{
		Kind:      model.ObsConversation,
		Subject:   model.Endpoint{MAC: unicastOrZero(cm), IP: ca, VLAN: f.key.vlan},
		Peer:      model.Endpoint{MAC: unicastOrZero(sm), IP: sa, VLAN: f.key.vlan},
		Packets:   f.packets,
		Bytes:     f.bytes,
		Flows:     flows,
		First:     f.first,
		Last:      f.last,
		Transport: transport,
		Port:      sp,
		Protocol:  proto,
		Source:    d.source(proto, netip.Addr{}),
	})
	f.packets, f.bytes = 0, 0
}

func unicastOrZero(m model.MAC) model.MAC {
	if m.IsUnicast() {
		return m
	}
	return model.MAC{}
}

func transportName(p uint8) string {
	switch p {
	case 6:
		return "tcp"
	case 17:
		return "udp"
	}
	return "icmp"
}

// maybeSweep evicts idle flows every few seconds of capture time, and sooner
// when the table is full.
func (t *flowTable) maybeSweep(d *Decoder) {
	full := len(t.m) >= t.max
	if !full && d.now.Sub(t.lastSweep) < t.idle/8 {
		return
	}
	if t.lastSweep.IsZero() && !full {
		t.lastSweep = d.now
		return
	}
	t.lastSweep = d.now
	idle := t.idle
	if full {
		idle /= 4
	}
	cutoff := d.now.Add(-idle)
	for k, f := range t.m {
		if f.last.Before(cutoff) {
			if f.dirty {
				continue // reported at the next flush, evicted at the next sweep
			}
			delete(t.m, k)
			t.evicted++
		}
	}
}
