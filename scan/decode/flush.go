package decode

import (
	"time"

	"otscope/model"
)

// Pending reports how many observations wait for the next Flush.
func (d *Decoder) Pending() int { return len(d.obs) + len(d.dirtyHosts) + len(d.flows.dirty) }

// Flush hands over everything learnt since the last Flush. The returned
// batch is owned by the caller.
func (d *Decoder) Flush() model.Batch {
	d.flushHosts()
	d.trimHosts()
	clear(d.claims)
	d.flows.flush(d)
	b := model.Batch{Obs: d.obs, Stats: d.Stats()}
	d.obs = model.NewObservations() // the batch owns the old array; the consumer recycles it
	if d.obs == nil {
		// none recycled yet: start at the last batch's size rather than
		// growing (and copying) from nothing
		d.obs = make([]model.Observation, 0, min(max(len(b.Obs), 64), 1<<16))
	}
	return b
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
