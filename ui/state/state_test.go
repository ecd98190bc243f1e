package state

import (
	"testing"
	"time"

	"otscope/model"
)

func TestApply(t *testing.T) {
	s := New()
	a := model.Asset{ID: "mac:00:00:00:00:00:01", Names: []string{"A"}}
	b := model.Asset{ID: "mac:00:00:00:00:00:02"}
	c := model.Conversation{Client: a.ID, Server: b.ID, Transport: "tcp", Port: 102, Protocol: "s7comm", Packets: 1}
	ch := s.Apply([]model.Update{{Assets: []model.Asset{a, b}, Conversations: []model.Conversation{c}}})
	if s.NumAssets() != 2 || !ch.AssetChanged(a.ID) || len(ch.Conversations) != 1 {
		t.Fatalf("apply: %d assets, change %+v", s.NumAssets(), ch)
	}
	c.Packets = 5
	s.Apply([]model.Update{{Conversations: []model.Conversation{c}, Removed: []model.AssetID{b.ID}}})
	if got, _ := s.Conversation(c.Key()); got.Packets != 5 || s.NumConversations() != 1 {
		t.Fatalf("conversation not replaced by key: %+v", got)
	}
	if len(s.ConversationsOf(a.ID)) != 1 || len(s.ConversationsOf(b.ID)) != 1 {
		t.Fatal("conversation index lists the conversation more than once")
	}
	if s.Label(b.ID) != "00:00:00:00:00:02" || s.Label(a.ID) != "A" {
		t.Fatal("labels wrong after removal")
	}
	ch = s.Apply([]model.Update{{Assets: []model.Asset{b}}, {Reset: true, Assets: []model.Asset{a}}})
	if !ch.Reset || s.NumAssets() != 1 || s.NumConversations() != 0 || len(ch.Assets) != 1 {
		t.Fatalf("reset: %d assets %d convs change %+v", s.NumAssets(), s.NumConversations(), ch)
	}
}

func TestSampleAndPhase(t *testing.T) {
	s := New()
	if s.Phase() != Waiting {
		t.Fatalf("phase %v, want waiting", s.Phase())
	}
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	st := model.CaptureStats{Source: "iface:eth0", Live: true, Packets: 100}
	s.Apply([]model.Update{{Stats: []model.CaptureStats{st}}})
	s.Sample(t0)
	st.Packets = 400
	s.Apply([]model.Update{{Stats: []model.CaptureStats{st}}})
	s.Sample(t0.Add(2 * time.Second))
	src := s.Sources()[0]
	if len(src.History) != 1 || src.PPS() != 150 {
		t.Fatalf("history %v, want [150]", src.History)
	}
	if s.Phase() != Running {
		t.Fatalf("phase %v, want running", s.Phase())
	}
	s.SetClosed()
	if s.Phase() != Stopped {
		t.Fatalf("phase %v, want stopped", s.Phase())
	}
	st.Done = true
	s.Apply([]model.Update{{Stats: []model.CaptureStats{st}}})
	if s.Phase() != Finished {
		t.Fatalf("phase %v, want finished", s.Phase())
	}
	for i := range HistoryLen + 10 {
		s.Sample(t0.Add(time.Duration(3+i) * time.Second))
	}
	if len(src.History) != HistoryLen {
		t.Fatalf("history grew to %d, want %d", len(src.History), HistoryLen)
	}
}

func TestSearchTextAndLatest(t *testing.T) {
	s := New()
	t0 := time.Date(2018, 7, 30, 7, 31, 0, 0, time.UTC)
	a := model.Asset{ID: "mac:00:00:00:00:00:01", Vendor: "Siemens AG", Names: []string{"PLC-1"}, LastSeen: t0.Add(-time.Minute)}
	s.Apply([]model.Update{{Reset: true, Assets: []model.Asset{a}, Stats: []model.CaptureStats{{Source: "f.pcap", LastPacket: t0, Done: true}}}})
	if got := s.SearchText(a.ID); got != "mac:00:00:00:00:00:01 siemens ag plc-1" {
		t.Fatalf("SearchText = %q, want the lower-cased model text", got)
	}
	if !s.Latest().Equal(t0) || s.LiveRunning() {
		t.Fatalf("Latest %v live %v, want %v and not live", s.Latest(), s.LiveRunning(), t0)
	}
	s.Apply([]model.Update{{Removed: []model.AssetID{a.ID}}})
	if s.SearchText(a.ID) != "" {
		t.Fatal("search text kept after removal")
	}
}

func TestIdleWithoutSources(t *testing.T) {
	s := New()
	s.SetNoSources()
	if s.Phase() != Waiting {
		t.Fatalf("before the snapshot phase %v, want waiting", s.Phase())
	}
	s.Apply([]model.Update{{Reset: true}})
	if s.Phase() != Idle {
		t.Fatalf("empty snapshot, no sources: phase %v, want idle", s.Phase())
	}
	s.Apply([]model.Update{{Stats: []model.CaptureStats{{Source: "f.pcap", Done: true}}}})
	if s.Phase() != Finished {
		t.Fatalf("stored counters: phase %v, want finished", s.Phase())
	}
}
