package decode

import (
	"bytes"
	"encoding/base64"
)

// HTTP/1.x on the usual web ports (device web servers, WinRM). Only a
// segment that starts a request ("GET /...") or a response ("HTTP/1.x") is
// read, and only its header block (and, for an HTML response, a <title> in
// the same segment): body continuation segments are rejected on their first
// bytes without allocating.
//
// Responses: Server -> http.server, WWW-Authenticate realm -> http.realm,
// <title> -> http.title, NTLMSSP challenges -> ntlmssp.* (on the server).
// Requests: User-Agent -> http.user_agent, NTLMSSP in Authorization ->
// ntlmssp.auth.* (on the client).

// HTTP fact fields.
const (
	fieldHTTPServer    = "http.server"
	fieldHTTPUserAgent = "http.user_agent"
	fieldHTTPRealm     = "http.realm"
	fieldHTTPTitle     = "http.title"
)

// once bits of an HTTP flow (ntlmssp.go uses 0xe0 and up)
const (
	httpOnceServer = 0x01
	httpOnceUA     = 0x02
	httpOnceRealm  = 0x03
	httpOnceTitle  = 0x04
)

func init() {
	registerParser("http", parseHTTP, []uint16{80, 81, 591, 8000, 8008, 8080, 8081, 8888, 5985}, nil)
}

// httpRequest reports whether p starts with a request line's method.
func httpRequest(p []byte) bool {
	switch p[0] {
	case 'G':
		return bytes.HasPrefix(p, []byte("GET "))
	case 'P':
		return bytes.HasPrefix(p, []byte("POST ")) || bytes.HasPrefix(p, []byte("PUT ")) ||
			bytes.HasPrefix(p, []byte("PATCH ")) || bytes.HasPrefix(p, []byte("PROPFIND "))
	case 'H':
		return bytes.HasPrefix(p, []byte("HEAD "))
	case 'O':
		return bytes.HasPrefix(p, []byte("OPTIONS "))
	case 'D':
		return bytes.HasPrefix(p, []byte("DELETE "))
	case 'C':
		return bytes.HasPrefix(p, []byte("CONNECT "))
	}
	return false
}

var (
	httpVersion    = []byte("HTTP/1.")
	httpHdrEnd     = []byte("\r\n\r\n")
	httpHdrServer  = []byte("server")
	httpHdrUA      = []byte("user-agent")
	httpHdrWWWAuth = []byte("www-authenticate")
	httpHdrAuthz   = []byte("authorization")
	httpHdrContent = []byte("content-type")
	httpNTLM       = []byte("NTLM ")
	httpNegotiate  = []byte("Negotiate ")
	httpRealm      = []byte("realm=")
	httpHTML       = []byte("text/html")
	httpTitle      = []byte("<title")
)

func parseHTTP(c *appCtx, p []byte) {
	if len(p) < 16 {
		return
	}
	resp := p[0] == 'H' && bytes.HasPrefix(p, httpVersion)
	if !resp && !httpRequest(p) {
		return
	}
	c.identify("http")
	head := p
	body := []byte(nil)
	if i := bytes.Index(p, httpHdrEnd); i >= 0 {
		head, body = p[:i], p[i+4:]
	}
	html := false
	ep := c.sender()
	for len(head) > 0 {
		var name, val []byte
		var ok bool
		if name, val, head, ok = headerLine(head); !ok {
			continue
		}
		switch {
		case resp && httpEqualFold(name, httpHdrServer):
			if c.once(httpOnceServer) {
				c.fact(ep, fieldHTTPServer, cleanText(val), "http")
			}
		case !resp && httpEqualFold(name, httpHdrUA):
			if c.once(httpOnceUA) {
				c.fact(ep, fieldHTTPUserAgent, cleanText(val), "http")
			}
		case resp && httpEqualFold(name, httpHdrWWWAuth):
			httpAuthHeader(c, val, true)
		case !resp && httpEqualFold(name, httpHdrAuthz):
			httpAuthHeader(c, val, false)
		case resp && httpEqualFold(name, httpHdrContent):
			html = bytes.Contains(val, httpHTML)
		}
	}
	if html && len(body) > 0 && !httpSeen(c, httpOnceTitle) {
		if t := httpHTMLTitle(body); t != "" {
			c.once(httpOnceTitle)
			c.fact(ep, fieldHTTPTitle, t, "http")
		}
	}
}

// headerLine splits the first line off head (HTTP and SSDP headers): name
// is what stands before the colon, val what follows it, trimmed; rest is
// the lines after. ok is false for a line with no colon in its first 33
// bytes (a request or status line, a folded value).
func headerLine(head []byte) (name, val, rest []byte, ok bool) {
	line := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		line, rest = head[:i], head[i+1:]
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || colon > 32 {
		return nil, nil, rest, false
	}
	return line[:colon], bytes.TrimSpace(line[colon+1:]), rest, true
}

// httpSeen reports whether once bit i of the flow is set, without setting it.
func httpSeen(c *appCtx, i uint8) bool {
	st := c.f.app
	return st != nil && st.seen[i/64]&(1<<(i%64)) != 0
}

// httpAuthHeader reads WWW-Authenticate (realm, NTLM challenge) and
// Authorization (NTLM negotiate/authenticate) values.
func httpAuthHeader(c *appCtx, val []byte, fromServer bool) {
	var tok []byte
	switch {
	case bytes.HasPrefix(val, httpNTLM):
		tok = val[len(httpNTLM):]
	case bytes.HasPrefix(val, httpNegotiate):
		tok = val[len(httpNegotiate):]
	}
	if tok != nil {
		bit := uint8(0xe1) // authenticate, from the client
		if fromServer {
			bit = 0xe0 // challenge
		}
		if httpSeen(c, bit) || len(tok) > 4*maxNTLM/3+4 {
			return
		}
		buf := make([]byte, base64.StdEncoding.DecodedLen(len(tok)))
		n, err := base64.StdEncoding.Decode(buf, bytes.TrimSpace(tok))
		if err != nil {
			return
		}
		if m := ntlmFind(buf[:n]); m != nil {
			parseNTLMSSP(c, m, "http")
		}
		return
	}
	if !fromServer {
		return
	}
	i := bytes.Index(val, httpRealm)
	if i < 0 || httpSeen(c, httpOnceRealm) {
		return
	}
	r := val[i+len(httpRealm):]
	if len(r) > 0 && r[0] == '"' {
		r = r[1:]
		if j := bytes.IndexByte(r, '"'); j >= 0 {
			r = r[:j]
		}
	} else if j := bytes.IndexAny(r, ", "); j >= 0 {
		r = r[:j]
	}
	if s := cleanText(r); s != "" {
		c.once(httpOnceRealm)
		c.fact(c.sender(), fieldHTTPRealm, s, "http")
	}
}

// httpHTMLTitle returns the text of the first <title> element in b.
func httpHTMLTitle(b []byte) string {
	if len(b) > 8192 {
		b = b[:8192]
	}
	i := httpIndexFold(b, httpTitle)
	if i < 0 {
		return ""
	}
	b = b[i+len(httpTitle):]
	j := bytes.IndexByte(b, '>')
	if j < 0 {
		return ""
	}
	b = b[j+1:]
	k := bytes.IndexByte(b, '<')
	if k < 0 {
		return "" // cut by the segment
	}
	return cleanText(b[:k])
}

// httpEqualFold compares a header name with a lower-case name.
func httpEqualFold(a, lower []byte) bool {
	if len(a) != len(lower) {
		return false
	}
	for i, c := range a {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// httpIndexFold finds lower (lower-case ASCII) in b ignoring case.
func httpIndexFold(b, lower []byte) int {
	for i := 0; i+len(lower) <= len(b); i++ {
		if httpEqualFold(b[i:i+len(lower)], lower) {
			return i
		}
	}
	return -1
}
