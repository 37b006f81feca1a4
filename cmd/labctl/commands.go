package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"healthchecklab/cmd/labctl/internal/locallab"
	"healthchecklab/internal/lab"
)

// newRootCmd builds the command tree. getenv supplies LABCTL_STATE and XDG_RUNTIME_DIR.
func newRootCmd(getenv func(string) string) *cobra.Command {
	var statePath string
	root := &cobra.Command{
		Use:   "labctl",
		Short: "Drive the health-check lab: run it locally, break it, repair it, deploy new server code",
		Long: `labctl drives the Well-Architected lab "Implementing health checks and managing dependencies".

Start a local lab (no AWS account needed) in one terminal:
  labctl local up --fast
then use the other verbs from a second terminal.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&statePath, "state", locallab.DefaultStatePath(getenv),
		"state file of the local lab (env LABCTL_STATE)")
	dial := func(ctx context.Context) (*locallab.Client, error) { return locallab.Dial(ctx, statePath) }

	root.AddCommand(
		newLocalCmd(&statePath, getenv),
		newStatusCmd(dial),
		newSampleCmd(dial),
		newDependencyCmd(dial),
		newFaultCmd(dial),
		newRepairCmd(dial),
		newDeployCmd(dial),
		newWatchCmd(dial),
	)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see %s --help)", c.CommandPath(), err, c.CommandPath())
	})
	return root
}

type dialer func(context.Context) (*locallab.Client, error)

func newLocalCmd(statePath *string, getenv func(string) string) *cobra.Command {
	local := &cobra.Command{Use: "local", Short: "Run the lab on this machine"}
	var (
		code, repo, bin string
		port            int
		fast            bool
	)
	up := &cobra.Command{
		Use:   "up",
		Short: "Start the local lab in the foreground (Ctrl-C stops everything)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sc, err := lab.ParseServerCode(code)
			if err != nil {
				return err
			}
			if port < 0 || port > 65535 {
				return fmt.Errorf("bad --port %d: use 1-65535, or 0 for any free port", port)
			}
			return localUp(cmd.Context(), cmd.OutOrStdout(), *statePath, locallab.Options{
				Code: sc, LBAddr: fmt.Sprintf("127.0.0.1:%d", port), Fast: fast, RepoRoot: repo, WebServerBin: bin,
			})
		},
	}
	up.Flags().StringVar(&code, "server-code", string(lab.CodeBasic), "ServerCode of the first instances: basic, errorhandling or healthcheck")
	up.Flags().IntVar(&port, "port", 8080, "load balancer port on 127.0.0.1 (0: any free port)")
	up.Flags().BoolVar(&fast, "fast", false, "1 s health-check interval, same thresholds: the whole story in about a minute")
	up.Flags().StringVar(&repo, "repo", "", "healthchecklab checkout to build the web server from (default: found from the working directory)")
	up.Flags().StringVar(&bin, "webserver-bin", getenv("LABCTL_WEBSERVER_BIN"), "use this prebuilt web server instead of building one (env LABCTL_WEBSERVER_BIN)")

	down := &cobra.Command{
		Use:   "down",
		Short: "Stop the running local lab",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := locallab.Dial(cmd.Context(), *statePath)
			if err != nil {
				return err
			}
			if err := c.Shutdown(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stopping the local lab (pid %d)\n", c.State.PID)
			return nil
		},
	}
	env := &cobra.Command{
		Use:   "env",
		Short: `Print shell lines that point the AWS CLI and SDKs at the running local lab: eval "$(labctl local env)"`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := locallab.Dial(cmd.Context(), *statePath)
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), shellEnv(c.State))
			return err
		},
	}
	local.AddCommand(up, down, env)
	return local
}

// shellEnv is what `labctl local env` prints: the lab's endpoint, its user's key pair and
// region in the variables every AWS SDK and the AWS CLI read, and the variables that would
// take precedence over them unset.
func shellEnv(st locallab.State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# local lab at %s (pid %d): AWS CLI and SDKs now use its AWS endpoint\n", st.URL, st.PID)
	for _, kv := range [][2]string{
		{"AWS_ENDPOINT_URL", st.Endpoint},
		{"AWS_ACCESS_KEY_ID", st.AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", st.SecretAccessKey},
		{"AWS_REGION", st.Region},
		{"AWS_DEFAULT_REGION", st.Region},
		{"AWS_PAGER", ""},
	} {
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	b.WriteString("unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
	for _, svc := range []string{"SSM", "DYNAMODB", "EC2", "ELASTIC_LOAD_BALANCING_V2", "AUTO_SCALING", "CLOUDFORMATION"} {
		b.WriteString(" AWS_ENDPOINT_URL_" + svc)
	}
	b.WriteString("\n")
	return b.String()
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// localUp runs the lab until ctx ends or `labctl local down` asks it to stop.
func localUp(ctx context.Context, out io.Writer, statePath string, o locallab.Options) error {
	// The state file's lock, held until this lab has stopped, keeps a second lab from
	// starting on the same state file, even one started at the same moment.
	unlock, err := locallab.LockState(statePath)
	if err != nil {
		return err
	}
	defer unlock()
	o.Progress = out
	start := time.Now()
	l, err := locallab.Start(ctx, o)
	if err != nil {
		if isAddrInUse(err) {
			return fmt.Errorf("port of %s is in use: pick another with --port", o.LBAddr)
		}
		return err
	}
	defer func() {
		fmt.Fprintln(out, "stopping the local lab")
		l.Close()
		fmt.Fprintln(out, "stopped")
	}()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	var once sync.Once
	stopc := make(chan struct{})
	token := locallab.NewToken()
	ctl := &http.Server{Handler: l.Handler(token, func() { once.Do(func() { close(stopc) }) }), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = ctl.Serve(ln) }()
	defer ctl.Close()

	pid := os.Getpid()
	if err := locallab.WriteState(statePath, locallab.State{
		PID: pid, ControlURL: "http://" + ln.Addr().String(), Token: token, URL: l.URL(),
		SSMEndpoint: l.SSMEndpoint(), Region: locallab.Region, Started: start,
		Endpoint: l.Endpoint(), AccessKeyID: l.UserCredentials().AccessKeyID, SecretAccessKey: l.UserCredentials().SecretAccessKey,
		RoleCredentials: l.RoleCredentials(),
	}); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	defer locallab.RemoveState(statePath, pid)

	fmt.Fprintf(out, "AWS endpoint at %s; control API at http://%s (state file %s); waiting for the three targets to pass their health checks\n", l.Endpoint(), ln.Addr(), statePath)
	if err := l.WaitHealthy(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	fmt.Fprintf(out, `
local lab ready in %s: %s
  ServerCode %s, %s=true, zones %s
  AWS endpoint %s (region %s): EC2, Elastic Load Balancing, Auto Scaling, CloudFormation, SSM, DynamoDB
  try:  labctl status    labctl sample -n 30    labctl watch
        curl -H 'Accept: application/json' %s/
        eval "$(labctl local env)"; aws ssm get-parameter --name %s
  Ctrl-C stops everything.

`, time.Since(start).Round(100*time.Millisecond), l.URL(), o.Code, lab.ParameterName,
		strings.Join(zoneNames(), ", "), l.Endpoint(), locallab.Region, l.URL(), lab.ParameterName)
	select {
	case <-ctx.Done():
	case <-stopc:
	}
	return nil
}

func zoneNames() []string {
	var zs []string
	for _, z := range locallab.Letters {
		zs = append(zs, locallab.ZoneName(z))
	}
	return zs
}

func newStatusCmd(dial dialer) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Targets with state, reason, zone, instance and role; ServerCode; parameter; 5xx counters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := dial(cmd.Context())
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), st)
			}
			printStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printStatus(out io.Writer, st locallab.Status) {
	hc := st.HealthCheck
	fmt.Fprintf(out, "load balancer %s   ServerCode %s   %s=%s\n", st.URL, st.ServerCode, lab.ParameterName, st.Parameter)
	fmt.Fprintf(out, "health check %s every %gs, timeout %gs, healthy %d, unhealthy %d, deregistration delay %gs\n",
		hc.Path, hc.IntervalSeconds, hc.TimeoutSeconds, hc.HealthyThreshold, hc.UnhealthyThreshold, hc.DeregistrationDelay)
	if st.Busy != "" {
		fmt.Fprintln(out, st.Busy)
	}
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ZONE\tINSTANCE\tSTATE\tREASON\tROLE\tCODE\tREQUESTS")
	for _, t := range st.Targets {
		reason := t.Reason
		if t.Description != "" && t.State == "unhealthy" {
			reason += " (" + t.Description + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", t.Zone, t.InstanceID, t.State, reason, t.Role, t.ServerCode, t.Requests)
	}
	tw.Flush()
	k := st.Counters
	fmt.Fprintf(out, "\nrequests %d   load-balancer 5xx %d (502: %d, 503: %d, 504: %d)   target 5xx %d   routed while failing open %d\n",
		k.Requests, k.ELB5xx, k.ELB502, k.ELB503, k.ELB504, k.Target5xx, k.FailOpen)
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newDependencyCmd(dial dialer) *cobra.Command {
	return &cobra.Command{
		Use:       "dependency on|off",
		Short:     "Set " + lab.ParameterName + " through the SSM API (off simulates the service's outage)",
		Args:      cobra.MatchAll(cobra.ExactArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"on", "off"},
		RunE: func(cmd *cobra.Command, args []string) error {
			value := map[string]string{"on": "true", "off": "false"}[args[0]]
			c, err := dial(cmd.Context())
			if err != nil {
				return err
			}
			version, err := setParameter(cmd.Context(), c.State, value)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s=%s (version %d); the servers read it at most every few seconds\n",
				lab.ParameterName, value, version)
			return nil
		},
	}
}

func newFaultCmd(dial dialer) *cobra.Command {
	var az string
	cmd := &cobra.Command{
		Use:       "fault stale-credentials --az c",
		Short:     "Attach the noDDB instance profile to one zone's instance (its calls to DynamoDB are denied)",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{locallab.FaultStaleCredentials},
		RunE: func(cmd *cobra.Command, args []string) error {
			if args[0] != locallab.FaultStaleCredentials {
				return fmt.Errorf("unknown fault %q: use %s", args[0], locallab.FaultStaleCredentials)
			}
			if _, err := locallab.ParseZone(az); err != nil {
				return err
			}
			c, err := dial(cmd.Context())
			if err != nil {
				return err
			}
			msg, err := c.Fault(cmd.Context(), args[0], az)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&az, "az", "", "zone letter: a, b or c")
	_ = cmd.MarkFlagRequired("az")
	return cmd
}

func newRepairCmd(dial dialer) *cobra.Command {
	var az string
	cmd := &cobra.Command{
		Use:   "repair --az c",
		Short: "Terminate one zone's instance; Auto Scaling replaces it (new id, normal role) and it goes initial → healthy",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := locallab.ParseZone(az); err != nil {
				return err
			}
			c, err := dial(cmd.Context())
			if err != nil {
				return err
			}
			return c.Repair(cmd.Context(), az, progressPrinter(cmd.OutOrStdout()))
		},
	}
	cmd.Flags().StringVar(&az, "az", "", "zone letter: a, b or c")
	_ = cmd.MarkFlagRequired("az")
	return cmd
}

func newDeployCmd(dial dialer) *cobra.Command {
	var code string
	cmd := &cobra.Command{
		Use:   "deploy --server-code X",
		Short: "Rolling replacement of all instances with a new ServerCode (roles reset), like cdk deploy -c ServerCode=X",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := lab.ParseServerCode(code); err != nil {
				return err
			}
			c, err := dial(cmd.Context())
			if err != nil {
				return err
			}
			return c.Deploy(cmd.Context(), code, progressPrinter(cmd.OutOrStdout()))
		},
	}
	cmd.Flags().StringVar(&code, "server-code", "", "basic, errorhandling or healthcheck")
	_ = cmd.MarkFlagRequired("server-code")
	return cmd
}

// progressPrinter prints each step of a long operation with the time since it started.
func progressPrinter(out io.Writer) func(locallab.Event) {
	start := time.Now()
	return func(ev locallab.Event) {
		fmt.Fprintf(out, "%6.1fs  %s\n", time.Since(start).Seconds(), ev.Message)
	}
}
