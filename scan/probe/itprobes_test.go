package probe

import (
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"
	"github.com/google/gopacket/pcapgo"

	"otscope/model"
	"otscope/scan/testenv"
)

// Test helpers of the IT, building and layer-2 probes.

var (
	itTestClient = model.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}
	itTestServer = model.MAC{0x02, 0x00, 0x00, 0x00, 0x00, 0x02}
)

// itSrcPort gives each test frame a conversation of its own, so tshark
// sees no retransmissions.
var itSrcPort atomic.Uint32

// itFrame wraps a request payload in Ethernet/IPv4 and UDP or TCP to port,
// as it goes on the wire.
func itFrame(t *testing.T, udp bool, port uint16, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr(itTestClient[:]), DstMAC: net.HardwareAddr(itTestServer[:]), EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, SrcIP: net.IPv4(10, 99, 0, 1), DstIP: net.IPv4(10, 99, 0, 2)}
	var l4 gopacket.SerializableLayer
	if udp {
		ip.Protocol = layers.IPProtocolUDP
		u := &layers.UDP{SrcPort: layers.UDPPort(50000 + itSrcPort.Add(1)), DstPort: layers.UDPPort(port)}
		_ = u.SetNetworkLayerForChecksum(ip)
		l4 = u
	} else {
		ip.Protocol = layers.IPProtocolTCP
		c := &layers.TCP{SrcPort: layers.TCPPort(50000 + itSrcPort.Add(1)), DstPort: layers.TCPPort(port), Seq: 1, Ack: 1, ACK: true, PSH: true, Window: 65535}
		_ = c.SetNetworkLayerForChecksum(ip)
		l4 = c
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip, l4, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// itTshark writes frames to a pcap and has tshark dissect them: no frame
// may be malformed or carry an expert error, and frame i must contain
// protocol protos[i]. Skips without tshark.
func itTshark(t *testing.T, frames [][]byte, protos []string) {
	t.Helper()
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		testenv.Skip(t, "tshark not installed")
	}
	path := filepath.Join(t.TempDir(), "requests.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for i, fr := range frames {
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: len(fr), Length: len(fr)}
		if err := w.WritePacket(ci, fr); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tshark, "-n", "-r", path, "-Y", "_ws.malformed || _ws.expert.severity >= error",
		"-T", "fields", "-e", "frame.number", "-e", "_ws.col.Info").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		t.Errorf("tshark finds malformed frames:\n%s", s)
	}
	out, err = exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.protocols", "-e", "_ws.col.Info").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(frames) {
		t.Fatalf("tshark read %d frames, want %d", len(lines), len(frames))
	}
	for i, l := range lines {
		stack, _, _ := strings.Cut(l, "\t")
		if !strings.Contains(":"+stack+":", ":"+protos[i]+":") {
			t.Errorf("frame %d dissected as %q, want %s", i+1, l, protos[i])
		} else {
			t.Logf("frame %d: %s", i+1, l)
		}
	}
}

// itResult is what a loopback scan produced.
type itResult struct {
	mu    sync.Mutex
	recs  []model.ScanRecord
	facts []model.Fact
	subj  []model.Endpoint
}

func (r *itResult) log(rec model.ScanRecord) {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
}

func (r *itResult) observe(b model.Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range b.Obs {
		if o.Kind == model.ObsFact {
			r.facts = append(r.facts, o.Fact)
			r.subj = append(r.subj, o.Subject)
		}
	}
}

// fact returns the values of field learnt about addr, failing the test
// if one is not an Active fact.
func (r *itResult) fact(t *testing.T, addr netip.Addr, field string) []string {
	t.Helper()
	var out []string
	for i, f := range r.facts {
		if f.Field != field || r.subj[i].IP != addr {
			continue
		}
		if f.Source.Kind != model.Active {
			t.Errorf("fact %s=%q has source %v, want active", f.Field, f.Value, f.Source.Kind)
		}
		out = append(out, f.Value)
	}
	return out
}

// kinds lists the request kinds of the records, in order.
func (r *itResult) kinds() []string {
	var out []string
	for _, rec := range r.recs {
		out = append(out, rec.Kind)
	}
	return out
}

// itScan plans and runs probes against target with what known says of it,
// under caps high enough for a quick test.
func itScan(t *testing.T, target netip.Addr, known Known, po PlanOptions, probes ...string) (*itResult, *Plan) {
	t.Helper()
	scope, err := ParseScope([]string{target.String()}, ScopeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := Targets(scope, nil, nil)
	if known.Fields == nil {
		known.Fields = map[string]bool{}
	}
	for i := range ts {
		ts[i].Known = known
		ts[i].Asset = &model.Asset{ID: model.IPAssetID(target)}
	}
	ps, err := Lookup(probes)
	if err != nil {
		t.Fatal(err)
	}
	res := &itResult{}
	sc := New(Options{Rate: 200, PerHost: 50, Timeout: 1500 * time.Millisecond, Scope: scope, Plan: po,
		Log: res.log, Observe: res.observe})
	plan := BuildPlan(ts, ps, &po, sc.o.Budget())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := sc.Run(ctx, plan); err != nil {
		t.Fatalf("scan: %v", err)
	}
	for _, rec := range res.recs {
		t.Logf("log: %s %s/%d %s %s bytes=%d pkts=%d answer=%q err=%q", rec.Probe, rec.Transport, rec.Port, rec.Kind,
			rec.Target, rec.Bytes, rec.Packets, rec.Answer, rec.Error)
	}
	return res, plan
}

// itDissectCase is one row of a dissector table.
type itDissectCase struct {
	name    string
	payload []byte
	want    Kind // "" when refused
}

// itCheckDissector runs a dissector table through Check as the session
// does.
func itCheckDissector(t *testing.T, family string, cases []itDissectCase) {
	t.Helper()
	for _, c := range cases {
		k, err := dissectors[family](c.payload)
		switch {
		case c.want == "" && err == nil:
			t.Errorf("%s: accepted as %s, want refused", c.name, k)
		case c.want != "" && err != nil:
			t.Errorf("%s: refused (%v), want %s", c.name, err, c.want)
		case c.want != "" && k != c.want:
			t.Errorf("%s: dissected as %s, want %s", c.name, k, c.want)
		}
		if c.want != "" {
			if err := Check(family, c.want, c.payload); err != nil {
				t.Errorf("%s: Check: %v", c.name, err)
			}
		} else if err := Check(family, KindTCPConnect, c.payload); err == nil {
			t.Errorf("%s: Check passes a refused payload", c.name)
		}
	}
}

// itCopy returns b with f applied to a copy.
func itCopy(b []byte, f func(c []byte) []byte) []byte {
	return f(append([]byte(nil), b...))
}

// TestPlannedOncePerPlan checks the per-plan memo DCP relies on: a key is
// new once per BuildPlan, and always outside one.
func TestPlannedOncePerPlan(t *testing.T) {
	var o PlanOptions
	if first, again := o.firstInPlan("x"), o.firstInPlan("x"); !first || !again {
		t.Error("outside a plan every key must be new")
	}
	oc := o
	oc.planned = map[string]bool{}
	if !oc.firstInPlan("x") || oc.firstInPlan("x") || !oc.firstInPlan("y") {
		t.Error("inside a plan a key is new only once")
	}
}

func TestItPrefixesContain(t *testing.T) {
	ps := []netip.Prefix{netip.MustParsePrefix("10.99.0.0/24"), netip.MustParsePrefix("192.168.1.7/32"), netip.MustParsePrefix("172.16.0.0/31")}
	for addr, want := range map[string]bool{
		"10.99.0.2": true, "10.99.0.0": false, "10.99.0.255": false, "10.99.1.2": false,
		"192.168.1.7": false, "172.16.0.1": true, "172.16.0.0": true,
	} {
		if got := itPrefixesContain(ps, netip.MustParseAddr(addr)); got != want {
			t.Errorf("%s: on link %v, want %v", addr, got, want)
		}
	}
	if itOnLink(netip.MustParseAddr("127.0.0.1"), "") != "" {
		t.Error("loopback is not a segment for ARP or DCP")
	}
}
