package model

import (
	"net/netip"
	"slices"
	"strings"
	"time"
)

// AssetID names an asset inside a session. Assets on the local segment are
// keyed by MAC ("mac:00:1b:1b:01:02:03"); hosts seen only through a router
// are keyed by IP ("ip:10.20.0.7"); BACnet devices behind a router, PROFINET
// stations without a MAC and similar cases get their own prefixes in later
// protocols. IDs are stable: the same traffic gives the same IDs.
type AssetID string

// MACAssetID returns the ID of the asset identified by m.
func MACAssetID(m MAC) AssetID { return AssetID("mac:" + m.String()) }

// SubAssetID returns the ID of a device behind a protocol router: the
// router's address (IP, else MAC) and the device's address on its own
// network, e.g. "sub:192.168.0.18|bacnet-net4:86".
func SubAssetID(ep Endpoint) AssetID {
	return AssetID("sub:" + endpointKey(ep.IP, ep.MAC) + "|" + ep.Sub)
}

// IPAssetID returns the ID of a routed host identified by its address.
func IPAssetID(a netip.Addr) AssetID { return AssetID("ip:" + a.String()) }

// Asset is one device of the plant as otscope knows it: addresses, the facts
// that identify it (each with provenance), the services it offers and when it
// was seen. The list fields are sorted and de-duplicated.
type Asset struct {
	ID        AssetID      `json:"id"`
	MACs      []MAC        `json:"macs"`
	IPs       []netip.Addr `json:"ips"`
	VLANs     []uint16     `json:"vlans"`
	Vendor    string       `json:"vendor"`
	Names     []string     `json:"names"`
	Roles     []string     `json:"roles"`
	Services  []Service    `json:"services"`
	Protocols []string     `json:"protocols"`
	FirstSeen time.Time    `json:"first_seen"`
	LastSeen  time.Time    `json:"last_seen"`
	// Packets and Bytes count the frames this asset sent.
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	// Gateway is set for a MAC that sends traffic for many IP addresses: a
	// router or firewall. Hosts behind it are separate assets keyed by IP.
	Gateway bool `json:"gateway,omitempty"`

	// Identity: the best value of each identity fact (what the device said
	// about itself; see the facts for every value and its provenance).
	Product         string   `json:"product"`
	OrderNumber     string   `json:"order_number"`
	Firmware        string   `json:"firmware"`
	HardwareVersion string   `json:"hardware_version"`
	Serial          string   `json:"serial"`
	DeviceType      string   `json:"device_type"`
	OperatingMode   string   `json:"operating_mode"`
	Modules         []Module `json:"modules"`

	// Protocol-specific ids, present when the device revealed them (nil
	// otherwise, which keeps assets of IT hosts small). Inlined in JSON.
	*ProtocolIDs

	Facts []Fact `json:"facts"`
}

// ProtocolIDs are the identifiers industrial protocols give a device.
type ProtocolIDs struct {
	CIPVendorID           string   `json:"cip_vendor_id,omitempty"`
	CIPProductCode        string   `json:"cip_product_code,omitempty"`
	BACnetInstance        string   `json:"bacnet_instance,omitempty"`
	BACnetVendorID        string   `json:"bacnet_vendor_id,omitempty"`
	ProfinetStationName   string   `json:"profinet_station_name,omitempty"`
	ProfinetVendorID      string   `json:"profinet_vendor_id,omitempty"`
	ProfinetDeviceID      string   `json:"profinet_device_id,omitempty"`
	ModbusUnitIDs         []string `json:"modbus_unit_ids,omitempty"`
	DNP3Addresses         []string `json:"dnp3_addresses,omitempty"`
	IEC104CommonAddresses []string `json:"iec104_common_addresses,omitempty"`
	AMSNetID              string   `json:"ams_net_id,omitempty"`
	OPCUAApplicationURI   string   `json:"opcua_application_uri,omitempty"`
	SNMPSysObjectID       string   `json:"snmp_sys_object_id,omitempty"`
}

// Clone returns a deep copy that shares nothing with a.
func (a *Asset) Clone() Asset {
	c := *a
	c.MACs = slices.Clone(a.MACs)
	c.IPs = slices.Clone(a.IPs)
	c.VLANs = slices.Clone(a.VLANs)
	c.Names = slices.Clone(a.Names)
	c.Roles = slices.Clone(a.Roles)
	c.Services = slices.Clone(a.Services)
	c.Protocols = slices.Clone(a.Protocols)
	c.Facts = slices.Clone(a.Facts)
	c.Modules = slices.Clone(a.Modules)
	if a.ProtocolIDs != nil {
		ids := *a.ProtocolIDs
		ids.ModbusUnitIDs = slices.Clone(ids.ModbusUnitIDs)
		ids.DNP3Addresses = slices.Clone(ids.DNP3Addresses)
		ids.IEC104CommonAddresses = slices.Clone(ids.IEC104CommonAddresses)
		c.ProtocolIDs = &ids
	}
	return c
}

// FactValues returns the distinct values recorded for field, most often seen first.
func (a *Asset) FactValues(field string) []string {
	var out []string
	for _, f := range a.Facts {
		if f.Field == field && !slices.Contains(out, f.Value) {
			out = append(out, f.Value)
		}
	}
	return out
}

// Fact returns the first value recorded for field, or "".
func (a *Asset) Fact(field string) string {
	for _, f := range a.Facts {
		if f.Field == field {
			return f.Value
		}
	}
	return ""
}

// Conflicts returns the identity fields for which the device's own
// statements disagree: two values that cannot both be true (another order
// number, serial or firmware) among the facts heard from the device or its
// protocols. Derived values (an OUI lookup), fields protocols legitimately
// name differently (product names, vendor names, OS strings, station names)
// and the same version at another precision ("V2.9" and "V2.9.4") are not
// conflicts.
func (a *Asset) Conflicts() []string {
	var out []string
	for i := range a.Facts {
		f := &a.Facts[i]
		if f.Source.Kind == Derived || !singleValued(f.Field) || slices.Contains(out, f.Field) {
			continue
		}
		for j := i + 1; j < len(a.Facts); j++ {
			g := &a.Facts[j]
			if g.Field == f.Field && g.Source.Kind != Derived && !sameValue(f.Field, f.Value, g.Value) {
				out = append(out, f.Field)
				break
			}
		}
	}
	return out
}

// singleValued reports the identity fields a device has exactly one value of
// at a time, whatever protocol reports them.
func singleValued(field string) bool {
	switch field {
	case FieldOrderNumber, FieldFirmware, FieldHardwareVersion, FieldSerial, FieldCIPVendorID,
		FieldCIPProductCode, FieldBACnetInstance, FieldBACnetVendorID, FieldPNVendorID, FieldPNDeviceID,
		FieldAMSNetID, FieldSNMPSysObjectID:
		return true
	}
	return false
}

// sameValue compares two statements of a field: case-insensitively, and for
// versions also when one is the other at a coarser precision.
func sameValue(field, x, y string) bool {
	if strings.EqualFold(x, y) {
		return true
	}
	if field != FieldFirmware && field != FieldHardwareVersion {
		return false
	}
	x = strings.TrimPrefix(strings.ToLower(x), "v")
	y = strings.TrimPrefix(strings.ToLower(y), "v")
	if len(x) > len(y) {
		x, y = y, x
	}
	return strings.HasPrefix(y, x) && (len(y) == len(x) || y[len(x)] == '.')
}

// Label is the best short human name for the asset: a name, else an IP, else a MAC.
func (a *Asset) Label() string {
	if len(a.Names) > 0 {
		return a.Names[0]
	}
	if len(a.IPs) > 0 {
		return a.IPs[0].String()
	}
	if len(a.MACs) > 0 {
		return a.MACs[0].String()
	}
	return string(a.ID)
}

// Matches reports whether every word of the filter query appears
// (case-insensitively) in the asset's ID, addresses, vendor, names, roles,
// protocols or fact values.
func (a *Asset) Matches(query string) bool {
	words := strings.Fields(strings.ToLower(query))
	if len(words) == 0 {
		return true
	}
	return MatchesText(strings.ToLower(a.SearchText()), words)
}

// MatchesText reports whether every (lower-case) word occurs in hay, the
// lower-cased SearchText of an asset. Callers that filter many assets on
// every keystroke cache hay and split the query once.
func MatchesText(hay string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// SearchText is the text a filter query is matched against: ID, addresses,
// vendor, names, roles, protocols and fact values, space-separated.
func (a *Asset) SearchText() string {
	var b strings.Builder
	b.WriteString(string(a.ID))
	for _, m := range a.MACs {
		b.WriteByte(' ')
		b.WriteString(m.String())
	}
	for _, ip := range a.IPs {
		b.WriteByte(' ')
		b.WriteString(ip.String())
	}
	b.WriteByte(' ')
	b.WriteString(a.Vendor)
	for _, lst := range [][]string{a.Names, a.Roles, a.Protocols} {
		for _, s := range lst {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	for _, f := range a.Facts {
		b.WriteByte(' ')
		b.WriteString(f.Value)
	}
	return b.String()
}

// Service is something an asset answers on: the server side of a flow.
type Service struct {
	// Transport is "tcp", "udp" or "l2" (layer-2 announcers such as LLDP).
	Transport string `json:"transport"`
	Port      uint16 `json:"port"`
	// Protocol is the application protocol ("modbus", "s7comm", "http", ...),
	// or the transport when it is unknown.
	Protocol  string     `json:"protocol"`
	IP        netip.Addr `json:"ip,omitzero"`
	FirstSeen time.Time  `json:"first_seen"`
	LastSeen  time.Time  `json:"last_seen"`
}

// Key identifies a service on an asset.
func (s Service) Key() string {
	return s.Transport + "/" + s.IP.String() + ":" + itoa(int(s.Port))
}

// Compare orders services the way an asset lists them: by transport, port,
// then address.
func (s Service) Compare(o Service) int {
	if c := strings.Compare(s.Transport, o.Transport); c != 0 {
		return c
	}
	if s.Port != o.Port {
		return int(s.Port) - int(o.Port)
	}
	return s.IP.Compare(o.IP)
}

func itoa(v int) string {
	if v == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := v < 0
	if neg {
		v = -v
	}
	for v > 0 {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
