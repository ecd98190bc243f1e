package model

import (
	"net/netip"
	"reflect"
	"testing"
	"time"
)

func TestWiden(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	ip := netip.MustParseAddr("10.0.0.5")
	stored := Asset{
		ID: "ip:10.0.0.5", Packets: 10, Bytes: 600, FirstSeen: t0, LastSeen: t0.Add(time.Minute),
		Services: []Service{{Transport: "tcp", Port: 502, Protocol: "modbus", IP: ip, FirstSeen: t0, LastSeen: t0}},
		Facts:    []Fact{{Field: FieldVendor, Value: "Schneider", Count: 2, LastSeen: t0}},
	}
	now := stored.Clone()
	now.Packets, now.Bytes, now.FirstSeen, now.LastSeen = 50, 3000, t0.Add(-time.Hour), t0.Add(time.Hour)
	now.Services[0].LastSeen = t0.Add(time.Hour)
	now.Facts[0].Count, now.Facts[0].LastSeen = 9, t0.Add(time.Hour)
	c := now.Counters()

	got := stored.Clone()
	got.Widen(&c)
	if !reflect.DeepEqual(got, now) {
		t.Fatalf("widened:\ngot  %+v\nwant %+v", got, now)
	}
	got.Widen(&c) // twice is once
	if !reflect.DeepEqual(got, now) {
		t.Errorf("widened twice:\ngot  %+v\nwant %+v", got, now)
	}

	// older counters change nothing, nor do another asset's, nor services
	// and facts the asset does not have
	old := stored.Counters()
	got = now.Clone()
	got.Widen(&old)
	other := c
	other.ID, other.Packets = "ip:10.0.0.6", 1e6
	got.Widen(&other)
	stray := AssetCounters{ID: now.ID,
		Services: []ServiceSeen{{Transport: "udp", Port: 502, IP: ip, LastSeen: t0.Add(48 * time.Hour)}},
		Facts:    []FactSeen{{Field: FieldVendor, Value: "Siemens", Count: 99}},
	}
	got.Widen(&stray)
	if !reflect.DeepEqual(got, now) {
		t.Errorf("older, foreign or stray counters changed the asset:\ngot  %+v\nwant %+v", got, now)
	}
}

func TestWidenConversation(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	stored := Conversation{Client: "ip:10.0.0.9", Server: "ip:10.0.0.5", ClientIP: netip.MustParseAddr("10.0.0.9"),
		ServerIP: netip.MustParseAddr("10.0.0.5"), Transport: "tcp", Port: 502, Protocol: "modbus",
		Packets: 10, Bytes: 900, Flows: 1, FirstSeen: t0, LastSeen: t0.Add(time.Minute)}
	now := stored
	now.Server, now.Packets, now.Bytes, now.Flows, now.LastSeen = "mac:00:0e:8c:01:02:03", 40, 3600, 3, t0.Add(time.Hour)
	k := now.Counters()
	got := stored
	got.Widen(&k)
	got.Widen(&k)
	if got != now {
		t.Fatalf("widened (twice):\ngot  %+v\nwant %+v", got, now)
	}
	old := stored.Counters()
	old.Server = "ip:10.0.0.77" // an older record's end does not win
	other := k
	other.Key = "x"
	got = now
	got.Widen(&old)
	got.Widen(&other)
	if got != now {
		t.Errorf("older or foreign counters changed the conversation:\ngot  %+v\nwant %+v", got, now)
	}
}
