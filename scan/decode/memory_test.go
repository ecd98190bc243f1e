package decode

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// TestFlowMemory measures the flow table's cost per flow: 200,000 UDP flows
// between 2,000 hosts must stay under 160 bytes each.
func TestFlowMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates ~40 MB")
	}
	const hosts, flows = 2000, 200000
	tmpl := frame(t, eth(macHMI, macPLC, layers.EthernetTypeIPv4), ip4(ipHMI, ipPLC, layers.IPProtocolUDP),
		&layers.UDP{SrcPort: 40000, DstPort: 161}, gopacket.Payload([]byte{0x30, 0}))
	d := New(Options{Origin: "mem", FlowIdle: time.Hour})
	pkt := append([]byte(nil), tmpl...)
	feedOne := func(i int) {
		h := i % hosts
		pkt[11] = byte(h)
		pkt[10] = byte(h >> 8)
		binary.BigEndian.PutUint16(pkt[14+12+2:], uint16(h)) // source IP low half
		binary.BigEndian.PutUint16(pkt[14+20:], uint16(1024+i/hosts))
		d.Decode(pkt, gopacket.CaptureInfo{Timestamp: t0, CaptureLength: len(pkt), Length: len(pkt)}, layers.LinkTypeEthernet, 0)
	}
	// warm the host table first, so only flows are measured
	for i := 0; i < hosts; i++ {
		feedOne(i)
	}
	d.Flush()
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := hosts; i < flows+hosts; i++ {
		feedOne(i)
		if i%8192 == 0 {
			d.Flush() // as Ingest does; the batches go downstream
		}
	}
	d.Flush()
	runtime.GC()
	runtime.ReadMemStats(&after)
	if n := len(d.flows.m); n != flows+hosts {
		t.Fatalf("flows = %d, want %d", n, flows+hosts)
	}
	per := float64(after.HeapAlloc-before.HeapAlloc) / flows
	t.Logf("flow table: %.0f bytes per flow (%d flows)", per, flows)
	if per > 160 {
		t.Errorf("%.0f bytes per flow, want <= 160", per)
	}
	runtime.KeepAlive(d)
}
