package decode

import (
	"net"
	"testing"

	"github.com/google/gopacket/layers"

	"otscope/model"
)

// sums adds up the packets reported for hosts (protocol-less host
// observations) and conversations, and the new flows.
func sums(obs []model.Observation) (hostPkts, convPkts, flows uint64) {
	for _, o := range obs {
		switch {
		case o.Kind == model.ObsHost && o.Protocol == "" && o.Binding == model.BindNone:
			hostPkts += o.Packets
		case o.Kind == model.ObsConversation:
			convPkts += o.Packets
			flows += o.Flows
		}
	}
	return
}

// TestFlushNewKeepsCountersForFlush: FlushNew reports new hosts, flows and
// services at once and leaves the counters of known ones to Flush, which
// then reports every packet exactly once.
func TestFlushNewKeepsCountersForFlush(t *testing.T) {
	d := New(Options{Origin: "unit"})
	syn, synack, ack := modbusHandshake(t)
	feed(d, syn, synack, ack)
	b := d.FlushNew()
	h, c, f := sums(b.Obs)
	if h != 3 || c != 3 || f != 1 || len(find(b.Obs, model.ObsService, nil)) != 1 {
		t.Fatalf("first FlushNew: host packets %d, conversation packets %d, flows %d, services %d; want 3, 3, 1, 1",
			h, c, f, len(find(b.Obs, model.ObsService, nil)))
	}
	// known hosts and flow: FlushNew reports nothing, the counters add up
	for range 5 {
		feed(d, ack, synack)
		if b := d.FlushNew(); len(b.Obs) != 0 {
			t.Fatalf("FlushNew of known traffic = %+v, want nothing", b.Obs)
		}
	}
	if d.Pending() != 3 {
		t.Errorf("Pending = %d, want 3 (two hosts and one flow with counters)", d.Pending())
	}
	// a new sender goes at once, the known ones still wait
	gwIP := net.IP{10, 10, 1, 1}
	feed(d, frame(t, eth(macGW, macPLC, layers.EthernetTypeIPv4), ip4(gwIP, ipPLC, layers.IPProtocolTCP), tcpSeg(40000, 502, true, false)))
	b = d.FlushNew()
	if hs := find(b.Obs, model.ObsHost, nil); len(hs) != 1 || hs[0].Subject.MAC != model.MACFrom(macGW) || hs[0].Packets != 1 {
		t.Errorf("FlushNew after a new sender: hosts %+v, want the gateway with 1 packet", hs)
	}
	b = d.Flush()
	h, c, f = sums(b.Obs)
	if h != 10 || c != 10 || f != 0 {
		t.Errorf("Flush: host packets %d, conversation packets %d, new flows %d; want 10, 10, 0", h, c, f)
	}
	if d.Pending() != 0 {
		t.Errorf("Pending after Flush = %d, want 0", d.Pending())
	}
}

// TestFlushPartBoundsBatches: FlushPart hands over the counters of many
// hosts and flows in batches of at most the limit, and together they count
// every packet once, also when more packets arrive between parts.
func TestFlushPartBoundsBatches(t *testing.T) {
	d := New(Options{Origin: "unit"})
	const n = 50
	frames := make([][]byte, n)
	for i := range frames {
		mac := net.HardwareAddr{0x00, 0x0e, 0x8c, 0, 1, byte(i)}
		ip := net.IP{10, 10, 2, byte(10 + i)}
		frames[i] = frame(t, eth(mac, macPLC, layers.EthernetTypeIPv4), ip4(ip, ipPLC, layers.IPProtocolTCP), tcpSeg(49152, 502, false, true))
	}
	feed(d, frames...)
	if h, c, _ := sums(d.FlushNew().Obs); h != n || c != n {
		t.Fatalf("first FlushNew: %d host and %d conversation packets, want %d each", h, c, n)
	}
	feed(d, frames...)
	var hosts, convs uint64
	parts := 0
	for done := false; !done; {
		var b model.Batch
		b, done = d.FlushPart(8)
		parts++
		if len(b.Obs) > 8 {
			t.Fatalf("part %d has %d observations, want at most 8", parts, len(b.Obs))
		}
		h, c, _ := sums(b.Obs)
		hosts, convs = hosts+h, convs+c
		if parts == 2 {
			feed(d, frames[0], frames[n-1]) // one host already reported, one not yet
		}
		if parts > 3*n {
			t.Fatal("FlushPart does not finish")
		}
	}
	if hosts != n+2 || convs != n+2 {
		t.Errorf("parts counted %d host and %d conversation packets, want %d each", hosts, convs, n+2)
	}
	if parts < (2*n)/8 {
		t.Errorf("%d parts for %d counters at 8 a part", parts, 2*n)
	}
	if d.Pending() != 0 {
		t.Errorf("Pending after the last part = %d, want 0", d.Pending())
	}
}

// TestFullBatchFitsItsSlice: when every host and flow is new, Full says so
// before the batch outgrows its slice, and a counters part leaves room for
// what is new: neither copies its slice to grow it.
func TestFullBatchFitsItsSlice(t *testing.T) {
	d := New(Options{Origin: "unit"})
	host := func(i int) []byte {
		mac := net.HardwareAddr{0x00, 0x0e, 0x8c, 1, byte(i >> 8), byte(i)}
		ip := net.IP{10, 10, byte(2 + i/250), byte(1 + i%250)}
		return frame(t, eth(mac, macPLC, layers.EthernetTypeIPv4), ip4(ip, ipPLC, layers.IPProtocolTCP), tcpSeg(49152, 502, false, true))
	}
	n := 0
	for ; !d.Full(); n++ {
		if n > 4*model.BatchObservations {
			t.Fatalf("Full never true after %d new hosts", n)
		}
		feed(d, host(n))
	}
	b := d.FlushNew()
	if cap(b.Obs) > model.BatchObservations {
		t.Fatalf("full batch after %d new hosts: %d observations in a slice of %d, want a slice of at most %d",
			n, len(b.Obs), cap(b.Obs), model.BatchObservations)
	}
	// every host again (counters), and as many new ones as fit
	for i := range n {
		feed(d, host(i))
	}
	for i := n; !d.Full(); i++ {
		feed(d, host(i))
	}
	b, _ = d.FlushPart(model.BatchObservations / 2)
	if cap(b.Obs) > model.BatchObservations || len(b.Obs) <= n/2 {
		t.Errorf("counters part: %d observations in a slice of %d, want more than %d (new hosts and counters) in a slice of at most %d",
			len(b.Obs), cap(b.Obs), n/2, model.BatchObservations)
	}
}
