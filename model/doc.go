// Package model holds otscope's domain words: assets, facts with provenance,
// observations, services, conversations and capture statistics.
//
// It imports only the standard library. Values in this package hold no
// references into packet buffers, so they may be passed between goroutines
// once built. Types with slices (Asset, Batch) are not safe for concurrent
// mutation; the owner (assets.Inventory) hands out clones.
package model
