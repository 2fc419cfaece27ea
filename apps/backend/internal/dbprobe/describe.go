package dbprobe

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

const maxErrorLen = 160

// Describe turns a database error into a short message fit for logs and GetStatus: no
// connection string, no password. Any of redact found in the message is replaced as well,
// in case a driver error ever echoes part of the URL.
func Describe(err error, redact ...string) string {
	if err == nil {
		return ""
	}
	msg := classify(err)
	for _, r := range redact {
		if r != "" {
			msg = strings.ReplaceAll(msg, r, "[redacted]")
		}
	}
	if len(msg) > maxErrorLen {
		msg = strings.ToValidUTF8(msg[:maxErrorLen], "") + "…"
	}
	return msg
}

func classify(err error) string {
	var pgErr *pgconn.PgError
	var dnsErr *net.DNSError
	var connErr *pgconn.ConnectError
	switch {
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &pgErr):
		return pgErr.Message + " (SQLSTATE " + pgErr.Code + ")"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dnsErr):
		return "host lookup failed"
	case errors.As(err, &connErr):
		// ConnectError.Error() names the user and database; the innermost cause is enough.
		return "connect failed: " + innermost(err).Error()
	default:
		return innermost(err).Error()
	}
}

func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
