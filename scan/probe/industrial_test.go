package probe

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/probe/sim"
	"otscope/scan/testenv"
)

// Test helpers shared by the industrial probes' tests: run the real
// Scanner against one loopback target and collect its packet log and the
// facts the transcript produced.

// icsResult is what one scan of one target produced.
type icsResult struct {
	plan  *Plan
	recs  []model.ScanRecord
	facts map[string][]model.Fact // facts about the target, by field
	obs   []model.Observation
}

// kinds lists the request kinds of the log, in order.
func (r *icsResult) kinds() []string {
	var k []string
	for _, rec := range r.recs {
		k = append(k, rec.Kind)
	}
	return k
}

// value returns the values of field learnt about the target.
func (r *icsResult) values(field string) []string {
	var v []string
	for _, f := range r.facts[field] {
		v = append(v, f.Value)
	}
	return v
}

// wantFact checks that field has value, learnt actively from protocol.
func (r *icsResult) wantFact(t *testing.T, field, value, protocol string) {
	t.Helper()
	for _, f := range r.facts[field] {
		if f.Value == value {
			if f.Source.Kind != model.Active || f.Source.Protocol != protocol || !strings.HasPrefix(f.Source.Origin, "scan:") || f.Source.Frame == 0 {
				t.Errorf("%s %q: source %+v, want active %s from a scan record", field, value, f.Source, protocol)
			}
			return
		}
	}
	t.Errorf("%s = %q, want %q", field, r.values(field), value)
}

// icsScan plans and runs the named probes against target (with asset as
// what the session knows of it, nil for nothing) and returns the result.
func icsScan(t *testing.T, target netip.Addr, asset *model.Asset, names []string, po PlanOptions) *icsResult {
	t.Helper()
	scope, err := ParseScope([]string{target.String()}, ScopeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var assets []model.Asset
	if asset != nil {
		assets = append(assets, *asset)
	}
	probes, err := Lookup(names)
	if err != nil {
		t.Fatal(err)
	}
	res := &icsResult{facts: map[string][]model.Fact{}}
	var mu sync.Mutex
	sc := New(Options{
		Rate: 500, PerHost: 100, Timeout: time.Second, Scope: scope, Plan: po, ScanID: "test",
		Log: func(r model.ScanRecord) { mu.Lock(); res.recs = append(res.recs, r); mu.Unlock() },
		Observe: func(b model.Batch) {
			mu.Lock()
			defer mu.Unlock()
			for _, o := range b.Obs {
				res.obs = append(res.obs, o)
				if o.Kind == model.ObsFact && o.Subject.IP == target {
					res.facts[o.Fact.Field] = append(res.facts[o.Fact.Field], o.Fact)
				}
			}
		},
	})
	res.plan = BuildPlan(Targets(scope, assets, nil), probes, &po, sc.Budget().Options())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := sc.Run(ctx, res.plan); err != nil {
		t.Fatalf("scan: %v", err)
	}
	for _, r := range res.recs {
		if r.Target != target {
			t.Errorf("record for %s, scope is %s", r.Target, target)
		}
		if r.Answer == "not sent" {
			t.Errorf("refused request: %+v", r)
		}
	}
	return res
}

// icsAsset is a session asset at ip serving tcp ports (protocol names
// given for each).
func icsAsset(ip netip.Addr, tcp map[uint16]string) *model.Asset {
	a := &model.Asset{ID: model.IPAssetID(ip), IPs: []netip.Addr{ip}}
	for port, proto := range tcp {
		a.Services = append(a.Services, model.Service{Transport: "tcp", Port: port, Protocol: proto})
		if !slices.Contains(a.Protocols, proto) {
			a.Protocols = append(a.Protocols, proto)
		}
	}
	return a
}

// icsFreePort returns a TCP port free on addr now.
func icsFreePort(t *testing.T, addr string) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// icsLabFile finds a lab script: the project's testdata/lab first, then the
// shared lab next to the repository.
func icsLabFile(t *testing.T, rel string) string {
	t.Helper()
	for _, dir := range []string{"../../testdata/lab", "../../../shared/lab"} {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err == nil {
			abs, _ := filepath.Abs(p)
			return abs
		}
	}
	testenv.Skipf(t, "lab script %s not found", rel)
	return ""
}

// icsStartPeer runs a real server process and waits until addr:port accepts
// connections; it is stopped (by its PID) when the test ends.
func icsStartPeer(t *testing.T, addr string, port int, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		testenv.Skipf(t, "cannot start %s: %v", name, err)
	}
	var logMu sync.Mutex
	var log []string
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			logMu.Lock()
			log = append(log, sc.Text())
			logMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	hp := net.JoinHostPort(addr, strconv.Itoa(port))
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", hp, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
	}
	logMu.Lock()
	defer logMu.Unlock()
	t.Fatalf("%s did not listen on %s: %s", name, hp, strings.Join(log, "\n"))
}

// icsTcpdump captures loopback traffic of host into a pcap file until the
// returned stop is called; it skips without tcpdump (or the right to
// capture). stop waits, up to 20 s, until want (if given) says the capture
// holds what the test expects, else until the capture has been quiet for
// 300 ms: a loaded machine delivers the last segments late, never early.
func icsTcpdump(t *testing.T, host string, want ...func(file string) bool) (stop func() string) {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		testenv.Skip(t, "tcpdump is not installed")
	}
	file := filepath.Join(t.TempDir(), "wire.pcap")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// the capture goes to stdout (tcpdump drops its privileges before it
	// opens a file); immediate mode delivers each packet at once, not when
	// the kernel's ring block times out
	cmd := exec.Command("tcpdump", "-i", "lo", "--immediate-mode", "-U", "-n", "-w", "-", "host", host)
	cmd.Stdout = f
	errOut, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		testenv.Skipf(t, "tcpdump: %v", err)
	}
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(errOut)
		said := false
		for sc.Scan() {
			if !said && strings.Contains(sc.Text(), "listening on") {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = cmd.Wait()
			testenv.Skip(t, "tcpdump cannot capture on lo here")
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		testenv.Skip(t, "tcpdump did not start")
	}
	return func() string {
		deadline := time.Now().Add(20 * time.Second)
		var size int64 = -1
		quietSince := time.Now()
		for time.Now().Before(deadline) {
			if len(want) > 0 {
				if want[0](file) {
					break
				}
			} else if fi, err := os.Stat(file); err == nil {
				if fi.Size() != size {
					size, quietSince = fi.Size(), time.Now()
				} else if time.Since(quietSince) >= 300*time.Millisecond {
					break
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		return file
	}
}

// icsScanCaptured runs scan under a tcpdump of host until the capture is
// complete (what the test checks on the wire), up to three times. On a
// loaded machine tcpdump now and then never writes a scan's last packets
// (the scan's own log shows them sent and answered, and a second capture
// running beside the test's has them): the tests check what the scanner
// sends, not tcpdump, so an incomplete capture is taken again, and said.
func icsScanCaptured(t *testing.T, host string, complete func(file string) bool, scan func() *icsResult) (*icsResult, string) {
	t.Helper()
	var res *icsResult
	var file string
	for attempt := 1; attempt <= 3; attempt++ {
		stop := icsTcpdump(t, host, complete)
		res = scan()
		if file = stop(); complete(file) {
			break
		}
		t.Logf("capture %d of the scan is incomplete; scanning again", attempt)
	}
	return res, file
}

// icsTshark has tshark dissect a capture (args: extra options such as
// "-d tcp.port==N,tpkt"): a malformed packet or an error-level expert note
// fails the test. It returns each frame's protocol stack, one per line.
func icsTshark(t *testing.T, file string, args ...string) string {
	t.Helper()
	run := func(extra ...string) string {
		out, err := exec.Command("tshark", append(append([]string{"-r", file}, args...), extra...)...).Output()
		if err != nil {
			t.Fatalf("tshark: %v", err)
		}
		return string(out)
	}
	if s := strings.TrimSpace(run("-Y", "_ws.malformed || _ws.expert.severity == error", "-T", "fields",
		"-e", "frame.number", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info")); s != "" {
		t.Errorf("tshark finds malformed packets:\n%s", s)
	}
	return run("-T", "fields", "-e", "frame.protocols")
}

// TestICSSimsOnTheWire runs the EtherNet/IP, DNP3 and IEC 104 probes
// against the project's simulators on their standard ports, captures the
// loopback wire and has tshark dissect it: every protocol is recognised
// and no packet is malformed, in either direction.
func TestICSSimsOnTheWire(t *testing.T) {
	if testing.Short() {
		t.Skip("captures the wire")
	}
	if _, err := exec.LookPath("tshark"); err != nil {
		testenv.Skip(t, "tshark is not installed")
	}
	const addr = "127.0.0.34"
	enip, err := sim.ListenENIP(addr+":44818", sim.DefaultENIP())
	if err != nil {
		testenv.Skipf(t, "port 44818 (another test process holds it?): %v", err)
	}
	defer enip.Close()
	dnp3, err := sim.ListenDNP3(addr+":20000", sim.DNP3Outstation{Address: 10})
	if err != nil {
		testenv.Skipf(t, "port 20000 (another test process holds it?): %v", err)
	}
	defer dnp3.Close()
	iec, err := sim.ListenIEC104(addr + ":2404")
	if err != nil {
		testenv.Skipf(t, "port 2404 (another test process holds it?): %v", err)
	}
	defer iec.Close()
	// UDP ListIdentity, ListServices, Register, SendRRData, UnRegister,
	// link status, TESTFR
	const wantRequests = 7
	complete := func(file string) bool {
		// every request, and one to each protocol's port: EtherNet/IP
		// alone can make seven when a retry is needed
		reqs := wireRequests(file, addr)
		ports := map[string]bool{}
		for _, r := range reqs {
			ports[r[0]+"/"+r[1]] = true
		}
		return len(reqs) >= wantRequests && ports["/44818"] && ports["44818/"] && ports["20000/"] && ports["2404/"]
	}
	ip := netip.MustParseAddr(addr)
	a := icsAsset(ip, map[uint16]string{44818: "enip", 20000: "dnp3", 2404: "iec104"})
	a.Services = append(a.Services, model.Service{Transport: "udp", Port: 44818, Protocol: "enip"})
	a.ProtocolIDs = &model.ProtocolIDs{DNP3Addresses: []string{"10"}}
	res, file := icsScanCaptured(t, addr, complete, func() *icsResult {
		return icsScan(t, ip, a, []string{"enip", "dnp3", "iec104"}, PlanOptions{})
	})
	for _, r := range res.recs {
		if r.Error != "" {
			t.Errorf("record with an error: %+v", r)
		}
	}
	protos := icsTshark(t, file)
	for _, p := range []string{"udp:enip", "tcp:enip", "enip:cip", "tcp:dnp3", "tcp:iec60870_104"} {
		if !strings.Contains(protos, p) {
			t.Errorf("tshark does not see %s in:\n%s", p, protos)
		}
	}
	// the CIP answer is an Identity object that tshark reads back
	out, _ := exec.Command("tshark", "-r", file, "-Y", "cip.id.product_name", "-T", "fields",
		"-e", "cip.id.product_name", "-e", "cip.id.serial_number").Output()
	if !strings.Contains(string(out), "1756-L61/B LOGIX5561") {
		t.Errorf("tshark reads no Identity answer: %s", out)
	}
	// every request on the wire passes the allow-list
	families := map[string]string{"44818": "enip", "20000": "dnp3", "2404": "iec104"}
	reqs := wireRequests(file, addr)
	for _, f := range reqs {
		port, payload := f[0]+f[1], f[2]+f[3]
		p, err := hex.DecodeString(strings.ReplaceAll(payload, ":", ""))
		if err != nil {
			t.Fatalf("tshark payload %q: %v", payload, err)
		}
		fam := families[port]
		if _, err := dissectors[fam](p); err != nil {
			t.Errorf("request on the wire to %s refused by the %s dissector: %v", port, fam, err)
		}
	}
	if len(reqs) != wantRequests {
		// the packet log says whether the missing ones were sent
		var log []string
		for _, r := range res.recs {
			log = append(log, fmt.Sprintf("%s %s:%d %s %s", r.Time.Format("15:04:05.000"), r.Kind, r.Port, r.Answer, r.Error))
		}
		t.Errorf("%d requests on the wire, want %d: %q\npacket log:\n%s", len(reqs), wantRequests, reqs, strings.Join(log, "\n"))
	}
}

// wireRequests are the requests to addr in a capture (which may still be
// being written): per packet its TCP and UDP destination ports and
// payloads, as tshark reads them.
func wireRequests(file, addr string) [][]string {
	out, _ := exec.Command("tshark", "-r", file, "-Y", "ip.dst == "+addr+" && (tcp.len > 0 || udp)", "-T", "fields",
		"-e", "tcp.dstport", "-e", "udp.dstport", "-e", "tcp.payload", "-e", "udp.payload").Output()
	var reqs [][]string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if f := strings.Split(line, "\t"); len(f) >= 4 {
			reqs = append(reqs, f)
		}
	}
	return reqs
}

func TestICSStop(t *testing.T) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	timeout := &ExchangeError{Answer: "timeout"}
	reset := &ExchangeError{Answer: "reset"}
	budget := errors.New("reservation of 9 packets exceeds the per-host cap of 5/s")
	cases := []struct {
		ctx  context.Context
		err  error
		want error
	}{
		{ctx, nil, nil},
		{ctx, timeout, nil},                    // recorded by the session: only ends the probe
		{ctx, fmt.Errorf("x: %w", reset), nil}, // wrapped the same
		{ctx, ErrStopped, ErrStopped},
		{ctx, budget, budget},
		{canceled, timeout, context.Canceled},
	}
	for _, c := range cases {
		if got := stopErr(c.ctx, c.err); got != c.want {
			t.Errorf("stopErr(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if !icsTimeout(timeout) || icsTimeout(reset) || !icsClosed(reset) || icsClosed(timeout) || icsClosed(budget) {
		t.Error("icsTimeout/icsClosed")
	}
}
