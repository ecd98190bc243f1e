package decode

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"otscope/model"

	"otscope/scan/internal/mbap"
)

var (
	exPLC    = netip.MustParseAddr("10.99.0.2")
	exPLCMAC = model.MAC{0x00, 0x80, 0xf4, 1, 2, 3}
	exReq    = mbap.ADU(7, 1, 0x2b, 0x0e, 0x01, 0x00)
)

// exchangeObs decodes xs with an active decoder and returns what it learnt.
func exchangeObs(t *testing.T, xs ...Exchange) []model.Observation {
	t.Helper()
	d := New(Options{Origin: "scan:test", Kind: model.Active})
	for i := range xs {
		d.DecodeExchange(&xs[i])
	}
	b := d.Flush()
	for _, o := range b.Obs {
		if o.Kind == model.ObsConversation {
			t.Fatalf("a conversation from an exchange (the prober is one end of it): %+v", o)
		}
		if o.Subject.IP != exPLC {
			t.Fatalf("an observation about someone but the server: %+v", o)
		}
	}
	return b.Obs
}

func services(obs []model.Observation) []model.Observation {
	return slices.DeleteFunc(slices.Clone(obs), func(o model.Observation) bool { return o.Kind != model.ObsService })
}

// TestExchangeNonStandardPort reads a Modbus identification answered on
// port 5020 with the Modbus parser: the identity lands on the server, the
// service on 5020, and the request's function code, which describes the
// client, is not recorded about anybody.
func TestExchangeNonStandardPort(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := netip.AddrPortFrom(exPLC, 5020)
	obs := exchangeObs(t,
		Exchange{Protocol: "modbus", Server: srv, ServerMAC: exPLCMAC, Conn: 1, Connected: true, Time: at, Frame: 6},
		Exchange{Protocol: "modbus", Server: srv, ServerMAC: exPLCMAC, Conn: 1, Time: at, Frame: 7,
			Request: exReq, Answer: mbap.DeviceIDAnswer(7, 1, "Schneider Electric", "BMX P34 2020", "v3.10")})
	facts := map[string]model.Fact{}
	for _, o := range obs {
		if o.Kind == model.ObsFact {
			facts[o.Fact.Field] = o.Fact
		}
	}
	for field, want := range map[string]string{
		model.FieldVendor: "Schneider Electric", model.FieldOrderNumber: "BMX P34 2020",
		model.FieldFirmware: "v3.10", model.FieldModbusUnitID: "1",
	} {
		f := facts[field]
		if f.Value != want {
			t.Fatalf("fact %s = %q, want %q (facts %+v)", field, f.Value, want, facts)
		}
		if s := f.Source; s.Kind != model.Active || s.Origin != "scan:test" || s.Frame != 7 || s.Protocol != "modbus" || !s.Time.Equal(at) {
			t.Fatalf("fact %s source %+v", field, s)
		}
	}
	// the function code is what the client asked: not the server's
	if f, ok := facts[model.FieldModbusFunction]; ok {
		t.Fatalf("the client's function code recorded on the server: %+v", f)
	}
	svc := services(obs)
	if len(svc) == 0 {
		t.Fatal("no service")
	}
	identified := false
	for _, o := range svc {
		if o.Service.Port != 5020 || o.Service.Transport != "tcp" || o.Service.Protocol != "modbus" || o.Subject.MAC != exPLCMAC {
			t.Fatalf("service %+v, want modbus on tcp/5020 of the server's MAC", o)
		}
		identified = identified || o.Identified
	}
	if !identified {
		t.Fatalf("the payload did not prove the service: %+v", svc)
	}
}

// TestExchangeByPort picks the parser by the server's port when the
// exchange names none, and names the service by its port, as a capture
// would; on a port no parser knows, an accepted connection is a bare tcp
// service.
func TestExchangeByPort(t *testing.T) {
	ans := mbap.DeviceIDAnswer(7, 1, "Schneider Electric", "BMX P34 2020", "v3.10")
	obs := exchangeObs(t, Exchange{Server: netip.AddrPortFrom(exPLC, 502), Connected: true, Request: exReq, Answer: ans})
	vendor := false
	for _, o := range obs {
		vendor = vendor || (o.Kind == model.ObsFact && o.Fact.Field == model.FieldVendor && o.Fact.Value == "Schneider Electric")
	}
	if !vendor {
		t.Fatalf("port 502 was not read as Modbus: %+v", obs)
	}

	obs = exchangeObs(t, Exchange{Protocol: "tcp", Server: netip.AddrPortFrom(exPLC, 5021), Connected: true, Request: exReq, Answer: ans})
	svc := services(obs)
	if len(svc) != 1 || svc[0].Service.Protocol != "tcp" || svc[0].Identified || svc[0].Service.Port != 5021 {
		t.Fatalf("services %+v, want one unidentified tcp/5021", svc)
	}
	for _, o := range obs {
		if o.Kind == model.ObsFact {
			t.Fatalf("a fact from a port no parser reads: %+v", o)
		}
	}

	// a connection and nothing more: the service under the probe's name
	obs = exchangeObs(t, Exchange{Protocol: "iso-tsap", Server: netip.AddrPortFrom(exPLC, 1102), Connected: true})
	svc = services(obs)
	if len(svc) != 1 || svc[0].Service.Protocol != "iso-tsap" || svc[0].Identified || svc[0].Subject.MAC != (model.MAC{}) {
		t.Fatalf("services %+v, want one unidentified iso-tsap on tcp/1102 known by its address", svc)
	}
}

// TestExchangeUnanswered records nothing about a server that did not
// answer a datagram: the prober's own request proves no service.
func TestExchangeUnanswered(t *testing.T) {
	req := []byte{0x81, 0x0b, 0x00, 0x0c, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08}
	if obs := exchangeObs(t, Exchange{UDP: true, Protocol: "bacnet", Server: netip.AddrPortFrom(exPLC, 47808), Request: req}); len(obs) != 0 {
		t.Fatalf("observations from an unanswered datagram: %+v", obs)
	}
}

// TestExchangeConnMemory keeps a connection's parser memory between its
// exchanges and forgets it at EndConn.
func TestExchangeConnMemory(t *testing.T) {
	d := New(Options{Kind: model.Active})
	srv := netip.AddrPortFrom(exPLC, 502)
	d.DecodeExchange(&Exchange{Protocol: "modbus", Server: srv, Conn: 3, Connected: true})
	d.DecodeExchange(&Exchange{Protocol: "modbus", Server: srv, Conn: 3, Request: exReq, Answer: mbap.DeviceIDAnswer(7, 1, "A", "B", "C")})
	if len(d.conns) != 1 || d.conns[connKey{srv, 3}].app == nil {
		t.Fatalf("connection memory %+v", d.conns)
	}
	// a second identical answer on the connection reports nothing new
	// (once per flow), so its memory was kept
	d.Flush()
	d.DecodeExchange(&Exchange{Protocol: "modbus", Server: srv, Conn: 3, Request: exReq, Answer: mbap.DeviceIDAnswer(7, 1, "A", "B", "C")})
	for _, o := range d.Flush().Obs {
		if o.Kind == model.ObsFact && o.Fact.Field == model.FieldModbusUnitID {
			t.Fatalf("unit id reported twice on one connection: %+v", o)
		}
	}
	d.EndConn(srv, 3)
	if len(d.conns) != 0 {
		t.Fatalf("EndConn left %d connections", len(d.conns))
	}
}

// FuzzDecodeExchange hands arbitrary payloads to every parser through the
// exchange entry: no panic may escape, and nothing is said about the client.
func FuzzDecodeExchange(f *testing.F) {
	f.Add(exReq, mbap.DeviceIDAnswer(7, 1, "A", "B", "C"), uint8(0), false, uint16(5020))
	f.Add([]byte{0x81, 0x0a, 0, 4}, []byte{0x81, 0x0b, 0, 4}, uint8(1), true, uint16(47808))
	names := append(Parsers(), "", "tcp")
	f.Fuzz(func(t *testing.T, req, ans []byte, proto uint8, udp bool, port uint16) {
		d := New(Options{Kind: model.Active})
		x := Exchange{UDP: udp, Protocol: names[int(proto)%len(names)], Server: netip.AddrPortFrom(exPLC, port),
			ServerMAC: exPLCMAC, Conn: 1, Connected: !udp, Request: req, Answer: ans}
		d.DecodeExchange(&x)
		d.DecodeExchange(&x)
		for _, o := range d.Flush().Obs {
			if o.Subject.IP != exPLC && o.Kind != model.ObsFact {
				t.Fatalf("observation about someone but the server: %+v", o)
			}
			if !o.Subject.IP.IsValid() && o.Subject.MAC.IsZero() {
				t.Fatalf("observation about nobody: %+v", o)
			}
		}
	})
}
