package scan

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/gopacket"

	"otscope/model"
	"otscope/scan/capture"
	"otscope/scan/plant"
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

// liveReplay is a capture file that calls itself live and whose frames
// arrive one a millisecond (in a synctest bubble: simulated time).
type liveReplay struct{ capture.Source }

func (l liveReplay) Live() bool { return true }

func (l liveReplay) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	time.Sleep(time.Millisecond)
	return l.Source.ZeroCopyReadPacketData()
}

// A live read waits for a consumer that is behind, while the capture ring
// holds what arrives, and drops a batch only when the consumer has not
// taken one for liveQueueWait.
func TestIngestLiveWaitsForASlowConsumer(t *testing.T) {
	raw := planttest.Pcap(t, 30*time.Second)
	for _, c := range []struct {
		name  string
		stall time.Duration // how long the consumer stops after its first batch
		drops bool
	}{
		{"behind", 3 * 100 * time.Millisecond, false},
		{"stalled", 3 * liveQueueWait, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src, err := capture.OpenReader("plant.pcap", bytes.NewReader(raw), capture.Options{})
				if err != nil {
					t.Fatal(err)
				}
				out := make(chan model.Batch, 1)
				got := make(chan model.CaptureStats)
				go func() {
					var last model.CaptureStats
					first := true
					for b := range out {
						last = b.Stats
						if first || !c.drops {
							time.Sleep(c.stall) // slower than the flushes (100 ms)
							first = false
						}
					}
					got <- last
				}()
				st, err := Ingest(context.Background(), liveReplay{src}, out, IngestOptions{})
				close(out)
				last := <-got
				if err != nil {
					t.Fatal(err)
				}
				if st.Packets == 0 || !last.Done {
					t.Fatalf("stats %+v, last batch %+v", st, last)
				}
				if (last.QueueDrops > 0) != c.drops {
					t.Errorf("consumer %s: %d packets' batches dropped of %d", c.name, last.QueueDrops, st.Packets)
				}
			})
		})
	}
}

// countingSource counts the frames read from it.
type countingSource struct {
	capture.Source
	n atomic.Int64
}

func (c *countingSource) ZeroCopyReadPacketData() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := c.Source.ZeroCopyReadPacketData()
	if err == nil {
		c.n.Add(1)
	}
	return data, ci, err
}

// sums adds up the packets each host and conversation observation reports.
func sums(batches []model.Batch) map[string]uint64 {
	out := map[string]uint64{}
	for _, b := range batches {
		for _, o := range b.Obs {
			switch o.Kind {
			case model.ObsHost:
				out["host "+o.Subject.MAC.String()+" "+o.Subject.IP.String()] += o.Packets
			case model.ObsConversation:
				out["conv "+o.Subject.IP.String()+">"+o.Peer.IP.String()+" "+o.Transport+strconv.Itoa(int(o.Port))] += o.Packets
			}
		}
	}
	return out
}

// A file read whose consumer has every slot taken (a session writing a large
// save) goes on decoding rather than wait, and what it hands over once the
// consumer is back adds up to the same counters as a read that never waited,
// a counters flush cut short included.
func TestIngestDecodesAheadOfABusyConsumer(t *testing.T) {
	// more hosts and flows than one counters part carries (flushPart)
	var buf bytes.Buffer
	if _, err := plant.WritePcap(&buf, plant.Options{Seed: 1, MaxPackets: 60_000, Fleet: 1500}); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	var total int64 // frames in the capture, from the read that never waits
	read := func(stall bool) ([]model.Batch, model.CaptureStats) {
		src, err := capture.OpenReader("plant.pcap", bytes.NewReader(raw), capture.Options{})
		if err != nil {
			t.Fatal(err)
		}
		cs := &countingSource{Source: src}
		out := make(chan model.Batch, 2)
		type result struct {
			st  model.CaptureStats
			err error
		}
		done := make(chan result, 1)
		go func() {
			st, err := Ingest(context.Background(), cs, out, IngestOptions{FlushPackets: 5000, CountersEvery: time.Nanosecond})
			close(out)
			done <- result{st, err}
		}()
		var batches []model.Batch
		take := func(b model.Batch) {
			b.Obs = slices.Clone(b.Obs)
			batches = append(batches, b)
		}
		if stall {
			// take batches until part of the capture is read, then none
			// until the decoder has read all of it
			for b := range out {
				take(b)
				if cs.n.Load() > total/4 {
					break
				}
			}
			at := cs.n.Load()
			for deadline := time.Now().Add(30 * time.Second); cs.n.Load() < total; time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the decoder waited behind a busy consumer: it read %d of the %d frames after %d",
						cs.n.Load()-at, total-at, at)
				}
			}
		}
		for b := range out {
			take(b)
		}
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		return batches, r.st
	}
	free, stFree := read(false)
	total = int64(stFree.Packets)
	busy, stBusy := read(true)
	if stBusy.Packets != stFree.Packets || stBusy.Packets == 0 {
		t.Fatalf("read %d packets with a busy consumer, %d without", stBusy.Packets, stFree.Packets)
	}
	want, got := sums(free), sums(busy)
	if len(want) == 0 || !maps.Equal(want, got) {
		t.Fatalf("counters differ with a busy consumer:\nwithout %v\nwith    %v", want, got)
	}
}
