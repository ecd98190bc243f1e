package central

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"otscope/assets/bundle"
	"otscope/assets/merge"
	"otscope/model"
)

// Record types of a pushed session besides its assets: the bundle's record
// types, journals as "journal:<name>".
const (
	recSession      = "session"
	recConversation = "conversation"
	recStats        = "stats"
	recJournal      = "journal:"
)

// FromBundle turns a session, as a bundle holds it, into what a push sends.
func FromBundle(s *bundle.Session) (Content, error) {
	c := Content{Session: s.Name, Assets: s.Assets}
	add := func(typ, key string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("%s %s: %w", typ, key, err)
		}
		c.Records = append(c.Records, Record{Type: typ, Key: key, Data: b})
		return nil
	}
	if err := add(recSession, "", s.Meta()); err != nil {
		return c, err
	}
	for _, conv := range s.Conversations {
		if err := add(recConversation, conv.Key(), conv); err != nil {
			return c, err
		}
	}
	for _, st := range s.Stats {
		if err := add(recStats, st.Source, st); err != nil {
			return c, err
		}
	}
	for _, j := range s.Journals {
		for i, r := range j.Records {
			// The key keeps the journal's order when sorted as text.
			c.Records = append(c.Records, Record{Type: recJournal + j.Name, Key: fmt.Sprintf("%012d", i), Data: r})
		}
	}
	return c, nil
}

// Bundle turns what a sensor pushed back into a session.
func (sc *SensorContent) Bundle() (bundle.Session, error) {
	s := bundle.Session{Name: sc.Sensor.Session, Site: sc.Site, Sensor: sc.Sensor.Name, Assets: sc.Assets}
	journals := map[string]int{}
	for _, r := range sc.Records {
		switch {
		case r.Type == recSession:
			var m bundle.Meta
			if err := json.Unmarshal(r.Data, &m); err != nil {
				return s, fmt.Errorf("session record of %s/%s: %w", sc.Site, sc.Sensor.Name, err)
			}
			s.Created, s.Updated = m.Created, m.Updated
		case r.Type == recConversation:
			var conv model.Conversation
			if err := json.Unmarshal(r.Data, &conv); err != nil {
				return s, fmt.Errorf("conversation %s: %w", r.Key, err)
			}
			s.Conversations = append(s.Conversations, conv)
		case r.Type == recStats:
			var st model.CaptureStats
			if err := json.Unmarshal(r.Data, &st); err != nil {
				return s, fmt.Errorf("capture statistics %s: %w", r.Key, err)
			}
			s.Stats = append(s.Stats, st)
		case strings.HasPrefix(r.Type, recJournal):
			name := strings.TrimPrefix(r.Type, recJournal)
			i, ok := journals[name]
			if !ok {
				i = len(s.Journals)
				journals[name] = i
				s.Journals = append(s.Journals, bundle.Journal{Name: name})
			}
			if _, err := strconv.Atoi(r.Key); err != nil {
				return s, fmt.Errorf("journal %s record key %q", name, r.Key)
			}
			s.Journals[i].Records = append(s.Journals[i].Records, r.Data)
		default:
			return s, fmt.Errorf("central database holds a record type this otscope does not know: %q (upgrade otscope)", r.Type)
		}
	}
	s.Normalize()
	return s, nil
}

// Site is one site's inventory: its sensors' sessions merged with the same
// rules as the local merge (MAC, then IP within the site; conflicts kept).
type Site struct {
	Name    string
	Session bundle.Session
	Report  merge.Report
}

// MergeSites merges each site's sensors into one session per site, in
// site order. A site with one sensor is that sensor's session.
func MergeSites(in []SensorContent) ([]Site, error) {
	var out []Site
	for i := 0; i < len(in); {
		j := i
		var sessions []bundle.Session
		for ; j < len(in) && in[j].Site == in[i].Site; j++ {
			s, err := in[j].Bundle()
			if err != nil {
				return nil, err
			}
			// Sessions of different sensors may share a name.
			s.Name = in[j].Sensor.Name + "/" + s.Name
			sessions = append(sessions, s)
		}
		site := Site{Name: in[i].Site}
		if len(sessions) == 1 {
			site.Session = sessions[0]
			site.Report = merge.Report{Inputs: []string{sessions[0].Name}, Assets: len(sessions[0].Assets)}
		} else {
			m, rep, err := merge.Sessions(in[i].Site, sessions...)
			if err != nil {
				return nil, fmt.Errorf("site %s: %w", in[i].Site, err)
			}
			site.Session, site.Report = m, rep
		}
		site.Session.Name, site.Session.Site = in[i].Site, in[i].Site
		out = append(out, site)
		i = j
	}
	return out, nil
}
