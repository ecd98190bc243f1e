//go:build linux

package capture

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/scan/testenv"
)

// TestLiveLoopback captures UDP sent to 127.0.0.1:39999 on lo with a kernel
// filter. It needs CAP_NET_RAW and skips without it.
func TestLiveLoopback(t *testing.T) {
	s, err := OpenLive("lo", Options{Filter: "udp and port 39999"})
	if errors.Is(err, ErrPermission) {
		testenv.Skip(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Name() != "iface:lo" || !s.Live() || s.LinkType() != layers.LinkTypeEthernet {
		t.Fatalf("Name %q Live %v LinkType %v", s.Name(), s.Live(), s.LinkType())
	}
	// An unconnected socket, so ICMP port-unreachable replies do not make
	// later writes fail. Frames to 39998 are noise the filter must drop.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	target := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 39999}
	noise := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 39998}
	const n = 5
	go func() {
		for i := 0; i < n; i++ {
			_, _ = pc.WriteTo([]byte("noise"), noise)
			_, _ = pc.WriteTo([]byte{'o', 't', byte('0' + i)}, target)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	deadline := time.AfterFunc(10*time.Second, func() { s.Close() })
	defer deadline.Stop()
	got := 0
	for got < n {
		data, ci, err := s.ZeroCopyReadPacketData()
		if err != nil {
			t.Fatalf("after %d frames: %v", got, err)
		}
		p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if udp == nil || udp.DstPort != 39999 || ci.CaptureLength != len(data) || ci.Timestamp.IsZero() {
			t.Fatalf("unexpected frame %v", p)
		}
		if want := []byte{'o', 't', byte('0' + got)}; !bytes.Equal(udp.Payload, want) {
			t.Fatalf("payload %q, want %q", udp.Payload, want)
		}
		got++
	}
	st := s.Stats()
	if st.Packets < n || st.Delivered() != n || st.Bytes == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestLiveCloseUnblocksRead checks that Close ends a read blocked on an idle
// interface.
func TestLiveCloseUnblocksRead(t *testing.T) {
	s, err := OpenLive("lo", Options{Filter: "udp and port 39997"})
	if errors.Is(err, ErrPermission) {
		testenv.Skip(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, _, err := s.ZeroCopyReadPacketData()
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != io.EOF {
			t.Fatalf("blocked read returned %v, want io.EOF", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("read still blocked 3 s after Close")
	}
}

func TestInsertVLAN(t *testing.T) {
	frame := udpFrame(t, net.IPv4(10, 0, 0, 1), net.IPv4(10, 0, 0, 2), 1, 2, nil)
	buf := make([]byte, len(frame)+4)
	ci := gopacket.CaptureInfo{CaptureLength: len(frame), Length: len(frame), AncillaryData: []interface{}{100}}
	out, ci := insertVLAN(buf, frame, ci, 0x6064) // priority 3, VLAN 100
	p := gopacket.NewPacket(out, layers.LayerTypeEthernet, gopacket.Default)
	tag, _ := p.Layer(layers.LayerTypeDot1Q).(*layers.Dot1Q)
	if tag == nil || tag.VLANIdentifier == 100 && tag.Priority != 3 || tag.VLANIdentifier != 100 || p.Layer(layers.LayerTypeUDP) == nil {
		t.Fatalf("decoded %v", p)
	}
	if ci.CaptureLength != len(frame)+4 || ci.AncillaryData != nil {
		t.Fatalf("ci %+v", ci)
	}
}
