package plant

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"otscope/model"
)

// Options configure a Generator. The zero value is usable with WritePcap only
// when Duration or MaxPackets is set.
type Options struct {
	// Seed makes the output reproducible: the same Options give the same
	// bytes. It varies TCP sequence numbers, ports, process values and jitter,
	// not the plant (Devices is fixed).
	Seed int64
	// Start is the timestamp of plant time zero; the zero Time means
	// DefaultStart.
	Start time.Time
	// Duration is how much plant time to generate; 0 means no limit.
	Duration time.Duration
	// MaxPackets stops the generator after this many frames; 0 means no limit.
	MaxPackets int
	// Scale multiplies the rate of the steady industrial polling (Modbus,
	// S7comm, EtherNet/IP, CIP I/O) for benchmark captures; values below 1
	// mean 1, the demo rate of roughly 150 frames per second.
	Scale int
	// Fleet adds this many hosts for benchmarks at plant scale: cells of 200
	// (one Modbus/TCP master polling 199 controllers) on 10.128.0.0/9. The
	// demo plant itself has 47 assets; 0 adds none.
	Fleet int
}

// DefaultStart is plant time zero when Options.Start is not set.
var DefaultStart = time.Date(2024, time.March, 4, 6, 0, 0, 0, time.UTC)

// ErrUnbounded is returned by WritePcap when neither Duration nor MaxPackets
// limits the output.
var ErrUnbounded = errors.New("plant: Options need a Duration or MaxPackets to write a capture")

// Snaplen is the snap length written to the pcap header.
const Snaplen = 65535

// task is a scheduled producer of frames. fire may write one frame into
// g.out; it returns the delay in microseconds until it fires again, or a
// negative value when it is done.
type task interface {
	fire(g *Generator) int64
}

// entry is one task in the schedule, ordered by time then by insertion.
type entry struct {
	at  int64
	seq uint64
	t   task
}

// Generator produces the frames of the demo plant in time order. It keeps a
// fixed set of tasks (one per conversation or periodic announcement) in a
// min-heap, so memory does not grow with the length of the capture.
// A Generator is not safe for concurrent use.
type Generator struct {
	opts  Options
	start time.Time
	now   int64 // µs of plant time since start
	end   int64 // µs; 0 = no limit
	sent  int
	scale int64
	rng   *rand.Rand

	sched []entry
	seq   uint64

	buf []byte // frame under construction
	l4  []byte // transport header + payload scratch
	pl  []byte // application payload scratch
	out []byte // the frame Next returns (aliases buf)

	devs   []Device
	byName map[string]*node
	// cores holds the core switch interface of each zone (nil for the office).
	cores []*node
	core  *node // the plant LAN interface of the core switch
	fw    *node
	// fleet holds the hosts Options.Fleet adds.
	fleet []Device
}

// New returns a Generator for o. Building it allocates the plant; Next does
// not allocate in steady state.
func New(o Options) *Generator {
	g := &Generator{
		opts:   o,
		start:  o.Start,
		scale:  int64(max(o.Scale, 1)),
		rng:    rand.New(rand.NewPCG(uint64(o.Seed), 0x07a11c0ffee)),
		buf:    make([]byte, 0, 4096),
		l4:     make([]byte, 0, 4096),
		pl:     make([]byte, 0, 4096),
		byName: map[string]*node{},
	}
	if g.start.IsZero() {
		g.start = DefaultStart
	}
	if o.Duration > 0 {
		g.end = o.Duration.Microseconds()
	}
	g.build()
	return g
}

// Next returns the next frame in time order. data is valid until the next
// call of Next (the buffer is reused). ok is false once Duration or
// MaxPackets is reached.
func (g *Generator) Next() (ci gopacket.CaptureInfo, data []byte, ok bool) {
	for len(g.sched) > 0 {
		if g.opts.MaxPackets > 0 && g.sent >= g.opts.MaxPackets {
			break
		}
		e := &g.sched[0]
		if g.end > 0 && e.at > g.end {
			break
		}
		g.now = e.at
		g.out = g.out[:0]
		d := e.t.fire(g)
		if d < 0 {
			g.pop()
		} else {
			e.at += max(d, 1)
			e.seq = g.seq
			g.seq++
			g.down(0)
		}
		if len(g.out) > 0 {
			g.sent++
			ci.Timestamp = g.start.Add(time.Duration(g.now) * time.Microsecond)
			ci.CaptureLength = len(g.out)
			ci.Length = len(g.out)
			return ci, g.out, true
		}
	}
	g.sched = g.sched[:0]
	return ci, nil, false
}

// Packets returns how many frames Next has returned so far.
func (g *Generator) Packets() int { return g.sent }

// WritePcap writes the plant described by o as a classic pcap file
// (LinkTypeEthernet, snap length Snaplen) to w and returns the number of
// frames written. It streams: memory use does not depend on the length.
func WritePcap(w io.Writer, o Options) (packets int, err error) {
	if o.Duration <= 0 && o.MaxPackets <= 0 {
		return 0, ErrUnbounded
	}
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(Snaplen, layers.LinkTypeEthernet); err != nil {
		return 0, fmt.Errorf("plant: write pcap header: %w", err)
	}
	g := New(o)
	for {
		ci, data, ok := g.Next()
		if !ok {
			return packets, nil
		}
		if err := pw.WritePacket(ci, data); err != nil {
			return packets, fmt.Errorf("plant: write frame %d: %w", packets+1, err)
		}
		packets++
	}
}

// add schedules t to fire first at µs after plant time zero.
func (g *Generator) add(t task, at int64) {
	g.sched = append(g.sched, entry{at: at, seq: g.seq, t: t})
	g.seq++
	g.up(len(g.sched) - 1)
}

func (g *Generator) less(i, j int) bool {
	a, b := &g.sched[i], &g.sched[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (g *Generator) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !g.less(i, p) {
			return
		}
		g.sched[i], g.sched[p] = g.sched[p], g.sched[i]
		i = p
	}
}

func (g *Generator) down(i int) {
	n := len(g.sched)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && g.less(r, l) {
			m = r
		}
		if !g.less(m, i) {
			return
		}
		g.sched[i], g.sched[m] = g.sched[m], g.sched[i]
		i = m
	}
}

func (g *Generator) pop() {
	n := len(g.sched) - 1
	g.sched[0] = g.sched[n]
	g.sched[n] = entry{}
	g.sched = g.sched[:n]
	g.down(0)
}

// jit returns base varied by up to ±frac of itself (base in µs).
func (g *Generator) jit(base int64, frac float64) int64 {
	span := int64(float64(base) * frac)
	if span <= 0 {
		return max(base, 1)
	}
	return max(base-span+g.rng.Int64N(2*span+1), 1)
}

// between returns a random value in [lo, hi] µs.
func (g *Generator) between(lo, hi int64) int64 { return lo + g.rng.Int64N(hi-lo+1) }

// hop returns the destination MAC of a frame from one node to another: the
// peer on the same segment, else the firewall (office hosts) or the core
// switch (other VLANs).
func (g *Generator) hop(from, to *node) model.MAC {
	switch {
	case from.zone == to.zone:
		return to.mac
	case to.dev != nil && to.dev.Routed:
		if from.zone == 0 {
			return g.fw.mac
		}
		return g.core.mac
	case from.dev != nil && from.dev.Routed && to.zone == 0:
		return to.mac
	}
	return g.core.mac
}

// ms and sec convert to the generator's microseconds.
const (
	us  int64 = 1
	ms        = 1000 * us
	sec       = 1000 * ms
)
