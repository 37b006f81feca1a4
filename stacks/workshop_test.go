package stacks

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"healthchecklab/internal/lab"
	"healthchecklab/internal/workshop"
)

// The workshop package, as `make workshop` writes it (bundling on: the web server binary is
// one of its assets), built once and shared by the checks below and cfn-lint.
var (
	packageOnce sync.Once
	pkg         *workshop.Package
	packageErr  error
)

func workshopPackage(t *testing.T) *workshop.Package {
	t.Helper()
	packageOnce.Do(func() {
		app := newTestApp(t, nil, true)
		w, err := NewWorkshop(app)
		if err != nil {
			packageErr = err
			return
		}
		asm := app.Synth(nil)
		out, err := os.MkdirTemp(testOutdir, "workshop-")
		if err != nil {
			packageErr = err
			return
		}
		pkg, packageErr = workshop.Write(*asm.Directory(), *w.Root.StackName(), filepath.Join(out, "package"))
	})
	if packageErr != nil {
		t.Fatal(packageErr)
	}
	return pkg
}

// packagedTemplates are the entry template and the nested templates among the assets.
func packagedTemplates(t *testing.T, p *workshop.Package) map[string][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(p.Dir, workshop.StaticDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	nested, _ := filepath.Glob(filepath.Join(p.Dir, workshop.AssetsDir, "*.json"))
	out := map[string][]byte{}
	for _, f := range append(files, nested...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(p.Dir, f)
		out[filepath.ToSlash(rel)] = b
	}
	if len(out) != 3 {
		t.Fatalf("package templates: %v, want the entry and two nested templates", keys(out))
	}
	return out
}

func keys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// TestWorkshopAssetsAreInThePackage checks that every asset key a packaged template refers to
// is a file under assets/, that nothing there goes unreferenced, and that the assets are the
// lab's: two nested templates, the Linux web server binary and the two functions' code.
func TestWorkshopAssetsAreInThePackage(t *testing.T) {
	p := workshopPackage(t)
	referenced := map[string]bool{}
	for name, tmpl := range packagedTemplates(t, p) {
		refs := workshop.ReferencedKeys(tmpl)
		if len(refs) == 0 {
			t.Errorf("%s refers to no asset", name)
		}
		for _, k := range refs {
			referenced[k] = true
			if _, err := os.Stat(filepath.Join(p.Dir, workshop.AssetsDir, k)); err != nil {
				t.Errorf("%s refers to asset %s, which the package lacks: %v", name, k, err)
			}
		}
	}
	kinds := map[string]int{}
	for _, k := range p.Assets {
		if !referenced[k] {
			t.Errorf("asset %s is in the package but no template refers to it", k)
		}
		b, err := os.ReadFile(filepath.Join(p.Dir, workshop.AssetsDir, k))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case bytes.HasPrefix(b, []byte("\x7fELF")):
			kinds["linux binary"]++
		case bytes.HasPrefix(b, []byte("PK\x03\x04")):
			kinds["zip"]++
		case strings.HasSuffix(k, ".json") && json.Valid(b):
			kinds["template"]++
		default:
			t.Errorf("asset %s is neither a template, a zip nor a Linux binary", k)
		}
	}
	if kinds["linux binary"] != 1 || kinds["zip"] != 2 || kinds["template"] != 2 {
		t.Errorf("assets by kind: %v, want 1 linux binary (the web server), 2 zip (the functions), 2 template", kinds)
	}
}

// bootstrapRef finds anything of the CDK bootstrap in a template: its version parameter and
// rule, or its default qualifier's bucket, roles and parameters.
var bootstrapRef = regexp.MustCompile(`BootstrapVersion|CheckBootstrapVersion|hnb659fds|cdk-bootstrap|cdk-[a-z0-9]+-(deploy|cfn-exec|file-publishing|lookup)-role`)

// TestWorkshopNeedsNoBootstrap checks that no packaged template refers to the CDK bootstrap,
// and that every nested stack gets the asset location from the entry template.
func TestWorkshopNeedsNoBootstrap(t *testing.T) {
	p := workshopPackage(t)
	for name, tmpl := range packagedTemplates(t, p) {
		if m := bootstrapRef.Find(tmpl); m != nil {
			t.Errorf("%s refers to the CDK bootstrap: %s", name, m)
		}
		var doc struct {
			Parameters map[string]any
			Resources  map[string]struct {
				Type       string
				Properties map[string]any
			}
		}
		if err := json.Unmarshal(tmpl, &doc); err != nil {
			t.Fatal(err)
		}
		for _, param := range []string{ParamAssetsBucketName, ParamAssetsBucketPrefix} {
			if doc.Parameters[param] == nil {
				t.Errorf("%s has no parameter %s", name, param)
			}
		}
		for id, r := range doc.Resources {
			if r.Type != "AWS::CloudFormation::Stack" {
				continue
			}
			params, _ := r.Properties["Parameters"].(map[string]any)
			for _, param := range []string{ParamAssetsBucketName, ParamAssetsBucketPrefix} {
				if ref, _ := params[param].(map[string]any); ref["Ref"] != param {
					t.Errorf("%s: nested stack %s gets %s = %v, want the entry template's", name, id, param, params[param])
				}
			}
		}
	}
}

// TestWorkshopServerCodeChangesOnlyTheLaunchTemplate checks the package's stage switch: the
// entry template's ServerCode parameter reaches the service stack, where the launch
// template is the only resource that reads it.
func TestWorkshopServerCodeChangesOnlyTheLaunchTemplate(t *testing.T) {
	p := workshopPackage(t)
	var codes []string
	for _, param := range p.Parameters {
		if param.Name == ParamServerCode {
			codes = param.AllowedValues
		}
	}
	if strings.Join(codes, " ") != "basic errorhandling healthcheck" {
		t.Fatalf("entry template's ServerCode allows %v", codes)
	}
	readers := map[string]bool{}
	for _, tmpl := range packagedTemplates(t, p) {
		var doc struct {
			Resources map[string]struct {
				Type       string
				Properties json.RawMessage
			}
		}
		if err := json.Unmarshal(tmpl, &doc); err != nil {
			t.Fatal(err)
		}
		for _, r := range doc.Resources {
			var compact bytes.Buffer
			if err := json.Compact(&compact, r.Properties); err != nil && len(r.Properties) > 0 {
				t.Fatal(err)
			}
			if bytes.Contains(compact.Bytes(), []byte(`{"Ref":"`+ParamServerCode+`"}`)) {
				readers[r.Type] = true
			}
		}
	}
	// The entry template passes it to the nested service stack; there the launch template reads it.
	want := []string{"AWS::CloudFormation::Stack", "AWS::EC2::LaunchTemplate"}
	if got := keys(readers); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("resources reading ServerCode: %v, want %v", got, want)
	}
}

// TestWorkshopEntryTemplateAnswersLikeTheStack checks that the entry stack has the outputs
// labctl and the walkthrough read, and that the contentspec fragment and README name the
// entry template and its parameters.
func TestWorkshopEntryTemplateAnswersLikeTheStack(t *testing.T) {
	p := workshopPackage(t)
	var doc struct{ Outputs map[string]any }
	entry, err := os.ReadFile(filepath.Join(p.Dir, p.EntryTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(entry, &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{lab.OutputWebsiteURL, lab.OutputHealthCheckURL, lab.OutputTargetGroupArn, lab.OutputAutoScalingGroupName,
		lab.OutputParameterName, lab.OutputNoDDBProfileName, lab.OutputInstanceProfileName, lab.OutputTableName} {
		if doc.Outputs[k] == nil {
			t.Errorf("entry template has no output %s", k)
		}
	}
	spec, err := os.ReadFile(filepath.Join(p.Dir, "contentspec.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"templateLocation: " + p.EntryTemplate, `defaultValue: "{{.AssetsBucketName}}"`,
		`defaultValue: "{{.AssetsBucketPrefix}}"`, "templateParameter: ServerCode"} {
		if !bytes.Contains(spec, []byte(want)) {
			t.Errorf("contentspec.yaml lacks %q:\n%s", want, spec)
		}
	}
	readme, err := os.ReadFile(filepath.Join(p.Dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"aws s3 sync assets/", "aws cloudformation deploy --stack-name " + lab.ServiceStackName + " --template-file " + p.EntryTemplate} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("README.md lacks %q", want)
		}
	}
}

// TestCfnLint runs cfn-lint once over every template: the packaged ones and the three copies
// of the normal stacks, and fails on any error (warnings are listed, not failed).
func TestCfnLint(t *testing.T) {
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		t.Skip("cfn-lint is not installed (pip install cfn-lint): the templates were not linted")
	}
	p := workshopPackage(t)
	c := synthCopies(t)
	var files []string
	for name := range packagedTemplates(t, p) {
		files = append(files, filepath.Join(p.Dir, filepath.FromSlash(name)))
	}
	for _, id := range copyIDs {
		for _, st := range c.stacks[id] {
			files = append(files, st.file)
		}
	}
	sort.Strings(files)
	cmd := exec.Command(bin, append([]string{"--format", "parseable"}, files...)...)
	out, err := cmd.CombinedOutput()
	// cfn-lint's exit code is a bit field: 2 errors, 4 warnings, 8 informational.
	code := 0
	if exit, ok := err.(*exec.ExitError); ok {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code&2 != 0 || code&1 != 0 {
		t.Errorf("cfn-lint found errors (exit %d) in %d templates:\n%s", code, len(files), out)
	} else if len(out) > 0 {
		t.Logf("cfn-lint warnings (not failures):\n%s", out)
	}
}
