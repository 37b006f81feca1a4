package tour

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/lab"
)

// Action is one thing the tour does to the lab, as one labctl command line would.
type Action struct {
	Verb   string // reset, dependency, fault, repair, deploy or zone-power
	On     bool   // dependency
	Letter string // the zone, by letter: fault, repair, zone-power
	Code   lab.ServerCode
	// HealthCheck is a deploy's Auto Scaling health-check type; "" is the default, EC2.
	HealthCheck lab.AsgHealthCheck
	// Duration is how long zone-power cuts the zone's power, at the lab's own settings; a
	// lab with faster health checks (--fast) shortens it in proportion (see scaled).
	Duration time.Duration
}

// Command is the labctl command line that does the same.
func (a Action) Command() string {
	switch a.Verb {
	case "reset":
		return "labctl reset --server-code " + string(a.Code)
	case "dependency":
		if a.On {
			return "labctl dependency on"
		}
		return "labctl dependency off"
	case "fault":
		return "labctl fault stale-credentials --az " + a.Letter
	case "repair":
		return "labctl repair --az " + a.Letter
	case "deploy":
		if a.HealthCheck != "" && a.HealthCheck != lab.AsgHealthChecks[0] {
			return "labctl deploy --server-code " + string(a.Code) + " --asg-health-check " + string(a.HealthCheck)
		}
		return "labctl deploy --server-code " + string(a.Code)
	case "zone-power":
		return "labctl fault zone-power --az " + a.Letter + " --duration " + shortDuration(a.Duration)
	}
	return "labctl " + a.Verb
}

// shortDuration words d as a flag takes it, without zero units: "5m", "20s".
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// apply changes s as the action changes the lab.
func (a Action) apply(s *Setup) {
	switch a.Verb {
	case "reset":
		*s = Setup{Code: a.Code, DependencyOn: true}
	case "dependency":
		s.DependencyOn = a.On
	case "fault":
		s.StaleLetter = a.Letter
	case "repair":
		if s.StaleLetter == a.Letter {
			s.StaleLetter = ""
		}
	case "deploy":
		s.Code, s.StaleLetter = a.Code, ""
	}
}

func (a Action) run(ctx context.Context, l Lab, progress func(string)) error {
	switch a.Verb {
	case "reset":
		return l.Reset(ctx, a.Code, progress)
	case "dependency":
		return l.SetDependency(ctx, a.On)
	case "fault":
		return l.StaleCredentials(ctx, a.Letter)
	case "repair":
		return l.Repair(ctx, a.Letter, progress)
	case "deploy":
		return l.Deploy(ctx, a.Code, a.HealthCheck, progress)
	case "zone-power":
		return l.ZonePower(ctx, a.Letter, a.Duration)
	}
	return fmt.Errorf("unknown action %q", a.Verb)
}

// Step is one stage of the lab and its checkpoint.
type Step struct {
	N       int
	Title   string
	Explain string   // what will happen and why, in a few sentences
	Actions []Action // what the tour does
	Observe []string // the labctl commands that show the outcome
	Look    string   // what to look for, as the README's step table says it
	// SampleN is how many requests the checkpoint's sample sends.
	SampleN int
	// extra checks what this checkpoint shows beyond the state its setup leads to.
	extra func(ctx context.Context, c *checkContext) []Result
	// chapter, set on the chapters past the ten steps, carries out the actions itself,
	// watching the lab in between, and returns what it checked on the way.
	chapter func(ctx context.Context, c *chapterRun) ([]Result, error)
}

// Commands lists the labctl command lines of the step: its actions, then what shows the outcome.
func (s Step) Commands() []string {
	var cs []string
	for _, a := range s.Actions {
		cs = append(cs, a.Command())
	}
	return append(cs, s.Observe...)
}

// Result is one checked fact of a checkpoint.
type Result struct {
	OK   bool
	What string // what should hold
	Saw  string // what the tour saw
}

// checkContext is what a checkpoint's extra checks may look at.
type checkContext struct {
	lab           Lab
	setup         Setup
	before, after view.Status // before the step's actions, and at the check
	sample        view.Sample
}

// Start is the setup every tour begins from: the lab as the CDK app's defaults deploy it.
var Start = Setup{Code: lab.CodeBasic, DependencyOn: true}

// ChapterStart is the setup every chapter past the ten steps begins from: the deep health
// check deployed, the dependency on.
var ChapterStart = Setup{Code: lab.CodeHealthCheck, DependencyOn: true}

// SetupBefore is the setup at the start of step n (1-based): Start changed by the actions
// of the steps before it; ChapterStart for a chapter past them.
func SetupBefore(n int) Setup {
	if n > len(Steps) {
		return ChapterStart
	}
	s := Start
	for _, st := range Steps[:n-1] {
		for _, a := range st.Actions {
			a.apply(&s)
		}
	}
	return s
}

// Steps is the lab's story: the ten checkpoints of the lab's documents.
var Steps = []Step{
	{
		N: 1, Title: "The basic server",
		Explain: `Three web servers, one per Availability Zone, sit behind an Application Load
Balancer that asks each of them for /healthcheck at a fixed interval. With ServerCode basic
that check is shallow: it answers 200 as long as the process runs and never touches the
recommendation service. While the service works, every page is personalized and the load
balancer spreads the requests over all three zones.`,
		Actions: []Action{{Verb: "reset", Code: lab.CodeBasic}},
		Observe: []string{"labctl status", "labctl sample -n 30"},
		Look:    "three targets `healthy`; every zone answers 200, all **personalized**",
		SampleN: 30,
	},
	{
		N: 2, Title: "Break the dependency: 502s, yet all healthy",
		Explain: `Switching RecommendationServiceEnabled off makes every server call a table that
does not exist, so the recommendation service fails for real. The basic server has no plan
for that: it drops the connection, and the load balancer answers 502 Bad Gateway in its
place. The load balancer counts those 502s as its own; the targets sent nothing, so their
5xx count stays at zero. And all three targets stay healthy: a shallow check cannot see a
broken dependency.`,
		Actions: []Action{{Verb: "dependency", On: false}},
		Observe: []string{"labctl sample", "labctl status"},
		Look:    "after a few seconds every answer is **502**; the last line shows load-balancer 5xx = requests, **target 5xx 0**; `status`: all still healthy (shallow check)",
		SampleN: 12,
		extra: func(_ context.Context, c *checkContext) []Result {
			k := c.sample.Counters
			if k == nil {
				return nil
			}
			n := int64(c.sample.Requests)
			return []Result{{
				OK:   k.ELB502 == n && k.Target5xx == 0,
				What: fmt.Sprintf("the load balancer sent all %d 502s itself; the targets sent no 5xx", n),
				Saw:  fmt.Sprintf("load-balancer 502 %d, target 5xx %d", k.ELB502, k.Target5xx),
			}}
		},
	},
	{
		N: 3, Title: "Handle the failure: degrade gracefully",
		Explain: `ServerCode errorhandling catches the failed call and degrades gracefully: it answers
with a static recommendation that needs no dependency, plus the error as diagnostic info.
Deploying it replaces the instances one zone at a time: a new instance must pass its health
checks before the old one is drained. The service is still off, so expect 200s with the
static answer from all three zones instead of 502s.`,
		Actions: []Action{{Verb: "deploy", Code: lab.CodeErrorHandling}},
		Observe: []string{"labctl sample"},
		Look:    "progress per zone (new instance, initial → healthy, old one draining, terminated); then 200 **static** (\"Valued Customer … I Love Lucy\") from all three zones, with the diagnostic (ResourceNotFoundException)",
		SampleN: 12,
		extra: func(_ context.Context, c *checkContext) []Result {
			return []Result{replaced(c, c.setup.allZones(c.after)), diagnostic(c.sample, "", "ResourceNotFoundException")}
		},
	},
	{
		N: 4, Title: "Restore the service",
		Explain: `Switch the parameter back on. The servers read it at most every few seconds, then
every answer is personalized again. Nothing had to be restarted: a server that degrades
gracefully recovers by itself when its dependency does.`,
		Actions: []Action{{Verb: "dependency", On: true}},
		Observe: []string{"labctl sample"},
		Look:    "personalized everywhere again",
		SampleN: 12,
	},
	{
		N: 5, Title: "Stale credentials in zone c: the shallow check is blind",
		Explain: `Now only one instance breaks. The zone-c instance gets the noDDB instance profile,
as if its credentials had gone stale, and its calls to DynamoDB are denied. Zones a and b
stay personalized while zone c turns static. The load balancer still finds all three
healthy and keeps sending zone c its share of users: a shallow check cannot tell a working
server from one whose dependency is broken.`,
		Actions: []Action{{Verb: "fault", Letter: "c"}},
		Observe: []string{"labctl sample", "labctl status"},
		Look:    "within ~5 s zones a and b personalized, **zone c static** (AccessDeniedException in its diagnostic); `status`: all three still **healthy**, zone c's role is `WebApp1-EC2-noDDB-Role-HealthCheckLab`",
		SampleN: 12,
		extra: func(_ context.Context, c *checkContext) []Result {
			return []Result{diagnostic(c.sample, "c", "AccessDenied")}
		},
	},
	{
		N: 6, Title: "Deploy the deep health check",
		Explain: `ServerCode healthcheck makes /healthcheck deep: it reads a probe row from the
recommendation table and answers 503 unless that works. The rolling deploy replaces every
instance, so zone c gets a fresh instance with the normal role, and all three pass the deep
check. A deep check only steers the load balancer; the Auto Scaling group keeps its EC2
health check, for a reason step 9 shows.`,
		Actions: []Action{{Verb: "deploy", Code: lab.CodeHealthCheck}},
		Observe: []string{"labctl status"},
		Look:    "new instances, roles back to normal, all healthy; `curl -H 'Accept: application/json' \"$(labctl local url)/healthcheck\"` says healthy",
		SampleN: 12,
		extra: func(ctx context.Context, c *checkContext) []Result {
			return []Result{replaced(c, c.setup.allZones(c.after)), probe(ctx, c)}
		},
	},
	{
		N: 7, Title: "Fail closed: the deep check routes around zone c",
		Explain: `Break zone c's credentials again. This time its deep check fails: after three
failed checks in a row (15 s apart at the lab's settings, so 30–45 s after the first failure)
the load balancer marks it unhealthy, Target.ResponseCodeMismatch, and stops sending it
requests. Users get personalized pages
from zones a and b only: the load balancer fails closed on the one bad instance. Auto
Scaling leaves the instance alone, because its own health check is EC2's, not the deep one.`,
		Actions: []Action{{Verb: "fault", Letter: "c"}},
		Observe: []string{"labctl watch", "labctl sample"},
		Look:    "zone c goes **unhealthy** within seconds (30–45 s at the lab's settings): `HTTP 503` in the table, ALB's `Target.ResponseCodeMismatch: Health checks failed with these codes: [503]` under it, `✗✗✗` in watch's CHECKS; `sample` now shows only zones a and b, all personalized, and 0 for c",
		SampleN: 12,
		extra: func(_ context.Context, c *checkContext) []Result {
			return []Result{kept(c, []string{"c"}, "Auto Scaling did not replace the unhealthy zone-c instance")}
		},
	},
	{
		N: 8, Title: "Repair zone c",
		Explain: `The operator's fix is to replace the broken instance: terminate it without lowering
the group's desired capacity, and Auto Scaling launches a replacement in the same zone with
the normal role once the old one has drained and terminated. The new target goes initial →
healthy after its first passing check; on AWS a few errors while it boots are normal.`,
		Actions: []Action{{Verb: "repair", Letter: "c"}},
		Observe: []string{"labctl sample"},
		Look:    "the old instance drains and is terminated; a new `i-0…` id in zone c goes initial → healthy; `sample`: all three personalized",
		SampleN: 12,
		extra: func(_ context.Context, c *checkContext) []Result {
			return []Result{replaced(c, []string{"c"})}
		},
	},
	{
		N: 9, Title: "Fail open: all unhealthy, users still served",
		Explain: `Switch the dependency off for everyone. Every deep check fails, so all three
targets turn unhealthy. A load balancer with no healthy target fails open: it routes to all
of them anyway, and since the server degrades gracefully, users get the static page with a
200, not an error. This is why Auto Scaling must not act on deep checks: it would now
terminate three instances that still serve, and their replacements would fail the same
check. The instances stay the same.`,
		Actions: []Action{{Verb: "dependency", On: false}},
		Observe: []string{"labctl status", "labctl sample"},
		Look:    "all three **unhealthy (503)**, yet `sample` shows **200 static from every zone**: the load balancer fails open",
		SampleN: 12,
		extra: func(_ context.Context, c *checkContext) []Result {
			rs := []Result{kept(c, c.setup.allZones(c.after), "Auto Scaling replaced no instance")}
			if k := c.sample.Counters; k != nil {
				n := int64(c.sample.Requests)
				rs = append(rs, Result{OK: k.FailOpen == n && k.ELB5xx == 0,
					What: fmt.Sprintf("all %d requests routed while failing open, no load-balancer 5xx", n),
					Saw:  fmt.Sprintf("failing open %d, load-balancer 5xx %d", k.FailOpen, k.ELB5xx)})
			}
			return rs
		},
	},
	{
		N: 10, Title: "The emergency lever",
		Explain: `Switch the parameter back on. The deep checks pass again, the targets turn healthy
and pages are personalized. The parameter has become an emergency lever: an operator can
switch a failing dependency off on purpose and the fleet degrades gracefully instead of
falling over.`,
		Actions: []Action{{Verb: "dependency", On: true}},
		Observe: []string{"labctl status", "labctl sample"},
		Look:    "personalized again, targets back to healthy: the parameter is the emergency lever",
		SampleN: 12,
	},
}

// Chapters are the optional chapters past the ten steps (labctl tour --chapters 11,12): two
// lessons of the lab's sources that the original lab never lets anyone watch.
var Chapters = []Step{
	{
		N: 11, Title: "The trap: Auto Scaling acting on the deep check",
		Explain: `Deep health checks must steer routing only, never Auto Scaling's replacements: that
is why this lab's group uses health check type EC2. Deploy it with type ELB instead and
switch the dependency off. Every deep check fails; the load balancer fails open and users
still get static pages, but once the grace period has passed Auto Scaling judges every
instance unhealthy and replaces it, zone after zone, again and again, and each replacement
fails the same check. Then the dependency comes back and type EC2 with it: the churn stops.`,
		Actions: []Action{
			{Verb: "deploy", Code: lab.CodeHealthCheck, HealthCheck: lab.AsgHealthCheckELB},
			{Verb: "dependency", On: false},
			{Verb: "dependency", On: true},
			{Verb: "deploy", Code: lab.CodeHealthCheck},
		},
		Observe: []string{"labctl watch", "labctl status"},
		Look:    "during the outage `sample` answers 200 **static** (fail open) while watch's *replaced after failed checks* grows in every zone; after the deploy back to EC2 it grows no more",
		SampleN: 12,
		chapter: trap,
	},
	{
		N: 12, Title: "A zone loses power",
		Explain: `Real outages take out a zone, not a credential. Zone c loses power, as in AWS FIS's
"AZ Availability: Power Interruption": its instance stops, and Auto Scaling cannot launch
there. The load balancer stops routing to the dead zone, users keep getting personalized
pages from zones a and b, and Auto Scaling restores three instances in those zones. When the
power is back it rebalances one instance into zone c.`,
		Actions: []Action{{Verb: "zone-power", Letter: "c", Duration: lab.FaultDuration}},
		Observe: []string{"labctl watch", "labctl sample"},
		Look:    "zone c's target leaves the load balancer; users stay **personalized** from zones a and b, a few errors at most; three in service in a and b; after the window one instance back in zone c",
		SampleN: 12,
		chapter: zonePower,
	},
}

func (s Setup) allZones(st view.Status) []string { return zonesOf(st) }

// replaced checks that each zone's instance is new since the step began.
func replaced(c *checkContext, zones []string) Result {
	b, a := current(c.before), current(c.after)
	ok := len(zones) > 0
	var saw []string
	for _, z := range zones {
		if a[z].InstanceID == "" || a[z].InstanceID == b[z].InstanceID {
			ok = false
		}
		saw = append(saw, fmt.Sprintf("%s %s → %s", z, view.ShortID(b[z].InstanceID), view.ShortID(a[z].InstanceID)))
	}
	return Result{OK: ok, What: "new instances in zone " + and(zones), Saw: strings.Join(saw, ", ")}
}

// kept checks that each zone still has the instance it had when the step began.
func kept(c *checkContext, zones []string, what string) Result {
	b, a := current(c.before), current(c.after)
	ok := len(zones) > 0
	var saw []string
	for _, z := range zones {
		if a[z].InstanceID == "" || a[z].InstanceID != b[z].InstanceID {
			ok = false
			saw = append(saw, fmt.Sprintf("%s %s → %s", z, view.ShortID(b[z].InstanceID), view.ShortID(a[z].InstanceID)))
		} else {
			saw = append(saw, fmt.Sprintf("%s still %s", z, view.ShortID(a[z].InstanceID)))
		}
	}
	return Result{OK: ok, What: what, Saw: strings.Join(saw, ", ")}
}

// diagnostic checks that a static answer (from zone, or any zone when zone is "") carried
// a diagnostic naming the error.
func diagnostic(sm view.Sample, zone, contains string) Result {
	what := "the static answers' diagnostic names " + contains
	if zone != "" {
		what = "zone " + zone + "'s diagnostic names " + contains
	}
	var seen []string
	for _, zs := range sm.Zones {
		if zone != "" && zs.Letter != zone || zs.Diagnostic == "" {
			continue
		}
		if strings.Contains(zs.Diagnostic, contains) {
			return Result{OK: true, What: what, Saw: zs.Letter + ": " + view.Fit(zs.Diagnostic, 60)}
		}
		seen = append(seen, zs.Letter+": "+view.Fit(zs.Diagnostic, 40))
	}
	if len(seen) == 0 {
		seen = []string{"no diagnostic"}
	}
	return Result{What: what, Saw: strings.Join(seen, "; ")}
}

// probe checks that /healthcheck, asked through the load balancer, says Success from every zone.
func probe(ctx context.Context, c *checkContext) Result {
	zones := zonesOf(c.after)
	what := "/healthcheck answers 200 Success from zones " + and(zones)
	ps, err := c.lab.ProbeHealthCheck(ctx, 3*len(zones))
	if err != nil {
		return Result{What: what, Saw: err.Error()}
	}
	ok := len(ps) > 0
	from := map[string]int{}
	var bad []string
	for _, p := range ps {
		if p.Code != 200 || !p.Healthy {
			ok = false
			bad = append(bad, fmt.Sprintf("%s %d", p.Letter, p.Code))
			continue
		}
		from[p.Letter]++
	}
	var got []string
	for _, z := range zones {
		if from[z] == 0 {
			ok = false
		}
		got = append(got, fmt.Sprintf("%s %d×Success", z, from[z]))
	}
	saw := strings.Join(got, ", ")
	if len(bad) > 0 {
		saw += "; failed: " + strings.Join(bad, ", ")
	}
	return Result{OK: ok, What: what, Saw: saw}
}

// generic checks what any setup leads to: target states, answers, roles and ServerCodes.
func generic(c *checkContext) []Result {
	zones := zonesOf(c.after)
	if len(zones) == 0 {
		return []Result{{What: "the lab has targets", Saw: "no current target"}}
	}
	e := expect(c.setup, zones)
	var rs []Result
	ok, saw := e.matchStatus(c.after)
	rs = append(rs, Result{OK: ok, What: "targets: " + e.wantStates(), Saw: saw})
	ok, saw = e.matchSample(c.sample)
	rs = append(rs, Result{OK: ok, What: fmt.Sprintf("%d requests: %s", c.sample.Requests, e.wantAnswers()), Saw: saw})

	var roles, codes []string
	rolesOK, codesOK := true, true
	for _, z := range zones {
		t := current(c.after)[z]
		want := "normal"
		if z == c.setup.StaleLetter {
			want = "noDDB"
		}
		if view.ShortRole(t.Role) != want {
			rolesOK = false
		}
		roles = append(roles, z+" "+view.ShortRole(t.Role))
		if t.ServerCode != string(c.setup.Code) {
			codesOK = false
		}
		codes = append(codes, "zone "+z+" "+t.ServerCode)
	}
	wantRoles := "every instance has the normal role"
	if c.setup.StaleLetter != "" {
		wantRoles = "zone " + c.setup.StaleLetter + " has the noDDB role, the others the normal one"
	}
	rs = append(rs, Result{OK: rolesOK, What: wantRoles, Saw: strings.Join(roles, ", ")})
	codeSaw := "all " + string(c.setup.Code)
	switch {
	case !codesOK:
		codeSaw = strings.Join(codes, ", ")
	case c.after.ServerCode != string(c.setup.Code):
		codeSaw = "the instances run " + string(c.setup.Code) + ", yet the lab reports ServerCode " + c.after.ServerCode
	}
	rs = append(rs, Result{OK: codesOK && c.after.ServerCode == string(c.setup.Code),
		What: "every instance runs ServerCode " + string(c.setup.Code), Saw: codeSaw})
	return slices.Clip(rs)
}

// Table markers around the README's step table, which StepTable generates.
const (
	TableBegin = "<!-- step table: generated from cmd/labctl/internal/tour (go test ./cmd/labctl/internal/tour -run README -update) -->"
	TableEnd   = "<!-- end of step table -->"
)

// StepTable renders the steps as the README's Markdown table: the commands of each step
// and what to look for.
func StepTable() string {
	var b strings.Builder
	b.WriteString("| step | commands | what to look for |\n|---|---|---|\n")
	for _, s := range append(slices.Clone(Steps), Chapters...) {
		cs := make([]string, 0, len(s.Commands()))
		for _, c := range s.Commands() {
			cs = append(cs, "`"+c+"`")
		}
		fmt.Fprintf(&b, "| %d | %s | %s |\n", s.N, strings.Join(cs, ", "), s.Look)
	}
	return b.String()
}
