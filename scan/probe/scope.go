package probe

import (
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ScopeOptions are the exclusions and the risks the user accepted.
type ScopeOptions struct {
	// Exclude are addresses, ranges or CIDRs taken out of the scope.
	Exclude []string
	// AllowLarge accepts more than 65536 addresses (--allow-large-scope).
	AllowLarge bool
	// AllowPublic accepts addresses outside the private, shared, loopback,
	// link-local and unique-local ranges (--allow-public).
	AllowPublic bool
	// AllowBroadcast accepts 255.255.255.255 and directed broadcasts: it
	// keeps the network and broadcast addresses of CIDRs and accepts those
	// of the subnets below (--allow-broadcast).
	AllowBroadcast bool
	// Subnets are the subnets the scan goes out on (LocalSubnets: the
	// host's interface prefixes). Their network and broadcast addresses
	// are directed broadcasts, refused without AllowBroadcast.
	Subnets []netip.Prefix
}

// LocalSubnets returns the IPv4 prefixes of the host's interfaces, for
// ScopeOptions.Subnets.
func LocalSubnets() []netip.Prefix {
	var out []netip.Prefix
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if pn, ok := a.(*net.IPNet); ok {
			ip, ok := netip.AddrFromSlice(pn.IP)
			ones, bits := pn.Mask.Size()
			if ok && bits > 0 && ip.Unmap().Is4() {
				out = append(out, netip.PrefixFrom(ip.Unmap(), ones-(bits-32)).Masked())
			}
		}
	}
	return out
}

// MaxScope is the largest scope without AllowLarge (a /16).
const MaxScope = 1 << 16

// hardMaxScope bounds even a large scope: beyond it no plan is useful.
const hardMaxScope = 1 << 24

// addrRange is an inclusive range of one address family.
type addrRange struct{ lo, hi netip.Addr }

func (r addrRange) contains(a netip.Addr) bool {
	return a.BitLen() == r.lo.BitLen() && r.lo.Compare(a) <= 0 && a.Compare(r.hi) <= 0
}

// size counts the addresses of r (capped to avoid overflow on v6).
func (r addrRange) size() *big.Int {
	lo, hi := new(big.Int).SetBytes(r.lo.AsSlice()), new(big.Int).SetBytes(r.hi.AsSlice())
	return hi.Sub(hi, lo).Add(hi, big.NewInt(1))
}

// Scope is the set of addresses a scan may send to.
type Scope struct {
	incl, excl []addrRange
	specs      []string
	exclSpecs  []string
	n          int
}

// privateNets are the non-public ranges (RFC 1918, RFC 6598 shared,
// loopback, link-local, IPv6 ULA, loopback and link-local).
var privateNets = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fe80::/10"),
}

// private reports whether the whole range lies in one non-public net.
func (r addrRange) private() bool {
	for _, p := range privateNets {
		if p.Contains(r.lo) && p.Contains(r.hi) {
			return true
		}
	}
	return false
}

var limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// ParseScope parses targets (addresses, ranges "10.0.0.5-10.0.0.20" or
// "10.0.0.5-20", CIDRs) and refuses what is risky unless o allows it:
// more than a /16, public addresses, broadcast; multicast and unspecified
// addresses always. A CIDR shorter than /31 loses its network and
// broadcast addresses. Directed broadcasts are refused too (see
// refuseDirected): the network or broadcast address of a CIDR in the scope
// or of a subnet in o.Subnets, and an IPv4 address ending in .0 or .255
// that no such prefix of /23 or wider shows to be a host.
func ParseScope(targets []string, o ScopeOptions) (*Scope, error) {
	s := &Scope{}
	var known []netip.Prefix
	for _, p := range o.Subnets {
		if p.IsValid() && p.Addr().Unmap().Is4() {
			known = append(known, netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr())).Masked())
		}
	}
	// exclusions first: what the user took out is never refused
	for _, t := range o.Exclude {
		for _, f := range splitList(t) {
			rs, err := parseEntry(f, false)
			if err != nil {
				return nil, fmt.Errorf("exclude: %w", err)
			}
			s.excl = append(s.excl, rs...)
			s.exclSpecs = append(s.exclSpecs, f)
		}
	}
	s.excl = merge(s.excl)
	for _, t := range targets {
		for _, f := range splitList(t) {
			if p, err := parseCIDR(f); err == nil && p.Addr().Is4() {
				known = append(known, p)
			}
			rs, err := parseEntry(f, !o.AllowBroadcast)
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				for _, rest := range r.minus(s.excl) {
					if err := rest.refuse(f, o); err != nil {
						return nil, err
					}
				}
				if r.size().Cmp(big.NewInt(hardMaxScope)) > 0 {
					return nil, fmt.Errorf("scope %s has more than %d addresses even with --allow-large-scope", f, hardMaxScope)
				}
			}
			s.incl = append(s.incl, rs...)
			s.specs = append(s.specs, f)
		}
	}
	s.incl = merge(s.incl)
	if !o.AllowBroadcast {
		if err := s.refuseDirected(known); err != nil {
			return nil, err
		}
	}
	total := big.NewInt(0)
	for _, r := range s.incl {
		total.Add(total, r.size())
	}
	if total.Cmp(big.NewInt(hardMaxScope)) > 0 {
		return nil, fmt.Errorf("scope of %s addresses is more than %d even with --allow-large-scope", total, hardMaxScope)
	}
	if !o.AllowLarge && total.Cmp(big.NewInt(MaxScope)) > 0 {
		return nil, fmt.Errorf("scope of %s addresses is larger than a /16 (%d): pass --allow-large-scope to scan it", total, MaxScope)
	}
	s.n = len(s.Addrs())
	if s.n == 0 {
		return nil, errors.New("empty scope: no address to scan")
	}
	return s, nil
}

// splitList splits a comma- or space-separated list.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}

// refuse checks one range against the always-refused and the flagged risks.
func (r addrRange) refuse(spec string, o ScopeOptions) error {
	for _, a := range []netip.Addr{r.lo, r.hi} {
		if a.IsUnspecified() {
			return fmt.Errorf("%s: the unspecified address is never a target", spec)
		}
	}
	if r.lo.Is4() {
		if r.overlaps(netip.MustParsePrefix("224.0.0.0/4")) {
			return fmt.Errorf("%s: multicast addresses are never scanned", spec)
		}
		if r.contains(limitedBroadcast) && !o.AllowBroadcast {
			return fmt.Errorf("%s: 255.255.255.255 is broadcast: pass --allow-broadcast to send to it", spec)
		}
		if r.overlaps(netip.MustParsePrefix("240.0.0.0/4")) && !r.contains(limitedBroadcast) {
			return fmt.Errorf("%s: reserved addresses (240.0.0.0/4) are never scanned", spec)
		}
	} else if r.overlaps(netip.MustParsePrefix("ff00::/8")) {
		return fmt.Errorf("%s: multicast addresses are never scanned", spec)
	}
	if !o.AllowPublic && !r.private() && !(o.AllowBroadcast && r.lo == limitedBroadcast && r.hi == limitedBroadcast) {
		return fmt.Errorf("%s: public addresses (not private, shared, loopback, link-local or ULA): pass --allow-public to scan them", spec)
	}
	if !o.AllowLarge && r.size().Cmp(big.NewInt(MaxScope)) > 0 {
		return fmt.Errorf("%s: more than %d addresses (a /16): pass --allow-large-scope to scan it", spec, MaxScope)
	}
	return nil
}

// minus is what is left of r once the sorted, merged ranges excl are
// taken out.
func (r addrRange) minus(excl []addrRange) []addrRange {
	out := []addrRange{r}
	for _, x := range excl {
		if x.lo.BitLen() != r.lo.BitLen() {
			continue
		}
		last := out[len(out)-1]
		if x.hi.Less(last.lo) || last.hi.Less(x.lo) {
			continue
		}
		out = out[:len(out)-1]
		if last.lo.Less(x.lo) {
			out = append(out, addrRange{last.lo, x.lo.Prev()})
		}
		if x.hi.Less(last.hi) {
			out = append(out, addrRange{x.hi.Next(), last.hi})
		} else {
			break
		}
	}
	return out
}

// overlaps reports whether r shares an address with p.
func (r addrRange) overlaps(p netip.Prefix) bool {
	if p.Addr().BitLen() != r.lo.BitLen() {
		return false
	}
	pr := prefixRange(p)
	return r.lo.Compare(pr.hi) <= 0 && pr.lo.Compare(r.hi) <= 0
}

// prefixRange is the first and last address of p.
func prefixRange(p netip.Prefix) addrRange {
	p = p.Masked()
	lo := p.Addr()
	b := lo.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	hi, _ := netip.AddrFromSlice(b)
	return addrRange{lo, hi}
}

// parseEntry parses one address, range or CIDR. dropEdges removes the
// network and broadcast addresses of an IPv4 CIDR shorter than /31.
func parseEntry(f string, dropEdges bool) ([]addrRange, error) {
	if strings.Contains(f, "/") {
		p, err := parseCIDR(f)
		if err != nil {
			return nil, err
		}
		r := prefixRange(p)
		if dropEdges && p.Addr().Is4() && p.Bits() < 31 {
			r = addrRange{r.lo.Next(), r.hi.Prev()}
		}
		return []addrRange{r}, nil
	}
	if lo, hi, ok := strings.Cut(f, "-"); ok {
		a, err := parseAddr(lo)
		if err != nil {
			return nil, fmt.Errorf("bad range %q: %q is not an IPv4 or IPv6 address", f, lo)
		}
		var b netip.Addr
		if n, err := strconv.Atoi(hi); err == nil && a.Is4() {
			if n < 0 || n > 255 {
				return nil, fmt.Errorf("bad range %q: last octet %d", f, n)
			}
			o := a.As4()
			o[3] = byte(n)
			b = netip.AddrFrom4(o)
		} else if b, err = parseAddr(hi); err != nil {
			return nil, fmt.Errorf("bad range %q: %q is not an IPv4 or IPv6 address", f, hi)
		}
		if a.BitLen() != b.BitLen() {
			return nil, fmt.Errorf("bad range %q: mixes IPv4 and IPv6", f)
		}
		if b.Less(a) {
			return nil, fmt.Errorf("bad range %q: end before start", f)
		}
		return []addrRange{{a, b}}, nil
	}
	a, err := parseAddr(f)
	if err != nil {
		return nil, err
	}
	return []addrRange{{a, a}}, nil
}

// parseCIDR parses a CIDR entry, unmapping v4-mapped v6 prefixes.
func parseCIDR(f string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(f)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad CIDR %q: %v", f, err)
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad CIDR %q: zones are not supported", f)
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-unmapBits(p.Addr())).Masked(), nil
}

// refuseDirected refuses directed broadcasts in the scope: a packet to one
// is delivered to every host of a subnet (or refused by the kernel), which
// a safe-rate, one-device-at-a-time scan never means to do. known are the
// IPv4 subnets the scan knows of (CIDRs in the scope and ScopeOptions.
// Subnets): their network and broadcast addresses are refused when in
// scope, and an address ending in .0 or .255 is refused unless a known
// subnet of /23 or wider, or a /31 point-to-point link (RFC 3021),
// contains it (and so shows it to be a host).
func (s *Scope) refuseDirected(known []netip.Prefix) error {
	why := func(a netip.Addr, what string) error {
		return fmt.Errorf("%s is %s: pass --allow-broadcast to send to it, or --exclude it", a, what)
	}
	for _, p := range known {
		if p.Bits() >= 31 {
			continue
		}
		r := prefixRange(p)
		if s.Contains(r.lo) {
			return why(r.lo, "the network address of "+p.String()+" (a directed broadcast)")
		}
		if s.Contains(r.hi) {
			return why(r.hi, "the broadcast address of "+p.String())
		}
	}
	host := func(a netip.Addr) bool {
		for _, p := range known {
			if (p.Bits() <= 23 || p.Bits() == 31) && p.Contains(a) {
				return true
			}
		}
		return false
	}
	for _, r := range s.incl {
		if !r.lo.Is4() {
			continue
		}
		lo, hi := v4(r.lo), v4(r.hi)
		for block := uint64(lo &^ 0xff); block <= uint64(hi); block += 0x100 {
			for _, c := range [2]uint64{block, block + 0xff} {
				if c < uint64(lo) || c > uint64(hi) {
					continue
				}
				a := netip.AddrFrom4([4]byte{byte(c >> 24), byte(c >> 16), byte(c >> 8), byte(c)})
				if !s.excluded(a) && !host(a) {
					return why(a, "the ."+strconv.Itoa(int(c&0xff))+" of its /24, a directed broadcast unless its subnet is wider (give the subnet as a CIDR)")
				}
			}
		}
	}
	return nil
}

func v4(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func unmapBits(a netip.Addr) int {
	if a.Is4In6() {
		return 96
	}
	return 0
}

func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("bad address %q: not an IPv4 or IPv6 address, range or CIDR", s)
	}
	if a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("bad address %q: zones are not supported", s)
	}
	return a.Unmap(), nil
}

// merge sorts ranges and joins overlapping or adjacent ones.
func merge(rs []addrRange) []addrRange {
	slices.SortFunc(rs, func(a, b addrRange) int {
		if c := a.lo.BitLen() - b.lo.BitLen(); c != 0 {
			return c
		}
		return a.lo.Compare(b.lo)
	})
	var out []addrRange
	for _, r := range rs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.lo.BitLen() == r.lo.BitLen() && (r.lo.Compare(last.hi) <= 0 || (last.hi.Next().IsValid() && last.hi.Next() == r.lo)) {
				if last.hi.Less(r.hi) {
					last.hi = r.hi
				}
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// Contains reports whether a may be scanned.
func (s *Scope) Contains(a netip.Addr) bool {
	if s == nil {
		return false
	}
	a = a.Unmap()
	in := false
	for _, r := range s.incl {
		if r.contains(a) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	for _, r := range s.excl {
		if r.contains(a) {
			return false
		}
	}
	return true
}

// Addrs returns the addresses in scope, sorted, exclusions removed.
func (s *Scope) Addrs() []netip.Addr {
	var out []netip.Addr
	for _, r := range s.incl {
		for a := r.lo; a.IsValid() && a.Compare(r.hi) <= 0; a = a.Next() {
			if !s.excluded(a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func (s *Scope) excluded(a netip.Addr) bool {
	for _, r := range s.excl {
		if r.contains(a) {
			return true
		}
	}
	return false
}

// Len is the number of addresses in scope.
func (s *Scope) Len() int { return s.n }

// String describes the scope: what was given, what is excluded, the count.
func (s *Scope) String() string {
	str := strings.Join(s.specs, ",")
	if len(s.exclSpecs) > 0 {
		str += " except " + strings.Join(s.exclSpecs, ",")
	}
	noun := "addresses"
	if s.n == 1 {
		noun = "address"
	}
	return fmt.Sprintf("%s (%d %s)", str, s.n, noun)
}
