package tour

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/targethealth"
)

// answers is a Prompter that replays scripted answers and records the prompts.
type answers struct {
	cont    []bool // Continue answers, in order; true when they run out
	confirm []bool // Confirm answers, in order; false when they run out
	asked   []string
}

func (a *answers) Continue(_ context.Context, p string) (bool, error) {
	a.asked = append(a.asked, p)
	if len(a.cont) == 0 {
		return true, nil
	}
	v := a.cont[0]
	a.cont = a.cont[1:]
	return v, nil
}

func (a *answers) Confirm(_ context.Context, q string) (bool, error) {
	a.asked = append(a.asked, q)
	if len(a.confirm) == 0 {
		return false, nil
	}
	v := a.confirm[0]
	a.confirm = a.confirm[1:]
	return v, nil
}

func setupTour(s Setup) (*fakeLab, *fakeClock, *bytes.Buffer, *bytes.Buffer, Options) {
	clock := &fakeClock{t: time.Date(2026, 11, 21, 7, 0, 0, 0, time.UTC)}
	f := newFakeLab(clock, s)
	var out, md bytes.Buffer
	return f, clock, &out, &md, Options{Out: &out, Transcript: &md, Clock: clock, Yes: true}
}

func TestScriptSetups(t *testing.T) {
	c := func(code lab.ServerCode, on bool, stale string) Setup { return Setup{code, on, stale} }
	want := []Setup{
		c(lab.CodeBasic, true, ""),
		c(lab.CodeBasic, true, ""),
		c(lab.CodeBasic, false, ""),
		c(lab.CodeErrorHandling, false, ""),
		c(lab.CodeErrorHandling, true, ""),
		c(lab.CodeErrorHandling, true, "c"),
		c(lab.CodeHealthCheck, true, ""),
		c(lab.CodeHealthCheck, true, "c"),
		c(lab.CodeHealthCheck, true, ""),
		c(lab.CodeHealthCheck, false, ""),
	}
	if len(Steps) != 10 {
		t.Fatalf("%d steps, want the lab's ten", len(Steps))
	}
	for i, s := range Steps {
		if s.N != i+1 || s.Title == "" || s.Explain == "" || s.Look == "" || len(s.Actions) == 0 || s.SampleN == 0 {
			t.Errorf("step %d incomplete: %+v", i+1, s)
		}
		if got := SetupBefore(i + 1); got != want[i] {
			t.Errorf("start of step %d: %v, want %v", i+1, got, want[i])
		}
	}
}

// TestExpectRules checks the lab's rules at each checkpoint's end state (LAB.md).
func TestExpectRules(t *testing.T) {
	zones := []string{"a", "b", "c"}
	tests := []struct {
		step     int
		states   string // per zone: h healthy, u unhealthy
		answers  string // per zone: p personalized, s static, d dropped (502)
		traffic  string
		failOpen bool
	}{
		{1, "hhh", "ppp", "abc", false},
		{2, "hhh", "ddd", "abc", false},
		{3, "hhh", "sss", "abc", false},
		{4, "hhh", "ppp", "abc", false},
		{5, "hhh", "pps", "abc", false},
		{6, "hhh", "ppp", "abc", false},
		{7, "hhu", "pps", "ab", false},
		{8, "hhh", "ppp", "abc", false},
		{9, "uuu", "sss", "abc", true},
		{10, "hhh", "ppp", "abc", false},
	}
	for _, tt := range tests {
		s := SetupBefore(tt.step)
		for _, a := range Steps[tt.step-1].Actions {
			a.apply(&s)
		}
		e := expect(s, zones)
		var states, answers string
		for _, z := range zones {
			states += map[targethealth.State]string{targethealth.StateHealthy: "h", targethealth.StateUnhealthy: "u"}[e.States[z]]
			answers += map[Answer]string{Personalized: "p", Static: "s", Dropped: "d"}[e.Answers[z]]
		}
		if states != tt.states || answers != tt.answers || strings.Join(e.Traffic, "") != tt.traffic || e.FailOpen != tt.failOpen {
			t.Errorf("checkpoint %d (%v): states %s answers %s traffic %v failOpen %v", tt.step, s, states, answers, e.Traffic, e.FailOpen)
		}
	}
}

func TestTourPasses(t *testing.T) {
	// The lab starts in a state no step expects: the tour's first step resets it.
	f, _, out, md, o := setupTour(Setup{Code: lab.CodeHealthCheck, DependencyOn: false, StaleLetter: "b"})
	if err := Run(context.Background(), f, o); err != nil {
		t.Fatalf("tour failed: %v\n%s", err, out)
	}
	for n := 1; n <= 10; n++ {
		if !strings.Contains(out.String(), "Step "+strconv.Itoa(n)+" of 10") {
			t.Errorf("no header for step %d", n)
		}
	}
	if strings.Contains(out.String(), "✗") || !strings.Contains(out.String(), "✓ All 10 checkpoints met") {
		t.Errorf("output:\n%s", out)
	}
	// The progress of a wait and its outcome: zone c turns unhealthy some seconds after the fault.
	if !strings.Contains(out.String(), "zone c: healthy, unhealthy after 3 failed checks") ||
		!strings.Contains(out.String(), "zone c unhealthy (HTTP 503) after 4.0s") {
		t.Errorf("no progress of zone c's checks:\n%s", out)
	}
	wantCalls := "reset basic deploy basic dependency false deploy errorhandling dependency true fault c deploy healthcheck fault c repair c dependency false dependency true"
	if got := strings.Join(f.calls, " "); got != wantCalls {
		t.Errorf("calls:\n%s\nwant\n%s", got, wantCalls)
	}
	for _, want := range []string{"# HealthCheckLab tour", "## Step 1: The basic server", "## Step 10: The emergency lever",
		"```sh\nlabctl fault stale-credentials --az c\nlabctl watch", "- ✓ targets: a and b healthy, c unhealthy (503)",
		"AZ  INSTANCE", "Step took", "## Result\n\nAll 10 checkpoints met"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("transcript lacks %q:\n%s", want, md)
		}
	}
	for i, l := range strings.Split(out.String(), "\n") {
		if n := len([]rune(l)); n > view.Width {
			t.Errorf("line %d is %d columns: %s", i+1, n, l)
		}
	}
}

// TestTourWrongServerCodeSays: a zone running another ServerCode fails the checkpoint with
// a sentence that names each zone and its code.
func TestTourWrongServerCodeSays(t *testing.T) {
	f, _, out, _, o := setupTour(Start)
	f.stuckCode = map[string]string{"a": "errorhandling"}
	err := Run(context.Background(), f, o)
	want := "checkpoint 1 (The basic server) not met: every instance runs ServerCode basic; saw: zone a errorhandling, zone b basic, zone c basic"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v\nwant  %s\n%s", err, want, out)
	}
}

func TestTourFailsOnWrongState(t *testing.T) {
	f, _, out, md, o := setupTour(Start)
	f.wrongZone = "b" // stale credentials land in zone b instead of c
	err := Run(context.Background(), f, o)
	var ce *CheckpointError
	if !errors.As(err, &ce) || ce.Step.N != 5 {
		t.Fatalf("error %v, want checkpoint 5 not met\n%s", err, out)
	}
	if !strings.Contains(err.Error(), "checkpoint 5 (Stale credentials in zone c") {
		t.Errorf("error %q does not name the checkpoint", err)
	}
	for _, want := range []string{"✗ 12 requests: 200 personalized from a and b, 200 static from c",
		"saw: a 200×4 (4 personalized), b 200×4 (4 static), c 200×4 (4 personalized)", "✗ checkpoint 5 not met",
		"resume with labctl tour --from 5"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "Step 6 of 10") || !strings.Contains(md.String(), "Checkpoint 5 (Stale credentials in zone c: the shallow check is blind) **not met**") {
		t.Errorf("the tour went on or the transcript misses the failure:\n%s", md)
	}
}

func TestTourFrom(t *testing.T) {
	f, _, out, _, o := setupTour(Start)
	o.From = 8
	if err := Run(context.Background(), f, o); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got := strings.Join(f.calls, " "); got != "reset healthcheck deploy healthcheck fault c repair c dependency false dependency true" {
		t.Errorf("calls %s", got)
	}
	if !strings.Contains(strings.Join(strings.Fields(out.String()), " "), "Bringing the lab to the start of step 8: ServerCode healthcheck, RecommendationServiceEnabled=true, zone c with the noDDB role") ||
		strings.Contains(out.String(), "Step 7 of 10") || !strings.Contains(out.String(), "All 3 checkpoints met") {
		t.Errorf("output:\n%s", out)
	}
	o.From = 11
	if err := Run(context.Background(), f, o); err == nil || err.Error() != "bad --from 11: the tour's steps are 1 to 10, e.g. labctl tour --from 7" {
		t.Errorf("--from 11: %v", err)
	}
}

func TestTourFromAsksFirst(t *testing.T) {
	f, _, out, _, o := setupTour(Start)
	a := &answers{cont: []bool{false}}
	o.Yes, o.Prompt, o.From = false, a, 6
	err := Run(context.Background(), f, o)
	var se *StoppedError
	if !errors.As(err, &se) || se.Next != 6 || len(f.calls) != 0 {
		t.Fatalf("error %v, calls %v: want a stop before step 6 with the lab untouched\n%s", err, f.calls, out)
	}
	if len(a.asked) != 1 || a.asked[0] != "[Enter] or n: do it · q: stop:" {
		t.Errorf("prompts %q", a.asked)
	}
}

func TestTourPromptsAndStops(t *testing.T) {
	f, _, out, _, o := setupTour(Start)
	a := &answers{cont: []bool{true, true, false}}
	o.Yes, o.Prompt = false, a
	err := Run(context.Background(), f, o)
	var se *StoppedError
	if !errors.As(err, &se) || se.Next != 3 || se.Interrupted {
		t.Fatalf("error %v, want stopped before step 3", err)
	}
	if len(a.asked) != 3 || a.asked[2] != "[Enter] or n: run step 3 · q: stop:" {
		t.Errorf("prompts %q", a.asked)
	}
	if !strings.Contains(out.String(), "Stopped before step 3. Resume with: labctl tour --from 3") {
		t.Errorf("output:\n%s", out)
	}
	if strings.Contains(strings.Join(f.calls, " "), "errorhandling") {
		t.Errorf("step 3 ran after q: %v", f.calls)
	}
}

func TestTourAWSAsksBeforeDeploying(t *testing.T) {
	f, _, out, _, o := setupTour(Start)
	a := &answers{confirm: []bool{false}}
	o.Yes, o.Prompt, o.AWS = false, a, true
	err := Run(context.Background(), f, o)
	var se *StoppedError
	if !errors.As(err, &se) || se.Next != 3 {
		t.Fatalf("error %v, want stopped at step 3", err)
	}
	if a.asked[len(a.asked)-1] != "Deploy now?" || !strings.Contains(out.String(), "about 10–15 minutes on AWS") {
		t.Errorf("prompts %q\n%s", a.asked, out)
	}
	if strings.Contains(strings.Join(f.calls, " "), "deploy") {
		t.Errorf("deployed without a yes: %v", f.calls)
	}
	// With --yes it says what the deploy costs and goes ahead.
	f, _, out, _, o = setupTour(Start)
	o.AWS, o.From = true, 3
	if err := Run(context.Background(), f, o); err != nil || !strings.Contains(out.String(), "about 10–15 minutes on AWS") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestTourInterrupted(t *testing.T) {
	f, _, out, md, o := setupTour(Start)
	ctx, cancel := context.WithCancel(context.Background())
	f.onDeploy = cancel // Ctrl-C while step 3 deploys
	err := Run(ctx, f, o)
	var se *StoppedError
	if !errors.As(err, &se) || se.Next != 3 || !se.Interrupted {
		t.Fatalf("error %v, want interrupted at step 3", err)
	}
	for _, want := range []string{"Interrupted during step 3", "finishes inside the lab by itself", "Resume with: labctl tour --from 3"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(md.String(), "Interrupted during step 3.") {
		t.Errorf("transcript:\n%s", md)
	}
}

func TestLinePrompter(t *testing.T) {
	var out bytes.Buffer
	p := NewLinePrompter(strings.NewReader("\nN\nq\ny\n\nx\nno\nnext\n"), &out)
	ctx := context.Background()
	for i, want := range []bool{true, true, false} { // Enter, n (any case), q
		if ok, err := p.Continue(ctx, "go?"); ok != want || err != nil {
			t.Errorf("answer %d: %v %v, want %v", i, ok, err, want)
		}
	}
	if ok, _ := p.Confirm(ctx, "deploy?"); !ok {
		t.Error("y did not confirm")
	}
	if ok, _ := p.Confirm(ctx, "deploy?"); ok {
		t.Error("Enter confirmed")
	}
	// An unknown answer asks again and says what the answers are.
	if ok, err := p.Confirm(ctx, "deploy?"); ok || err != nil {
		t.Errorf("x, then no: %v %v", ok, err)
	}
	if ok, err := p.Continue(ctx, "go?"); !ok || err != nil {
		t.Errorf("next: %v %v", ok, err)
	}
	if ok, err := p.Continue(ctx, "go?"); ok || !errors.Is(err, ErrNoInput) {
		t.Errorf("end of input: %v %v", ok, err)
	}
	want := "go? go? go? deploy? [y/N] deploy? [y/N] deploy? [y/N] \"x\" is not an answer here: y goes ahead, Enter or n does not.\n" +
		"deploy? [y/N] go? go? \n"
	if out.String() != want {
		t.Errorf("prompts %q\nwant    %q", out.String(), want)
	}
	// A cancelled context (Ctrl-C) ends a prompt that waits for input.
	block := NewLinePrompter(blockingReader{}, &out)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := block.Continue(cctx, "go?"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled prompt: %v", err)
	}
}

// TestTourUnknownKeyNeverRuns: at the tour's pauses, keys that are not an answer ask again;
// only Enter or n runs the step, q stops before it, Ctrl-C interrupts without running it.
func TestTourUnknownKeyNeverRuns(t *testing.T) {
	tests := []struct {
		name, input string
		cancel      bool // Ctrl-C while waiting at step 2's prompt
		ran         int  // steps run
		next        int  // where it stopped
		interrupted bool
	}{
		{"keys then q", "x\ny\nfoo\nq\n", false, 0, 1, false},
		{"Enter, keys, then q", "\nj\nrun\nq\n", false, 1, 2, false},
		{"n runs", "n\nzz\nq\n", false, 1, 2, false},
		{"Ctrl-C at a pause", "\nx\n", true, 1, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, out, _, o := setupTour(Start)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			in := io.Reader(strings.NewReader(tt.input))
			if tt.cancel {
				in = io.MultiReader(in, cancelReader(cancel))
			}
			o.Yes, o.Prompt = false, NewLinePrompter(in, out)
			err := Run(ctx, f, o)
			var se *StoppedError
			if !errors.As(err, &se) || se.Next != tt.next || se.Interrupted != tt.interrupted {
				t.Fatalf("error %v, want stopped before step %d (interrupted %v)\n%s", err, tt.next, tt.interrupted, out)
			}
			if got := strings.Count(out.String(), "» "); got != len(Steps[0].Actions)*tt.ran {
				t.Errorf("%d actions ran, want those of %d steps:\n%s", got, tt.ran, out)
			}
		})
	}
}

// cancelReader ends the context (as Ctrl-C does) when the prompt reads past the scripted
// input, and then blocks like a terminal with nothing typed.
type cancelReader context.CancelFunc

func (c cancelReader) Read([]byte) (int, error) {
	c()
	select {}
}

// TestTourPauseShowsLastChecks: at every pause after a step, the last 80 × 24 screen holds
// that step's checks, each with its mark, coloured when the style has colour.
func TestTourPauseShowsLastChecks(t *testing.T) {
	for _, color := range []bool{false, true} {
		f, _, out, _, o := setupTour(Start)
		o.Style = view.Style{Color: color}
		screens := &screenAtPause{out: out}
		o.Yes, o.Prompt = false, screens
		if err := Run(context.Background(), f, o); err != nil {
			t.Fatal(err)
		}
		if len(screens.shots) != len(Steps) {
			t.Fatalf("%d pauses, want %d", len(screens.shots), len(Steps))
		}
		full := out.String()
		for n := 2; n <= len(Steps); n++ {
			checks := stepChecks(full, n-1)
			if len(checks) == 0 {
				t.Fatalf("no checks found for step %d", n-1)
			}
			screen := screens.shots[n-1]
			if !strings.Contains(screen, fmt.Sprintf("Step %d's checks: %d of %d met", n-1, len(checks), len(checks))) {
				t.Errorf("pause before step %d: no recap of step %d's checks:\n%s", n, n-1, screen)
			}
			for _, c := range checks {
				line := view.Fit("  ✓ "+c, view.Width)
				if color {
					line = strings.Replace(line, "✓", "\033[32m✓\033[0m", 1)
				}
				if !strings.Contains(screen, line) {
					t.Errorf("pause before step %d: the last screen lacks %q:\n%s", n, line, screen)
				}
			}
		}
	}
}

// screenAtPause is a Prompter that keeps, at each pause, the last screen the user sees:
// the output's last ScreenRows-1 lines, the prompt on the line below.
type screenAtPause struct {
	out   *bytes.Buffer
	shots []string
}

func (s *screenAtPause) Continue(_ context.Context, _ string) (bool, error) {
	lines := strings.Split(strings.TrimSuffix(s.out.String(), "\n"), "\n")
	s.shots = append(s.shots, strings.Join(lines[max(0, len(lines)-(ScreenRows-1)):], "\n"))
	return true, nil
}

func (s *screenAtPause) Confirm(context.Context, string) (bool, error) { return true, nil }

// stepChecks returns what step n's checks said should hold, from the run's output: the
// lines that start with a mark between its header and the next step's.
func stepChecks(out string, n int) []string {
	start := strings.Index(out, fmt.Sprintf("Step %d of %d", n, len(Steps)))
	end := strings.Index(out, fmt.Sprintf("Step %d of %d", n+1, len(Steps)))
	if start < 0 || end < start {
		return nil
	}
	var checks []string
	for _, l := range strings.Split(out[start:end], "\n") {
		l = stripANSI(l)
		if strings.HasPrefix(l, "✓ ") || strings.HasPrefix(l, "✗ ") {
			checks = append(checks, strings.TrimPrefix(strings.TrimPrefix(l, "✓ "), "✗ "))
		}
	}
	return checks
}

func stripANSI(s string) string {
	for _, c := range []string{"\033[32m", "\033[31m", "\033[33m", "\033[36m", "\033[0m"} {
		s = strings.ReplaceAll(s, c, "")
	}
	return s
}

type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

// TestTourLiveProgress checks the terminal form of a wait's progress: one line redrawn in
// place, cleared before the outcome is printed; into a pipe, one line per change.
func TestTourLiveProgress(t *testing.T) {
	f, _, out, _, o := setupTour(Start)
	o.From, o.Live = 7, true
	if err := Run(context.Background(), f, o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\r\033[K  … zone c: healthy, unhealthy after 3 failed checks (") ||
		!strings.Contains(out.String(), "\r\033[K  zone c unhealthy (HTTP 503) after") {
		t.Errorf("no redrawn progress line:\n%q", out.String())
	}
	f, _, out, _, o = setupTour(Start)
	o.From = 7
	if err := Run(context.Background(), f, o); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "\r") || strings.Count(out.String(), "… zone c: healthy, unhealthy after 3 failed checks") != 1 {
		t.Errorf("progress into a pipe should be one line per change:\n%s", out.String())
	}
}

// TestChapterScript: the chapters follow the ten steps in number, start from ChapterStart,
// name their command lines as labctl takes them, and a tour picks them by number.
func TestChapterScript(t *testing.T) {
	for i, c := range Chapters {
		if c.N != len(Steps)+1+i || c.chapter == nil || c.Look == "" || c.Explain == "" {
			t.Errorf("chapter %d: %+v", i, c)
		}
		if SetupBefore(c.N) != ChapterStart {
			t.Errorf("chapter %d starts from %s", c.N, SetupBefore(c.N))
		}
	}
	for _, tt := range []struct {
		a    Action
		want string
	}{
		{Action{Verb: "deploy", Code: lab.CodeHealthCheck, HealthCheck: lab.AsgHealthCheckELB}, "labctl deploy --server-code healthcheck --asg-health-check ELB"},
		{Action{Verb: "deploy", Code: lab.CodeHealthCheck, HealthCheck: lab.AsgHealthCheckEC2}, "labctl deploy --server-code healthcheck"},
		{Action{Verb: "zone-power", Letter: "c", Duration: 5 * time.Minute}, "labctl fault zone-power --az c --duration 5m"},
		{Action{Verb: "zone-power", Letter: "c", Duration: 20 * time.Second}, "labctl fault zone-power --az c --duration 20s"},
		{Action{Verb: "zone-power", Letter: "c", Duration: time.Hour}, "labctl fault zone-power --az c --duration 1h"},
	} {
		if got := tt.a.Command(); got != tt.want {
			t.Errorf("Command() = %q, want %q", got, tt.want)
		}
	}
	steps, err := chosen(Options{Chapters: []int{12, 11, 12}})
	if err != nil || len(steps) != 2 || steps[0].N != 12 || steps[1].N != 11 {
		t.Errorf("chosen 12,11,12: %v %v", steps, err)
	}
	if _, err := chosen(Options{Chapters: []int{7}}); err == nil || !strings.Contains(err.Error(), "11 and 12") {
		t.Errorf("chapter 7: %v", err)
	}
	if steps, _ := chosen(Options{From: 3}); len(steps) != 8 || steps[0].N != 3 {
		t.Errorf("from 3: %d steps", len(steps))
	}
}
