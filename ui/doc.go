// Package ui is otscope's terminal user interface: a Bubble Tea program
// that shows a session's asset inventory while the capture engine fills it.
//
// The command line builds it from a Config and runs it:
//
//	sess := assets.NewSession("plant-a", st, snapshot, opts) // go sess.Run(ctx)
//	final, err := ui.Run(ui.New(ui.Config{
//		Session:  "plant-a",
//		Updates:  sess.Watch(), // <-chan model.Update, closed when the session's Run ends
//		Sources:  []string{"plant.pcap"},
//		Version:  version,
//		Analysis: sources,      // review.Sources: lifecycle catalog, advisories, policy pack
//		Ledger:   sess,         // states and waivers
//		User:     operator,
//		Scan:     scanControl,  // scanpane.Control, nil without a live session
//	}))
//	next := final.Chosen() // a session picked with O, or ""
//
// Run draws a frame only when it changed (see Run); with nothing arriving
// the UI sets no timer but a check of the session's states every
// StatesEvery, and counter-only updates start no analysis.
//
// The UI never blocks on the capture. A command waits for one
// model.Update, takes every other update already queued without waiting,
// and delivers them as one UpdatesMsg; the root applies the batch to its
// state.State, tells each pane what changed and re-arms the command. When
// the channel closes the UI stays usable and shows the capture as finished
// or stopped.
//
// Layout, top to bottom: a tab bar naming the panes (the focused one in
// [brackets]) with the focused pane's summary on the right; the focused
// pane; a status bar with session, counts, rate, capture state and short
// help. Panes live in ui/pane/... and satisfy pane.Pane; the root routes
// keys (text input first, then global keys, then the focused pane; the
// table filter and the forms edit with one line editor, grid.Input), sizes
// every pane on resize, and broadcasts data changes and clock ticks to all.
//
// Beside the inventory, the root runs an analysis (assets/review: lifecycle
// catalog, advisories, policy audit with the session's waivers, inventory
// states) off the UI goroutine, at most one at a time and at most every
// AnalyseEvery while the data changes, and hands it to the panes as a
// state.Change{Analysis: true}. Waivers and manual state transitions are
// asked for by panes (pane.WaiveMsg, pane.SetStateMsg) and stored by the
// root through Config.Ledger, also off the UI goroutine.
//
// The root Model and its panes are used only from the Bubble Tea goroutine.
// The ui packages import model, the pure assets packages (review,
// lifecycle, policy, advisory) and the Charm libraries: no capture,
// storage or protocol code.
package ui
