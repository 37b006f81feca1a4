package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"healthchecklab/cmd/labctl/internal/labops"
	"healthchecklab/internal/lab"
	"healthchecklab/internal/labclient"
	"healthchecklab/internal/locallab"
	"healthchecklab/internal/repo"
)

// asLabctl makes the test binary act as labctl when the README's shell blocks call it.
const asLabctl = "LABCTL_TEST_AS_LABCTL"

// labTestsAtOnce is how many of this package's parallel tests run at once by default: every
// real-lab and in-process lab test.
const labTestsAtOnce = 10

func TestMain(m *testing.M) {
	if os.Getenv(asLabctl) == "1" {
		os.Exit(runWithSignals(os.Args[1:], os.Stdout, os.Stderr, os.Getenv))
	}
	// The lab tests spend most of their time waiting on their labs (a health check a second,
	// processes starting), so more of them run at once than go test's default -parallel, the
	// number of CPUs. An explicit -parallel still decides.
	flag.Parse()
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "test.parallel" })
	if !given {
		if err := flag.Set("test.parallel", strconv.Itoa(max(runtime.GOMAXPROCS(0), labTestsAtOnce))); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}

// walkthroughBlock matches a README shell block marked <!-- walkthrough: NAME -->.
var walkthroughBlock = regexp.MustCompile("(?m)^([ \t]*)<!-- walkthrough: ([a-z-]+) -->\n[ \t]*```sh\n((?:.*\n)*?)[ \t]*```")

// readmeBlocks returns the README's marked shell blocks by name, unindented.
func readmeBlocks(t *testing.T, root string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{}
	for _, m := range walkthroughBlock.FindAllStringSubmatch(string(b), -1) {
		indent, name, body := m[1], m[2], m[3]
		var lines []string
		for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
			lines = append(lines, strings.TrimPrefix(l, indent))
		}
		if _, dup := blocks[name]; dup {
			t.Fatalf("README: two walkthrough blocks named %s", name)
		}
		blocks[name] = strings.Join(lines, "\n")
	}
	return blocks
}

// readmeShell runs the README's walkthrough blocks with the real AWS CLI against a local
// lab, as a reader's shell would after its local-env and helpers blocks: labctl on the PATH
// and as ./labctl (the test binary), no AWS configuration of the machine's own.
type readmeShell struct {
	t      *testing.T
	blocks map[string]string
	dir    string
	env    []string
}

// newREADMEShell prepares the shell for the lab whose state file is state, with the AWS CLI
// at aws. It fails the test when the README lacks one of the named blocks.
func newREADMEShell(t *testing.T, state, aws string, need ...string) *readmeShell {
	t.Helper()
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	blocks := readmeBlocks(t, root)
	for _, name := range append([]string{"local-env", "helpers"}, need...) {
		if blocks[name] == "" {
			t.Fatalf("README has no walkthrough block %q", name)
		}
	}
	dir := t.TempDir()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(dir, "labctl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(aws, filepath.Join(dir, "aws")); err != nil {
		t.Fatal(err)
	}
	return &readmeShell{t: t, blocks: blocks, dir: dir, env: []string{
		"PATH=" + dir + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + dir, asLabctl + "=1",
		"LABCTL_STATE=" + state, "AWS_CONFIG_FILE=" + os.DevNull, "AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_PROFILE=production", "AWS_SESSION_TOKEN=left-over", // local env must clear these
	}}
}

// script runs the setup blocks, then lines, under set -e, and returns the trimmed output.
func (s *readmeShell) script(lines ...string) string {
	s.t.Helper()
	cmd := exec.Command("bash", "-c", strings.Join(append([]string{"set -e", s.blocks["local-env"], s.blocks["helpers"]}, lines...), "\n"))
	cmd.Dir, cmd.Env = s.dir, s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("shell %q: %v\n%s", lines, err, out)
	}
	return strings.TrimSpace(string(out))
}

// steps runs the README's blocks of those names.
func (s *readmeShell) steps(names ...string) string {
	s.t.Helper()
	var lines []string
	for _, n := range names {
		lines = append(lines, s.blocks[n])
	}
	return s.script(lines...)
}

// command is a command line to run later, after the setup blocks.
func (s *readmeShell) command(line string) func() string {
	return func() string { s.t.Helper(); return s.script(line) }
}

// needAWSCLI is the AWS CLI's path; without it the test is skipped.
func needAWSCLI(t *testing.T) string {
	t.Helper()
	aws := awsCLI(t)
	if aws == "" {
		t.Skip("the AWS CLI (`aws`) is not installed: this test runs the README's commands with it (pip install awscli)")
	}
	return aws
}

// TestREADMEWalkthroughOnLocalLab runs the README's AWS walkthrough commands, as written,
// with the real AWS CLI against a local lab (ServerCode healthcheck, the lab's last stage),
// after `eval "$(./labctl local env)"`, and checks what the README says to look for.
// TestAWSCLIBeyondREADMEOnLocalLab covers the rest of what the CLI reaches, on a lab of its own.
func TestREADMEWalkthroughOnLocalLab(t *testing.T) {
	aws := needAWSCLI(t)
	labTest(t)
	state := startLab(t, labOptions{code: "healthcheck"}).state
	sh := newREADMEShell(t, state, aws, "dependency-off", "dependency-on", "swap", "terminate", "fail-open", "lever-back")
	st, err := labclient.ReadState(state)
	if err != nil {
		t.Fatal(err)
	}
	// The quick start's address comes from labctl, and status names the lab it read.
	if u := strings.TrimSpace(mustLabctl(t, state, "local", "url")); u != st.URL {
		t.Errorf("labctl local url = %q, want %s", u, st.URL)
	}
	raw := mustLabctl(t, state, "status")
	if out := strings.Join(strings.Fields(raw), " "); !strings.Contains(out, "state file "+state) ||
		!strings.Contains(out, fmt.Sprintf("pid %d", st.PID)) || !strings.HasSuffix(raw, "\n") {
		t.Errorf("status does not name the lab (state file %s, pid %d) or does not end its last line:\n%q", state, st.PID, raw)
	}
	if id := status(t, state).Lab; id == nil || id.StateFile != state || id.PID != st.PID || !id.Started.Equal(st.Started) {
		t.Errorf("status --json lab = %+v, want state file %s, pid %d, started %s", id, state, st.PID, st.Started)
	}

	parameter := sh.command("aws ssm get-parameter --name RecommendationServiceEnabled --query Parameter.Value --output text")
	zoneC := sh.command("zone_c_instance")
	health := func() map[string]string { return healthTable(t, sh.command("health")()) }
	// Waiting is done with labctl's status, in-process; each wait ends by running the README's
	// own command once the lab is there, and checking what it shows. (Polling with the AWS
	// CLI costs a Python start-up per call, several per poll.)
	eventuallyHealth := func(what string, ok func(map[string]string) bool) {
		t.Helper()
		eventually(t, what, func() (bool, string) { h := statusHealth(status(t, state)); return ok(h), fmt.Sprint(h) })
		eventually(t, what+", as the README's health shows it", func() (bool, string) { h := health(); return ok(h), fmt.Sprint(h) })
	}

	if got := sh.command("out WebsiteURL")(); got != st.URL {
		t.Fatalf("out WebsiteURL = %q, want the local load balancer %s", got, st.URL)
	}
	if h := health(); len(h) != 3 || !allStates(h, "healthy") {
		t.Fatalf("health: %v, want three healthy", h)
	}

	// Steps 2 and 4: the parameter flips.
	sh.steps("dependency-off")
	if v := parameter(); v != "false" {
		t.Fatalf("after step 2's put-parameter: %q", v)
	}
	sh.steps("dependency-on")
	if v := status(t, state).Parameter; v != "true" {
		t.Fatalf("after step 4's put-parameter: %q", v)
	}
	eventuallyHealth("three healthy again after step 4", func(h map[string]string) bool { return len(h) == 3 && allStates(h, "healthy") })

	// Step 7 (step 5's swap with the deep check): zone c unhealthy, Target.ResponseCodeMismatch.
	old := zoneC()
	if !strings.HasPrefix(old, "i-0") || strings.ContainsAny(old, " \t") {
		t.Fatalf("zone_c_instance = %q, want one instance id", old)
	}
	sh.steps("swap")
	eventuallyHealth("zone c unhealthy after the swap", func(h map[string]string) bool {
		others := 0
		for id, s := range h {
			if id != old && s == "healthy None" {
				others++
			}
		}
		return h[old] == "unhealthy Target.ResponseCodeMismatch" && others == 2
	})

	// Step 8: terminate; a new instance in zone c turns healthy, as zone_c_instance and
	// health show it.
	sh.steps("terminate")
	now := healthyInZoneC(t, state, old)
	eventually(t, "the new instance in zone c, as the README's zone_c_instance and health show it", func() (bool, string) {
		c, h := zoneC(), health()
		return c == now && h[now] == "healthy None", fmt.Sprintf("zone c %q, health %v", c, h)
	})

	// Step 9: fail open, all three unhealthy; step 10: back to healthy.
	sh.steps("fail-open")
	if v := status(t, state).Parameter; v != "false" {
		t.Fatalf("after step 9: %q", v)
	}
	eventuallyHealth("all three unhealthy (503)", func(h map[string]string) bool {
		return len(h) == 3 && allStates(h, "unhealthy Target.ResponseCodeMismatch")
	})
	sh.steps("lever-back")
	if v := status(t, state).Parameter; v != "true" {
		t.Fatalf("after step 10: %q", v)
	}
	eventuallyHealth("three healthy after step 10", func(h map[string]string) bool { return len(h) == 3 && allStates(h, "healthy") })
}

// TestAWSCLIBeyondREADMEOnLocalLab: beyond the README's steps, with the real AWS CLI and
// the README's helpers on a lab of its own, the stack's other outputs, Auto Scaling's own
// termination, and what the instance roles may not do, with the role key pairs the state
// file holds.
func TestAWSCLIBeyondREADMEOnLocalLab(t *testing.T) {
	aws := needAWSCLI(t)
	labTest(t)
	state := startLab(t, labOptions{code: "healthcheck"}).state
	sh := newREADMEShell(t, state, aws)
	st, err := labclient.ReadState(state)
	if err != nil {
		t.Fatal(err)
	}
	outputs := sh.command(`aws cloudformation describe-stacks --stack-name HealthCheckLab --query 'Stacks[0].[StackStatus,StackId]' --output text`)()
	if !strings.HasPrefix(outputs, "CREATE_COMPLETE\tarn:aws:cloudformation:local-1:"+locallab.AccountID+":stack/HealthCheckLab/") {
		t.Errorf("HealthCheckLab stack: %q", outputs)
	}
	given := map[string]string{}
	for _, line := range strings.Split(sh.command(`aws cloudformation describe-stacks --stack-name HealthCheckLab --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text`)(), "\n") {
		if k, v, ok := strings.Cut(line, "\t"); ok {
			given[k] = v
		}
	}
	for _, key := range []string{lab.OutputHealthCheckURL, lab.OutputTargetGroupArn, lab.OutputAutoScalingGroupName, lab.OutputParameterName,
		lab.OutputNoDDBProfileName, lab.OutputInstanceProfileName, lab.OutputTableName} {
		if v := given[key]; v == "" || v == "None" {
			t.Errorf("output %s missing: %v", key, given)
		}
	}
	before := zoneTarget(status(t, state), "c").InstanceID
	if code := sh.command(`aws autoscaling terminate-instance-in-auto-scaling-group --instance-id "$(zone_c_instance)" --no-should-decrement-desired-capacity --query Activity.StatusCode --output text`)(); code == "" {
		t.Errorf("terminate-instance-in-auto-scaling-group answered no activity status")
	}
	now := healthyInZoneC(t, state, before)
	if c := sh.command("zone_c_instance")(); c != now {
		t.Errorf("zone_c_instance after Auto Scaling's replacement = %q, want %s", c, now)
	}
	noDDB := st.RoleCredentials[lab.NoDDBRoleName(lab.DefaultNamingPrefix)]
	asRole := fmt.Sprintf("AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_SESSION_TOKEN=%s ", noDDB.AccessKeyID, noDDB.SecretAccessKey, noDDB.SessionToken)
	for call, want := range map[string]string{
		`aws dynamodb get-item --table-name "$(out TableName)" --key '{"ServiceAPI":{"S":"getRecommendation"},"UserID":{"N":"1"}}'`: "AccessDeniedException",
		`aws ec2 describe-instances`: "UnauthorizedOperation",
		`aws elbv2 describe-target-health --target-group-arn "$(out TargetGroupArn)"`:         "AccessDenied",
		`aws ssm put-parameter --name RecommendationServiceEnabled --value false --overwrite`: "AccessDeniedException",
	} {
		out := sh.command(asRole + call + " 2>&1 || true")()
		if !strings.Contains(out, "("+want+")") || !strings.Contains(out, "assumed-role/"+lab.NoDDBRoleName(lab.DefaultNamingPrefix)+"/") {
			t.Errorf("%s as the noDDB role: %s, want %s", call, out, want)
		}
	}
	if v := sh.command(asRole + "aws ssm get-parameter --name RecommendationServiceEnabled --query Parameter.Value --output text")(); v != "true" {
		t.Errorf("noDDB role GetParameter: %q", v)
	}
}

// healthyInZoneC waits until zone c has a healthy instance other than old, as labctl's
// status shows it, and returns its id.
func healthyInZoneC(t *testing.T, state, old string) string {
	t.Helper()
	var now string
	eventually(t, "a new instance in zone c, healthy", func() (bool, string) {
		c := zoneTarget(status(t, state), "c")
		now = c.InstanceID
		return c.InstanceID != "" && c.InstanceID != old && c.State == "healthy", fmt.Sprintf("zone c: %+v", c)
	})
	return now
}

// healthTable parses the README's `health` table: instance id → "state reason".
func healthTable(t *testing.T, out string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		cells := strings.Split(strings.Trim(strings.TrimSpace(line), "|"), "|")
		if len(cells) != 3 || !strings.HasPrefix(strings.TrimSpace(cells[0]), "i-") {
			continue
		}
		rows[strings.TrimSpace(cells[0])] = strings.TrimSpace(cells[1]) + " " + strings.TrimSpace(cells[2])
	}
	return rows
}

// allStates reports whether every row starts with state (or equals "state reason").
func allStates(h map[string]string, want string) bool {
	for _, s := range h {
		if s != want && !strings.HasPrefix(s, want+" ") {
			return false
		}
	}
	return len(h) > 0
}

// statusHealth is what the README's health table would show, from labctl's status: every
// target the target group has registered, instance id → "state reason" ("None" without one).
func statusHealth(st labops.Status) map[string]string {
	rows := map[string]string{}
	for _, tg := range st.Targets {
		if tg.State == "" || tg.State == "unused" {
			continue
		}
		reason := tg.Reason
		if reason == "" {
			reason = "None"
		}
		rows[tg.InstanceID] = tg.State + " " + reason
	}
	return rows
}
