// Package lifecycle tells, for each asset, where its product stands in the
// vendor's lifecycle, and keeps each asset's inventory state.
//
// # Product lifecycle catalog
//
// A Catalog maps products to a lifecycle Phase. Its entries (Entry) match an
// asset by order/catalog number (prefix or regular expression), product
// name, operating system or firmware, and carry the vendor's own term, the
// announcement, end-of-sale and end-of-support dates (at the precision the
// vendor gave: Date), the successor, the source and the date the facts are
// valid for. The built-in catalog (catalog/default.yaml, embedded) covers the
// common lines of Siemens, Rockwell, Schneider, ABB, GE/Emerson, Mitsubishi,
// Omron, Beckhoff, WAGO, Moxa and Hirschmann, Windows client, server and
// embedded releases, Cisco IOS XE and FortiOS. User catalogs in YAML or CSV
// (e.g. from a USB stick) add entries and replace built-in ones with the
// same ID:
//
//	cat, problems := lifecycle.Load("/media/usb/plant-lifecycle.csv")
//	for _, p := range problems {
//		log.Print(p) // plant-lifecycle.csv:12: entry "x" skipped: phase: unknown phase "old" ...
//	}
//	if r, ok := cat.Match(&asset); ok {
//		fmt.Println(r.PhaseAt(now), r.VendorTerm, r.EndOfSupport, r.Rule, r.Catalog, r.Source)
//	}
//	for _, m := range cat.MatchModules(&asset) { ... } // rack modules
//
// A malformed entry is reported as a Problem (file, line, reason) and
// skipped; the rest of the file is imported. Parsing never panics and reads
// at most MaxFileSize bytes.
//
// The most specific rule wins: order number over product name over
// OS/firmware; within a kind, the longer match; then the later catalog
// (user files over the default), then the later phase. Result.Why explains
// the choice and Result.Also lists the other matches.
//
// Phases and vendors' terms:
//
//	Phase         meaning                                      Siemens     Rockwell        software
//	active        current, sold and supported                  PM300       Active          mainstream support
//	mature        sold and supported, successor named or       PM400       Active Mature   security-only support
//	              phase-out announced
//	end-of-life   no longer sold new / last-time buy; spare    PM410       End of Life     past end of support,
//	              parts or repairs for a limited time                                      paid ESU available
//	discontinued  no longer sold or supported                  PM490/500   Discontinued    past end of support
//
// Schneider's "end of commercialisation" is end-of-life; ABB's Active,
// Classic, Limited and Obsolete map to active, mature, end-of-life and
// discontinued. The catalog's phase is as of its AsOf date; Entry.PhaseAt
// raises it to at least end-of-life once an end date has passed.
//
// # Inventory state
//
// Each asset also has an inventory State: discovered → identified →
// verified (on a walkdown) → missing → decommissioned, with a History of
// Transitions (from, to, when, by whom, why). Next computes the automatic
// transitions (identification, missing per MissingPolicy, return);
// Apply validates the manual ones (verify, withdraw verification,
// decommission, recommission). Both are pure functions of their arguments.
//
// # Concurrency
//
// A Catalog is immutable once built and safe for concurrent use. Entries,
// Results and Histories are plain values; a History must not be changed
// by two goroutines at once.
package lifecycle
