package locallab

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"time"

	"healthchecklab/assets"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/procgroup"
	"healthchecklab/internal/standin/dynalite"
	"healthchecklab/internal/supervise"
)

// The lab supervises its processes as an instance's systemd supervises the web server:
// dynalite and every web server are started again when they exit (kill -9 included). What
// the lab itself stops (a terminated instance, Close) is not restarted, and a frozen process
// (SIGSTOP) has not exited: it is left alone, and its target times out as a silent one does.

// dynalitePolicy restarts dynalite after systemd's default RestartSec (100 ms), doubling the
// wait while starts keep failing, up to 5 s; a run of a minute starts over.
var dynalitePolicy = supervise.Policy{RestartSec: 100 * time.Millisecond, MaxDelay: 5 * time.Second, ResetAfter: time.Minute}

// UnitRestartPolicy reads the restart settings of a systemd unit: Restart=always and its
// RestartSec= (systemd's default 100 ms when absent). Another Restart= value is an error:
// the lab restarts only what the unit restarts always. A unit without RestartSteps= waits
// RestartSec every time, so the policy has no growing delay.
// See https://www.freedesktop.org/software/systemd/man/latest/systemd.service.html#Restart=
func UnitRestartPolicy(unit string) (supervise.Policy, error) {
	restart, sec := "", ""
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch strings.TrimSpace(k) {
		case "Restart":
			restart = strings.TrimSpace(v)
		case "RestartSec":
			sec = strings.TrimSpace(v)
		}
	}
	if restart != "always" {
		return supervise.Policy{}, fmt.Errorf("unit has Restart=%s, want Restart=always", restart)
	}
	p := supervise.Policy{RestartSec: 100 * time.Millisecond}
	if sec != "" {
		d, err := unitSeconds(sec)
		if err != nil {
			return supervise.Policy{}, fmt.Errorf("unit's RestartSec=%s: %w", sec, err)
		}
		p.RestartSec = d
	}
	return p, nil
}

// unitSeconds parses the forms of a systemd time span the lab's unit may use: a bare number
// of seconds ("2", "1.5") or one Go duration ("500ms", "2s"). systemd's longer forms
// ("1min 30s") are refused rather than misread.
func unitSeconds(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("not a time span")
	}
	return d, nil
}

// webServerPolicy is the web server unit's restart policy for a lab checking with hc; with --fast, RestartSec shrinks
// in the proportion the health-check interval does, so that a restart takes the same share
// of a health check as on AWS.
func webServerPolicy(hc lab.HealthCheck) (supervise.Policy, error) {
	p, err := UnitRestartPolicy(assets.WebServerUnit)
	if err != nil {
		return p, fmt.Errorf("assets/webserver.service: %w", err)
	}
	if base := lab.TargetGroupHealthCheck.Interval; hc.Interval != base && base > 0 {
		p.RestartSec = time.Duration(float64(p.RestartSec) * float64(hc.Interval) / float64(base)).Round(time.Millisecond)
	}
	return p, nil
}

// Processes lists the lab's processes: labctl itself (load balancer, AWS endpoint and
// metadata services run inside it), dynalite, and the web server of every instance not yet
// terminated, by zone.
func (l *Lab) Processes() []labclient.Process {
	ps := []labclient.Process{process(supervise.Status{Name: "labctl", State: supervise.Running, PID: os.Getpid(), Since: l.created})}
	if l.ddbSup != nil {
		ps = append(ps, process(l.ddbSup.Status()))
	}
	l.mu.Lock()
	var web []labclient.Process
	for _, in := range l.procs {
		if sup := in.supervisor(); sup != nil {
			p := process(sup.Status())
			p.InstanceID, p.Zone = in.id, region.ZoneName(in.letter)
			web = append(web, p)
		}
	}
	l.mu.Unlock()
	sort.Slice(web, func(i, j int) bool {
		if web[i].Zone != web[j].Zone {
			return web[i].Zone < web[j].Zone
		}
		return web[i].InstanceID < web[j].InstanceID
	})
	ps = append(ps, web...)
	for i := range ps {
		ps[i].Frozen = ps[i].State == string(supervise.Running) && frozen(ps[i].PID)
	}
	return ps
}

// process is a supervisor's status as the control API reports it.
func process(s supervise.Status) labclient.Process {
	return labclient.Process{Name: s.Name, State: string(s.State), PID: s.PID, Restarts: s.Restarts, LastExit: s.LastExit, Since: s.Since}
}

// onProcessEvent puts a supervisor's event in the lab's log.
func (l *Lab) onProcessEvent(e supervise.Event) {
	msg := e.String()
	if e.Name == "dynalite" && e.Kind == supervise.Restarted {
		msg += fmt.Sprintf("; table %s created and seeded again", dynalite.DefaultTableName)
	}
	if e.Name == "dynalite" && e.Kind == supervise.Exited {
		msg += "; DynamoDB answers 503 ServiceUnavailable meanwhile"
	}
	l.printf("%s", msg)
}

// ddbProc is a dynalite run as a supervised process.
type ddbProc struct{ *dynalite.Server }

func (p ddbProc) Stop() { _ = p.Close() }

// superviseDynalite watches the running dynalite. A new run gets the same token, a new port,
// the lab's table, created and seeded again, and only then the proxy's traffic: until then
// the proxy answers as DynamoDB does when it cannot serve (503 ServiceUnavailable).
func (l *Lab) superviseDynalite(token string) {
	l.ddbSup = supervise.Watch(ddbProc{l.ddb}, supervise.Options{
		Name: "dynalite", Policy: dynalitePolicy, OnEvent: l.onProcessEvent,
		Start: func(ctx context.Context) (supervise.Process, error) {
			_ = l.ddbProxy.SetTarget("")
			s, err := dynalite.Start(ctx, dynalite.Options{RepoRoot: l.opts.RepoRoot, Token: token})
			if err != nil {
				return nil, err
			}
			if err := s.SetupLabTable(ctx, dynalite.DefaultTableName); err != nil {
				_ = s.Close()
				return nil, err
			}
			if err := l.ddbProxy.SetTarget(s.URL); err != nil {
				_ = s.Close()
				return nil, err
			}
			return ddbProc{s}, nil
		},
	})
}

// webProc is one run of an instance's web server, in a process group of its own so that
// stopping it reaches anything it starts.
type webProc struct {
	cmd    *exec.Cmd
	group  *procgroup.Group
	exited chan struct{}
}

// startWebProc starts in's web server with its command line and environment, its output
// appended to the instance's log. It returns once the process runs (systemd's Type=simple).
func startWebProc(in *instance) (*webProc, error) {
	cmd := exec.Command(in.argv[0], in.argv[1:]...)
	cmd.Env = in.env
	cmd.Stdout, cmd.Stderr = in.log, in.log
	group, err := procgroup.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("start web server: %w", err)
	}
	p := &webProc{cmd: cmd, group: group, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	return p, nil
}

func (p *webProc) Pid() int              { return p.cmd.Process.Pid }
func (p *webProc) Done() <-chan struct{} { return p.exited }

func (p *webProc) ExitStatus() string {
	select {
	case <-p.exited:
		return p.cmd.ProcessState.String()
	default:
		return ""
	}
}

// Stop interrupts the server's group (it drains in-flight requests), kills it after 10 s,
// then kills whatever it left in its group.
func (p *webProc) Stop() {
	if p.group.Interrupt() != nil {
		_ = p.group.Kill()
	}
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.group.Kill()
		<-p.exited
	}
	_ = p.group.Kill()
}

// superviseWeb restarts in's web server whenever it exits, as its unit's Restart=always
// does: the same binary, arguments and environment, so the same instance id, zone, role and
// metadata service, on the same port. Its target recovers through its health checks.
func (l *Lab) superviseWeb(in *instance, first *webProc) {
	sup := supervise.Watch(first, supervise.Options{
		Name: fmt.Sprintf("web server of %s in %s", in.id, region.ZoneName(in.letter)), Policy: l.webPolicy, OnEvent: l.onProcessEvent,
		Start: func(context.Context) (supervise.Process, error) { return startWebProc(in) },
	})
	in.mu.Lock()
	in.sup = sup
	in.mu.Unlock()
}
