package model

// Identity fact fields: what a device says about itself, in any protocol.
// Each is also a top-level field of the asset (the best value, see
// Asset.Identity), while the facts keep every value with its provenance.
const (
	FieldProduct         = "product"          // product name: "1756-L61/B LOGIX5561", "CPU 315-2 PN/DP"
	FieldOrderNumber     = "order_number"     // order/catalog number (MLFB): "6ES7 315-2EH14-0AB0"
	FieldFirmware        = "firmware"         // firmware/software revision: "V3.2.7", "20.11"
	FieldHardwareVersion = "hardware_version" // hardware revision
	FieldSerial          = "serial"           // serial number as the device reports it
	FieldDeviceType      = "device_type"      // "Programmable Logic Controller", "Communications Adapter"
	FieldOperatingMode   = "operating_mode"   // "RUN", "STOP", "PROGRAM", "REMOTE RUN"
	FieldModule          = "module"           // one module of a rack: see ParseModule
	FieldStationName     = "station_name"     // PROFINET name of station, S7 AS name, IED name
)

// Protocol-specific identity fields. The ones with a public registry (CIP,
// BACnet and PROFINET vendor ids, SNMP enterprise numbers) also get a
// "vendor" fact with the registered name.
const (
	FieldCIPVendorID       = "cip.vendor_id"
	FieldCIPDeviceType     = "cip.device_type"
	FieldCIPProductCode    = "cip.product_code"
	FieldCIPStatus         = "cip.status"
	FieldCIPState          = "cip.state"
	FieldBACnetInstance    = "bacnet.instance"
	FieldBACnetVendorID    = "bacnet.vendor_id"
	FieldPNVendorID        = "profinet.vendor_id"
	FieldPNDeviceID        = "profinet.device_id"
	FieldPNRole            = "profinet.role"
	FieldModbusUnitID      = "modbus.unit_id"
	FieldModbusFunction    = "modbus.function"
	FieldDNP3Address       = "dnp3.address"
	FieldIEC104CommonAddr  = "iec104.common_address"
	FieldAMSNetID          = "ams.net_id"
	FieldOPCUAAppURI       = "opcua.application_uri"
	FieldOPCUAProductURI   = "opcua.product_uri"
	FieldOPCUAAppName      = "opcua.application_name"
	FieldOPCUAAppType      = "opcua.application_type"
	FieldOPCUAEndpointURL  = "opcua.endpoint_url"
	FieldOPCUASecurityMode = "opcua.security_mode"
	FieldOPCUASecPolicy    = "opcua.security_policy"
	FieldSNMPSysDescr      = "snmp.sys_descr"
	FieldSNMPSysObjectID   = "snmp.sys_object_id"
	FieldSNMPSysName       = "snmp.sys_name"
	FieldSNMPSysLocation   = "snmp.sys_location"
	FieldSNMPSysContact    = "snmp.sys_contact"
	FieldSNMPCommunity     = "snmp.community" // always masked: "***", or "*** (default)" for public/private
)

// Roles inferred from identity and behaviour (besides the network ones in
// fact.go).
const (
	RolePLC               = "plc"
	RoleIO                = "io device"
	RoleHMI               = "hmi"
	RoleEngineering       = "engineering workstation"
	RoleSCADA             = "scada server"
	RoleHistorian         = "historian"
	RoleRTU               = "rtu"
	RoleIED               = "ied"
	RoleBMS               = "bms controller"
	RoleIndustrialGateway = "protocol gateway"
	RoleOPCServer         = "opc ua server"
	RoleNetworkMonitoring = "monitoring"
	RoleWindowsHost       = "windows host"
	RolePrinter           = "printer"
	RoleCamera            = "camera"
)

// Module is one module of a modular device (a rack slot), as the device or
// its communication adapter reports it.
type Module struct {
	Rack        int    `json:"rack"`
	Slot        int    `json:"slot"`
	Product     string `json:"product,omitempty"`
	OrderNumber string `json:"order_number,omitempty"`
	Firmware    string `json:"firmware,omitempty"`
	Serial      string `json:"serial,omitempty"`
}

// FormatModule encodes a module as a fact value:
// "rack=0;slot=2;product=CPU 315-2 PN/DP;order=6ES7 315-2EH14-0AB0;fw=V3.2.7;serial=S C-B1U393142011".
// Empty parts are left out; ';' and '=' inside values become ','.
func FormatModule(m Module) string {
	clean := func(s string) string {
		b := []byte(s)
		for i, c := range b {
			if c == ';' || c == '=' {
				b[i] = ','
			}
		}
		return string(b)
	}
	out := "rack=" + itoa(m.Rack) + ";slot=" + itoa(m.Slot)
	for _, kv := range [][2]string{{"product", m.Product}, {"order", m.OrderNumber}, {"fw", m.Firmware}, {"serial", m.Serial}} {
		if kv[1] != "" {
			out += ";" + kv[0] + "=" + clean(kv[1])
		}
	}
	return out
}

// ParseModule decodes FormatModule's output; ok is false for other text.
func ParseModule(s string) (m Module, ok bool) {
	seen := false
	for len(s) > 0 {
		part := s
		if i := indexByte(s, ';'); i >= 0 {
			part, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		k, v, found := cut(part, '=')
		if !found {
			return Module{}, false
		}
		switch k {
		case "rack", "slot":
			n := 0
			for _, c := range v {
				if c < '0' || c > '9' || n > 1<<20 {
					return Module{}, false
				}
				n = n*10 + int(c-'0')
			}
			if k == "rack" {
				m.Rack = n
			} else {
				m.Slot, seen = n, true
			}
		case "product":
			m.Product = v
		case "order":
			m.OrderNumber = v
		case "fw":
			m.Firmware = v
		case "serial":
			m.Serial = v
		}
	}
	return m, seen
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func cut(s string, c byte) (string, string, bool) {
	if i := indexByte(s, c); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}
