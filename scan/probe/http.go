package probe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"otscope/model/safe"
)

// HTTP/1.1 on tcp/80: HEAD / for the Server header, then GET / for the
// page title when the HEAD answer has no Server header or the title is not
// known yet. Both go on one keep-alive connection when the server allows
// it; the GET says Connection: close and is read to its </title> (or at
// most httpMaxRead bytes), then the connection is closed.

const (
	httpPort    = 80
	httpMaxRead = 16 << 10
	httpAgent   = "otscope"

	httpFieldServer = "http.server"
	httpFieldTitle  = "http.title"
)

type httpProbe struct{}

func init() {
	Register(httpProbe{})
	registerDissector("http", dissectHTTP)
}

func (httpProbe) Name() string { return "http" }

func (httpProbe) Plan(t *Target, o *PlanOptions) (Planned, bool) {
	p, ok := planTCP(t, o, "http", "http", httpPort, httpFieldServer, httpFieldTitle)
	if !ok {
		return p, false
	}
	p.Steps = []Step{
		{KindTCPConnect, connectPackets},
		{KindHTTPHead, requestPackets(2048)},
		// the server may close after HEAD: a second connection for GET
		{KindTCPClose, closePackets},
		{KindTCPConnect, connectPackets},
		{KindHTTPGet, requestPackets(httpMaxRead)},
		{KindTCPClose, closePackets},
	}
	return p, true
}

func (httpProbe) Run(ctx context.Context, s *Session, t *Target, p *Planned, o *PlanOptions) error {
	host := httpHost(s.Target(), p.Port)
	c, err := s.DialTCP(ctx, "http", p.Port)
	if err != nil {
		return stopErr(ctx, err)
	}
	ans, err := c.Exchange(ctx, httpHeadRequest(host))
	if err != nil {
		_ = c.Close()
		return stopErr(ctx, err)
	}
	hdr := httpHeaders(ans)
	if httpHeader(hdr, "server") != "" && t.Known.Has(httpFieldTitle) {
		return stopErr(ctx, c.Close())
	}
	if strings.EqualFold(httpHeader(hdr, "connection"), "close") || !bytes.HasPrefix(ans, []byte("HTTP/1.1")) {
		// the server ends the connection after each answer
		if err := c.Close(); err != nil {
			return stopErr(ctx, err)
		}
		if c, err = s.DialTCP(ctx, "http", p.Port); err != nil {
			return stopErr(ctx, err)
		}
	}
	_, err = c.Exchange(ctx, httpGetRequest(host))
	if cerr := c.Close(); err == nil {
		err = cerr
	}
	return stopErr(ctx, err)
}

// httpHost is the Host header's value: the address, and the port when it
// is not 80.
func httpHost(a netip.Addr, port uint16) string {
	if port == httpPort {
		if a.Is6() {
			return "[" + a.String() + "]"
		}
		return a.String()
	}
	return netip.AddrPortFrom(a, port).String()
}

func httpRequestBytes(method, host, conn string) []byte {
	return []byte(method + " / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: " + httpAgent + "\r\nConnection: " + conn + "\r\n\r\n")
}

func httpHeadRequest(host string) *Request {
	return &Request{Kind: KindHTTPHead, Payload: httpRequestBytes("HEAD", host, "keep-alive"), Frame: httpFrameHead, Summary: httpSummary}
}

func httpGetRequest(host string) *Request {
	return &Request{Kind: KindHTTPGet, Payload: httpRequestBytes("GET", host, "close"), Frame: httpFrameGet, Summary: httpSummary}
}

var (
	httpEnd      = []byte("\r\n\r\n")
	httpStatus   = []byte("HTTP/1.")
	httpTitleEnd = []byte("</title")
)

// httpFrameHead frames the answer to HEAD: the header block (no body).
func httpFrameHead(b []byte) (int, error) {
	if err := httpCheckStatus(b); err != nil {
		return 0, err
	}
	if i := bytes.Index(b, httpEnd); i >= 0 {
		return i + len(httpEnd), nil
	}
	if len(b) >= httpMaxRead {
		return 0, fmt.Errorf("header block longer than %d bytes", httpMaxRead)
	}
	return 0, nil
}

// httpFrameGet frames the answer to GET: the headers and the body up to
// its </title>, its end, or httpMaxRead bytes, whichever comes first.
func httpFrameGet(b []byte) (int, error) {
	if err := httpCheckStatus(b); err != nil {
		return 0, err
	}
	i := bytes.Index(b, httpEnd)
	if i < 0 {
		if len(b) >= httpMaxRead {
			return 0, fmt.Errorf("header block longer than %d bytes", httpMaxRead)
		}
		return 0, nil
	}
	body := i + len(httpEnd)
	if j := bytes.Index(bytes.ToLower(b[body:min(len(b), httpMaxRead)]), httpTitleEnd); j >= 0 {
		if k := bytes.IndexByte(b[body+j:], '>'); k >= 0 {
			return min(body+j+k+1, httpMaxRead), nil
		}
	}
	hdr := httpHeaders(b[:body])
	if cl := httpHeader(hdr, "content-length"); cl != "" {
		n, err := strconv.Atoi(cl)
		if err != nil || n < 0 {
			return 0, errors.New("bad Content-Length")
		}
		return min(body+n, httpMaxRead), nil
	}
	if strings.EqualFold(httpHeader(hdr, "transfer-encoding"), "chunked") && bytes.Contains(b[body:], []byte("\r\n0\r\n\r\n")) {
		return min(len(b), httpMaxRead), nil
	}
	if len(b) >= httpMaxRead {
		return httpMaxRead, nil
	}
	return 0, nil
}

// httpCheckStatus checks that b starts like a status line.
func httpCheckStatus(b []byte) error {
	n := min(len(b), len(httpStatus))
	if !bytes.Equal(b[:n], httpStatus[:n]) {
		return errors.New("answer is not an HTTP/1.x response")
	}
	return nil
}

// httpHeaders returns the header lines of an answer (status line
// excluded), up to the blank line.
func httpHeaders(b []byte) []string {
	if i := bytes.Index(b, httpEnd); i >= 0 {
		b = b[:i]
	}
	lines := strings.Split(string(b), "\r\n")
	return lines[1:]
}

// httpHeader returns the value of the first header named name.
func httpHeader(lines []string, name string) string {
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if ok && strings.EqualFold(strings.TrimSpace(k), name) {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// httpSummary describes an answer: the status, and the Server header or
// the title.
func httpSummary(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	parts := strings.SplitN(string(line), " ", 3)
	if len(parts) < 2 {
		return "not an HTTP response"
	}
	// Everything after the status is the device's own text: it is made
	// harmless for a terminal before it is clipped (an escape cut in half
	// is still an escape).
	s := "HTTP " + httpClip(safe.Text(parts[1]))
	if v := httpHeader(httpHeaders(b), "server"); v != "" {
		s += ", Server: " + httpClip(safe.Text(v))
	}
	if t := httpTitle(b); t != "" {
		s += ", title " + strconv.Quote(httpClip(safe.Text(t)))
	}
	return s
}

// httpTitle returns the text of the page's <title>.
func httpTitle(b []byte) string {
	lower := bytes.ToLower(b)
	i := bytes.Index(lower, []byte("<title"))
	if i < 0 {
		return ""
	}
	j := bytes.IndexByte(lower[i:], '>')
	if j < 0 {
		return ""
	}
	start := i + j + 1
	end := bytes.Index(lower[start:], httpTitleEnd)
	if end < 0 {
		return ""
	}
	return strings.Join(strings.Fields(string(b[start:start+end])), " ")
}

func httpClip(s string) string {
	if r := []rune(s); len(r) > 48 {
		return string(r[:47]) + "…"
	}
	return s
}

// dissectHTTP accepts exactly "HEAD / HTTP/1.1" or "GET / HTTP/1.1" with a
// Host, "User-Agent: otscope" and a Connection header, nothing else and no
// body.
func dissectHTTP(p []byte) (Kind, error) {
	head, rest, ok := bytes.Cut(p, httpEnd)
	if !ok {
		return "", errors.New("request does not end its header block")
	}
	if len(rest) != 0 {
		return "", errors.New("request body refused")
	}
	lines := strings.Split(string(head), "\r\n")
	var kind Kind
	switch lines[0] {
	case "HEAD / HTTP/1.1":
		kind = KindHTTPHead
	case "GET / HTTP/1.1":
		kind = KindHTTPGet
	default:
		return "", fmt.Errorf("request line %.40q refused: HEAD / or GET / only", lines[0])
	}
	seen := map[string]bool{}
	for _, l := range lines[1:] {
		k, v, ok := strings.Cut(l, ": ")
		if !ok {
			return "", fmt.Errorf("header line %.40q malformed", l)
		}
		name := strings.ToLower(k)
		if seen[name] {
			return "", fmt.Errorf("header %s repeated", k)
		}
		seen[name] = true
		switch name {
		case "host":
			if !httpHostValue(v) {
				return "", fmt.Errorf("header Host %.40q malformed", v)
			}
		case "user-agent":
			if v != httpAgent {
				return "", errors.New("User-Agent is not " + httpAgent)
			}
		case "connection":
			if v != "close" && v != "keep-alive" {
				return "", fmt.Errorf("header Connection %.20q refused", v)
			}
		default:
			return "", fmt.Errorf("header %.40s refused", k)
		}
	}
	if len(seen) != 3 {
		return "", errors.New("headers Host, User-Agent and Connection are all required")
	}
	return kind, nil
}

// httpHostValue accepts an address or name, with an optional port.
func httpHostValue(v string) bool {
	if v == "" || len(v) > 255 {
		return false
	}
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)) {
			return false
		}
	}
	return true
}
