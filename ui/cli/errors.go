package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"otscope/assets/store"
)

// userError is an error as the user reads it: one line, each part said
// once, and for a damaged session the command that salvages it. It
// unwraps to the original, so errors.Is still sees ErrUsage and the
// store's sentinels.
type userError struct {
	err error
	msg string
}

func (e *userError) Error() string { return e.msg }
func (e *userError) Unwrap() error { return e.err }

// sessionName finds the session a store error names.
var sessionName = regexp.MustCompile(`session "([^"]+)"`)

// tidyErr rewrites err for the user (nil stays nil).
func tidyErr(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	// "session "x": session "x" is being written by ..." -> said once: a
	// part the next part starts with, or one already said, is dropped
	parts := strings.Split(msg, ": ")
	var kept []string
	for i, p := range parts {
		if i+1 < len(parts) && strings.HasPrefix(parts[i+1], p) {
			continue
		}
		dup := false
		for _, k := range kept {
			if k == p {
				dup = true
				break
			}
		}
		if !dup {
			kept = append(kept, p)
		}
	}
	msg = strings.Join(kept, ": ")
	if errors.Is(err, store.ErrCorrupt) {
		if m := sessionName.FindStringSubmatch(msg); m != nil {
			cmd := "otscope sessions salvage " + m[1]
			if advice := "salvage what can be read into a new session"; strings.Contains(msg, advice) {
				msg = strings.Replace(msg, advice, advice+" ('"+cmd+"')", 1)
			} else {
				msg += fmt.Sprintf("; to salvage what can be read: %s", cmd)
			}
		}
	}
	if msg == err.Error() {
		return err
	}
	return &userError{err: err, msg: msg}
}
