package labops

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/targethealth"
)

// settleTimeout bounds the wait for a lab to be whole again after reset: a target that
// turned unhealthy needs HealthyThreshold passing checks to come back, after up to
// UnhealthyThreshold checks that were still failing, plus two more intervals for the web
// server to notice the change (new role credentials, a parameter refresh) and for a
// restarted process. Never less than 30 s, which covers a restart of dynalite on a busy machine.
func settleTimeout(hc HealthCheck) time.Duration {
	d := time.Duration(float64(hc.HealthyThreshold+hc.UnhealthyThreshold+2) * hc.IntervalSeconds * float64(time.Second))
	return max(d, 30*time.Second)
}

// VerifyWhole waits until the lab is whole, or timeout (0: settleTimeout) passes: every zone
// of the group has a serving instance whose target is healthy, and a sample through the
// web site gets only personalized answers, which needs the dependency. The error says what
// is still wrong and what to look at.
func (l *Lab) VerifyWhole(ctx context.Context, timeout time.Duration, progress Progress) error {
	g, err := l.group(ctx)
	if err != nil {
		return err
	}
	zones := ZoneLetters(g.AvailabilityZones)
	if timeout == 0 {
		hc, err := l.HealthCheck(ctx)
		if err != nil {
			return err
		}
		timeout = settleTimeout(hc)
	}
	start := l.now()
	poll := l.pollInterval(ctx)
	said := ""
	for {
		st, err := l.Status(ctx)
		if err != nil {
			return err
		}
		problem := wholeProblem(zones, st.Targets)
		if problem == "" {
			sm, err := l.Sample(ctx, 2*len(zones))
			if err != nil {
				return err
			}
			problem = answerProblem(sm)
			if problem == "" {
				progress(fmt.Sprintf("checked: %d healthy targets, and %d of %d answers personalized (the dependency answers)",
					len(zones), sm.Requests, sm.Requests))
				return nil
			}
		}
		if l.since(start) >= timeout {
			return fmt.Errorf("the lab is not healthy %s after reset: %s; see `labctl status`%s",
				timeout.Round(time.Second), problem, l.lookFurther())
		}
		if problem != said {
			progress("waiting for the lab to be whole: " + problem)
			said = problem
		}
		if err := l.sleep(ctx, poll); err != nil {
			return err
		}
	}
}

// lookFurther names where else to look on the target.
func (l *Lab) lookFurther() string {
	if l.T.Lab != nil {
		return " (its processes too) and the output of `labctl local up`"
	}
	return " and the instances' logs"
}

// wholeProblem says what keeps the targets from being whole, "" when every zone (letter by
// zone name) has a serving instance with a healthy target.
func wholeProblem(zones map[string]string, targets []view.Target) string {
	var problems []string
	served := map[string]bool{}
	for _, t := range targets {
		if !t.Current {
			continue
		}
		served[t.Zone] = true
		if t.State != string(targethealth.StateHealthy) {
			p := fmt.Sprintf("zone %s: target %s %s", orDefault(t.Letter, t.Zone), t.InstanceID, t.State)
			if t.Reason != "" {
				p += " (" + t.Reason + ")"
			}
			problems = append(problems, p)
		}
	}
	for name, letter := range zones {
		if !served[name] {
			problems = append(problems, fmt.Sprintf("zone %s: no serving instance", letter))
		}
	}
	sort.Strings(problems)
	return strings.Join(problems, "; ")
}

// answerProblem says what was wrong with a sample's answers, "" when every one was a
// personalized page.
func answerProblem(sm Sample) string {
	var problems []string
	for _, z := range sm.Zones {
		if z.Requests == 0 || z.Personalized == z.Requests {
			continue
		}
		var codes []string
		for c, n := range z.Codes {
			codes = append(codes, fmt.Sprintf("%s×%d", c, n))
		}
		sort.Strings(codes)
		p := fmt.Sprintf("zone %s: %d of %d answers personalized (%s)", orDefault(z.Letter, z.Zone), z.Personalized, z.Requests, strings.Join(codes, " "))
		if len(z.Diagnostics) > 0 {
			p += ": " + z.Diagnostics[0]
		}
		problems = append(problems, p)
	}
	if sm.Requests == 0 {
		problems = append(problems, "no answer from the web site")
	}
	return strings.Join(problems, "; ")
}
