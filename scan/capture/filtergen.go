package capture

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/google/gopacket/layers"
	"golang.org/x/net/bpf"
)

// maxFilterInsns is the kernel's limit on classic BPF program length (BPF_MAXINSNS).
const maxFilterInsns = 4096

// CompileFilter compiles a capture filter in a subset of tcpdump's
// pcap-filter syntax to a classic BPF program for frames of link type lt:
//
//	[src|dst] host ADDR          IPv4 (also matches ARP/RARP addresses) or IPv6
//	[src|dst] net CIDR           e.g. 10.0.0.0/8, fd00::/8
//	[tcp|udp] [src|dst] port N   TCP, UDP or SCTP port (IPv4 first fragments, IPv6)
//	[tcp|udp] [src|dst] portrange A-B
//	tcp, udp, icmp, icmp6, arp, ip, ip6
//	vlan [ID]                    802.1Q/802.1ad tag; later primitives look past it
//	ether [src|dst] host MAC, ether proto N
//	and, &&, or, ||, not, !, ( )
//
// As in libpcap, "and" and "or" have equal precedence and group to the left,
// and each "vlan" shifts the offsets of the primitives after it by 4 bytes.
// Unsupported syntax gives an error wrapping ErrFilter that names the token
// and lists the supported primitives. An empty filter accepts every frame.
// The program returns MaxFrameLen for a match and 0 otherwise.
func CompileFilter(expr string, lt layers.LinkType) ([]bpf.Instruction, error) {
	link, ok := linkInfoFor(lt)
	if !ok {
		return nil, fmt.Errorf("%w: filters are not supported on link type %s", ErrFilter, linkTypeName(uint32(lt)))
	}
	if strings.TrimSpace(expr) == "" {
		return []bpf.Instruction{bpf.RetConstant{Val: MaxFrameLen}}, nil
	}
	root, err := parseFilter(expr)
	if err != nil {
		return nil, err
	}
	g := &codegen{link: link}
	c, err := g.node(root)
	if err != nil {
		return nil, fmt.Errorf("filter %q: %w: %v", expr, ErrFilter, err)
	}
	accept, reject := g.newLabel(), g.newLabel()
	c(g, accept, reject)
	g.place(accept)
	g.emit(bpf.RetConstant{Val: MaxFrameLen})
	g.place(reject)
	g.emit(bpf.RetConstant{Val: 0})
	prog := g.resolve()
	if len(prog) > maxFilterInsns {
		return nil, fmt.Errorf("filter %q: %w: compiles to %d instructions, more than the kernel's %d; simplify it",
			expr, ErrFilter, len(prog), maxFilterInsns)
	}
	return prog, nil
}

// linkKind says how the network protocol of a frame is found.
type linkKind int

const (
	linkEthernet linkKind = iota // EtherType at 12
	linkSLL                      // EtherType at 14
	linkSLL2                     // EtherType at 0
	linkRaw                      // IP version nibble at 0
	linkRaw4                     // always IPv4
	linkRaw6                     // always IPv6
	linkNull                     // 4-byte address family in the capturing host's byte order
	linkLoop                     // 4-byte address family in network byte order
)

type linkInfo struct {
	kind  linkKind
	etOff uint32 // offset of the EtherType, where there is one
	nl    uint32 // offset of the network layer
}

func linkInfoFor(lt layers.LinkType) (linkInfo, bool) {
	switch lt {
	case layers.LinkTypeEthernet:
		return linkInfo{linkEthernet, 12, 14}, true
	case layers.LinkTypeLinuxSLL:
		return linkInfo{linkSLL, 14, 16}, true
	case layers.LinkTypeRaw, linkTypeRawDLT12, linkTypeRawDLT14:
		return linkInfo{linkRaw, 0, 0}, true
	case linkTypeIPv4:
		return linkInfo{linkRaw4, 0, 0}, true
	case linkTypeIPv6:
		return linkInfo{linkRaw6, 0, 0}, true
	case layers.LinkTypeNull:
		return linkInfo{linkNull, 0, 4}, true
	case layers.LinkTypeLoop:
		return linkInfo{linkLoop, 0, 4}, true
	}
	return linkInfo{}, false
}

// cond emits code that continues at label t when true and at label f when false.
type cond func(g *codegen, t, f int)

type itemKind int

const (
	itemIns   itemKind = iota // plain instruction
	itemCond                  // conditional jump to labels jt/jf
	itemJa                    // unconditional jump to label jt
	itemLabel                 // position of label jt
)

type item struct {
	kind   itemKind
	ins    bpf.Instruction
	test   bpf.JumpTest
	val    uint32
	jt, jf int
	long   bool // a conditional expanded to cond+ja+ja because a target is > 255 away
}

// codegen collects instructions with symbolic jump targets.
type codegen struct {
	link    linkInfo
	items   []item
	nLabels int
}

func (g *codegen) newLabel() int { g.nLabels++; return g.nLabels - 1 }

func (g *codegen) place(l int) { g.items = append(g.items, item{kind: itemLabel, jt: l}) }

func (g *codegen) emit(ins bpf.Instruction) { g.items = append(g.items, item{kind: itemIns, ins: ins}) }

// resolve lays out the program, expanding conditionals whose targets are out
// of the 8-bit range into trampolines until everything fits.
func (g *codegen) resolve() []bpf.Instruction {
	pos := make([]int, g.nLabels)
	idx := make([]int, len(g.items))
	for {
		n := 0
		for i, it := range g.items {
			idx[i] = n
			switch {
			case it.kind == itemLabel:
				pos[it.jt] = n
			case it.kind == itemCond && it.long:
				n += 3
			default:
				n++
			}
		}
		changed := false
		for i := range g.items {
			it := &g.items[i]
			if it.kind == itemCond && !it.long &&
				(pos[it.jt]-idx[i]-1 > 255 || pos[it.jf]-idx[i]-1 > 255) {
				it.long, changed = true, true
			}
		}
		if !changed {
			break
		}
	}
	var prog []bpf.Instruction
	for i, it := range g.items {
		switch it.kind {
		case itemIns:
			prog = append(prog, it.ins)
		case itemJa:
			prog = append(prog, bpf.Jump{Skip: uint32(pos[it.jt] - idx[i] - 1)})
		case itemCond:
			if !it.long {
				prog = append(prog, bpf.JumpIf{Cond: it.test, Val: it.val,
					SkipTrue: uint8(pos[it.jt] - idx[i] - 1), SkipFalse: uint8(pos[it.jf] - idx[i] - 1)})
				continue
			}
			prog = append(prog,
				bpf.JumpIf{Cond: it.test, Val: it.val, SkipTrue: 0, SkipFalse: 1},
				bpf.Jump{Skip: uint32(pos[it.jt] - idx[i] - 2)},
				bpf.Jump{Skip: uint32(pos[it.jf] - idx[i] - 3)})
		}
	}
	return prog
}

// Condition combinators.

func cTrue(g *codegen, t, f int)  { g.items = append(g.items, item{kind: itemJa, jt: t}) }
func cFalse(g *codegen, t, f int) { g.items = append(g.items, item{kind: itemJa, jt: f}) }

func cAnd(cs ...cond) cond { return cChain(cs, true) }
func cOr(cs ...cond) cond  { return cChain(cs, false) }

// cChain tests cs in turn, the last one deciding: in an and chain a false
// one jumps to f at once, in an or chain a true one jumps to t.
func cChain(cs []cond, and bool) cond {
	return func(g *codegen, t, f int) {
		for i, c := range cs {
			if i == len(cs)-1 {
				c(g, t, f)
				return
			}
			m := g.newLabel()
			if and {
				c(g, m, f)
			} else {
				c(g, t, m)
			}
			g.place(m)
		}
	}
}

func cNot(c cond) cond { return func(g *codegen, t, f int) { c(g, f, t) } }

// load says how to load the A register.
type load struct {
	size int    // 1, 2 or 4
	off  uint32 // absolute offset, or offset after the IPv4 header when ind
	ind  bool   // relative to the end of the IPv4 header at ihl
	ihl  uint32 // offset of the IPv4 header (for ldxb 4*([ihl]&0xf))
}

// cmp tests (A & mask) against val; mask 0 means no mask.
func cmp(l load, mask uint32, test bpf.JumpTest, val uint32) cond {
	return func(g *codegen, t, f int) {
		if l.ind {
			g.emit(bpf.LoadMemShift{Off: l.ihl})
			g.emit(bpf.LoadIndirect{Off: l.off, Size: l.size})
		} else {
			g.emit(bpf.LoadAbsolute{Off: l.off, Size: l.size})
		}
		if mask != 0 {
			g.emit(bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask})
		}
		g.items = append(g.items, item{kind: itemCond, test: test, val: val, jt: t, jf: f})
	}
}

func abs(size int, off uint32) load { return load{size: size, off: off} }

func eq(l load, val uint32) cond { return cmp(l, 0, bpf.JumpEqual, val) }

// node compiles an AST node.
func (g *codegen) node(n fnode) (cond, error) {
	var join func(...cond) cond
	var kids []fnode
	switch n := n.(type) {
	case fAnd:
		join, kids = cAnd, []fnode{n.a, n.b}
	case fOr:
		join, kids = cOr, []fnode{n.a, n.b}
	case fNot:
		join, kids = func(cs ...cond) cond { return cNot(cs[0]) }, []fnode{n.a}
	case fPrim:
		return g.prim(n)
	default:
		return nil, fmt.Errorf("unknown filter node %T", n)
	}
	cs := make([]cond, len(kids))
	for i, k := range kids {
		c, err := g.node(k)
		if err != nil {
			return nil, err
		}
		cs[i] = c
	}
	return join(cs...), nil
}

// EtherTypes used by the primitives.
const (
	etIPv4  = 0x0800
	etARP   = 0x0806
	etRARP  = 0x8035
	etIPv6  = 0x86dd
	et8021Q = 0x8100
	et8021A = 0x88a8
	et9100  = 0x9100
)

// etherIs tests the network protocol of the frame, whatever the link type.
func (g *codegen) etherIs(et uint32, shift uint32) cond {
	l := g.link
	switch l.kind {
	case linkEthernet, linkSLL, linkSLL2:
		return eq(abs(2, l.etOff+shift), et)
	case linkRaw:
		switch et {
		case etIPv4:
			return cmp(abs(1, 0), 0xf0, bpf.JumpEqual, 0x40)
		case etIPv6:
			return cmp(abs(1, 0), 0xf0, bpf.JumpEqual, 0x60)
		}
	case linkRaw4:
		if et == etIPv4 {
			return cTrue
		}
	case linkRaw6:
		if et == etIPv6 {
			return cTrue
		}
	case linkNull, linkLoop:
		var fams []uint32
		switch et {
		case etIPv4:
			fams = []uint32{2}
		case etIPv6:
			fams = []uint32{10, 24, 28, 30} // Linux, NetBSD/OpenBSD, FreeBSD, macOS
		}
		var cs []cond
		for _, fam := range fams {
			cs = append(cs, eq(abs(4, 0), fam))
			if l.kind == linkNull { // written in the capturing host's byte order
				var b [4]byte
				binary.LittleEndian.PutUint32(b[:], fam)
				cs = append(cs, eq(abs(4, 0), binary.BigEndian.Uint32(b[:])))
			}
		}
		if len(cs) > 0 {
			return cOr(cs...)
		}
	}
	return cFalse
}

// prim compiles a primitive.
func (g *codegen) prim(p fPrim) (cond, error) {
	nl := g.link.nl + p.shift
	ip := g.etherIs(etIPv4, p.shift)
	ip6 := g.etherIs(etIPv6, p.shift)
	switch p.kind {
	case pIP:
		return ip, nil
	case pIP6:
		return ip6, nil
	case pARP:
		return g.etherIs(etARP, p.shift), nil
	case pTCP, pUDP:
		proto := uint32(6)
		if p.kind == pUDP {
			proto = 17
		}
		return cOr(cAnd(ip, eq(abs(1, nl+9), proto)), cAnd(ip6, eq(abs(1, nl+6), proto))), nil
	case pICMP:
		return cAnd(ip, eq(abs(1, nl+9), 1)), nil
	case pICMP6:
		return cAnd(ip6, eq(abs(1, nl+6), 58)), nil
	case pHost:
		return g.host(p, nl), nil
	case pPort:
		return g.port(p, nl, ip, ip6), nil
	case pVLAN:
		if g.link.kind != linkEthernet {
			return nil, fmt.Errorf("vlan needs Ethernet frames, not link type %s", g.linkName())
		}
		off := g.link.etOff + p.shift
		tag := cOr(eq(abs(2, off), et8021Q), eq(abs(2, off), et8021A), eq(abs(2, off), et9100))
		if !p.hasID {
			return tag, nil
		}
		return cAnd(tag, cmp(abs(2, off+2), 0x0fff, bpf.JumpEqual, p.lo)), nil
	case pEtherHost:
		if g.link.kind != linkEthernet {
			return nil, fmt.Errorf("ether host needs Ethernet frames, not link type %s", g.linkName())
		}
		m := p.mac
		at := func(off uint32) cond {
			return cAnd(eq(abs(4, off), binary.BigEndian.Uint32(m[0:4])), eq(abs(2, off+4), uint32(binary.BigEndian.Uint16(m[4:6]))))
		}
		return direct(p.dir, at(6), at(0)), nil
	case pEtherProto:
		switch g.link.kind {
		case linkEthernet, linkSLL, linkSLL2:
			return g.etherIs(p.lo, p.shift), nil
		}
		return nil, fmt.Errorf("ether proto needs Ethernet or Linux cooked frames, not link type %s", g.linkName())
	}
	return nil, fmt.Errorf("unknown primitive %d", p.kind)
}

func (g *codegen) linkName() string {
	switch g.link.kind {
	case linkRaw, linkRaw4, linkRaw6:
		return "raw IP"
	case linkNull, linkLoop:
		return "BSD loopback"
	case linkSLL, linkSLL2:
		return "Linux cooked"
	}
	return "Ethernet"
}

// direct picks the source test, the destination test or either.
func direct(d direction, src, dst cond) cond {
	switch d {
	case dirSrc:
		return src
	case dirDst:
		return dst
	}
	return cOr(src, dst)
}

// host compiles host and net.
func (g *codegen) host(p fPrim, nl uint32) cond {
	a := p.prefix.Addr().AsSlice()
	bits := p.prefix.Bits()
	// words compares the address at off with the prefix, 32 bits at a time.
	words := func(off uint32) cond {
		var cs []cond
		for i := 0; i < len(a)/4; i++ {
			wb := bits - 32*i
			if wb <= 0 {
				break
			}
			mask := uint32(0xffffffff)
			if wb < 32 {
				mask = ^uint32(0) << (32 - wb)
			}
			val := binary.BigEndian.Uint32(a[4*i:]) & mask
			if mask == 0xffffffff {
				mask = 0
			}
			cs = append(cs, cmp(abs(4, off+uint32(4*i)), mask, bpf.JumpEqual, val))
		}
		if len(cs) == 0 {
			return cTrue
		}
		return cAnd(cs...)
	}
	if len(a) == 16 {
		return cAnd(g.etherIs(etIPv6, p.shift), direct(p.dir, words(nl+8), words(nl+24)))
	}
	inIP := cAnd(g.etherIs(etIPv4, p.shift), direct(p.dir, words(nl+12), words(nl+16)))
	// ARP and RARP for IPv4 over Ethernet: sender address at 14, target at 24.
	arp := direct(p.dir, words(nl+14), words(nl+24))
	inARP := cAnd(cOr(g.etherIs(etARP, p.shift), g.etherIs(etRARP, p.shift)), arp)
	switch g.link.kind {
	case linkEthernet, linkSLL, linkSLL2:
		return cOr(inIP, inARP)
	}
	return inIP
}

// port compiles port and portrange.
func (g *codegen) port(p fPrim, nl uint32, ip, ip6 cond) cond {
	protos := []uint32{6, 17, 132}
	if p.proto != 0 {
		protos = []uint32{uint32(p.proto)}
	}
	protoIs := func(off uint32) cond {
		var cs []cond
		for _, pr := range protos {
			cs = append(cs, eq(abs(1, off), pr))
		}
		return cOr(cs...)
	}
	inRange := func(l load) cond {
		if p.lo == p.hi {
			return eq(l, p.lo)
		}
		return cAnd(cmp(l, 0, bpf.JumpGreaterOrEqual, p.lo), cNot(cmp(l, 0, bpf.JumpGreaterThan, p.hi)))
	}
	// IPv4: first fragment only, transport header after IHL*4 bytes.
	v4 := cAnd(ip, protoIs(nl+9),
		cNot(cmp(abs(2, nl+6), 0, bpf.JumpBitsSet, 0x1fff)),
		direct(p.dir,
			inRange(load{size: 2, off: nl, ind: true, ihl: nl}),
			inRange(load{size: 2, off: nl + 2, ind: true, ihl: nl})))
	// IPv6: transport header right after the fixed header (no extension headers).
	v6 := cAnd(ip6, protoIs(nl+6), direct(p.dir, inRange(abs(2, nl+40)), inRange(abs(2, nl+42))))
	return cOr(v4, v6)
}
