// Package locallab runs the whole health-check lab on one machine: dynalite (seeded) behind
// the authorizing proxy, the Parameter Store stand-in, one web-server process per zone with
// its own IMDSv2 stand-in, and the local load balancer in front of them. It also does what
// the lab's console steps and deploys do (swap a role, terminate an instance, roll out a
// ServerCode) and serves those operations as a small control API for labctl's verbs.
package locallab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"healthchecklab/internal/awslocal"
	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/awslocal/sigv4"
	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labnames"
	"healthchecklab/internal/localb"
	"healthchecklab/internal/repo"
	"healthchecklab/internal/standin/ddbauth"
	"healthchecklab/internal/standin/dynalite"
	"healthchecklab/internal/standin/ssmstub"
	"healthchecklab/internal/supervise"
	"healthchecklab/internal/targethealth"
)

// Options configure Start.
type Options struct {
	// Code is the ServerCode the first three instances run.
	Code lab.ServerCode
	// LBAddr is the load balancer's listen address, e.g. "127.0.0.1:8080" ("127.0.0.1:0" picks one).
	LBAddr string
	// Fast uses localb.Fast of the target group's settings: a 1 s interval, same thresholds.
	Fast bool
	// RepoRoot holds go.mod, webserver/ and node_modules; empty means found from the working directory.
	RepoRoot string
	// WebServerBin is a prebuilt web server; empty means build one from RepoRoot/webserver.
	WebServerBin string
	// Progress receives one line per step and per target state change; nil discards them.
	Progress io.Writer
	// LabID names the lab as `cdk deploy -c LabId=<id>` names its copy (stacks, parameter,
	// roles); empty for the lab's own names.
	LabID string
}

// Lab is a running local lab. Create it with Start; Close stops everything it started.
type Lab struct {
	opts   Options
	hc     lab.HealthCheck
	dir    string  // temporary directory: web-server binary and instance logs
	labDir *labDir // dir's marks: the next lab removes it if this process dies unclean
	bin    string
	prefix string         // the role names' prefix (names.RolePrefix())
	names  labnames.Names // the stack, parameter and role names of this copy

	webPolicy supervise.Policy // the web server unit's restart settings

	ddb      *dynalite.Server // its first run; ddbSup has the current one
	ddbSup   *supervise.Supervisor
	ddbProxy *ddbauth.Proxy
	ssm      *ssmstub.Server
	lb       *localb.LB
	servers  []*http.Server // the AWS endpoint and the load balancer, closed last to first
	lbURL    string

	keys        *awslocal.Keys
	user        sigv4.Credentials
	ids         identity
	endpointURL string // the AWS endpoint: SSM, DynamoDB, EC2, ELB, Auto Scaling, CloudFormation

	ctx    context.Context // lives until Close: operations run in it
	cancel context.CancelFunc
	opMu   sync.Mutex // one deploy or repair at a time
	wg     sync.WaitGroup

	mu        sync.Mutex
	op        *Operation // the deploy or repair in flight
	code      lab.ServerCode
	zones     map[string]*instance // current instance per zone letter
	instances map[string]*instance // every instance not yet terminated, by id
	gone      []*instance          // terminated instances, still listed by DescribeInstances
	closed    bool

	templateVersion int // the launch template's version: 1, then one more per deploy

	stackStatus  string    // of the HealthCheckLab stack: CREATE_COMPLETE, UPDATE_IN_PROGRESS, …
	stackUpdated time.Time // last deploy's end

	outMu    sync.Mutex // serializes writes to progress
	progress io.Writer
}

// Start builds the web server (unless prebuilt), starts every part of the lab and returns
// once three instances are registered with the load balancer. It does not wait for them to
// turn healthy; see WaitHealthy.
func Start(ctx context.Context, o Options) (_ *Lab, err error) {
	if _, err := lab.ParseServerCode(string(o.Code)); err != nil {
		return nil, err
	}
	// The id follows the CDK app's rule (internal/config), so a local copy takes the names
	// its AWS copy would.
	cfg, err := config.Read(func(key string) any {
		if key == config.KeyLabID && o.LabID != "" {
			return o.LabID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	names := cfg.Names()
	if o.LBAddr == "" {
		o.LBAddr = "127.0.0.1:0"
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	hc, idle := lab.TargetGroupHealthCheck, lab.IdleTimeout
	if o.Fast {
		hc, idle = localb.Fast(hc), localb.FastIdleTimeout()
	}
	root := o.RepoRoot
	if root == "" {
		var err error
		if root, err = repo.Root("."); err != nil {
			return nil, err
		}
	}
	o.RepoRoot = root
	webPolicy, err := webServerPolicy(hc)
	if err != nil {
		return nil, err
	}
	// Directories of labs that were killed before they could clean up go first.
	stale, staleErr := RemoveStaleLabDirs(os.TempDir())
	ld, err := newLabDir(os.TempDir())
	if err != nil {
		return nil, err
	}
	lctx, cancel := context.WithCancel(context.Background())
	l := &Lab{
		opts: o, hc: hc, dir: ld.path, labDir: ld, names: names, prefix: names.RolePrefix(),
		ctx: lctx, cancel: cancel, code: o.Code, progress: o.Progress, webPolicy: webPolicy,
		zones: map[string]*instance{}, instances: map[string]*instance{},
		keys: awslocal.NewKeys(AccountID), ids: newIdentity(names), stackStatus: "CREATE_COMPLETE", templateVersion: 1,
	}
	l.user = l.keys.NewUser(UserName)
	defer func() {
		if err != nil {
			l.Close()
		}
	}()
	for _, d := range stale {
		l.printf("removed %s (%.1f MB), left by a lab that is gone (pid %d)", d.Path, float64(d.Bytes)/(1<<20), d.PID)
	}
	if staleErr != nil {
		l.printf("leftover lab directories: %v", staleErr)
	}

	// Take the load balancer's port first: a port in use fails at once, before any build.
	lbListener, err := net.Listen("tcp", o.LBAddr)
	if err != nil {
		return nil, fmt.Errorf("load balancer: %w", err)
	}
	defer func() {
		if err != nil {
			lbListener.Close()
		}
	}()

	l.bin = o.WebServerBin
	if l.bin == "" {
		l.printf("building the web server from %s", filepath.Join(root, "webserver"))
		if l.bin, err = BuildWebServer(ctx, root, l.dir); err != nil {
			return nil, err
		}
	}

	l.printf("starting dynalite (DynamoDB API) and seeding table %s", dynalite.DefaultTableName)
	// dynalite answers only with this token, which only the authorizing proxy adds: nothing
	// reaches DynamoDB except through the lab's AWS endpoint.
	ddbToken := hexID(16)
	if l.ddb, err = dynalite.Start(ctx, dynalite.Options{RepoRoot: root, Token: ddbToken}); err != nil {
		return nil, err
	}
	if err = l.ddb.SetupLabTable(ctx, dynalite.DefaultTableName); err != nil {
		return nil, err
	}
	// The endpoint authorizes every call (the roles' policies), so the proxy denies nobody.
	if l.ddbProxy, err = ddbauth.New(l.ddb.URL, nil); err != nil {
		return nil, err
	}
	l.ddbProxy.SetTargetHeader(dynalite.TokenHeader, ddbToken)
	l.superviseDynalite(ddbToken)
	// The parameter as the stack creates it: value true, under this copy's name.
	l.ssm = ssmstub.New()
	if _, err = l.ssm.Put(names.Parameter(), "true", ssmstub.LabAllowedPattern, false); err != nil {
		return nil, err
	}
	if l.endpointURL, err = l.serve("127.0.0.1:0", l.newEndpoint()); err != nil {
		return nil, err
	}
	l.printf("AWS endpoint at %s (SSM, DynamoDB, EC2, Elastic Load Balancing, Auto Scaling, CloudFormation; region %s): %s=true",
		l.endpointURL, Region, names.Parameter())

	l.lb, err = localb.New(localb.Options{HealthCheck: hc, IdleTimeout: idle, OnTransition: l.onTransition})
	if err != nil {
		return nil, err
	}
	l.lbURL = l.serveOn(lbListener, l.lb)
	l.printf("load balancer at %s (health check %s every %s, timeout %s, healthy %d, unhealthy %d, deregistration delay %s; idle timeout %s)",
		l.lbURL, hc.Path, hc.Interval, hc.Timeout, hc.HealthyThreshold, hc.UnhealthyThreshold, hc.DeregistrationDelay, idle)

	for _, z := range Letters {
		inst, err := l.launch(ctx, z, o.Code)
		if err != nil {
			return nil, err
		}
		l.mu.Lock()
		l.zones[z] = inst
		l.mu.Unlock()
	}
	return l, nil
}

// serve runs h on addr (loopback) until Close and returns its base URL.
func (l *Lab) serve(addr string, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	return l.serveOn(ln, h), nil
}

// serveOn runs h on ln until Close and returns its base URL.
func (l *Lab) serveOn(ln net.Listener, h http.Handler) string {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	l.servers = append(l.servers, srv)
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String()
}

// BuildWebServer compiles root/webserver into dir and returns the binary's path.
func BuildWebServer(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "webserver")
	if runtime.GOOS == "windows" {
		bin += ".exe" // Windows starts only files with an executable extension
	}
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./webserver")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build ./webserver: %v\n%s", err, out)
	}
	return bin, nil
}

func (l *Lab) printf(format string, args ...any) {
	line := time.Now().Format("15:04:05") + " " + fmt.Sprintf(format, args...) + "\n"
	l.outMu.Lock()
	defer l.outMu.Unlock()
	_, _ = io.WriteString(l.progress, line)
}

func (l *Lab) onTransition(tr targethealth.Transition) {
	zone := "?"
	l.mu.Lock()
	if in, ok := l.instances[tr.ID]; ok {
		zone = in.zone
	}
	l.mu.Unlock()
	msg := fmt.Sprintf("target %s (%s): %s → %s", tr.ID, ZoneName(zone), tr.From, tr.To)
	if tr.Reason != "" {
		msg += " (" + tr.Reason + ")"
	}
	if tr.To == targethealth.StateUnhealthy {
		msg += ": " + l.lb.Target(tr.ID).Description
	}
	l.printf("%s", msg)
}

// URL is the load balancer's base URL.
func (l *Lab) URL() string { return l.lbURL }

// SSMEndpoint is where Parameter Store answers: the lab's AWS endpoint.
func (l *Lab) SSMEndpoint() string { return l.endpointURL }

// HealthCheck is the target group's settings in use.
func (l *Lab) HealthCheck() lab.HealthCheck { return l.hc }

// Dir is the lab's temporary directory; instance logs are under logs/.
func (l *Lab) Dir() string { return l.dir }

// WaitHealthy waits until every zone's current instance is a healthy target, printing
// progress, or until ctx ends.
func (l *Lab) WaitHealthy(ctx context.Context) error {
	for {
		st := l.Status()
		healthy, total := 0, 0
		for _, t := range st.Targets {
			if t.Current {
				total++
				if t.State == string(targethealth.StateHealthy) {
					healthy++
				}
			}
		}
		if total == len(Letters) && healthy == total {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for healthy targets (%d of %d healthy): %w", healthy, len(Letters), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Status is the lab's own view of its targets and load balancer, for WaitHealthy and
// Counters; labctl's status comes through the AWS APIs.
type Status struct {
	Targets   []Target        `json:"targets"`
	Counters  localb.Counters `json:"counters"`
	Busy      string          `json:"busy,omitempty"` // the operation in progress, if any
	Operation *Operation      `json:"operation,omitempty"`
}

// Target is one registered target with its instance's facts.
type Target struct {
	Zone        string `json:"zone"`
	InstanceID  string `json:"instance_id"`
	State       string `json:"state"`
	Reason      string `json:"reason,omitempty"`
	Description string `json:"description,omitempty"`
	Role        string `json:"role"`
	ServerCode  string `json:"server_code"`
	Requests    int64  `json:"requests"`
	Current     bool   `json:"current"` // the zone's current instance (false while an old one drains)
	Since       string `json:"since"`
	// Checks are the latest health-check results, oldest first, and NextCheck when the
	// next one is due: the local lab shows what ALB keeps to itself.
	Checks    []targethealth.Check `json:"checks,omitempty"`
	NextCheck *time.Time           `json:"next_check,omitempty"`
}

// Operation is the deploy or repair in flight, for live views.
type Operation struct {
	Kind       string    `json:"kind"`                   // deploy or repair
	ServerCode string    `json:"server_code"`            // the ServerCode it rolls out
	Zone       string    `json:"zone,omitempty"`         // repair: the zone letter
	Started    time.Time `json:"started"`                //
	Last       string    `json:"last_message,omitempty"` // its latest progress line
}

// Status reports the targets, the counters and the operation in flight.
func (l *Lab) Status() Status {
	st := Status{Counters: l.lb.Counters(), Targets: []Target{}}
	ts := l.lb.Targets()
	l.mu.Lock()
	if l.op != nil {
		op := *l.op
		st.Operation = &op
	}
	for _, t := range ts {
		tg := Target{
			InstanceID: t.ID, State: string(t.State), Reason: t.Reason, Description: t.Description,
			Requests: t.Requests, Since: t.Since.Format(time.RFC3339), Checks: t.Recent,
		}
		if n := len(t.Recent); n > 0 && t.State != targethealth.StateDraining {
			next := t.Recent[n-1].At.Add(l.hc.Interval)
			tg.NextCheck = &next
		}
		if in, ok := l.instances[t.ID]; ok {
			tg.Zone = ZoneName(in.zone)
			tg.Role = in.meta.Role()
			tg.ServerCode = string(in.code)
			tg.Current = l.zones[in.zone] == in
		}
		st.Targets = append(st.Targets, tg)
	}
	l.mu.Unlock()
	sort.SliceStable(st.Targets, func(i, j int) bool { return st.Targets[i].Zone < st.Targets[j].Zone })
	if l.opMu.TryLock() {
		l.opMu.Unlock()
	} else {
		st.Busy = "deploy or repair in progress"
	}
	return st
}

// Counters is what the local lab knows and AWS offers no API for (CloudWatch metrics
// aside): the load balancer's 5xx counters, each target's requests, recent health-check
// results and next check, and the deploy or repair in flight.
type Counters struct {
	LB        localb.Counters         `json:"counters"`
	Targets   map[string]TargetCounts `json:"targets"` // by target (instance) id
	Busy      string                  `json:"busy,omitempty"`
	Operation *Operation              `json:"operation,omitempty"`
	// Processes are the lab's processes and their supervision (state, restarts).
	Processes []Process `json:"processes,omitempty"`
}

// TargetCounts is one target's part of Counters.
type TargetCounts struct {
	Requests  int64                `json:"requests"`
	Checks    []targethealth.Check `json:"checks,omitempty"`
	NextCheck *time.Time           `json:"next_check,omitempty"`
}

// Counters reports what Counters describes, from the lab's status.
func (l *Lab) Counters() Counters {
	st := l.Status()
	k := Counters{LB: st.Counters, Targets: map[string]TargetCounts{}, Busy: st.Busy, Operation: st.Operation, Processes: l.Processes()}
	for _, t := range st.Targets {
		k.Targets[t.InstanceID] = TargetCounts{Requests: t.Requests, Checks: t.Checks, NextCheck: t.NextCheck}
	}
	return k
}

// StackName is the service stack's name, which the lab's CloudFormation endpoint answers.
func (l *Lab) StackName() string { return l.names.ServiceStack() }

// ParameterName is the RecommendationServiceEnabled parameter's name in this lab.
func (l *Lab) ParameterName() string { return l.names.Parameter() }

// SetDependency sets RecommendationServiceEnabled directly in the stand-in (the CLI goes
// through the SSM API instead; this is for tests and the lab itself).
func (l *Lab) SetDependency(enabled bool) error {
	_, err := l.ssm.Set(l.names.Parameter(), fmt.Sprint(enabled))
	return err
}

// ErrBusy is returned when a deploy or repair is already running.
var ErrBusy = errors.New("a deploy or repair is already in progress; wait for it (labctl watch)")

// replace terminates old (when not nil) while it launches a replacement in zone z running
// code, as Auto Scaling does, and returns once the new target has settled and the old one
// has drained. The caller holds opMu.
func (l *Lab) replace(ctx context.Context, z string, old *instance, code lab.ServerCode, say func(string, ...any)) error {
	drained := make(chan error, 1)
	if old != nil {
		say("terminating instance %s in %s", old.id, ZoneName(z))
		go func() { drained <- l.terminate(ctx, old, say) }()
	} else {
		drained <- nil
	}
	say("Auto Scaling: launching a replacement in %s (ServerCode %s)", ZoneName(z), code)
	in, err := l.launch(ctx, z, code)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.zones[z] = in
	l.mu.Unlock()
	say("instance %s launched in %s and registered: %s", in.id, ZoneName(z), l.lb.Target(in.id).State)
	werr := l.waitSettled(ctx, in, say)
	if err := <-drained; err != nil {
		return err
	}
	return werr
}

// terminateAsync starts terminating in and returns at once, as EC2's TerminateInstances and
// Auto Scaling's TerminateInstanceInAutoScalingGroup do: the instance shuts down (its target
// drains first) and, while it is still its zone's instance, Auto Scaling launches a
// replacement there, once no deploy or repair is running. It reports whether it started.
func (l *Lab) terminateAsync(in *instance) bool {
	l.mu.Lock()
	if l.closed || in.state != ec2.StateRunning {
		l.mu.Unlock()
		return false
	}
	in.state = ec2.StateShuttingDown
	l.wg.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.wg.Done()
		for !l.opMu.TryLock() {
			select {
			case <-l.ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		defer l.opMu.Unlock()
		l.mu.Lock()
		current, code, gone := l.zones[in.zone] == in, l.code, in.state == ec2.StateTerminated
		l.mu.Unlock()
		if gone { // a deploy terminated it meanwhile
			return
		}
		say := l.begin(Operation{Kind: "repair", ServerCode: string(code), Zone: in.zone}, nil)
		defer l.end()
		var err error
		if current {
			err = l.replace(l.ctx, in.zone, in, code, say)
		} else {
			err = l.terminate(l.ctx, in, say)
		}
		if err != nil && l.ctx.Err() == nil {
			say("replacing %s in %s failed: %v", in.id, ZoneName(in.zone), err)
		}
	}()
	return true
}

// Deploy replaces every instance, one zone at a time, with one running code and the normal
// role: launch the new instance, wait for its target to pass its initial health checks,
// then deregister the old one and wait for it to drain. That is what a rolling update of the
// stack with a new ServerCode does.
func (l *Lab) Deploy(ctx context.Context, code lab.ServerCode, progress func(string)) error {
	if _, err := lab.ParseServerCode(string(code)); err != nil {
		return err
	}
	if !l.opMu.TryLock() {
		return ErrBusy
	}
	defer l.opMu.Unlock()
	say := l.begin(Operation{Kind: "deploy", ServerCode: string(code)}, progress)
	defer l.end()
	l.setStackStatus("UPDATE_IN_PROGRESS")
	defer l.setStackStatus("UPDATE_COMPLETE")
	l.mu.Lock()
	l.templateVersion++
	l.mu.Unlock()
	say("rolling update to ServerCode %s, one zone at a time", code)
	for _, z := range Letters {
		l.mu.Lock()
		old := l.zones[z]
		l.mu.Unlock()
		in, err := l.launch(ctx, z, code)
		if err != nil {
			return err
		}
		say("%s: new instance %s (%s) registered", ZoneName(z), in.id, code)
		l.mu.Lock()
		l.zones[z] = in
		l.mu.Unlock()
		if err := l.waitSettled(ctx, in, say); err != nil {
			return err
		}
		if old != nil {
			if err := l.terminate(ctx, old, say); err != nil {
				return err
			}
		}
	}
	l.mu.Lock()
	l.code = code
	l.mu.Unlock()
	say("rolling update to %s complete", code)
	return nil
}

// setStackStatus records the HealthCheckLab stack's status, as a deploy changes it.
func (l *Lab) setStackStatus(status string) {
	l.mu.Lock()
	l.stackStatus = status
	if status == "UPDATE_COMPLETE" {
		l.stackUpdated = time.Now().UTC()
	}
	l.mu.Unlock()
}

// begin records op as in flight and returns its progress printer, which also keeps the
// operation's latest line for the status.
func (l *Lab) begin(op Operation, progress func(string)) func(string, ...any) {
	op.Started = time.Now()
	l.mu.Lock()
	l.op = &op
	l.mu.Unlock()
	return func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		l.mu.Lock()
		if l.op != nil {
			l.op.Last = msg
		}
		l.mu.Unlock()
		l.printf("%s", msg)
		if progress != nil {
			progress(msg)
		}
	}
}

// end clears the operation in flight.
func (l *Lab) end() {
	l.mu.Lock()
	l.op = nil
	l.mu.Unlock()
}

// waitSettled waits until in's target leaves the initial state. A target that turns
// unhealthy is reported, not waited on forever: the stack's rolling update also signals on
// liveness, not on the deep check.
func (l *Lab) waitSettled(ctx context.Context, in *instance, say func(string, ...any)) error {
	start := time.Now()
	last := ""
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		t := l.lb.Target(in.id)
		if s := string(t.State) + " " + t.Reason; s != last {
			last = s
			switch t.State {
			case targethealth.StateHealthy:
				say("target %s (%s) healthy after %s", in.id, ZoneName(in.zone), time.Since(start).Round(100*time.Millisecond))
				return nil
			case targethealth.StateUnhealthy:
				say("target %s (%s) unhealthy: %s %s", in.id, ZoneName(in.zone), t.Reason, t.Description)
				return nil
			case targethealth.StateInitial:
				say("target %s (%s): initial, %s", in.id, ZoneName(in.zone), t.Reason)
			default:
				return fmt.Errorf("target %s is %s while waiting for its health checks", in.id, t.State)
			}
		}
		if err := l.await(ctx, tick.C); err != nil {
			return err
		}
	}
}

// await blocks until the next tick of a polling loop, or returns why the loop must end:
// the caller's context is done or the lab is stopping.
func (l *Lab) await(ctx context.Context, tick <-chan time.Time) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-l.ctx.Done():
		return errors.New("lab stopped")
	case <-tick:
		return nil
	}
}

// Close stops every process and server the lab started and removes its temporary directory.
func (l *Lab) Close() {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	l.mu.Unlock()
	// Stop running operations first, so none launches an instance after the sweep below.
	l.cancel()
	l.wg.Wait()
	l.opMu.Lock()
	defer l.opMu.Unlock()
	l.mu.Lock()
	ins := make([]*instance, 0, len(l.instances))
	for _, in := range l.instances {
		ins = append(ins, in)
	}
	l.mu.Unlock()
	var wg sync.WaitGroup
	for _, in := range ins {
		wg.Add(1)
		go func() { defer wg.Done(); in.stop(l) }()
	}
	wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for i := len(l.servers) - 1; i >= 0; i-- {
		_ = l.servers[i].Shutdown(ctx)
		_ = l.servers[i].Close()
	}
	if l.lb != nil {
		l.lb.Close()
	}
	if l.ddbSup != nil {
		l.ddbSup.Stop()
	} else if l.ddb != nil {
		_ = l.ddb.Close()
	}
	if l.labDir != nil {
		l.labDir.remove()
	}
	slog.Debug("local lab closed")
}
