package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"otscope/assets"
	"otscope/assets/store"
	"otscope/model"
	"otscope/scan"
	"otscope/scan/capture"
	"otscope/scan/plant"
	"otscope/scan/testenv"
)

const sharedPcaps = "../shared/pcaps"

// otscope runs one command in-process and returns its status and output.
func otscope(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func dbArgs(dir string) []string {
	return []string{"--db", filepath.Join(dir, "db"), "--log", filepath.Join(dir, "otscope.log")}
}

// demoSession writes the demo plant's capture of duration d and reads it
// into session in a new directory, which it returns (for dbArgs).
func demoSession(t *testing.T, d, session string) string {
	t.Helper()
	dir := t.TempDir()
	pcap := filepath.Join(dir, "plant.pcap")
	if code, out, errs := otscope(t, "demo", "--write", pcap, "--duration", d); code != 0 {
		t.Fatalf("demo --write: %d %s %s", code, out, errs)
	}
	if code, _, errs := otscope(t, append([]string{"read", pcap, "--session", session, "-q"}, dbArgs(dir)...)...); code != 0 {
		t.Fatalf("read: %d %s", code, errs)
	}
	return dir
}

func exportAssets(t *testing.T, dir, session string) []model.Asset {
	t.Helper()
	code, out, errs := otscope(t, append([]string{"assets", "--session", session, "--format", "json"}, dbArgs(dir)...)...)
	if code != 0 {
		t.Fatalf("assets: exit %d: %s", code, errs)
	}
	var as []model.Asset
	if err := json.Unmarshal([]byte(out), &as); err != nil {
		t.Fatalf("assets JSON: %v", err)
	}
	return as
}

type truthFile struct {
	File    string `json:"file"`
	Packets int    `json:"packets"`
	Devices map[string]struct {
		MAC      []string            `json:"mac"`
		IP       []string            `json:"ip"`
		Identity map[string][]string `json:"identity"`
	} `json:"devices"`
}

// loadTruths parses every truth file of ../shared/pcaps (what tshark
// decodes from each capture); without them the test skips, or fails under
// OTSCOPE_STRICT=1.
func loadTruths(t *testing.T) []truthFile {
	t.Helper()
	if _, err := os.Stat(sharedPcaps); err != nil {
		testenv.Skip(t, "../shared/pcaps not present")
	}
	files, _ := filepath.Glob(filepath.Join(sharedPcaps, "truth", "*", "*.json"))
	if len(files) == 0 {
		testenv.Skip(t, "no truth files")
	}
	truths := make([]truthFile, len(files))
	for i, tf := range files {
		raw, err := os.ReadFile(tf)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &truths[i]); err != nil {
			t.Fatalf("%s: %v", tf, err)
		}
	}
	return truths
}

// TestReadRealCaptures ingests every public capture under ../shared/pcaps and
// checks, against what tshark decodes from each (truth/), that every host
// tshark sees as an endpoint is an asset. Devices behind BACnet routers and
// on MS/TP buses are identified by their application protocol (issue 3)
// and are not counted here.
func TestReadRealCaptures(t *testing.T) {
	truths := loadTruths(t)
	dir := t.TempDir()
	var expected, found, withVendor, macAssets int
	identity := newIdentityCheck(t)
	defer identity.report(t)
	for i, truth := range truths {
		capPath := filepath.Join(sharedPcaps, truth.File)
		session := fmt.Sprintf("cap%03d", i)
		start := time.Now()
		code, _, errs := otscope(t, append([]string{"read", capPath, "--session", session, "-q"}, dbArgs(dir)...)...)
		if code != 0 {
			t.Errorf("%s: exit %d: %s", truth.File, code, errs)
			continue
		}
		if el := time.Since(start); el > 20*time.Second {
			t.Errorf("%s: read took %s", truth.File, el)
		}
		as := exportAssets(t, dir, session)
		identity.check(t, truth, as)
		ips, macs := map[string]bool{}, map[string]bool{}
		for _, a := range as {
			for _, ip := range a.IPs {
				ips[ip.String()] = true
			}
			for _, m := range a.MACs {
				macs[m.String()] = true
				macAssets++
				if a.Vendor != "" {
					withVendor++
				}
			}
		}
		for key, dev := range truth.Devices {
			if strings.Contains(key, "|") || strings.HasPrefix(key, "mstp:") {
				continue // BACnet routed / MS/TP: application-layer identity (issue 3)
			}
			expected++
			ok := ips[key] || macs[key]
			for _, ip := range dev.IP {
				ok = ok || ips[ip]
			}
			if ok {
				found++
			} else {
				t.Errorf("%s: tshark endpoint %s (mac %v ip %v) is not an asset", truth.File, key, dev.MAC, dev.IP)
			}
		}
	}
	t.Logf("%d captures: %d of %d tshark endpoints are assets; %d of %d MAC assets have a vendor",
		len(truths), found, expected, withVendor, macAssets)
	if withVendor == 0 {
		t.Error("no asset got a vendor from its OUI")
	}
}

// TestDemoPlantReplayMatchesCapture: the demo replay and `read` of the same
// bytes written with `demo --write` give the same assets, and every device of
// the plant is one of them.
func TestDemoPlantReplayMatchesCapture(t *testing.T) {
	dir := demoSession(t, "90s", "file")
	// the replay path without the TUI: the same generator through a pipe
	if code, _, errs := otscope(t, append([]string{"demo", "--headless", "--session", "replay", "--seed", "1", "--duration", "90s"}, dbArgs(dir)...)...); code != 0 {
		t.Fatalf("demo --headless: %d %s", code, errs)
	}
	fromFile := summarize(exportAssets(t, dir, "file"))
	fromReplay := summarize(exportAssets(t, dir, "replay"))
	if !slices.Equal(fromFile, fromReplay) {
		t.Errorf("replay and file differ:\nfile:   %v\nreplay: %v", fromFile, fromReplay)
	}
	as := exportAssets(t, dir, "file")
	for _, d := range plant.Devices() {
		var hit *model.Asset
		for i := range as {
			a := &as[i]
			if d.Routed {
				if slices.Contains(a.IPs, d.IP) && len(a.MACs) == 0 {
					hit = a
				}
			} else if slices.Contains(a.MACs, d.MAC) {
				hit = a
			}
		}
		if hit == nil {
			t.Errorf("plant device %s (%s %s) is not an asset", d.Name, d.MAC, d.IP)
			continue
		}
		if d.IP.IsValid() && !slices.Contains(hit.IPs, d.IP) {
			t.Errorf("plant device %s: asset IPs %v lack %s", d.Name, hit.IPs, d.IP)
		}
		if !d.Routed && hit.Vendor == "" {
			t.Errorf("plant device %s (%s): no vendor", d.Name, d.MAC)
		}
	}
}

// summarize reduces assets to what must not depend on the capture's name.
func summarize(as []model.Asset) []string {
	var out []string
	for _, a := range as {
		var facts []string
		for _, f := range a.Facts {
			facts = append(facts, f.Field+"="+f.Value)
		}
		sort.Strings(facts)
		var svcs []string
		for _, s := range a.Services {
			svcs = append(svcs, s.Key()+"/"+s.Protocol)
		}
		out = append(out, fmt.Sprintf("%s ips=%v vlans=%v vendor=%q names=%v roles=%v svcs=%v facts=%v pk=%d",
			a.ID, a.IPs, a.VLANs, a.Vendor, a.Names, a.Roles, svcs, facts, a.Packets))
	}
	return out
}

func TestBadInputIsOneClearLine(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.pcap")
	os.WriteFile(empty, nil, 0o644)
	garbage := filepath.Join(dir, "garbage.pcap")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a capture "), 10), 0o644)
	cases := map[string]struct {
		args []string
		code int
		want string
	}{
		"unknown command": {[]string{"frobnicate"}, 2, "unknown command"},
		"unknown flag":    {[]string{"read", "x.pcap", "--bogus"}, 2, "bogus"},
		"no session":      {[]string{"read", empty}, 2, "--session"},
		"no files":        {[]string{"read", "--session", "s"}, 2, "no capture files"},
		"empty file":      {append([]string{"read", empty, "--session", "s"}, dbArgs(dir)...), 1, "empty"},
		"directory":       {append([]string{"read", dir, "--session", "s"}, dbArgs(dir)...), 1, "directory"},
		"garbage":         {append([]string{"read", garbage, "--session", "s"}, dbArgs(dir)...), 1, "pcap"},
		"missing file":    {append([]string{"read", filepath.Join(dir, "nope.pcap"), "--session", "s"}, dbArgs(dir)...), 1, "nope.pcap"},
		"bad session":     {append([]string{"read", empty, "--session", "a/b"}, dbArgs(dir)...), 2, "session"},
		"bad format":      {append([]string{"assets", "--session", "s", "--format", "xml"}, dbArgs(dir)...), 2, "format"},
		"no such session": {append([]string{"assets", "--session", "nosuch"}, dbArgs(dir)...), 1, "nosuch"},
		"no interface":    {append([]string{"capture", "-i", "nosuchif0", "--session", "s"}, dbArgs(dir)...), 1, "nosuchif0"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, _, errs := otscope(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d (%s)", code, c.code, errs)
			}
			first := strings.SplitN(strings.TrimSpace(errs), "\n", 2)[0]
			if !strings.Contains(strings.ToLower(errs), strings.ToLower(c.want)) || len(first) > 300 {
				t.Errorf("error %q should mention %q on one line", errs, c.want)
			}
		})
	}
}

func TestTruncatedCaptureKeepsWhatWasRead(t *testing.T) {
	dir := t.TempDir()
	pcap := filepath.Join(dir, "plant.pcap")
	if code, _, errs := otscope(t, "demo", "--write", pcap, "--duration", "30s"); code != 0 {
		t.Fatal(errs)
	}
	raw, _ := os.ReadFile(pcap)
	cut := filepath.Join(dir, "cut.pcap")
	os.WriteFile(cut, raw[:len(raw)*2/3+7], 0o644)
	code, out, errs := otscope(t, append([]string{"read", cut, "--session", "cut", "-q"}, dbArgs(dir)...)...)
	if code != 1 || !strings.Contains(errs, "truncated") || !strings.Contains(errs, "byte") {
		t.Fatalf("exit %d, stderr %q: want 1 and the truncation offset", code, errs)
	}
	if !strings.Contains(out, "assets") {
		t.Errorf("no summary on stdout: %q", out)
	}
	if as := exportAssets(t, dir, "cut"); len(as) < 10 {
		t.Errorf("only %d assets kept from the readable part", len(as))
	}
}

func TestLockedDatabase(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(store.Options{Dir: filepath.Join(dir, "db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// This process writes session "held"; other commands go on.
	if _, err := st.EnsureSession("held", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.Save("held", store.Flush{Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	code, out, errs := otscope(t, append([]string{"sessions"}, dbArgs(dir)...)...)
	if code != 0 || !strings.Contains(out, "held") {
		t.Errorf("sessions while another otscope writes one: exit %d, %q %q", code, out, errs)
	}
	if code, _, errs := otscope(t, append([]string{"demo", "--headless", "-s", "other", "--duration", "30s"}, dbArgs(dir)...)...); code != 0 {
		t.Errorf("writing another session while one is held: exit %d: %s", code, errs)
	}
	code, _, errs = otscope(t, append([]string{"assets", "-s", "held"}, dbArgs(dir)...)...)
	if code != 1 || !strings.Contains(errs, "being written by pid") {
		t.Errorf("assets on the held session: exit %d, %q: want a clear error naming the writer", code, errs)
	}
}

// TestKillDuringIngest kills a real otscope process with SIGKILL while it
// reads a capture at replay speed, then reopens the database: what was
// flushed (at least once a second) is intact and readable.
func TestKillDuringIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "otscope")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	pcap := filepath.Join(dir, "plant.pcap")
	if code, _, errs := otscope(t, "demo", "--write", pcap, "--duration", "5m"); code != 0 {
		t.Fatal(errs)
	}
	cmd := exec.Command(bin, append([]string{"read", pcap, "--session", "crash", "--speed", "20", "-q"}, dbArgs(dir)...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once something was flushed: the session's metadata (written
	// with each flush) counts assets while the reader runs.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, out, _ := otscope(t, append([]string{"sessions"}, dbArgs(dir)...)...)
		if n := sessionAssets(out, "crash"); n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("nothing flushed after 2 minutes:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	code, out, errs := otscope(t, append([]string{"sessions"}, dbArgs(dir)...)...)
	if code != 0 {
		t.Fatalf("reopen after kill -9: exit %d: %s", code, errs)
	}
	n := sessionAssets(out, "crash")
	if n < 5 {
		t.Fatalf("after kill -9 the session holds %d assets (want the ones flushed before the kill):\n%s", n, out)
	}
	if as := exportAssets(t, dir, "crash"); len(as) != n {
		t.Errorf("export lists %d assets, sessions says %d", len(as), n)
	}
}

// sessionAssets reads a session's asset count from the sessions table.
func sessionAssets(table, session string) int {
	sc := bufio.NewScanner(strings.NewReader(table))
	var n int
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 1 && f[0] == session {
			fmt.Sscan(f[1], &n)
		}
	}
	return n
}

// TestCaptureLoopback runs `otscope capture -i lo` as a real process (it
// needs CAP_NET_RAW: skipped otherwise) while this test sends UDP datagrams
// to 127.0.0.1, and checks the sender became an asset.
func TestCaptureLoopback(t *testing.T) {
	if os.Geteuid() != 0 || testing.Short() {
		testenv.Skip(t, "live capture needs root (CAP_NET_RAW)")
	}
	dir := t.TempDir()
	done := make(chan struct{})
	var code int
	var out, errs string
	go func() {
		defer close(done)
		code, out, errs = otscope(t, append([]string{"capture", "-i", "lo", "--session", "lo", "--duration", "2s",
			"--filter", "udp and port 39998", "-q"}, dbArgs(dir)...)...)
	}()
	time.Sleep(time.Second)
	// unconnected: a connected UDP socket swallows the next datagram after
	// the ICMP port-unreachable that nobody listening on the port causes
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 39998}
	for i := 0; i < 5; i++ {
		if _, err := conn.WriteTo([]byte("otscope"), to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	conn.Close()
	<-done
	if code != 0 {
		if strings.Contains(errs, "CAP_NET_RAW") {
			testenv.Skip(t, errs)
		}
		t.Fatalf("capture: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "5 packets") {
		t.Errorf("summary %q: want exactly the 5 filtered datagrams", out)
	}
	as := exportAssets(t, dir, "lo")
	if len(as) != 1 || !slices.Contains(as[0].IPs, netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("assets = %+v, want the loopback sender", as)
	}
}

// BenchmarkPipeline measures decode + inventory + session (no disk) on the
// demo plant with scaled-up polling, per packet, on one core with -cpu 1.
func BenchmarkPipeline(b *testing.B) {
	var buf bytes.Buffer
	if _, err := plant.WritePcap(&buf, plant.Options{Seed: 1, MaxPackets: 200000, Scale: 40}); err != nil {
		b.Fatal(err)
	}
	raw := buf.Bytes()
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	var packets uint64
	for i := 0; i < b.N; i++ {
		src, err := capture.OpenReader("bench", bytes.NewReader(raw), capture.Options{})
		if err != nil {
			b.Fatal(err)
		}
		sess := assets.NewSession("bench", nil, store.Snapshot{}, assets.SessionOptions{})
		done := make(chan error, 1)
		go func() { done <- sess.Run(context.Background()) }()
		st, err := scan.Ingest(context.Background(), src, sess.Ingest(), scan.IngestOptions{})
		if err != nil {
			b.Fatal(err)
		}
		sess.Close()
		<-done
		packets += st.Packets
	}
	b.ReportMetric(float64(packets)/b.Elapsed().Seconds(), "pkt/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(packets), "ns/pkt")
}
