//go:build linux

package capture

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
)

// On lo every frame passes a packet socket twice (outgoing and incoming):
// each one must be read, and counted, once (issue 13 item 12, capture side).
func TestLiveLoopbackCountsOnce(t *testing.T) {
	s, err := OpenLive("lo", Options{ReportIdle: true})
	if errors.Is(err, ErrPermission) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	marker := []byte("otscope-lo-once-")
	const n = 5
	for i := range n {
		if _, err := pc.WriteTo(append(marker, byte('0'+i)), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 39997}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[byte]int{}
	deadline := time.Now().Add(3 * time.Second)
	quiet := 0
	for time.Now().Before(deadline) && quiet < 4 {
		data, _, err := s.ZeroCopyReadPacketData()
		if errors.Is(err, ErrIdle) {
			quiet++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		if udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP); udp != nil && bytes.HasPrefix(udp.Payload, marker) {
			seen[udp.Payload[len(marker)]]++
		}
	}
	for i := range n {
		if c := seen[byte('0'+i)]; c != 1 {
			t.Errorf("frame %d read %d times, want once", i, c)
		}
	}
}

// Frames queued on the socket before its loopback filter was attached are
// dropped too: with lo busy while the capture opens, no frame is read twice.
func TestLiveLoopbackBusyOpen(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	marker := []byte("otscope-lo-busy-")
	stop := make(chan struct{})
	done := make(chan struct{})
	busy := make(chan struct{}) // closed once lo carries the flood
	go func() {
		defer close(done)
		dst := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 39996}
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b := append(append([]byte(nil), marker...), byte(i>>24), byte(i>>16), byte(i>>8), byte(i))
			_, _ = pc.WriteTo(b, dst)
			if i == 1000 {
				close(busy)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	select { // lo is busy before the capture opens (the point of the test)
	case <-busy:
	case <-time.After(10 * time.Second):
		t.Fatal("the sender did not start")
	}
	for round := range 5 {
		s, err := OpenLive("lo", Options{ReportIdle: true})
		if errors.Is(err, ErrPermission) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for n := 0; n < 2000; n++ {
			data, _, err := s.ZeroCopyReadPacketData()
			if errors.Is(err, ErrIdle) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
			if udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP); udp != nil && bytes.HasPrefix(udp.Payload, marker) {
				k := string(udp.Payload)
				if seen[k] {
					t.Fatalf("round %d: frame %x read twice", round, udp.Payload[len(marker):])
				}
				seen[k] = true
			}
		}
		s.Close()
	}
}
