// Package central keeps the inventories of many sites in one PostgreSQL
// database: each jump host (a sensor) pushes its session there, and any
// host reads a site's merged inventory back.
//
// otscope stays local-first: a session lives in Badger on the jump host and
// is pushed when a link exists. What is pushed is exactly what a session
// bundle holds (assets with every fact and its provenance, conversations,
// capture statistics, the scan log, waivers, state history, walkdown data,
// the documented inventory), as a Content.
//
//	db, err := central.Open(ctx, dsn) // applies the embedded migrations
//	if err != nil {
//		return err
//	}
//	defer db.Close()
//	st, err := db.Push(ctx, content, central.PushOptions{Site: "plant-a", Sensor: "jump-1"})
//
// The schema is otscope's own, in the PostgreSQL schema "otscope"
// (migrations/*.sql, embedded). A push is idempotent and resumable: each
// record is stored with the SHA-256 of its content, a push sends only the
// records whose hash differs, in transactions of a few thousand assets, and
// a push that was interrupted is completed by the next one. Two sensors may
// push to one site at once; two pushes of the same sensor are serialised by
// an advisory lock.
package central

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Errors callers may test for.
var (
	// ErrNewerSchema: the database was set up by a newer otscope.
	ErrNewerSchema = errors.New("central database schema is newer than this otscope")
	// ErrPasswordOnCommandLine: a DSN given as a flag carries a password.
	ErrPasswordOnCommandLine = errors.New("a password on the command line is visible to every user of this host (ps); put it in ~/.pgpass, PGPASSFILE, $OTSCOPE_DSN or a --dsn-file")
	// ErrNoDSN: no database was named.
	ErrNoDSN = errors.New("no central database: pass --to DSN (without a password), set $OTSCOPE_DSN, or pass --dsn-file FILE")
)

// ResolveDSN picks the connection string: the flag, else the file, else
// $OTSCOPE_DSN. A flag value that holds a password is refused; a file must
// not be readable by others when it holds one.
func ResolveDSN(flagValue, file string) (string, error) {
	switch {
	case flagValue != "":
		if hasPassword(flagValue) {
			return "", ErrPasswordOnCommandLine
		}
		return flagValue, nil
	case file != "":
		fi, err := os.Stat(file)
		if err != nil {
			return "", fmt.Errorf("dsn file: %w", err)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("dsn file: %w", err)
		}
		dsn := strings.TrimSpace(string(b))
		if dsn == "" {
			return "", fmt.Errorf("dsn file %s is empty", file)
		}
		if hasPassword(dsn) && fi.Mode().Perm()&0o077 != 0 {
			return "", fmt.Errorf("dsn file %s holds a password and is readable by others (mode %v): chmod 600 it", file, fi.Mode().Perm())
		}
		return dsn, nil
	case os.Getenv("OTSCOPE_DSN") != "":
		return os.Getenv("OTSCOPE_DSN"), nil
	}
	return "", ErrNoDSN
}

// hasPassword reports whether a URL or keyword/value DSN names a password.
func hasPassword(dsn string) bool {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return strings.Contains(dsn, "password")
		}
		if _, ok := u.User.Password(); ok {
			return true
		}
		return u.Query().Has("password")
	}
	for _, f := range strings.Fields(dsn) {
		if strings.HasPrefix(strings.ToLower(f), "password=") {
			return true
		}
	}
	return false
}

// Redact returns the DSN without a password, for messages and logs.
func Redact(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// DB is an open central database: one connection, for one goroutine at a
// time.
type DB struct {
	conn *pgx.Conn
	// Schema is the schema version in force.
	Schema int
}

// Open connects (TLS when the server offers it: sslmode defaults to
// "prefer"), checks the schema version and applies missing migrations.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("central database: %w", oneLine(err))
	}
	cfg.RuntimeParams["application_name"] = "otscope"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("central database %s: %w", Redact(dsn), oneLine(err))
	}
	db := &DB{conn: conn}
	if err := db.migrate(ctx); err != nil {
		conn.Close(context.Background())
		return nil, err
	}
	return db, nil
}

// Close releases the connections.
func (db *DB) Close() error { return db.conn.Close(context.Background()) }

// oneLine turns pgx's errors into one line that says what went wrong.
func oneLine(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01", "28000":
			return fmt.Errorf("authentication failed (%s): check the user and the password in ~/.pgpass or the DSN file", pgErr.Message)
		case "3D000":
			return fmt.Errorf("%s: create it first (createdb) or name another in the DSN", pgErr.Message)
		}
	}
	return err
}

type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	entries, err := migrations.ReadDir("migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number", e.Name())
		}
		b, err := migrations.ReadFile("migrations/" + e.Name())
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// Known returns the newest schema version this otscope knows.
func Known() int {
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrateLock is the advisory lock key that serialises migrations.
const migrateLock = 0x6f747363 // "otsc"

func (db *DB) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return err
	}
	known := ms[len(ms)-1].version
	return pgx.BeginFunc(ctx, db.conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("central database: %w", oneLine(err))
		}
		if _, err := tx.Exec(ctx, `CREATE SCHEMA IF NOT EXISTS otscope;
			CREATE TABLE IF NOT EXISTS otscope.schema_version (
				version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), name text NOT NULL)`); err != nil {
			return fmt.Errorf("central database: cannot create the otscope schema: %w", oneLine(err))
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM otscope.schema_version`).Scan(&current); err != nil {
			return err
		}
		if current > known {
			return fmt.Errorf("%w: it has version %d, this otscope knows up to %d; upgrade otscope on this host", ErrNewerSchema, current, known)
		}
		for _, m := range ms {
			if m.version <= current {
				continue
			}
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("central database: migration %s: %w", m.name, oneLine(err))
			}
			if _, err := tx.Exec(ctx, `INSERT INTO otscope.schema_version (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
				return err
			}
		}
		db.Schema = known
		return nil
	})
}
