package probe

import (
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"

	"otscope/model"
	"otscope/model/safe"
)

func TestHTTPRequestBytes(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{string(httpHeadRequest(httpHost(netip.MustParseAddr("10.99.0.2"), 80)).Payload),
			"HEAD / HTTP/1.1\r\nHost: 10.99.0.2\r\nUser-Agent: otscope\r\nConnection: keep-alive\r\n\r\n"},
		{string(httpGetRequest(httpHost(netip.MustParseAddr("10.99.0.2"), 8080)).Payload),
			"GET / HTTP/1.1\r\nHost: 10.99.0.2:8080\r\nUser-Agent: otscope\r\nConnection: close\r\n\r\n"},
		{string(httpGetRequest(httpHost(netip.MustParseAddr("fd00::2"), 80)).Payload),
			"GET / HTTP/1.1\r\nHost: [fd00::2]\r\nUser-Agent: otscope\r\nConnection: close\r\n\r\n"},
	} {
		if c.got != c.want {
			t.Errorf("request\n got %q\nwant %q", c.got, c.want)
		}
	}
}

func TestHTTPDissector(t *testing.T) {
	req := func(s string) []byte { return []byte(strings.ReplaceAll(s, "|", "\r\n")) }
	itCheckDissector(t, "http", []itDissectCase{
		{"head", httpHeadRequest("10.99.0.2").Payload, KindHTTPHead},
		{"get", httpGetRequest("10.99.0.2:8080").Payload, KindHTTPGet},
		{"header order", req("GET / HTTP/1.1|Connection: close|User-Agent: otscope|Host: plc1||"), KindHTTPGet},
		{"empty", nil, ""},
		{"post", req("POST / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close||"), ""},
		{"put", req("PUT / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close||"), ""},
		{"options", req("OPTIONS / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close||"), ""},
		{"other path", req("GET /cgi-bin/reboot HTTP/1.1|Host: a|User-Agent: otscope|Connection: close||"), ""},
		{"query", req("GET /?cmd=stop HTTP/1.1|Host: a|User-Agent: otscope|Connection: close||"), ""},
		{"HTTP/1.0", req("GET / HTTP/1.0|Host: a|User-Agent: otscope|Connection: close||"), ""},
		{"lower-case method", req("get / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close||"), ""},
		{"body", req("GET / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close||x=1"), ""},
		{"content-length", req("GET / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close|Content-Length: 0||"), ""},
		{"cookie", req("GET / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close|Cookie: s=1||"), ""},
		{"authorization", req("GET / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close|Authorization: Basic YWRtaW46YWRtaW4=||"), ""},
		{"other agent", req("GET / HTTP/1.1|Host: a|User-Agent: curl/8|Connection: close||"), ""},
		{"upgrade", req("GET / HTTP/1.1|Host: a|User-Agent: otscope|Connection: Upgrade||"), ""},
		{"no host", req("GET / HTTP/1.1|User-Agent: otscope|Connection: close||"), ""},
		{"two hosts", req("GET / HTTP/1.1|Host: a|Host: b|User-Agent: otscope|Connection: close||"), ""},
		{"bad host", req("GET / HTTP/1.1|Host: a b|User-Agent: otscope|Connection: close||"), ""},
		{"no blank line", req("GET / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close|"), ""},
		{"pipelined", req("GET / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close||GET / HTTP/1.1|Host: a|User-Agent: otscope|Connection: close||"), ""},
		{"folded header", req("GET / HTTP/1.1|Host: a| x|User-Agent: otscope|Connection: close||"), ""},
	})
}

func TestHTTPFrames(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nServer: Boa/0.94\r\nContent-Length: 900\r\n\r\n"
	page := "<html><head><TITLE>S7-1500 Web</TITLE></head><body>" + strings.Repeat("x", 100) + "</body></html>"
	get := "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + strconv.Itoa(len(page)) + "\r\n\r\n" + page
	titleEnd := strings.Index(get, "</TITLE>") + len("</TITLE>")
	chunked := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	for _, c := range []struct {
		name  string
		frame func([]byte) (int, error)
		b     string
		n     int
		err   bool
	}{
		{"head short", httpFrameHead, head[:20], 0, false},
		{"head exact", httpFrameHead, head, len(head), false},
		{"head long", httpFrameHead, head + "junk", len(head), false},
		{"head garbage", httpFrameHead, "SSH-2.0-OpenSSH\r\n", 0, true},
		{"head garbage, first byte", httpFrameHead, "\x16", 0, true},
		{"head huge headers", httpFrameHead, "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-A: b\r\n", 3000), 0, true},
		{"get short", httpFrameGet, get[:30], 0, false},
		{"get headers only", httpFrameGet, get[:strings.Index(get, "\r\n\r\n")+4], len(get), false},
		{"get to the title", httpFrameGet, get, titleEnd, false},
		{"get no title, length", httpFrameGet, "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!", 50, false},
		{"get huge length", httpFrameGet, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n", httpMaxRead, false},
		{"get bad length", httpFrameGet, "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n", 0, true},
		{"get chunked, ended", httpFrameGet, chunked, len(chunked), false},
		{"get chunked, open", httpFrameGet, chunked[:len(chunked)-7], 0, false},
		{"get no length, more to come", httpFrameGet, "HTTP/1.0 200 OK\r\n\r\n<html>", 0, false},
		{"get no length, 16 KB", httpFrameGet, "HTTP/1.0 200 OK\r\n\r\n" + strings.Repeat("y", httpMaxRead), httpMaxRead, false},
		{"get garbage", httpFrameGet, "RFB 003.008\n", 0, true},
	} {
		n, err := c.frame([]byte(c.b))
		if (err != nil) != c.err || n != c.n {
			t.Errorf("%s: frame %d, %v; want %d, error %v", c.name, n, err, c.n, c.err)
		}
	}
	if s := httpSummary([]byte(head)); s != "HTTP 200, Server: Boa/0.94" {
		t.Errorf("summary %q", s)
	}
	if s := httpSummary([]byte(get[:titleEnd])); s != `HTTP 200, title "S7-1500 Web"` {
		t.Errorf("summary %q", s)
	}
}

func TestHTTPPlan(t *testing.T) {
	addr := netip.MustParseAddr("10.99.0.2")
	p, ok := httpProbe{}.Plan(&Target{Addr: addr}, &PlanOptions{})
	if !ok || !p.IfOpen || p.Port != 80 {
		t.Errorf("unknown target: %+v %v, want planned if tcp/80 is open", p, ok)
	}
	known := Known{TCP: []uint16{80}, Fields: map[string]bool{httpFieldServer: true, httpFieldTitle: true}}
	if _, ok := (httpProbe{}).Plan(&Target{Addr: addr, Known: known, Asset: &model.Asset{}}, &PlanOptions{FillGaps: true}); ok {
		t.Error("fill-gaps planned with server and title known")
	}
	if _, ok := (httpProbe{}).Plan(&Target{Addr: addr, Known: Known{TCP: []uint16{502}}, Asset: &model.Asset{}}, &PlanOptions{}); ok {
		t.Error("planned for a host known to serve other ports only")
	}
}

func FuzzDissectHTTP(f *testing.F) {
	f.Add(httpHeadRequest("a").Payload)
	f.Add(httpGetRequest("10.0.0.1:8080").Payload)
	f.Fuzz(func(t *testing.T, p []byte) {
		k, err := dissectHTTP(p)
		if err != nil {
			return
		}
		if !(k == KindHTTPHead && strings.HasPrefix(string(p), "HEAD / HTTP/1.1\r\n") ||
			k == KindHTTPGet && strings.HasPrefix(string(p), "GET / HTTP/1.1\r\n")) || !strings.HasSuffix(string(p), "\r\n\r\n") {
			t.Fatalf("accepted %q as %s", p, k)
		}
	})
}

func FuzzHTTPFrame(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\n<title>x</title>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, fr := range []func([]byte) (int, error){httpFrameHead, httpFrameGet} {
			if n, err := fr(b); err == nil && (n < 0 || n > httpMaxRead) {
				t.Fatalf("frame %d", n)
			}
		}
		if s := httpSummary(b); s != safe.Text(s) {
			t.Fatalf("summary %q is not terminal-safe", s)
		}
	})
}

func TestHTTPTshark(t *testing.T) {
	itTshark(t, [][]byte{
		itFrame(t, false, 80, httpHeadRequest("10.99.0.2").Payload),
		itFrame(t, false, 80, httpGetRequest("10.99.0.2").Payload),
	}, []string{"http", "http"})
}

// TestHTTPAgainstServer scans a Go web server on 127.0.0.2: HEAD, then GET
// for the title, on one keep-alive connection; Server and title arrive as
// Active facts.
func TestHTTPAgainstServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path+" "+r.UserAgent())
		w.Header().Set("Server", "GoAhead-Webs")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><head><title>Pump station 4</title></head><body>" + strings.Repeat("z", 40000) + "</body></html>"))
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	addr := netip.MustParseAddr("127.0.0.2")
	res, _ := itScan(t, addr, Known{TCP: []uint16{port}}, PlanOptions{Ports: map[string]uint16{"http": port}}, "http")
	if k := res.kinds(); !slices.Equal(k, []string{"tcp.connect", "http.head", "http.get", "tcp.close"}) {
		t.Errorf("requests %v", k)
	}
	if !slices.Equal(seen, []string{"HEAD / otscope", "GET / otscope"}) {
		t.Errorf("server saw %v", seen)
	}
	for _, rec := range res.recs {
		if rec.Error != "" {
			t.Errorf("%s failed: %s", rec.Kind, rec.Error)
		}
		if rec.Kind == string(KindHTTPGet) && (rec.AnswerBytes > 1024 || rec.Answer != `HTTP 200, Server: GoAhead-Webs, title "Pump station 4"`) {
			t.Errorf("GET answer %q, %d bytes: want it read to the title", rec.Answer, rec.AnswerBytes)
		}
	}
	for field, want := range map[string]string{httpFieldServer: "GoAhead-Webs", httpFieldTitle: "Pump station 4"} {
		if got := res.fact(t, addr, field); !slices.Contains(got, want) {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
}
