package capture

import (
	"io"
	"testing"

	"github.com/google/gopacket/layers"
)

func benchFile(b testing.TB, n int) []byte {
	return writePcap(b, layers.LinkTypeEthernet, testFrames(b, n))
}

// BenchmarkRead reads a generated 100k-packet pcap from memory; allocs/op
// must be 0 (one open per 100k reads rounds to 0).
func BenchmarkRead(b *testing.B) {
	for _, c := range []struct {
		name string
		conv func(testing.TB, []byte) []byte
		o    Options
	}{
		{"pcap", nil, Options{}},
		{"pcap-filter", nil, Options{Filter: "udp and port 502"}},
		{"pcapng", func(tb testing.TB, _ []byte) []byte { return writePcapng(tb, testFrames(tb, 100000)) }, Options{}},
		{"pcap-gzip", gzipBytes, Options{}},
	} {
		b.Run(c.name, func(b *testing.B) {
			file := benchFile(b, 100000)
			if c.conv != nil {
				file = c.conv(b, file)
			}
			s, err := openBytes(file, c.o)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(60)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, _, err := s.ZeroCopyReadPacketData()
				if err == io.EOF {
					if s, err = openBytes(file, c.o); err != nil {
						b.Fatal(err)
					}
					continue
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestReadDoesNotAllocate checks the steady-state read loop allocates nothing.
func TestReadDoesNotAllocate(t *testing.T) {
	frames := testFrames(t, 2000)
	for name, file := range map[string][]byte{
		"pcap":   writePcap(t, layers.LinkTypeEthernet, frames),
		"pcapng": writePcapng(t, frames),
		"gzip":   gzipBytes(t, writePcapng(t, frames)),
	} {
		for _, o := range []Options{{}, {Filter: "ip and (port 502 or vlan)"}} {
			s, err := openBytes(file, o)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 100; i++ { // warm up buffers
				if _, _, err := s.ZeroCopyReadPacketData(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(1000, func() {
				if _, _, err := s.ZeroCopyReadPacketData(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("%s %+v: %.2f allocs per read", name, o, allocs)
			}
		}
	}
}
