package locallab

import (
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/localb"
)

// TestUnitRestartPolicy: the lab restarts a web server as the unit file says (Restart=always,
// RestartSec=2), scaled like the health checks under --fast, and refuses a unit that would
// not restart it always.
func TestUnitRestartPolicy(t *testing.T) {
	p, err := webServerPolicy(lab.TargetGroupHealthCheck)
	if err != nil || p.RestartSec != 2*time.Second || p.MaxDelay != 0 {
		t.Errorf("the unit's policy: %+v, %v; want RestartSec 2s, no growing delay", p, err)
	}
	if p, err := webServerPolicy(localb.Fast(lab.TargetGroupHealthCheck)); err != nil || p.RestartSec != 133*time.Millisecond {
		t.Errorf("--fast: %+v, %v; want RestartSec 2s × 1s/15s = 133ms", p, err)
	}
	for _, tc := range []struct {
		unit string
		want time.Duration
		err  string
	}{
		{"[Service]\nRestart=always\nRestartSec=500ms\n", 500 * time.Millisecond, ""},
		{"[Service]\nRestart=always\n", 100 * time.Millisecond, ""}, // systemd's default RestartSec
		{"[Service]\n# Restart=no\nRestart=always\nRestartSec=1.5\n", 1500 * time.Millisecond, ""},
		{"[Service]\nRestart=on-failure\nRestartSec=2\n", 0, "want Restart=always"},
		{"[Service]\nRestartSec=2\n", 0, "want Restart=always"},
		{"[Service]\nRestart=always\nRestartSec=soon\n", 0, "RestartSec=soon"},
	} {
		p, err := UnitRestartPolicy(tc.unit)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want an error with %q", tc.unit, err, tc.err)
			}
			continue
		}
		if err != nil || p.RestartSec != tc.want {
			t.Errorf("%q: %+v, %v; want RestartSec %s", tc.unit, p, err, tc.want)
		}
	}
}
