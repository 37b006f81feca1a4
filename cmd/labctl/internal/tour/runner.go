package tour

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/targethealth"
)

// Options configure a tour.
type Options struct {
	Out   io.Writer
	Style view.Style
	// Live redraws the progress of a wait on one line (Out is a terminal).
	Live bool
	// Yes runs every step without waiting for Enter and deploys without asking.
	Yes bool
	// From is the first step (1-10); the lab is first brought to that step's starting state.
	From int
	// AWS says deploys and repairs replace real instances through CloudFormation and Auto
	// Scaling, which takes minutes: the tour says so and asks first (unless Yes).
	AWS bool
	// Transcript receives the run as Markdown; nil for none.
	Transcript io.Writer
	// Prompt asks the user; required unless Yes.
	Prompt Prompter
	// Clock defaults to the wall clock.
	Clock Clock
	// Resume is the command that resumes the tour at a step ("labctl tour --from %d").
	Resume string
	// Chapters, when set, runs these chapters past the ten steps (11, 12) instead of the
	// steps, after bringing the lab to ChapterStart.
	Chapters []int
}

// CheckpointError reports a checkpoint that was not met.
type CheckpointError struct {
	Step   Step
	Failed []Result
}

func (e *CheckpointError) Error() string {
	f := e.Failed[0]
	return fmt.Sprintf("checkpoint %d (%s) not met: %s; saw: %s", e.Step.N, e.Step.Title, f.What, f.Saw)
}

// StoppedError reports a tour that ended before its last step: the user stopped it, or
// Ctrl-C interrupted it.
type StoppedError struct {
	Next        int // the step to resume at
	Interrupted bool
	Resume      string
}

func (e *StoppedError) Error() string {
	how := "stopped"
	if e.Interrupted {
		how = "interrupted"
	}
	return fmt.Sprintf("tour %s at step %d; resume with: %s", how, e.Next, fmt.Sprintf(e.Resume, e.Next))
}

// Run walks the steps from o.From to 10 on l. It returns nil when every checkpoint was
// met, a *CheckpointError naming the first that was not, or a *StoppedError.
func Run(ctx context.Context, l Lab, o Options) error {
	if o.From == 0 {
		o.From = 1
	}
	steps, err := chosen(o)
	if err != nil {
		return err
	}
	if o.From < 1 || o.From > len(Steps) {
		return fmt.Errorf("bad --from %d: the tour's steps are 1 to %d, e.g. labctl tour --from 7", o.From, len(Steps))
	}
	if !o.Yes && o.Prompt == nil {
		return errors.New("tour: no way to prompt; use --yes")
	}
	if o.Clock == nil {
		o.Clock = RealClock{}
	}
	if o.Resume == "" {
		o.Resume = "labctl tour --from %d"
	}
	r := &runner{lab: l, o: o, out: o.Out, md: &markdown{w: o.Transcript}, steps: steps}
	return r.run(ctx)
}

// chosen lists the steps a tour runs: the ten from o.From, or o.Chapters.
func chosen(o Options) ([]Step, error) {
	if len(o.Chapters) == 0 {
		if o.From < 1 || o.From > len(Steps) {
			return nil, nil // Run says what is wrong with --from
		}
		return Steps[o.From-1:], nil
	}
	var out []Step
	for _, n := range o.Chapters {
		i := slices.IndexFunc(Chapters, func(s Step) bool { return s.N == n })
		if i < 0 {
			return nil, fmt.Errorf("bad chapter %d: the chapters past the ten steps are %s, e.g. labctl tour --chapters 11,12", n, chapterList())
		}
		if slices.ContainsFunc(out, func(s Step) bool { return s.N == n }) {
			continue
		}
		out = append(out, Chapters[i])
	}
	return out, nil
}

// chapterList names the chapters: "11 and 12".
func chapterList() string {
	ns := make([]string, len(Chapters))
	for i, s := range Chapters {
		ns[i] = fmt.Sprint(s.N)
	}
	return and(ns)
}

type runner struct {
	lab Lab
	o   Options
	out io.Writer
	md  *markdown
	hc  lab.HealthCheck
	// last is the step just checked and its results, which the next pause shows again.
	last *checked
	// steps are the steps (or chapters) this tour runs.
	steps []Step
}

// checked is one step's check results.
type checked struct {
	n       int
	results []Result
}

// ScreenRows is the height of the terminal the tour is written for (80 × 24): at a pause,
// the recap of the last step's checks and the next step's introduction fit in it together.
const ScreenRows = 24

func (r *runner) printf(format string, args ...any) { fmt.Fprintf(r.out, format, args...) }

func (r *runner) run(ctx context.Context) error {
	start := r.o.Clock.Now()
	how := "Enter runs each step, q stops; Ctrl-C stops at once and the lab stays usable."
	if r.o.Yes {
		how = "Running every step without stopping (--yes)."
	}
	what := "ten steps"
	if len(r.o.Chapters) > 0 {
		ns := make([]string, len(r.steps))
		for i, s := range r.steps {
			ns[i] = fmt.Sprint(s.N)
		}
		what = "chapter " + and(ns) + " past the ten steps"
	}
	view.Wrap(r.out, fmt.Sprintf("The HealthCheckLab tour: %s, each checked against what the lab should show. %s", what, how), view.Width, "")
	r.md.header(r.lab.Describe(), start)

	st, err := r.lab.Status(ctx)
	if err != nil {
		return r.fail(ctx, r.o.From, err)
	}
	r.hc = st.HealthCheck
	if first := r.steps[0].N; first > 1 {
		if err := r.prepare(ctx, first, st); err != nil {
			return r.fail(ctx, first, err)
		}
	}
	for _, s := range r.steps {
		if err := r.step(ctx, s); err != nil {
			var ce *CheckpointError
			if errors.As(err, &ce) {
				r.printf("\n✗ checkpoint %d not met. Fix the lab or look at it with labctl status, then %s.\n",
					s.N, "resume with "+fmt.Sprintf(r.o.Resume, s.N))
				r.md.result(fmt.Sprintf("Checkpoint %d (%s) **not met**.", s.N, s.Title))
				return err
			}
			return r.fail(ctx, s.N, err)
		}
	}
	took := r.o.Clock.Now().Sub(start)
	met := len(r.steps)
	r.printf("\n✓ All %d checkpoints met in %s.\n", met, round(took))
	r.md.result(fmt.Sprintf("All %d checkpoints met in %s.", met, round(took)))
	return nil
}

// fail turns an error at step n into what the user needs: a stop, an interruption that
// says what keeps running and how to resume, or the error itself.
func (r *runner) fail(ctx context.Context, n int, err error) error {
	var se *StoppedError
	if errors.As(err, &se) {
		r.printf("\nStopped before step %d. Resume with: %s\n", n, fmt.Sprintf(r.o.Resume, n))
		r.md.result(fmt.Sprintf("Stopped before step %d.", n))
		return err
	}
	if ctx.Err() != nil {
		r.printf("\n\nInterrupted during step %d. Nothing the tour started is left half done: a\n", n)
		if r.o.AWS {
			r.printf("deploy or repair under way carries on in CloudFormation and Auto Scaling (follow it\nwith labctl watch).")
		} else {
			r.printf("deploy or repair under way finishes inside the lab by itself (labctl watch shows it).")
		}
		r.printf("\nResume with: %s\n", fmt.Sprintf(r.o.Resume, n))
		r.md.result(fmt.Sprintf("Interrupted during step %d.", n))
		return &StoppedError{Next: n, Interrupted: true, Resume: r.o.Resume}
	}
	r.md.result(fmt.Sprintf("Step %d failed: %v", n, err))
	return fmt.Errorf("step %d: %w", n, err)
}

// prepare brings the lab to the start of step n: reset to its ServerCode, then the
// dependency switch and stale credentials of the steps before it, then waits for the
// state that setup leads to.
func (r *runner) prepare(ctx context.Context, n int, st view.Status) error {
	s := SetupBefore(n)
	what := "step"
	if n > len(Steps) {
		what = "chapter"
	}
	r.printf("\n")
	view.Wrap(r.out, fmt.Sprintf("Bringing the lab to the start of %s %d: %s.", what, n, s), view.Width, "  ")
	if !r.o.Yes {
		ok, err := r.o.Prompt.Continue(ctx, "[Enter] or n: do it · q: stop:")
		if err != nil {
			return err
		}
		if !ok {
			return &StoppedError{Next: n, Resume: r.o.Resume}
		}
	}
	r.md.section(fmt.Sprintf("Start of %s %d", what, n), "Bringing the lab to: "+s.String()+".")
	actions := []Action{{Verb: "reset", Code: s.Code}}
	if !s.DependencyOn {
		actions = append(actions, Action{Verb: "dependency", On: false})
	}
	if s.StaleLetter != "" {
		actions = append(actions, Action{Verb: "fault", Letter: s.StaleLetter})
	}
	if r.o.AWS && st.ServerCode != string(s.Code) {
		if ok, err := r.confirmDeploy(ctx, s.Code); err != nil || !ok {
			return errors.Join(err, &StoppedError{Next: n, Resume: r.o.Resume})
		}
	}
	since := r.o.Clock.Now()
	if err := r.act(ctx, actions); err != nil {
		return err
	}
	_, err := r.wait(ctx, s, since)
	return err
}

func (r *runner) confirmDeploy(ctx context.Context, code lab.ServerCode) (bool, error) {
	view.Wrap(r.out, fmt.Sprintf("This deploys ServerCode %s to the stack: CloudFormation replaces the three instances one zone at a time, which takes about 10–15 minutes on AWS (the stack's hourly cost does not change).", code), view.Width, "")
	if r.o.Yes {
		return true, nil
	}
	return r.o.Prompt.Confirm(ctx, "Deploy now?")
}

func (r *runner) step(ctx context.Context, s Step) error {
	var intro bytes.Buffer
	head := fmt.Sprintf("Step %d of %d · %s", s.N, len(Steps), s.Title)
	if s.N > len(Steps) {
		head = fmt.Sprintf("Chapter %d · %s", s.N, s.Title)
	}
	fmt.Fprintf(&intro, "\n%s\n", rule(head))
	view.Wrap(&intro, s.Explain, view.Width, "")
	fmt.Fprintf(&intro, "\n")
	for _, c := range s.Commands() {
		fmt.Fprintf(&intro, "  $ %s\n", c)
	}
	if !r.o.Yes && r.last != nil {
		// The last step's checks scrolled off with its tables: show them again where the
		// pause leaves the eye, above this step's introduction, within one screen.
		r.printf("%s", r.recap(ScreenRows-strings.Count(intro.String(), "\n")-1))
	}
	r.printf("%s", intro.String())
	r.md.step(s)
	if !r.o.Yes {
		ok, err := r.o.Prompt.Continue(ctx, fmt.Sprintf("[Enter] or n: run step %d · q: stop:", s.N))
		if err != nil {
			return err
		}
		if !ok {
			return &StoppedError{Next: s.N, Resume: r.o.Resume}
		}
	}
	stepStart := r.o.Clock.Now()
	before, err := r.lab.Status(ctx)
	if err != nil {
		return err
	}
	for _, a := range s.Actions {
		if r.o.AWS && a.Verb == "repair" {
			view.Wrap(r.out, "On AWS the replacement boots and passes two health checks in about 3–5 minutes.", view.Width, "")
		}
		if r.o.AWS && (a.Verb == "deploy" || a.Verb == "reset" && before.ServerCode != string(a.Code)) {
			if ok, err := r.confirmDeploy(ctx, a.Code); err != nil || !ok {
				return errors.Join(err, &StoppedError{Next: s.N, Resume: r.o.Resume})
			}
		}
	}
	setup := SetupBefore(s.N)
	for _, a := range s.Actions {
		a.apply(&setup)
	}
	var own []Result
	since := r.o.Clock.Now()
	if s.chapter != nil {
		if own, err = s.chapter(ctx, &chapterRun{r: r, step: s, lv: &live{out: r.out, tty: r.o.Live}}); err != nil {
			return err
		}
		since = r.o.Clock.Now()
	} else if err := r.act(ctx, s.Actions); err != nil {
		return err
	}
	if _, err := r.wait(ctx, setup, since); err != nil {
		return err
	}

	after, err := r.lab.Status(ctx)
	if err != nil {
		return err
	}
	sm, err := r.lab.Sample(ctx, s.SampleN)
	if err != nil {
		return err
	}
	c := &checkContext{lab: r.lab, setup: setup, before: before, after: after, sample: sm}
	results := append(own, generic(c)...)
	if s.extra != nil {
		results = append(results, s.extra(ctx, c)...)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	// The tables first, then the checks: what the step decided on is what stays on the
	// screen.
	var status, sample bytes.Buffer
	view.WriteStatus(&status, after, view.Style{})
	view.WriteSample(&sample, sm, view.Style{})
	r.printf("\n")
	view.WriteStatus(r.out, after, r.o.Style)
	r.printf("\n")
	view.WriteSample(r.out, sm, r.o.Style)
	var failed []Result
	r.printf("\n")
	for _, res := range results {
		if !res.OK {
			failed = append(failed, res)
		}
		var b strings.Builder
		view.Wrap(&b, mark(res)+" "+res.What, view.Width, "  ")
		view.Wrap(&b, "  saw: "+res.Saw, view.Width, "       ")
		r.printf("%s", r.paintMark(b.String(), res))
	}
	r.last = &checked{n: s.N, results: results}
	r.md.checks(results, status.String(), sample.String(), r.o.Clock.Now().Sub(stepStart))
	if len(failed) > 0 {
		return &CheckpointError{Step: s, Failed: failed}
	}
	return nil
}

// recap is the last step's checks in at most rows lines: a heading and one line per check,
// or, when those do not fit, the heading with one mark per check.
func (r *runner) recap(rows int) string {
	c := r.last
	met := 0
	for _, res := range c.results {
		if res.OK {
			met++
		}
	}
	head := fmt.Sprintf("Step %d's checks: %d of %d met", c.n, met, len(c.results))
	var b strings.Builder
	if len(c.results)+2 <= rows {
		fmt.Fprintf(&b, "\n%s\n", head)
		for _, res := range c.results {
			b.WriteString(r.paintMark(view.Fit("  "+mark(res)+" "+res.What, view.Width)+"\n", res))
		}
		return b.String()
	}
	var marks strings.Builder
	for _, res := range c.results {
		marks.WriteString(r.o.Style.Paint(paint(res), mark(res)))
	}
	fmt.Fprintf(&b, "\n%s %s\n", head, marks.String())
	return b.String()
}

// mark is a check's ✓ or ✗, and paint its colour.
func mark(res Result) string {
	if res.OK {
		return "✓"
	}
	return "✗"
}

func paint(res Result) view.Paint {
	if res.OK {
		return view.Good
	}
	return view.Bad
}

// paintMark colours the first mark in text, and a failed check's whole line, when the style
// has colour.
func (r *runner) paintMark(text string, res Result) string {
	if !res.OK && r.o.Style.Color {
		first, rest, _ := strings.Cut(text, "\n")
		return r.o.Style.Paint(view.Bad, first) + "\n" + rest
	}
	return strings.Replace(text, mark(res), r.o.Style.Paint(paint(res), mark(res)), 1)
}

// act runs actions in order, printing their progress with the time since each began.
func (r *runner) act(ctx context.Context, actions []Action) error {
	for _, a := range actions {
		r.printf("\n» %s\n", a.Command())
		start := r.o.Clock.Now()
		var lines []string
		// The verbs' progress lines carry their own timings.
		err := a.run(ctx, r.lab, func(msg string) {
			lines = append(lines, msg)
			view.Wrap(r.out, "  "+msg, view.Width, "          ")
		})
		r.md.action(a.Command(), lines, r.o.Clock.Now().Sub(start), err)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("%s: %w", a.Command(), err)
		}
	}
	return nil
}

// wait polls the lab until it shows what setup leads to, with live progress, or until the
// deadline. Not reaching it is not an error here: the checks that follow show what is wrong.
func (r *runner) wait(ctx context.Context, setup Setup, since time.Time) (bool, error) {
	limit := deadline(r.hc)
	lv := &live{out: r.out, tty: r.o.Live}
	reached := map[string]bool{}
	first := true
	var e Expect
	for {
		st, err := r.lab.Status(ctx)
		if err != nil {
			lv.clear()
			return false, err
		}
		if st.HealthCheck.Interval > 0 {
			r.hc = st.HealthCheck
		}
		e = expect(setup, zonesOf(st))
		cur := current(st)
		elapsed := r.o.Clock.Now().Sub(since)
		var pending []string
		progress := map[string]string{}
		for _, z := range e.Zones {
			t := cur[z]
			if stateOK(t, e.States[z]) {
				if !first && !reached[z] {
					lv.done(fmt.Sprintf("  zone %s %s after %s", z, describeTarget(t), seconds(elapsed)))
					r.md.line(fmt.Sprintf("zone %s %s after %s", z, describeTarget(t), seconds(elapsed)))
				}
				reached[z] = true
				continue
			}
			reached[z] = false
			pending = append(pending, z)
			progress[z] = zoneProgress(t, e.States[z], r.hc, since)
		}
		first = false
		var note string
		if len(pending) == 0 {
			sm, err := r.lab.Sample(ctx, 2*len(e.Zones))
			if err != nil {
				lv.clear()
				return false, err
			}
			ok, saw := e.matchSample(sm)
			if ok {
				msg := fmt.Sprintf("  reached after %s: %s; %s", seconds(elapsed), e.wantStates(), e.wantAnswers())
				lv.done(msg)
				r.md.line(strings.TrimSpace(msg))
				return true, nil
			}
			note = "answers so far: " + saw
		} else {
			note = groupZones(pending, progress)
		}
		if elapsed > limit {
			msg := fmt.Sprintf("  not reached within %s: %s", seconds(limit), note)
			lv.done(msg)
			r.md.line(strings.TrimSpace(msg))
			return false, nil
		}
		lv.show(fmt.Sprintf("  … %s (%s)", note, seconds(elapsed)))
		if err := r.o.Clock.Sleep(ctx, pollEvery(r.hc)); err != nil {
			lv.clear()
			return false, err
		}
	}
}

// zoneProgress words how far a target is from the state it should reach: the run of
// failed or passed checks since the change when the lab reports checks, else its state
// and what the load balancer needs.
func zoneProgress(t view.Target, want targethealth.State, hc lab.HealthCheck, since time.Time) string {
	if t.InstanceID == "" {
		return "no target yet"
	}
	run := func(ok bool) int {
		n := 0
		for i := len(t.Checks) - 1; i >= 0 && t.Checks[i].OK == ok && !t.Checks[i].At.Before(since); i-- {
			n++
		}
		return n
	}
	switch {
	case want == targethealth.StateUnhealthy && t.State != string(targethealth.StateUnhealthy):
		if len(t.Checks) > 0 {
			return fmt.Sprintf("%d of %d failed checks", run(false), hc.UnhealthyThreshold)
		}
		return fmt.Sprintf("%s, unhealthy after %d failed checks", t.State, hc.UnhealthyThreshold)
	case want == targethealth.StateHealthy:
		if len(t.Checks) > 0 {
			return fmt.Sprintf("%s, %d of %d passing checks", t.State, run(true), hc.HealthyThreshold)
		}
		return fmt.Sprintf("%s, healthy after %d passing checks", t.State, hc.HealthyThreshold)
	}
	return describeTarget(t)
}

// groupZones words per-zone progress, zones with the same words together:
// "zones a and b: 1 of 3 failed checks; zone c: 0 of 3 failed checks".
func groupZones(zones []string, words map[string]string) string {
	var order []string
	by := map[string][]string{}
	for _, z := range zones {
		w := words[z]
		if _, ok := by[w]; !ok {
			order = append(order, w)
		}
		by[w] = append(by[w], z)
	}
	parts := make([]string, len(order))
	for i, w := range order {
		name := "zone "
		if len(by[w]) > 1 {
			name = "zones "
		}
		parts[i] = name + and(by[w]) + ": " + w
	}
	return strings.Join(parts, "; ")
}

// live shows a wait's progress: redrawn on one line on a terminal, else one line per change.
type live struct {
	out   io.Writer
	tty   bool
	last  string // last text shown, without its timer
	shown bool   // a redrawable line is on screen
}

func (l *live) show(line string) {
	if l.tty {
		fmt.Fprintf(l.out, "\r\033[K%s", view.Fit(line, view.Width-1))
		l.shown = true
		return
	}
	text := line
	if i := strings.LastIndex(line, " ("); i > 0 {
		text = line[:i]
	}
	if text != l.last {
		l.last = text
		view.Wrap(l.out, line, view.Width, "      ")
	}
}

func (l *live) clear() {
	if l.tty && l.shown {
		fmt.Fprint(l.out, "\r\033[K")
		l.shown = false
	}
}

func (l *live) done(line string) {
	l.clear()
	view.Wrap(l.out, line, view.Width, "    ")
	l.last = ""
}

// rule frames a step title to the screen width.
func rule(title string) string {
	s := "── " + title + " "
	return view.Fit(s+strings.Repeat("─", max(0, view.Width-len([]rune(s)))), view.Width)
}

func seconds(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return round(d).String()
}

func round(d time.Duration) time.Duration { return d.Round(time.Second) }
