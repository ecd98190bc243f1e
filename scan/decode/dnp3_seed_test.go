package decode

import (
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/scan/capture"
)

// soCaptures lists the captures of ../shared/pcaps/<dir> (pcap and pcapng).
func soCaptures(dir string) []string {
	a, _ := filepath.Glob("../../../shared/pcaps/" + dir + "/*.pcap")
	b, _ := filepath.Glob("../../../shared/pcaps/" + dir + "/*.pcapng")
	return append(a, b...)
}

// soPayloads returns up to n TCP/UDP payloads to or from port in a capture
// (any link type the capture package reads).
func soPayloads(tb testing.TB, path string, port uint16, n int) [][]byte {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		return nil
	}
	defer src.Close()
	var out [][]byte
	var eth layers.Ethernet
	var lo layers.Loopback
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	var udp layers.UDP
	for len(out) < n {
		data, _, err := src.ZeroCopyReadPacketData()
		if errors.Is(err, io.EOF) || err != nil {
			break
		}
		var first gopacket.LayerType
		switch src.LinkType() {
		case layers.LinkTypeEthernet:
			first = layers.LayerTypeEthernet
		case layers.LinkTypeNull, layers.LinkTypeLoop:
			first = layers.LayerTypeLoopback
		default:
			continue
		}
		p := gopacket.NewDecodingLayerParser(first, &eth, &lo, &ip4, &ip6, &tcp, &udp)
		p.IgnoreUnsupported = true
		var decoded []gopacket.LayerType
		_ = p.DecodeLayers(data, &decoded)
		for _, lt := range decoded {
			switch {
			case lt == layers.LayerTypeTCP && (uint16(tcp.SrcPort) == port || uint16(tcp.DstPort) == port) && len(tcp.Payload) > 0:
				out = append(out, append([]byte(nil), tcp.Payload...))
			case lt == layers.LayerTypeUDP && (uint16(udp.SrcPort) == port || uint16(udp.DstPort) == port) && len(udp.Payload) > 0:
				out = append(out, append([]byte(nil), udp.Payload...))
			}
		}
	}
	return out
}
