package probe

import (
	"net/netip"
	"testing"

	"otscope/model"

	"otscope/scan/internal/mbap"
)

// TestTranscriptModbus hands a Modbus FC 43 exchange to the passive
// decoders: the device's identity becomes facts on the target with source
// Active, the scan as origin and the log record as frame, and nothing is
// said about the scanner.
func TestTranscriptModbus(t *testing.T) {
	for _, withMAC := range []bool{false, true} {
		var got []model.Observation
		sc := New(Options{ScanID: "2026-01-02T03:04:05Z", Scope: mustScope(t, "10.99.0.2"),
			Observe: func(b model.Batch) { got = append(got, b.Obs...) }})
		tg := &Target{Addr: netip.MustParseAddr("10.99.0.2")}
		s := &Session{sc: sc, t: tg, local: netip.MustParseAddr("10.99.0.1")}
		if withMAC {
			tg.MAC = model.MAC{0x00, 0x80, 0xf4, 1, 2, 3}
			s.mac = model.MAC{0x02, 0, 0, 0, 0, 1}
		}
		// a non-standard port: the decoders read it as Modbus all the same
		c := &Conn{s: s, probe: "modbus", port: 5020, id: sc.tr.newConn()}
		sc.tr.connect(s, c, 6)
		req := []byte{0x00, 0x07, 0x00, 0x00, 0x00, 0x05, 0x01, 0x2b, 0x0e, 0x01, 0x00}
		ans := mbap.DeviceIDAnswer(7, 1, "Schneider Electric", "BMX P34 2020", "v3.10")
		sc.tr.tcpExchange(s, c, 7, req, ans)
		s.End()

		facts := map[string]model.Fact{}
		for _, o := range got {
			if o.Subject.IP == s.local || o.Peer.IP == s.local || (withMAC && o.Subject.MAC == s.mac) {
				t.Fatalf("observation about the scanner: %+v", o)
			}
			if o.Kind == model.ObsConversation {
				t.Fatalf("a conversation (the scanner is one end of every one): %+v", o)
			}
			if o.Kind == model.ObsFact && o.Subject.IP == tg.Addr {
				facts[o.Fact.Field] = o.Fact
			}
		}
		for field, want := range map[string]string{
			model.FieldVendor: "Schneider Electric", model.FieldOrderNumber: "BMX P34 2020",
			model.FieldFirmware: "v3.10", model.FieldModbusUnitID: "1",
		} {
			f, ok := facts[field]
			if !ok || f.Value != want {
				t.Fatalf("MAC %v: fact %s = %q, want %q (facts %+v)", withMAC, field, f.Value, want, facts)
			}
			src := f.Source
			if src.Kind != model.Active || src.Origin != "scan:2026-01-02T03:04:05Z" || src.Frame != 7 || src.Protocol != "modbus" {
				t.Fatalf("fact %s source %+v", field, src)
			}
		}
		// the service is named from the payload and recorded on the port
		// the scan reached (5020), never on the standard one; with a MAC,
		// the accepted connection ties it to the target's MAC
		service, onMAC := false, false
		for _, o := range got {
			if o.Kind == model.ObsService && o.Service.Port != 5020 {
				t.Fatalf("service recorded on another port: %+v", o)
			}
			if o.Kind == model.ObsService && o.Subject.IP == tg.Addr {
				service = service || o.Service.Protocol == "modbus"
				onMAC = onMAC || o.Subject.MAC == tg.MAC
			}
		}
		if withMAC && !onMAC {
			t.Fatalf("no service on the target's MAC: %+v", got)
		}
		if !service {
			t.Fatalf("MAC %v: no modbus service on the target: %+v", withMAC, got)
		}
	}
}

// TestTranscriptLargeAnswer checks an answer of MaxAnswer bytes reaches
// the decoder whole, as one payload.
func TestTranscriptLargeAnswer(t *testing.T) {
	var got []model.Observation
	sc := New(Options{Scope: mustScope(t, "10.99.0.2"), Observe: func(b model.Batch) { got = append(got, b.Obs...) }})
	s := &Session{sc: sc, t: &Target{Addr: netip.MustParseAddr("10.99.0.2")}, local: netip.MustParseAddr("10.99.0.1")}
	c := &Conn{s: s, probe: "http", port: 80, id: sc.tr.newConn()}
	sc.tr.connect(s, c, 1)
	ans := []byte("HTTP/1.0 200 OK\r\nServer: Big/1.0\r\n\r\n")
	ans = append(ans, make([]byte, MaxAnswer-len(ans))...)
	sc.tr.tcpExchange(s, c, 2, []byte("GET / HTTP/1.0\r\n\r\n"), ans)
	if st := sc.tr.dec.Stats(); st.Bytes != uint64(len(ans)+len("GET / HTTP/1.0\r\n\r\n")) || st.Undecodable != 0 {
		t.Fatalf("decoder stats %+v", st)
	}
	s.End()
	server := false
	for _, o := range got {
		if o.Subject.IP == s.local {
			t.Fatalf("observation about the scanner: %+v", o)
		}
		server = server || (o.Kind == model.ObsFact && o.Fact.Value == "Big/1.0")
	}
	if !server {
		t.Fatalf("the answer's Server header was not read: %+v", got)
	}
}
