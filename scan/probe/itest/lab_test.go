//go:build itest

package itest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"otscope/scan/testenv"
)

// The plant, as testdata/lab/lab.sh builds it.
const (
	labNet     = "10.99.0.0/24"
	scannerNS  = "otl-scan"
	monitorNS  = "otl-mon"
	scannerIP  = "10.99.0.10"
	scannerMAC = "02:00:00:00:00:10"
)

// labHost is one namespace of the plant.
type labHost struct{ ns, ip, mac string }

var hosts = map[string]labHost{
	"plc1": {"otl-plc1", "10.99.0.11", "00:80:f4:00:00:11"},
	"plc2": {"otl-plc2", "10.99.0.12", "00:1b:1b:00:00:12"},
	"hmi":  {"otl-hmi", "10.99.0.13", "00:0c:29:00:00:13"},
	"hvac": {"otl-hvac", "10.99.0.14", "00:d0:6f:00:00:14"},
	"rtu":  {"otl-rtu", "10.99.0.15", "00:09:8e:00:00:15"},
	"enip": {"otl-enip", "10.99.0.16", "00:00:bc:00:00:16"},
	"dnp":  {"otl-dnp", "10.99.0.17", "00:60:35:00:00:17"},
	"web":  {"otl-web", "10.99.0.18", "00:30:de:00:00:18"},
}

// env is what the whole test shares: paths and built binaries.
type env struct {
	root    string // module root
	lab     string // testdata/lab
	out     string // logs, captures, session db
	otscope string
	otsim   string // "" when the simulators are not in the tree
}

// preflight skips the test when the machine cannot run the plant.
func preflight(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Skip(t, "needs root: network namespaces, raw capture (run `sudo make itest`)")
	}
	if err := exec.Command("ip", "netns", "list").Run(); err != nil {
		testenv.Skipf(t, "`ip netns` unavailable (%v): install iproute2", err)
	}
	for _, c := range []string{"tcpdump", "tshark"} {
		if _, err := exec.LookPath(c); err != nil {
			testenv.Skipf(t, "needs %s for the wire assertions: apt-get install tcpdump tshark", c)
		}
	}
}

// newEnv builds otscope (and our simulators when present) into the output dir.
func newEnv(t *testing.T) *env {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s", root)
	}
	out := t.TempDir()
	if d := os.Getenv("ITEST_OUT"); d != "" {
		// kept after the test, for CI logs and captures
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		if out, err = os.MkdirTemp(d, "run-"+time.Now().Format("150405")+"-"); err != nil {
			t.Fatal(err)
		}
	}
	e := &env{root: root, lab: filepath.Join(root, "testdata", "lab"), out: out}
	e.otscope = filepath.Join(out, "otscope")
	goBuild(t, root, e.otscope, ".")
	if _, err := os.Stat(filepath.Join(root, "scan/probe/sim/cmd/otsim")); err == nil {
		e.otsim = filepath.Join(out, "otsim")
		goBuild(t, root, e.otsim, "./scan/probe/sim/cmd/otsim")
	}
	t.Logf("artifacts in %s", out)
	return e
}

func goBuild(t *testing.T, dir, bin, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// labUp builds the plant; cleanup tears it down (namespaces and the
// blackhole route) whatever happens.
func labUp(t *testing.T, e *env) {
	t.Helper()
	script := filepath.Join(e.lab, "lab.sh")
	if b, err := exec.Command("bash", script, "up").CombinedOutput(); err != nil {
		// a half-built plant of ours is removed; a plant that was already
		// up is someone else's and is left alone (lab.sh refuses first)
		if !bytes.Contains(b, []byte("already up")) {
			exec.Command("bash", script, "down").Run()
		}
		t.Fatalf("lab.sh up: %v\n%s", err, b)
	}
	t.Cleanup(func() {
		if b, err := exec.Command("bash", script, "down").CombinedOutput(); err != nil {
			t.Errorf("lab.sh down: %v\n%s", err, b)
		}
	})
	b, err := exec.Command("ip", "route", "show", labNet).Output()
	if err != nil || !strings.Contains(string(b), "blackhole") {
		t.Fatalf("no blackhole route for %s in the root namespace (%q): refusing to go on", labNet, b)
	}
}

// inNetns runs fn on an OS thread moved into namespace ns. The thread is
// never unlocked, so it dies with the goroutine instead of going back to
// the scheduler with the wrong namespace.
func inNetns(ns string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open("/run/netns/" + ns)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("setns %s: %w", ns, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// proc is a server process started in a namespace.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// start runs argv in namespace ns (ip netns exec execs it in place, so the
// PID is the server's own) in its own process group.
func start(t *testing.T, e *env, name, ns, dir string, extraEnv []string, argv ...string) *proc {
	t.Helper()
	logPath := filepath.Join(e.out, name+".log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), extraEnv...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { cmd.Wait(); lf.Close(); close(p.done) }()
	t.Cleanup(p.stop)
	return p
}

// stop ends the process group by its id: SIGTERM, then SIGKILL.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// tail is the end of the process's log, for failure messages.
func (p *proc) tail() string {
	b, _ := os.ReadFile(p.log)
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return string(b)
}

// server is one peer of the plant.
type server struct {
	name  string
	host  string
	what  string // the software, and whether it is ours
	port  string // "udp/161"
	ready func(ip string) error
	// missing says what is not installed ("" when ready to run).
	missing func(e *env) string
	// cmd returns the working directory, environment and argv.
	cmd func(e *env, h labHost) (dir string, env []string, argv []string)
}

func lookPath(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(d, name); fileExists(p) {
			return p
		}
	}
	return ""
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// pyModule reports whether Debian's python (other pythons on PATH do not
// see Debian's packages) can import mod.
func pyModule(mod string) string {
	if exec.Command("/usr/bin/python3", "-c", "import "+mod).Run() != nil {
		return "/usr/bin/python3 module " + mod
	}
	return ""
}

func nodeModule(e *env, mod, file string) string {
	if lookPath("node") == "" {
		return "node"
	}
	if !fileExists(filepath.Join(e.lab, "node_modules", mod, file)) {
		return "npm " + mod + " (cd testdata/lab && npm ci)"
	}
	return ""
}

var servers = []server{
	{
		name: "snmpd", host: "plc1", what: "Debian net-snmp snmpd", port: "udp/161",
		missing: func(*env) string {
			if lookPath("snmpd") == "" {
				return "snmpd (apt-get install snmpd)"
			}
			return ""
		},
		cmd: func(e *env, h labHost) (string, []string, []string) {
			d := filepath.Join(e.out, "snmpd")
			os.MkdirAll(d, 0o755)
			return d, []string{"MIBS=", "SNMP_PERSISTENT_DIR=" + d},
				[]string{lookPath("snmpd"), "-f", "-Lo", "-C", "-c", filepath.Join(e.lab, "snmpd.conf"), "-p", filepath.Join(d, "pid")}
		},
		ready: func(ip string) error { return udpAsk(ip+":161", snmpGetSysDescr("public"), 0x30) },
	},
	{
		name: "pymodbus", host: "plc1", what: "Debian python3-pymodbus", port: "tcp/502",
		missing: func(*env) string { return pyModule("pymodbus.server") },
		cmd: func(e *env, h labHost) (string, []string, []string) {
			return e.lab, nil, []string{"/usr/bin/python3", "pymodbus_server.py", h.ip, "502"}
		},
		ready: modbusReady,
	},
	{
		name: "libmodbus", host: "rtu", what: "Debian libmodbus (FC43 unsupported)", port: "tcp/502",
		missing: func(*env) string {
			if exec.Command("pkg-config", "--exists", "libmodbus").Run() != nil || lookPath("gcc") == "" {
				return "libmodbus-dev and gcc"
			}
			return ""
		},
		cmd: func(e *env, h labHost) (string, []string, []string) {
			bin := filepath.Join(e.out, "lmb_server")
			flags, _ := exec.Command("pkg-config", "--cflags", "--libs", "libmodbus").Output()
			gcc := append([]string{lookPath("gcc"), "-O2", "-o", bin, filepath.Join(e.lab, "lmb_server.c")}, strings.Fields(string(flags))...)
			if exec.Command(gcc[0], gcc[1:]...).Run() != nil {
				// installed but does not build: run the compiler as the "server",
				// so the peer fails to answer with the compiler's errors in its log
				return e.out, nil, gcc
			}
			return e.out, nil, []string{bin, h.ip, "502"}
		},
		ready: modbusReady,
	},
	{
		name: "snap7", host: "plc2", what: "Snap7 1.3.0 server via npm node-snap7", port: "tcp/102",
		missing: func(e *env) string { return nodeModule(e, "node-snap7", "build/Release/node_snap7.node") },
		cmd: func(e *env, h labHost) (string, []string, []string) {
			return e.lab, nil, []string{lookPath("node"), "node/s7server.js", h.ip, "102"}
		},
		ready: func(ip string) error {
			// COTP connection request to TSAP 0x0102 (rack 0 slot 2): a connection confirm (0xd0) is a live server
			cr := []byte{3, 0, 0, 22, 17, 0xe0, 0, 0, 0, 1, 0, 0xc1, 2, 1, 0, 0xc2, 2, 1, 2, 0xc0, 1, 10}
			return tcpAsk(ip+":102", cr, func(b []byte) bool { return len(b) >= 6 && b[0] == 3 && b[5] == 0xd0 })
		},
	},
	{
		name: "dcp", host: "plc2", what: "our DCP responder on Debian scapy (no real PROFINET stack installable)", port: "l2/0x8892",
		missing: func(*env) string { return pyModule("scapy.contrib.pnio_dcp") },
		cmd: func(e *env, h labHost) (string, []string, []string) {
			return e.lab, nil, []string{"/usr/bin/python3", "dcp_responder.py", "eth0", dcpStation, h.ip, "0x002a", "0x010d", "S7-300"}
		},
		// ready: see dcpReady (it needs the process)
	},
	{
		name: "opcua", host: "hmi", what: "npm node-opcua", port: "tcp/4840",
		missing: func(e *env) string { return nodeModule(e, "node-opcua", "package.json") },
		cmd: func(e *env, h labHost) (string, []string, []string) {
			return e.lab, nil, []string{lookPath("node"), "node/opcua_server.js", "4840", h.ip}
		},
		ready: func(ip string) error {
			url := "opc.tcp://" + ip + ":4840"
			hel := binary.LittleEndian.AppendUint32([]byte("HELF"), uint32(32+len(url)))
			for _, v := range []uint32{0, 65535, 65535, 0, 0, uint32(len(url))} {
				hel = binary.LittleEndian.AppendUint32(hel, v)
			}
			hel = append(hel, url...)
			return tcpAsk(ip+":4840", hel, func(b []byte) bool { return bytes.HasPrefix(b, []byte("ACKF")) })
		},
	},
	{
		name: "bacnet", host: "hvac", what: "npm @bacnet-js/client as a device", port: "udp/47808",
		missing: func(e *env) string { return nodeModule(e, "@bacnet-js/client", "package.json") },
		cmd: func(e *env, h labHost) (string, []string, []string) {
			return e.lab, nil, []string{lookPath("node"), "node/bacnet_device.js", "0.0.0.0", "47808", "10.99.0.255", "1234"}
		},
		// unicast Who-Is; the device answers I-Am (BVLC 0x81, APDU unconfirmed 0x10 service 0x00)
		ready: func(ip string) error {
			return udpAsk(ip+":47808", []byte{0x81, 0x0a, 0x00, 0x08, 0x01, 0x00, 0x10, 0x08}, 0x81)
		},
	},
	{
		name: "http", host: "web", what: "python3 http.server", port: "tcp/80",
		missing: func(*env) string {
			if !fileExists("/usr/bin/python3") {
				return "/usr/bin/python3"
			}
			return ""
		},
		cmd: func(e *env, h labHost) (string, []string, []string) {
			d := filepath.Join(e.out, "www")
			os.MkdirAll(d, 0o755)
			os.WriteFile(filepath.Join(d, "index.html"), []byte("<html><head><title>"+httpTitle+"</title></head><body>HMI</body></html>\n"), 0o644)
			return d, nil, []string{"/usr/bin/python3", "-m", "http.server", "80", "--bind", h.ip}
		},
		ready: func(ip string) error {
			return tcpAsk(ip+":80", []byte("HEAD / HTTP/1.0\r\n\r\n"), func(b []byte) bool { return bytes.HasPrefix(b, []byte("HTTP/1.0 200")) })
		},
	},
	{
		name: "otsim-enip", host: "enip", what: "OUR simulator (no real EtherNet/IP server installable)", port: "tcp+udp/44818",
		missing: func(e *env) string {
			if e.otsim == "" {
				return "scan/probe/sim/cmd/otsim (not in the tree yet)"
			}
			return ""
		},
		cmd: func(e *env, h labHost) (string, []string, []string) {
			return e.out, nil, []string{e.otsim, "-enip", h.ip + ":44818", "-enip-name", "1756-L61/B LOGIX5561"}
		},
		ready: func(ip string) error {
			li := make([]byte, 24) // ListIdentity: command 0x0063, no data
			li[0] = 0x63
			return tcpAsk(ip+":44818", li, func(b []byte) bool { return len(b) >= 24 && b[0] == 0x63 })
		},
	},
	{
		name: "otsim-dnp3-iec104", host: "dnp", what: "OUR simulator (no real DNP3 / IEC 104 server installable)", port: "tcp/20000,2404",
		missing: func(e *env) string {
			if e.otsim == "" {
				return "scan/probe/sim/cmd/otsim (not in the tree yet)"
			}
			return ""
		},
		cmd: func(e *env, h labHost) (string, []string, []string) {
			return e.out, nil, []string{e.otsim, "-dnp3", h.ip + ":20000", "-dnp3-address", "1", "-iec104", h.ip + ":2404"}
		},
		ready: func(ip string) error {
			if err := tcpAsk(ip+":2404", []byte{0x68, 4, 0x43, 0, 0, 0}, func(b []byte) bool { return len(b) >= 6 && b[2] == 0x83 }); err != nil {
				return err
			}
			c, err := net.DialTimeout("tcp", ip+":20000", time.Second)
			if err != nil {
				return err
			}
			return c.Close()
		},
	},
}

const (
	dcpStation = "plc2-press-line-a"
	httpTitle  = "Line 1 operator panel"
)

// startServers starts every installed peer and waits until each answers,
// from inside its own namespace (so the polls never reach the wire). A peer
// that is not installed is skipped and logged; one that is installed but
// does not answer fails the test.
func startServers(t *testing.T, e *env) (up []string) {
	t.Helper()
	type started struct {
		s server
		p *proc
	}
	var all []started
	for _, s := range servers {
		if m := s.missing(e); m != "" {
			t.Logf("SKIP peer %s (%s): %s is not installed", s.name, s.what, m)
			continue
		}
		h := hosts[s.host]
		dir, env, argv := s.cmd(e, h)
		all = append(all, started{s, start(t, e, s.name, h.ns, dir, env, argv...)})
	}
	for _, st := range all {
		h := hosts[st.s.host]
		ready := st.s.ready
		if ready == nil {
			ready = func(string) error { return dcpReady(st.p) }
		}
		deadline := time.Now().Add(60 * time.Second) // node-opcua makes its PKI on a first start
		var err error
		for {
			if err = inNetns(h.ns, func() error { return ready(h.ip) }); err == nil {
				break
			}
			if st.p.exited() || time.Now().After(deadline) {
				t.Fatalf("peer %s (%s) on %s %s does not answer: %v\n--- its log:\n%s", st.s.name, st.s.what, h.ip, st.s.port, err, st.p.tail())
			}
			time.Sleep(300 * time.Millisecond)
		}
		up = append(up, st.s.name)
		t.Logf("peer %-18s up on %s %-14s (%s)", st.s.name, h.ip, st.s.port, st.s.what)
	}
	return up
}

// dcpReady waits for the responder's banner and its packet socket (scapy
// opens it for sniff right after the banner).
func dcpReady(p *proc) error {
	if p.exited() {
		return errors.New("exited")
	}
	b, _ := os.ReadFile(p.log)
	if !bytes.Contains(b, []byte("DCP responder on")) {
		return errors.New("no banner yet")
	}
	pk, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/packet", p.cmd.Process.Pid))
	if err != nil {
		return err
	}
	if bytes.Count(pk, []byte("\n")) < 2 { // header line only: no packet socket yet
		return errors.New("no packet socket yet")
	}
	// the socket exists a moment before its filter is attached
	time.Sleep(300 * time.Millisecond)
	return nil
}

func tcpAsk(addr string, req []byte, ok func([]byte) bool) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write(req); err != nil {
		return err
	}
	b := make([]byte, 512)
	n, err := io.ReadAtLeast(c, b, 1)
	if err != nil {
		return err
	}
	if !ok(b[:n]) {
		return fmt.Errorf("unexpected answer % x", b[:min(n, 32)])
	}
	return nil
}

func udpAsk(addr string, req []byte, first byte) error {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(req); err != nil {
		return err
	}
	b := make([]byte, 1500)
	n, err := c.Read(b)
	if err != nil {
		return err
	}
	if n == 0 || b[0] != first {
		return fmt.Errorf("unexpected answer % x", b[:min(n, 32)])
	}
	return nil
}

// modbusReady reads one holding register (FC 3): both Modbus servers have them.
func modbusReady(ip string) error {
	req := []byte{0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1}
	return tcpAsk(ip+":502", req, func(b []byte) bool { return len(b) >= 8 && b[7] == 3 })
}

// snmpGetSysDescr is an SNMPv2c GetRequest for sysDescr.0.
func snmpGetSysDescr(community string) []byte {
	vb := []byte{0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 6, 1, 2, 1, 1, 1, 0, 0x05, 0x00}
	pdu := append([]byte{0x02, 0x04, 0, 0, 0x12, 0x34, 0x02, 0x01, 0, 0x02, 0x01, 0}, vb...)
	pdu = append([]byte{0xa0, byte(len(pdu))}, pdu...)
	msg := append([]byte{0x02, 0x01, 0x01, 0x04, byte(len(community))}, community...)
	msg = append(msg, pdu...)
	return append([]byte{0x30, byte(len(msg))}, msg...)
}

// runIn runs otscope (or any argv) inside namespace ns and returns its
// combined output and exit code. When ctx ends the process gets SIGINT
// (the scanner's stop), and SIGKILL 10 s later.
func runIn(ctx context.Context, ns string, argv ...string) (string, int, error) {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Stdin = nil
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code, err = ee.ExitCode(), nil
	}
	return out.String(), code, err
}
