package store

import (
	"fmt"
	"log"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// badgerLogger adapts a *log.Logger to badger.Logger.
type badgerLogger struct {
	l       *log.Logger
	verbose bool
}

// newBadgerLogger returns nil (Badger then logs nothing) when l is nil.
func newBadgerLogger(l *log.Logger, verbose bool) badger.Logger {
	if l == nil {
		return nil
	}
	return &badgerLogger{l: l, verbose: verbose}
}

// print writes one log line per line of the message, each prefixed, so
// Badger's multi-line reports stay greppable in otscope's log file.
func (b *badgerLogger) print(level, format string, args []any) {
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	for line := range strings.SplitSeq(msg, "\n") {
		b.l.Print("badger: " + level + line)
	}
}

// Errorf implements badger.Logger.
func (b *badgerLogger) Errorf(format string, args ...any) { b.print("ERROR: ", format, args) }

// Warningf implements badger.Logger.
func (b *badgerLogger) Warningf(format string, args ...any) { b.print("WARNING: ", format, args) }

// Infof implements badger.Logger; it logs only when Options.Verbose is set.
func (b *badgerLogger) Infof(format string, args ...any) {
	if b.verbose {
		b.print("INFO: ", format, args)
	}
}

// Debugf implements badger.Logger; it logs only when Options.Verbose is set.
func (b *badgerLogger) Debugf(format string, args ...any) {
	if b.verbose {
		b.print("DEBUG: ", format, args)
	}
}
