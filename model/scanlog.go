package model

import (
	"net/netip"
	"time"
)

// ScanRecord is one line of the active scanner's packet log: a request it
// sent (or a connection it opened or closed), what answered, and how many
// packets it put on the wire for it. The log is kept in the session so a
// plant can file it with its change record.
type ScanRecord struct {
	// Scan names the scan run (its start time, RFC 3339); Seq numbers the
	// records of one run from 1.
	Scan string    `json:"scan"`
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	// Target and Port are where the request went; Transport is "tcp",
	// "udp" or "l2" (Ethernet: ARP, PROFINET DCP).
	Target    netip.Addr `json:"target"`
	Transport string     `json:"transport"`
	Port      uint16     `json:"port,omitempty"`
	// Probe is the probe that sent it ("s7", "modbus"); Kind the request
	// kind on the allow-list ("s7.szl_read", "tcp.connect").
	Probe string `json:"probe"`
	Kind  string `json:"kind"`
	// Bytes is the request's payload size; Packets the packets the scanner
	// sent for this record (TCP handshake, retransmissions and ACKs of the
	// answer included).
	Bytes   int `json:"bytes"`
	Packets int `json:"packets"`
	// Answer summarises the reply ("3 objects", "exception 01", "timeout",
	// "refused"); AnswerBytes is its size.
	Answer      string `json:"answer"`
	AnswerBytes int    `json:"answer_bytes"`
	// Error is set when the exchange failed (timeout, reset, malformed).
	Error string `json:"error,omitempty"`
}
