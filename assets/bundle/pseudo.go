package bundle

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"otscope/model"
)

// KeySize is the length of a pseudonymization key.
const KeySize = 32

// ErrKey is returned for a pseudonymization key of the wrong length.
var ErrKey = fmt.Errorf("the pseudonymization key must be %d bytes", KeySize)

// nameFields are the fact fields whose values name a device, a site or a
// person; Pseudonymize replaces them (and every occurrence of them in other
// text) like asset names.
var nameFields = map[string]bool{
	model.FieldHostname: true, model.FieldDNSName: true, model.FieldDomain: true, model.FieldNetBIOSName: true,
	model.FieldNetBIOSGroup: true, model.FieldLLDPSysName: true, model.FieldCDPDeviceID: true,
	model.FieldStationName: true, model.FieldSNMPSysName: true, model.FieldSNMPSysLocation: true,
	model.FieldSNMPSysContact: true, model.FieldOPCUAAppName: true, model.FieldDHCPClientID: true,
}

// versionKeys are JSON keys (and fact fields) whose values are versions,
// never addresses, even when they look like an IPv4 address ("2.1.0.3").
var versionKeys = map[string]bool{"firmware": true, "hardware_version": true, "version": true, "fw": true}

// pseudonymizer maps addresses and names consistently under one key.
type pseudonymizer struct {
	key   []byte
	ips   map[netip.Addr]netip.Addr
	used  map[netip.Addr]bool
	macs  map[model.MAC]model.MAC
	usedM map[model.MAC]bool
	names map[string]string
	// byLen are the names of names, longest first, for free text.
	byLen []string
}

// Pseudonymize replaces, everywhere in s (assets, facts, conversations,
// statistics and journals, keys and free text included), every unicast IP
// address, every unicast MAC address and every device name by a pseudonym
// derived from key with HMAC-SHA-256: the same key maps the same value to
// the same pseudonym in every session, so two pseudonymized bundles can
// still be merged and compared; without the key the mapping cannot be
// reversed. IPv4 addresses map into 10.0.0.0/8, IPv6 into fd00::/8, MACs
// keep their OUI (the vendor) and get new low bytes, names become
// "name-<8 hex>". Multicast, broadcast, loopback and unspecified addresses
// are kept. Site and sensor names are replaced too. The key stays with the
// caller; it is never written to the bundle.
func Pseudonymize(s *Session, key []byte) error {
	if len(key) != KeySize {
		return ErrKey
	}
	p := &pseudonymizer{
		key: key, ips: map[netip.Addr]netip.Addr{}, used: map[netip.Addr]bool{},
		macs: map[model.MAC]model.MAC{}, usedM: map[model.MAC]bool{}, names: map[string]string{},
	}
	// Names first, longest first, so that text is rewritten predictably.
	var names []string
	for i := range s.Assets {
		a := &s.Assets[i]
		names = append(names, a.Names...)
		for _, f := range a.Facts {
			if nameFields[f.Field] {
				names = append(names, f.Value)
			}
		}
		if a.ProtocolIDs != nil && a.ProtocolIDs.ProfinetStationName != "" {
			names = append(names, a.ProtocolIDs.ProfinetStationName)
		}
	}
	for _, n := range []string{s.Site, s.Sensor} {
		if n != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, n := range names {
		if len(strings.TrimSpace(n)) >= 3 && !isAddr(n) {
			p.names[n] = "name-" + hex.EncodeToString(p.mac("name", []byte(n))[:4])
			p.byLen = append(p.byLen, n)
		}
	}
	slices.SortStableFunc(p.byLen, func(x, y string) int { return len(y) - len(x) })
	if s.Site != "" {
		s.Site = p.text(s.Site, "")
	}
	if s.Sensor != "" {
		s.Sensor = p.text(s.Sensor, "")
	}
	for i := range s.Assets {
		if err := p.rewrite(&s.Assets[i]); err != nil {
			return fmt.Errorf("pseudonymize asset %d: %w", i, err)
		}
		a := &s.Assets[i]
		slices.SortFunc(a.MACs, func(x, y model.MAC) int { return bytes.Compare(x[:], y[:]) })
		slices.SortFunc(a.IPs, func(x, y netip.Addr) int { return x.Compare(y) })
		slices.Sort(a.Names)
	}
	for i := range s.Conversations {
		if err := p.rewrite(&s.Conversations[i]); err != nil {
			return fmt.Errorf("pseudonymize conversation %d: %w", i, err)
		}
	}
	for i := range s.Stats {
		if err := p.rewrite(&s.Stats[i]); err != nil {
			return fmt.Errorf("pseudonymize statistics %d: %w", i, err)
		}
	}
	for j := range s.Journals {
		for i, r := range s.Journals[j].Records {
			var v any
			d := json.NewDecoder(bytes.NewReader(r))
			d.UseNumber()
			if err := d.Decode(&v); err != nil {
				return fmt.Errorf("pseudonymize %s record %d: %w", s.Journals[j].Name, i+1, err)
			}
			b, err := json.Marshal(p.walk(v, ""))
			if err != nil {
				return err
			}
			s.Journals[j].Records[i] = b
		}
	}
	s.Normalize()
	return nil
}

// rewrite passes v through JSON, rewriting every string in it.
func (p *pseudonymizer) rewrite(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var g any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&g); err != nil {
		return err
	}
	if b, err = json.Marshal(p.walk(g, "")); err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// walk rewrites the strings of a decoded JSON value; key is the object key
// the value is under.
func (p *pseudonymizer) walk(v any, key string) any {
	switch x := v.(type) {
	case string:
		return p.text(x, key)
	case []any:
		for i := range x {
			x[i] = p.walk(x[i], key)
		}
		return x
	case map[string]any:
		// A fact {"field": "firmware", "value": "2.1.0.3"}: the value is a version.
		valueKey := "value"
		if f, ok := x["field"].(string); ok && versionKeys[f] {
			valueKey = "firmware"
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			ek := k
			if k == "value" {
				ek = valueKey
			}
			out[p.text(k, "")] = p.walk(e, ek)
		}
		return out
	}
	return v
}

// text rewrites one string: a whole address, asset ID or name, else each
// address or name inside it.
func (p *pseudonymizer) text(s, key string) string {
	if versionKeys[key] || s == "" {
		return s
	}
	if n, ok := p.names[s]; ok {
		return n
	}
	if r, ok := p.token(s); ok {
		return r
	}
	for _, prefix := range []string{"mac:", "ip:", "sub:"} {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			router, sub, _ := strings.Cut(rest, "|")
			out := prefix + p.text(router, "")
			if sub != "" {
				out += "|" + sub
			}
			return out
		}
	}
	// Free text: replace names, then address-shaped tokens.
	for _, n := range p.byLen {
		if strings.Contains(s, n) {
			s = strings.ReplaceAll(s, n, p.names[n])
		}
	}
	var b strings.Builder
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		tok := s[start:end]
		if r, ok := p.token(tok); ok {
			b.WriteString(r)
		} else {
			b.WriteString(tok)
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '.' || c == ':' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteByte(c)
	}
	flush(len(s))
	return b.String()
}

// token maps s when it is exactly an IP address or a MAC address.
func (p *pseudonymizer) token(s string) (string, bool) {
	if len(s) < 3 {
		return "", false
	}
	if ip, err := netip.ParseAddr(strings.Trim(s, ".:")); err == nil && strings.Trim(s, ".:") == s {
		return p.ip(ip).String(), true
	}
	if (len(s) == 17 && (s[2] == ':' || s[2] == '-')) || (len(s) == 14 && s[4] == '.') {
		if m, err := model.ParseMAC(s); err == nil {
			return p.macAddr(m).String(), true
		}
	}
	return "", false
}

// isAddr reports whether s is an IP or MAC address (mapped as one, not as
// a name).
func isAddr(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := model.ParseMAC(s)
	return err == nil
}

// mac returns HMAC-SHA-256(key, domain || 0 || data).
func (p *pseudonymizer) mac(domain string, data []byte) []byte {
	h := hmac.New(sha256.New, p.key)
	h.Write([]byte(domain))
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

func keepIP(a netip.Addr) bool {
	return !a.IsValid() || a.IsMulticast() || a.IsLoopback() || a.IsUnspecified() ||
		a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) || a.IsInterfaceLocalMulticast()
}

func (p *pseudonymizer) ip(a netip.Addr) netip.Addr {
	if keepIP(a) {
		return a
	}
	if r, ok := p.ips[a]; ok {
		return r
	}
	raw, _ := a.MarshalBinary()
	var r netip.Addr
	for ctr := uint32(0); ; ctr++ {
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], ctr)
		d := p.mac("ip", append(append([]byte{}, raw...), c[:]...))
		if a.Is4() {
			r = netip.AddrFrom4([4]byte{10, d[0], d[1], d[2]})
		} else {
			var b [16]byte
			b[0] = 0xfd
			copy(b[1:], d[:15])
			r = netip.AddrFrom16(b)
		}
		if !p.used[r] && !keepIP(r) {
			break
		}
	}
	p.ips[a], p.used[r] = r, true
	return r
}

func (p *pseudonymizer) macAddr(m model.MAC) model.MAC {
	if !m.IsUnicast() {
		return m
	}
	if r, ok := p.macs[m]; ok {
		return r
	}
	var r model.MAC
	for ctr := byte(0); ; ctr++ {
		d := p.mac("mac", append(m[:], ctr))
		r = model.MAC{m[0], m[1], m[2], d[0], d[1], d[2]}
		if !p.usedM[r] || ctr == 255 {
			break
		}
	}
	p.macs[m], p.usedM[r] = r, true
	return r
}

// NewKey returns a fresh random pseudonymization key from rand.
func NewKey(rand interface{ Read([]byte) (int, error) }) ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

// ParseKey decodes a key file: KeySize bytes as hex (64 hex digits, spaces
// and a line end allowed).
func ParseKey(b []byte) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, errors.Join(ErrKey, err)
	}
	if len(k) != KeySize {
		return nil, ErrKey
	}
	return k, nil
}
