package locallab

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"healthchecklab/internal/awslocal/ec2"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/localb"
	"healthchecklab/internal/standin/dynalite"
	"healthchecklab/internal/standin/imds"
	"healthchecklab/internal/supervise"
	"healthchecklab/internal/targethealth"
)

// instance is one "EC2 instance": a web-server process and its own metadata service.
type instance struct {
	id   string
	zone string // letter
	code lab.ServerCode
	meta *imds.Server
	url  *url.URL // the web server's base URL

	// What EC2 and Auto Scaling show about it; guarded by the lab's mu.
	state    string // ec2.StatePending … ec2.StateTerminated
	launched time.Time
	version  int // launch template version it was launched from
	assoc    association

	metaSrv *http.Server
	// The web server's command line and environment, the same for every run of it.
	argv, env []string
	first     *webProc              // its first run, until supervision starts
	sup       *supervise.Supervisor // restarts it when it exits; guarded by the lab's mu
	log       *os.File
	stopOnce  sync.Once
}

// launch starts an instance in zone running code with the normal role, waits for its
// liveness path to answer (the stack's bootstrap signals on the same path) and registers it
// with the load balancer.
func (l *Lab) launch(ctx context.Context, zone string, code lab.ServerCode) (*instance, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		in, err := l.startInstance(ctx, zone, code)
		if err == nil {
			l.mu.Lock()
			in.state = ec2.StateRunning
			l.mu.Unlock()
			if err := l.lb.Register(localb.Target{ID: in.id, URL: in.url}); err != nil {
				in.stop(l)
				l.retire(in)
				return nil, err
			}
			return in, nil
		}
		lastErr = err
		if ctx.Err() != nil || l.ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// startInstance starts the metadata service and the web-server process of a new instance.
func (l *Lab) startInstance(ctx context.Context, zone string, code lab.ServerCode) (_ *instance, err error) {
	id := newInstanceID()
	zi := int(zone[0]-'a') + 1
	meta := imds.New(imds.Instance{
		ID:          id,
		Zone:        ZoneName(zone),
		Region:      Region,
		PrivateIPv4: fmt.Sprintf("10.0.%d.%d", zi, 10+int(id[len(id)-1])%200),
		Role:        lab.RoleName(l.prefix),
	})
	meta.UseCredentials(l.instanceCredentials)
	in := &instance{id: id, zone: zone, code: code, meta: meta, state: ec2.StatePending, launched: time.Now().UTC()}
	// EC2 lists the instance from now on: pending until its server answers, terminated if it
	// never does.
	l.mu.Lock()
	in.version, in.assoc = l.templateVersion, newAssociation(lab.RoleName(l.prefix))
	l.instances[id] = in
	l.mu.Unlock()
	defer func() {
		if err != nil {
			in.stop(l)
			l.retire(in)
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	in.metaSrv = &http.Server{Handler: meta, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = in.metaSrv.Serve(ln) }()
	metaURL := "http://" + ln.Addr().String()

	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	in.url = &url.URL{Scheme: "http", Host: addr}

	logDir := filepath.Join(l.dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	if in.log, err = os.Create(filepath.Join(logDir, id+".log")); err != nil {
		return nil, err
	}
	in.argv = []string{l.bin,
		"-listen", addr,
		"-server-code", string(code),
		"-table", dynalite.DefaultTableName,
		"-parameter", l.names.Parameter(),
		"-region", Region,
	}
	in.env = instanceEnv(l.endpointURL, metaURL)
	// A group of its own, so stop reaches anything the server starts; it dies with labctl.
	if in.first, err = startWebProc(in); err != nil {
		return nil, err
	}
	if err := waitLive(ctx, in, in.first, 15*time.Second); err != nil {
		return nil, err
	}
	// Live: from now on an exit is a crash, and the server is started again.
	l.superviseWeb(in, in.first)
	return in, nil
}

// instanceEnv is the whole environment of a web-server process: the standard SDK variables
// pointing at the lab's AWS endpoint, and nothing from the caller's AWS configuration, so
// credentials can only come from the instance's metadata service, as on EC2.
func instanceEnv(endpoint, metaURL string) []string {
	env := []string{
		"AWS_REGION=" + Region,
		"AWS_ENDPOINT_URL=" + endpoint,
		"AWS_EC2_METADATA_SERVICE_ENDPOINT=" + metaURL,
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
	}
	// The variables a Go program needs from its OS: Unix's, then Windows' (SYSTEMROOT for
	// its system libraries, TEMP/TMP and USERPROFILE for the temporary and home directories).
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "TZ", "SYSTEMROOT", "TEMP", "TMP", "USERPROFILE"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// freePort asks the kernel for a free loopback port. Another process could take it before
// the web server binds it; launch then retries with a new one.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitLive polls the web server's liveness path until it answers 200.
func waitLive(ctx context.Context, in *instance, p *webProc, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	u := in.url.String() + lab.LivenessPath
	for {
		resp, err := client.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("web server for %s exited at start: %s", in.id, logTail(in.log.Name()))
		case <-ctx.Done():
			return fmt.Errorf("web server for %s not live after %s: %s", in.id, timeout, logTail(in.log.Name()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// logTail returns the end of a log file on one line, for an error message (the lab's
// temporary directory, and the log with it, is gone once labctl exits).
func logTail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "no log: " + err.Error()
	}
	if len(b) > 400 {
		b = b[len(b)-400:]
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	if s == "" {
		return "it printed nothing"
	}
	return "log ends: " + s
}

// terminate deregisters an instance's target, waits for it to drain (the deregistration
// delay, as Auto Scaling does before terminating), then stops the instance.
func (l *Lab) terminate(ctx context.Context, in *instance, say func(string, ...any)) error {
	l.mu.Lock()
	if in.state == ec2.StateTerminated {
		l.mu.Unlock()
		return nil
	}
	in.state, in.assoc.state = ec2.StateShuttingDown, assocDisassociating
	l.mu.Unlock()
	if err := l.lb.Deregister(in.id); err == nil {
		say("%s: target %s draining (deregistration delay %s)", ZoneName(in.zone), in.id, l.hc.DeregistrationDelay)
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for l.lb.Target(in.id).State != targethealth.StateUnused {
		if err := l.await(ctx, tick.C); err != nil {
			return err
		}
	}
	in.stop(l)
	l.retire(in)
	say("%s: instance %s terminated", ZoneName(in.zone), in.id)
	return nil
}

// retire records a stopped instance as terminated: EC2 keeps listing it for a while.
func (l *Lab) retire(in *instance) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if in.state == ec2.StateTerminated {
		return
	}
	delete(l.instances, in.id)
	in.state, in.assoc.state = ec2.StateTerminated, assocDisassociated
	l.gone = append(l.gone, in)
	if len(l.gone) > maxGone {
		l.gone = l.gone[len(l.gone)-maxGone:]
	}
}

// stop ends the web-server process (interrupt to its group, kill after 10 s), then its
// metadata service. The server itself drains in-flight requests when interrupted. The
// supervisor is stopped first: a server the lab stops is not restarted.
func (in *instance) stop(l *Lab) {
	in.stopOnce.Do(func() {
		l.mu.Lock()
		sup := in.sup
		l.mu.Unlock()
		if sup != nil {
			sup.Stop()
		} else if in.first != nil {
			in.first.Stop()
		}
		if in.metaSrv != nil {
			_ = in.metaSrv.Close()
		}
		if in.log != nil {
			_ = in.log.Close()
		}
	})
}
