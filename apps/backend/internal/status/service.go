// Package status implements deployops.status.v1.StatusService.
package status

import (
	"context"
	"time"

	statusv1 "github.com/deployops/backend/gen/deployops/status/v1"
	"github.com/deployops/backend/internal/dbprobe"
)

// Source gives the latest database probe; *dbprobe.Prober is one.
type Source interface {
	Snapshot() dbprobe.Snapshot
}

// Service answers GetStatus from the last probe, so a slow database never makes it hang.
type Service struct {
	statusv1.UnimplementedStatusServiceServer
	releaseID string
	startedAt string
	src       Source
}

func New(releaseID string, startedAt time.Time, src Source) *Service {
	return &Service{
		releaseID: releaseID,
		startedAt: startedAt.UTC().Format(time.RFC3339),
		src:       src,
	}
}

func (s *Service) GetStatus(context.Context, *statusv1.GetStatusRequest) (*statusv1.GetStatusResponse, error) {
	snap := s.src.Snapshot()
	dbErr := snap.Error
	if !snap.Reachable && dbErr == "" {
		dbErr = "not probed yet"
	}
	return &statusv1.GetStatusResponse{
		ReleaseId:         s.releaseID,
		SchemaVersion:     snap.SchemaVersion,
		DatabaseReachable: snap.Reachable,
		DatabaseError:     dbErr,
		StartedAt:         s.startedAt,
		ReleasesSeen:      snap.ReleasesSeen,
	}, nil
}
