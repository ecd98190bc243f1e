// Package probe is otscope's active scanner: read-only identification
// requests under a hard packet budget.
//
// Everything a probe sends goes through one choke point, the Session of its
// target. A Session refuses addresses outside the Scope, request kinds off
// the allow-list (each payload is dissected the way the device will read
// it, see Check), payloads over one MTU, and anything the Budget cannot
// fit: a global and a per-host packet cap, both hard in every sliding
// second, counting handshakes, ACKs, closes and retransmissions as the
// kernel reports them (TCP_INFO), at most one open connection per target
// and a few targets in flight. Every request becomes one model.ScanRecord
// in the packet log, and every request and its answer go, as the payloads
// they are, to the passive decoders (decode.Decoder.DecodeExchange) so
// that they yield the same facts a capture would, with source kind Active
// and the service on the port the scan reached.
//
// A scan is Scope -> Targets -> BuildPlan (what would be sent, printable
// with Plan.Write, nothing sent yet) -> Scanner.Run. Stop is the panic key:
// pending reservations fail at once and open connections are reset.
//
// The choke point reads Linux socket state (TCP_INFO, TCP_SYNCNT, AF_PACKET):
// the package builds for Linux only, like the hosts otscope scans from.
package probe
