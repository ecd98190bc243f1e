package bundle

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"otscope/assets/store"
)

// ErrExists is returned by ToStore for a session name that is taken.
var ErrExists = errors.New("a session with that name exists")

// ErrUnknownJournal is returned by ToStore for a bundle that carries a
// journal this otscope does not keep.
var ErrUnknownJournal = errors.New("bundle holds a journal this otscope does not know")

// FromStore reads the named session: its meta record (times, site,
// sensor), assets, conversations, statistics and every journal that holds
// records, each under its registered name, so a journal kind added later
// travels without a change here. skipped counts stored records that could
// not be read, and the records of journal kinds this otscope does not know
// (written by a newer one); they are not in the bundle: tell the user.
func FromStore(st *store.Store, name string) (s Session, skipped int, err error) {
	meta, err := st.SessionMeta(name)
	if err != nil {
		return Session{}, 0, err
	}
	snap, err := st.Load(name)
	if err != nil {
		return Session{}, 0, err
	}
	s = Session{
		Name: name, Site: meta.Site, Sensor: meta.Sensor, Created: snap.Info.Created, Updated: snap.Info.Updated,
		Assets: snap.Assets, Conversations: snap.Conversations, Stats: snap.Stats,
	}
	skipped = snap.Skipped
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
		if _, known := store.JournalByName(k.String()); !known {
			skipped += len(recs)
			continue
		}
		j := Journal{Name: k.String()}
		for _, r := range recs {
			j.Records = append(j.Records, r.JSON)
		}
		if len(j.Records) > 0 {
			s.Journals = append(s.Journals, j)
		}
	}
	s.Normalize()
	return s, skipped, nil
}

// ToStore creates the session name from s (s.Name is ignored): its times,
// site, sensor, assets, conversations, statistics and journals. It refuses
// a name that exists (ErrExists) and a journal the store does not know
// (ErrUnknownJournal) before writing anything. It writes a session under a
// temporary name and renames it to name once everything is written; a
// failure deletes the temporary session: nothing half-imported stays
// behind, and name never exists half-written.
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
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	tmp := "import-" + hex.EncodeToString(b[:])
	if err := write(st, tmp, s, kinds); err != nil {
		if derr := st.DeleteSession(tmp); derr != nil && !errors.Is(derr, store.ErrNotFound) {
			return fmt.Errorf("import %q: %w (and removing the partial session %q failed: %v)", name, err, tmp, derr)
		}
		return fmt.Errorf("import %q: %w", name, err)
	}
	if err := st.Rename(tmp, name); err != nil {
		_ = st.DeleteSession(tmp)
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("import %q: %w (choose another name with --as)", name, ErrExists)
		}
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
	if err := st.Save(name, store.Flush{Assets: s.Assets, Conversations: s.Conversations, Stats: s.Stats, Time: s.Updated}); err != nil {
		return err
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
