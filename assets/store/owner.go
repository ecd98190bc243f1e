package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ownerFileName is the owner file in a session directory: which process
// has the session open for writing. Badger's lock on the database
// directory stays the authority; the owner file only names the holder.
const ownerFileName = "owner.json"

// Owner describes the process that has a session open for writing.
type Owner struct {
	PID     int       `json:"pid"`
	Command string    `json:"command"`
	Host    string    `json:"host,omitempty"`
	Started time.Time `json:"started"`
	// ProcStart is the process's start time in clock ticks since boot
	// (/proc/PID/stat field 22), so a reused PID is not taken for the owner.
	ProcStart uint64 `json:"proc_start,omitempty"`
}

// Alive reports whether the owner process still runs.
func (o Owner) Alive() bool {
	if o.PID <= 0 {
		return false
	}
	if err := syscall.Kill(o.PID, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	if o.ProcStart != 0 {
		if st, ok := procStart(o.PID); ok && st != o.ProcStart {
			return false
		}
	}
	return true
}

func (o Owner) String() string {
	cmd := o.Command
	if len(cmd) > 60 {
		cmd = cmd[:57] + "..."
	}
	return fmt.Sprintf("pid %d (%s), since %s", o.PID, cmd, o.Started.Local().Format("2006-01-02 15:04:05"))
}

// procStart reads the start time of process pid in clock ticks.
func procStart(pid int) (uint64, bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(f[19], 10, 64)
	return v, err == nil
}

func currentOwner() Owner {
	host, _ := os.Hostname()
	o := Owner{PID: os.Getpid(), Command: strings.Join(os.Args, " "), Host: host, Started: time.Now().UTC().Round(time.Second)}
	if st, ok := procStart(o.PID); ok {
		o.ProcStart = st
	}
	return o
}

// claim writes this process's owner file after Badger granted the
// exclusive lock. An owner file left by a process that died is stale and
// is replaced (noted in the log).
func (h *handle) claim() error {
	path := filepath.Join(h.dir, ownerFileName)
	if old, err := readOwner(path); err == nil && h.s.logger != nil {
		h.s.logger.Printf("store: session %s: replacing the stale owner file of %s (it did not close the session)", h.name, old)
	}
	b, err := json.Marshal(currentOwner())
	if err != nil {
		return err
	}
	if err := writeFileAtomic(path, b); err != nil {
		return fmt.Errorf("session %q: write owner file: %w", h.name, err)
	}
	h.owner = path
	return nil
}

// release removes the owner file this handle wrote.
func (h *handle) release() {
	if h.owner != "" {
		_ = os.Remove(h.owner)
		h.owner = ""
	}
}

func readOwner(path string) (Owner, error) {
	var o Owner
	b, err := os.ReadFile(path)
	if err != nil {
		return o, err
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return o, err
	}
	return o, nil
}

// lockedErr says who holds the session.
func (h *handle) lockedErr() error {
	o, err := readOwner(filepath.Join(h.dir, ownerFileName))
	switch {
	case err == nil && o.Alive():
		return fmt.Errorf("session %q is being written by %s: %w", h.name, o, ErrLocked)
	case err == nil:
		return fmt.Errorf("session %q is in use by another process (its owner file names %s, which no longer runs; another reading command may hold it): %w", h.name, o, ErrLocked)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("session %q is in use by another process (probably a command reading it): %w", h.name, ErrLocked)
	default:
		return fmt.Errorf("session %q is in use by another process: %w", h.name, ErrLocked)
	}
}

// SessionOwner returns the live process that has the session open for
// writing, if any, without opening the session.
func (s *Store) SessionOwner(name string) (Owner, bool) {
	if s.root == "" || ValidSessionName(name) != nil {
		return Owner{}, false
	}
	o, err := readOwner(filepath.Join(s.root, name, ownerFileName))
	if err != nil || !o.Alive() {
		return Owner{}, false
	}
	return o, true
}
