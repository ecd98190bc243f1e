package model

import (
	"net/netip"
	"time"
)

// SourceKind says how a fact was learnt.
type SourceKind uint8

// The ways otscope learns a fact.
const (
	Passive SourceKind = iota + 1 // heard on the wire
	Active                        // answer to one of our probes
	Manual                        // typed in by a person (walkdown)
	Derived                       // computed from other facts (OUI lookup, role inference)
)

var sourceKindNames = [...]string{"", "passive", "active", "manual", "derived"}

// String returns "passive", "active", "manual" or "derived".
func (k SourceKind) String() string {
	if int(k) < len(sourceKindNames) {
		return sourceKindNames[k]
	}
	return "unknown"
}

// MarshalText implements encoding.TextMarshaler.
func (k SourceKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *SourceKind) UnmarshalText(b []byte) error {
	for i, n := range sourceKindNames {
		if i > 0 && n == string(b) {
			*k = SourceKind(i)
			return nil
		}
	}
	*k = 0
	return nil
}

// Source is the provenance of a fact: which protocol in which frame of which
// capture (file or interface) said it, and when.
type Source struct {
	Kind     SourceKind `json:"kind"`
	Protocol string     `json:"protocol"`
	// Origin is the capture file path, "iface:eth0", "demo" or a probe name.
	Origin string `json:"origin"`
	// Frame is the 1-based frame number in Origin (0 when not from a frame).
	Frame uint64    `json:"frame,omitempty"`
	Time  time.Time `json:"time"`
	// IP is the address the value was observed for, when it was observed at
	// the IP layer (so a fact can follow its host if a MAC turns out to be a
	// router's).
	IP netip.Addr `json:"ip,omitzero"`
}

// Fact is one attribute value with its provenance. The same field may hold
// several facts with different values: conflicts are kept, not overwritten.
type Fact struct {
	Field string `json:"field"`
	Value string `json:"value"`
	// Detail explains the value where it needs it (e.g. why a role was inferred).
	Detail   string    `json:"detail,omitempty"`
	Source   Source    `json:"source"`
	LastSeen time.Time `json:"last_seen"`
	// Count is how many times this value was observed.
	Count uint64 `json:"count"`
}

// Fact field names. Protocol-specific fields are "<protocol>.<name>".
const (
	FieldVendor           = "vendor"
	FieldHostname         = "hostname"
	FieldDNSName          = "dns_name"
	FieldDomain           = "domain"
	FieldOS               = "os"
	FieldRole             = "role"
	FieldDHCPVendorClass  = "dhcp.vendor_class"
	FieldDHCPParamList    = "dhcp.parameter_list"
	FieldDHCPClientID     = "dhcp.client_id"
	FieldLLDPChassisID    = "lldp.chassis_id"
	FieldLLDPPortID       = "lldp.port_id"
	FieldLLDPPortDesc     = "lldp.port_description"
	FieldLLDPSysName      = "lldp.system_name"
	FieldLLDPSysDesc      = "lldp.system_description"
	FieldLLDPCapabilities = "lldp.capabilities"
	FieldLLDPMgmtAddress  = "lldp.management_address"
	FieldCDPDeviceID      = "cdp.device_id"
	FieldCDPPlatform      = "cdp.platform"
	FieldCDPSoftware      = "cdp.software_version"
	FieldCDPPortID        = "cdp.port_id"
	FieldCDPNativeVLAN    = "cdp.native_vlan"
	FieldCDPCapabilities  = "cdp.capabilities"
	FieldCDPMgmtAddress   = "cdp.management_address"
	FieldNetBIOSName      = "netbios.name"
	FieldNetBIOSGroup     = "netbios.group"
)

// Role names.
const (
	RoleSwitch  = "network switch"
	RoleRouter  = "router"
	RoleGateway = "gateway"
	RoleDHCP    = "dhcp server"
	RoleDNS     = "dns server"
	RoleITHost  = "it host"
)
