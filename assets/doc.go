// Package assets merges observations from every source into assets.
//
// Inventory is the single owner of a session's assets and conversations. It
// decides identity (a MAC on the local segment; an IP for hosts seen only
// through a router), merges facts without overwriting conflicting values, and
// remembers which assets changed so that each consumer (the store, the TUI)
// can take just the changes. Session wires an Inventory to a store.Store and
// to watchers, flushing at least once a second.
//
// Inventory is not safe for concurrent use; Session owns one in a single
// goroutine and hands out copies.
package assets
