package decode

import (
	"encoding/binary"
	"testing"

	"otscope/model"
)

// uaW is a tiny UA binary encoder for tests.
type uaW struct{ b []byte }

func (w *uaW) u8(v byte)    { w.b = append(w.b, v) }
func (w *uaW) u32(v uint32) { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *uaW) str(s string) {
	if s == "" {
		w.u32(0xffffffff)
		return
	}
	w.u32(uint32(len(s)))
	w.b = append(w.b, s...)
}
func (w *uaW) node(id uint16) { w.b = append(w.b, 1, 0, byte(id), byte(id>>8)) }
func (w *uaW) reqHeader() {
	w.b = append(w.b, 0, 0)                // null auth token (two-byte NodeId 0)
	w.b = append(w.b, make([]byte, 16)...) // timestamp, handle, diagnostics
	w.str("")                              // audit entry
	w.u32(10000)                           // timeout
	w.b = append(w.b, 0, 0, 0)             // null extension object
}
func (w *uaW) respHeader() {
	w.b = append(w.b, make([]byte, 16)...) // timestamp, handle, result
	w.u8(0)                                // diagnostics
	w.u32(0)                               // string table
	w.b = append(w.b, 0, 0, 0)
}
func (w *uaW) appDesc(uri, product, name string, typ uint32, disc string) {
	w.str(uri)
	w.str(product)
	w.u8(2)
	w.str(name)
	w.u32(typ)
	w.str("")
	w.str("")
	w.u32(1)
	w.str(disc)
}

func uaMsg(typ string, body []byte) []byte {
	out := append([]byte(typ+"F"), 0, 0, 0, 0)
	out = append(out, body...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)))
	return out
}

func uaService(id uint16, w *uaW) []byte {
	h := uaW{}
	h.u32(1)
	h.u32(1)
	h.u32(2)
	h.u32(2)
	h.node(id)
	return uaMsg("MSG", append(h.b, w.b...))
}

func TestOPCUAFacts(t *testing.T) {
	s := newSOFlow(4840, false)
	hel := uaW{}
	for i := 0; i < 5; i++ {
		hel.u32(65536)
	}
	hel.str("opc.tcp://plc1:4840")
	s.send(parseOPCUA, false, uaMsg("HEL", hel.b))
	s.send(parseOPCUA, true, uaMsg("ACK", make([]byte, 20)))
	opn := uaW{}
	opn.u32(0)
	opn.str(uaSecurityPolicyNone)
	s.send(parseOPCUA, true, uaMsg("OPN", opn.b))

	cs := uaW{}
	cs.reqHeader()
	cs.appDesc("urn:client:hmi", "urn:vendor:hmi", "HMI 1", 1, "")
	cs.str("urn:server")
	cs.str("opc.tcp://10.20.0.20:4840/ua")
	s.send(parseOPCUA, false, uaService(uaCreateSessionReq, &cs))

	ge := uaW{}
	ge.respHeader()
	ge.u32(2)
	for i, mode := range []uint32{1, 3} {
		ge.str("opc.tcp://10.20.0.20:4840/ua")
		ge.appDesc("urn:acme:server", "urn:acme:product", "ACME UA Server", 0, "opc.tcp://10.20.0.20:4840/ua")
		ge.str("")
		ge.u32(mode)
		ge.str([]string{uaSecurityPolicyNone, "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256"}[i])
		ge.u32(1) // one user token policy
		ge.str("anonymous")
		ge.u32(0)
		ge.str("")
		ge.str("")
		ge.str("")
		ge.str("http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary")
		ge.u8(0)
	}
	s.send(parseOPCUA, true, uaService(uaGetEndpointsResp, &ge))

	fs := uaW{}
	fs.respHeader()
	fs.u32(1)
	fs.appDesc("urn:other", "urn:other:product", "Other", 3, "opc.tcp://10.20.0.99:4840")
	s.send(parseOPCUA, true, uaService(uaFindServersResp, &fs))

	all := s.d.Flush().Obs
	by := func(ip string) map[string][]string {
		m := map[string][]string{}
		for _, o := range all {
			if o.Kind == model.ObsFact && o.Subject.IP.String() == ip {
				m[o.Fact.Field] = append(m[o.Fact.Field], o.Fact.Value)
			}
		}
		return m
	}
	sv, cl, other := by(soServerIP.String()), by(soClientIP.String()), by("10.20.0.99")
	soWantFact(t, sv, model.FieldOPCUAEndpointURL, "opc.tcp://plc1:4840")
	soWantFact(t, sv, model.FieldOPCUAEndpointURL, "opc.tcp://10.20.0.20:4840/ua")
	soWantFact(t, sv, model.FieldRole, model.RoleOPCServer)
	soWantFact(t, sv, model.FieldOPCUASecPolicy, uaSecurityPolicyNone)
	soWantFact(t, sv, model.FieldOPCUASecPolicy, "http://opcfoundation.org/UA/SecurityPolicy#Basic256Sha256")
	soWantFact(t, sv, model.FieldOPCUASecurityMode, "None")
	soWantFact(t, sv, model.FieldOPCUASecurityMode, "SignAndEncrypt")
	soWantFact(t, sv, model.FieldOPCUAAppURI, "urn:acme:server")
	soWantFact(t, sv, model.FieldOPCUAProductURI, "urn:acme:product")
	soWantFact(t, sv, model.FieldOPCUAAppName, "ACME UA Server")
	soWantFact(t, sv, model.FieldOPCUAAppType, "Server")
	soWantFact(t, cl, model.FieldOPCUAAppURI, "urn:client:hmi")
	soWantFact(t, cl, model.FieldOPCUAProductURI, "urn:vendor:hmi")
	soWantFact(t, cl, model.FieldOPCUAAppName, "HMI 1")
	soWantFact(t, cl, model.FieldOPCUAAppType, "Client")
	soWantFact(t, other, model.FieldOPCUAAppURI, "urn:other")
	soWantFact(t, other, model.FieldOPCUAAppType, "DiscoveryServer")
	if len(sv[model.FieldOPCUAAppURI]) != 1 {
		t.Errorf("repeated description: %q", sv[model.FieldOPCUAAppURI])
	}
	if len(cl[model.FieldOPCUAEndpointURL]) != 0 {
		t.Errorf("endpoint URL on the client: %q", cl[model.FieldOPCUAEndpointURL])
	}
}

func TestOPCUABoundedReader(t *testing.T) {
	// a string length of 2^31-1 in a 40-byte Hello, and an array count of 2^30
	hel := uaW{}
	for i := 0; i < 5; i++ {
		hel.u32(0)
	}
	hel.u32(0x7fffffff)
	s := newSOFlow(4840, false)
	s.send(parseOPCUA, false, uaMsg("HEL", hel.b))
	ge := uaW{}
	ge.respHeader()
	ge.u32(1 << 30)
	s.send(parseOPCUA, true, uaService(uaGetEndpointsResp, &ge))
	if m := s.facts(soServerIP); len(m[model.FieldOPCUAEndpointURL]) != 0 {
		t.Errorf("facts from bad lengths: %q", m)
	}
	r := uaReader{b: []byte{0xff, 0xff, 0xff, 0xff}}
	if r.bytes() != nil || r.bad {
		t.Error("length -1 is a null string")
	}
	if opcuaURLHost([]byte("opc.tcp://[fe80::1]:4840/x")) != "fe80::1" || opcuaURLHost([]byte("opc.tcp://h:1/")) != "h" {
		t.Error("opcuaURLHost")
	}
}

func FuzzOPCUA(f *testing.F) {
	ge := uaW{}
	ge.respHeader()
	ge.u32(1)
	ge.str("opc.tcp://x:4840")
	ge.appDesc("urn:a", "urn:b", "c", 0, "opc.tcp://10.0.0.1:4840")
	f.Add(uaService(uaGetEndpointsResp, &ge), true)
	soFuzz(f, parseOPCUA, 4840, false, "opcua")
}

// BenchmarkOPCUAPolling: Read requests and responses on an open session.
func BenchmarkOPCUAPolling(b *testing.B) {
	req := uaW{}
	req.reqHeader()
	req.b = append(req.b, make([]byte, 40)...)
	resp := uaW{}
	resp.respHeader()
	resp.b = append(resp.b, make([]byte, 60)...)
	benchFrames(b, soBenchFrames(b, 4840, uaService(631, &req), uaService(634, &resp)))
}
