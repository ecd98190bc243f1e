package decode

// service describes a well-known port: the application protocol name
// otscope reports for it.
type portKey struct {
	udp  bool
	port uint16
}

// wellKnown maps a transport port to its protocol name. Industrial ports
// first; IT ports after. Names follow Wireshark's short names where one exists.
var wellKnown = map[portKey]string{
	// industrial
	{false, 102}:   "iso-tsap",
	{false, 502}:   "modbus",
	{false, 802}:   "modbus-tls",
	{false, 2404}:  "iec104",
	{false, 20000}: "dnp3",
	{true, 20000}:  "dnp3",
	{false, 44818}: "enip",
	{true, 44818}:  "enip",
	{true, 2222}:   "enip-io",
	{false, 4840}:  "opcua",
	{false, 4843}:  "opcua-tls",
	{true, 47808}:  "bacnet",
	{true, 34964}:  "pn-cm",
	{true, 34962}:  "pn-rt",
	{true, 34963}:  "pn-rt",
	{true, 9600}:   "omron-fins",
	{false, 9600}:  "omron-fins",
	{false, 48898}: "ads",
	{true, 48899}:  "ads-discovery",
	{false, 5094}:  "hart-ip",
	{true, 5094}:   "hart-ip",
	{false, 4712}:  "c37.118",
	{true, 4713}:   "c37.118",
	{false, 1089}:  "ff-annunc",
	{false, 1090}:  "ff-fms",
	{false, 1091}:  "ff-sm",
	{false, 18245}: "ge-srtp",
	{false, 5007}:  "melsec",
	{true, 5006}:   "melsec",
	{false, 2455}:  "codesys",
	{false, 1217}:  "codesys",
	{false, 11740}: "codesys",
	{false, 1911}:  "niagara-fox",
	{false, 4911}:  "niagara-fox-tls",
	{false, 789}:   "crimson",
	{false, 1962}:  "pcworx",
	{false, 5450}:  "pi-historian",
	{false, 1883}:  "mqtt",
	{false, 8883}:  "mqtt-tls",
	{false, 5671}:  "amqp-tls",
	{false, 5672}:  "amqp",
	{true, 319}:    "ptp",
	{true, 320}:    "ptp",
	// IT
	{false, 20}:   "ftp-data",
	{false, 21}:   "ftp",
	{false, 22}:   "ssh",
	{false, 23}:   "telnet",
	{false, 25}:   "smtp",
	{true, 53}:    "dns",
	{false, 53}:   "dns",
	{true, 67}:    "dhcp",
	{true, 68}:    "dhcp",
	{true, 69}:    "tftp",
	{false, 80}:   "http",
	{false, 88}:   "kerberos",
	{true, 88}:    "kerberos",
	{false, 110}:  "pop3",
	{true, 123}:   "ntp",
	{false, 135}:  "msrpc",
	{true, 137}:   "nbns",
	{true, 138}:   "netbios-dgm",
	{false, 139}:  "netbios-ssn",
	{false, 143}:  "imap",
	{true, 161}:   "snmp",
	{true, 162}:   "snmp-trap",
	{false, 389}:  "ldap",
	{true, 389}:   "ldap",
	{false, 443}:  "https",
	{false, 445}:  "smb",
	{true, 500}:   "isakmp",
	{true, 514}:   "syslog",
	{false, 515}:  "lpd",
	{false, 554}:  "rtsp",
	{false, 587}:  "smtp",
	{false, 631}:  "ipp",
	{false, 636}:  "ldaps",
	{false, 993}:  "imaps",
	{false, 1433}: "mssql",
	{true, 1434}:  "mssql-browser",
	{false, 1521}: "oracle",
	{true, 1900}:  "ssdp",
	{false, 3268}: "ldap-gc",
	{false, 3306}: "mysql",
	{false, 3389}: "rdp",
	{true, 3702}:  "ws-discovery",
	{true, 5353}:  "mdns",
	{true, 5355}:  "llmnr",
	{false, 5432}: "postgresql",
	{false, 5900}: "vnc",
	{false, 5985}: "winrm",
	{false, 5986}: "winrm-tls",
	{false, 8080}: "http",
	{false, 8443}: "https",
	{false, 9100}: "jetdirect",
	{true, 9100}:  "jetdirect",
}

// portProtocol returns the protocol name for a port, or "".
func portProtocol(udp bool, port uint16) string {
	return wellKnown[portKey{udp, port}]
}

// serverSide decides which end of a flow is the server from the ports alone.
// It returns 0 when the first port is the server, 1 for the second, -1 when
// the ports do not tell.
func serverSide(udp bool, p0, p1 uint16) int {
	k0 := portProtocol(udp, p0) != ""
	k1 := portProtocol(udp, p1) != ""
	switch {
	case k0 && !k1:
		return 0
	case k1 && !k0:
		return 1
	case k0 && k1:
		// both well known (e.g. 137<->137, 47808<->47808, or 102 from a
		// client port that happens to be known): the lower port serves.
		if p0 < p1 {
			return 0
		}
		if p1 < p0 {
			return 1
		}
		return -1
	}
	// neither known: a privileged port serves an ephemeral one.
	if p0 < 1024 && p1 >= 1024 {
		return 0
	}
	if p1 < 1024 && p0 >= 1024 {
		return 1
	}
	return -1
}
