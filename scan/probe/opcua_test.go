package probe

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"otscope/model"
	"otscope/model/safe"
)

var opcuaTestTime = time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)

// opcuaTestHeader is the RequestHeader the probe sends at opcuaTestTime.
func opcuaTestHeader(handle uint32) []byte {
	b := []byte{0x00, 0x00}
	b = binary.LittleEndian.AppendUint64(b, uint64(opcuaTestTime.UnixNano()/100+116444736000000000))
	b = binary.LittleEndian.AppendUint32(b, handle)
	b = append(b, 0, 0, 0, 0)             // return diagnostics
	b = append(b, 0xff, 0xff, 0xff, 0xff) // audit entry id: null
	b = append(b, 0x10, 0x27, 0x00, 0x00) // timeout hint 10000 ms
	return append(b, 0x00, 0x00, 0x00)    // no additional header
}

func opcuaTestString(s string) []byte {
	return append(binary.LittleEndian.AppendUint32(nil, uint32(len(s))), s...)
}

func TestOPCUARequestBytes(t *testing.T) {
	url := "opc.tcp://10.99.0.2:4840"
	hel := opcuaHelloRequest(url).Payload
	want := []byte("HELF")
	want = binary.LittleEndian.AppendUint32(want, uint32(8+20+4+len(url)))
	want = append(want, 0, 0, 0, 0) // protocol version
	want = binary.LittleEndian.AppendUint32(want, 65535)
	want = binary.LittleEndian.AppendUint32(want, 8192)
	want = binary.LittleEndian.AppendUint32(want, 0) // max message size: no limit
	want = binary.LittleEndian.AppendUint32(want, 16)
	want = append(want, opcuaTestString(url)...)
	if !bytes.Equal(hel, want) {
		t.Errorf("Hello:\n got % x\nwant % x", hel, want)
	}

	opn := opcuaOpenRequest(opcuaTestTime).Payload
	body := []byte{0, 0, 0, 0} // channel id
	body = append(body, opcuaTestString("http://opcfoundation.org/UA/SecurityPolicy#None")...)
	body = append(body, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff) // no certificate, no thumbprint
	body = append(body, 1, 0, 0, 0, 1, 0, 0, 0)                         // sequence 1, request 1
	body = append(body, 0x01, 0x00, 0xbe, 0x01)                         // i=446 OpenSecureChannelRequest
	body = append(body, opcuaTestHeader(1)...)
	body = append(body, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0) // version 0, issue, mode None
	body = append(body, 0, 0, 0, 0)                         // empty nonce
	body = binary.LittleEndian.AppendUint32(body, 60000)
	want = binary.LittleEndian.AppendUint32([]byte("OPNF"), uint32(8+len(body)))
	if want = append(want, body...); !bytes.Equal(opn, want) {
		t.Errorf("OpenSecureChannel:\n got % x\nwant % x", opn, want)
	}

	ch := opcuaChannel{id: 0x11223344, token: 7, seq: 2, reqID: 2}
	for _, c := range []struct {
		name string
		got  []byte
		typ  string
		node []byte
		rest []byte
	}{
		{"FindServers", opcuaFindServersRequest(ch, opcuaTestTime, url).Payload, "MSGF", []byte{0x01, 0x00, 0xa6, 0x01},
			append(append(opcuaTestHeader(2), opcuaTestString(url)...), 0, 0, 0, 0, 0, 0, 0, 0)},
		{"GetEndpoints", opcuaGetEndpointsRequest(ch, opcuaTestTime, url).Payload, "MSGF", []byte{0x01, 0x00, 0xac, 0x01},
			append(append(opcuaTestHeader(2), opcuaTestString(url)...), 0, 0, 0, 0, 0, 0, 0, 0)},
		{"CloseSecureChannel", opcuaCloseRequest(ch, opcuaTestTime).Payload, "CLOF", []byte{0x01, 0x00, 0xc4, 0x01},
			opcuaTestHeader(2)},
	} {
		b := []byte{0x44, 0x33, 0x22, 0x11, 7, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0}
		b = append(append(b, c.node...), c.rest...)
		want := append(binary.LittleEndian.AppendUint32([]byte(c.typ), uint32(8+len(b))), b...)
		if !bytes.Equal(c.got, want) {
			t.Errorf("%s:\n got % x\nwant % x", c.name, c.got, want)
		}
	}
	if r := opcuaCloseRequest(ch, opcuaTestTime); !r.NoAnswer {
		t.Error("CloseSecureChannel waits for an answer the server never sends")
	}
}

// opcuaTestMSG rewrites the service NodeId of a FindServers request.
func opcuaTestMSG(id uint16, extra ...byte) []byte {
	e := opcuaSymmetric(opcuaChannel{id: 1, token: 1, seq: 2, reqID: 2}, id).requestHeader(opcuaTestTime, 2)
	return opcuaMessage("MSG", append(e, extra...))
}

func TestOPCUADissector(t *testing.T) {
	url := "opc.tcp://10.99.0.2:4840"
	ch := opcuaChannel{id: 1, token: 1, seq: 2, reqID: 2}
	opn := opcuaOpenRequest(opcuaTestTime).Payload
	fs := opcuaFindServersRequest(ch, opcuaTestTime, url).Payload
	// policy URI replaced (same length keeps the offsets)
	basic := bytes.Replace(opn, []byte("SecurityPolicy#None"), []byte("SecurityPolicy#Aes1"), 1)
	modeAt := len(opn) - 4 - 4 - 4 // lifetime, nonce, mode
	typeAt := modeAt - 4           // request type
	itCheckDissector(t, "opcua", []itDissectCase{
		{"hello", opcuaHelloRequest(url).Payload, KindOPCUAHello},
		{"open", opn, KindOPCUAOpenSecureChannel},
		{"find servers", fs, KindOPCUAFindServers},
		{"get endpoints", opcuaGetEndpointsRequest(ch, opcuaTestTime, url).Payload, KindOPCUAGetEndpoints},
		{"close", opcuaCloseRequest(ch, opcuaTestTime).Payload, KindOPCUACloseSecureChannel},
		{"find servers, six-byte NodeId", opcuaMessage("MSG", append(append(opcuaEnc{1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0},
			0x02, 0x00, 0x00, 0xa6, 0x01, 0x00, 0x00), opcuaEnc(nil).requestHeader(opcuaTestTime, 2).str([]byte(url)).u32(0).u32(0)...)), KindOPCUAFindServers},
		{"empty", nil, ""},
		{"short", []byte("HELF"), ""},
		{"hello in an intermediate chunk", itCopy(opcuaHelloRequest(url).Payload, func(c []byte) []byte { c[3] = 'C'; return c }), ""},
		{"message in an abort chunk", itCopy(fs, func(c []byte) []byte { c[3] = 'A'; return c }), ""},
		{"size mismatch", itCopy(fs, func(c []byte) []byte { c[4]++; return c }), ""},
		{"hello without url", opcuaMessage("HEL", opcuaEnc(nil).u32(0).u32(65535).u32(65535).u32(0).u32(0).str(nil)), ""},
		{"open, policy Aes", basic, ""},
		{"open, sign and encrypt", itCopy(opn, func(c []byte) []byte { c[modeAt] = 3; return c }), ""},
		{"open, renew", itCopy(opn, func(c []byte) []byte { c[typeAt] = 1; return c }), ""},
		{"open, trailing", func() []byte { b := append(append([]byte(nil), opn...), 0); b[4]++; return b }(), ""},
		{"write", opcuaTestMSG(673, 0, 0, 0, 0), ""},
		{"call", opcuaTestMSG(712, 0, 0, 0, 0), ""},
		{"read", opcuaTestMSG(631, 0, 0, 0, 0), ""},
		{"create session", opcuaTestMSG(461), ""},
		{"activate session", opcuaTestMSG(467), ""},
		{"browse", opcuaTestMSG(527), ""},
		{"register server", opcuaTestMSG(437), ""},
		{"close in a MSG", opcuaTestMSG(opcuaCloseChannelReq), ""},
		{"find servers in a CLO", opcuaMessage("CLO", fs[8:]), ""},
		{"find servers, trailing", opcuaMessage("MSG", append(append([]byte(nil), fs[8:]...), 0)), ""},
		{"find servers, additional header", bytes.Replace(fs, []byte{0x10, 0x27, 0, 0, 0, 0, 0}, []byte{0x10, 0x27, 0, 0, 1, 0, 0}, 1), ""},
		{"NodeId in namespace 1", opcuaMessage("MSG", bytes.Replace(fs[8:], []byte{0x01, 0x00, 0xa6, 0x01}, []byte{0x01, 0x01, 0xa6, 0x01}, 1)), ""},
		{"string NodeId", opcuaMessage("MSG", append(opcuaEnc{1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0x03, 0, 0}, opcuaEnc(nil).str([]byte("Write"))...)), ""},
		{"ack", opcuaMessage("ACK", opcuaEnc(nil).u32(0).u32(65535).u32(65535).u32(0).u32(0)), ""},
		{"reverse hello", opcuaMessage("RHE", opcuaEnc(nil).str([]byte("urn:x")).str([]byte(url))), ""},
		{"error", opcuaMessage("ERR", opcuaEnc(nil).u32(0x80010000).str(nil)), ""},
	})
}

// opcuaTestChunk is one chunk of type typ.
func opcuaTestChunk(typ string, chunk byte, body []byte) []byte {
	b := append([]byte(typ), chunk)
	return append(binary.LittleEndian.AppendUint32(b, uint32(8+len(body))), body...)
}

func TestOPCUAFrame(t *testing.T) {
	ack := opcuaTestChunk("ACK", 'F', make([]byte, 20))
	errMsg := opcuaTestChunk("ERR", 'F', opcuaEnc(nil).u32(0x80080000).str([]byte("too large")))
	c1 := opcuaTestChunk("MSG", 'C', make([]byte, 100))
	f := opcuaTestChunk("MSG", 'F', make([]byte, 50))
	huge := binary.LittleEndian.AppendUint32([]byte("MSGF"), 0x7fffffff)
	for _, c := range []struct {
		name string
		want string
		b    []byte
		n    int
		err  bool
	}{
		{"ack short", "ACK", ack[:5], 0, false},
		{"ack exact", "ACK", ack, 28, false},
		{"ack long", "ACK", append(append([]byte(nil), ack...), 1, 2, 3), 28, false},
		{"error instead of ack", "ACK", errMsg, len(errMsg), false},
		{"garbage", "ACK", []byte("HTTP/1.1 400"), 0, true},
		{"garbage, first byte", "ACK", []byte("X"), 0, true},
		{"msg instead of ack", "ACK", f, 0, true},
		{"huge length", "MSG", huge, 0, true},
		{"size below header", "MSG", binary.LittleEndian.AppendUint32([]byte("MSGF"), 4), 0, true},
		{"unknown chunk type", "MSG", opcuaTestChunk("MSG", 'X', nil), 0, true},
		{"intermediate chunk of an ACK", "ACK", opcuaTestChunk("ACK", 'C', make([]byte, 20)), 0, true},
		{"first chunk only", "MSG", c1, 0, false},
		{"first chunk and a header prefix", "MSG", append(append([]byte(nil), c1...), 'M', 'S'), 0, false},
		{"two chunks", "MSG", append(append([]byte(nil), c1...), f...), len(c1) + len(f), false},
		{"two chunks, final announced", "MSG", append(append([]byte(nil), c1...), f[:8]...), len(c1) + len(f), false},
		{"abort chunk", "MSG", append(append([]byte(nil), c1...), opcuaTestChunk("MSG", 'A', opcuaEnc(nil).u32(0x80000000).str(nil))...), len(c1) + 16, false},
		{"chunks past the answer bound", "MSG", bytes.Repeat(opcuaTestChunk("MSG", 'C', make([]byte, 60000)), 2)[:60100], 120016, false},
	} {
		n, err := opcuaFrame(c.want)(c.b)
		if (err != nil) != c.err || n != c.n {
			t.Errorf("%s: frame %d, %v; want %d, error %v", c.name, n, err, c.n, c.err)
		}
	}
}

// opcuaTestOPN is an OpenSecureChannel response for channel 5, token 9.
func opcuaTestOPN() []byte {
	e := opcuaEnc(nil).u32(5).str([]byte(opcuaPolicyNone)).str(nil).str(nil).u32(1).u32(1).nodeID(opcuaOpenChannelResp)
	e = e.i64(0).u32(1).u32(0)      // timestamp, handle, good
	e = append(e, 0x00)             // no diagnostics
	e = e.u32(0)                    // string table
	e = append(e, 0x00, 0x00, 0x00) // additional header
	e = e.u32(0)                    // server protocol version
	e = e.u32(5).u32(9).i64(0).u32(60000)
	e = e.str([]byte{})
	return opcuaMessage("OPN", e)
}

// opcuaTestAppDesc is an ApplicationDescription of a server.
func opcuaTestAppDesc(e opcuaEnc, url string) opcuaEnc {
	e = e.str([]byte("urn:acme:testplc:server")).str([]byte("urn:acme:testplc"))
	e = append(e, 0x02)
	e = e.str([]byte("Acme TestPLC")).u32(0).str(nil).str(nil)
	return e.u32(1).str([]byte(url))
}

// opcuaTestResponse is a service response on channel 5.
func opcuaTestResponse(reqID uint32, service uint16, body opcuaEnc) opcuaEnc {
	e := opcuaEnc(nil).u32(5).u32(9).u32(reqID).u32(reqID).nodeID(service)
	e = e.i64(0).u32(reqID).u32(0)
	e = append(e, 0x00)
	e = e.u32(0)
	e = append(e, 0x00, 0x00, 0x00)
	return append(e, body...)
}

func TestOPCUAAnswers(t *testing.T) {
	ch, ok := opcuaOpenResponse(opcuaTestOPN())
	if !ok || ch.id != 5 || ch.token != 9 {
		t.Errorf("channel %+v %v, want 5/9", ch, ok)
	}
	if _, ok := opcuaOpenResponse(opcuaTestOPN()[:40]); ok {
		t.Error("a cut OPN gives a channel")
	}
	fs := opcuaMessage("MSG", opcuaTestResponse(2, opcuaFindServersResp, opcuaTestAppDesc(opcuaEnc(nil).u32(1), "opc.tcp://x:4840")))
	for _, c := range []struct {
		b    []byte
		want string
	}{
		{opcuaTestChunk("ACK", 'F', opcuaEnc(nil).u32(0).u32(65535).u32(65535).u32(0).u32(0)), "ack, receive buffer 65535"},
		{opcuaTestChunk("ERR", 'F', opcuaEnc(nil).u32(0x80080000).str([]byte("too large"))), "error 0x80080000 too large"},
		{opcuaTestOPN(), "channel 5 token 9, policy None"},
		{fs, "1 servers"},
		{append(opcuaTestChunk("MSG", 'C', fs[8:40]), opcuaTestChunk("MSG", 'F', fs[40:])...), "service i=425 (2 chunks)"},
		{opcuaMessage("MSG", opcuaTestResponse(2, opcuaServiceFault, nil)), "service fault 0x00000000"},
		{[]byte("MSGF"), "4 bytes"},
	} {
		if got := opcuaSummary(c.b); got != c.want {
			t.Errorf("summary %q, want %q", got, c.want)
		}
	}
}

func FuzzDissectOPCUA(f *testing.F) {
	ch := opcuaChannel{id: 1, token: 1, seq: 2, reqID: 2}
	f.Add(opcuaHelloRequest("opc.tcp://a:1").Payload)
	f.Add(opcuaOpenRequest(opcuaTestTime).Payload)
	f.Add(opcuaFindServersRequest(ch, opcuaTestTime, "opc.tcp://a:1").Payload)
	f.Add(opcuaGetEndpointsRequest(ch, opcuaTestTime, "opc.tcp://a:1").Payload)
	f.Add(opcuaCloseRequest(ch, opcuaTestTime).Payload)
	f.Fuzz(func(t *testing.T, p []byte) {
		k, err := dissectOPCUA(p)
		if err != nil {
			return
		}
		want := map[Kind]string{KindOPCUAHello: "HELF", KindOPCUAOpenSecureChannel: "OPNF", KindOPCUAFindServers: "MSGF",
			KindOPCUAGetEndpoints: "MSGF", KindOPCUACloseSecureChannel: "CLOF"}[k]
		if want == "" || string(p[:4]) != want {
			t.Fatalf("accepted %q as %s", p[:4], k)
		}
		if k == KindOPCUAOpenSecureChannel && !bytes.Contains(p, []byte(opcuaPolicyNone)) {
			t.Fatal("accepted an OPN without policy None")
		}
	})
}

func FuzzOPCUAFrame(f *testing.F) {
	f.Add([]byte("ACKF\x1c\x00\x00\x00"), "ACK")
	f.Add(opcuaTestOPN(), "OPN")
	f.Add(append(opcuaTestChunk("MSG", 'C', make([]byte, 10)), opcuaTestChunk("MSG", 'F', nil)...), "MSG")
	f.Fuzz(func(t *testing.T, b []byte, want string) {
		if len(want) != 3 {
			return
		}
		n, err := opcuaFrame(want)(b)
		if err == nil && n != 0 && n < 8 {
			t.Fatalf("frame %d", n)
		}
		if s := opcuaSummary(b); s != safe.Text(s) {
			t.Fatalf("summary %q is not terminal-safe", s)
		}
		_, _ = opcuaOpenResponse(b)
	})
}

func TestOPCUATshark(t *testing.T) {
	url := "opc.tcp://10.99.0.2:4840"
	ch := opcuaChannel{id: 5, token: 9, seq: 2, reqID: 2}
	itTshark(t, [][]byte{
		itFrame(t, false, 4840, opcuaHelloRequest(url).Payload),
		itFrame(t, false, 4840, opcuaOpenRequest(opcuaTestTime).Payload),
		itFrame(t, false, 4840, opcuaFindServersRequest(ch, opcuaTestTime, url).Payload),
		itFrame(t, false, 4840, opcuaGetEndpointsRequest(ch, opcuaTestTime, url).Payload),
		itFrame(t, false, 4840, opcuaCloseRequest(ch, opcuaTestTime).Payload),
	}, []string{"opcua", "opcua", "opcua", "opcua", "opcua"})
}

// opcuaTestServer answers the probe's discovery conversation the way a UA
// stack does; GetEndpoints comes back in two chunks.
func opcuaTestServer(t *testing.T, addr string) (port uint16, got chan []string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr+":0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got = make(chan []string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var seen []string
		defer func() { got <- seen }()
		url := "opc.tcp://" + c.LocalAddr().String()
		for {
			msg, err := readFrame(c, 8, func(h []byte) int { return int(binary.LittleEndian.Uint32(h[4:])) })
			if err != nil {
				return
			}
			hdr, body := msg[:8], msg[8:]
			seen = append(seen, string(hdr[:3]))
			var ans []byte
			switch string(hdr[:3]) {
			case "HEL":
				ans = opcuaTestChunk("ACK", 'F', opcuaEnc(nil).u32(0).u32(65535).u32(65535).u32(0).u32(0))
			case "OPN":
				ans = opcuaTestOPN()
			case "MSG":
				reqID := binary.LittleEndian.Uint32(body[12:])
				switch binary.LittleEndian.Uint16(body[18:]) {
				case opcuaFindServersReq:
					ans = opcuaMessage("MSG", opcuaTestResponse(reqID, opcuaFindServersResp, opcuaTestAppDesc(opcuaEnc(nil).u32(1), url)))
				case opcuaGetEndpointsReq:
					e := opcuaEnc(nil).u32(1).str([]byte(url + "/ua/plc"))
					e = opcuaTestAppDesc(e, url).str(bytes.Repeat([]byte{0x30}, 1200)).u32(1).str([]byte(opcuaPolicyNone))
					e = e.u32(0).str([]byte("http://opcfoundation.org/UA-Profile/Transport/uatcp-uasc-uabinary"))
					m := opcuaTestResponse(reqID, opcuaGetEndpointsResp, append(e, 0))
					// every chunk carries the channel id, token id and a
					// sequence header of its own (Part 6, 6.7.2)
					hdrs := append([]byte(nil), m[:16]...)
					binary.LittleEndian.PutUint32(hdrs[8:], reqID+1)
					ans = append(opcuaTestChunk("MSG", 'C', m[:600]), opcuaTestChunk("MSG", 'F', append(hdrs, m[600:]...))...)
				}
			case "CLO":
				return
			}
			if _, err := c.Write(ans); err != nil {
				return
			}
		}
	}()
	return uint16(ln.Addr().(*net.TCPAddr).Port), got
}

// TestOPCUAConversation runs the probe against a UA server speaking over a
// real socket on 127.0.0.2 and checks the conversation, the chunked answer
// read whole, and the server's identity as Active facts.
func TestOPCUAConversation(t *testing.T) {
	port, got := opcuaTestServer(t, "127.0.0.2")
	addr := netip.MustParseAddr("127.0.0.2")
	res, _ := itScan(t, addr, Known{TCP: []uint16{port}}, PlanOptions{Ports: map[string]uint16{"opcua": port}}, "opcua")
	want := []string{"tcp.connect", "opcua.hello", "opcua.open_secure_channel", "opcua.find_servers", "opcua.get_endpoints", "opcua.close_secure_channel", "tcp.close"}
	if k := res.kinds(); !slices.Equal(k, want) {
		t.Errorf("requests %v, want %v", k, want)
	}
	if s := <-got; !slices.Equal(s, []string{"HEL", "OPN", "MSG", "MSG", "CLO"}) {
		t.Errorf("server saw %v", s)
	}
	for _, rec := range res.recs {
		if rec.Error != "" {
			t.Errorf("%s failed: %s", rec.Kind, rec.Error)
		}
		if rec.Kind == string(KindOPCUAGetEndpoints) && !strings.HasSuffix(rec.Answer, "(2 chunks)") {
			t.Errorf("GetEndpoints answer %q, want two chunks read", rec.Answer)
		}
	}
	for field, want := range map[string]string{
		model.FieldOPCUAAppURI:     "urn:acme:testplc:server",
		model.FieldOPCUAProductURI: "urn:acme:testplc",
		model.FieldOPCUAAppName:    "Acme TestPLC",
		// only in the chunked GetEndpoints answer, joined for the decoder
		model.FieldOPCUAEndpointURL: "/ua/plc",
	} {
		got := res.fact(t, addr, field)
		if !slices.ContainsFunc(got, func(v string) bool { return v == want || strings.HasPrefix(want, "/") && strings.HasSuffix(v, want) }) {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
}

// TestOPCUAAgainstNodeOPCUA scans the lab's node-opcua server.
func TestOPCUAAgainstNodeOPCUA(t *testing.T) {
	if testing.Short() {
		t.Skip("lab peer skipped in -short mode")
	}
	itNode(t, "node-opcua", "opcua_server.js", "14840", "127.0.0.2")
	addr := netip.MustParseAddr("127.0.0.2")
	res, _ := itScan(t, addr, Known{TCP: []uint16{14840}}, PlanOptions{Ports: map[string]uint16{"opcua": 14840}}, "opcua")
	for _, rec := range res.recs {
		if rec.Error != "" {
			t.Errorf("%s failed: %s", rec.Kind, rec.Error)
		}
	}
	for field, want := range map[string]string{
		model.FieldOPCUAAppURI:     "urn:acme:testplc:server",
		model.FieldOPCUAProductURI: "urn:acme:testplc",
		model.FieldOPCUAAppName:    "Acme TestPLC",
		model.FieldOPCUASecPolicy:  opcuaPolicyNone,
	} {
		if got := res.fact(t, addr, field); !slices.Contains(got, want) {
			t.Errorf("%s: %q, want %q", field, got, want)
		}
	}
}

func TestOPCUAJoinChunks(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 30)
	hdrs := func(seq byte) []byte { return []byte{5, 0, 0, 0, 9, 0, 0, 0, seq, 0, 0, 0, 7, 0, 0, 0} }
	one := opcuaTestChunk("MSG", 'F', append(hdrs(1), body...))
	two := append(opcuaTestChunk("MSG", 'C', append(hdrs(1), body[:100]...)), opcuaTestChunk("MSG", 'F', append(hdrs(2), body[100:]...))...)
	if got := opcuaJoinChunks(two); !bytes.Equal(got, one) {
		t.Fatalf("joined:\n% x\nwant\n% x", got, one)
	}
	if got := opcuaJoinChunks(one); !bytes.Equal(got, one) {
		t.Fatal("a single final chunk changed")
	}
	abort := append(opcuaTestChunk("MSG", 'C', append(hdrs(1), body[:100]...)), opcuaTestChunk("MSG", 'A', append(hdrs(2), 0, 0, 0, 0x80))...)
	for name, b := range map[string][]byte{"abort": abort, "cut": two[:len(two)-5], "short": two[:10]} {
		if got := opcuaJoinChunks(b); !bytes.Equal(got, b) {
			t.Errorf("%s: rewritten", name)
		}
	}
}
