package probe

import (
	"net/netip"
	"sync"
	"time"

	"github.com/google/gopacket"
	"github.com/google/gopacket/layers"

	"otscope/model"
	"otscope/scan/decode"
)

// Identity from answers: every request and its answer go, as the payloads
// they are, to the same decoders that read captures (decode.Exchange), so
// an answer yields the facts the same bytes would yield in a pcap, with
// Source.Kind Active, the scan as origin and the packet-log record as
// frame. The service is recorded on the port the scan reached. Layer-2
// answers are frames already and are decoded as such; the request frame is
// the scanner's own and says nothing about the network.

// decoderProtocol names the parser that reads a probe's payloads where it
// differs from the probe's name.
var decoderProtocol = map[string]string{"s7": "iso-tsap"}

// parserOf is the decode.Exchange protocol of probe.
func parserOf(probe string) string {
	if p, ok := decoderProtocol[probe]; ok {
		return p
	}
	return probe
}

// transcript feeds a scan's exchanges to one decoder.
type transcript struct {
	mu      sync.Mutex
	dec     *decode.Decoder
	observe func(model.Batch)
	now     func() time.Time
	conns   uint64 // connection ids handed out
}

func newTranscript(scanID string, observe func(model.Batch), now func() time.Time) *transcript {
	return &transcript{
		dec:     decode.New(decode.Options{Origin: "scan:" + scanID, Kind: model.Active}),
		observe: observe,
		now:     now,
	}
}

// newConn numbers a TCP connection for the decoder's memory of it.
func (t *transcript) newConn() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.conns++
	return t.conns
}

// exchange decodes one exchange with s's target as the server.
func (t *transcript) exchange(s *Session, x decode.Exchange) {
	t.mu.Lock()
	defer t.mu.Unlock()
	x.ServerMAC = s.t.MAC
	x.Time = t.now()
	t.dec.DecodeExchange(&x)
}

// connect records the connection c opened: the target serves on its port.
func (t *transcript) connect(s *Session, c *Conn, seq uint64) {
	t.exchange(s, decode.Exchange{Protocol: parserOf(c.probe), Server: netip.AddrPortFrom(s.t.Addr, c.port),
		Conn: c.id, Connected: true, Frame: seq})
}

// tcpExchange decodes a request and its whole answer on c.
func (t *transcript) tcpExchange(s *Session, c *Conn, seq uint64, req, ans []byte) {
	t.exchange(s, decode.Exchange{Protocol: parserOf(c.probe), Server: netip.AddrPortFrom(s.t.Addr, c.port),
		Conn: c.id, Request: req, Answer: ans, Frame: seq})
}

// endConn forgets what the decoder kept about c.
func (t *transcript) endConn(s *Session, c *Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dec.EndConn(netip.AddrPortFrom(s.t.Addr, c.port), c.id)
}

// udpExchange decodes a datagram and its answer (nil: none).
func (t *transcript) udpExchange(s *Session, probe string, port uint16, seq uint64, req, ans []byte) {
	t.exchange(s, decode.Exchange{UDP: true, Protocol: parserOf(probe), Server: netip.AddrPortFrom(s.t.Addr, port),
		Request: req, Answer: ans, Frame: seq})
}

// l2Exchange decodes the frames that answered a layer-2 request.
func (t *transcript) l2Exchange(seq uint64, answers [][]byte) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, f := range answers {
		ci := gopacket.CaptureInfo{Timestamp: t.now(), CaptureLength: len(f), Length: len(f)}
		t.dec.Decode(f, ci, layers.LinkTypeEthernet, seq)
	}
}

// flush hands what the decoder learnt to observe.
func (t *transcript) flush() {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.dec.Flush()
	if t.observe == nil || len(b.Obs) == 0 {
		model.RecycleObservations(b.Obs)
		return
	}
	t.observe(b)
}
