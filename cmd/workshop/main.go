// Command workshop writes the lab's CloudFormation-only package (`make workshop`): it
// synthesizes the workshop form of the app (one entry stack, nested network and service
// stacks, assets under the AssetsBucketName/AssetsBucketPrefix parameters, no bootstrap) with
// the context of cdk.json and any -c Key=value flags, then lays the templates and assets out
// with internal/workshop.
//
//	go run ./cmd/workshop [-out build/workshop] [-c Key=value ...]
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"healthchecklab/internal/workshop"
	"healthchecklab/stacks"
)

func main() {
	code := run(os.Args[1:], os.Stdout, os.Stderr)
	jsii.Close()
	os.Exit(code)
}

// contextFlags collects repeated -c Key=value flags.
type contextFlags map[string]any

func (c contextFlags) String() string { return fmt.Sprint(map[string]any(c)) }

func (c contextFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want Key=value, got %q", s)
	}
	c[k] = v
	return nil
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("workshop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", filepath.Join("build", "workshop"), "folder to write (emptied first)")
	cdkJSON := fs.String("cdk-json", "cdk.json", "cdk.json whose context (defaults and feature flags) the synthesis uses")
	overrides := contextFlags{}
	fs.Var(overrides, "c", "context Key=value, as with cdk synth (repeatable), e.g. -c LabId=team7")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	p, err := build(*cdkJSON, overrides, *out)
	if err != nil {
		fmt.Fprintln(stderr, "workshop:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote %s: %s, %d assets, contentspec.yaml, README.md\n", p.Dir, p.EntryTemplate, len(p.Assets))
	return 0
}

// build synthesizes into a temporary cloud assembly and packages it into out.
func build(cdkJSON string, overrides map[string]any, out string) (*workshop.Package, error) {
	ctx, err := readContext(cdkJSON)
	if err != nil {
		return nil, err
	}
	for k, v := range overrides {
		ctx[k] = v
	}
	assembly, err := os.MkdirTemp("", "healthchecklab-workshop-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(assembly)
	app := awscdk.NewApp(&awscdk.AppProps{Context: &ctx, Outdir: jsii.String(assembly)})
	w, err := stacks.NewWorkshop(app)
	if err != nil {
		return nil, err
	}
	app.Synth(nil)
	return workshop.Write(assembly, *w.Root.StackName(), out)
}

// readContext returns the "context" object of cdk.json.
func readContext(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if f.Context == nil {
		return nil, errors.New(path + " has no context")
	}
	return f.Context, nil
}
