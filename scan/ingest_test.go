package scan

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"otscope/model"
	"otscope/scan/capture"
	"otscope/scan/plant/planttest"
)

func drain(out chan model.Batch) (obs int, last model.CaptureStats) {
	for b := range out {
		obs += len(b.Obs)
		last = b.Stats
	}
	return
}

func TestIngestReadsEverything(t *testing.T) {
	raw := planttest.Pcap(t, 30*time.Second)
	src, err := capture.OpenReader("plant.pcap", bytes.NewReader(raw), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan model.Batch, 1024)
	st, err := Ingest(context.Background(), src, out, IngestOptions{FlushPackets: 500})
	close(out)
	if err != nil {
		t.Fatal(err)
	}
	obs, last := drain(out)
	if st.Packets == 0 || st.Packets != src.Stats().Delivered() || !last.Done || last.Packets != st.Packets {
		t.Errorf("stats = %+v, last batch %+v, source delivered %d", st, last, src.Stats().Delivered())
	}
	if obs == 0 || st.Undecodable != 0 || st.DecodeErrors != 0 {
		t.Errorf("obs %d, undecodable %d, decode errors %d", obs, st.Undecodable, st.DecodeErrors)
	}
}

func TestIngestTruncatedReportsAndKeeps(t *testing.T) {
	raw := planttest.Pcap(t, 20*time.Second)
	cut := raw[:len(raw)/2+3]
	src, err := capture.OpenReader("cut.pcap", bytes.NewReader(cut), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan model.Batch, 1024)
	st, err := Ingest(context.Background(), src, out, IngestOptions{})
	close(out)
	var te *capture.TruncatedError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a TruncatedError", err)
	}
	if _, last := drain(out); last.Err == "" || st.Packets == 0 {
		t.Errorf("truncation not in the final stats (%q) or nothing read (%d)", last.Err, st.Packets)
	}
}

func TestIngestPacesAndStops(t *testing.T) {
	raw := planttest.Pcap(t, 10*time.Second)
	src, err := capture.OpenReader("plant.pcap", bytes.NewReader(raw), capture.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan model.Batch, 1024)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	st, _ := Ingest(ctx, src, out, IngestOptions{Pace: 1})
	close(out)
	el := time.Since(start)
	if el < 250*time.Millisecond || el > 2*time.Second {
		t.Errorf("paced read took %s, want about 300 ms (cancelled)", el)
	}
	if st.Packets == 0 || st.Packets >= src.Stats().Packets+1000 {
		t.Errorf("read %d packets", st.Packets)
	}
	if st.LastPacket.Sub(st.FirstPacket) > 2*time.Second {
		t.Errorf("real-time pace read %s of capture time in 300 ms", st.LastPacket.Sub(st.FirstPacket))
	}
}
