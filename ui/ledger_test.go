package ui

import (
	"sync"
	"time"

	"otscope/assets/lifecycle"
	"otscope/assets/review"
	"otscope/model"
)

// memLedger keeps states and waivers in memory, stamped with the fixture's
// clock, as the session does on disk.
type memLedger struct {
	tr      *review.Tracker
	mu      sync.Mutex
	waivers []review.WaiverRecord
}

func newMemLedger() *memLedger {
	tr, _ := review.NewTracker(nil, lifecycle.MissingPolicy{After: review.DefaultMissingAfter}, nil)
	return &memLedger{tr: tr}
}

// observe makes the automatic transitions the session would have made
// when the assets arrived, five minutes before the fixture's now.
func (l *memLedger) observe(as []model.Asset) {
	ps := make([]*model.Asset, len(as))
	for i := range as {
		ps[i] = &as[i]
	}
	l.tr.Observe(ps, fixtureNow, fixtureNow.Add(-5*time.Minute))
}

func (l *memLedger) States() *review.Tracker { return l.tr }

func (l *memLedger) SetState(id model.AssetID, to lifecycle.State, by, why string) (review.StateRecord, error) {
	return l.tr.Set(id, to, by, why, fixtureNow)
}

func (l *memLedger) Waive(r review.WaiverRecord) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waivers = append(l.waivers, r)
	return nil
}

func (l *memLedger) Waivers() []review.WaiverRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]review.WaiverRecord(nil), l.waivers...)
}

var testCatalog = sync.OnceValue(func() *lifecycle.Catalog {
	cat, _ := lifecycle.Load()
	return cat
})

func testSources() review.Sources { return review.Sources{Catalog: testCatalog()} }
