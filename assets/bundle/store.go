package bundle

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"otscope/assets/store"
)

// journalKinds are the store's journal kinds a bundle carries, each under
// its name (Journal.String()). When the store lists its kinds itself, this
// list is replaced by that call; nothing else here names a kind.
var journalKinds = []store.Journal{store.ScanLog, store.Waivers, store.StateHistory}

// ErrExists is returned by Import for a session name that is taken.
var ErrExists = errors.New("a session with that name exists")

// ErrUnknownJournal is returned by Import for a bundle that carries a
// journal this otscope does not keep.
var ErrUnknownJournal = errors.New("bundle holds a journal this otscope does not know")

// FromStore reads the named session and all its journals. skipped counts
// stored records that could not be decoded (they are not in the bundle;
// tell the user).
func FromStore(st *store.Store, name string) (s Session, skipped int, err error) {
	snap, err := st.Load(name)
	if err != nil {
		return Session{}, 0, err
	}
	s = Session{
		Name: name, Created: snap.Info.Created, Updated: snap.Info.Updated,
		Assets: snap.Assets, Conversations: snap.Conversations, Stats: snap.Stats,
	}
	skipped = snap.Skipped
	for _, k := range journalKinds {
		recs, n, err := store.ReadJournal[json.RawMessage](st, name, k)
		if err != nil {
			return Session{}, 0, err
		}
		skipped += n
		if len(recs) > 0 {
			s.Journals = append(s.Journals, Journal{Name: k.String(), Records: recs})
		}
	}
	s.Normalize()
	return s, skipped, nil
}

// renamer is the store's session rename, when it has one.
type renamer interface {
	RenameSession(from, to string) error
}

// ToStore creates the session name from s (s.Name is ignored): its times,
// assets, conversations, statistics and journals. It refuses a name that
// exists (ErrExists) and a journal the store does not know
// (ErrUnknownJournal) before writing anything. It writes into a temporary
// session and renames it when the store can rename sessions; otherwise it
// writes name directly. Either way a failure deletes what was written:
// nothing half-imported stays behind.
func ToStore(st *store.Store, name string, s *Session) error {
	if err := store.ValidSessionName(name); err != nil {
		return err
	}
	if _, err := st.Session(name); err == nil {
		return fmt.Errorf("import %q: %w (choose another name with --as)", name, ErrExists)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	kinds := map[string]store.Journal{}
	for _, k := range journalKinds {
		kinds[k.String()] = k
	}
	for _, j := range s.Journals {
		if _, ok := kinds[j.Name]; !ok {
			return fmt.Errorf("import %q: %w: %q", name, ErrUnknownJournal, j.Name)
		}
	}
	target := name
	rn, canRename := any(st).(renamer)
	if canRename {
		var b [6]byte
		_, _ = rand.Read(b[:])
		target = "import-" + hex.EncodeToString(b[:])
	}
	if err := write(st, target, s, kinds); err != nil {
		if derr := st.DeleteSession(target); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			return fmt.Errorf("import %q: %w (and removing the partial session %q failed: %v)", name, err, target, derr)
		}
		return fmt.Errorf("import %q: %w", name, err)
	}
	if canRename {
		if err := rn.RenameSession(target, name); err != nil {
			_ = st.DeleteSession(target)
			return fmt.Errorf("import %q: %w", name, err)
		}
	}
	return nil
}

func write(st *store.Store, name string, s *Session, kinds map[string]store.Journal) error {
	created := s.Created
	if created.IsZero() {
		created = s.Updated
	}
	if _, err := st.EnsureSession(name, created); err != nil {
		return err
	}
	if err := st.Save(name, store.Flush{Assets: s.Assets, Conversations: s.Conversations, Stats: s.Stats, Time: s.Updated}); err != nil {
		return err
	}
	for _, j := range s.Journals {
		recs := make([]any, len(j.Records))
		for i, r := range j.Records {
			recs[i] = r
		}
		if len(recs) == 0 {
			continue
		}
		if err := st.Append(name, kinds[j.Name], recs...); err != nil {
			return err
		}
	}
	return nil
}
