package decode

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

func netipAddr() netip.Addr { return netip.Addr{} }

// BenchmarkDecodePolling decodes steady Modbus/TCP polling between 50 HMI/PLC
// pairs: the common case on a plant network. It must not allocate.
func BenchmarkDecodePolling(b *testing.B) {
	var frames [][]byte
	for i := 0; i < 50; i++ {
		hmi := []byte{0x00, 0x0e, 0x8c, 0, 0, byte(i)}
		plc := []byte{0x00, 0x1b, 0x1b, 0, 0, byte(i)}
		hip := []byte{10, 10, 2, byte(i + 1)}
		pip := []byte{10, 10, 1, byte(i + 1)}
		req := frame(b, eth(hmi, plc, layers.EthernetTypeIPv4), ip4(hip, pip, layers.IPProtocolTCP), tcpSeg(40000+uint16(i), 502, false, true), gopacket.Payload(make([]byte, 12)))
		resp := frame(b, eth(plc, hmi, layers.EthernetTypeIPv4), ip4(pip, hip, layers.IPProtocolTCP), tcpSeg(502, 40000+uint16(i), false, true), gopacket.Payload(make([]byte, 29)))
		frames = append(frames, req, resp)
	}
	benchFrames(b, frames)
}

// benchFrames decodes frames round-robin, flushing every 8192 packets.
func benchFrames(b *testing.B, frames [][]byte) {
	d := New(Options{Origin: "bench"})
	ci := gopacket.CaptureInfo{Timestamp: t0}
	for _, f := range frames { // warm up: flows, hosts, once sets
		ci.CaptureLength, ci.Length = len(f), len(f)
		d.Decode(f, ci, layers.LinkTypeEthernet, 0)
	}
	d.Flush()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := frames[i%len(frames)]
		ci.CaptureLength, ci.Length = len(f), len(f)
		ci.Timestamp = t0.Add(time.Duration(i) * time.Microsecond)
		d.Decode(f, ci, layers.LinkTypeEthernet, 0)
		if i%8192 == 8191 {
			b.StopTimer()
			d.Flush()
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pkt/s")
}
