package plant

import "otscope/model"

// side says which end of a dialog sends a step.
type side uint8

const (
	cli side = iota
	srv
)

// wait says how long a dialog waits after a step before the next one.
type wait uint8

const (
	wNet    wait = iota // one-way network latency
	wProc               // latency plus the peer's processing time
	wDelAck             // the receiver's delayed-ACK timer
	wCycle              // until the next polling cycle
	wIdle               // session over: idle time before the next one
	wStart              // short pause after the handshake
)

// step is one frame of a dialog script. msg 0 means no payload.
type step struct {
	from  side
	flags uint8
	msg   uint8
	w     wait
}

// script is the frame sequence of one kind of session. Steps from loopStart
// up to loopEnd repeat (polling); loopEnd <= 0 means no loop.
type script struct {
	steps     []step
	loopStart int
	loopEnd   int
}

// app builds the payloads of one application protocol; its state (ids,
// counters, process values) lives in the implementing struct.
type app interface {
	payload(g *Generator, d *dialog, msg uint8, b []byte) []byte
}

// dialog is a task that plays a script between a client and a server node
// over TCP, UDP or ICMP, restarting with a new client port (and, for TCP,
// new sequence numbers) after each session.
type dialog struct {
	proto      byte
	c, s       *node
	cdst, sdst model.MAC
	cport      uint16
	sport      uint16
	fixedPort  uint16 // client port when the protocol fixes it (NTP, CIP)
	cseq, sseq uint32
	sc         *script
	app        app
	pc         int
	cycles     int
	maxCycles  int  // 0: poll forever
	once       bool // play the script once, then stop
	interval   int64
	idle       int64
	cycleStart int64
	net        int64 // typical one-way latency
}

func (d *dialog) begin(g *Generator) {
	d.cycles = 0
	switch {
	case d.fixedPort != 0:
		d.cport = d.fixedPort
	case d.c.windows || d.c.dev == nil || d.c.dev.Routed:
		d.cport = uint16(49152 + g.rng.IntN(16000))
	default:
		d.cport = uint16(32768 + g.rng.IntN(28000))
	}
	d.cseq = g.rng.Uint32()
	d.sseq = g.rng.Uint32()
}

func (d *dialog) fire(g *Generator) int64 {
	if d.pc == 0 {
		d.begin(g)
	}
	if d.pc == d.sc.loopStart {
		d.cycleStart = g.now
	}
	st := d.sc.steps[d.pc]
	var payload []byte
	if st.msg != 0 {
		g.pl = d.app.payload(g, d, st.msg, g.pl[:0])
		payload = g.pl
	}
	from, dst, src, dstIP, sport, dport := d.c, d.cdst, d.c.ip, d.s.ip, d.cport, d.sport
	if st.from == srv {
		from, dst, src, dstIP, sport, dport = d.s, d.sdst, d.s.ip, d.c.ip, d.sport, d.cport
	}
	switch d.proto {
	case protoTCP:
		seq, ack := &d.cseq, d.sseq
		if st.from == srv {
			seq, ack = &d.sseq, d.cseq
		}
		g.tcp(from, dst, src, dstIP, sport, dport, *seq, ack, st.flags, payload)
		*seq += uint32(len(payload))
		if st.flags&(fSYN|fFIN) != 0 {
			*seq++
		}
	case protoUDP:
		g.udp(from, dst, src, dstIP, sport, dport, payload)
	case protoICMP:
		g.ipv4(from, dst, src, dstIP, protoICMP, from.ttl, payload, 2)
	}
	delay := d.delay(g, st)
	d.pc++
	if d.pc == d.sc.loopEnd && d.sc.loopEnd > 0 {
		d.cycles++
		if d.maxCycles == 0 || d.cycles < d.maxCycles {
			d.pc = d.sc.loopStart
		}
	}
	if d.pc >= len(d.sc.steps) {
		d.pc = 0
		if d.once {
			return -1
		}
	}
	return delay
}

func (d *dialog) delay(g *Generator, st step) int64 {
	switch st.w {
	case wNet:
		return g.jit(d.net, 0.3)
	case wProc:
		peer := d.s
		if st.from == srv {
			peer = d.c
		}
		return g.jit(d.net, 0.3) + g.jit(peer.proc, 0.5)
	case wDelAck:
		rcv := d.c
		if st.from == cli {
			rcv = d.s
		}
		return rcv.delAck + g.jit(d.net, 0.3)
	case wCycle:
		return max(d.cycleStart+g.jit(d.interval, 0.02)-g.now, ms)
	case wIdle:
		return g.jit(d.idle, 0.25)
	case wStart:
		return g.between(300*us, 2*ms)
	}
	return ms
}

// Script building blocks.
func handshake() []step {
	return []step{{cli, fSYN, 0, wNet}, {srv, fSYN | fACK, 0, wNet}, {cli, fACK, 0, wStart}}
}

var (
	clientClose = []step{{cli, fFA, 0, wNet}, {srv, fFA, 0, wNet}, {cli, fACK, 0, wIdle}}
	serverClose = []step{{srv, fFA, 0, wNet}, {cli, fFA, 0, wNet}, {srv, fACK, 0, wIdle}}
)

// tcpPoll is a persistent TCP polling session: handshake, setup exchanges
// (pairs of request and response messages), then req/resp forever. With
// delAck the client sends a pure ACK before the next request.
func tcpPoll(setup [][2]uint8, req, resp uint8, delAck bool) *script {
	st := handshake()
	for _, p := range setup {
		st = append(st, step{cli, fPA, p[0], wProc}, step{srv, fPA, p[1], wNet})
	}
	ls := len(st)
	if delAck {
		st = append(st, step{cli, fPA, req, wProc}, step{srv, fPA, resp, wDelAck}, step{cli, fACK, 0, wCycle})
	} else {
		st = append(st, step{cli, fPA, req, wProc}, step{srv, fPA, resp, wCycle})
	}
	le := len(st)
	st = append(st, clientClose...)
	return &script{steps: st, loopStart: ls, loopEnd: le}
}

// tcpOnce is a short TCP session: handshake, request/response pairs, close.
func tcpOnce(pairs [][2]uint8, serverCloses bool) *script {
	st := handshake()
	for _, p := range pairs {
		st = append(st, step{cli, fPA, p[0], wProc}, step{srv, fPA, p[1], wNet})
	}
	if serverCloses {
		st = append(st, step{cli, fACK, 0, wNet})
		st = append(st, serverClose...)
	} else {
		st = append(st, clientClose...)
	}
	return &script{steps: st, loopStart: -1, loopEnd: -1}
}

// udpOnce is one request and its answer, then idle.
var udpOnce = &script{steps: []step{{cli, 0, 1, wProc}, {srv, 0, 2, wIdle}}, loopStart: -1, loopEnd: -1}
