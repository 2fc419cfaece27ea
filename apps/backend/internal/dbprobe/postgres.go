package dbprobe

import (
	"context"
	"errors"
	"net"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Postgres is the Store backed by a pgx pool.
type Postgres struct {
	pool *pgxpool.Pool
	host string
	pw   string
	// Tables are fields so the integration test can point them at a throwaway schema.
	migrations    pgx.Identifier
	releaseStarts pgx.Identifier
}

// ErrBadURL is returned for a DATABASE_URL pgx cannot parse. It deliberately carries no detail:
// pgx's parse error quotes the connection string.
var ErrBadURL = errors.New("DATABASE_URL could not be parsed")

// OpenPostgres parses url and creates a pool. No connection is made yet, so a database that is
// down at start does not stop the process.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, ErrBadURL
	}
	cfg.MaxConns = 4
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "deployops-backend"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, errors.New("creating the database pool failed: " + Describe(err, cfg.ConnConfig.Password, url))
	}
	return &Postgres{
		pool:          pool,
		host:          net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))),
		pw:            cfg.ConnConfig.Password,
		migrations:    pgx.Identifier{"public", "migrations"},
		releaseStarts: pgx.Identifier{"app", "release_starts"},
	}, nil
}

// Host is "host:port", safe to log.
func (p *Postgres) Host() string { return p.host }

// Secrets lists what Describe must redact.
func (p *Postgres) Secrets() []string { return []string{p.pw} }

func (p *Postgres) Close() { p.pool.Close() }

func (p *Postgres) Ping(ctx context.Context) error { return p.pool.Ping(ctx) }

func (p *Postgres) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := p.pool.QueryRow(ctx, "SELECT coalesce(max(id), 0) FROM "+p.migrations.Sanitize()).Scan(&v)
	if isMissing(err) {
		return 0, nil
	}
	return v, err
}

func (p *Postgres) ReleasesSeen(ctx context.Context) (int64, error) {
	var n int64
	err := p.pool.QueryRow(ctx, "SELECT count(*) FROM "+p.releaseStarts.Sanitize()).Scan(&n)
	if isMissing(err) {
		return 0, nil
	}
	return n, err
}

func (p *Postgres) RecordStart(ctx context.Context, releaseID, host string) (bool, error) {
	t := p.releaseStarts.Sanitize()
	upsert := " ON CONFLICT (release_id) DO UPDATE SET last_started_at = now(), start_count = " + t + ".start_count + 1"
	_, err := p.pool.Exec(ctx,
		"INSERT INTO "+t+" (release_id, last_host) VALUES ($1, $2)"+upsert+", last_host = EXCLUDED.last_host",
		releaseID, host)
	if pgCode(err) == "42703" { // undefined_column: migration 2 (last_host) not applied yet
		_, err = p.pool.Exec(ctx, "INSERT INTO "+t+" (release_id) VALUES ($1)"+upsert, releaseID)
	}
	if isMissing(err) {
		return false, nil
	}
	return err == nil, err
}

// isMissing reports an undefined table or schema: migrations have not run yet.
func isMissing(err error) bool {
	c := pgCode(err)
	return c == "42P01" || c == "3F000"
}

func pgCode(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
