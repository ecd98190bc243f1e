package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"time"

	"otscope/model"
)

// Assets and conversations, most of what a session holds, are stored in a
// compact binary layout (recordVersion) rather than JSON: a read of a
// 10,000-asset plant writes every asset and conversation once, and their
// JSON, with its field names and empty fields, was 16 MB that Badger copied
// into its log, its memtable and a table. The layout is a fixed sequence of
// fields in the order of the model's types: varints for numbers and
// lengths, raw bytes for MAC and IP addresses, and strings that repeat
// within a record (a fact's origin, a protocol) written once and referred
// to after. Values written as JSON (valueVersion) are still read, so
// sessions written before stay readable. TestRecordRoundTrip fills every
// field of both types and fails when one is not carried; FuzzRecordDecode
// feeds it hostile bytes.

// recordVersion is the first byte of a binary asset or conversation.
const recordVersion = 2

// errRecord is returned for a binary record that is truncated, has bytes
// left over or holds a value out of range.
var errRecord = errors.New("malformed record")

// recWriter appends one record. syms holds the strings written so far
// that may be referred to again.
type recWriter struct {
	b    []byte
	syms []string
}

func (w *recWriter) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *recWriter) varint(v int64)   { w.b = binary.AppendVarint(w.b, v) }

func (w *recWriter) bool(v bool) {
	if v {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
}

// str writes s: uvarint 2n then n bytes.
func (w *recWriter) str(s string) {
	w.uvarint(uint64(len(s)) << 1)
	w.b = append(w.b, s...)
}

// sym writes a string that tends to repeat within a record: a reference
// (uvarint 2i+1) to the i-th such string already written, else as str.
func (w *recWriter) sym(s string) {
	if s != "" {
		for i, x := range w.syms {
			if x == s {
				w.uvarint(uint64(i)<<1 | 1)
				return
			}
		}
		w.syms = append(w.syms, s)
	}
	w.str(s)
}

// count writes a slice's length: 0 for nil, n+1 otherwise.
func (w *recWriter) count(n int, isNil bool) {
	if isNil {
		w.uvarint(0)
	} else {
		w.uvarint(uint64(n) + 1)
	}
}

func (w *recWriter) strs(ss []string) {
	w.count(len(ss), ss == nil)
	for _, s := range ss {
		w.str(s)
	}
}

func (w *recWriter) addr(a netip.Addr) {
	w.b = append(w.b, 0)
	at := len(w.b)
	w.b, _ = a.AppendBinary(w.b) // never fails
	w.b[at-1] = byte(len(w.b) - at)
}

func (w *recWriter) mac(m model.MAC) { w.b = append(w.b, m[:]...) }

// Times keep their instant and their offset from UTC, as JSON does: a
// time at offset 0 reads back in UTC, one at another offset in Local when
// Local has that offset then, else in a fixed zone.
const (
	timeZero = iota
	timeUTC
	timeOffset
)

func (w *recWriter) time(t time.Time) {
	if t.IsZero() {
		w.b = append(w.b, timeZero)
		return
	}
	_, off := t.Zone()
	if off == 0 {
		w.b = append(w.b, timeUTC)
	} else {
		w.b = append(w.b, timeOffset)
		w.varint(int64(off))
	}
	w.varint(t.Unix())
	w.uvarint(uint64(t.Nanosecond()))
}

// appendAsset appends a's record to b.
func appendAsset(b []byte, a *model.Asset) []byte {
	w := recWriter{b: append(b, recordVersion)}
	w.str(string(a.ID))
	w.count(len(a.MACs), a.MACs == nil)
	for _, m := range a.MACs {
		w.mac(m)
	}
	w.count(len(a.IPs), a.IPs == nil)
	for _, ip := range a.IPs {
		w.addr(ip)
	}
	w.count(len(a.VLANs), a.VLANs == nil)
	for _, v := range a.VLANs {
		w.uvarint(uint64(v))
	}
	w.str(a.Vendor)
	w.strs(a.Names)
	w.strs(a.Roles)
	w.count(len(a.Services), a.Services == nil)
	for i := range a.Services {
		s := &a.Services[i]
		w.sym(s.Transport)
		w.uvarint(uint64(s.Port))
		w.sym(s.Protocol)
		w.addr(s.IP)
		w.time(s.FirstSeen)
		w.time(s.LastSeen)
	}
	w.strs(a.Protocols)
	w.time(a.FirstSeen)
	w.time(a.LastSeen)
	w.uvarint(a.Packets)
	w.uvarint(a.Bytes)
	w.bool(a.Gateway)
	for _, s := range [...]string{a.Product, a.OrderNumber, a.Firmware, a.HardwareVersion, a.Serial, a.DeviceType, a.OperatingMode} {
		w.str(s)
	}
	w.count(len(a.Modules), a.Modules == nil)
	for _, m := range a.Modules {
		w.varint(int64(m.Rack))
		w.varint(int64(m.Slot))
		w.str(m.Product)
		w.str(m.OrderNumber)
		w.str(m.Firmware)
		w.str(m.Serial)
	}
	w.bool(a.ProtocolIDs != nil)
	if p := a.ProtocolIDs; p != nil {
		for _, s := range [...]string{p.CIPVendorID, p.CIPProductCode, p.BACnetInstance, p.BACnetVendorID,
			p.ProfinetStationName, p.ProfinetVendorID, p.ProfinetDeviceID, p.AMSNetID, p.OPCUAApplicationURI, p.SNMPSysObjectID} {
			w.str(s)
		}
		w.strs(p.ModbusUnitIDs)
		w.strs(p.DNP3Addresses)
		w.strs(p.IEC104CommonAddresses)
	}
	w.count(len(a.Facts), a.Facts == nil)
	for i := range a.Facts {
		f := &a.Facts[i]
		w.sym(f.Field)
		w.str(f.Value)
		w.str(f.Detail)
		w.b = append(w.b, byte(f.Source.Kind))
		w.sym(f.Source.Protocol)
		w.sym(f.Source.Origin)
		w.uvarint(f.Source.Frame)
		w.time(f.Source.Time)
		w.addr(f.Source.IP)
		w.time(f.LastSeen)
		w.uvarint(f.Count)
	}
	return w.b
}

// appendConversation appends c's record to b.
func appendConversation(b []byte, c *model.Conversation) []byte {
	w := recWriter{b: append(b, recordVersion)}
	w.str(string(c.Client))
	w.str(string(c.Server))
	w.addr(c.ClientIP)
	w.addr(c.ServerIP)
	w.mac(c.ClientMAC)
	w.mac(c.ServerMAC)
	w.str(c.Transport)
	w.uvarint(uint64(c.Port))
	w.str(c.Protocol)
	w.uvarint(c.Packets)
	w.uvarint(c.Bytes)
	w.uvarint(c.Flows)
	w.time(c.FirstSeen)
	w.time(c.LastSeen)
	return w.b
}

// recReader reads one record. Strings are cut from s, one copy of the
// record, so a decoded asset's strings share one allocation. After the
// first error every read returns a zero value and err stays set.
type recReader struct {
	s    string
	i    int
	syms []string
	err  error
}

func (r *recReader) fail() {
	if r.err == nil {
		r.err = errRecord
	}
	r.i = len(r.s)
}

func (r *recReader) uvarint() uint64 {
	var x uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if r.i >= len(r.s) {
			break
		}
		b := r.s[r.i]
		r.i++
		if b < 0x80 {
			if shift == 63 && b > 1 {
				break // overflows 64 bits
			}
			return x | uint64(b)<<shift
		}
		x |= uint64(b&0x7f) << shift
	}
	r.fail()
	return 0
}

func (r *recReader) varint() int64 {
	ux := r.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

func (r *recReader) byte() byte {
	if r.i >= len(r.s) {
		r.fail()
		return 0
	}
	r.i++
	return r.s[r.i-1]
}

func (r *recReader) bool() bool {
	switch r.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	r.fail()
	return false
}

// bounded reads a number no larger than max.
func (r *recReader) bounded(max uint64) uint64 {
	v := r.uvarint()
	if v > max {
		r.fail()
		return 0
	}
	return v
}

func (r *recReader) str() string {
	h := r.uvarint()
	if h&1 != 0 {
		if i := h >> 1; i < uint64(len(r.syms)) {
			return r.syms[i]
		}
		r.fail()
		return ""
	}
	n := h >> 1
	if n > uint64(len(r.s)-r.i) {
		r.fail()
		return ""
	}
	s := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	return s
}

// sym reads a string written by recWriter.sym.
func (r *recReader) sym() string {
	at := r.i
	s := r.str()
	if s != "" && r.err == nil && r.s[at]&1 == 0 {
		r.syms = append(r.syms, s)
	}
	return s
}

// count reads a slice length written by recWriter.count: -1 for nil. Every
// element takes at least min bytes, which bounds what a hostile length
// can make the reader allocate.
func (r *recReader) count(min int) int {
	n := r.uvarint()
	if n == 0 {
		return -1
	}
	n--
	if n > uint64(len(r.s)-r.i)/uint64(min) {
		r.fail()
		return -1
	}
	return int(n)
}

// slice returns a slice for count n (nil for -1).
func slice[T any](n int) []T {
	if n < 0 {
		return nil
	}
	return make([]T, n)
}

func (r *recReader) strs() []string {
	ss := slice[string](r.count(1))
	for i := range ss {
		ss[i] = r.str()
	}
	return ss
}

func (r *recReader) addr() netip.Addr {
	n := int(r.byte())
	if n > len(r.s)-r.i {
		r.fail()
		return netip.Addr{}
	}
	b := r.s[r.i : r.i+n]
	r.i += n
	switch n {
	case 0:
		return netip.Addr{}
	case 4:
		var a4 [4]byte
		copy(a4[:], b)
		return netip.AddrFrom4(a4)
	case 16:
		var a16 [16]byte
		copy(a16[:], b)
		return netip.AddrFrom16(a16)
	}
	var a netip.Addr // an IPv6 address with a zone
	if a.UnmarshalBinary([]byte(b)) != nil {
		r.fail()
	}
	return a
}

func (r *recReader) mac() model.MAC {
	var m model.MAC
	if len(r.s)-r.i < len(m) {
		r.fail()
		return m
	}
	r.i += copy(m[:], r.s[r.i:])
	return m
}

func (r *recReader) time() time.Time {
	var off int64
	switch r.byte() {
	case timeZero:
		return time.Time{}
	case timeUTC:
	case timeOffset:
		if off = r.varint(); off <= -24*3600 || off >= 24*3600 || off == 0 {
			r.fail()
		}
	default:
		r.fail()
	}
	sec := r.varint()
	nsec := r.bounded(999_999_999)
	if r.err != nil {
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if off == 0 {
		return t.UTC()
	}
	if _, lo := t.Zone(); int64(lo) == off {
		return t // time.Unix gives Local
	}
	return t.In(time.FixedZone("", int(off)))
}

// end fails unless the whole record was read.
func (r *recReader) end() error {
	if r.err == nil && r.i != len(r.s) {
		r.err = errRecord
	}
	if r.err != nil {
		return fmt.Errorf("decode value: %w", r.err)
	}
	return nil
}

func newRecReader(b []byte) *recReader {
	if len(b) == 0 || b[0] != recordVersion {
		return &recReader{err: errValueVersion}
	}
	return &recReader{s: string(b[1:])}
}

// decodeAsset reads an asset record written by appendAsset.
func decodeAsset(b []byte, a *model.Asset) error {
	r := newRecReader(b)
	*a = model.Asset{ID: model.AssetID(r.str())}
	a.MACs = slice[model.MAC](r.count(6))
	for i := range a.MACs {
		a.MACs[i] = r.mac()
	}
	a.IPs = slice[netip.Addr](r.count(1))
	for i := range a.IPs {
		a.IPs[i] = r.addr()
	}
	a.VLANs = slice[uint16](r.count(1))
	for i := range a.VLANs {
		a.VLANs[i] = uint16(r.bounded(math.MaxUint16))
	}
	a.Vendor = r.str()
	a.Names = r.strs()
	a.Roles = r.strs()
	a.Services = slice[model.Service](r.count(6))
	for i := range a.Services {
		s := &a.Services[i]
		s.Transport = r.sym()
		s.Port = uint16(r.bounded(math.MaxUint16))
		s.Protocol = r.sym()
		s.IP = r.addr()
		s.FirstSeen = r.time()
		s.LastSeen = r.time()
	}
	a.Protocols = r.strs()
	a.FirstSeen = r.time()
	a.LastSeen = r.time()
	a.Packets = r.uvarint()
	a.Bytes = r.uvarint()
	a.Gateway = r.bool()
	for _, p := range [...]*string{&a.Product, &a.OrderNumber, &a.Firmware, &a.HardwareVersion, &a.Serial, &a.DeviceType, &a.OperatingMode} {
		*p = r.str()
	}
	a.Modules = slice[model.Module](r.count(6))
	for i := range a.Modules {
		m := &a.Modules[i]
		m.Rack = int(r.varint())
		m.Slot = int(r.varint())
		m.Product = r.str()
		m.OrderNumber = r.str()
		m.Firmware = r.str()
		m.Serial = r.str()
	}
	if r.bool() {
		p := new(model.ProtocolIDs)
		for _, s := range [...]*string{&p.CIPVendorID, &p.CIPProductCode, &p.BACnetInstance, &p.BACnetVendorID,
			&p.ProfinetStationName, &p.ProfinetVendorID, &p.ProfinetDeviceID, &p.AMSNetID, &p.OPCUAApplicationURI, &p.SNMPSysObjectID} {
			*s = r.str()
		}
		p.ModbusUnitIDs = r.strs()
		p.DNP3Addresses = r.strs()
		p.IEC104CommonAddresses = r.strs()
		a.ProtocolIDs = p
	}
	a.Facts = slice[model.Fact](r.count(11))
	for i := range a.Facts {
		f := &a.Facts[i]
		f.Field = r.sym()
		f.Value = r.str()
		f.Detail = r.str()
		f.Source.Kind = model.SourceKind(r.byte())
		f.Source.Protocol = r.sym()
		f.Source.Origin = r.sym()
		f.Source.Frame = r.uvarint()
		f.Source.Time = r.time()
		f.Source.IP = r.addr()
		f.LastSeen = r.time()
		f.Count = r.uvarint()
	}
	return r.end()
}

// decodeConversation reads a conversation record written by
// appendConversation.
func decodeConversation(b []byte, c *model.Conversation) error {
	r := newRecReader(b)
	*c = model.Conversation{Client: model.AssetID(r.str()), Server: model.AssetID(r.str())}
	c.ClientIP = r.addr()
	c.ServerIP = r.addr()
	c.ClientMAC = r.mac()
	c.ServerMAC = r.mac()
	c.Transport = r.str()
	c.Port = uint16(r.bounded(math.MaxUint16))
	c.Protocol = r.str()
	c.Packets = r.uvarint()
	c.Bytes = r.uvarint()
	c.Flows = r.uvarint()
	c.FirstSeen = r.time()
	c.LastSeen = r.time()
	return r.end()
}
