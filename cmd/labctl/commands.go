package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/cmd/labctl/internal/target"
	"healthchecklab/cmd/labctl/internal/view"
	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/config"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/locallab"
	"healthchecklab/internal/nodeversion"
)

// newRootCmd builds the command tree. getenv supplies LABCTL_STATE, LABCTL_TARGET and
// XDG_RUNTIME_DIR; the AWS SDK reads its own standard variables.
func newRootCmd(getenv func(string) string) *cobra.Command {
	g := &globals{getenv: getenv}
	root := &cobra.Command{
		Use:   "labctl",
		Short: "Drive the health-check lab on AWS or locally: break it, repair it, deploy new server code",
		Long: `labctl drives the Well-Architected lab "Implementing health checks and managing dependencies",
through the AWS SDK: the same calls reach a deployed HealthCheckLab stack (--target aws, with
your standard AWS configuration) or the local lab's AWS endpoint (--target local).

Start a local lab (no AWS account needed) in one terminal:
  labctl local up --fast
then use the other verbs from a second terminal. Drive a deployed stack with:
  labctl --target aws status`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	pf := root.PersistentFlags()
	pf.StringVar(&g.state, "state", labclient.DefaultStatePath(getenv), "state file of the local lab (env LABCTL_STATE)")
	pf.StringVar(&g.target, "target", "", "aws (the stack in your AWS account, standard AWS configuration) or local (default when a local lab runs; env "+target.EnvVar+")")
	pf.StringVar(&g.stack, "stack", lab.ServiceStackName, "name of the lab's CloudFormation stack")

	root.AddCommand(
		newLocalCmd(&g.state, getenv),
		newStatusCmd(g),
		newSampleCmd(g),
		newDependencyCmd(g),
		newFaultCmd(g),
		newRepairCmd(g),
		newDeployCmd(g),
		newWatchCmd(g),
		newResetCmd(g),
		newTourCmd(g),
	)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%s: %w (see %s --help)", c.CommandPath(), err, c.CommandPath())
	})
	return root
}

// globals are the flags every verb shares.
type globals struct {
	state, target, stack string
	getenv               func(string) string
}

// open resolves the target, finds the stack on it and prints the verb's first line, what
// it acts on (to stderr when stdout carries JSON).
func (g *globals) open(cmd *cobra.Command, asJSON bool) (*labops.Lab, error) {
	return g.openWith(cmd, asJSON, labops.Open)
}

// openWith is open with another way to open the stack (labops.OpenForDeploy).
func (g *globals) openWith(cmd *cobra.Command, asJSON bool, openStack func(context.Context, *target.Where) (*labops.Lab, error)) (*labops.Lab, error) {
	ctx := cmd.Context()
	stackFlag := cmd.Flag("stack")
	t, err := target.Resolve(ctx, target.Options{Flag: g.target, Env: g.getenv(target.EnvVar), Stack: g.stack,
		StackGiven: stackFlag != nil && stackFlag.Changed, StatePath: g.state})
	if err != nil {
		return nil, err
	}
	l, err := openStack(ctx, t)
	if err != nil {
		return nil, err
	}
	w := cmd.OutOrStdout()
	if asJSON {
		w = cmd.ErrOrStderr()
	}
	fmt.Fprintln(w, l.Describe())
	return l, nil
}

func newLocalCmd(statePath *string, getenv func(string) string) *cobra.Command {
	local := &cobra.Command{Use: "local", Short: "Run the lab on this machine"}
	var (
		code, repo, bin, labID string
		port                   int
		fast                   bool
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
			if err := checkLabID(labID); err != nil {
				return err
			}
			return localUp(cmd.Context(), cmd.OutOrStdout(), *statePath, labID, locallab.Options{
				Code: sc, LBAddr: fmt.Sprintf("127.0.0.1:%d", port), Fast: fast, RepoRoot: repo, WebServerBin: bin, LabID: labID,
			})
		},
	}
	up.Flags().StringVar(&code, "server-code", string(lab.CodeBasic), "ServerCode of the first instances: basic, errorhandling or healthcheck")
	up.Flags().IntVar(&port, "port", defaultPort, "load balancer port on 127.0.0.1 (0: any free port; labctl local url prints it)")
	up.Flags().BoolVar(&fast, "fast", false, "1 s health-check interval, same thresholds: the whole story in about a minute")
	up.Flags().StringVar(&repo, "repo", "", "healthchecklab checkout to build the web server from (default: found from the working directory)")
	up.Flags().StringVar(&labID, "lab-id", "", "name the stacks, the parameter and the roles as `cdk deploy -c LabId=<id>` does; status shows it (the other verbs find the names through the state file)")
	up.Flags().StringVar(&bin, "webserver-bin", getenv("LABCTL_WEBSERVER_BIN"), "use this prebuilt web server instead of building one (env LABCTL_WEBSERVER_BIN)")

	down := &cobra.Command{
		Use:   "down",
		Short: "Stop the running local lab",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := labclient.Dial(cmd.Context(), *statePath)
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
			c, err := labclient.Dial(cmd.Context(), *statePath)
			if err != nil {
				return err
			}
			_, err = io.WriteString(cmd.OutOrStdout(), shellEnv(c.State))
			return err
		},
	}
	url := &cobra.Command{
		Use:   "url",
		Short: `Print the running local lab's web site address (its load balancer): curl "$(labctl local url)/"`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := labclient.Dial(cmd.Context(), *statePath)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), c.State.URL)
			return err
		},
	}
	local.AddCommand(up, down, env, url)
	return local
}

// defaultPort is the local load balancer's port unless --port says otherwise.
const defaultPort = 8080

// checkLabID accepts an empty LabId or one of 1 to 32 letters, digits and hyphens, which fits
// in a line of status and in any AWS resource name a stack would build from it.
func checkLabID(id string) error {
	if id == "" {
		return nil
	}
	// The CDK app's rule (internal/config), so a local copy is named as its AWS copy would be.
	_, err := config.Read(func(key string) any {
		if key == config.KeyLabID {
			return id
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bad --lab-id %q: %s", id, strings.TrimPrefix(err.Error(), "invalid context: "))
	}
	return nil
}

// portTaken says that the load balancer's address is held by another program, and what to
// run instead.
func portTaken(addr string) error {
	return fmt.Errorf("%s is in use by another program (another lab?): start with another port, "+
		"e.g. labctl local up --port 8081, or --port 0 for any free one (labctl local url prints it)", addr)
}

// shellEnv is what `labctl local env` prints: the lab's endpoint, its user's key pair and
// region in the variables every AWS SDK and the AWS CLI read, and the variables that would
// take precedence over them unset.
func shellEnv(st labclient.State) string {
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
func localUp(ctx context.Context, out io.Writer, statePath, labID string, o locallab.Options) error {
	// The state file's lock, held until this lab has stopped, keeps a second lab from
	// starting on the same state file, even one started at the same moment.
	unlock, err := labclient.LockState(statePath)
	if err != nil {
		return err
	}
	defer unlock()
	// A port held by another program is said at once, before the web server is built and
	// the stand-ins start; Start's own bind still catches a port taken in between.
	if _, port, _ := net.SplitHostPort(o.LBAddr); port != "0" {
		ln, err := net.Listen("tcp", o.LBAddr)
		if err != nil {
			if isAddrInUse(err) {
				return portTaken(o.LBAddr)
			}
			return fmt.Errorf("load balancer address %s: %w", o.LBAddr, err)
		}
		ln.Close()
	}
	// dynalite runs on Node.js: say at once when it is missing or too old, and when it
	// works but has reached its end of life.
	note, err := nodeversion.Detect(ctx, "")
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(out, note)
	}
	o.Progress = out
	start := time.Now()
	l, err := locallab.Start(ctx, o)
	if err != nil {
		if isAddrInUse(err) {
			return portTaken(o.LBAddr)
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
	token := labclient.NewToken()
	ctl := &http.Server{Handler: l.Handler(token, func() { once.Do(func() { close(stopc) }) }), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = ctl.Serve(ln) }()
	defer ctl.Close()

	pid := os.Getpid()
	if err := labclient.WriteState(statePath, labclient.State{
		PID: pid, ControlURL: "http://" + ln.Addr().String(), Token: token, URL: l.URL(), Stack: l.StackName(),
		SSMEndpoint: l.SSMEndpoint(), Region: locallab.Region, Started: start,
		Endpoint: l.Endpoint(), AccessKeyID: l.UserCredentials().AccessKeyID, SecretAccessKey: l.UserCredentials().SecretAccessKey,
		RoleCredentials: l.RoleCredentials(), LabID: labID,
	}); err != nil {
		return fmt.Errorf("write state file: %w", err)
	}
	defer labclient.RemoveState(statePath, pid)

	fmt.Fprintf(out, "AWS endpoint at %s; control API at http://%s (state file %s); waiting for the three targets to pass their health checks\n", l.Endpoint(), ln.Addr(), statePath)
	if err := l.WaitHealthy(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	name := ""
	if labID != "" {
		name = " (LabId " + labID + ")"
	}
	fmt.Fprintf(out, `
local lab ready in %s: %s%s
  ServerCode %s, %s=true, zones %s
  AWS endpoint %s (region %s): EC2, Elastic Load Balancing, Auto Scaling, CloudFormation, SSM, DynamoDB
  try:  labctl status    labctl sample -n 30    labctl watch
        curl -H 'Accept: application/json' %s/
        eval "$(labctl local env)"; aws ssm get-parameter --name %s
  Ctrl-C stops everything.

`, time.Since(start).Round(100*time.Millisecond), l.URL(), name, o.Code, l.ParameterName(),
		strings.Join(zoneNames(), ", "), l.Endpoint(), locallab.Region, l.URL(), l.ParameterName())
	select {
	case <-ctx.Done():
	case <-stopc:
	}
	return nil
}

func zoneNames() []string {
	var zs []string
	for _, z := range region.Letters {
		zs = append(zs, region.ZoneName(z))
	}
	return zs
}

func newStatusCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Targets with state, reason, zone, instance, role and ServerCode; the parameter; on the local lab its 5xx counters",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.open(cmd, asJSON)
			if err != nil {
				return err
			}
			st, err := l.Status(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), st)
			}
			if st.Lab != nil {
				view.Wrap(cmd.OutOrStdout(), labLine(*st.Lab, time.Now()), view.Width, "  ")
			}
			printStatus(cmd.OutOrStdout(), st, view.StyleFor(cmd.OutOrStdout(), g.getenv))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func writeJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newSampleCmd(g *globals) *cobra.Command {
	var (
		n      int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "sample [-n 30]",
		Short: "Send n requests to the web site; per zone: status codes, personalized vs static, the shows",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 || n > 10000 {
				return fmt.Errorf("bad -n %d: a sample is 1 to 10000 requests, e.g. labctl sample -n 30", n)
			}
			l, err := g.open(cmd, asJSON)
			if err != nil {
				return err
			}
			s, err := l.Sample(cmd.Context(), n)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), s)
			}
			printSample(cmd.OutOrStdout(), s, view.StyleFor(cmd.OutOrStdout(), g.getenv))
			return nil
		},
	}
	cmd.Flags().IntVarP(&n, "n", "n", 30, "number of requests")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newDependencyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:       "dependency on|off",
		Short:     "Set the stack's " + lab.ParameterName + " parameter (off simulates the service's outage)",
		Args:      oneOf("dependency takes on or off: labctl dependency on|off", "on", "off"),
		ValidArgs: []string{"on", "off"},
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := g.open(cmd, false)
			if err != nil {
				return err
			}
			on := args[0] == "on"
			version, err := l.SetDependency(cmd.Context(), on)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s=%t (version %d); the servers read it at most every few seconds\n",
				l.Output(lab.OutputParameterName), on, version)
			return nil
		},
	}
}

// FaultStaleCredentials is the fault labctl injects itself; the others, and this one too,
// run as the stack's AWS FIS experiments with --via fis.
const FaultStaleCredentials = lab.FaultStaleCredentials

// fisFaultHelp says what each of the stack's FIS experiments does, one line per fault of
// labops.FISFaults (a test keeps the two in step).
var fisFaultHelp = map[string]string{
	lab.FaultDependencyLoss:   "the zone-c subnet cannot reach DynamoDB",
	lab.FaultDependencyOutage: "the " + lab.ParameterName + " parameter is false",
	lab.FaultInstanceLoss:     "the zone-c instance is terminated (Auto Scaling replaces it)",
	lab.FaultStaleCredentials: "the zone-c instance runs with the noDDB instance profile",
	lab.FaultZonePower: "zone c loses power: its instances stop, the group cannot launch there, its subnets lose all " +
		"traffic",
}

// fisFaultLines is the help's list of the FIS faults, one indented line each.
func fisFaultLines() string {
	var b strings.Builder
	for _, name := range labops.FISFaults() {
		fmt.Fprintf(&b, "  %-18s %s\n", name, fisFaultHelp[name])
	}
	return b.String()
}

func newFaultCmd(g *globals) *cobra.Command {
	var (
		az, via  string
		timeout  time.Duration
		duration time.Duration
	)
	cmd := &cobra.Command{
		Use:   "fault stale-credentials --az c | fault zone-power --az c [--duration 5m] | fault NAME --via fis",
		Short: "Attach the noDDB instance profile to one zone's instance, cut a zone's power, or run one of the stack's FIS experiments",
		Long: "fault stale-credentials --az c attaches the noDDB instance profile to that zone's instance (its calls to\n" +
			"DynamoDB are denied) until a deploy or repair replaces it.\n\n" +
			"fault zone-power --az c --duration D (local lab) cuts the zone's power for D: its instance stops, launches\n" +
			"there fail with InsufficientInstanceCapacity, Auto Scaling replaces it in the other zones, and when D has\n" +
			"passed the group rebalances into the zone. On AWS it is the stack's FIS experiment (--via fis).\n\n" +
			"fault NAME --via fis (--target aws, stack deployed with -c FaultInjection=true) starts the stack's AWS FIS\n" +
			"experiment for NAME on zone c and follows it to its end; the experiment undoes its fault itself after " +
			lab.FaultDuration.String() + ".\nNAME is one of:\n" + fisFaultLines(),
		Args:      faultArgs,
		ValidArgs: labops.FISFaults(),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch via {
			case "":
				if args[0] == lab.FaultZonePower {
					if az == "" {
						return fmt.Errorf("fault %s needs the zone: labctl fault %s --az c --duration %s", lab.FaultZonePower, lab.FaultZonePower, lab.FaultDuration)
					}
					if _, err := labclient.ValidZonePower(az, duration); err != nil {
						return err
					}
					break
				}
				if args[0] != FaultStaleCredentials {
					return faultWithoutFIS(args[0])
				}
				if az == "" {
					return fmt.Errorf("fault %s needs the zone: labctl fault %s --az c (a, b or c)", FaultStaleCredentials, FaultStaleCredentials)
				}
			case "fis":
				if _, ok := lab.FaultExperimentOutputs[args[0]]; !ok {
					return fmt.Errorf("unknown fault %q for --via fis: the stack's experiments are %s, e.g. labctl --target aws fault %s --via fis",
						args[0], strings.Join(labops.FISFaults(), ", "), lab.FaultDependencyLoss)
				}
				if a := strings.ToLower(strings.TrimSpace(az)); a != "" && a != "c" {
					return fmt.Errorf("the FIS experiments target zone c (the stack's third zone), not %q: leave out --az or use --az c", az)
				}
				if timeout <= 0 {
					return fmt.Errorf("bad --timeout %s: use a positive duration such as 15m", timeout)
				}
			default:
				return fmt.Errorf("unknown --via %q: the only way besides labctl's own is fis (AWS Fault Injection Service): labctl --target aws fault %s --via fis", via, args[0])
			}
			l, err := g.open(cmd, false)
			if err != nil {
				return err
			}
			if via == "fis" {
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				token := fmt.Sprintf("labctl-%s-%d", args[0], time.Now().UnixNano())
				_, err := l.FaultViaFIS(ctx, args[0], token, lineWriter(cmd.OutOrStdout()))
				return err
			}
			if args[0] == lab.FaultZonePower {
				msg, err := l.ZonePower(cmd.Context(), az, duration)
				if err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), msg)
				return nil
			}
			msg, err := l.StaleCredentials(cmd.Context(), az)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), msg)
			return nil
		},
	}
	cmd.Flags().StringVar(&az, "az", "", "zone letter (a, b, c: the group's zones in name order) or zone name")
	cmd.Flags().StringVar(&via, "via", "", "fis: run the stack's AWS FIS experiment instead (--target aws)")
	cmd.Flags().DurationVar(&timeout, "timeout", labops.DefaultTimeout, "with --via fis: stop following the experiment after this long")
	cmd.Flags().DurationVar(&duration, "duration", lab.FaultDuration, "zone-power on the local lab: how long the zone stays without power")
	return cmd
}

func newRepairCmd(g *globals) *cobra.Command {
	var (
		az      string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "repair --az c",
		Short: "Terminate one zone's instance through Auto Scaling and wait until its replacement is a healthy target",
		Args:  flagInstead("repair", "--az", "labctl repair --az %s"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if az == "" {
				return errors.New("which zone? labctl repair --az a, b or c")
			}
			if timeout <= 0 {
				return fmt.Errorf("bad --timeout %s: use a positive duration such as 15m", timeout)
			}
			l, err := g.open(cmd, false)
			if err != nil {
				return err
			}
			return l.Repair(cmd.Context(), az, timeout, lineWriter(cmd.OutOrStdout()))
		},
	}
	cmd.Flags().StringVar(&az, "az", "", "zone letter (a, b, c: the group's zones in name order) or zone name")
	cmd.Flags().DurationVar(&timeout, "timeout", labops.DefaultTimeout, "give up waiting after this long")
	return cmd
}

func newDeployCmd(g *globals) *cobra.Command {
	var code, hc string
	cmd := &cobra.Command{
		Use: "deploy --server-code X [--asg-health-check EC2|ELB]",
		Short: "Replace all instances with a new ServerCode: on AWS `npx cdk deploy " + lab.ServiceStackName +
			" -c ServerCode=X [-c AsgHealthCheck=ELB]`, locally the lab's rolling replacement",
		Args: flagInstead("deploy", "--server-code", "labctl deploy --server-code %s"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if code == "" {
				return errors.New("which ServerCode? labctl deploy --server-code basic, errorhandling or healthcheck")
			}
			sc, err := lab.ParseServerCode(code)
			if err != nil {
				return err
			}
			typ, err := lab.ParseAsgHealthCheck(strings.ToUpper(hc))
			if err != nil {
				return err
			}
			l, err := g.openWith(cmd, false, labops.OpenForDeploy)
			if err != nil {
				return err
			}
			return l.DeployWith(cmd.Context(), sc, typ, lineWriter(cmd.OutOrStdout()))
		},
	}
	cmd.Flags().StringVar(&code, "server-code", "", "basic, errorhandling or healthcheck")
	cmd.Flags().StringVar(&hc, "asg-health-check", string(lab.AsgHealthCheckEC2),
		"the Auto Scaling group's health check type: EC2 (the lab's choice) or ELB (replaces instances whose target is unhealthy; chapter 11)")
	return cmd
}

// faultWithoutFIS explains a fault name given without --via: one of the stack's FIS
// experiments (which only FIS injects), or a name that is no fault at all.
func faultWithoutFIS(name string) error {
	if _, ok := lab.FaultExperimentOutputs[name]; ok {
		return fmt.Errorf("fault %s runs only as the stack's AWS FIS experiment: labctl --target aws fault %s --via fis "+
			"(stack deployed with -c FaultInjection=true); labctl itself injects only %s --az c", name, name, FaultStaleCredentials)
	}
	return fmt.Errorf("unknown fault %q: labctl injects %s (labctl fault %s --az c); the stack's AWS FIS experiments, "+
		"with --via fis, are %s", name, FaultStaleCredentials, FaultStaleCredentials, strings.Join(labops.FISFaults(), ", "))
}

// lineWriter prints each progress line of a long operation.
func lineWriter(out io.Writer) labops.Progress {
	return func(msg string) { fmt.Fprintln(out, msg) }
}

// oneOf accepts exactly one argument among valid; otherwise the error is usage, plus what
// was given.
func oneOf(usage string, valid ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) == 1 && slices.Contains(valid, args[0]) {
			return nil
		}
		if len(args) == 0 {
			return errors.New(usage)
		}
		return fmt.Errorf("%s (not %q)", usage, strings.Join(args, " "))
	}
}

// flagInstead refuses positional arguments to a verb that takes its value as flag, with
// the command line that does what was meant (example has one %s for the argument).
func flagInstead(verb, flag, example string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		if cmd.Flags().Changed(strings.TrimPrefix(flag, "--")) {
			// The flag is there already: the words left over are just extra.
			return fmt.Errorf("%s takes no argument besides %s: remove %q", verb, flag, strings.Join(args, " "))
		}
		return fmt.Errorf("%s takes %s, not an argument: %s", verb, flag, fmt.Sprintf(example, strings.Join(args, " ")))
	}
}

// faultArgs wants the fault's name; a zone given as a second argument gets the --az line.
func faultArgs(_ *cobra.Command, args []string) error {
	switch len(args) {
	case 0:
		return errors.New("which fault? labctl fault " + FaultStaleCredentials + " --az c, or labctl fault NAME --via fis")
	case 1:
		return nil
	}
	return fmt.Errorf("fault takes the zone as --az, not an argument: labctl fault %s --az %s", args[0], strings.Join(args[1:], " "))
}
