package decode

import (
	"bytes"

	"otscope/model"
)

// SSDP (UPnP discovery, UDP 1900): NOTIFY announcements and the unicast
// "HTTP/1.1 200 OK" answers to M-SEARCH describe the sender: its SERVER
// header ("OS/version UPnP/1.0 product/version"), unique service name,
// description URL and notification type. Devices repeat their NOTIFYs
// every few minutes; a per-host once set keyed by a hash of the headers
// keeps repeats from building strings.

// SSDP fact fields.
const (
	fieldSSDPServer   = "ssdp.server"
	fieldSSDPUSN      = "ssdp.usn"
	fieldSSDPLocation = "ssdp.location"
	fieldSSDPNT       = "ssdp.nt"
)

// onceKey kind for SSDP (per host and header hash).
const ssdpOnceKind = 0x55d9

func init() {
	registerParser("ssdp", parseSSDP, nil, []uint16{1900})
}

var (
	ssdpNotify   = []byte("NOTIFY * HTTP/1.")
	ssdpOK       = []byte("HTTP/1.1 200 OK")
	ssdpServer   = []byte("server")
	ssdpUSN      = []byte("usn")
	ssdpLocation = []byte("location")
	ssdpNT       = []byte("nt")
	ssdpST       = []byte("st")
)

func parseSSDP(c *appCtx, p []byte) {
	if !bytes.HasPrefix(p, ssdpNotify) && !bytes.HasPrefix(p, ssdpOK) {
		return // M-SEARCH requests name nobody
	}
	c.identify("ssdp")
	ep := c.sender()
	if !ep.IP.IsValid() {
		return
	}
	if len(p) > 2048 {
		p = p[:2048]
	}
	if !c.d.once(onceKey{mac: ep.MAC, ip: ep.IP, kind: ssdpOnceKind, id: hashBytes(p)}) {
		return
	}
	for head := p; len(head) > 0; {
		name, raw, rest, ok := headerLine(head)
		head = rest
		if !ok {
			continue
		}
		name = bytes.TrimSpace(name)
		val := cleanText(raw)
		if val == "" {
			continue
		}
		switch {
		case httpEqualFold(name, ssdpServer):
			c.fact(ep, fieldSSDPServer, val, "ssdp")
			if os := ssdpOS(val); os != "" {
				c.factDetail(ep, model.FieldOS, os, "SSDP SERVER header", "ssdp")
			}
		case httpEqualFold(name, ssdpUSN):
			c.fact(ep, fieldSSDPUSN, val, "ssdp")
		case httpEqualFold(name, ssdpLocation):
			c.fact(ep, fieldSSDPLocation, val, "ssdp")
		case httpEqualFold(name, ssdpNT), httpEqualFold(name, ssdpST):
			c.fact(ep, fieldSSDPNT, val, "ssdp")
		}
	}
}

// ssdpOS takes the OS token of a SERVER header ("Linux/3.14 UPnP/1.0
// product/1.0", "Microsoft-Windows-NT/5.1 UPnP/1.0 ...") when it names a
// known operating system; anything else stays in ssdp.server.
func ssdpOS(s string) string {
	tok := s
	if i := bytes.IndexAny([]byte(s), " ,"); i >= 0 {
		tok = s[:i]
	}
	for _, pre := range []string{"Linux/", "Microsoft-Windows-NT/", "Microsoft-Windows/", "Windows/", "FreeBSD/", "Darwin/", "VxWorks/", "QNX/"} {
		if len(tok) > len(pre) && tok[:len(pre)] == pre {
			name, ver := tok[:len(pre)-1], tok[len(pre):]
			if name == "Microsoft-Windows-NT" || name == "Microsoft-Windows" {
				name = "Windows NT"
			}
			return name + " " + ver
		}
	}
	return ""
}
