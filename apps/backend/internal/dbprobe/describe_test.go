package dbprobe

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestDescribe(t *testing.T) {
	pgErr := &pgconn.PgError{Severity: "FATAL", Code: "28P01", Message: `password authentication failed for user "app"`}
	cases := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{context.DeadlineExceeded, "timed out"},
		{fmt.Errorf("ping: %w", context.DeadlineExceeded), "timed out"},
		{fmt.Errorf("wrapped: %w", pgErr), `password authentication failed for user "app" (SQLSTATE 28P01)`},
		{errRefused, errRefused.Error()},
	}
	for _, tc := range cases {
		if got := Describe(tc.err); got != tc.want {
			t.Errorf("Describe(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestDescribeRedactsAndTruncates(t *testing.T) {
	err := fmt.Errorf("cannot parse postgres://app:s3cret@db/x: %s", strings.Repeat("x", 300))
	got := Describe(err, "s3cret", "postgres://app:s3cret@db/x")
	if strings.Contains(got, "s3cret") {
		t.Fatalf("secret leaked: %q", got)
	}
	if len(got) > maxErrorLen+len("…") {
		t.Fatalf("not truncated: %d bytes", len(got))
	}
}

func TestOpenPostgresBadURLHidesURL(t *testing.T) {
	const url = "postgres://app:s3cret@db:notaport/x"
	_, err := OpenPostgres(context.Background(), url)
	if err == nil {
		t.Fatal("expected an error")
	}
	if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "app") {
		t.Fatalf("error leaks connection details: %q", err)
	}
}

func TestOpenPostgresIsLazy(t *testing.T) {
	// Nothing listens on port 1: opening must still succeed and only the probe fails.
	pg, err := OpenPostgres(context.Background(), "postgres://app:s3cret@127.0.0.1:1/x?connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if pg.Host() != "127.0.0.1:1" {
		t.Fatalf("Host() = %q", pg.Host())
	}
	s := New(Options{Store: pg, Redact: pg.Secrets()}).Probe(context.Background())
	if s.Reachable || s.Error == "" || strings.Contains(s.Error, "s3cret") {
		t.Fatalf("snapshot = %+v", s)
	}
	t.Logf("error for a closed port: %q", s.Error)
}
