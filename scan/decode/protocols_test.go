package decode

import (
	"strings"
	"testing"

	"otscope/model"
)

// TestProtocolsRegistered checks every protocol name the decoders put in
// observations (port names, layer-2 protocols, parsers, payload-proven
// names, "<name>.function" fact prefixes) is in model's protocol registry,
// so that roles, panes and policy class it the same way.
func TestProtocolsRegistered(t *testing.T) {
	names := map[string]string{}
	for k, v := range wellKnown {
		names[v] = "a well-known port"
		if k.port == 0 {
			t.Fatalf("port 0 named %s", v)
		}
	}
	for _, n := range l2ProtoNames {
		names[n] = "layer-2 protocol"
	}
	for _, n := range Parsers() {
		names[n] = "parser"
	}
	for _, n := range []string{protoS7, protoS7Plus, protoMMS, protoPNRT, protoPNDCP, protoPNCM, protoNameGOOSE,
		protoNameSV, protoENIPIO, "icmp", "icmpv6", "tcp", "udp", "netbios-ssn", "ntlmssp"} {
		names[n] = "payload-proven"
	}
	for _, f := range []string{model.FieldModbusFunction, FieldCIPFunction, FieldENIPFunction, FieldDNP3Function,
		FieldADSFunction, FieldHARTFunction, FieldFINSFunction, fieldS7Function, fieldMMSFunction, fieldPNFunction,
		fieldC37Function, fieldBACnetFunction} {
		p, ok := strings.CutSuffix(f, ".function")
		if !ok {
			t.Fatalf("%s is not a function fact", f)
		}
		names[p] = "function fact " + f
	}
	for n, from := range names {
		if _, ok := model.LookupProtocol(n); !ok {
			t.Errorf("%s (%s) is not in model's protocol registry", n, from)
		}
	}
}
