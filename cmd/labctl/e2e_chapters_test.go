package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestTourChaptersOnLocalLab runs `labctl tour --yes --chapters 11,12` on a real --fast
// local lab of its own: the trap of health-check type ELB (Auto Scaling replaces every
// zone's instance during the outage, nothing after EC2 is back) and zone c losing power
// (the lab stops its processes, replaces it in zones a and b, rebalances after the window).
func TestTourChaptersOnLocalLab(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a local lab; skipped with -short")
	}
	t.Parallel()
	l := startLab(t, labOptions{})
	start := time.Now()
	md := filepath.Join(t.TempDir(), "chapters.md")
	code, out := l.tour(t, "", "--yes", "--chapters", "11,12", "--transcript", md)
	t.Logf("the chapters took %s", time.Since(start).Round(time.Second))
	if code != 0 || strings.Contains(out, "✗") {
		t.Fatalf("tour --chapters 11,12: exit %d:\n%s", code, out)
	}
	for _, want := range []string{
		"Chapter 11 · The trap", "✓ Auto Scaling replaced the instance of every zone",
		"✓ no replacement after the dependency came back",
		"Chapter 12 · A zone loses power", "labctl fault zone-power --az c --duration 20s",
		"✓ the group returned to three in service", "✓ after the window, one instance is back",
		"All 2 checkpoints met",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tour output lacks %q:\n%s", want, out)
		}
	}
	// The transcript reports the errors and the time to recover.
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`users got \d+ requests: \d+ personalized, \d+ static, \d+ errors; time to recover \(three in service in zones a and b\): \d`).Match(b) {
		t.Errorf("transcript lacks the errors and the time to recover:\n%s", b)
	}
	if bad := wide(out); len(bad) > 0 {
		t.Errorf("lines wider than the screen: %q", bad)
	}
}
