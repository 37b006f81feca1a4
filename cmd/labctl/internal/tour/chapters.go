package tour

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"healthchecklab/internal/lab"
)

// chapterRun is what a chapter's procedure works with: the runner (its lab, clock, output
// and transcript) and the chapter's own step.
type chapterRun struct {
	r    *runner
	step Step
	lv   *live
}

// act runs one of the chapter's actions, as the steps run theirs.
func (c *chapterRun) act(ctx context.Context, a Action) error {
	if a.Verb == "zone-power" {
		a.Duration = c.scaled(a.Duration)
	}
	return c.r.act(ctx, []Action{a})
}

// scaled shortens d in the proportion the lab's health-check interval is shorter than the
// lab's own (15 s): a --fast lab (1 s) cuts a zone's power for 20 s where AWS's would for
// 5 minutes, so the chapter sees as many health checks.
func (c *chapterRun) scaled(d time.Duration) time.Duration {
	iv, own := c.r.hc.Interval, lab.TargetGroupHealthCheck.Interval
	if iv <= 0 || iv >= own {
		return d
	}
	return time.Duration(float64(d) * float64(iv) / float64(own)).Round(time.Second)
}

// settle waits until the lab shows what setup leads to, as a step's wait does.
func (c *chapterRun) settle(ctx context.Context, setup Setup) error {
	_, err := c.r.wait(ctx, setup, c.r.o.Clock.Now())
	return err
}

// note prints a line of the chapter's story and writes it to the transcript.
func (c *chapterRun) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	c.lv.done("  " + msg)
	c.r.md.line(msg)
}

// tally counts a sample's answers.
type tally struct {
	requests, ok, personalized, static, errors int
	byLetter                                   map[string]int // answers (any code) by zone letter
}

func (t *tally) add(ctx context.Context, r *runner, n int) error {
	sm, err := r.lab.Sample(ctx, n)
	if err != nil {
		return err
	}
	if t.byLetter == nil {
		t.byLetter = map[string]int{}
	}
	t.requests += sm.Requests
	t.ok += sm.Codes[200]
	t.errors += sm.Requests - sm.Codes[200]
	for _, z := range sm.Zones {
		t.personalized += z.Personalized
		t.static += z.Static
		t.byLetter[z.Letter] += z.Requests
	}
	return nil
}

func (t tally) String() string {
	return fmt.Sprintf("%d requests: %d personalized, %d static, %d errors", t.requests, t.personalized, t.static, t.errors)
}

// growth is how many replacements each zone had since base, by zone letter.
func growth(now, base map[string]int) map[string]int {
	g := map[string]int{}
	for z, n := range now {
		if d := n - base[z]; d > 0 {
			g[z] = d
		}
	}
	return g
}

// perZone words counts by zone: "a 1, b 2, c 0".
func perZone(n map[string]int, zones []string) string {
	parts := make([]string, len(zones))
	for i, z := range zones {
		parts[i] = fmt.Sprintf("%s %d", z, n[z])
	}
	return strings.Join(parts, ", ")
}

// trap is chapter 11: with health-check type ELB, a dependency outage makes Auto Scaling
// replace instance after instance while the load balancer fails open; with EC2 back, the
// replacing stops.
func trap(ctx context.Context, c *chapterRun) ([]Result, error) {
	a := c.step.Actions
	r := c.r
	if err := c.act(ctx, a[0]); err != nil { // deploy healthcheck, type ELB
		return nil, err
	}
	if err := c.settle(ctx, ChapterStart); err != nil {
		return nil, err
	}
	st, err := r.lab.Status(ctx)
	if err != nil {
		return nil, err
	}
	zones, base, grace := zonesOf(st), maps.Clone(st.Replaced), st.Grace
	var rs []Result
	rs = append(rs, Result{OK: st.AsgHealthCheck == string(lab.AsgHealthCheckELB),
		What: "the group's health check type is ELB", Saw: "type " + st.AsgHealthCheck})

	if err := c.act(ctx, a[1]); err != nil { // dependency off
		return nil, err
	}
	// Watch until every zone's instance has been replaced at least once: after the grace
	// period, the failed checks, the drain and the boot of the replacement.
	start := r.o.Clock.Now()
	limit := grace + deadline(r.hc)
	var seen tally
	var got map[string]int
	for {
		st, err := r.lab.Status(ctx)
		if err != nil {
			return nil, err
		}
		got = growth(st.Replaced, base)
		if err := seen.add(ctx, r, 2*len(zones)); err != nil {
			return nil, err
		}
		elapsed := r.o.Clock.Now().Sub(start)
		all := true
		for _, z := range zones {
			all = all && got[z] > 0
		}
		if all || elapsed > limit {
			break
		}
		c.lv.show(fmt.Sprintf("  … replaced after failed checks: %s (%s)", perZone(got, zones), seconds(elapsed)))
		if err := r.o.Clock.Sleep(ctx, pollEvery(r.hc)); err != nil {
			return nil, err
		}
	}
	took := r.o.Clock.Now().Sub(start)
	c.note("during the outage, after %s: Auto Scaling replaced %s; users got %s", seconds(took), perZone(got, zones), seen)
	every := len(zones) > 0
	for _, z := range zones {
		every = every && got[z] > 0
	}
	rs = append(rs, Result{OK: every,
		What: "Auto Scaling replaced the instance of every zone at least once during the outage",
		Saw:  fmt.Sprintf("%s within %s", perZone(got, zones), seconds(took))})
	// Failing open, users keep getting pages (static ones once the servers have read the
	// parameter, within seconds); a replacement still booting may cost a few.
	few := max(2, seen.requests/20)
	rs = append(rs, Result{OK: seen.static > 0 && seen.errors <= few,
		What: fmt.Sprintf("users still got 200 pages, static ones, during the outage: the load balancer fails open (at most %d errors)", few),
		Saw:  seen.String()})

	for _, act := range a[2:] { // dependency on, then deploy with EC2
		if err := c.act(ctx, act); err != nil {
			return nil, err
		}
	}
	if err := c.settle(ctx, ChapterStart); err != nil {
		return nil, err
	}
	st, err = r.lab.Status(ctx)
	if err != nil {
		return nil, err
	}
	after := maps.Clone(st.Replaced)
	// Watch as long again as it took Auto Scaling to act with ELB: nothing more may happen.
	if err := r.o.Clock.Sleep(ctx, min(took, limit)); err != nil {
		return nil, err
	}
	end, err := r.lab.Status(ctx)
	if err != nil {
		return nil, err
	}
	more := growth(end.Replaced, after)
	c.note("with type %s and the dependency back: %d more replacements in %s", end.AsgHealthCheck, sum(more), seconds(min(took, limit)))
	rs = append(rs,
		Result{OK: end.AsgHealthCheck == string(lab.AsgHealthCheckEC2), What: "the group's health check type is EC2 again", Saw: "type " + end.AsgHealthCheck},
		Result{OK: len(more) == 0, What: "no replacement after the dependency came back with type EC2", Saw: perZone(more, zones)})
	return rs, nil
}

func sum(n map[string]int) int {
	t := 0
	for _, v := range n {
		t += v
	}
	return t
}

// zonePower is chapter 12: zone c loses power for the action's window. The load balancer
// routes around it, Auto Scaling restores three instances in zones a and b, and after the
// window it rebalances one back into zone c.
func zonePower(ctx context.Context, c *chapterRun) ([]Result, error) {
	r := c.r
	a := c.step.Actions[0]
	st, err := r.lab.Status(ctx)
	if err != nil {
		return nil, err
	}
	zones := zonesOf(st)
	others := slices.DeleteFunc(slices.Clone(zones), func(z string) bool { return z == a.Letter })
	if err := c.act(ctx, a); err != nil {
		return nil, err
	}
	start, window := r.o.Clock.Now(), c.scaled(a.Duration)
	limit := window + deadline(r.hc)
	var (
		seen, during      tally
		down              bool
		restored, back    time.Duration
		restoredAt, backS string
	)
	for {
		st, err := r.lab.Status(ctx)
		if err != nil {
			return nil, err
		}
		elapsed := r.o.Clock.Now().Sub(start)
		healthy := map[string]int{}
		for _, t := range st.Targets {
			if t.Current && t.State == "healthy" {
				healthy[t.Letter]++
			}
		}
		t, ok := current(st)[a.Letter]
		if !ok || t.State == "unhealthy" || t.State == "draining" || t.State == "unused" {
			down = true
		}
		inOthers := 0
		for _, z := range others {
			inOthers += healthy[z]
		}
		if restored == 0 && healthy[a.Letter] == 0 && inOthers == len(zones) {
			restored, restoredAt = elapsed, perZone(healthy, zones)
		}
		if elapsed >= window && healthy[a.Letter] == 1 {
			back, backS = elapsed, perZone(healthy, zones)
			break
		}
		if elapsed > limit {
			break
		}
		if elapsed < window {
			if err := during.add(ctx, r, 2*len(zones)); err != nil {
				return nil, err
			}
		} else if err := seen.add(ctx, r, 2*len(zones)); err != nil {
			return nil, err
		}
		phase := "without power"
		if elapsed >= window {
			phase = "powered on again"
		}
		c.lv.show(fmt.Sprintf("  … zone %s %s; healthy targets: %s (%s)", a.Letter, phase, perZone(healthy, zones), seconds(elapsed)))
		if err := r.o.Clock.Sleep(ctx, pollEvery(r.hc)); err != nil {
			return nil, err
		}
	}
	recovered := "not within " + seconds(limit)
	if restored > 0 {
		recovered = seconds(restored)
	}
	c.note("zone %s without power for %s: users got %s; time to recover (three in service in zones %s): %s",
		a.Letter, seconds(window), during, and(others), recovered)
	few := max(2, during.requests/20) // at most 5% while the zone leaves the load balancer
	rs := []Result{
		{OK: during.requests > 0 && during.errors <= few && during.personalized == during.ok && during.byLetter[a.Letter] == 0,
			What: fmt.Sprintf("users kept personalized answers from zones %s only, with at most %d errors", and(others), few),
			Saw:  fmt.Sprintf("%s; %d from zone %s", during, during.byLetter[a.Letter], a.Letter)},
		{OK: down, What: "zone " + a.Letter + "'s target turned unhealthy or was deregistered", Saw: map[bool]string{true: "it left the load balancer", false: "it stayed in service"}[down]},
		{OK: restored > 0, What: "the group returned to three in service in zones " + and(others),
			Saw: map[bool]string{true: fmt.Sprintf("after %s (%s)", seconds(restored), restoredAt), false: "not within " + seconds(limit)}[restored > 0]},
		{OK: back > 0, What: "after the window, one instance is back in zone " + a.Letter,
			Saw: map[bool]string{true: fmt.Sprintf("after %s (%s)", seconds(back), backS), false: "not within " + seconds(limit)}[back > 0]},
	}
	return rs, nil
}
