// Package locallab runs the whole health-check lab on one machine: dynalite (seeded) behind
// the authorizing proxy, the Parameter Store stand-in, a web-server process with its own
// IMDSv2 stand-in for every instance, and the local load balancer in front of them. It is
// the shell around the local region (package region), which holds every AWS rule the lab
// follows: the lab serves the region's EC2, Elastic Load Balancing, Auto Scaling and
// CloudFormation at its AWS endpoint, carries out what the region decides (shell.go) and
// reports back what its processes did. A small control API serves what AWS has no API for
// (the local rolling deploy, the load balancer's counters, shutdown).
package locallab

import (
	"context"
	"crypto/rand"
	"encoding/binary"
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
	"sync"
	"time"

	"healthchecklab/internal/awslocal"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/awslocal/sigv4"
	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
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
	grace  time.Duration // the group's health-check grace period (shortened with Fast)
	dir    string        // temporary directory: web-server binary and instance logs
	labDir *labDir       // dir's marks: the next lab removes it if this process dies unclean
	bin    string
	prefix string         // the role names' prefix (names.RolePrefix())
	names  labnames.Names // the stack, parameter and role names of this copy

	webPolicy supervise.Policy // the web server unit's restart settings

	// r is the region: every instance, the group, the target group's health and the stacks,
	// with every AWS rule the lab follows. The lab carries out what it decides (shell.go).
	r       *region.Region
	created time.Time

	ddb      *dynalite.Server // its first run; ddbSup has the current one
	ddbSup   *supervise.Supervisor
	ddbProxy *ddbauth.Proxy
	ssm      *ssmstub.Server
	lb       *localb.LB
	servers  []*http.Server // the AWS endpoint and the load balancer, closed last to first
	lbURL    string

	keys        *awslocal.Keys
	user        sigv4.Credentials
	endpointURL string // the AWS endpoint: SSM, DynamoDB, EC2, ELB, Auto Scaling, CloudFormation

	ctx    context.Context // lives until Close: the pump, launches and stops run in it
	cancel context.CancelFunc
	wg     sync.WaitGroup
	kick   chan struct{} // wakes the pump

	mu         sync.Mutex
	procs      map[string]*instance // the processes of every instance launched and not stopped, by id
	watchers   []*watcher           // deploys following the region's notes
	launchErrs []error              // launches that failed, for Start
	powerOff   map[string]time.Time // zones without power (ZonePower), until when
	closed     bool

	outMu    sync.Mutex // serializes writes to progress
	progress io.Writer
}

// Region is the local region's name.
const Region = region.Name

// Start builds the web server (unless prebuilt), starts every part of the lab and returns
// once the region's first instances are registered with the load balancer. It does not
// wait for them to turn healthy; see WaitHealthy.
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
	hc, idle, grace := lab.TargetGroupHealthCheck, lab.IdleTimeout, lab.HealthCheckGracePeriod
	if o.Fast {
		hc, idle, grace = localb.Fast(hc), localb.FastIdleTimeout(), localb.FastGracePeriod()
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
		opts: o, hc: hc, grace: grace, dir: ld.path, labDir: ld, names: names, prefix: names.RolePrefix(),
		ctx: lctx, cancel: cancel, progress: o.Progress, webPolicy: webPolicy, created: time.Now().UTC(),
		procs: map[string]*instance{}, kick: make(chan struct{}, 1),
		keys: awslocal.NewKeys(AccountID),
	}
	l.user = l.keys.NewUser(labclient.UserName)
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
	l.lbURL = "http://" + lbListener.Addr().String()

	// The region as the lab's stack creates it, with this copy's names.
	rcfg := region.LabConfig(time.Now, randomSeed())
	rcfg.HealthCheck, rcfg.ServerCode, rcfg.Names, rcfg.HealthCheckGrace = hc, o.Code, names, grace
	rcfg.LoadBalancerURL, rcfg.TableName = l.lbURL, dynalite.DefaultTableName
	if l.r, err = region.New(rcfg); err != nil {
		return nil, err
	}

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

	// The load balancer checks the targets and routes; their health is the region's.
	l.lb, err = localb.New(localb.Options{HealthCheck: hc, IdleTimeout: idle, Health: l.r})
	if err != nil {
		return nil, err
	}
	l.serveOn(lbListener, l.lb)
	l.printf("load balancer at %s (health check %s every %s, timeout %s, healthy %d, unhealthy %d, deregistration delay %s; idle timeout %s)",
		l.lbURL, hc.Path, hc.Interval, hc.Timeout, hc.HealthyThreshold, hc.UnhealthyThreshold, hc.DeregistrationDelay, idle)

	l.wg.Add(1)
	go l.pump()
	return l, l.waitRegistered(ctx)
}

// waitRegistered waits until the region has a registered target in every zone. Launches
// that keep failing (a web server that cannot start) end it with their error: the region
// would retry them for as long as the lab runs.
func (l *Lab) waitRegistered(ctx context.Context) error {
	const maxFailures = 3
	for {
		n := 0
		for _, s := range l.r.Status() {
			if s.Current && s.Target.State != targethealth.StateUnused {
				n++
			}
		}
		if n == len(region.Letters) {
			return nil
		}
		l.mu.Lock()
		errs := append([]error(nil), l.launchErrs...)
		l.mu.Unlock()
		if len(errs) >= maxFailures {
			return errs[len(errs)-1]
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the first instances: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// randomSeed seeds the region's ids, so that two labs do not share instance ids.
func randomSeed() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:])
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

func (l *Lab) printf(format string, args ...any) { l.printAt(time.Now(), fmt.Sprintf(format, args...)) }

// printAt writes one progress line stamped with at.
func (l *Lab) printAt(at time.Time, msg string) {
	line := at.Local().Format("15:04:05") + " " + msg + "\n"
	l.outMu.Lock()
	defer l.outMu.Unlock()
	_, _ = io.WriteString(l.progress, line)
}

// URL is the load balancer's base URL.
func (l *Lab) URL() string { return l.lbURL }

// SSMEndpoint is where Parameter Store answers: the lab's AWS endpoint.
func (l *Lab) SSMEndpoint() string { return l.endpointURL }

// Dir is the lab's temporary directory; instance logs are under logs/.
func (l *Lab) Dir() string { return l.dir }

// WaitHealthy waits until every zone's current instance is a healthy target, printing
// progress, or until ctx ends.
func (l *Lab) WaitHealthy(ctx context.Context) error {
	for {
		healthy, total := 0, 0
		for _, s := range l.r.Status() {
			if s.Current && s.Target.State != targethealth.StateUnused {
				total++
				if s.Target.State == targethealth.StateHealthy {
					healthy++
				}
			}
		}
		if total == len(region.Letters) && healthy == total {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for healthy targets (%d of %d healthy): %w", healthy, len(region.Letters), ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Counters is what the control API answers (labclient.Counters says what): the region's
// targets and operation, the load balancer's counts and the processes' supervision.
func (l *Lab) Counters() labclient.Counters {
	k := labclient.Counters{LB: l.lb.Counters(), Targets: map[string]labclient.TargetCounts{}, Processes: l.Processes()}
	if op := l.r.Operation(); op != nil {
		k.Operation = &labclient.Operation{Kind: op.Kind, ServerCode: op.ServerCode, Letter: op.Zone, Started: op.Started, Last: op.Last}
		k.Busy = "deploy or repair in progress"
	}
	for _, t := range l.lb.Targets() {
		tc := labclient.TargetCounts{Requests: t.Requests, Checks: t.Recent}
		if n := len(t.Recent); n > 0 && t.State != targethealth.StateDraining {
			next := t.Recent[n-1].At.Add(l.hc.Interval)
			tc.NextCheck = &next
		}
		k.Targets[t.ID] = tc
	}
	return k
}

// StackName is the service stack's name, which the lab's CloudFormation endpoint answers.
func (l *Lab) StackName() string { return l.names.ServiceStack() }

// ParameterName is the RecommendationServiceEnabled parameter's name in this lab.
func (l *Lab) ParameterName() string { return l.names.Parameter() }

// ErrBusy is returned when a deploy is already running.
var ErrBusy = region.ErrBusy

// Deploy updates the stack to code, as `cdk deploy` with a new ServerCode does: the region
// rolls the group over one zone at a time (region.Deploy says how). progress receives the
// region's notes until the update ends; Deploy returns then, with an error when the update
// rolled back. The group keeps its health-check type.
func (l *Lab) Deploy(ctx context.Context, code lab.ServerCode, progress func(string)) error {
	return l.DeployWith(ctx, code, "", progress)
}

// DeployWith is Deploy that also sets the group's health-check type, as `cdk deploy -c
// AsgHealthCheck=<typ>` does (empty keeps it), with the lab's grace period.
func (l *Lab) DeployWith(ctx context.Context, code lab.ServerCode, typ lab.AsgHealthCheck, progress func(string)) error {
	if _, err := lab.ParseServerCode(string(code)); err != nil {
		return err
	}
	if typ != "" {
		if _, err := lab.ParseAsgHealthCheck(string(typ)); err != nil {
			return err
		}
	}
	if progress == nil {
		progress = func(string) {}
	}
	w := newWatcher()
	// The pump drains under mu: it cannot take the update's first notes before w watches.
	l.mu.Lock()
	if typ != "" {
		if err := l.r.SetHealthCheck(string(typ), l.grace); err != nil {
			l.mu.Unlock()
			return err
		}
	}
	if err := l.r.Deploy(code); err != nil {
		l.mu.Unlock()
		return err
	}
	l.watchers = append(l.watchers, w)
	l.mu.Unlock()
	l.wake()
	last := ""
	forward := func() {
		for _, msg := range w.take() {
			last = msg
			progress(msg)
		}
	}
	for ended := false; !ended; {
		select {
		case <-w.more:
		case <-w.done:
			ended = true
		case <-ctx.Done():
			return ctx.Err()
		case <-l.ctx.Done():
			return errors.New("lab stopped")
		}
		forward()
	}
	for _, st := range l.r.Stacks() {
		if st.Name == l.names.ServiceStack() && st.Status != "UPDATE_COMPLETE" {
			return fmt.Errorf("stack %s: %s (%s)", st.Name, st.Status, last)
		}
	}
	return nil
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
	// Stop the pump and the launches first, so none starts a process after the sweep below.
	if l.cancel != nil {
		l.cancel()
	}
	l.wg.Wait()
	l.stopAll()
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
