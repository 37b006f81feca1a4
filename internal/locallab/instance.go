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

	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/standin/dynalite"
	"healthchecklab/internal/standin/imds"
	"healthchecklab/internal/supervise"
)

// instance is the processes of one "EC2 instance" the region launched: a web-server process
// and its own metadata service. What EC2, Auto Scaling and the target group say about it is
// the region's (package region); this is only what runs.
type instance struct {
	id, letter string
	code       lab.ServerCode
	meta       *imds.Server
	metaSrv    *http.Server
	url        *url.URL // the web server's base URL

	// The web server's command line and environment, the same for every run of it.
	argv, env []string
	log       *os.File

	// cancel ends a launch still in progress (a Stop of a pending instance); launched is
	// closed when the launch has ended, started or not.
	cancel   context.CancelFunc
	launched chan struct{}

	mu       sync.Mutex
	first    *webProc              // its first run, until supervision starts
	sup      *supervise.Supervisor // restarts it when it exits
	stopOnce sync.Once
}

// supervisor returns the web server's supervisor, nil until the server first answered.
func (in *instance) supervisor() *supervise.Supervisor {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sup
}

// newInstance prepares the processes of spec (nothing runs yet).
func (l *Lab) newInstance(spec region.LaunchSpec) *instance {
	meta := imds.New(imds.Instance{
		ID: spec.ID, AMI: spec.AMI, Type: spec.Type, Zone: spec.Zone, Region: region.Name,
		Hostname: spec.Hostname, PrivateIPv4: spec.PrivateIP, Role: spec.Role, Architecture: spec.Arch,
	})
	meta.UseCredentials(l.instanceCredentials)
	return &instance{id: spec.ID, letter: spec.Letter, code: spec.Code, meta: meta, launched: make(chan struct{})}
}

// start starts the metadata service and the web-server process, waits for the server's
// liveness path to answer (the stack's bootstrap signals on the same path) and from then on
// supervises it. On error everything it started is stopped again.
func (l *Lab) start(ctx context.Context, in *instance) (err error) {
	defer func() {
		if err != nil {
			in.stop()
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	in.metaSrv = &http.Server{Handler: in.meta, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = in.metaSrv.Serve(ln) }()
	metaURL := "http://" + ln.Addr().String()

	port, err := freePort()
	if err != nil {
		return err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	in.url = &url.URL{Scheme: "http", Host: addr}

	logDir := filepath.Join(l.dir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	if in.log, err = os.Create(filepath.Join(logDir, in.id+".log")); err != nil {
		return err
	}
	l.mu.Lock()
	bin := l.bin
	l.mu.Unlock()
	in.argv = []string{bin,
		"-listen", addr,
		"-server-code", string(in.code),
		"-table", dynalite.DefaultTableName,
		"-parameter", l.names.Parameter(),
		"-region", region.Name,
	}
	in.env = instanceEnv(l.endpointURL, metaURL)
	// A group of its own, so stop reaches anything the server starts; it dies with labctl.
	first, err := startWebProc(in)
	if err != nil {
		return err
	}
	in.mu.Lock()
	in.first = first
	in.mu.Unlock()
	if err := waitLive(ctx, in, first, 15*time.Second); err != nil {
		return err
	}
	// Live: from now on an exit is a crash, and the server is started again.
	l.superviseWeb(in, first)
	return nil
}

// instanceEnv is the whole environment of a web-server process: the standard SDK variables
// pointing at the lab's AWS endpoint, and nothing from the caller's AWS configuration, so
// credentials can only come from the instance's metadata service, as on EC2.
func instanceEnv(endpoint, metaURL string) []string {
	env := []string{
		"AWS_REGION=" + region.Name,
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
// the web server binds it; the launch then fails and the region launches another instance.
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

// stop ends the web-server process (interrupt to its group, kill after 10 s), then its
// metadata service. The server itself drains in-flight requests when interrupted. The
// supervisor is stopped first: a server the lab stops is not restarted.
func (in *instance) stop() {
	in.stopOnce.Do(func() {
		in.mu.Lock()
		sup, first := in.sup, in.first
		in.mu.Unlock()
		if sup != nil {
			sup.Stop()
		} else if first != nil {
			first.Stop()
		}
		if in.metaSrv != nil {
			_ = in.metaSrv.Close()
		}
		if in.log != nil {
			_ = in.log.Close()
		}
	})
}
