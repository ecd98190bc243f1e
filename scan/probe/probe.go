package probe

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"otscope/model"
)

// Transport is how a probe reaches its target.
type Transport uint8

// The transports.
const (
	TCP Transport = iota + 1
	UDP
	// L2 is raw Ethernet on the local segment (ARP, PROFINET DCP); it needs
	// CAP_NET_RAW.
	L2
)

func (t Transport) String() string {
	switch t {
	case TCP:
		return "tcp"
	case UDP:
		return "udp"
	case L2:
		return "l2"
	}
	return "?"
}

// Target is one address in scope with what the session already knows of it.
type Target struct {
	Addr netip.Addr
	// MAC is the target's MAC when the session knows it (L2 probes).
	MAC model.MAC
	// Asset is the session's asset with this address, nil when none.
	Asset *model.Asset
	// Known is what passive capture (or an earlier scan) already holds.
	Known Known
}

// Known is what the session knows of a target before the scan.
type Known struct {
	// TCP and UDP are the ports the target was seen serving.
	TCP, UDP []uint16
	// Protocols are the application protocols it was seen speaking.
	Protocols []string
	// Fields are the identity fields that have a value: model.FieldVendor,
	// "product", "order_number", "firmware", "serial", "hostname"...
	Fields map[string]bool
	// ModbusUnits are the unit ids seen in Modbus traffic to the target.
	ModbusUnits []uint8
}

// HasTCP reports whether port was seen open on TCP.
func (k *Known) HasTCP(port uint16) bool { return slices.Contains(k.TCP, port) }

// HasUDP reports whether port was seen open on UDP.
func (k *Known) HasUDP(port uint16) bool { return slices.Contains(k.UDP, port) }

// Has reports whether the identity field has a value.
func (k *Known) Has(field string) bool { return k.Fields[field] }

// Speaks reports whether the target was seen speaking protocol proto.
func (k *Known) Speaks(proto string) bool { return slices.Contains(k.Protocols, proto) }

// Step is one planned request kind and the packets it may put on the wire
// (an upper bound the budget reserves: handshake, request, ACKs of the
// answer, one retransmission).
type Step struct {
	Kind    Kind
	Packets int
}

// Planned is what one probe would send to one target.
type Planned struct {
	Probe     string
	Transport Transport
	Port      uint16
	Steps     []Step
	// Why says why the plan holds this probe ("tcp/102 seen passively,
	// firmware unknown").
	Why string
	// IfOpen marks a probe that runs only when its port accepts a TCP
	// connection (targets nothing is known of).
	IfOpen bool
	// Segment marks a probe that asks the whole layer-2 segment (a DCP
	// Identify to the multicast address, only with DCPMulticast), not the
	// target: it runs even when the target it was planned with turns out
	// to be absent.
	Segment bool
}

// Packets is the plan's packet bound.
func (p *Planned) Packets() int {
	n := 0
	for _, s := range p.Steps {
		n += s.Packets
	}
	return n
}

// PlanOptions are what the user chose that shapes plans.
type PlanOptions struct {
	// FillGaps plans only probes whose answers the session lacks.
	FillGaps bool
	// ModbusUnits are unit ids the user listed; they add to the ones seen.
	ModbusUnits []uint8
	// Communities are SNMP communities to try, in order (secret).
	Communities []string
	// Ports overrides a probe's port, by probe name (tests, non-standard
	// installations).
	Ports map[string]uint16
	// Named are the probes the user listed (--probes); empty when the plan
	// chooses. A UDP probe goes to a target nothing is known of only when
	// named: there is no connect to tell whether the service is there.
	Named []string
	// TCPPorts are ports the user listed for the tcp connect probe, on top
	// of the OT ports the session saw open.
	TCPPorts []uint16
	// DCPMulticast accepts one PROFINET DCP Identify-All to the multicast
	// address per segment (--dcp-multicast): every PROFINET station of the
	// segment answers, in scope or not. Without it DCP goes unicast to
	// in-scope targets only.
	DCPMulticast bool

	// planned holds what a probe plans once per plan, not per target
	// (BuildPlan starts it empty; see firstInPlan).
	planned map[string]bool
}

// Port returns the port probe uses: the user's override or def.
func (o *PlanOptions) Port(probe string, def uint16) uint16 {
	if p, ok := o.Ports[probe]; ok && p != 0 {
		return p
	}
	return def
}

// Probe asks one protocol's read-only identification questions. A probe
// builds requests and reads answers; everything it sends goes through the
// Session it is given, which enforces the budget and the allow-list and
// writes the packet log. Probes keep no state between targets.
type Probe interface {
	// Name is the probe's name on the command line ("modbus", "s7").
	Name() string
	// Plan returns what the probe would send to t, ok false when it does
	// not apply (no such service known, or FillGaps and nothing missing).
	Plan(t *Target, o *PlanOptions) (p Planned, ok bool)
	// Run sends the plan's requests through s. Failures (timeouts, resets,
	// garbage) are recorded by s and end the probe early; Run returns an
	// error only when the scan is stopped (ctx) or the budget refuses.
	Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error
}

// Request is one request a probe sends and how to read its answer.
type Request struct {
	// Kind must be what the allow-list's dissector finds in Payload.
	Kind    Kind
	Payload []byte
	// Frame returns the length of the complete answer from its first bytes:
	// n > 0 when known (n may exceed len(b)), 0 when more bytes are needed
	// to tell, an error when the bytes are not an answer of this protocol.
	// Nil for UDP and L2 (one datagram or frame is one answer).
	Frame func(b []byte) (int, error)
	// Summary describes a complete answer for the packet log ("3 objects",
	// "exception 01"). Nil: "<n> bytes".
	Summary func(b []byte) string
	// Decoded, when set, turns a complete answer into the bytes the
	// passive decoders read (an OPC UA answer in several chunks becomes
	// one final chunk: the decoders read final chunks only). The packet
	// log and the probe still see the answer as it came.
	Decoded func(answer []byte) []byte
	// NoAnswer marks a request that gets no reply (a disconnect).
	NoAnswer bool
	// Timeout bounds the wait for the answer; 0: the session's default.
	Timeout time.Duration
}

// MaxAnswer bounds an answer: longer (or a Frame length above it) is
// garbage, recorded and dropped.
const MaxAnswer = 64 << 10
