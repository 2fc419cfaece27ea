package server

import (
	"context"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const (
	secret       = "s3cret-token"
	statusMethod = "/deployops.status.v1.StatusService/GetStatus"
)

func callUnary(t *testing.T, method string, md metadata.MD) error {
	t.Helper()
	ctx := context.Background()
	if md != nil {
		ctx = metadata.NewIncomingContext(ctx, md)
	}
	called := false
	_, err := newBearerAuth(secret).unary(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method},
		func(context.Context, any) (any, error) { called = true; return "ok", nil })
	if (err == nil) != called {
		t.Fatalf("handler called=%v but err=%v", called, err)
	}
	return err
}

func TestAuthRejects(t *testing.T) {
	cases := map[string]metadata.MD{
		"missing":      nil,
		"empty":        metadata.Pairs("authorization", ""),
		"wrong token":  metadata.Pairs("authorization", "Bearer nope"),
		"prefix only":  metadata.Pairs("authorization", "Bearer s3cret"),
		"wrong scheme": metadata.Pairs("authorization", "Basic "+secret),
		"no scheme":    metadata.Pairs("authorization", secret),
	}
	for name, md := range cases {
		err := callUnary(t, statusMethod, md)
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("%s: code = %v, want Unauthenticated", name, status.Code(err))
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("%s: error leaks the token: %v", name, err)
		}
	}
}

func TestAuthAccepts(t *testing.T) {
	for _, v := range []string{"Bearer " + secret, "bearer " + secret} {
		if err := callUnary(t, statusMethod, metadata.Pairs("authorization", v)); err != nil {
			t.Errorf("%q: %v", v, err)
		}
	}
}

func TestAuthSkipsHealth(t *testing.T) {
	if err := callUnary(t, "/grpc.health.v1.Health/Check", nil); err != nil {
		t.Fatalf("health must not need auth: %v", err)
	}
}
