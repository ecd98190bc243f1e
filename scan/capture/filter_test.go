package capture

import (
	"errors"
	"net"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"

	"otscope/scan/testenv"
)

// filterPackets are hand-made frames, by name, for the filter tests.
func filterPackets(t testing.TB) (names []string, frames map[string][]byte) {
	t.Helper()
	frames = map[string][]byte{}
	add := func(name string, ls ...gopacket.SerializableLayer) {
		names = append(names, name)
		frames[name] = serialize(t, ls...)
	}
	eth4 := func() *layers.Ethernet {
		return &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv4}
	}
	ip4 := func(src, dst string, proto layers.IPProtocol) *layers.IPv4 {
		return &layers.IPv4{Version: 4, TTL: 64, Protocol: proto, SrcIP: net.ParseIP(src).To4(), DstIP: net.ParseIP(dst).To4()}
	}
	udp := func(ip gopacket.NetworkLayer, s, d uint16) *layers.UDP {
		u := &layers.UDP{SrcPort: layers.UDPPort(s), DstPort: layers.UDPPort(d)}
		_ = u.SetNetworkLayerForChecksum(ip)
		return u
	}
	tcp := func(ip gopacket.NetworkLayer, s, d uint16) *layers.TCP {
		c := &layers.TCP{SrcPort: layers.TCPPort(s), DstPort: layers.TCPPort(d), SYN: true, Window: 1024}
		_ = c.SetNetworkLayerForChecksum(ip)
		return c
	}

	ip := ip4("10.0.0.1", "10.0.0.2", layers.IPProtocolUDP)
	add("udp4", eth4(), ip, udp(ip, 1000, 502), gopacket.Payload("modbus"))

	ip = ip4("192.168.1.10", "192.168.1.20", layers.IPProtocolTCP)
	ip.Options = []layers.IPv4Option{{OptionType: 0x94, OptionLength: 4, OptionData: []byte{0, 0}}, {OptionType: 1}, {OptionType: 1}, {OptionType: 1}, {OptionType: 0}}
	add("tcp4opts", eth4(), ip, tcp(ip, 44818, 2222))

	ip = ip4("10.0.0.3", "10.0.0.2", layers.IPProtocolUDP)
	ip.FragOffset = 100 // a later fragment: its bytes at the port offsets are data
	add("frag4", eth4(), ip, gopacket.Payload([]byte{0x01, 0xf6, 0x01, 0xf6, 0, 8, 0, 0}))

	ip6 := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: layers.IPProtocolUDP, SrcIP: net.ParseIP("fd00::1"), DstIP: net.ParseIP("fd00::2")}
	add("udp6", &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6}, ip6, udp(ip6, 47808, 47808), gopacket.Payload("bacnet"))

	ip6 = &layers.IPv6{Version: 6, HopLimit: 255, NextHeader: layers.IPProtocolICMPv6, SrcIP: net.ParseIP("fe80::1"), DstIP: net.ParseIP("ff02::1")}
	icmp6 := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeRouterAdvertisement, 0)}
	_ = icmp6.SetNetworkLayerForChecksum(ip6)
	add("icmp6", &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeIPv6}, ip6, icmp6, gopacket.Payload(make([]byte, 12)))

	ip = ip4("10.0.0.1", "10.0.0.9", layers.IPProtocolICMPv4)
	add("icmp4", eth4(), ip, &layers.ICMPv4{TypeCode: layers.CreateICMPv4TypeCode(layers.ICMPv4TypeEchoRequest, 0)}, gopacket.Payload("ping"))

	add("arp", &layers.Ethernet{SrcMAC: macB, DstMAC: layers.EthernetBroadcast, EthernetType: layers.EthernetTypeARP},
		&layers.ARP{AddrType: layers.LinkTypeEthernet, Protocol: layers.EthernetTypeIPv4, HwAddressSize: 6, ProtAddressSize: 4,
			Operation: layers.ARPRequest, SourceHwAddress: macB, SourceProtAddress: []byte{10, 0, 0, 5},
			DstHwAddress: make([]byte, 6), DstProtAddress: []byte{10, 0, 0, 9}})

	ip = ip4("172.16.0.1", "172.16.0.2", layers.IPProtocolTCP)
	add("vlan100tcp", &layers.Ethernet{SrcMAC: macA, DstMAC: macB, EthernetType: layers.EthernetTypeDot1Q},
		&layers.Dot1Q{VLANIdentifier: 100, Priority: 3, Type: layers.EthernetTypeIPv4}, ip, tcp(ip, 102, 5000))

	add("lldp", &layers.Ethernet{SrcMAC: macA, DstMAC: net.HardwareAddr{0x01, 0x80, 0xc2, 0, 0, 0x0e}, EthernetType: layers.EthernetTypeLinkLayerDiscovery},
		gopacket.Payload(make([]byte, 46)))
	return names, frames
}

// filterCases: filter -> names of the frames it matches (as libpcap would).
var filterCases = []struct {
	filter string
	want   string
}{
	{"host 10.0.0.2", "udp4 frag4"},
	{"src host 10.0.0.1", "udp4 icmp4"},
	{"dst host 10.0.0.9", "icmp4 arp"},
	{"host 10.0.0.5", "arp"},
	{"host fd00::2", "udp6"},
	{"src host fe80::1", "icmp6"},
	{"net 10.0.0.0/8", "udp4 frag4 icmp4 arp"},
	{"net 192.168.1.0/24", "tcp4opts"},
	{"dst net 192.168.1.16/28", "tcp4opts"},
	{"net fd00::/8", "udp6"},
	{"net fe80::/10 or net ff00::/8", "icmp6"},
	{"port 502", "udp4"},
	{"port 2222", "tcp4opts"},
	{"src port 44818", "tcp4opts"},
	{"dst port 44818", ""},
	{"udp port 47808", "udp6"},
	{"tcp port 502", ""},
	{"tcp dst port 2222", "tcp4opts"},
	{"portrange 2000-2300", "tcp4opts"},
	{"src portrange 999-1000", "udp4"},
	{"portrange 503-999", ""},
	{"tcp", "tcp4opts"},
	{"udp", "udp4 frag4 udp6"},
	{"icmp", "icmp4"},
	{"icmp6", "icmp6"},
	{"arp", "arp"},
	{"ip", "udp4 tcp4opts frag4 icmp4"},
	{"ip6", "udp6 icmp6"},
	{"vlan", "vlan100tcp"},
	{"vlan 100", "vlan100tcp"},
	{"vlan 101", ""},
	{"vlan and tcp", "vlan100tcp"},
	{"vlan 100 and tcp port 102", "vlan100tcp"},
	{"vlan and host 172.16.0.2", "vlan100tcp"},
	{"host 172.16.0.2", ""},
	{"ether host 00:1b:1b:aa:bb:cc", "udp4 tcp4opts frag4 udp6 icmp6 icmp4 vlan100tcp lldp"},
	{"ether src 00:0e:8c:11:22:33", "arp"},
	{"ether dst host ff:ff:ff:ff:ff:ff", "arp"},
	{"ether proto 0x88cc", "lldp"},
	{"ether proto 2054", "arp"},
	{"not ip and not ip6", "arp vlan100tcp lldp"},
	{"!arp && !(ip || ip6)", "vlan100tcp lldp"},
	{"udp and not port 502", "frag4 udp6"},
	{"tcp or udp and host 10.0.0.2", "udp4 frag4"}, // and/or group left to right
	{"(tcp or udp) and (host 10.0.0.2 or net 192.168.0.0/16)", "udp4 tcp4opts frag4"},
	{"net 0.0.0.0/0", "udp4 tcp4opts frag4 icmp4 arp"},
	{"not not icmp", "icmp4"},
}

func TestCompileFilterEthernet(t *testing.T) {
	names, frames := filterPackets(t)
	for _, c := range filterCases {
		prog, err := CompileFilter(c.filter, layers.LinkTypeEthernet)
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatalf("%q: %v", c.filter, err)
		}
		var got []string
		for _, name := range names {
			n, err := vm.Run(frames[name])
			if err != nil {
				t.Fatalf("%q on %s: %v", c.filter, name, err)
			}
			if n > 0 {
				got = append(got, name)
			}
		}
		if g := strings.Join(got, " "); g != c.want {
			t.Errorf("%q matches [%s], want [%s]", c.filter, g, c.want)
		}
	}
}

// TestCompileFilterOtherLinkTypes runs filters over the IP packets re-framed
// for the other supported link types.
func TestCompileFilterOtherLinkTypes(t *testing.T) {
	_, frames := filterPackets(t)
	udp4 := frames["udp4"][14:]
	udp6 := frames["udp6"][14:]
	sll := func(et uint16, p []byte) []byte {
		h := []byte{0, 0, 0, 1, 0, 6, 0, 0x1b, 0x1b, 0xaa, 0xbb, 0xcc, 0, 0, byte(et >> 8), byte(et)}
		return append(h, p...)
	}
	null := func(fam uint32, p []byte) []byte {
		return append([]byte{byte(fam), byte(fam >> 8), byte(fam >> 16), byte(fam >> 24)}, p...)
	}
	loop := func(fam uint32, p []byte) []byte {
		return append([]byte{byte(fam >> 24), byte(fam >> 16), byte(fam >> 8), byte(fam)}, p...)
	}
	cases := []struct {
		lt        layers.LinkType
		v4, v6    []byte
		filter    string
		want4, w6 bool
	}{
		{layers.LinkTypeRaw, udp4, udp6, "udp port 502", true, false},
		{layers.LinkTypeRaw, udp4, udp6, "ip6 and udp", false, true},
		{12, udp4, udp6, "host 10.0.0.1", true, false},
		{228, udp4, nil, "udp and dst host 10.0.0.2", true, false},
		{229, nil, udp6, "port 47808 and net fd00::/16", false, true},
		{layers.LinkTypeLinuxSLL, sll(0x0800, udp4), sll(0x86dd, udp6), "port 502 or port 47808", true, true},
		{layers.LinkTypeLinuxSLL, sll(0x0800, udp4), sll(0x86dd, udp6), "ip6", false, true},
		{layers.LinkTypeNull, null(2, udp4), null(30, udp6), "udp and (host 10.0.0.2 or host fd00::2)", true, true},
		{layers.LinkTypeNull, null(2, udp4), null(24, udp6), "ip", true, false},
		{layers.LinkTypeLoop, loop(2, udp4), loop(28, udp6), "ip6 and port 47808", false, true},
	}
	for _, c := range cases {
		prog, err := CompileFilter(c.filter, c.lt)
		if err != nil {
			t.Fatalf("%v %q: %v", c.lt, c.filter, err)
		}
		vm, err := bpf.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []struct {
			frame []byte
			want  bool
		}{{c.v4, c.want4}, {c.v6, c.w6}} {
			if p.frame == nil {
				continue
			}
			n, _ := vm.Run(p.frame)
			if (n > 0) != p.want {
				t.Errorf("link type %d, %q: match %v, want %v", c.lt, c.filter, n > 0, p.want)
			}
		}
	}
	if _, err := CompileFilter("vlan", layers.LinkTypeRaw); !errors.Is(err, ErrFilter) {
		t.Errorf("vlan on raw IP: %v", err)
	}
	if _, err := CompileFilter("ether host 00:1b:1b:aa:bb:cc", layers.LinkTypeLinuxSLL); !errors.Is(err, ErrFilter) {
		t.Errorf("ether host on SLL: %v", err)
	}
}

func TestCompileFilterErrors(t *testing.T) {
	cases := map[string]string{
		"host example.com":      `"example.com"`,
		"port http":             `"http"`,
		"tcp port 502 and":      "unexpected end",
		"(tcp":                  "unexpected end",
		"tcp)":                  `")"`,
		"greater 100":           `"greater"`,
		"portrange 10-5":        `"10-5"`,
		"net 10.0.0.0/33":       `"10.0.0.0/33"`,
		"vlan 5000 and tcp":     `"5000"`,
		"ether host 1:2:3":      `"1:2:3"`,
		"tcp host 10.0.0.1":     `"host"`,
		"udp & port 1":          `"&"`,
		"ether proto ipx":       `"ipx"`,
		strings.Repeat("(", 80): "nested",
	}
	for filter, token := range cases {
		_, err := CompileFilter(filter, layers.LinkTypeEthernet)
		if !errors.Is(err, ErrFilter) {
			t.Errorf("%q: err %v, want ErrFilter", filter, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, token) || !strings.Contains(msg, "supported: [src|dst] host") || strings.Contains(msg, "\n") {
			t.Errorf("%q: message %q should name %s and list the primitives on one line", filter, msg, token)
		}
	}
}

func TestCompileFilterLongProgramUsesTrampolines(t *testing.T) {
	var parts []string
	for p := 1; p <= 60; p++ {
		parts = append(parts, "port "+strconv.Itoa(p))
	}
	parts = append(parts, "port 502")
	prog, err := CompileFilter(strings.Join(parts, " or "), layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	if len(prog) < 300 {
		t.Fatalf("program has %d instructions; the test needs jumps longer than 255", len(prog))
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	_, frames := filterPackets(t)
	if n, _ := vm.Run(frames["udp4"]); n == 0 {
		t.Fatal("port 502 (last alternative) did not match")
	}
	if n, _ := vm.Run(frames["tcp4opts"]); n != 0 {
		t.Fatal("port 2222 matched")
	}
	if _, err := bpf.Assemble(prog); err != nil {
		t.Fatal(err)
	}
}

// TestCompileFilterAgainstTcpdump checks the verdicts of every filter case
// against tcpdump's (libpcap's) on the same frames, if tcpdump is installed.
func TestCompileFilterAgainstTcpdump(t *testing.T) {
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		testenv.Skip(t, "tcpdump not installed")
	}
	names, frames := filterPackets(t)
	var list [][]byte
	for _, n := range names {
		list = append(list, frames[n])
	}
	path := writeFile(t, t.TempDir(), "f.pcap", writePcap(t, layers.LinkTypeEthernet, list))
	for _, c := range filterCases {
		out, err := exec.Command(tcpdump, "-nn", "-tt", "-r", path, c.filter).Output()
		if err != nil {
			t.Fatalf("tcpdump %q: %v", c.filter, err)
		}
		var got []string
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			// Frame i (0-based) was written at 1700000000 s + i ms.
			if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], "1700000000.") {
				us, err := strconv.Atoi(strings.TrimPrefix(f[0], "1700000000."))
				if err != nil || us/1000 >= len(names) {
					t.Fatalf("tcpdump line %q", line)
				}
				got = append(got, names[us/1000])
			}
		}
		sort.Strings(got)
		want := strings.Fields(c.want)
		sort.Strings(want)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%q: tcpdump matches %v, we expect %v", c.filter, got, want)
		}
	}
}

func FuzzCompileFilter(f *testing.F) {
	for _, c := range filterCases {
		f.Add(c.filter)
	}
	for _, s := range []string{"", "(", "not", "vlan vlan vlan", "host ::ffff:1.2.3.4", "net ::ffff:10.0.0.0/104", "ether proto \\ip"} {
		f.Add(s)
	}
	_, frames := filterPackets(f)
	f.Fuzz(func(t *testing.T, expr string) {
		for _, lt := range []layers.LinkType{layers.LinkTypeEthernet, layers.LinkTypeRaw, layers.LinkTypeNull} {
			prog, err := CompileFilter(expr, lt)
			if err != nil {
				if !errors.Is(err, ErrFilter) {
					t.Fatalf("%q: error %v does not wrap ErrFilter", expr, err)
				}
				continue
			}
			vm, err := bpf.NewVM(prog)
			if err != nil {
				t.Fatalf("%q: invalid program: %v", expr, err)
			}
			for _, fr := range frames {
				if _, err := vm.Run(fr); err != nil {
					t.Fatalf("%q: %v", expr, err)
				}
			}
		}
	})
}
