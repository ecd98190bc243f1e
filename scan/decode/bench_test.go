package decode

import (
	"net"
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
	pollingPairs(50, siemensOUI, func(i int, hmi, plc net.HardwareAddr, hip, pip net.IP) {
		frames = append(frames,
			enipTCP(b, hmi, plc, hip, pip, 40000+uint16(i), 502, make([]byte, 12)),
			enipTCP(b, plc, hmi, pip, hip, 502, 40000+uint16(i), make([]byte, 29)))
	})
	benchFrames(b, frames)
}

// MAC prefixes of the PLCs of the polling benchmarks.
var (
	siemensOUI  = [3]byte{0x00, 0x1b, 0x1b}
	rockwellOUI = [3]byte{0x00, 0x00, 0xbc}
)

// pollingPairs calls fn for each of n HMI/PLC pairs: HMI i is
// 10.10.2.<i+1> with MAC 00:0e:8c:00:00:<i>, PLC i is 10.10.1.<i+1> with
// a MAC of plcOUI ending in i.
func pollingPairs(n int, plcOUI [3]byte, fn func(i int, hmi, plc net.HardwareAddr, hip, pip net.IP)) {
	for i := range n {
		fn(i, net.HardwareAddr{0x00, 0x0e, 0x8c, 0, 0, byte(i)}, net.HardwareAddr{plcOUI[0], plcOUI[1], plcOUI[2], 0, 0, byte(i)},
			net.IP{10, 10, 2, byte(i + 1)}, net.IP{10, 10, 1, byte(i + 1)})
	}
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
