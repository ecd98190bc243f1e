package decode

import (
	"net/netip"
	"time"

	"otscope/model"
)

// flowKey is a canonical 5-tuple (plus VLAN): endpoint a sorts before b, so
// both directions of a flow share one entry. Addresses are kept as 16 bytes
// (IPv4 mapped) rather than netip.Addr to keep the key at 40 bytes.
type flowKey struct {
	a, b   [16]byte
	pa, pb uint16
	proto  uint8 // 6 tcp, 17 udp, 1 icmp
	vlan   uint16
}

// flowState is one flow's bookkeeping: 72 bytes, plus about 50 for its map
// slot. The key lives only in the map and in the dirty list.
type flowState struct {
	host     [2]*hostState // sender state of side a and b, checked before use
	first    int64         // capture time, Unix nanoseconds
	last     int64
	app      *appState // per-flow state of the application parser, or nil
	parser   uint8     // index into parsers (0: none), chosen when the flow starts
	packets  uint32    // since the last counters flush (Flush, at most every second or so)
	bytes    uint64
	server   int8 // 0: a serves, 1: b serves, -1: unknown
	strong   bool // server known from the handshake
	sent     [2]bool
	reported bool // the conversation has been reported (Flows counted)
	service  bool // the service has been reported
	dirty    bool
	// probed marks a prober's exchange (see Exchange): the sides are
	// known, not guessed from the ports
	probed bool
}

type tcpFlags struct{ syn, ack, fin, rst bool }

// flowTable holds the live flows of one decoder.
type flowTable struct {
	m         map[flowKey]*flowState
	fresh     []flowKey // flows not reported yet
	dirty     []flowKey // reported flows with counters since
	done      int       // dirty[:done] reported by this counters flush
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

func addrLess(a *[16]byte, pa uint16, b *[16]byte, pb uint16) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return pa < pb
}

func addrOf(b [16]byte) netip.Addr { return netip.AddrFrom16(b).Unmap() }

// update counts one packet of a flow and returns the flow and the sender's
// side (0 = a, 1 = b).
func (t *flowTable) update(d *Decoder, fi *frameInfo, src, dst netip.Addr, sp, dp uint16, proto uint8, payload int, fl tcpFlags) (*flowState, int) {
	k := flowKey{a: src.As16(), b: dst.As16(), pa: sp, pb: dp, proto: proto, vlan: fi.vlan}
	side := 0
	if !addrLess(&k.a, sp, &k.b, dp) {
		k.a, k.b, k.pa, k.pb = k.b, k.a, dp, sp
		side = 1
	}
	now := d.now.UnixNano()
	f := t.m[k]
	if f == nil {
		f = &flowState{first: now, server: -1}
		switch proto {
		case 6, 17:
			if s := serverSide(proto == 17, k.pa, k.pb); s >= 0 {
				f.server = int8(s)
			}
			f.parser = parserFor(proto == 17, k.pa, k.pb)
			if f.parser == 0 && proto == 17 {
				// a PROFINET device answers a connect from a port of its own
				f.parser = pnExpectParser(d, addrOf(k.a), addrOf(k.b), k.pa, k.pb)
			}
		case 1:
			// ICMP: the first sender asks (echo request), the other answers.
			f.server = int8(1 - side)
		}
		t.m[k] = f
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
	f.last = now
	if !f.dirty {
		f.dirty = true
		if f.reported {
			t.dirty = append(t.dirty, k)
		} else {
			t.fresh = append(t.fresh, k)
		}
	}
	return f, side
}

// flushFresh emits one conversation observation per flow not reported yet.
func (t *flowTable) flushFresh(d *Decoder) {
	for i := range t.fresh {
		if f := t.m[t.fresh[i]]; f != nil {
			t.emit(d, &t.fresh[i], f)
		}
	}
	t.fresh = t.fresh[:0]
}

// flushCounters emits one conversation observation per flow that saw
// traffic since its last report, at most budget of them, and returns the
// budget left and whether no flow is left.
func (t *flowTable) flushCounters(d *Decoder, budget int) (int, bool) {
	for ; t.done < len(t.dirty); t.done++ {
		if budget == 0 {
			return 0, false
		}
		if f := t.m[t.dirty[t.done]]; f != nil && f.dirty {
			t.emit(d, &t.dirty[t.done], f)
			budget--
		}
	}
	t.dirty, t.done = t.dirty[:0], 0
	return budget, true
}

func (t *flowTable) emit(d *Decoder, k *flowKey, f *flowState) {
	f.dirty = false
	if f.packets == 0 {
		return
	}
	ca, cm := addrOf(k.a), f.mac(0)
	sa, sm, sp := addrOf(k.b), f.mac(1), k.pb
	if f.server == 0 {
		ca, cm, sa, sm, sp = sa, sm, ca, cm, k.pa
	}
	transport, proto := transportName(k.proto), ""
	identified := false
	switch k.proto {
	case 6, 17:
		if f.app != nil && f.app.proto != "" {
			proto, identified = f.app.proto, true
		} else if proto = portProtocol(k.proto == 17, sp); proto == "" {
			proto = transport
		}
	case 1:
		proto, sp = "icmp", 0
		if !ca.Is4() {
			proto = "icmpv6"
		}
	}
	var flows uint64
	if !f.reported {
		flows = 1
		f.reported = true
	}
	d.obs = append(d.obs, model.Observation{
		Kind:       model.ObsConversation,
		Subject:    model.Endpoint{MAC: unicastOrZero(cm), IP: ca, VLAN: k.vlan},
		Peer:       model.Endpoint{MAC: unicastOrZero(sm), IP: sa, VLAN: k.vlan},
		Packets:    uint64(f.packets),
		Bytes:      f.bytes,
		Flows:      flows,
		First:      time.Unix(0, f.first).UTC(),
		Last:       time.Unix(0, f.last).UTC(),
		Transport:  transport,
		Port:       sp,
		Protocol:   proto,
		Identified: identified,
		Source:     d.source(proto, netip.Addr{}),
	})
	f.packets, f.bytes = 0, 0
}

// mac is the MAC side i sent from (zero if it never sent).
func (f *flowState) mac(i int) model.MAC {
	if h := f.host[i]; h != nil {
		return h.key.mac
	}
	return model.MAC{}
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
	cutoff := d.now.Add(-idle).UnixNano()
	for k, f := range t.m {
		if f.last < cutoff {
			if f.dirty {
				continue // reported at the next flush, evicted at the next sweep
			}
			delete(t.m, k)
			t.evicted++
		}
	}
}
