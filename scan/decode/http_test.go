package decode

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestHTTPHeadersAndTitle(t *testing.T) {
	req := "GET / HTTP/1.1\r\nHost: plc\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0)\r\nAuthorization: NTLM " +
		base64.StdEncoding.EncodeToString(ntlmAuthMsg("PLANT", "op", "HMI-1")) + "\r\n\r\n"
	resp := "HTTP/1.1 401 Unauthorized\r\nServer: Allegro-Software-RomPager/4.01\r\n" +
		"WWW-Authenticate: Basic realm=\"SCALANCE X204-2\"\r\nWWW-Authenticate: NTLM " +
		base64.StdEncoding.EncodeToString(ntlmChallengeMsg()) + "\r\n" +
		"Content-Type: text/html; charset=utf-8\r\n\r\n<html><head><TITLE> S7-1500 Web Server </TITLE></head>"
	f := ithFacts(t, ithPkt(t, false, false, 50000, 80, []byte(req)), ithPkt(t, false, true, 80, 50000, []byte(resp)),
		ithPkt(t, false, true, 80, 50000, []byte("<html>body continuation with HTTP/1.1 inside</html>")))
	ithExpect(t, f,
		"10.1.0.10 http.user_agent=Mozilla/5.0 (Windows NT 10.0)",
		"10.1.0.10 ntlmssp.auth.hostname=HMI-1", "10.1.0.10 ntlmssp.auth.domain=PLANT", "10.1.0.10 domain=PLANT",
		"10.1.0.11 http.server=Allegro-Software-RomPager/4.01",
		"10.1.0.11 http.realm=SCALANCE X204-2",
		"10.1.0.11 http.title=S7-1500 Web Server",
		"10.1.0.11 ntlmssp.nb_computer_name=HIST01")
	for k := range f {
		if strings.Contains(k, "op") && strings.Contains(k, "user") && !strings.Contains(k, "user_agent") {
			t.Errorf("user name recorded: %s", k)
		}
	}
}

func TestHTTPRejectsNonHTTP(t *testing.T) {
	for _, p := range []string{"", "GETX / HTTP/1.1\r\n", "\x16\x03\x01\x00\x10hello", "HTTP/2 200\r\nServer: x\r\n\r\n"} {
		f := ithFacts(t, ithPkt(t, false, true, 80, 50000, []byte(p+"................")))
		for k := range f {
			if strings.Contains(k, "http.") {
				t.Errorf("%q gave %s", p, k)
			}
		}
	}
}

// BenchmarkHTTPKeepAlive: a browser polling an HMI web page on a kept-alive
// connection (request, response header, body segment), after the first
// exchange was reported. No allocation.
func BenchmarkHTTPKeepAlive(b *testing.B) {
	req := []byte("GET /status.json HTTP/1.1\r\nHost: 10.1.0.11\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nServer: lighttpd\r\nContent-Type: text/html\r\nContent-Length: 2000\r\n\r\n<html><head><title>HMI</title>")
	body := []byte(strings.Repeat("x", 1400))
	benchFrames(b, [][]byte{ithPkt(b, false, false, 50000, 80, req), ithPkt(b, false, true, 80, 50000, resp),
		ithPkt(b, false, true, 80, 50000, body)})
}

func FuzzHTTP(f *testing.F) {
	f.Add([]byte("HTTP/1.1 401 x\r\nServer: a\r\nWWW-Authenticate: Basic realm=\"r\"\r\nContent-Type: text/html\r\n\r\n<title>t</title>"))
	f.Add([]byte("GET / HTTP/1.1\r\nUser-Agent: u\r\nAuthorization: NTLM " + base64.StdEncoding.EncodeToString(ntlmAuthMsg("D", "u", "W")) + "\r\n\r\n"))
	for _, p := range ithSeedPayloads(f, "http", 80) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p []byte) { ithFuzzParser(t, parseHTTP, false, 80, p) })
}
