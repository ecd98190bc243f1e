package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"otscope/model"
	"otscope/scan/testenv"
)

// TestScanBadInput: wrong flags and unsafe scopes are refused with one clear
// line and exit 2, before anything is sent.
func TestScanBadInput(t *testing.T) {
	dir := t.TempDir()
	db := dbArgs(dir)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"scan", "10.0.0.1"}, "--session is required"},
		{[]string{"scan", "--session", "s"}, "no targets"},
		{[]string{"scan", "8.8.8.8", "--session", "s", "--dry-run"}, "--allow-public"},
		{[]string{"scan", "10.0.0.0/8", "--session", "s", "--dry-run"}, "--allow-large-scope"},
		{[]string{"scan", "224.0.0.1", "--session", "s", "--dry-run"}, "multicast"},
		{[]string{"scan", "10.0.0.1", "--session", "s", "--probes", "modbus,nmap"}, "unknown probe"},
		{[]string{"scan", "10.0.0.1", "--session", "s", "--port", "modbus"}, "probe=port"},
		{[]string{"scan", "10.0.0.1", "--session", "s", "--rate", "5", "--per-host", "10"}, "above --rate"},
		{[]string{"scan", "10.0.0.1", "--session", "s", "--rate", "0"}, "must be >= 1"},
		{[]string{"scan", "10.0.0.1", "--session", "s", "--modbus-units", "300"}, "0-255"},
		{[]string{"scan", "assets", "10.0.0.1", "--session", "s"}, "alone"},
		{[]string{"scan", "not-an-address", "--session", "s", "--dry-run"}, "not-an-address"},
		{[]string{"scanlog", "--session", "s", "--format", "xml"}, "format"},
	} {
		code, _, errs := otscope(t, append(c.args, db...)...)
		if code != 2 || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", c.args, code, errs, c.want)
		}
	}
	// not on a terminal and no --yes: refuses instead of sending
	code, _, errs := otscope(t, append([]string{"scan", "127.0.0.2", "--session", "s", "--probes", "http"}, db...)...)
	if code != 2 || !strings.Contains(errs, "--yes") {
		t.Errorf("scan without --yes on a pipe: exit %d %q", code, errs)
	}
	code, out, _ := otscope(t, append([]string{"scanlog", "--session", "s", "--format", "json"}, db...)...)
	if code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("a refused scan logged packets: exit %d %q", code, out)
	}
}

// TestScanLoopbackHTTP scans an HTTP server on 127.0.0.2 through the real
// command: the plan is printed, the dry run sends nothing, the scan finds
// the Server header and the page title as active facts, and the packet log
// names every request.
func TestScanLoopbackHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		testenv.Skipf(t, "127.0.0.2 not usable here: %v", err)
	}
	var hits []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits = append(hits, r.Method+" "+r.URL.Path)
		w.Header().Set("Server", "PLC-Web/2.1")
		fmt.Fprint(w, "<html><head><title>CPU 1516 web server</title></head></html>")
	})}
	go srv.Serve(ln)
	defer srv.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	dir := t.TempDir()
	args := append([]string{"scan", "127.0.0.2", "--session", "lab", "--probes", "http", "--port", fmt.Sprintf("http=%d", port)}, dbArgs(dir)...)

	code, out, errs := otscope(t, append(args, "--dry-run")...)
	if code != 0 || !strings.Contains(out, "127.0.0.2") || !strings.Contains(out, "dry run: nothing was sent") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	if len(hits) != 0 {
		t.Fatalf("the dry run reached the server: %v", hits)
	}
	code, out, errs = otscope(t, append(args, "--yes")...)
	if code != 0 {
		t.Fatalf("scan: exit %d\n%s%s", code, out, errs)
	}
	if len(hits) == 0 || hits[0] != "HEAD /" {
		t.Fatalf("server saw %v, want HEAD / first", hits)
	}
	var found []string
	as := exportAssets(t, dir, "lab")
	if len(as) != 1 || len(as[0].Services) != 1 || int(as[0].Services[0].Port) != port || as[0].Services[0].Protocol != "http" {
		t.Fatalf("want one asset serving http on tcp/%d (where it was found, not the standard port): %+v", port, as)
	}
	for _, a := range as {
		for _, f := range a.Facts {
			if f.Source.Kind == model.Active && strings.HasPrefix(f.Source.Origin, "scan:") {
				found = append(found, f.Field+"="+f.Value)
			}
		}
	}
	joined := strings.Join(found, "; ")
	if !strings.Contains(joined, "PLC-Web/2.1") || !strings.Contains(joined, "CPU 1516 web server") {
		t.Fatalf("active facts %q lack the Server header or the title", joined)
	}
	code, out, errs = otscope(t, append([]string{"scanlog", "--session", "lab", "--format", "json"}, dbArgs(dir)...)...)
	if code != 0 {
		t.Fatalf("scanlog: exit %d %s", code, errs)
	}
	var recs []model.ScanRecord
	if err := json.Unmarshal([]byte(out), &recs); err != nil {
		t.Fatal(err)
	}
	reqs := 0
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Target.String() != "127.0.0.2" || int(r.Port) != port || r.Packets < 1 {
			t.Errorf("record %d: %+v", i, r)
		}
		if strings.HasPrefix(r.Kind, "http.") {
			reqs++
		}
	}
	if reqs != len(hits) {
		t.Errorf("log holds %d HTTP requests, the server saw %d", reqs, len(hits))
	}
}
