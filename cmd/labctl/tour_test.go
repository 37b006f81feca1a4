package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/tour"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
)

// tourRun runs `labctl tour` with args; stop, when set, cancels it (Ctrl-C) once its output
// contains that text.
func (l *testLab) tour(t *testing.T, stop string, args ...string) (code int, out string) {
	t.Helper()
	var buf syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if stop != "" {
		go func() {
			for ctx.Err() == nil && !strings.Contains(buf.String(), stop) {
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
		}()
	}
	code = run(ctx, append([]string{"tour", "--state", l.state}, args...), &buf, &buf, func(k string) string {
		if k == "NO_COLOR" {
			return "1"
		}
		return ""
	})
	return code, buf.String()
}

// wide returns the lines of out wider than the screen.
func wide(out string) []string {
	var bad []string
	for _, l := range strings.Split(out, "\n") {
		if len([]rune(l)) > view.Width {
			bad = append(bad, l)
		}
	}
	return bad
}

// tourOnLocalLab runs `labctl tour --yes` on a lab at the start of the story while
// `labctl watch` follows it, and checks what both showed.
func tourOnLocalLab(t *testing.T, l *testLab) {
	t.Helper()
	wctx, wstop := context.WithCancel(context.Background())
	var watchOut syncBuffer
	watchDone := make(chan int, 1)
	go func() {
		watchDone <- run(wctx, []string{"watch", "--interval", "100ms", "--state", l.state}, &watchOut, &watchOut, noEnv)
	}()
	md := filepath.Join(t.TempDir(), "tour.md")
	start := time.Now()
	code, out := l.tour(t, "", "--yes", "--transcript", md)
	t.Logf("tour --yes took %s", time.Since(start).Round(time.Second))
	wstop()
	if c := <-watchDone; c != 0 {
		t.Errorf("watch exited %d", c)
	}
	if code != 0 || !strings.Contains(out, "✓ All 10 checkpoints met") || strings.Contains(out, "✗") {
		t.Fatalf("tour exit %d:\n%s", code, out)
	}
	if bad := wide(out); len(bad) > 0 {
		t.Errorf("tour lines wider than %d columns:\n%s", view.Width, strings.Join(bad, "\n"))
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for n := 1; n <= 10; n++ {
		if !strings.Contains(string(b), fmt.Sprintf("\n## Step %d: ", n)) {
			t.Errorf("transcript has no step %d", n)
		}
	}
	for _, want := range []string{"AZ  INSTANCE", "Step took", "All 10 checkpoints met"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	// watch followed the story: the rollouts in its header, zone c's failed checks, and
	// the whole of it fits the screen.
	w := watchOut.String()
	for _, want := range []string{"ServerCode basic → errorhandling", "ServerCode errorhandling → healthcheck",
		"rolling out ServerCode healthcheck", "✗✗✗", "CHECKS  NEXT", "replacing the instance in zone c"} {
		if !strings.Contains(w, want) {
			t.Errorf("watch never showed %q", want)
		}
	}
	if bad := wide(w); len(bad) > 0 {
		t.Errorf("watch lines wider than %d columns:\n%s", view.Width, strings.Join(bad, "\n"))
	}
}

// withStdin runs f with os.Stdin reading input (what a user types), as labctl reads it.
func withStdin(t *testing.T, input string, f func()) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.WriteString(w, input); w.Close() }()
	saved := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = saved; r.Close() }()
	f()
}

// tourPrompts checks the tour's prompts at the command line: an unknown key asks again and
// runs nothing, q stops it (exit 0, with the line that resumes it), and input that ends without an answer is an error that says
// --yes.
func tourPrompts(t *testing.T, l *testLab) {
	t.Helper()
	withStdin(t, "x\nq\n", func() {
		code, out := l.tour(t, "")
		if code != 0 || !strings.Contains(out, "[Enter] or n: run step 1 · q: stop:") ||
			!strings.Contains(out, `"x" is not an answer here: Enter or n runs it, q stops.`) ||
			strings.Contains(out, "» ") ||
			!strings.Contains(out, "Stopped before step 1. Resume with: labctl tour --from 1") {
			t.Errorf("x, then q at the first prompt: exit %d:\n%s", code, out)
		}
	})
	withStdin(t, "", func() {
		code, out := l.tour(t, "", "--from", "2")
		if code != 1 || !strings.Contains(out, "labctl: step 2: no answer on standard input (run with --yes to go without prompts)") {
			t.Errorf("no input: exit %d:\n%s", code, out)
		}
	})
	// On a terminal, the pause before step 10 shows step 9's checks again, coloured, on
	// the last 80×24 screen; q stops there.
	withStdin(t, "\n\nq\n", func() {
		term := func(k string) string {
			if k == "TERM" {
				return "xterm-256color"
			}
			return ""
		}
		code, screen := onTerminal(t, term, "tour", "--from", "9", "--state", l.state)
		screen = strings.ReplaceAll(screen, "\r", "")
		at := strings.LastIndex(screen, "run step 10 · q: stop:")
		if code != 0 || at < 0 || !strings.Contains(screen, "Stopped before step 10") {
			t.Fatalf("tour --from 9 on a terminal, Enter, Enter, q: exit %d:\n%q", code, screen)
		}
		lines := strings.Split(screen[:at], "\n")
		last := strings.Join(lines[max(0, len(lines)-tour.ScreenRows):], "\n")
		if !strings.Contains(last, "Step 9's checks:") || !strings.Contains(last, "\033[32m✓\033[0m") {
			t.Errorf("the screen at the pause before step 10 lacks step 9's coloured checks:\n%q", last)
		}
	})
	// Step 9 left the dependency off: back to a healthy lab for what follows.
	mustLabctl(t, l.state, "dependency", "on")
	eventually(t, "three healthy targets after the dependency is back", func() (bool, string) {
		return allCurrent(status(t, l.state), func(tg view.Target) bool { return tg.State == "healthy" })
	})
}

// resetAndScreens checks reset (role and parameter back, nothing replaced) and the screens
// on a terminal: coloured states, none with NO_COLOR, 80 columns either way.
func resetAndScreens(t *testing.T, l *testLab) {
	t.Helper()
	// reset restores the role and the parameter without replacing anything.
	mustLabctl(t, l.state, "fault", "stale-credentials", "--az", "c")
	mustLabctl(t, l.state, "dependency", "off")
	before := status(t, l.state)
	out := mustLabctl(t, l.state, "reset", "--server-code", "healthcheck")
	after := status(t, l.state)
	if !strings.Contains(out, "now has instance profile "+lab.RoleName(lab.DefaultNamingPrefix)) || !strings.Contains(out, "nothing to deploy") {
		t.Errorf("reset output:\n%s", out)
	}
	if after.Parameter != "true" {
		t.Errorf("parameter after reset: %s", after.Parameter)
	}
	for _, z := range region.Letters {
		if a, b := zoneTarget(after, z), zoneTarget(before, z); a.InstanceID != b.InstanceID || a.Role != lab.RoleName(lab.DefaultNamingPrefix) {
			t.Errorf("zone %s after reset: %+v (before %s)", z, a, b.InstanceID)
		}
	}

	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, verb := range [][]string{{"status"}, {"sample", "-n", "6"}} {
		code, screen := onTerminal(t, env("TERM", "xterm-256color"), append(verb, "--state", l.state)...)
		if code != 0 || !strings.Contains(screen, "\033[32m") {
			t.Errorf("%s on a terminal: exit %d, no green:\n%q", verb[0], code, screen)
		}
		code, screen = onTerminal(t, env("TERM", "xterm-256color", "NO_COLOR", "1"), append(verb, "--state", l.state)...)
		if code != 0 || strings.Contains(screen, "\033[") {
			t.Errorf("%s with NO_COLOR: exit %d, escape codes:\n%q", verb[0], code, screen)
		}
		if bad := wide(strings.ReplaceAll(screen, "\r", "")); len(bad) > 0 {
			t.Errorf("%s wider than %d columns:\n%s", verb[0], view.Width, strings.Join(bad, "\n"))
		}
	}
}
