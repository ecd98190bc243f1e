package ui

import (
	"net/netip"
	"reflect"
	"slices"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"otscope/model"
)

// storedSnapshot is bigSnapshot(n) as a finished capture: no live source.
func storedSnapshot(n int) model.Update {
	u := bigSnapshot(n)
	u.Stats = fixtureStats(0)[:1] // the file, done
	return u
}

// countersOnly is what a capture that only counts known traffic sends:
// the same assets and conversations with more packets and later times.
func countersOnly(snap model.Update, round int) model.Update {
	var u model.Update
	d := time.Duration(round+1) * time.Second
	for i := range snap.Assets[:50] {
		a := snap.Assets[i].Clone()
		a.Packets += uint64(round + 1)
		a.Bytes += 64 * uint64(round+1)
		a.LastSeen = a.LastSeen.Add(d)
		for j := range a.Services {
			a.Services[j].LastSeen = a.Services[j].LastSeen.Add(d)
		}
		for j := range a.Facts {
			a.Facts[j].Count += uint64(round + 1)
			a.Facts[j].LastSeen = a.Facts[j].LastSeen.Add(d)
			a.Facts[j].Source.Frame += 1000
		}
		u.Assets = append(u.Assets, a)
	}
	for i := range snap.Conversations[:50] {
		c := snap.Conversations[i]
		c.Packets += 10
		c.Bytes += 640
		c.LastSeen = c.LastSeen.Add(d)
		u.Conversations = append(u.Conversations, c)
	}
	return u
}

// idleModel is a stored 300-asset session, analysed, past its settle time.
func idleModel(t *testing.T, cfg Config) (Model, model.Update) {
	t.Helper()
	snap := storedSnapshot(300)
	m := New(cfg)
	m = send(t, m, tea.WindowSizeMsg{Width: 80, Height: 24}, UpdatesMsg{Updates: []model.Update{snap}})
	m.analyseNow()
	_ = m.View()
	return m, snap
}

// TestIdleDoesNoWork holds the TUI's idle at zero: with nothing arriving
// the clock does not keep itself running, no analysis starts, and
// counter-only updates (a capture counting known traffic) start none.
func TestIdleDoesNoWork(t *testing.T) {
	cfg := testConfig(make(chan model.Update))
	cfg.Ledger = nil // no slow check of inventory states: nothing at all is due
	m, snap := idleModel(t, cfg)
	runs := m.an.runs
	if m.an.dirty {
		t.Fatal("analysis still pending after analyseNow")
	}

	for round := range 20 {
		m = send(t, m, UpdatesMsg{Updates: []model.Update{countersOnly(snap, round)}})
		if m.an.dirty || m.an.runs != runs {
			t.Fatalf("round %d: counter-only update made the analysis due (dirty %v, runs %d → %d)", round, m.an.dirty, runs, m.an.runs)
		}
	}
	if a, _ := m.state.Asset(snap.Assets[0].ID); a.Packets == snap.Assets[0].Packets {
		t.Fatal("counter updates were not applied to the state")
	}

	// the settle time after the last change is over: the clock fires
	// once more and must not re-arm itself
	m.clk.quietAt = time.Time{}
	if m.ticking() {
		t.Fatalf("a finished capture still ticks (phase %v)", m.state.Phase())
	}
	for i := range 100 {
		nm, cmd := m.Update(clockMsg{gen: m.clk.gen, at: fixtureNow.Add(time.Duration(i) * time.Second)})
		m = nm.(Model)
		if cmd != nil {
			t.Fatalf("idle tick %d scheduled work: %T", i, cmd())
		}
		if m.clk.pending {
			t.Fatalf("idle tick %d re-armed the clock", i)
		}
		_ = m.View()
	}
	if m.an.runs != runs {
		t.Fatalf("%d analyses ran while idle", m.an.runs-runs)
	}

	// a change of content makes one due, and the clock wakes for it
	changed := snap.Assets[7].Clone()
	changed.Names = append(changed.Names, "renamed-plc")
	m = send(t, m, UpdatesMsg{Updates: []model.Update{{Assets: []model.Asset{changed}}}})
	if !m.an.dirty && m.an.runs == runs {
		t.Fatal("a renamed asset did not make an analysis due")
	}
	if !m.clk.pending {
		t.Fatal("the clock was not armed after a change")
	}
}

// TestIdleWithLedgerChecksStatesSlowly: with a session ledger the only
// timer left while idle is the check of inventory states every
// StatesEvery, and it starts no analysis while the states are unchanged.
func TestIdleWithLedgerChecksStatesSlowly(t *testing.T) {
	m, _ := idleModel(t, testConfig(make(chan model.Update)))
	runs := m.an.runs
	m.clk.quietAt = time.Time{}
	for i := range 20 {
		nm, _ := m.Update(clockMsg{gen: m.clk.gen, at: fixtureNow.Add(time.Duration(i) * StatesEvery)})
		m = nm.(Model)
		if !m.clk.pending {
			t.Fatalf("tick %d: the states check was not re-armed", i)
		}
		if left := time.Until(m.clk.at); left < StatesEvery-time.Second {
			t.Fatalf("tick %d: idle clock re-armed in %v, want %v", i, left, StatesEvery)
		}
	}
	if m.an.runs != runs {
		t.Fatalf("%d analyses ran while idle", m.an.runs-runs)
	}
}

// TestContentChanged tells content changes from counter changes.
func TestContentChanged(t *testing.T) {
	m, snap := idleModel(t, testConfig(make(chan model.Update)))
	one := func(f func(a *model.Asset)) []model.Update {
		a := snap.Assets[3].Clone()
		f(&a)
		return []model.Update{{Assets: []model.Asset{a}}}
	}
	if contentChanged(m.state, []model.Update{countersOnly(snap, 0)}) {
		t.Error("counters and times reported as a content change")
	}
	for name, u := range map[string][]model.Update{
		"new fact":     one(func(a *model.Asset) { a.Facts = append(a.Facts, model.Fact{Field: "firmware", Value: "V4.2"}) }),
		"firmware":     one(func(a *model.Asset) { a.Firmware = "V4.2" }),
		"new service":  one(func(a *model.Asset) { a.Services = append(a.Services, model.Service{Transport: "tcp", Port: 502}) }),
		"new address":  one(func(a *model.Asset) { a.IPs = append(a.IPs, netip.MustParseAddr("10.9.9.9")) }),
		"protocol ids": one(func(a *model.Asset) { a.ProtocolIDs = &model.ProtocolIDs{AMSNetID: "1.2.3.4.1.1"} }),
		"role":         one(func(a *model.Asset) { a.Roles = []string{"hmi"} }),
		"new asset":    {{Assets: []model.Asset{{ID: "ip:10.200.0.1"}}}},
		"removed":      {{Removed: []model.AssetID{snap.Assets[0].ID}}},
		"reset":        {{Reset: true}},
		"new conversation": {{Conversations: []model.Conversation{{Client: snap.Assets[1].ID, Server: snap.Assets[2].ID,
			Transport: "udp", Port: 47808, Protocol: "bacnet"}}}},
	} {
		if !contentChanged(m.state, u) {
			t.Errorf("%s: not reported as a content change", name)
		}
	}
}

// TestSameAssetContentKnowsEveryField fails when model.Asset gains a field
// that sameAssetContent does not consider: decide whether it is content
// (compare it) or a counter (list it here).
func TestSameAssetContentKnowsEveryField(t *testing.T) {
	known := []string{"ID", "MACs", "IPs", "VLANs", "Vendor", "Names", "Roles", "Services", "Protocols", "FirstSeen",
		"LastSeen", "Packets", "Bytes", "Gateway", "Product", "OrderNumber", "Firmware", "HardwareVersion", "Serial",
		"DeviceType", "OperatingMode", "Modules", "ProtocolIDs", "Facts"}
	check := func(typ reflect.Type, known []string) {
		for i := range typ.NumField() {
			if f := typ.Field(i); !slices.Contains(known, f.Name) {
				t.Errorf("%s.%s is new: sameAssetContent must compare it or this test list it as a counter", typ.Name(), f.Name)
			}
		}
	}
	check(reflect.TypeFor[model.Asset](), known)
	check(reflect.TypeFor[model.ProtocolIDs](), []string{"CIPVendorID", "CIPProductCode", "BACnetInstance", "BACnetVendorID",
		"ProfinetStationName", "ProfinetVendorID", "ProfinetDeviceID", "ModbusUnitIDs", "DNP3Addresses",
		"IEC104CommonAddresses", "AMSNetID", "OPCUAApplicationURI", "SNMPSysObjectID"})
	check(reflect.TypeFor[model.Service](), []string{"Transport", "Port", "Protocol", "IP", "FirstSeen", "LastSeen"})
	check(reflect.TypeFor[model.Fact](), []string{"Field", "Value", "Detail", "Source", "LastSeen", "Count"})
}

// TestClockTicksWhileLive: while a live source runs, ages and packets/s
// move with the clock, so it ticks once a second even without changes.
func TestClockTicksWhileLive(t *testing.T) {
	m := fixtureModel(t, 80, 24) // a live interface that is still capturing
	m.clk.quietAt = time.Time{}
	if !m.ticking() {
		t.Fatalf("a live capture does not tick (phase %v)", m.state.Phase())
	}
	nm, _ := m.Update(clockMsg{gen: m.clk.gen, at: fixtureNow})
	m = nm.(Model)
	if left := time.Until(m.clk.at); !m.clk.pending || left > time.Second {
		t.Fatalf("live clock re-armed: pending %v in %v, want within 1s", m.clk.pending, left)
	}
	// a timer superseded by a sooner one is dropped without work
	gen := m.clk.gen
	nm, cmd := m.Update(clockMsg{gen: gen - 1, at: fixtureNow})
	m = nm.(Model)
	if cmd != nil || m.clk.gen != gen || !m.clk.pending {
		t.Fatal("a stale timer did work or disturbed the pending one")
	}
}
