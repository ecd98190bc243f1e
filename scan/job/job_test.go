package job

import (
	"otscope/scan/probe"

	"bytes"
	"encoding/csv"
	"encoding/json"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"otscope/model"
)

func TestBuildRefusesBadSettings(t *testing.T) {
	for _, c := range []struct {
		mod  func(*Settings)
		want string
	}{
		{func(s *Settings) { s.Targets = nil }, "no targets"},
		{func(s *Settings) { s.Rate = 0 }, "must be >= 1"},
		{func(s *Settings) { s.Rate, s.PerHost = 5, 10 }, "above --rate"},
		{func(s *Settings) { s.Probes = []string{"modbus", "nmap"} }, "unknown probe"},
		{func(s *Settings) { s.Ports = map[string]uint16{"nmap": 1} }, "--port"},
		{func(s *Settings) { s.Targets = []string{"assets", "10.0.0.1"} }, "alone"},
		{func(s *Settings) { s.Targets = []string{"8.8.8.8"} }, "--allow-public"},
	} {
		s := Defaults()
		s.Targets = []string{"10.0.0.1"}
		c.mod(&s)
		if _, err := Build(s, nil); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", s, err, c.want)
		}
	}
}

// TestPlanFormats: the table, JSON and CSV of one plan say the same thing.
func TestPlanFormats(t *testing.T) {
	s := Defaults()
	s.Targets, s.Probes = []string{"127.0.0.2"}, []string{"http", "modbus"}
	as := []model.Asset{{ID: "ip:127.0.0.2", IPs: []netip.Addr{netip.MustParseAddr("127.0.0.2")}, Names: []string{"PLC-A"}}}
	p, err := Build(s, as)
	if err != nil {
		t.Fatal(err)
	}
	if p.Targets != 1 || len(p.Rows) != 2 || p.Rows[0].Probe != "http" || p.Rows[0].Asset != "PLC-A" || p.Rows[0].Port != 80 {
		t.Fatalf("plan %+v", p)
	}
	sum := 0
	for _, r := range p.Rows {
		sum += r.Packets
	}
	if sum != p.Packets {
		t.Errorf("rows add up to %d packets, the plan says %d", sum, p.Packets)
	}
	var tb, js, cs bytes.Buffer
	for f, b := range map[string]*bytes.Buffer{"table": &tb, "json": &js, "csv": &cs} {
		if err := p.Write(b, f); err != nil {
			t.Fatal(f, err)
		}
	}
	if !strings.Contains(tb.String(), "127.0.0.2") || !strings.Contains(tb.String(), "at most") {
		t.Errorf("table:\n%s", tb.String())
	}
	var out struct {
		Rows    []probe.PlanRow `json:"probes"`
		Packets int             `json:"max_packets"`
	}
	if err := json.Unmarshal(js.Bytes(), &out); err != nil || len(out.Rows) != 2 || out.Packets != p.Packets || out.Rows[1].Probe != "modbus" {
		t.Errorf("json %v:\n%s", err, js.String())
	}
	recs, err := csv.NewReader(&cs).ReadAll()
	if err != nil || len(recs) != 3 || recs[2][2] != "modbus" || recs[2][4] != "502" {
		t.Errorf("csv %v: %q", err, recs)
	}
	if err := p.Write(&tb, "xml"); err == nil {
		t.Error("xml: no error")
	}
}

// TestControllerRunsAndLogs drives a scan of a local HTTP port through the
// Controller as the Scan pane does: the plan, the start, the packet log
// reaching the sink, the answers observed, the final status.
func TestControllerRunsAndLogs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Skipf("127.0.0.2 not usable here: %v", err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("HTTP/1.0 200 OK\r\nServer: test\r\n\r\n"))
			c.Close()
		}
	}()
	logged := make(chan int, 100)
	observed := make(chan model.Batch, 100)
	sink := Sink{Session: "t",
		AppendLog: func(r []model.ScanRecord) error { logged <- len(r); return nil },
		Observe:   func(b model.Batch) { observed <- b }}
	c := NewController(func() ([]model.Asset, error) { return nil, nil }, sink, "")
	c.defaults.Ports = map[string]uint16{"http": uint16(ln.Addr().(*net.TCPAddr).Port)}
	if err := c.Start(); err == nil {
		t.Fatal("start without a plan")
	}
	p, err := c.Plan(Request{Targets: "127.0.0.2", Probes: "http", Rate: 20, PerHost: 4})
	if err != nil || p.Packets == 0 {
		t.Fatalf("plan %+v %v", p, err)
	}
	if st := c.Status(); st.Rate != 20 || st.PerHost != 4 || st.Running {
		t.Errorf("status before start %+v", st)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(30 * time.Second)
	for c.Status().Running {
		select {
		case <-deadline:
			c.Stop()
			t.Fatal("scan did not end")
		case <-time.After(20 * time.Millisecond):
		}
	}
	st := c.Status()
	if st.TargetsDone != 1 || st.Requests == 0 || len(st.Recent) == 0 || st.Err != "" {
		t.Errorf("final status %+v", st)
	}
	n := 0
	for len(logged) > 0 {
		n += <-logged
	}
	if n != len(st.Recent) {
		t.Errorf("%d records logged, %d lines shown", n, len(st.Recent))
	}
	if len(observed) == 0 {
		t.Error("no observation from the answer")
	}
}
