package central

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"otscope/model"
)

// SiteInfo summarises one site of the central database.
type SiteInfo struct {
	Name     string       `json:"name"`
	Sensors  []SensorInfo `json:"sensors"`
	Assets   int          `json:"assets"`
	LastPush time.Time    `json:"last_push"`
}

// SensorInfo is one sensor of a site.
type SensorInfo struct {
	Name     string    `json:"name"`
	Session  string    `json:"session"`
	Assets   int       `json:"assets"`
	LastPush time.Time `json:"last_push"`
	// Complete is false while a push is in progress or after one was
	// interrupted (the next push completes it).
	Complete bool `json:"complete"`
}

// Sites lists the sites with their sensors, by name.
func (db *DB) Sites(ctx context.Context) ([]SiteInfo, error) {
	rows, err := db.conn.Query(ctx, `
		SELECT si.name, se.name, se.session, coalesce(se.last_push, 'epoch'), se.push_complete,
		       (SELECT count(*) FROM otscope.asset a WHERE a.sensor_id = se.id)
		FROM otscope.site si JOIN otscope.sensor se ON se.site_id = si.id
		ORDER BY si.name, se.name`)
	if err != nil {
		return nil, oneLine(err)
	}
	var out []SiteInfo
	var site string
	var s SensorInfo
	_, err = pgx.ForEachRow(rows, []any{&site, &s.Name, &s.Session, &s.LastPush, &s.Complete, &s.Assets}, func() error {
		if len(out) == 0 || out[len(out)-1].Name != site {
			out = append(out, SiteInfo{Name: site})
		}
		si := &out[len(out)-1]
		s.LastPush = s.LastPush.UTC()
		si.Sensors = append(si.Sensors, s)
		si.Assets += s.Assets
		if s.LastPush.After(si.LastPush) {
			si.LastPush = s.LastPush
		}
		return nil
	})
	return out, oneLine(err)
}

// SensorContent is what one sensor last pushed.
type SensorContent struct {
	Site   string
	Sensor SensorInfo
	Content
}

// LoadOptions select what Load reads.
type LoadOptions struct {
	// Sites to read; none means every site.
	Sites []string
	// AssetsOnly skips the other records (conversations, journals).
	AssetsOnly bool
	// NoFacts leaves the assets' facts out (tables and CSV do not show
	// them; reading them is most of the cost of a large read).
	NoFacts bool
}

// Load returns what each sensor of the selected sites pushed, by site and
// sensor name; a site that does not exist is an error. Assets are sorted
// by ID, records by type and key.
func (db *DB) Load(ctx context.Context, o LoadOptions) ([]SensorContent, error) {
	sites, err := db.Sites(ctx)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range o.Sites {
		want[s] = true
	}
	var out []SensorContent
	index := map[string]int{} // site\x00sensor -> out index
	for _, si := range sites {
		if len(want) > 0 && !want[si.Name] {
			continue
		}
		delete(want, si.Name)
		for _, se := range si.Sensors {
			index[si.Name+"\x00"+se.Name] = len(out)
			out = append(out, SensorContent{Site: si.Name, Sensor: se, Content: Content{Session: se.Session}})
		}
	}
	for s := range want {
		return nil, fmt.Errorf("central database has no site %q", s)
	}
	siteNames := make([]string, 0, len(out))
	for _, sc := range out {
		siteNames = append(siteNames, sc.Site)
	}
	rows, err := db.conn.Query(ctx, `
		SELECT si.name, se.name, a.data::text
		FROM otscope.asset a JOIN otscope.sensor se ON se.id = a.sensor_id JOIN otscope.site si ON si.id = a.site_id
		WHERE si.name = ANY($1)`, siteNames)
	if err != nil {
		return nil, oneLine(err)
	}
	type job struct {
		at   int
		data []byte
	}
	var jobs []job
	var site, sensor string
	var data []byte
	_, err = pgx.ForEachRow(rows, []any{&site, &sensor, &data}, func() error {
		jobs = append(jobs, job{at: index[site+"\x00"+sensor], data: append([]byte(nil), data...)})
		return nil
	})
	if err != nil {
		return nil, oneLine(err)
	}
	// Decoding JSON is the cost of a large read: use every core.
	decoded := make([]model.Asset, len(jobs))
	errs := make([]error, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for w := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(jobs); i += len(errs) {
				if err := json.Unmarshal(jobs[i].data, &decoded[i]); err != nil && errs[w] == nil {
					errs[w] = fmt.Errorf("asset record %d: %w", i, err)
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	for i, j := range jobs {
		out[j.at].Assets = append(out[j.at].Assets, decoded[i])
	}
	for i := range out {
		sort.Slice(out[i].Assets, func(a, b int) bool { return out[i].Assets[a].ID < out[i].Assets[b].ID })
	}
	if !o.NoFacts {
		if err := db.loadFacts(ctx, out, index, siteNames); err != nil {
			return nil, err
		}
	}
	if o.AssetsOnly {
		return out, nil
	}
	rows, err = db.conn.Query(ctx, `
		SELECT si.name, se.name, r.type, r.key, r.data::text
		FROM otscope.record r JOIN otscope.sensor se ON se.id = r.sensor_id JOIN otscope.site si ON si.id = se.site_id
		WHERE si.name = ANY($1) ORDER BY r.type, r.key`, siteNames)
	if err != nil {
		return nil, oneLine(err)
	}
	var r Record
	_, err = pgx.ForEachRow(rows, []any{&site, &sensor, &r.Type, &r.Key, &data}, func() error {
		r.Data = append(json.RawMessage(nil), data...)
		sc := &out[index[site+"\x00"+sensor]]
		sc.Records = append(sc.Records, r)
		return nil
	})
	return out, oneLine(err)
}

// loadFacts attaches every asset's facts, in their stored order.
func (db *DB) loadFacts(ctx context.Context, out []SensorContent, index map[string]int, siteNames []string) error {
	type at struct{ sensor, asset int }
	pos := map[string]at{}
	for si := range out {
		for ai := range out[si].Assets {
			pos[out[si].Site+"\x00"+out[si].Sensor.Name+"\x00"+string(out[si].Assets[ai].ID)] = at{si, ai}
		}
	}
	rows, err := db.conn.Query(ctx, `
		SELECT si.name, se.name, f.asset_id, f.field, f.value, f.kind, f.protocol, f.origin, f.frame, f.ip,
		       f.seen_at, f.last_seen, f.count, f.detail
		FROM otscope.fact f JOIN otscope.sensor se ON se.id = f.sensor_id JOIN otscope.site si ON si.id = se.site_id
		WHERE si.name = ANY($1) ORDER BY f.sensor_id, f.asset_id, f.ord`, siteNames)
	if err != nil {
		return oneLine(err)
	}
	var site, sensor, asset, kind string
	var frame, count int64
	var seen, last *time.Time
	var ip *netip.Prefix
	var f model.Fact
	_, err = pgx.ForEachRow(rows, []any{&site, &sensor, &asset, &f.Field, &f.Value, &kind, &f.Source.Protocol, &f.Source.Origin,
		&frame, &ip, &seen, &last, &count, &f.Detail}, func() error {
		p, ok := pos[site+"\x00"+sensor+"\x00"+asset]
		if !ok {
			return nil
		}
		g := f
		g.Source.Kind.UnmarshalText([]byte(kind))
		g.Source.Frame, g.Count = uint64(frame), uint64(count)
		if ip != nil {
			g.Source.IP = ip.Addr()
		}
		if seen != nil {
			g.Source.Time = seen.UTC()
		}
		if last != nil {
			g.LastSeen = last.UTC()
		}
		a := &out[p.sensor].Assets[p.asset]
		a.Facts = append(a.Facts, g)
		return nil
	})
	return oneLine(err)
}
