package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"otscope/model"
)

// Capture runs and the files they read, so that re-reading a capture is
// recognised (issue 13, item 12).
//
// A run is recorded twice in the session's Runs journal: a "start" record
// before the first packet and a "finish" record at the end with the run's
// counters. A start without a finish is a run that was interrupted
// (killed, crashed) or is still running in another process.

// FileSample is how much of each end of a capture file FileID hashes.
const FileSample = 1 << 20

// FileID identifies a capture file by content: its size and the SHA-256 of
// its first and last FileSample bytes. Hashing the ends rather than the
// whole file keeps the check O(1) for multi-gigabyte captures on a jump
// host, and a pcap's ends hold its first and last packet timestamps, so
// two different captures practically never share them; a file that grew
// since it was read (a capture still being written) changes its size and
// tail and is read again.
type FileID struct {
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256_ends"`
}

// IdentifyFile returns the FileID of the file at path.
func IdentifyFile(path string) (FileID, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileID{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return FileID{}, err
	}
	if !fi.Mode().IsRegular() {
		return FileID{}, fmt.Errorf("%s is not a regular file", path)
	}
	return identify(f, fi.Size())
}

func identify(r io.ReaderAt, size int64) (FileID, error) {
	h := sha256.New()
	head := min(size, FileSample)
	if _, err := io.Copy(h, io.NewSectionReader(r, 0, head)); err != nil {
		return FileID{}, err
	}
	if size > head {
		start := max(head, size-FileSample)
		if _, err := io.Copy(h, io.NewSectionReader(r, start, size-start)); err != nil {
			return FileID{}, err
		}
	}
	fmt.Fprintf(h, "\x00%d", size)
	return FileID{Size: size, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// RunRecord is one record of the Runs journal.
type RunRecord struct {
	ID    string `json:"id"`
	Event string `json:"event"` // "start" or "finish"
	// Source is the capture's name (file path or interface); File is the
	// file's identity (nil for live captures). Forced says the file was
	// read again on purpose although it had been read before.
	Source  string    `json:"source"`
	File    *FileID   `json:"file,omitempty"`
	Forced  bool      `json:"forced,omitempty"`
	Command string    `json:"command,omitempty"`
	Time    time.Time `json:"time"`
	// Stats and Err are set on finish.
	Stats *model.CaptureStats `json:"stats,omitempty"`
	Err   string              `json:"error,omitempty"`
}

// RunState is one run as the journal tells it.
type RunState struct {
	ID       string
	Source   string
	File     *FileID
	Forced   bool
	Command  string
	Started  time.Time
	Finished time.Time // zero: not finished
	Stats    *model.CaptureStats
	Err      string
	// Interrupted: started, never finished.
	Interrupted bool
}

// BeginRun records the start of a capture run in the session and returns
// its ID, for FinishRun. file is nil for live captures.
func (s *Store) BeginRun(session, source string, file *FileID, forced bool) (string, error) {
	now := time.Now().UTC()
	id := strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(now.UnixNano(), 36)
	cmd := ""
	if len(os.Args) > 0 {
		cmd = os.Args[0]
		for _, a := range os.Args[1:] {
			cmd += " " + a
		}
	}
	rec := RunRecord{ID: id, Event: "start", Source: source, File: file, Forced: forced, Command: cmd, Time: now}
	if err := AppendJournal(s, session, Runs, rec); err != nil {
		return "", err
	}
	return id, s.bumpRuns(session, 1, 1)
}

// FinishRun records the end of run id with its final counters and error
// (nil: the source was read to its end).
func (s *Store) FinishRun(session, id string, stats model.CaptureStats, runErr error) error {
	rec := RunRecord{ID: id, Event: "finish", Source: stats.Source, Time: time.Now().UTC(), Stats: &stats}
	if runErr != nil {
		rec.Err = runErr.Error()
	}
	if err := AppendJournal(s, session, Runs, rec); err != nil {
		return err
	}
	return s.bumpRuns(session, 0, -1)
}

// bumpRuns adjusts the run counts of the session's metadata.
func (s *Store) bumpRuns(session string, runs, interrupted int) error {
	h, end, err := s.acquire(session, modeWrite)
	if err != nil {
		return err
	}
	defer end()
	h.metaMu.Lock()
	h.meta.Runs += runs
	h.meta.Interrupted = max(0, h.meta.Interrupted+interrupted)
	h.metaMu.Unlock()
	return h.writeMetaFile()
}

// RunStates returns the session's runs, oldest first.
func (s *Store) RunStates(session string) ([]RunState, error) {
	h, end, err := s.acquire(session, modeRead)
	if err != nil {
		return nil, err
	}
	defer end()
	return h.runStates()
}

// FileRead returns the last run that read a file with this identity to its
// end without error; ok is false when none did (read it).
func (s *Store) FileRead(session string, f FileID) (run RunState, ok bool, err error) {
	runs, err := s.RunStates(session)
	if err != nil {
		return RunState{}, false, err
	}
	for _, r := range runs {
		if r.File != nil && *r.File == f && !r.Finished.IsZero() && r.Err == "" {
			run, ok = r, true
		}
	}
	return run, ok, nil
}

// runStates folds the Runs journal. The caller holds h.
func (h *handle) runStates() ([]RunState, error) {
	raw, err := h.readRaw(Runs)
	if err != nil {
		return nil, err
	}
	var out []RunState
	at := map[string]int{}
	for _, r := range raw {
		var rec RunRecord
		if UnmarshalJSON(r, &rec) != nil {
			continue
		}
		switch rec.Event {
		case "start":
			at[rec.ID] = len(out)
			out = append(out, RunState{ID: rec.ID, Source: rec.Source, File: rec.File, Forced: rec.Forced,
				Command: rec.Command, Started: rec.Time, Interrupted: true})
		case "finish":
			if i, ok := at[rec.ID]; ok {
				out[i].Finished, out[i].Stats, out[i].Err, out[i].Interrupted = rec.Time, rec.Stats, rec.Err, false
			}
		}
	}
	return out, nil
}
