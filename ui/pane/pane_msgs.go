package pane

import "time"

// TickMsg is the root's once-a-second clock tick, broadcast to every pane
// after the shared state has taken its packets/s sample. Panes that show
// ages or rates refresh their cached text on it.
type TickMsg struct{ Time time.Time }
