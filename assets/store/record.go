package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"

	"otscope/model"
)

// Assets and conversations, most of what a session holds, are stored in a
// compact binary layout (recordVersion) rather than JSON: a read of a
// 10,000-asset plant writes every asset and conversation once, and their
// JSON, with its field names and empty fields, was 16 MB that Badger copied
// into its log, its memtable and a table. The layout is a fixed sequence of
// fields in the order of the model's types, in the primitives of binary.go;
// slices carry their length plus one (0 for nil, as JSON keeps null apart
// from []), and strings that repeat within a record (a fact's origin, a
// protocol) are written once and referred to after (sym). Values written as JSON (valueVersion) are still read, so
// sessions written before stay readable. TestRecordRoundTrip fills every
// field of both types and fails when one is not carried; FuzzRecordDecode
// feeds it hostile bytes.

// recordVersion is the first byte of a binary asset or conversation.
const recordVersion = 2

// errRecord is returned for a binary record that is truncated, has bytes
// left over or holds a value out of range.
var errRecord = errors.New("malformed record")

// recWriter appends one record. syms holds the strings written by sym so
// far, which later ones refer to.
type recWriter struct {
	b    []byte
	syms []string
}

func (w *recWriter) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *recWriter) str(s string)     { w.b = appendString(w.b, s) }

// sym writes a string that tends to repeat within a record: uvarint 2i+1
// refers to the i-th string sym wrote; uvarint 2n is a new string of n
// bytes that follow.
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
	w.uvarint(uint64(len(s)) << 1)
	w.b = append(w.b, s...)
}

// list writes a slice's length: 0 for nil, n+1 otherwise.
func (w *recWriter) list(n int, isNil bool) {
	if isNil {
		w.uvarint(0)
	} else {
		w.uvarint(uint64(n) + 1)
	}
}

func (w *recWriter) strs(ss []string) {
	w.list(len(ss), ss == nil)
	for _, s := range ss {
		w.str(s)
	}
}

// appendAsset appends a's record to b.
func appendAsset(b []byte, a *model.Asset) []byte {
	w := recWriter{b: append(b, recordVersion)}
	w.str(string(a.ID))
	w.list(len(a.MACs), a.MACs == nil)
	for _, m := range a.MACs {
		w.b = append(w.b, m[:]...)
	}
	w.list(len(a.IPs), a.IPs == nil)
	for _, ip := range a.IPs {
		w.b = appendAddr(w.b, ip)
	}
	w.list(len(a.VLANs), a.VLANs == nil)
	for _, v := range a.VLANs {
		w.uvarint(uint64(v))
	}
	w.str(a.Vendor)
	w.strs(a.Names)
	w.strs(a.Roles)
	w.list(len(a.Services), a.Services == nil)
	for i := range a.Services {
		s := &a.Services[i]
		w.sym(s.Transport)
		w.uvarint(uint64(s.Port))
		w.sym(s.Protocol)
		w.b = appendAddr(w.b, s.IP)
		w.b = appendTime(w.b, s.FirstSeen)
		w.b = appendTime(w.b, s.LastSeen)
	}
	w.strs(a.Protocols)
	w.b = appendTime(w.b, a.FirstSeen)
	w.b = appendTime(w.b, a.LastSeen)
	w.uvarint(a.Packets)
	w.uvarint(a.Bytes)
	w.b = appendBool(w.b, a.Gateway)
	for _, s := range [...]string{a.Product, a.OrderNumber, a.Firmware, a.HardwareVersion, a.Serial, a.DeviceType, a.OperatingMode} {
		w.str(s)
	}
	w.list(len(a.Modules), a.Modules == nil)
	for _, m := range a.Modules {
		w.b = binary.AppendVarint(w.b, int64(m.Rack))
		w.b = binary.AppendVarint(w.b, int64(m.Slot))
		w.str(m.Product)
		w.str(m.OrderNumber)
		w.str(m.Firmware)
		w.str(m.Serial)
	}
	w.b = appendBool(w.b, a.ProtocolIDs != nil)
	if p := a.ProtocolIDs; p != nil {
		for _, s := range [...]string{p.CIPVendorID, p.CIPProductCode, p.BACnetInstance, p.BACnetVendorID,
			p.ProfinetStationName, p.ProfinetVendorID, p.ProfinetDeviceID, p.AMSNetID, p.OPCUAApplicationURI, p.SNMPSysObjectID} {
			w.str(s)
		}
		w.strs(p.ModbusUnitIDs)
		w.strs(p.DNP3Addresses)
		w.strs(p.IEC104CommonAddresses)
	}
	w.list(len(a.Facts), a.Facts == nil)
	for i := range a.Facts {
		f := &a.Facts[i]
		w.sym(f.Field)
		w.str(f.Value)
		w.str(f.Detail)
		w.b = append(w.b, byte(f.Source.Kind))
		w.sym(f.Source.Protocol)
		w.sym(f.Source.Origin)
		w.uvarint(f.Source.Frame)
		w.b = appendTime(w.b, f.Source.Time)
		w.b = appendAddr(w.b, f.Source.IP)
		w.b = appendTime(w.b, f.LastSeen)
		w.uvarint(f.Count)
	}
	return w.b
}

// appendConversation appends c's record to b.
func appendConversation(b []byte, c *model.Conversation) []byte {
	b = append(b, recordVersion)
	b = appendString(b, string(c.Client))
	b = appendString(b, string(c.Server))
	b = appendAddr(b, c.ClientIP)
	b = appendAddr(b, c.ServerIP)
	b = append(b, c.ClientMAC[:]...)
	b = append(b, c.ServerMAC[:]...)
	b = appendString(b, c.Transport)
	b = binary.AppendUvarint(b, uint64(c.Port))
	b = appendString(b, c.Protocol)
	return appendTraffic(b, c.Packets, c.Bytes, c.Flows, c.FirstSeen, c.LastSeen)
}

// sym reads a string written by recWriter.sym.
func (r *reader) sym() string {
	h := r.uvarint()
	if h&1 != 0 {
		if i := h >> 1; i < uint64(len(r.syms)) {
			return r.syms[i]
		}
		r.fail()
		return ""
	}
	n := int(r.max(h>>1, uint64(r.left())))
	s := r.s[r.i : r.i+n]
	r.i += n
	if s != "" {
		r.syms = append(r.syms, s)
	}
	return s
}

// list reads a slice length written by recWriter.list: -1 for nil. Every
// element takes at least size bytes (see count).
func (r *reader) list(size int) int {
	n := r.uvarint()
	if n == 0 {
		return -1
	}
	return int(r.max(n-1, uint64(r.left()/size)))
}

// makeList returns a slice for a list length (nil for -1).
func makeList[T any](n int) []T {
	if n < 0 {
		return nil
	}
	return make([]T, n)
}

func (r *reader) strs() []string {
	ss := makeList[string](r.list(1))
	for i := range ss {
		ss[i] = r.string()
	}
	return ss
}

// readRecord reads an asset or conversation record with read (readValue).
func readRecord(b []byte, read func(*reader)) error {
	if err := readValue(b, recordVersion, errRecord, read); err != nil {
		return fmt.Errorf("decode value: %w", err)
	}
	return nil
}

// decodeAsset reads an asset record written by appendAsset.
func decodeAsset(b []byte, a *model.Asset) error {
	*a = model.Asset{}
	return readRecord(b, func(r *reader) {
		a.ID = model.AssetID(r.string())
		a.MACs = makeList[model.MAC](r.list(6))
		for i := range a.MACs {
			a.MACs[i] = r.mac()
		}
		a.IPs = makeList[netip.Addr](r.list(1))
		for i := range a.IPs {
			a.IPs[i] = r.addr()
		}
		a.VLANs = makeList[uint16](r.list(1))
		for i := range a.VLANs {
			a.VLANs[i] = uint16(r.max(r.uvarint(), math.MaxUint16))
		}
		a.Vendor = r.string()
		a.Names = r.strs()
		a.Roles = r.strs()
		a.Services = makeList[model.Service](r.list(6))
		for i := range a.Services {
			s := &a.Services[i]
			s.Transport = r.sym()
			s.Port = uint16(r.max(r.uvarint(), math.MaxUint16))
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
			*p = r.string()
		}
		a.Modules = makeList[model.Module](r.list(6))
		for i := range a.Modules {
			m := &a.Modules[i]
			m.Rack = int(r.varint())
			m.Slot = int(r.varint())
			m.Product = r.string()
			m.OrderNumber = r.string()
			m.Firmware = r.string()
			m.Serial = r.string()
		}
		if r.bool() {
			p := new(model.ProtocolIDs)
			for _, s := range [...]*string{&p.CIPVendorID, &p.CIPProductCode, &p.BACnetInstance, &p.BACnetVendorID,
				&p.ProfinetStationName, &p.ProfinetVendorID, &p.ProfinetDeviceID, &p.AMSNetID, &p.OPCUAApplicationURI, &p.SNMPSysObjectID} {
				*s = r.string()
			}
			p.ModbusUnitIDs = r.strs()
			p.DNP3Addresses = r.strs()
			p.IEC104CommonAddresses = r.strs()
			a.ProtocolIDs = p
		}
		a.Facts = makeList[model.Fact](r.list(11))
		for i := range a.Facts {
			f := &a.Facts[i]
			f.Field = r.sym()
			f.Value = r.string()
			f.Detail = r.string()
			f.Source.Kind = model.SourceKind(r.byte())
			f.Source.Protocol = r.sym()
			f.Source.Origin = r.sym()
			f.Source.Frame = r.uvarint()
			f.Source.Time = r.time()
			f.Source.IP = r.addr()
			f.LastSeen = r.time()
			f.Count = r.uvarint()
		}
	})
}

// decodeConversation reads a conversation record written by
// appendConversation.
func decodeConversation(b []byte, c *model.Conversation) error {
	*c = model.Conversation{}
	return readRecord(b, func(r *reader) {
		c.Client = model.AssetID(r.string())
		c.Server = model.AssetID(r.string())
		c.ClientIP = r.addr()
		c.ServerIP = r.addr()
		c.ClientMAC = r.mac()
		c.ServerMAC = r.mac()
		c.Transport = r.string()
		c.Port = uint16(r.max(r.uvarint(), math.MaxUint16))
		c.Protocol = r.string()
		r.traffic(&c.Packets, &c.Bytes, &c.Flows, &c.FirstSeen, &c.LastSeen)
	})
}
