package central

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"otscope/model"
)

// Content is what one session holds, as its bundle does: the assets (each
// with its facts and their provenance) and every other record, typed and
// keyed within the session (conversations, capture statistics, journals).
type Content struct {
	Session string
	Assets  []model.Asset
	Records []Record
}

// Record is one non-asset record of a session.
type Record struct {
	// Type names the record kind as the bundle does ("conversation",
	// "capture_stats", "journal:waivers"...).
	Type string `json:"type"`
	// Key is unique within Type in one session.
	Key  string          `json:"key"`
	Data json.RawMessage `json:"data"`
}

// PushOptions name where a session goes.
type PushOptions struct {
	Site    string
	Sensor  string
	Version string // otscope version, recorded with the sensor
	// Batch is the number of assets per transaction (default 2000).
	Batch int
	// Progress, when set, is called after each committed batch.
	Progress func(sent, total int)
}

// PushStats says what a push did.
type PushStats struct {
	Assets, AssetsSent, AssetsDeleted    int
	Facts                                int
	Records, RecordsSent, RecordsDeleted int
	Duration                             time.Duration
}

type row struct {
	key  string
	hash []byte
	data []byte
}

// Push writes content as the sensor's current state at the site. Records
// whose content is already there are not sent again; records the session no
// longer holds are removed. Each batch commits on its own, so an
// interrupted push keeps what it sent and the next push completes it.
func (db *DB) Push(ctx context.Context, c Content, o PushOptions) (PushStats, error) {
	start := time.Now()
	var st PushStats
	if o.Site == "" || o.Sensor == "" {
		return st, errors.New("push: a site and a sensor name are needed")
	}
	if o.Batch <= 0 {
		o.Batch = 2000
	}
	assets := make([]row, len(c.Assets))
	assetHashes := make([][]byte, len(c.Assets))
	for i := range c.Assets {
		b, err := json.Marshal(&c.Assets[i])
		if err != nil {
			return st, fmt.Errorf("push: asset %s: %w", c.Assets[i].ID, err)
		}
		h := sha256.Sum256(b)
		assets[i] = row{key: string(c.Assets[i].ID), hash: h[:]}
		assetHashes[i] = h[:]
	}
	records := make([]row, 0, len(c.Records))
	seenKey := make(map[string]int, len(c.Records))
	for _, r := range c.Records {
		h := sha256.New()
		h.Write([]byte(r.Type))
		h.Write([]byte{0})
		h.Write(r.Data)
		k := r.Type + keySep + r.Key
		if i, dup := seenKey[k]; dup { // the later record of a key wins
			records[i] = row{key: k, hash: h.Sum(nil), data: r.Data}
			continue
		}
		seenKey[k] = len(records)
		records = append(records, row{key: k, hash: h.Sum(nil), data: r.Data})
	}
	st.Assets, st.Records = len(assets), len(records)

	conn := db.conn
	siteID, sensorID, err := ensureSensor(ctx, conn, o, c.Session)
	if err != nil {
		return st, wentAway(err, st)
	}
	// One push per sensor at a time; other sensors go on in parallel.
	lock := sensorLock(siteID, o.Sensor)
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lock); err != nil {
		return st, wentAway(err, st)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lock)

	var pushID int64
	if err := conn.QueryRow(ctx, `INSERT INTO otscope.push (sensor_id) VALUES ($1) RETURNING id`, sensorID).Scan(&pushID); err != nil {
		return st, wentAway(err, st)
	}
	haveAssets, err := hashes(ctx, conn, `SELECT asset_id, hash FROM otscope.asset WHERE sensor_id = $1`, sensorID)
	if err != nil {
		return st, wentAway(err, st)
	}
	haveRecords, err := hashes(ctx, conn, `SELECT type || chr(31) || key, hash FROM otscope.record WHERE sensor_id = $1`, sensorID)
	if err != nil {
		return st, wentAway(err, st)
	}
	changedAssets, goneAssets := diffRows(assets, haveAssets)
	changedRecords, goneRecords := diffRows(records, haveRecords)

	for i := 0; i < len(changedAssets); i += o.Batch {
		batch := changedAssets[i:min(i+o.Batch, len(changedAssets))]
		n, err := db.writeAssets(ctx, conn, siteID, sensorID, c.Assets, assetHashes, batch)
		if err != nil {
			return st, wentAway(err, st)
		}
		st.AssetsSent += len(batch)
		st.Facts += n
		if o.Progress != nil {
			o.Progress(st.AssetsSent, len(changedAssets))
		}
	}
	for i := 0; i < len(changedRecords); i += o.Batch * 5 {
		batch := changedRecords[i:min(i+o.Batch*5, len(changedRecords))]
		if err := writeRecords(ctx, conn, sensorID, records, batch); err != nil {
			return st, wentAway(err, st)
		}
		st.RecordsSent += len(batch)
	}
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if len(goneAssets) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM otscope.asset WHERE sensor_id = $1 AND asset_id = ANY($2)`, sensorID, goneAssets); err != nil {
				return err
			}
		}
		if len(goneRecords) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM otscope.record WHERE sensor_id = $1 AND type || chr(31) || key = ANY($2)`, sensorID, goneRecords); err != nil {
				return err
			}
		}
		st.AssetsDeleted, st.RecordsDeleted = len(goneAssets), len(goneRecords)
		st.Duration = time.Since(start)
		sent, _ := json.Marshal(st)
		if _, err := tx.Exec(ctx, `UPDATE otscope.push SET finished_at = now(), sent = $2 WHERE id = $1`, pushID, sent); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE otscope.sensor SET last_push = now(), push_complete = true, session = $2, otscope = $3 WHERE id = $1`,
			sensorID, c.Session, o.Version)
		return err
	})
	if err != nil {
		return st, wentAway(err, st)
	}
	st.Duration = time.Since(start)
	return st, nil
}

// wentAway explains an error in the middle of a push: what was sent stays,
// and running the push again completes it.
func wentAway(err error, st PushStats) error {
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("push interrupted after %d of the changed assets were sent; run push again to complete it", st.AssetsSent)
	}
	return fmt.Errorf("push stopped after %d changed assets were sent (run push again to complete it): %w", st.AssetsSent, oneLine(err))
}

func sensorLock(siteID int64, sensor string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s", siteID, sensor)
	return int64(h.Sum64() >> 1)
}

func ensureSensor(ctx context.Context, conn *pgx.Conn, o PushOptions, session string) (siteID, sensorID int64, err error) {
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO otscope.site (name) VALUES ($1) ON CONFLICT (name) DO NOTHING`, o.Site); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT id FROM otscope.site WHERE name = $1`, o.Site).Scan(&siteID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO otscope.sensor (site_id, name, session) VALUES ($1, $2, $3)
			ON CONFLICT (site_id, name) DO UPDATE SET push_complete = false`, siteID, o.Sensor, session); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM otscope.sensor WHERE site_id = $1 AND name = $2`, siteID, o.Sensor).Scan(&sensorID)
	})
	return siteID, sensorID, err
}

func hashes(ctx context.Context, conn *pgx.Conn, query string, sensorID int64) (map[string][]byte, error) {
	rows, err := conn.Query(ctx, query, sensorID)
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	var k string
	var h []byte
	_, err = pgx.ForEachRow(rows, []any{&k, &h}, func() error {
		out[k] = h
		return nil
	})
	return out, err
}

// diffRows returns the indexes of rows whose hash differs from what is
// stored, and the stored keys no row has any more.
func diffRows(rows []row, have map[string][]byte) (changed []int, gone []string) {
	seen := make(map[string]bool, len(rows))
	for i, r := range rows {
		seen[r.key] = true
		if h, ok := have[r.key]; !ok || string(h) != string(r.hash) {
			changed = append(changed, i)
		}
	}
	for k := range have {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	return changed, gone
}

// writeAssets replaces the given assets and their facts in one transaction.
func (db *DB) writeAssets(ctx context.Context, conn *pgx.Conn, siteID, sensorID int64, assets []model.Asset, hashes [][]byte, idx []int) (facts int, err error) {
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE asset_in (LIKE otscope.asset INCLUDING DEFAULTS) ON COMMIT DROP;
			CREATE TEMP TABLE fact_in (LIKE otscope.fact INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
			return err
		}
		arows := make([][]any, 0, len(idx))
		var frows [][]any
		for _, i := range idx {
			a := &assets[i]
			// The row holds the asset without its facts; the hash covers both.
			bare := *a
			bare.Facts = nil
			b, err := json.Marshal(&bare)
			if err != nil {
				return err
			}
			macs := make([]string, len(a.MACs))
			for j, m := range a.MACs {
				macs[j] = m.String()
			}
			ips := make([]netip.Prefix, 0, len(a.IPs))
			for _, ip := range a.IPs {
				if ip.IsValid() {
					ips = append(ips, netip.PrefixFrom(ip, ip.BitLen()))
				}
			}
			var last any
			if !a.LastSeen.IsZero() {
				last = a.LastSeen
			}
			arows = append(arows, []any{sensorID, siteID, pgText(string(a.ID)), hashes[i], macs, ips, pgText(a.Vendor), pgText(a.Product),
				pgText(a.OrderNumber), pgText(a.Serial), pgText(a.Firmware), last, pgJSON(b)})
			for n, f := range a.Facts {
				var seen, lseen any
				if !f.Source.Time.IsZero() {
					seen = f.Source.Time
				}
				if !f.LastSeen.IsZero() {
					lseen = f.LastSeen
				}
				var ip any
				if f.Source.IP.IsValid() {
					ip = netip.PrefixFrom(f.Source.IP, f.Source.IP.BitLen())
				}
				frows = append(frows, []any{sensorID, pgText(string(a.ID)), pgText(f.Field), pgText(f.Value), f.Source.Kind.String(),
					pgText(f.Source.Protocol), pgText(f.Source.Origin), int64(f.Source.Frame), ip, seen, lseen, int64(f.Count), pgText(f.Detail), n})
			}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"asset_in"}, []string{"sensor_id", "site_id", "asset_id", "hash", "macs", "ips",
			"vendor", "product", "order_number", "serial", "firmware", "last_seen", "data"}, pgx.CopyFromRows(arows)); err != nil {
			return err
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"fact_in"}, []string{"sensor_id", "asset_id", "field", "value", "kind",
			"protocol", "origin", "frame", "ip", "seen_at", "last_seen", "count", "detail", "ord"}, pgx.CopyFromRows(frows)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			DELETE FROM otscope.fact f USING asset_in a WHERE f.sensor_id = a.sensor_id AND f.asset_id = a.asset_id;
			INSERT INTO otscope.asset SELECT * FROM asset_in
			  ON CONFLICT (sensor_id, asset_id) DO UPDATE SET hash = EXCLUDED.hash, macs = EXCLUDED.macs, ips = EXCLUDED.ips,
			  vendor = EXCLUDED.vendor, product = EXCLUDED.product, order_number = EXCLUDED.order_number,
			  serial = EXCLUDED.serial, firmware = EXCLUDED.firmware, last_seen = EXCLUDED.last_seen, data = EXCLUDED.data;
			INSERT INTO otscope.fact SELECT * FROM fact_in ON CONFLICT DO NOTHING`); err != nil {
			return err
		}
		facts = len(frows)
		return nil
	})
	return facts, err
}

func writeRecords(ctx context.Context, conn *pgx.Conn, sensorID int64, recs []row, idx []int) error {
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TEMP TABLE record_in (LIKE otscope.record) ON COMMIT DROP`); err != nil {
			return err
		}
		rows := make([][]any, len(idx))
		for n, i := range idx {
			r := recs[i]
			typ, key := splitKey(r.key)
			rows[n] = []any{sensorID, pgText(typ), pgText(key), r.hash, pgJSON(r.data)}
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"record_in"}, []string{"sensor_id", "type", "key", "hash", "data"}, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO otscope.record SELECT * FROM record_in
			ON CONFLICT (sensor_id, type, key) DO UPDATE SET hash = EXCLUDED.hash, data = EXCLUDED.data`)
		return err
	})
}

// keySep joins a record's type and key (PostgreSQL text cannot hold NUL).
const keySep = "\x1f"

func splitKey(k string) (typ, key string) {
	typ, key, _ = strings.Cut(k, keySep)
	return typ, key
}

// pgText makes a string storable in a text column: PostgreSQL refuses NUL.
func pgText(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// pgJSON makes JSON storable as jsonb, which refuses the escape \u0000.
func pgJSON(b []byte) string {
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return string(b)
	}
	return string(bytes.ReplaceAll(b, []byte(`\u0000`), []byte(`\ufffd`)))
}
