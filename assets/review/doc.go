// Package review is what otscope keeps and derives about a session beyond
// its inventory: the inventory state of each asset (discovered, identified,
// verified, missing, decommissioned) with its history of transitions, the
// waivers that acknowledge policy violations, and one combined analysis of
// the inventory (product lifecycle, advisories, policy audit) for the TUI.
//
// States and waivers are stored as append-only session journals
// (store.StateHistory, store.Waivers): a StateRecord per transition, a
// WaiverRecord per acknowledgement; the current state is the last
// transition and the effective waiver the last record for its rule and
// asset. The package does no I/O itself: the caller hands it the journals
// it read and a function that appends.
//
// It imports model and the pure assets packages (lifecycle, advisory,
// policy), never the store, so the TUI can use it.
package review
