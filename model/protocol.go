package model

import "strings"

// ProtocolClass says what speaking a protocol tells about a device.
type ProtocolClass uint8

const (
	// ClassUnknown is a name the registry does not hold.
	ClassUnknown ProtocolClass = iota
	// ClassIndustrial protocols control or supervise a process: only OT
	// devices and the hosts that run them speak them.
	ClassIndustrial
	// ClassIT protocols are office and IT services, remote access and
	// management: a PLC may serve one, but it says nothing OT.
	ClassIT
	// ClassNetwork protocols are what nearly every host speaks to stay on
	// the network (addressing, discovery, time, topology) and bare
	// transports: chatter that says nothing about what a device is.
	ClassNetwork
)

func (c ProtocolClass) String() string {
	switch c {
	case ClassIndustrial:
		return "industrial"
	case ClassIT:
		return "it"
	case ClassNetwork:
		return "network"
	}
	return "unknown"
}

// Protocol is one name a protocol goes by in otscope's observations
// (conversations, services, host protocols, "<name>.function" facts).
type Protocol struct {
	Name  string
	Class ProtocolClass
	// Family folds the names one protocol goes by: "enip", "enip-io" and
	// "cip" are family "cip", "iso-tsap" and "s7comm-plus" family
	// "s7comm", "omron-fins" and the "fins.function" facts family "fins".
	Family string
}

// protocols is the registry, industrial protocols first, most telling
// first: the order a narrow column lists an asset's protocols in.
var protocols = []Protocol{
	// industrial
	{"s7comm-plus", ClassIndustrial, "s7comm"},
	{"s7comm", ClassIndustrial, "s7comm"},
	{"iso-tsap", ClassIndustrial, "s7comm"},
	{"cotp", ClassIndustrial, "s7comm"},
	{"modbus", ClassIndustrial, "modbus"},
	{"modbus-tls", ClassIndustrial, "modbus"},
	{"enip", ClassIndustrial, "cip"},
	{"enip-io", ClassIndustrial, "cip"},
	{"cip", ClassIndustrial, "cip"},
	{"cip-io", ClassIndustrial, "cip"},
	{"opcua", ClassIndustrial, "opcua"},
	{"opcua-tls", ClassIndustrial, "opcua"},
	{"opc-ua", ClassIndustrial, "opcua"},
	{"bacnet", ClassIndustrial, "bacnet"},
	{"dnp3", ClassIndustrial, "dnp3"},
	{"iec104", ClassIndustrial, "iec104"},
	{"iec61850", ClassIndustrial, "mms"},
	{"mms", ClassIndustrial, "mms"},
	{"goose", ClassIndustrial, "goose"},
	{"sv", ClassIndustrial, "sv"},
	{"profinet", ClassIndustrial, "profinet"},
	{"pn", ClassIndustrial, "profinet"},
	{"pn-cm", ClassIndustrial, "profinet"},
	{"pn-rt", ClassIndustrial, "profinet"},
	{"pn-dcp", ClassIndustrial, "profinet"},
	{"profinet-rt", ClassIndustrial, "profinet"},
	{"profinet-dcp", ClassIndustrial, "profinet"},
	{"c37.118", ClassIndustrial, "c37118"},
	{"c37118", ClassIndustrial, "c37118"},
	{"hart-ip", ClassIndustrial, "hart"},
	{"hart", ClassIndustrial, "hart"},
	{"ads", ClassIndustrial, "ads"},
	{"ads-discovery", ClassIndustrial, "ads"},
	{"omron-fins", ClassIndustrial, "fins"},
	{"fins", ClassIndustrial, "fins"},
	{"melsec", ClassIndustrial, "melsec"},
	{"ge-srtp", ClassIndustrial, "ge-srtp"},
	{"codesys", ClassIndustrial, "codesys"},
	{"pcworx", ClassIndustrial, "pcworx"},
	{"niagara-fox", ClassIndustrial, "niagara-fox"},
	{"niagara-fox-tls", ClassIndustrial, "niagara-fox"},
	{"ethercat", ClassIndustrial, "ethercat"},
	{"powerlink", ClassIndustrial, "powerlink"},
	{"ff-annunc", ClassIndustrial, "ff"},
	{"ff-fms", ClassIndustrial, "ff"},
	{"ff-sm", ClassIndustrial, "ff"},
	{"crimson", ClassIndustrial, "crimson"},
	{"pi-historian", ClassIndustrial, "pi-historian"},

	// IT
	{"http", ClassIT, "http"},
	{"https", ClassIT, "http"},
	{"tls", ClassIT, "tls"},
	{"quic", ClassIT, "quic"},
	{"ssh", ClassIT, "ssh"},
	{"telnet", ClassIT, "telnet"},
	{"ftp", ClassIT, "ftp"},
	{"ftp-data", ClassIT, "ftp"},
	{"tftp", ClassIT, "tftp"},
	{"smb", ClassIT, "smb"},
	{"netbios-ssn", ClassIT, "smb"},
	{"ntlmssp", ClassIT, "smb"},
	{"msrpc", ClassIT, "msrpc"},
	{"dcerpc", ClassIT, "msrpc"},
	{"rdp", ClassIT, "rdp"},
	{"vnc", ClassIT, "vnc"},
	{"ldap", ClassIT, "ldap"},
	{"ldaps", ClassIT, "ldap"},
	{"ldap-gc", ClassIT, "ldap"},
	{"kerberos", ClassIT, "kerberos"},
	{"syslog", ClassIT, "syslog"},
	{"snmp", ClassIT, "snmp"},
	{"snmp-trap", ClassIT, "snmp"},
	{"smtp", ClassIT, "smtp"},
	{"imap", ClassIT, "imap"},
	{"imaps", ClassIT, "imap"},
	{"pop3", ClassIT, "pop3"},
	{"rtsp", ClassIT, "rtsp"},
	{"rtp", ClassIT, "rtp"},
	{"sip", ClassIT, "sip"},
	{"winrm", ClassIT, "winrm"},
	{"winrm-tls", ClassIT, "winrm"},
	{"nfs", ClassIT, "nfs"},
	{"mssql", ClassIT, "mssql"},
	{"mssql-browser", ClassIT, "mssql"},
	{"mysql", ClassIT, "mysql"},
	{"postgresql", ClassIT, "postgresql"},
	{"oracle", ClassIT, "oracle"},
	{"isakmp", ClassIT, "isakmp"},
	{"lpd", ClassIT, "printing"},
	{"ipp", ClassIT, "printing"},
	{"jetdirect", ClassIT, "printing"},
	// messaging brokers carry process data on some plants, but they are
	// generic IT middleware: they do not make a device OT
	{"mqtt", ClassIT, "mqtt"},
	{"mqtt-tls", ClassIT, "mqtt"},
	{"amqp", ClassIT, "amqp"},
	{"amqp-tls", ClassIT, "amqp"},

	// network
	{"arp", ClassNetwork, "arp"},
	{"icmp", ClassNetwork, "icmp"},
	{"icmpv6", ClassNetwork, "icmp"},
	{"igmp", ClassNetwork, "igmp"},
	{"ip", ClassNetwork, "ip"},
	{"ipv4", ClassNetwork, "ip"},
	{"ipv6", ClassNetwork, "ip"},
	{"tcp", ClassNetwork, "tcp"},
	{"udp", ClassNetwork, "udp"},
	{"ethernet", ClassNetwork, "ethernet"},
	{"llc", ClassNetwork, "ethernet"},
	{"stp", ClassNetwork, "stp"},
	{"rstp", ClassNetwork, "stp"},
	{"mrp", ClassNetwork, "mrp"},
	{"lacp", ClassNetwork, "lacp"},
	{"lldp", ClassNetwork, "lldp"},
	{"cdp", ClassNetwork, "cdp"},
	{"dns", ClassNetwork, "dns"},
	{"mdns", ClassNetwork, "dns"},
	{"llmnr", ClassNetwork, "dns"},
	{"nbns", ClassNetwork, "netbios"},
	{"netbios-ns", ClassNetwork, "netbios"},
	{"netbios-dgm", ClassNetwork, "netbios"},
	{"browser", ClassNetwork, "netbios"},
	{"dhcp", ClassNetwork, "dhcp"},
	{"dhcpv6", ClassNetwork, "dhcp"},
	{"ntp", ClassNetwork, "ntp"},
	{"ptp", ClassNetwork, "ptp"},
	{"ssdp", ClassNetwork, "ssdp"},
	{"ws-discovery", ClassNetwork, "ws-discovery"},
}

// protocolIndex maps a name to its position in protocols.
var protocolIndex = func() map[string]int {
	m := make(map[string]int, len(protocols))
	for i, p := range protocols {
		if _, dup := m[p.Name]; dup {
			panic("model: protocol " + p.Name + " registered twice")
		}
		m[p.Name] = i
	}
	return m
}()

// protocolPos returns the registry position of name (any case), or -1.
func protocolPos(name string) int {
	if i, ok := protocolIndex[name]; ok {
		return i
	}
	if i, ok := protocolIndex[strings.ToLower(name)]; ok {
		return i
	}
	return -1
}

// LookupProtocol returns the registry entry for name (any case).
func LookupProtocol(name string) (Protocol, bool) {
	if i := protocolPos(name); i >= 0 {
		return protocols[i], true
	}
	return Protocol{}, false
}

// Protocols returns the registry in its order: industrial protocols first,
// most telling first, then IT, then network.
func Protocols() []Protocol { return append([]Protocol(nil), protocols...) }

// ClassOf returns the class of a protocol name; ClassUnknown when the
// registry does not hold it.
func ClassOf(name string) ProtocolClass {
	if i := protocolPos(name); i >= 0 {
		return protocols[i].Class
	}
	return ClassUnknown
}

// IsIndustrial reports whether speaking name says a device is OT. The one
// definition for roles, panes and policy: an unknown name is not.
func IsIndustrial(name string) bool { return ClassOf(name) == ClassIndustrial }

// ProtocolRank orders protocol names for display: the registry position,
// so industrial names come first, most telling first; unknown names get
// len(registry).
func ProtocolRank(name string) int {
	if i := protocolPos(name); i >= 0 {
		return i
	}
	return len(protocols)
}

// ProtocolFamily returns the family of name; an unknown name is its own
// family, in lower case.
func ProtocolFamily(name string) string {
	if i := protocolPos(name); i >= 0 {
		return protocols[i].Family
	}
	return strings.ToLower(name)
}
