package plant

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"otscope/model"
)

func hashFrames(t *testing.T, o Options, n int) [32]byte {
	t.Helper()
	h := sha256.New()
	g := New(o)
	for i := 0; i < n; i++ {
		ci, data, ok := g.Next()
		if !ok {
			t.Fatalf("generator ended after %d frames", i)
		}
		b, _ := ci.Timestamp.MarshalBinary()
		h.Write(b)
		h.Write(data)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func TestDeterministic(t *testing.T) {
	a := hashFrames(t, Options{Seed: 42}, 10000)
	b := hashFrames(t, Options{Seed: 42}, 10000)
	if a != b {
		t.Fatal("two generators with the same seed produced different frames")
	}
	if c := hashFrames(t, Options{Seed: 43}, 10000); c == a {
		t.Fatal("a different seed produced the same frames")
	}
}

func TestDevicesTable(t *testing.T) {
	devs := Devices()
	if len(devs) < 35 || len(devs) > 45 {
		t.Fatalf("got %d devices, want 35-45", len(devs))
	}
	names := map[string]bool{}
	macs := map[model.MAC]string{}
	ips := map[netip.Addr]string{}
	routed := 0
	for _, d := range devs {
		if names[d.Name] {
			t.Errorf("duplicate name %s", d.Name)
		}
		names[d.Name] = true
		if d.Vendor == "" || d.Model == "" || d.Role == "" || d.Zone == "" || !d.IP.Is4() {
			t.Errorf("%s: incomplete %+v", d.Name, d)
		}
		if zi := zoneIndex(d.Zone); zones[zi].name != d.Zone || !zones[zi].prefix.Contains(d.IP) {
			t.Errorf("%s: %v is not in zone %q", d.Name, d.IP, d.Zone)
		}
		if other, dup := ips[d.IP]; dup {
			t.Errorf("%s and %s share %v", d.Name, other, d.IP)
		}
		ips[d.IP] = d.Name
		if d.Routed {
			routed++
			if !d.MAC.IsZero() || d.Via == "" {
				t.Errorf("%s: routed device needs a zero MAC and Via", d.Name)
			}
			continue
		}
		if !d.MAC.IsUnicast() || d.MAC.IsLocal() {
			t.Errorf("%s: MAC %v is not a globally unique unicast address", d.Name, d.MAC)
		}
		if other, dup := macs[d.MAC]; dup {
			t.Errorf("%s and %s share %v", d.Name, other, d.MAC)
		}
		macs[d.MAC] = d.Name
		if _, ok := onlineMS[d.Name]; !ok {
			t.Errorf("%s has no online time", d.Name)
		}
	}
	if routed < 6 {
		t.Errorf("%d routed devices, want at least 6", routed)
	}
}

// decoded is what the tests read from one frame.
type decoded struct {
	src    model.MAC
	ip     netip.Addr
	vlans  []uint16
	outerQ bool
}

func decode(t *testing.T, i int, data []byte) decoded {
	t.Helper()
	p := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
	if el := p.ErrorLayer(); el != nil {
		t.Fatalf("frame %d: gopacket error %v\n%s", i, el.Error(), p.Dump())
	}
	var d decoded
	eth := p.Layer(layers.LayerTypeEthernet).(*layers.Ethernet)
	d.src = model.MACFrom(eth.SrcMAC)
	d.outerQ = eth.EthernetType == layers.EthernetTypeQinQ
	for _, l := range p.Layers() {
		if q, ok := l.(*layers.Dot1Q); ok {
			d.vlans = append(d.vlans, q.VLANIdentifier)
		}
	}
	if ip4, ok := p.Layer(layers.LayerTypeIPv4).(*layers.IPv4); ok {
		d.ip, _ = netip.AddrFromSlice(ip4.SrcIP)
	}
	if len(data) < 60 {
		t.Fatalf("frame %d: %d bytes, not padded to 60", i, len(data))
	}
	return d
}

func TestFramesParseAndEveryDeviceSpeaks(t *testing.T) {
	g := New(Options{Seed: 7, Duration: 60 * time.Second})
	devs := Devices()
	byMAC := map[model.MAC]*Device{}
	byIP := map[netip.Addr]*Device{}
	fw := model.MAC{}
	for i := range devs {
		d := &devs[i]
		byIP[d.IP] = d
		if !d.Routed {
			byMAC[d.MAC] = d
		}
		if d.Name == "fw01" {
			fw = d.MAC
		}
	}
	seen := map[string]bool{}
	var last time.Time
	n := 0
	for {
		ci, data, ok := g.Next()
		if !ok {
			break
		}
		n++
		if ci.Timestamp.Before(last) {
			t.Fatalf("frame %d: time went backwards", n)
		}
		last = ci.Timestamp
		if ci.CaptureLength != len(data) || ci.Length != len(data) {
			t.Fatalf("frame %d: capture info %+v for %d bytes", n, ci, len(data))
		}
		f := decode(t, n, data)
		if d := byMAC[f.src]; d != nil {
			seen[d.Name] = true
			if d.OuterVLAN != 0 && (!f.outerQ || len(f.vlans) != 2 || f.vlans[0] != d.OuterVLAN || f.vlans[1] != d.VLAN) {
				t.Fatalf("frame %d from %s: tags %v (QinQ %v), want %d/%d", n, d.Name, f.vlans, f.outerQ, d.OuterVLAN, d.VLAN)
			}
			if d.OuterVLAN == 0 && d.VLAN != 0 && (len(f.vlans) != 1 || f.vlans[0] != d.VLAN) {
				t.Fatalf("frame %d from %s: tags %v, want %d", n, d.Name, f.vlans, d.VLAN)
			}
		}
		if d := byIP[f.ip]; d != nil && d.Routed {
			if f.src != fw {
				t.Fatalf("frame %d from routed %s has source MAC %v, want the firewall's", n, d.Name, f.src)
			}
			seen[d.Name] = true
		}
	}
	if last.Sub(DefaultStart) > 60*time.Second {
		t.Errorf("last frame at %v, beyond Duration", last.Sub(DefaultStart))
	}
	for _, d := range devs {
		if !seen[d.Name] {
			t.Errorf("%s (%s) sent nothing in the first 60 s", d.Name, d.Role)
		}
	}
	if rate := float64(n) / 60; rate < 80 || rate > 400 {
		t.Errorf("%.0f frames/s of plant time, want 100-400", rate)
	}
}

func TestOnlineIsProgressive(t *testing.T) {
	g := New(Options{Seed: 1, Duration: 30 * time.Second})
	first := map[model.MAC]time.Duration{}
	for {
		ci, data, ok := g.Next()
		if !ok {
			break
		}
		m := model.MACFrom(data[6:12])
		if _, ok := first[m]; !ok {
			first[m] = ci.Timestamp.Sub(DefaultStart)
		}
	}
	early := 0
	for _, at := range first {
		if at < 5*time.Second {
			early++
		}
	}
	if early == 0 || early > len(first)/2 {
		t.Errorf("%d of %d stations appear in the first 5 s; want a gradual start", early, len(first))
	}
}

func TestLimits(t *testing.T) {
	g := New(Options{MaxPackets: 1234})
	n := 0
	for {
		if _, _, ok := g.Next(); !ok {
			break
		}
		n++
	}
	if n != 1234 || g.Packets() != 1234 {
		t.Fatalf("MaxPackets 1234 gave %d frames (Packets %d)", n, g.Packets())
	}
	if _, err := WritePcap(&bytes.Buffer{}, Options{}); !errors.Is(err, ErrUnbounded) {
		t.Fatalf("WritePcap without limits: %v, want ErrUnbounded", err)
	}
}

func TestWritePcapRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	start := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	n, err := WritePcap(&buf, Options{Seed: 3, Start: start, Duration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet || r.Snaplen() != Snaplen {
		t.Fatalf("link type %v snaplen %d", r.LinkType(), r.Snaplen())
	}
	got := 0
	for {
		_, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		if got == 0 && ci.Timestamp.Before(start) {
			t.Fatalf("first frame at %v, before Start", ci.Timestamp)
		}
		got++
	}
	if got != n || n == 0 {
		t.Fatalf("wrote %d frames, read back %d", n, got)
	}
}

func TestScaleRaisesPolling(t *testing.T) {
	count := func(scale int) int {
		g := New(Options{Duration: 30 * time.Second, Scale: scale})
		n := 0
		for {
			if _, _, ok := g.Next(); !ok {
				return n
			}
			n++
		}
	}
	if one, ten := count(1), count(10); ten < 5*one {
		t.Fatalf("Scale 10 gave %d frames, Scale 1 %d", ten, one)
	}
}

func TestHeapStaysFlat(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	g := New(Options{Seed: 9, Scale: 10})
	for i := 0; i < 10000; i++ {
		g.Next()
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		if _, _, ok := g.Next(); !ok {
			t.Fatalf("generator ended at %d", i)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapAlloc) - int64(before.HeapAlloc); grow > 256<<10 {
		t.Fatalf("heap grew by %d bytes over %d frames", grow, n)
	}
	if allocs := after.Mallocs - before.Mallocs; allocs > uint64(n/1000) {
		t.Fatalf("%d allocations over %d frames", allocs, n)
	}
}

func BenchmarkGenerate(b *testing.B) {
	g := New(Options{Seed: 1, Scale: 10})
	b.ReportAllocs()
	bytes := 0
	for b.Loop() {
		_, data, ok := g.Next()
		if !ok {
			b.Fatal("generator ended")
		}
		bytes += len(data)
	}
	b.SetBytes(int64(bytes / max(b.N, 1)))
}

// TestIdentityAndScenarios checks that the identity traffic and the policy
// scenarios documented in doc.go are on the wire, sent by the right station
// at the right time.
func TestIdentityAndScenarios(t *testing.T) {
	mac := map[string]model.MAC{}
	for _, d := range Devices() {
		mac[d.Name] = d.MAC
	}
	type want struct {
		what         string
		sender       string // its MAC; office hosts send with the firewall's
		needle       string
		after, until time.Duration
	}
	wants := []want{
		{"S7-1500 SZL 0x0011 order number", "plc-a1", "6ES7 516-3AN02-0AB0", 0, 40 * time.Second},
		{"S7-300 SZL 0x001C module type", "plc-a2", "CPU 315-2 PN/DP", 0, 40 * time.Second},
		{"S7comm-plus CreateObject response", "plc-a1", "1;6ES7 516-3AN02-0AB0;V2.9", 0, 40 * time.Second},
		{"CIP identity", "plc-b1", "1756-L83E/B", 0, 40 * time.Second},
		{"Modbus device identification", "plc-c3", "WAGO Kontakttechnik", 0, 40 * time.Second},
		{"DCP DeviceVendorValue", "io-a1", "ET 200SP", 0, 40 * time.Second},
		{"PNIO-CM CMInitiatorStationName", "plc-a1", "plc-a1", 0, 40 * time.Second},
		{"BACnet model-name behind the router", "bms-nae01", "MS-FEC2621-0", 0, 60 * time.Second},
		{"GOOSE gocbRef", "ied01", "IED1CTRL/LLN0$GO$gcb01", 0, 20 * time.Second},
		{"MMS Identify", "ied02", "REF615", 0, 40 * time.Second},
		{"OPC UA endpoint with security None", "scada01", "SecurityPolicy#None", 0, 60 * time.Second},
		{"Windows 7 native OS", "hmi-a2", "W\x00i\x00n\x00d\x00o\x00w\x00s\x00 \x007\x00", 0, 60 * time.Second},
		{"Telnet banner", "sw-cellb", "Model: EDS-510E-3GTXSFP", 0, 60 * time.Second},
		{"SNMP sysLocation", "sw-cellb", "Hall 2 packaging cabinet", 0, 60 * time.Second},
		{"S7 program download from the office", "fw01", "\x1a\x00\x00\x00\x00\x00\x00\x00\x09_0800001P",
			175 * time.Second, 185 * time.Second},
		{"Modbus write from the office", "fw01", "\x00\x00\x00\x0f\x01\x10\x00\xc8\x00\x04\x08",
			265 * time.Second, 275 * time.Second},
	}
	found := make([]time.Duration, len(wants))
	count := make([]int, len(wants))
	g := New(Options{Seed: 5, Duration: 5 * time.Minute})
	for {
		ci, data, ok := g.Next()
		if !ok {
			break
		}
		at := ci.Timestamp.Sub(DefaultStart)
		src := model.MACFrom(data[6:12])
		for i, w := range wants {
			if src == mac[w.sender] && bytes.Contains(data, []byte(w.needle)) {
				if count[i] == 0 {
					found[i] = at
				}
				count[i]++
			}
		}
	}
	for i, w := range wants {
		switch {
		case count[i] == 0:
			t.Errorf("%s: %q from %s never sent", w.what, w.needle, w.sender)
		case found[i] < w.after || found[i] > w.until:
			t.Errorf("%s: first at %v, want %v-%v", w.what, found[i], w.after, w.until)
		}
	}
	for _, i := range []int{len(wants) - 2, len(wants) - 1} {
		if count[i] != 1 {
			t.Errorf("%s: sent %d times, want once", wants[i].what, count[i])
		}
	}
	for _, s := range SubDevices() {
		if s.Sub != "bacnet-net"+itoa(byte(s.Net))+":"+itoa(s.Addr) || mac[s.Via].IsZero() {
			t.Errorf("sub-device %s: Sub %q / Via %q inconsistent", s.Name, s.Sub, s.Via)
		}
	}
}
