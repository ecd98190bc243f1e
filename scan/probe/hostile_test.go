package probe

import (
	"strings"
	"testing"
)

// A device's answer is shown in the Scan pane and written to the scan log:
// whatever it says, the summary carries no terminal escape, C1 control,
// bidi override or zero-width character (issue 13, items 1 and 11).
func TestSummariesAreTerminalSafe(t *testing.T) {
	hostile := []string{"\x1b]0;pwned\x07", "\x1b[2J", "\u009b31m", "\u202egnp", "a\u200bb", "\u2066x\u2069"}
	for _, h := range hostile {
		for name, s := range map[string]string{
			"http server": httpSummary([]byte("HTTP/1.1 200 OK\r\nServer: evil" + h + "\r\n\r\n")),
			"http title":  httpSummary([]byte("HTTP/1.1 200 OK\r\n\r\n<title>t" + h + "</title>")),
			"http status": httpSummary([]byte("HTTP/1.1 2" + h + " OK\r\n\r\n")),
			"opcua err":   opcuaSummary(opcuaTestChunk("ERR", 'F', opcuaEnc(nil).u32(0x80080000).str([]byte("bad"+h)))),
			"opcua type":  opcuaSummary([]byte("\x1b[2" + h + "\x00\x00\x00\x08")),
		} {
			if strings.ContainsAny(s, "\x1b\x07\u009b\u202e\u200b\u2066\u2069") {
				t.Errorf("%s with %q: summary %q carries it", name, h, s)
			}
		}
	}
	if s := httpSummary([]byte("HTTP/1.1 200 OK\r\nServer: evil\x1b]0;pwned\x07\r\n\r\n")); s != "HTTP 200, Server: evil\uFFFD]0;pwned\uFFFD" {
		t.Errorf("summary %q", s)
	}
}
