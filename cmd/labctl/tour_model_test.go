package main

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"healthchecklab/cmd/labctl/internal/labtest"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/tour"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
)

// TestTourOnModel runs the tour with --yes through the verbs' own operations (tourLab over
// package labops) against the in-process lab on the region model, on its fake clock: every
// checkpoint's checks must pass, and a lab whose servers ignore the deployed ServerCode must
// fail the first checkpoint that needs the new code. On AWS the deploys go through the CDK
// CLI's stand-in (labtest's CDK).
func TestTourOnModel(t *testing.T) {
	t.Parallel() // its own in-process lab; no environment of the process
	for _, tc := range []struct {
		name  string
		kind  target.Kind
		code  lab.ServerCode // the lab's first ServerCode
		from  int
		stuck lab.ServerCode // Break: what every server answers as
		fail  int            // the checkpoint that must fail; 0 for none
	}{
		{name: "local", kind: target.Local, code: lab.CodeErrorHandling, from: 1},
		{name: "aws", kind: target.AWS, code: lab.CodeErrorHandling, from: 1},
		{name: "aws from step 7", kind: target.AWS, code: lab.CodeHealthCheck, from: 7},
		{name: "local, servers stuck on basic", kind: target.Local, code: lab.CodeBasic, from: 1, stuck: lab.CodeBasic, fail: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := labtest.New(t, tc.code)
			if tc.stuck != "" {
				h.Break(tc.stuck, false)
			}
			l := h.Open(tc.kind)
			var out, md bytes.Buffer
			start := h.Now()
			err := tour.Run(context.Background(), tourLab{l}, tour.Options{
				Out: &out, Style: view.Style{}, Yes: true, From: tc.from, AWS: tc.kind == target.AWS,
				Transcript: &md, Clock: h,
			})
			took := h.Now().Sub(start)
			t.Logf("the tour took %s of the lab's time", took)
			if testing.Verbose() {
				t.Log(out.String())
			}
			var cp *tour.CheckpointError
			switch {
			case tc.fail == 0 && err != nil:
				t.Fatalf("tour: %v\n%s", err, out.String())
			case tc.fail != 0 && (!errors.As(err, &cp) || cp.Step.N != tc.fail):
				t.Fatalf("tour = %v, want checkpoint %d not met\n%s", err, tc.fail, out.String())
			}
			// Every step run printed its checks, all ✓ up to the one that must fail.
			last := len(tour.Steps)
			if tc.fail != 0 {
				last = tc.fail
			}
			text := out.String()
			for n := tc.from; n <= last; n++ {
				if !strings.Contains(text, tour.Steps[n-1].Title) {
					t.Errorf("step %d (%s) not shown", n, tour.Steps[n-1].Title)
				}
			}
			if tc.fail == 0 {
				if strings.Contains(text, "✗") || !strings.Contains(text, "checkpoints met in") {
					t.Errorf("tour output:\n%s", text)
				}
			} else if !strings.Contains(text, "✗") {
				t.Errorf("no failed check shown:\n%s", text)
			}
		})
	}
}

// ec2Only is a tour lab whose deploys ignore the health-check type: the group keeps EC2.
type ec2Only struct{ tourLab }

func (e ec2Only) Deploy(ctx context.Context, code lab.ServerCode, _ lab.AsgHealthCheck, progress func(string)) error {
	return e.tourLab.Deploy(ctx, code, "", progress)
}

// noPowerCut is a tour lab whose zone-power fault does nothing.
type noPowerCut struct{ tourLab }

func (noPowerCut) ZonePower(context.Context, string, time.Duration) error { return nil }

// TestChaptersOnModel runs the chapters past the ten steps (tour --chapters) on the
// in-process lab's fake clock: chapter 11 (the trap of health-check type ELB) and chapter
// 12 (a zone loses power) pass, and each fails when its behaviour is taken away: a group
// that keeps type EC2 replaces nothing, a zone that keeps its power never leaves the load
// balancer.
func TestChaptersOnModel(t *testing.T) {
	t.Parallel() // its own in-process lab; no environment of the process
	for _, tc := range []struct {
		name     string
		kind     target.Kind
		chapters []int
		lab      func(tourLab) tour.Lab
		fail     int    // the chapter that must fail; 0 for none
		check    string // the failed check's words
	}{
		{name: "local, chapters 11 and 12", kind: target.Local, chapters: []int{11, 12}},
		{name: "aws, chapter 11", kind: target.AWS, chapters: []int{11}},
		{name: "local, the group keeps type EC2", kind: target.Local, chapters: []int{11},
			lab: func(l tourLab) tour.Lab { return ec2Only{l} }, fail: 11, check: "replaced the instance of every zone"},
		{name: "local, the zone keeps its power", kind: target.Local, chapters: []int{12},
			lab: func(l tourLab) tour.Lab { return noPowerCut{l} }, fail: 12, check: "unhealthy or was deregistered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := labtest.New(t, lab.CodeBasic)
			var tl tour.Lab = tourLab{h.Open(tc.kind)}
			if tc.lab != nil {
				tl = tc.lab(tourLab{h.Open(tc.kind)})
			}
			var out, md bytes.Buffer
			err := tour.Run(context.Background(), tl, tour.Options{
				Out: &out, Style: view.Style{}, Yes: true, AWS: tc.kind == target.AWS,
				Transcript: &md, Clock: h, Chapters: tc.chapters,
			})
			if testing.Verbose() {
				t.Log(out.String())
			}
			text := out.String()
			var cp *tour.CheckpointError
			if tc.fail == 0 {
				if err != nil {
					t.Fatalf("tour: %v\n%s", err, text)
				}
				if strings.Contains(text, "✗") || !strings.Contains(text, "checkpoints met in") {
					t.Errorf("tour output:\n%s", text)
				}
				for _, n := range tc.chapters {
					if !strings.Contains(text, tour.Chapters[n-11].Title) {
						t.Errorf("chapter %d not shown", n)
					}
				}
				if slices.Contains(tc.chapters, 12) {
					for _, want := range []string{"time to recover", "errors"} {
						if !strings.Contains(md.String(), want) {
							t.Errorf("transcript lacks %q:\n%s", want, md.String())
						}
					}
				}
				return
			}
			if !errors.As(err, &cp) || cp.Step.N != tc.fail {
				t.Fatalf("tour = %v, want chapter %d not met\n%s", err, tc.fail, text)
			}
			if !slices.ContainsFunc(cp.Failed, func(r tour.Result) bool { return strings.Contains(r.What, tc.check) }) {
				t.Errorf("failed checks %+v, want one about %q", cp.Failed, tc.check)
			}
		})
	}
}

// cancelAt is the output of a command that Ctrl-C interrupts as soon as it has printed
// mark: it cancels when the text appears, before the command writes anything else.
type cancelAt struct {
	mu     sync.Mutex
	b      bytes.Buffer
	mark   string
	cancel context.CancelFunc
}

func (w *cancelAt) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if strings.Contains(w.b.String(), w.mark) {
		w.cancel()
	}
	return n, err
}

func (w *cancelAt) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// TestTourFailsAndResumesOnModel drives `labctl tour` (the command, on the local target of
// the in-process lab) into states it must not accept, with web servers that answer as basic
// whatever is deployed: Ctrl-C in the middle of step 3's deploy exits 130 and says how to
// resume while the lab finishes the rolling update by itself; resuming at step 3 then
// fails checkpoint 3 (users get 502s, not the static page), naming it, with a non-zero exit.
func TestTourFailsAndResumesOnModel(t *testing.T) {
	t.Parallel() // its own in-process lab; no environment of the process
	h := labtest.New(t, lab.CodeBasic)
	h.Break(lab.CodeBasic, false)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Ctrl-C once the lab has started the rolling update.
	out := &cancelAt{mark: "rolling update to ServerCode errorhandling", cancel: cancel}
	var errOut bytes.Buffer
	code := run(ctx, []string{"tour", "--yes", "--from", "3", "--state", h.StatePath}, out, &errOut, noEnv)
	if code != 130 || !strings.Contains(out.String(), "Interrupted during step 3") ||
		!strings.Contains(out.String(), "Resume with: labctl tour --from 3") {
		t.Fatalf("interrupted tour: exit %d, stderr %s\n%s", code, errOut.String(), out.String())
	}

	// The lab finishes the rolling update by itself and is consistent afterwards.
	if err := h.Sleep(context.Background(), 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	st, err := h.Open(target.Local).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Operation != nil || st.ServerCode != string(lab.CodeErrorHandling) {
		t.Fatalf("after the interrupted deploy: operation %+v, ServerCode %s", st.Operation, st.ServerCode)
	}
	current := 0
	for _, tg := range st.Targets {
		if tg.Current {
			current++
			if tg.State != "healthy" || tg.ServerCode != string(lab.CodeErrorHandling) {
				t.Errorf("target after the interrupted deploy: %+v", tg)
			}
		}
	}
	if current != 3 {
		t.Errorf("%d current targets after the interrupted deploy, want 3: %+v", current, st.Targets)
	}

	// Resuming at step 3 resets the lab to basic, and the deploy of errorhandling does not
	// take: the servers still drop the connection.
	var resumed bytes.Buffer
	err = tour.Run(context.Background(), tourLab{h.Open(target.Local)}, tour.Options{
		Out: &resumed, Style: view.Style{}, Yes: true, From: 3, Clock: h, Resume: "labctl tour --from %d",
	})
	text := resumed.String()
	for _, want := range []string{
		"Bringing the lab to the start of step 3",
		"✗ 12 requests: 200 static from a, b and c",
		"saw: a 502×4, b 502×4, c 502×4",
		"✗ checkpoint 3 not met",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("resumed tour lacks %q", want)
		}
	}
	var cp *tour.CheckpointError
	if !errors.As(err, &cp) || cp.Step.N != 3 || !strings.HasPrefix(err.Error(), "checkpoint 3 (Handle the failure: degrade gracefully) not met") ||
		strings.Contains(text, "Step 4 of 10") {
		t.Errorf("resumed tour = %v; want checkpoint 3 not met, and no step 4:\n%s", err, text)
	}
}
