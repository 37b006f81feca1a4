// Package tour walks the lab's ten checkpoints as a guided, self-checking story: for each
// step it explains what will happen and why, runs the step through the same actions as
// labctl's verbs, waits for the state the lab should reach while showing progress, and then
// checks the checkpoint's observable outcome, printing ✓ or ✗ with what it saw.
//
// The story is data (Steps) so that the tour, its end-to-end test and the README's step
// table all read one script.
package tour

import (
	"context"
	"time"

	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/clock"
	"healthchecklab/internal/lab"
)

// Lab is what the tour needs of a lab: what labctl's verbs observe and do.
type Lab interface {
	// Describe names what the tour acts on, e.g. "local lab at http://127.0.0.1:8080".
	Describe() string
	// Status is the target health, ServerCode and parameter (the status verb).
	Status(ctx context.Context) (view.Status, error)
	// Sample sends n requests through the load balancer (the sample verb).
	Sample(ctx context.Context, n int) (view.Sample, error)
	// ProbeHealthCheck sends n requests for /healthcheck through the load balancer.
	ProbeHealthCheck(ctx context.Context, n int) ([]Probe, error)
	// SetDependency sets RecommendationServiceEnabled (dependency on|off).
	SetDependency(ctx context.Context, on bool) error
	// StaleCredentials attaches the noDDB profile to a zone's instance (fault stale-credentials).
	StaleCredentials(ctx context.Context, letter string) error
	// Repair replaces a zone's instance and waits for the new one (repair --az).
	Repair(ctx context.Context, letter string, progress func(string)) error
	// Deploy rolls the instances to a ServerCode and sets the Auto Scaling group's health
	// check type, "" for the default EC2 (deploy --server-code --asg-health-check).
	Deploy(ctx context.Context, code lab.ServerCode, hc lab.AsgHealthCheck, progress func(string)) error
	// ZonePower cuts a zone's power for d (fault zone-power --az --duration); it returns
	// once the cut has begun.
	ZonePower(ctx context.Context, letter string, d time.Duration) error
	// Reset sets the parameter to true, gives every instance the normal role and, when the
	// lab runs another ServerCode, deploys code (reset).
	Reset(ctx context.Context, code lab.ServerCode, progress func(string)) error
}

// Probe is one answer of /healthcheck through the load balancer.
type Probe struct {
	Letter  string // the zone's letter; "?" when the answer does not say
	Code    int
	Healthy bool
}

// Clock tells the time and waits; tests substitute one that needs no real time.
type Clock = clock.Clock

// RealClock is the wall clock.
type RealClock = clock.Real
