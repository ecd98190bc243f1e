package decode

import (
	"math"
	"slices"
	"time"

	"otscope/model"
)

// Pending reports how many observations and dirty hosts and flows wait for
// the next Flush.
func (d *Decoder) Pending() int {
	return len(d.obs) + len(d.freshHosts) + len(d.dirtyHosts) + len(d.flows.fresh) + len(d.flows.dirty)
}

// Full reports that what FlushNew would hand over fills a batch slice
// (model.BatchObservations, less a margin for the few observations one
// more packet adds). When a plant's hosts and flows are all new, a few
// thousand packets make tens of thousands of observations: flushing when
// full keeps each batch in a recycled slice, where growing one to that size
// copied it at every growth (a third of a second of copying on a plant of
// 10,000 assets).
func (d *Decoder) Full() bool {
	return len(d.obs)+len(d.freshHosts)+len(d.flows.fresh) >= model.BatchObservations-fullMargin
}

// fullMargin is the room Full leaves in a batch slice.
const fullMargin = 64

// Flush hands over everything learnt since the last flush, counters
// included, in one batch. The returned batch is owned by the caller.
func (d *Decoder) Flush() model.Batch {
	b, _ := d.flush(true, 0)
	return b
}

// FlushPart is Flush in parts: each batch carries what FlushNew would and
// the counters of at most limit hosts and flows (0: all); done reports that
// none are left. On a plant of 10,000 busy hosts a counters flush is tens
// of thousands of observations; parts keep them from all being in memory
// at once. The decoder may decode more between parts: a host or flow
// reported by a part that sends again is queued again.
func (d *Decoder) FlushPart(limit int) (b model.Batch, done bool) { return d.flush(true, limit) }

// FlushNew hands over what is new since the last flush: facts, services,
// claims, and the hosts, layer-2 protocols and conversations not reported
// before. The counters of known hosts and flows (packets, bytes, last seen)
// go on adding up until the next Flush. On a large plant nearly every
// packet belongs to a known host and flow, so reporting their counters
// every few thousand packets would cost about one observation per packet;
// with FlushNew between Flushes that cost follows the clock, not the
// packet count, while anything new still goes at once.
func (d *Decoder) FlushNew() model.Batch {
	b, _ := d.flush(false, 0)
	return b
}

func (d *Decoder) flush(counters bool, limit int) (model.Batch, bool) {
	// a flood of senders empties the table, which only a full flush can
	counters = counters || len(d.hosts) > maxHosts
	// one growth for the whole flush (a host with new layer-2 protocols
	// adds more, rarely), not a copy at every doubling
	n := len(d.freshHosts) + len(d.flows.fresh)
	budget := limit // counter observations this batch may carry
	if budget <= 0 {
		budget = math.MaxInt
	} else {
		// a part also fits in its slice with what is new (see Full)
		budget = min(budget, max(model.BatchObservations-len(d.obs)-n, fullMargin))
	}
	if counters {
		n += min(budget, len(d.dirtyHosts)-d.hostsDone+len(d.flows.dirty)-d.flows.done)
	}
	d.obs = slices.Grow(d.obs, n)
	d.flushFreshHosts()
	d.flows.flushFresh(d)
	clear(d.claims)
	done := true
	if counters {
		budget, done = d.flushHostCounters(budget)
		if done {
			_, done = d.flows.flushCounters(d, budget)
		}
		if done {
			d.trimHosts()
		}
	}
	b := model.Batch{Obs: d.obs, Stats: d.Stats()}
	d.obs = model.NewObservations() // the batch owns the old array; the consumer recycles it
	return b, done
}

// Stats returns the decoder's counters.
func (d *Decoder) Stats() model.CaptureStats {
	s := d.stats
	if s.Source == "" {
		s.Source = d.opts.Origin
	}
	s.ActiveFlows = uint64(len(d.flows.m))
	s.EvictedFlows = d.flows.evicted
	s.Updated = time.Now()
	return s
}

// SetSourceName sets the name reported in statistics (for a multi-file read,
// "a.pcap +2 more"); provenance keeps the current file.
func (d *Decoder) SetSourceName(name string) { d.stats.Source = name }

// SetKernelDrops records drops reported by a live source.
func (d *Decoder) SetKernelDrops(n uint64) { d.stats.KernelDrops = n }

// Finish marks the source done, with its error if it failed.
func (d *Decoder) Finish(err error) {
	d.stats.Done = true
	if err != nil {
		d.stats.Err = err.Error()
	}
}
