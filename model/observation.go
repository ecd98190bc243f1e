package model

import (
	"net/netip"
	"time"
)

// Endpoint is a station as one frame shows it.
type Endpoint struct {
	MAC  MAC        `json:"mac,omitzero"`
	IP   netip.Addr `json:"ip,omitzero"`
	VLAN uint16     `json:"vlan,omitempty"`
	// Sub names a device behind a protocol router at MAC/IP, which has no
	// address of its own on this network: "bacnet-net4:86" for BACnet
	// network 4, MAC 86 (see SubAssetID).
	Sub string `json:"sub,omitempty"`
}

// Binding says how strongly an observation ties Endpoint.IP to Endpoint.MAC.
type Binding uint8

// Bindings, weakest first.
const (
	// BindNone: the IP and MAC only appeared together in a frame header. A
	// router forwards for many IPs with its own MAC, so this is weak.
	BindNone Binding = iota
	// BindClaimed: the station itself claimed the IP (ARP sender, gratuitous
	// ARP, DHCP ACK to its hardware address, LLDP/CDP management address).
	BindClaimed
)

// ObsKind is the kind of an Observation.
type ObsKind uint8

// Observation kinds.
const (
	// ObsHost: Subject sent a frame (presence, addresses, VLAN, counters).
	ObsHost ObsKind = iota + 1
	// ObsFact: Subject has Fact.
	ObsFact
	// ObsService: Subject answers on Service.
	ObsService
	// ObsConversation: Subject (client) talked to Peer (server).
	ObsConversation
)

var obsKindNames = [...]string{"", "host", "fact", "service", "conversation"}

// String names the kind.
func (k ObsKind) String() string {
	if int(k) < len(obsKindNames) {
		return obsKindNames[k]
	}
	return "unknown"
}

// Observation is one thing a packet source or probe learnt. Observations
// hold values only (no slices into packet memory). Only the fields that
// belong to Kind are set.
type Observation struct {
	Kind    ObsKind
	Subject Endpoint
	Binding Binding
	// Host: Packets/Bytes are deltas since the last observation of the host.
	// Conversation: deltas for the conversation; Flows counts new flows.
	Packets, Bytes, Flows uint64
	First, Last           time.Time
	Fact                  Fact
	Service               Service
	Peer                  Endpoint
	Transport             string
	Port                  uint16
	Protocol              string
	// Identified is set when Protocol (of a conversation or service) was
	// recognised from the payload rather than guessed from the port; it
	// then replaces the port's guess.
	Identified bool
	// Source says where this observation came from (host and service
	// observations carry the protocol that revealed them).
	Source Source
}

// Conversation is one row of the communication matrix: a client asset
// talking to a server asset on one transport, port and protocol.
type Conversation struct {
	Client   AssetID    `json:"client"`
	Server   AssetID    `json:"server"`
	ClientIP netip.Addr `json:"client_ip,omitzero"`
	ServerIP netip.Addr `json:"server_ip,omitzero"`
	// ClientMAC and ServerMAC are set for layer-2 conversations (no IP).
	ClientMAC MAC       `json:"client_mac,omitzero"`
	ServerMAC MAC       `json:"server_mac,omitzero"`
	Transport string    `json:"transport"`
	Port      uint16    `json:"port"`
	Protocol  string    `json:"protocol"`
	Packets   uint64    `json:"packets"`
	Bytes     uint64    `json:"bytes"`
	Flows     uint64    `json:"flows"`
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// Key identifies the conversation within a session. It is built from the
// addresses (IP, else MAC), not the asset IDs, so it stays the same when an
// address moves to another asset; the protocol is not part of it, because a
// payload may name the protocol better than the port did (Protocol changes).
func (c Conversation) Key() string {
	return endpointKey(c.ClientIP, c.ClientMAC) + ">" + endpointKey(c.ServerIP, c.ServerMAC) +
		"|" + c.Transport + "/" + itoa(int(c.Port))
}

func endpointKey(ip netip.Addr, mac MAC) string {
	if ip.IsValid() {
		return ip.String()
	}
	return mac.String()
}

// CaptureStats are the counters of one packet source.
type CaptureStats struct {
	Source string `json:"source"`
	// Live is true for an interface, false for files and the demo.
	Live    bool   `json:"live"`
	Packets uint64 `json:"packets"`
	Bytes   uint64 `json:"bytes"`
	// Truncated counts frames shorter than on the wire (snap length) or cut
	// inside a header; Undecodable counts frames with no usable layer.
	Truncated    uint64 `json:"truncated"`
	Undecodable  uint64 `json:"undecodable"`
	DecodeErrors uint64 `json:"decode_errors"`
	// KernelDrops are drops the interface reported; QueueDrops are batches
	// otscope dropped because the consumer was too slow (live capture only).
	KernelDrops  uint64    `json:"kernel_drops"`
	QueueDrops   uint64    `json:"queue_drops"`
	ActiveFlows  uint64    `json:"active_flows"`
	EvictedFlows uint64    `json:"evicted_flows"`
	FirstPacket  time.Time `json:"first_packet"`
	LastPacket   time.Time `json:"last_packet"`
	// Started and Updated are wall-clock times, for packets per second.
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated"`
	// Done is set when the source reached its end (or failed: Err).
	Done bool   `json:"done"`
	Err  string `json:"error,omitempty"`
}

// Batch is what a packet source hands downstream: observations plus its
// current counters.
type Batch struct {
	Obs   []Observation
	Stats CaptureStats
}

// Update is what the inventory hands to its watchers (the TUI): the assets and
// conversations changed since the last update, as copies, plus counters.
type Update struct {
	Assets []Asset
	// AssetCounters and ConversationCounters are the assets and
	// conversations whose only change is their counters and times, for a
	// consumer that asked for them apart (the store); for others they are
	// in Assets and Conversations.
	AssetCounters        []AssetCounters
	ConversationCounters []ConversationCounters
	Removed              []AssetID
	Conversations        []Conversation
	Stats                []CaptureStats
	// Reset means: forget what you hold, this update is a full snapshot.
	Reset bool
}

// SessionInfo describes a stored session.
type SessionInfo struct {
	Name          string    `json:"name"`
	Created       time.Time `json:"created"`
	Updated       time.Time `json:"updated"`
	Assets        int       `json:"assets"`
	Conversations int       `json:"conversations"`
	Packets       uint64    `json:"packets"`
	Sources       []string  `json:"sources"`
}

// BatchObservations is the capacity of the observation slices batches are
// built in: about 1.3 MB. A decoder hands over the counters of a large
// plant in parts that fit (scan.Ingest), so steady capture reuses a few
// slices of this size.
const BatchObservations = 2048

// freeObservations holds the slices handed back: a bounded list, not a
// sync.Pool, which every garbage collection would empty (at 10,000 assets
// a collection comes every few batches, and each empty pool cost a fresh
// 1.3 MB slice). At most 4 wait, the batches a source and a session keep
// in flight.
var freeObservations = make(chan []Observation, 4)

// NewObservations returns an empty slice of at least BatchObservations
// capacity, a recycled one when one is free.
func NewObservations() []Observation {
	select {
	case s := <-freeObservations:
		return s
	default:
		return make([]Observation, 0, BatchObservations)
	}
}

// RecycleObservations hands back a batch's slice, at the length it came
// with, once nothing refers to its elements any more (the consumer copied
// what it keeps). A slice that grew past twice BatchObservations (the first
// batches of a large plant, where everything is new) is dropped rather
// than kept, and so is one when the free list is full.
func RecycleObservations(s []Observation) {
	if cap(s) < BatchObservations || cap(s) > 2*BatchObservations {
		return
	}
	clear(s) // past len it is zero already: append writes only below len
	select {
	case freeObservations <- s[:0]:
	default:
	}
}
