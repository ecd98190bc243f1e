package scan

import (
	"context"
	"errors"
	"io"
	"time"

	"otscope/model"
	"otscope/scan/capture"
	"otscope/scan/decode"
)

// IngestOptions configure Ingest.
type IngestOptions struct {
	// Name is the source name shown in statistics (default: the source's).
	Name string
	// Pace replays a capture at capture-time speed times Pace (1 = real
	// time, 10 = ten times faster); 0 reads as fast as possible.
	Pace float64
	// FlushPackets and FlushEvery bound how long observations of something
	// new (a host, flow, fact or service) wait before they are handed
	// downstream. Defaults 8192 packets and 100 ms; a batch is handed over
	// sooner when it is full (decode.Decoder.Full).
	FlushPackets int
	FlushEvery   time.Duration
	// CountersEvery bounds how long the counters of known hosts and flows
	// (packets, bytes, last seen) wait (decode.Decoder.FlushNew). Default
	// 500 ms: the session hands counters to the TUI once a second and to
	// the store less often still.
	CountersEvery time.Duration
	// Progress, when set, is called after every flush with the counters.
	Progress func(model.CaptureStats)
	// Decoder options (origin and liveness are taken from the source).
	Decode decode.Options
}

// flushPart bounds the counters one batch carries (decode.Decoder.FlushPart):
// with what is new, a batch fits the slices model.NewObservations makes.
const flushPart = model.BatchObservations / 2

// liveQueueWait bounds how long a live read waits for the consumer before
// it drops a batch: about what the capture ring (16 blocks of 512 KiB)
// holds of small frames at 50,000 packets per second.
const liveQueueWait = time.Second

// busy reports that a file read would wait to hand over a batch: the
// consumer (a session writing a large save) has every slot of out taken.
// Ingest then goes on decoding until what is new fills a batch
// (decode.Decoder.Full): the counters of known hosts and flows add up in the
// decoder's tables, so decoding ahead holds no more memory than the batch
// being built, and the decoder and the session each keep a core busy rather
// than take turns. (Where several sources share out, a slot seen free may
// be taken first by another; the send then waits, as every send did.)
func busy(src capture.Source, out chan<- model.Batch) bool {
	return !src.Live() && cap(out) > 0 && len(out) == cap(out)
}

// Ingest reads src to its end (or until ctx is done), decoding every frame
// and sending batches to out. File reads block on a full channel (back-
// pressure); live reads wait up to liveQueueWait for room, while the
// capture ring buffers what arrives, and count a batch that still does not
// fit in QueueDrops (frames the ring cannot hold are the kernel's drops).
// It returns the final counters and the errors met: a truncated file is
// reported and reading goes on with the next file.
func Ingest(ctx context.Context, src capture.Source, out chan<- model.Batch, o IngestOptions) (model.CaptureStats, error) {
	if o.FlushPackets <= 0 {
		o.FlushPackets = 8192
	}
	if o.FlushEvery <= 0 {
		o.FlushEvery = 100 * time.Millisecond
	}
	if o.CountersEvery <= 0 {
		o.CountersEvery = 500 * time.Millisecond
	}
	do := o.Decode
	do.Origin = src.Name()
	do.Live = src.Live()
	dec := decode.New(do)
	if o.Name != "" {
		dec.SetSourceName(o.Name)
	}
	var (
		errs       []error
		n          int
		lastFlush  = time.Now()
		lastCount  = lastFlush
		paceStart  time.Time
		firstStamp time.Time
		queueDrops uint64
	)
	// put hands one batch downstream; last marks the final one.
	put := func(b model.Batch, last bool) bool {
		b.Stats.KernelDrops = src.Stats().KernelDrops
		b.Stats.QueueDrops = queueDrops
		if last {
			b.Stats.Done = true
			if err := errors.Join(errs...); err != nil {
				b.Stats.Err = err.Error()
			}
		}
		if src.Live() && !last {
			select {
			case out <- b:
			default:
				// The consumer is behind (a burst of new assets): wait for
				// it while the capture ring holds what arrives, rather
				// than throw away decoded work at once.
				t := time.NewTimer(liveQueueWait)
				select {
				case out <- b:
				case <-t.C:
					queueDrops += uint64(n)
					n = 0 // the packets are counted once, whatever part is lost
				case <-ctx.Done():
					t.Stop()
					return false
				}
				t.Stop()
			}
		} else {
			select {
			case out <- b:
			case <-ctx.Done():
				return false
			}
		}
		if o.Progress != nil {
			o.Progress(b.Stats)
		}
		return true
	}
	send := func(final bool) bool {
		if final || time.Since(lastCount) >= o.CountersEvery {
			for done := false; !done; {
				var b model.Batch
				b, done = dec.FlushPart(flushPart)
				if !put(b, final && done) {
					return false
				}
				if !done && !final && busy(src, out) {
					// The rest waits for the next counters flush, adding up
					// in the decoder's tables. (Handing it over in more
					// parts while the decoder reads ahead would report the
					// flows it meets again in between twice.)
					break
				}
			}
			lastCount = time.Now()
		} else if !put(dec.FlushNew(), false) {
			return false
		}
		n = 0
		lastFlush = time.Now()
		return true
	}
	for {
		if n&255 == 0 && ctx.Err() != nil {
			break
		}
		data, ci, err := src.ZeroCopyReadPacketData()
		if err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			var te *capture.TruncatedError
			if errors.As(err, &te) {
				errs = append(errs, err)
				continue
			}
			if ctx.Err() != nil {
				break
			}
			if errors.Is(err, capture.ErrIdle) {
				// a quiet interface: hand over what was learnt so far
				if dec.Pending() > 0 && time.Since(lastFlush) >= o.FlushEvery && !send(false) {
					break
				}
				continue
			}
			errs = append(errs, err)
			if src.Live() {
				break
			}
			continue
		}
		if name := src.Name(); name != dec.Origin() {
			dec.SetOrigin(name)
		}
		if o.Pace > 0 {
			if paceStart.IsZero() {
				paceStart, firstStamp = time.Now(), ci.Timestamp
			}
			due := paceStart.Add(time.Duration(float64(ci.Timestamp.Sub(firstStamp)) / o.Pace))
			if wait := time.Until(due); wait > 2*time.Millisecond {
				if time.Since(lastFlush) > 0 && dec.Pending() > 0 && !send(false) {
					break
				}
				t := time.NewTimer(wait)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
				}
				if ctx.Err() != nil {
					break
				}
			}
		}
		dec.Decode(data, ci, src.LinkType(), src.Frame())
		n++
		if n >= o.FlushPackets || dec.Full() || ((src.Live() || n&1023 == 0) && time.Since(lastFlush) >= o.FlushEvery) {
			if busy(src, out) && !dec.Full() {
				continue
			}
			if !send(false) {
				break
			}
		}
	}
	dec.Finish(nil)
	ctxDone := ctx.Err() != nil
	if !ctxDone {
		send(true)
	} else {
		// still hand over what was decoded, without blocking forever
		b := dec.Flush()
		b.Stats.Done = true
		select {
		case out <- b:
		default:
		}
	}
	st := dec.Stats()
	st.Done = true
	st.KernelDrops = src.Stats().KernelDrops
	st.QueueDrops = queueDrops
	err := errors.Join(errs...)
	if err != nil {
		st.Err = err.Error()
	}
	return st, err
}
