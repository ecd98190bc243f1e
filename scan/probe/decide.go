package probe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// How probes decide what to plan, and the packet bounds they plan with:
// one rule for every probe.

// Packet bounds of planned steps, the same the session reserves: a connect
// is SYN, one SYN retransmission and the ACK; a close is our FIN, one
// retransmission and the ACK of the peer's FIN; a UDP request is the
// datagram and the default one retransmission; a layer-2 request is one
// frame.
const (
	connectPackets = 3
	closePackets   = 3
	udpPackets     = 2
	l2Packets      = 1
)

// requestPackets bounds one TCP request whose answer may be up to answer
// bytes: the data segment, one retransmission, the ACK of the answer and
// one more ACK per 2 KB of it.
func requestPackets(answer int) int { return 3 + answer/2048 }

// nothingKnown reports whether the session knows nothing of t that says
// which services it runs: such a target gets TCP probes only if their port
// accepts a connection. Passive first: with FillGaps a host the capture saw
// and that served nothing is left alone; only addresses the session has no
// asset for are probed blind.
func nothingKnown(t *Target, o *PlanOptions) bool {
	if t.Asset == nil {
		return true
	}
	return !o.FillGaps && len(t.Known.TCP) == 0 && len(t.Known.UDP) == 0 && len(t.Known.Protocols) == 0
}

// missing lists the fields of fields k lacks, comma-separated ("" when
// none is missing).
func missing(k *Known, fields ...string) string {
	var miss []string
	for _, f := range fields {
		if !k.Has(f) {
			miss = append(miss, f)
		}
	}
	return strings.Join(miss, ", ")
}

// served describes how t is known to serve a protocol on TCP port port (or
// as proto), "" when it is not.
func served(t *Target, port uint16, proto string) string {
	switch {
	case t.Known.HasTCP(port):
		return "tcp/" + strconv.Itoa(int(port)) + " known open"
	case t.Known.Speaks(proto):
		return "speaks " + proto
	}
	return ""
}

// decide says whether a TCP probe applies to t and why. seen says how the
// target is known to serve the protocol (served; "" when it is not);
// fields are the identity fields the probe's answers give. With FillGaps a
// served target is planned only when one of fields is unknown. A target
// nothing is known of is planned with ifOpen: the probe runs only if its
// port accepts a connection.
func decide(t *Target, o *PlanOptions, seen string, fields ...string) (why string, ifOpen, ok bool) {
	switch {
	case seen != "":
		if !o.FillGaps {
			return seen, false, true
		}
		miss := missing(&t.Known, fields...)
		if miss == "" {
			return "", false, false
		}
		return seen + ", " + miss + " unknown", false, true
	case nothingKnown(t, o):
		return "nothing known of the host", true, true
	}
	return "", false, false
}

// planTCP starts the plan of the TCP probe named probe: on its port (def
// unless the user chose another), when decide applies it to t, known to
// serve proto or not, for fields. The caller adds the steps, and to Why.
func planTCP(t *Target, o *PlanOptions, probe, proto string, def uint16, fields ...string) (Planned, bool) {
	port := o.Port(probe, def)
	why, ifOpen, ok := decide(t, o, served(t, port, proto), fields...)
	if !ok {
		return Planned{}, false
	}
	return Planned{Probe: probe, Transport: TCP, Port: port, IfOpen: ifOpen, Why: why}, true
}

// decideUDP says whether a UDP probe of proto on port applies to t: the
// target is known to serve it, or nothing is known of it and the user named
// the probe, or the probe asks it by default (byDefault). Silence proves
// nothing, so blind UDP is the exception: only a probe whose first
// question is one read-only request and that stops when it is not
// answered asks unnamed (BACnet's unicast Who-Is and one ReadProperty).
func decideUDP(t *Target, o *PlanOptions, port uint16, proto string, byDefault bool) (why string, ok bool) {
	switch {
	case t.Known.HasUDP(port):
		return fmt.Sprintf("udp/%d seen passively", port), true
	case t.Known.Speaks(proto):
		return "speaks " + proto, true
	case nothingKnown(t, o) && slices.Contains(o.Named, proto):
		return "nothing known of the host; " + proto + " named in --probes", true
	case nothingKnown(t, o) && byDefault:
		return "nothing known of the host; Who-Is, stops if unanswered", true
	}
	return "", false
}

// stopErr returns the error that must end a probe's Run: the scan was
// stopped, the budget refused, or the session refused a request. A failed
// exchange (timeout, reset, garbage) and a missing CAP_NET_RAW are already
// in the packet log and only end the probe.
func stopErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var xe *ExchangeError
	if errors.As(err, &xe) || errors.Is(err, ErrNeedRaw) {
		return nil
	}
	return err
}
