// Package decode turns raw frames into model.Observations.
//
// The pipeline, per packet source (one goroutine, one Decoder):
//
//	capture.Source.ZeroCopyReadPacketData   the source owns the buffer
//	  -> Decoder.Decode(data, ci)           one DecodingLayerParser, reused layers
//	       hosts   (MAC, IP, VLAN) -> counters, first/last seen
//	       flows   5-tuple table with idle eviction -> conversations, services
//	       slow path for rare frames: ARP, LLDP, CDP, DHCPv4, DNS/mDNS, NetBIOS
//	  -> Decoder.FlushNew() model.Batch     every few thousand packets or 100 ms:
//	                                        what is new (hosts, flows, facts, services)
//	  -> Decoder.Flush() model.Batch        every 500 ms: the counters of known
//	                                        hosts and flows too
//
// In steady state (known hosts, known flows) Decode allocates nothing: decoded
// addresses are copied into netip.Addr and model.MAC values, tables are keyed
// by value, and observations are produced only when something new is learnt
// or at Flush time. Frames that cannot be decoded are counted, never dropped
// silently: a frame whose IP header is cut still records its Ethernet sender.
//
// The active scanner's answers take a second way in, without frames:
// Decoder.DecodeExchange reads one request and its answer as application
// payloads (an Exchange: transport, protocol, server endpoint, payloads)
// with the same parsers, chosen by the probed protocol whatever port the
// server answered on. It describes the server only; the prober, the
// client, is never an observation's subject.
//
// A Decoder is not safe for concurrent use.
package decode
