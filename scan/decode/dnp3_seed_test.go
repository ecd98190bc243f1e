package decode

import (
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
	var out [][]byte
	var eth layers.Ethernet
	var lo layers.Loopback
	var ip4 layers.IPv4
	var ip6 layers.IPv6
	var tcp layers.TCP
	var udp layers.UDP
	eachFrame(path, func(link layers.LinkType, data []byte) bool {
		var first gopacket.LayerType
		switch link {
		case layers.LinkTypeEthernet:
			first = layers.LayerTypeEthernet
		case layers.LinkTypeNull, layers.LinkTypeLoop:
			first = layers.LayerTypeLoopback
		default:
			return false
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
		return len(out) < n
	})
	return out
}

// eachFrame calls fn with the link type and each frame of the capture at
// path (any format the capture package reads) until fn returns false or the
// capture ends; data is only valid during the call. An unreadable capture
// calls fn not at all.
func eachFrame(path string, fn func(link layers.LinkType, data []byte) bool) {
	src, err := capture.OpenFile(path, capture.Options{})
	if err != nil {
		return
	}
	defer src.Close()
	for {
		data, _, err := src.ZeroCopyReadPacketData()
		if err != nil || !fn(src.LinkType(), data) {
			return
		}
	}
}
