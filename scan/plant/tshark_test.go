package plant

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"otscope/scan/testenv"
)

// TestTsharkDissectsCleanly writes two minutes of plant and has Wireshark's
// dissectors check every frame: no malformed packets, no expert errors, and
// every protocol of the plant recognised.
func TestTsharkDissectsCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("tshark check skipped in -short mode")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		testenv.Skip(t, "tshark not installed")
	}
	path := filepath.Join(t.TempDir(), "plant.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := WritePcap(f, Options{Seed: 11, Duration: 120 * time.Second})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d frames", n)

	out, err := exec.Command(tshark, "-n", "-r", path, "-Y", "_ws.malformed || _ws.expert.severity >= error",
		"-T", "fields", "-e", "frame.number", "-e", "_ws.col.Protocol", "-e", "_ws.col.Info").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	if s := strings.TrimSpace(string(out)); s != "" {
		lines := strings.Split(s, "\n")
		t.Errorf("%d frames malformed or with expert errors, first: %s", len(lines), strings.Join(lines[:min(10, len(lines))], "\n"))
	}

	out, err = exec.Command(tshark, "-n", "-r", path, "-q", "-z", "io,phs").Output()
	if err != nil {
		t.Fatalf("tshark io,phs: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		if fields := strings.Fields(line); len(fields) > 1 && strings.HasPrefix(fields[1], "frames:") {
			seen[fields[0]] = true
		}
	}
	for _, p := range []string{"arp", "vlan", "ieee8021ad", "lldp", "cdp", "ipv6", "icmpv6", "icmp", "dhcp", "dns",
		"mdns", "nbns", "browser", "ntp", "snmp", "http", "smb2", "rdp", "tls", "mbtcp", "modbus", "cotp", "s7comm",
		"enip", "cip", "cipio", "opcua", "pn_dcp", "pn_rt", "pn_io", "dcerpc", "bvlc", "bacnet", "bacapp", "dnp3",
		"iec60870_104", "iec60870_asdu", "goose", "ses", "pres", "acse", "mms", "telnet", "smb"} {
		if !seen[p] {
			t.Errorf("tshark did not recognise %s", p)
		}
	}
}
