// Package model holds otscope's domain words: assets, facts with provenance,
// observations, services, conversations and capture statistics, and the
// protocol registry (Protocols, IsIndustrial, ProtocolFamily): the one
// place that says which protocol names are industrial, IT or network
// chatter, for role inference, the panes and policy alike.
//
// It imports only the standard library. Values in this package hold no
// references into packet buffers, so they may be passed between goroutines
// once built. Types with slices (Asset, Batch) are not safe for concurrent
// mutation; the owner (assets.Inventory) hands out clones.
package model
