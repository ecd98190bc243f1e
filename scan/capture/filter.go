package capture

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// filterPrimitives lists the supported syntax for error messages.
const filterPrimitives = "supported: [src|dst] host ADDR, [src|dst] net CIDR, [tcp|udp] [src|dst] port N, " +
	"[tcp|udp] [src|dst] portrange A-B, tcp, udp, icmp, icmp6, arp, ip, ip6, vlan [ID], " +
	"ether [src|dst] host MAC, ether proto N, combined with and/&&, or/||, not/!, ( )"

// Filter AST. Primitives are parsed into nodes that carry the link-layer
// offset shift in effect where they appear (after "vlan", libpcap moves
// every later primitive 4 bytes further into the frame).
type fnode interface{ isNode() }

type (
	fAnd  struct{ a, b fnode }
	fOr   struct{ a, b fnode }
	fNot  struct{ a fnode }
	fPrim struct {
		kind   primKind
		dir    direction
		proto  uint8 // transport qualifier for port/portrange: 0 (tcp, udp or sctp), 6 or 17
		prefix netip.Prefix
		mac    net.HardwareAddr
		lo, hi uint32 // port, port range, ether proto or VLAN ID
		hasID  bool
		shift  uint32 // bytes of VLAN tags before this primitive
	}
)

func (fAnd) isNode()  {}
func (fOr) isNode()   {}
func (fNot) isNode()  {}
func (fPrim) isNode() {}

type primKind int

const (
	pHost primKind = iota // host and net: prefix
	pPort                 // port and portrange: lo..hi
	pTCP
	pUDP
	pICMP
	pICMP6
	pARP
	pIP
	pIP6
	pVLAN
	pEtherHost
	pEtherProto
)

type direction int

const (
	dirAny direction = iota
	dirSrc
	dirDst
)

// filterParser is a recursive-descent parser over whitespace-separated
// tokens. As in libpcap, "and" and "or" have equal precedence and associate
// to the left; "not" binds tightest.
type filterParser struct {
	expr  string
	toks  []string
	pos   int
	shift uint32
}

// tokenizeFilter splits a filter expression into words and the operators
// ( ) ! && ||.
func tokenizeFilter(s string) []string {
	var toks []string
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			toks = append(toks, s[i:i+1])
			i++
		case c == '!':
			toks = append(toks, "!")
			i++
		case (c == '&' || c == '|') && i+1 < len(s) && s[i+1] == c:
			toks = append(toks, s[i:i+2])
			i += 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()!", rune(s[j])) &&
				!((s[j] == '&' || s[j] == '|') && j+1 < len(s) && s[j+1] == s[j]) {
				j++
			}
			if j == i { // a lone '&' or '|'
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return strings.ToLower(p.toks[p.pos])
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	if p.pos < len(p.toks) {
		p.pos++
	}
	return t
}

// errorf reports a problem at the current token.
func (p *filterParser) errorf(format string, args ...any) error {
	return fmt.Errorf("filter %q: %w: %s; %s", p.expr, ErrFilter, fmt.Sprintf(format, args...), filterPrimitives)
}

// badToken reports tok, just read, as wrong ("<tok> <why>"), or the end of
// the filter when there was no token.
func (p *filterParser) badToken(tok, why string) error {
	if tok == "" {
		return p.unexpected()
	}
	return p.errorf("%q %s", tok, why)
}

func (p *filterParser) unexpected() error {
	if p.pos >= len(p.toks) {
		return p.errorf("unexpected end of filter")
	}
	return p.errorf("unexpected %q", p.toks[p.pos])
}

// parseFilter parses a whole expression.
func parseFilter(expr string) (fnode, error) {
	p := &filterParser{expr: expr, toks: tokenizeFilter(expr)}
	if len(p.toks) > 1024 {
		return nil, p.errorf("filter too long (%d tokens, at most 1024)", len(p.toks))
	}
	n, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.unexpected()
	}
	return n, nil
}

func (p *filterParser) parseExpr(depth int) (fnode, error) {
	if depth > 64 {
		return nil, p.errorf("parentheses nested too deeply")
	}
	left, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	// and and or bind equally, left to right, as in pcap-filter
	for {
		op := p.peek()
		switch op {
		case "and", "&&", "or", "||":
		default:
			return left, nil
		}
		p.next()
		right, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		if op == "and" || op == "&&" {
			left = fAnd{left, right}
		} else {
			left = fOr{left, right}
		}
	}
}

func (p *filterParser) parseUnary(depth int) (fnode, error) {
	switch p.peek() {
	case "not", "!":
		p.next()
		if depth > 64 {
			return nil, p.errorf("too many nested \"not\"")
		}
		a, err := p.parseUnary(depth + 1)
		if err != nil {
			return nil, err
		}
		return fNot{a}, nil
	case "(":
		p.next()
		n, err := p.parseExpr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, p.unexpected()
		}
		p.next()
		return n, nil
	}
	return p.parsePrimitive()
}

// protoKinds are the primitives that are a protocol name alone.
var protoKinds = map[string]primKind{"icmp": pICMP, "icmp6": pICMP6, "arp": pARP, "ip": pIP, "ip6": pIP6}

func (p *filterParser) parsePrimitive() (fnode, error) {
	prim := fPrim{shift: p.shift}
	tok := p.peek()
	switch tok {
	case "tcp", "udp":
		p.next()
		proto := uint8(6)
		kind := pTCP
		if tok == "udp" {
			proto, kind = 17, pUDP
		}
		switch p.peek() {
		case "src", "dst", "port", "portrange":
			prim.proto = proto
			return p.parsePortish(prim)
		}
		prim.kind = kind
		return prim, nil
	case "icmp", "icmp6", "arp", "ip", "ip6":
		p.next()
		prim.kind = protoKinds[tok]
		return prim, nil
	case "vlan":
		p.next()
		prim.kind = pVLAN
		if id, ok := parseNumber(p.peek(), 4095); ok {
			p.next()
			prim.lo, prim.hasID = id, true
		}
		p.shift += 4
		return prim, nil
	case "ether":
		p.next()
		return p.parseEther(prim)
	case "src", "dst", "host", "net", "port", "portrange":
		return p.parsePortish(prim)
	}
	return nil, p.unexpected()
}

// parseDir parses an optional src or dst.
func (p *filterParser) parseDir() direction {
	switch p.peek() {
	case "src":
		p.next()
		return dirSrc
	case "dst":
		p.next()
		return dirDst
	}
	return dirAny
}

// parsePortish parses [src|dst] host|net|port|portrange ARG.
func (p *filterParser) parsePortish(prim fPrim) (fnode, error) {
	prim.dir = p.parseDir()
	kw := p.next()
	if kw == "" {
		return nil, p.unexpected()
	}
	if prim.proto != 0 && kw != "port" && kw != "portrange" {
		return nil, p.badToken(kw, "after tcp/udp: only port and portrange may follow")
	}
	arg := p.next()
	if arg == "" {
		return nil, p.errorf("%s needs an argument", kw)
	}
	switch kw {
	case "host":
		a, err := netip.ParseAddr(arg)
		if err != nil || a.Zone() != "" {
			return nil, p.badToken(arg, "is not an IPv4 or IPv6 address (host names are not resolved)")
		}
		a = a.Unmap()
		prim.kind, prim.prefix = pHost, netip.PrefixFrom(a, a.BitLen())
	case "net":
		pf, err := netip.ParsePrefix(arg)
		if err != nil {
			a, aerr := netip.ParseAddr(arg)
			if aerr != nil || a.Zone() != "" {
				return nil, p.badToken(arg, "is not a network in CIDR form like 10.0.0.0/8")
			}
			pf = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if pf.Addr().Is4In6() {
			pf = netip.PrefixFrom(pf.Addr().Unmap(), pf.Bits()-96)
		}
		prim.kind, prim.prefix = pHost, pf.Masked()
	case "port":
		n, ok := parseNumber(arg, 65535)
		if !ok {
			return nil, p.badToken(arg, "is not a port number (0-65535; service names are not supported)")
		}
		prim.kind, prim.lo, prim.hi = pPort, n, n
	case "portrange":
		a, b, found := strings.Cut(arg, "-")
		lo, ok1 := parseNumber(a, 65535)
		hi, ok2 := parseNumber(b, 65535)
		if !found || !ok1 || !ok2 || lo > hi {
			return nil, p.badToken(arg, "is not a port range like 1024-65535")
		}
		prim.kind, prim.lo, prim.hi = pPort, lo, hi
	default:
		p.pos -= 2
		return nil, p.unexpected()
	}
	return prim, nil
}

// parseEther parses what follows "ether".
func (p *filterParser) parseEther(prim fPrim) (fnode, error) {
	if p.peek() == "proto" {
		p.next()
		arg := p.next()
		n, ok := parseNumber(arg, 65535)
		if !ok {
			switch strings.TrimPrefix(arg, `\`) {
			case "ip":
				n, ok = 0x0800, true
			case "ip6":
				n, ok = 0x86dd, true
			case "arp":
				n, ok = 0x0806, true
			}
		}
		if !ok {
			return nil, p.badToken(arg, "is not an EtherType (a number such as 0x88cc, or ip, ip6, arp)")
		}
		prim.kind, prim.lo = pEtherProto, n
		return prim, nil
	}
	prim.dir = p.parseDir()
	if p.peek() == "host" {
		p.next()
	} else if prim.dir == dirAny {
		return nil, p.unexpected()
	}
	arg := p.next()
	mac, err := net.ParseMAC(arg)
	if err != nil || len(mac) != 6 {
		return nil, p.badToken(arg, "is not a MAC address like 00:1b:1b:aa:bb:cc")
	}
	prim.kind, prim.mac = pEtherHost, mac
	return prim, nil
}

// parseNumber parses a decimal or 0x-hex number no greater than max.
func parseNumber(s string, max uint32) (uint32, bool) {
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 0, 32)
	if err != nil || n > uint64(max) {
		return 0, false
	}
	return uint32(n), true
}
