package bundle

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"otscope/assets/store"
)

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
	if m, err := st.SessionMeta(name); err == nil {
		s.Site, s.Sensor = m.Site, m.Sensor
	}
	skipped = snap.Skipped
	// Every journal the session holds, registered here or not: a bundle
	// carries what a newer otscope wrote too.
	kinds, err := st.JournalKinds(name)
	if err != nil {
		return Session{}, 0, err
	}
	for _, k := range kinds {
		recs, n, err := st.ReadRawJournal(name, k)
		if err != nil {
			return Session{}, 0, err
		}
		skipped += n
		if len(recs) == 0 {
			continue
		}
		j := Journal{Name: k.String()}
		for _, r := range recs {
			j.Records = append(j.Records, r.JSON)
		}
		s.Journals = append(s.Journals, j)
	}
	s.Normalize()
	return s, skipped, nil
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
	for _, j := range s.Journals {
		k, ok := store.JournalByName(j.Name)
		if !ok {
			return fmt.Errorf("import %q: %w: %q", name, ErrUnknownJournal, j.Name)
		}
		kinds[j.Name] = k
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	target := "import-" + hex.EncodeToString(b[:])
	if err := write(st, target, s, kinds); err != nil {
		if derr := st.DeleteSession(target); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			return fmt.Errorf("import %q: %w (and removing the partial session %q failed: %v)", name, err, target, derr)
		}
		return fmt.Errorf("import %q: %w", name, err)
	}
	if err := st.Rename(target, name); err != nil {
		_ = st.DeleteSession(target)
		return fmt.Errorf("import %q: %w", name, err)
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
	if s.Site != "" {
		if err := st.SetSite(name, s.Site); err != nil {
			return err
		}
	}
	if s.Sensor != "" {
		if err := st.SetSensor(name, s.Sensor); err != nil {
			return err
		}
	}
	for _, j := range s.Journals {
		if len(j.Records) == 0 {
			continue
		}
		if err := st.AppendRawJournal(name, kinds[j.Name], j.Records...); err != nil {
			return err
		}
	}
	return nil
}
