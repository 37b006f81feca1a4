//go:build unix

package locallab

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/localb"
	"healthchecklab/internal/repo"
)

// TestStartFailsWhenNoServerAnswers: a web server that exits at once never makes its
// instance running: the shell reports LaunchFailed for each launch, and Start ends with the
// server's own last words instead of waiting for a retry that would fail the same way. No
// web-server process or lab directory is left behind.
func TestStartFailsWhenNoServerAnswers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts dynalite")
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "webserver")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'cannot bind: boom'\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	progress := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, err := Start(ctx, Options{Code: lab.CodeHealthCheck, Fast: true, RepoRoot: root, WebServerBin: bin, Progress: progress})
	if err == nil {
		l.Close()
		t.Fatal("Start succeeded with a web server that exits at once")
	}
	if !strings.Contains(err.Error(), "exited at start") || !strings.Contains(err.Error(), "cannot bind: boom") {
		t.Errorf("Start: %v, want the server's exit and its log", err)
	}
	if !strings.Contains(progress.String(), "failed to start") {
		t.Errorf("lab log lacks the region's note of the failed launch:\n%s", progress)
	}
}

// TestDeployRollsBack: a deploy whose new instances cannot start ends, after three
// attempts, as the region decides (UPDATE_ROLLBACK_COMPLETE); Deploy returns that as an error
// after streaming the region's notes, and the old instances keep serving.
func TestDeployRollsBack(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole lab")
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	progress := &syncBuffer{}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := Start(ctx, Options{Code: lab.CodeHealthCheck, Fast: true, RepoRoot: root, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// --fast shortens the group's grace period as it shortens the health checks.
	if g := l.r.Groups()[0]; g.HealthCheckType != region.HealthCheckEC2 || g.HealthCheckGrace != localb.FastGracePeriod() {
		t.Errorf("group: health check %s, grace %s", g.HealthCheckType, g.HealthCheckGrace)
	}
	if err := l.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(t.TempDir(), "webserver")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho 'no such table'\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	l.bin = broken
	l.mu.Unlock()
	var notes []string
	err = l.Deploy(ctx, lab.CodeBasic, func(msg string) { notes = append(notes, msg) })
	if err == nil || !strings.Contains(err.Error(), "UPDATE_ROLLBACK_COMPLETE") {
		t.Fatalf("Deploy: %v, want the rollback", err)
	}
	all := strings.Join(notes, "\n")
	for _, want := range []string{"rolling update to ServerCode basic", "failed to start", "rolled back"} {
		if !strings.Contains(all, want) {
			t.Errorf("deploy's notes lack %q:\n%s", want, all)
		}
	}
	if op := l.r.Operation(); op != nil && op.Kind == "deploy" {
		t.Errorf("operation %+v after the rollback", op)
	}
	if err := l.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestZonePower: a zone's power interruption on a real lab. Its instance's processes stop,
// the group replaces it in another zone while the zone cannot launch, and once the window
// ends the group rebalances one instance back into the zone.
func TestZonePower(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole lab")
	}
	t.Parallel()
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	l, err := Start(ctx, Options{Code: lab.CodeBasic, Fast: true, RepoRoot: root, Progress: &syncBuffer{}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if err := l.WaitHealthy(ctx); err != nil {
		t.Fatal(err)
	}
	var zoneC string
	for _, st := range l.r.Status() {
		if st.Letter == "c" && st.Current {
			zoneC = st.ID
		}
	}
	const window = 10 * time.Second
	if _, err := l.ZonePower("c", window); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ZonePower("local-1c", window); err == nil || !strings.Contains(err.Error(), "already without power") {
		t.Errorf("a second interruption of zone c: %v", err)
	}
	// until polls the region every 100 ms until ok holds of its members by zone.
	until := func(what string, ok func(inService map[string]int) bool) {
		t.Helper()
		for {
			n := map[string]int{}
			for _, m := range l.r.Groups()[0].Instances {
				if m.LifecycleState == "InService" && l.r.Target(m.ID).State == "healthy" {
					n[strings.TrimPrefix(m.Zone, region.Name)]++
				}
			}
			if ok(n) {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("%s: members in service and healthy by zone %v", what, n)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	until("three in service in zones a and b", func(n map[string]int) bool { return n["a"]+n["b"] == 3 && n["c"] == 0 })
	if l.proc(zoneC) != nil {
		t.Errorf("zone c's instance %s still has its processes", zoneC)
	}
	until("one back in zone c after the window", func(n map[string]int) bool {
		return n["a"] == 1 && n["b"] == 1 && n["c"] == 1
	})
}
