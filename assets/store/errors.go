package store

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of these (check
// with errors.Is); their text says what the user can do about it.
var (
	// ErrLocked means another process (usually another otscope) has the
	// session open; the wrapping error names the process when it can.
	ErrLocked = errors.New("session is in use by another otscope (close it, or use another --session)")
	// ErrCorrupt means Badger could not read the database files. The wrapping
	// error names the directory to move aside; otscope never deletes it.
	ErrCorrupt = errors.New("database is damaged")
	// ErrSchema means the database was written with a schema this otscope
	// does not know.
	ErrSchema = errors.New("database was written by a newer otscope; upgrade otscope or use another --db")
	// ErrNotDatabase means the directory holds files that are not an otscope
	// database, or a Badger database of another program.
	ErrNotDatabase = errors.New("directory is not an otscope database; pass --db with a new or empty directory")
	// ErrNotFound means the session (or, for a read-only open, the database)
	// does not exist.
	ErrNotFound = errors.New("not found (list the stored sessions to see the names)")
	// ErrBadName means a session name is not 1-64 characters of
	// [A-Za-z0-9._-] or starts with '.'.
	ErrBadName = errors.New("bad session name: use 1-64 letters, digits, '.', '_' or '-', not starting with '.'")
	// ErrReadOnly means a write was attempted on a store opened with
	// Options.ReadOnly.
	ErrReadOnly = errors.New("database is open read-only; open it without read-only mode to change it")
	// ErrUnclean means a read-only open found a database that was not closed
	// cleanly; Badger must recover it in read-write mode first.
	ErrUnclean = errors.New("database was not closed cleanly; open it once in read-write mode (run otscope on it) to recover, then retry")
	// ErrDiskFull means the file system holding the database has less free
	// space than otscope needs to write safely; nothing was written.
	ErrDiskFull = errors.New("not enough free disk space to write safely (free some space, or pass --db DIR on another disk)")
	// ErrExists means a session of that name already exists.
	ErrExists = errors.New("a session of that name already exists (pick another name, or delete it first)")
	// ErrClosed means the store was used after Close.
	ErrClosed = errors.New("database is closed")
)

// oneLine wraps an error and reports its text on a single line: some of
// Badger's messages contain newlines, and otscope's errors are one line.
type oneLine struct{ err error }

func (e oneLine) Error() string {
	return strings.Join(strings.Fields(e.err.Error()), " ")
}

func (e oneLine) Unwrap() error { return e.err }

// Badger (in non-debug builds) flattens its wrapped errors into text, so the
// open errors are recognised by the text of badger v4.9.6.
const (
	lockTextUnix     = "Cannot acquire directory lock"
	lockTextWindows  = "Another process is using this Badger database"
	truncateText     = "Log truncate required"
	permissionText   = "permission denied"
	noSpaceText      = "no space left on device"
	tooManyFilesText = "too many open files"
)

// translateOpenErr turns an error from badger.Open on dir into one of the
// sentinel errors. existed says whether dir already held a Badger MANIFEST
// before the open (so a failure means the existing files are unreadable).
func translateOpenErr(dir string, existed bool, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, lockTextUnix) || strings.Contains(msg, lockTextWindows):
		return fmt.Errorf("open %s: %w", dir, ErrLocked)
	case strings.Contains(msg, truncateText):
		return fmt.Errorf("open %s: %w", dir, ErrUnclean)
	case strings.Contains(strings.ToLower(msg), permissionText):
		return fmt.Errorf("open %s: check the directory's permissions or pass --db DIR: %w", dir, oneLine{err})
	case strings.Contains(msg, noSpaceText) || strings.Contains(msg, tooManyFilesText):
		// Resource problems are not damage: the files are fine.
		return fmt.Errorf("open %s: %w", dir, oneLine{err})
	case existed:
		return corruptErr(dir, oneLine{err})
	default:
		return fmt.Errorf("open %s: %w", dir, oneLine{err})
	}
}

// corruptErr wraps ErrCorrupt and cause with the advice for dir.
func corruptErr(dir string, cause error) error {
	return fmt.Errorf("%w: move %s aside and start a new database; otscope never deletes it: %w", ErrCorrupt, dir, cause)
}

// damagedErr wraps ErrCorrupt for a session whose files failed the check
// before opening: nothing was changed.
func damagedErr(session, dir string, cause error) error {
	return fmt.Errorf("session %q %w (%v); otscope left its files untouched: salvage what can be read into a new session, or move %s aside", session, ErrCorrupt, oneLine{cause}, dir)
}
