package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

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
