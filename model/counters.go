package model

import (
	"net/netip"
	"time"
)

// AssetCounters is the part of a known asset that its traffic keeps
// changing: packets, bytes, first and last seen, and the last seen time of
// each service and the count and last seen time of each fact. On a busy
// plant nearly every asset changes only in these between two saves; the
// store writes this small record then instead of the whole asset (an
// Update's Counters), and applies it to the stored asset when it loads it.
type AssetCounters struct {
	ID                  AssetID
	Packets, Bytes      uint64
	FirstSeen, LastSeen time.Time
	Services            []ServiceSeen
	Facts               []FactSeen
}

// ServiceSeen is a service's last seen time, with what identifies the
// service on its asset (as the inventory merges services).
type ServiceSeen struct {
	Transport string
	Port      uint16
	IP        netip.Addr
	LastSeen  time.Time
}

// FactSeen is a fact's count and last seen time, with what identifies the
// fact on its asset (as the inventory merges facts).
type FactSeen struct {
	Field, Value string
	Count        uint64
	LastSeen     time.Time
}

// Counters returns a's counters.
func (a *Asset) Counters() AssetCounters {
	c := AssetCounters{ID: a.ID, Packets: a.Packets, Bytes: a.Bytes, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen}
	if len(a.Services) > 0 {
		c.Services = make([]ServiceSeen, len(a.Services))
		for i, s := range a.Services {
			c.Services[i] = ServiceSeen{Transport: s.Transport, Port: s.Port, IP: s.IP, LastSeen: s.LastSeen}
		}
	}
	if len(a.Facts) > 0 {
		c.Facts = make([]FactSeen, len(a.Facts))
		for i, f := range a.Facts {
			c.Facts[i] = FactSeen{Field: f.Field, Value: f.Value, Count: f.Count, LastSeen: f.LastSeen}
		}
	}
	return c
}

// Widen applies c to a: counters and last seen times grow to c's, first
// seen goes back to c's, each where c's is further. Services and facts of c
// that a does not have are ignored, as is a c of another asset. Widening
// never loses a later value, so an older c leaves a as it is and applying c
// twice is applying it once.
func (a *Asset) Widen(c *AssetCounters) {
	if c.ID != a.ID {
		return
	}
	a.Packets = max(a.Packets, c.Packets)
	a.Bytes = max(a.Bytes, c.Bytes)
	if !c.FirstSeen.IsZero() && (a.FirstSeen.IsZero() || c.FirstSeen.Before(a.FirstSeen)) {
		a.FirstSeen = c.FirstSeen
	}
	a.LastSeen = later(a.LastSeen, c.LastSeen)
	for _, s := range c.Services {
		for i := range a.Services {
			e := &a.Services[i]
			if e.Port == s.Port && e.Transport == s.Transport && e.IP == s.IP {
				e.LastSeen = later(e.LastSeen, s.LastSeen)
				break
			}
		}
	}
	for _, f := range c.Facts {
		for i := range a.Facts {
			e := &a.Facts[i]
			if e.Field == f.Field && e.Value == f.Value {
				e.Count = max(e.Count, f.Count)
				e.LastSeen = later(e.LastSeen, f.LastSeen)
				break
			}
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ConversationCounters is the part of a known conversation that its
// traffic keeps changing: packets, bytes, flows, first and last seen, and
// the assets at its ends (an address can move to another asset without
// the conversation changing otherwise). Key is the conversation's Key.
type ConversationCounters struct {
	Key                 string
	Client, Server      AssetID
	Packets, Bytes      uint64
	Flows               uint64
	FirstSeen, LastSeen time.Time
}

// Counters returns c's counters.
func (c *Conversation) Counters() ConversationCounters {
	return ConversationCounters{Key: c.Key(), Client: c.Client, Server: c.Server, Packets: c.Packets, Bytes: c.Bytes,
		Flows: c.Flows, FirstSeen: c.FirstSeen, LastSeen: c.LastSeen}
}

// Widen applies k to c as Asset.Widen does; the ends are k's only when k
// was seen later than c (an older k leaves them as they are). k of another
// conversation is ignored.
func (c *Conversation) Widen(k *ConversationCounters) {
	if k.Key != c.Key() {
		return
	}
	if k.LastSeen.After(c.LastSeen) {
		c.Client, c.Server, c.LastSeen = k.Client, k.Server, k.LastSeen
	}
	c.Packets = max(c.Packets, k.Packets)
	c.Bytes = max(c.Bytes, k.Bytes)
	c.Flows = max(c.Flows, k.Flows)
	if !k.FirstSeen.IsZero() && (c.FirstSeen.IsZero() || k.FirstSeen.Before(c.FirstSeen)) {
		c.FirstSeen = k.FirstSeen
	}
}
