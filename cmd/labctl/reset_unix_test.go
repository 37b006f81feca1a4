//go:build unix

package main

import (
	"strings"
	"syscall"
	"testing"
)

// TestResetVerifiesTheLab: status lists the lab's processes; reset checks the lab after it
// acts and fails, naming what is wrong, while the dependency does not answer (dynalite
// frozen: not dead, so nothing restarts it), then succeeds once it answers again.
func TestResetVerifiesTheLab(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole local lab; skipped with -short")
	}
	// Its own lab, state file and ports: it runs beside the other lab tests.
	t.Parallel()
	l := startLab(t, labOptions{})

	out := mustLabctl(t, l.state, "status")
	for _, want := range []string{"PROCESS", "RESTARTS", "labctl", "dynalite", "web a", "web b", "web c"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	ddb := 0
	for _, p := range status(t, l.state).Processes {
		if p.Name == "dynalite" && p.State == "running" {
			ddb = p.PID
		}
	}
	if ddb == 0 {
		t.Fatalf("status --json names no running dynalite: %+v", status(t, l.state).Processes)
	}

	if err := syscall.Kill(ddb, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(ddb, syscall.SIGCONT)
	out, err := labctl(t, l.state, "reset")
	if err == nil {
		t.Fatalf("reset succeeded with the dependency frozen:\n%s", out)
	}
	for _, want := range []string{"exit 1", "the lab is not healthy", "answers personalized", "labctl status"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("reset's error lacks %q: %v", want, err)
		}
	}
	if strings.Contains(out, "back at the start") {
		t.Errorf("reset claims success:\n%s", out)
	}

	if err := syscall.Kill(ddb, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	out = mustLabctl(t, l.state, "reset")
	if !strings.Contains(out, "checked: 3 healthy targets") || !strings.Contains(out, "back at the start") {
		t.Errorf("reset output:\n%s", out)
	}
}
