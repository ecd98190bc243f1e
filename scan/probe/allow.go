package probe

import (
	"fmt"
	"slices"
)

// Kind names one kind of request the scanner may send.
type Kind string

// The allow-list: every request kind the scanner may put on the wire. Each
// is read-only: it asks a device who it is and changes nothing. Anything
// else (Modbus writes and diagnostics, S7 write/start/stop/download, CIP
// Set/Reset, BACnet WriteProperty/ReinitializeDevice/DeviceCommunication-
// Control, SNMP SET, IEC 104 commands or interrogation, DNP3 beyond link
// status) is refused at the choke point, whatever a probe claims.
const (
	KindTCPConnect Kind = "tcp.connect"
	KindTCPClose   Kind = "tcp.close"

	KindARPRequest  Kind = "arp.request"
	KindDCPIdentify Kind = "dcp.identify"

	KindModbusReadDeviceID   Kind = "modbus.read_device_id"   // FC 43 / MEI 14
	KindModbusReportServerID Kind = "modbus.report_server_id" // FC 17

	KindS7Connect    Kind = "s7.cotp_connect"        // COTP CR
	KindS7Setup      Kind = "s7.setup_communication" // S7 job 0xF0
	KindS7SZLRead    Kind = "s7.szl_read"            // userdata, CPU functions, read SZL
	KindS7Disconnect Kind = "s7.cotp_disconnect"     // COTP DR

	KindENIPListIdentity      Kind = "enip.list_identity"
	KindENIPListServices      Kind = "enip.list_services"
	KindENIPRegisterSession   Kind = "enip.register_session"
	KindENIPUnregisterSession Kind = "enip.unregister_session"
	KindCIPGetAttributeAll    Kind = "cip.get_attribute_all" // Identity object (class 1) only

	KindBACnetWhoIs        Kind = "bacnet.who_is"
	KindBACnetReadProperty Kind = "bacnet.read_property" // Device object only

	KindSNMPGet Kind = "snmp.get" // v1/v2c GetRequest / GetNextRequest of the system group

	KindOPCUAHello              Kind = "opcua.hello"
	KindOPCUAOpenSecureChannel  Kind = "opcua.open_secure_channel" // security policy None
	KindOPCUAFindServers        Kind = "opcua.find_servers"
	KindOPCUAGetEndpoints       Kind = "opcua.get_endpoints"
	KindOPCUACloseSecureChannel Kind = "opcua.close_secure_channel"

	KindHTTPHead Kind = "http.head"
	KindHTTPGet  Kind = "http.get" // GET / only

	KindDNP3LinkStatus Kind = "dnp3.request_link_status"
	KindIEC104TestFR   Kind = "iec104.testfr_act"
)

// Allowed is the allow-list, sorted.
var Allowed = func() []Kind {
	k := []Kind{
		KindTCPConnect, KindTCPClose, KindARPRequest, KindDCPIdentify,
		KindModbusReadDeviceID, KindModbusReportServerID,
		KindS7Connect, KindS7Setup, KindS7SZLRead, KindS7Disconnect,
		KindENIPListIdentity, KindENIPListServices, KindENIPRegisterSession, KindENIPUnregisterSession, KindCIPGetAttributeAll,
		KindBACnetWhoIs, KindBACnetReadProperty,
		KindSNMPGet,
		KindOPCUAHello, KindOPCUAOpenSecureChannel, KindOPCUAFindServers, KindOPCUAGetEndpoints, KindOPCUACloseSecureChannel,
		KindHTTPHead, KindHTTPGet,
		KindDNP3LinkStatus, KindIEC104TestFR,
	}
	slices.Sort(k)
	return k
}()

// IsAllowed reports whether k is on the allow-list.
func IsAllowed(k Kind) bool {
	_, ok := slices.BinarySearch(Allowed, k)
	return ok
}

// A dissector reads a request payload the way the device will and says
// which kind of request it is. It must be strict: any byte that could make
// the request something else (another function code, another object, a
// write flag) is an error. It never trusts what the probe claims.
type dissector func(payload []byte) (Kind, error)

// dissectors by protocol family (a probe's Name, or "arp"/"dcp" for L2).
var dissectors = map[string]dissector{}

// registerDissector adds the dissector for a protocol family. Call from init.
func registerDissector(family string, d dissector) {
	if _, dup := dissectors[family]; dup {
		panic("probe: two dissectors for " + family)
	}
	dissectors[family] = d
}

// ErrNotAllowed is returned by Check for a request outside the allow-list.
type ErrNotAllowed struct {
	Family string
	Claim  Kind
	Found  Kind
	Reason string
}

func (e *ErrNotAllowed) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("refused %s request (claimed %s): %s", e.Family, e.Claim, e.Reason)
	}
	return fmt.Sprintf("refused %s request: claimed %s, payload is %s", e.Family, e.Claim, e.Found)
}

// Check dissects payload as a request of family and returns nil only when
// it is exactly of kind claim and claim is on the allow-list. The choke
// point calls it for every payload before it is sent.
func Check(family string, claim Kind, payload []byte) error {
	if !IsAllowed(claim) {
		return &ErrNotAllowed{Family: family, Claim: claim, Reason: "kind not on the allow-list"}
	}
	d, ok := dissectors[family]
	if !ok {
		return &ErrNotAllowed{Family: family, Claim: claim, Reason: "no dissector for this protocol"}
	}
	found, err := d(payload)
	if err != nil {
		return &ErrNotAllowed{Family: family, Claim: claim, Reason: err.Error()}
	}
	if found != claim || !IsAllowed(found) {
		return &ErrNotAllowed{Family: family, Claim: claim, Found: found}
	}
	return nil
}
