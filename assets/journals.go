package assets

import (
	"otscope/assets/review"
	"otscope/assets/store"
)

// Journals are a session's stored state transitions and waivers, oldest
// first, with the number of records that could not be decoded.
type Journals struct {
	States  []review.StateRecord
	Waivers []review.WaiverRecord
	Skipped int
}

// ReadJournals reads the state-history and waiver journals of a session.
func ReadJournals(st *store.Store, session string) (Journals, error) {
	var j Journals
	states, n, err := store.ReadJournal[review.StateRecord](st, session, store.StateHistory)
	if err != nil {
		return j, err
	}
	waivers, m, err := store.ReadJournal[review.WaiverRecord](st, session, store.Waivers)
	if err != nil {
		return j, err
	}
	j.States, j.Waivers, j.Skipped = states, waivers, n+m
	return j, nil
}
