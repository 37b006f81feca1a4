package stacks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3assets"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// WebServerPackage is the Go package the instances run, relative to the module root.
const WebServerPackage = "./webserver"

// WebServerBinary is the name of the single file the bundling produces.
const WebServerBinary = "healthchecklab-webserver"

// goBuild is a CDK local bundler that cross-compiles the web server into one static Linux
// binary, without Docker. The flags make the output depend on the source alone, so the same
// source gives byte-identical binaries. It must be passed as a pointer: jsii cannot take the
// address of a value receiver.
type goBuild struct {
	moduleDir string
	arch      string
}

// bundleRuns counts the builds the CDK asked for, so tests can see it skip cached assets.
var bundleRuns atomic.Int64

// buildEnv fixes every environment input of the build that could change the binary,
// including the Go toolchain itself (see pinnedToolchain).
func buildEnv(arch, toolchain string) []string {
	return append(os.Environ(),
		"CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch,
		"GOAMD64=v1", "GOARM64=v8.0", "GOFLAGS=-mod=readonly",
		"GOTOOLCHAIN="+toolchain,
	)
}

// pinnedToolchain is the Go release that builds the web server: go.mod's toolchain line, or
// else its go line, which must then name a release (1.26.8, not 1.26). The compiler version
// is part of the asset hash, so building with whatever Go each teammate has installed would
// replace the whole fleet on the next deploy of a teammate on another patch release. With
// GOTOOLCHAIN set to exactly this release, the go command runs itself when it is that
// release and otherwise fetches that release once (as a module, through the Go proxy), so
// every machine builds identical bytes. One line in go.mod moves everyone forward.
func pinnedToolchain(moduleDir string) (string, error) {
	cmd := exec.Command("go", "mod", "edit", "-json")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local") // reading go.mod needs no other Go
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", filepath.Join(moduleDir, "go.mod"), err)
	}
	var mod struct{ Go, Toolchain string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("go mod edit -json: %w", err)
	}
	if mod.Toolchain != "" {
		return mod.Toolchain, nil
	}
	if !releaseRE.MatchString(mod.Go) {
		return "", fmt.Errorf("go.mod: the go line %q must name a release such as 1.26.8 (it pins the toolchain that builds the web server)", mod.Go)
	}
	return "go" + mod.Go, nil
}

var releaseRE = regexp.MustCompile(`^1\.[0-9]+\.[0-9]+$`)

// buildFlags are the go build flags; they are part of the asset hash.
var buildFlags = []string{"-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

// TryBundle builds the binary into outputDir and reports success; on failure it prints the
// compiler's output, and the CDK then reports that bundling failed.
func (b *goBuild) TryBundle(outputDir *string, _ *awscdk.BundlingOptions) *bool {
	bundleRuns.Add(1)
	if err := b.build(filepath.Join(*outputDir, WebServerBinary)); err != nil {
		fmt.Fprintf(os.Stderr, "bundling %s for linux/%s: %v\n", WebServerPackage, b.arch, err)
		return jsii.Bool(false)
	}
	return jsii.Bool(true)
}

func (b *goBuild) build(out string) error {
	toolchain, err := pinnedToolchain(b.moduleDir)
	if err != nil {
		return err
	}
	args := append(append([]string{"build"}, buildFlags...), "-o", out, WebServerPackage)
	cmd := exec.Command("go", args...)
	cmd.Dir = b.moduleDir
	cmd.Env = buildEnv(b.arch, toolchain)
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	return cmd.Run()
}

// WebServerAssetProps configures the web server asset.
type WebServerAssetProps struct {
	// Arch is the GOARCH of the instances: "amd64" or "arm64".
	Arch string
}

// NewWebServerAsset declares the web server binary as an S3 asset, bundled locally.
//
// Its hash is computed from exactly what the build reads (see sourceHash), before bundling.
// When cdk.out already holds an asset with that hash, the CDK skips bundling entirely, so a
// re-synthesis with an unchanged web server does not run the compiler, and unrelated changes
// in the repository never show up as an asset change in `cdk diff`.
func NewWebServerAsset(scope constructs.Construct, id string, props *WebServerAssetProps) awss3assets.Asset {
	moduleDir, err := webServerModule()
	if err != nil {
		panic(err)
	}
	hash, err := sourceHash(moduleDir, props.Arch)
	if err != nil {
		panic(fmt.Errorf("hashing the web server sources: %w", err))
	}
	return awss3assets.NewAsset(scope, &id, &awss3assets.AssetProps{
		Path:          jsii.String(filepath.Join(moduleDir, WebServerPackage)),
		AssetHashType: awscdk.AssetHashType_CUSTOM,
		AssetHash:     jsii.String(hash),
		Bundling: &awscdk.BundlingOptions{
			// Only used if the local build fails; no Docker engine is expected.
			Image:      awscdk.DockerImage_FromRegistry(jsii.String("local-go-build-failed-see-above")),
			Local:      &goBuild{moduleDir: moduleDir, arch: props.Arch},
			OutputType: awscdk.BundlingOutput_SINGLE_FILE,
		},
	})
}

// webServerModule finds the module whose web server the asset builds: this repository
// (moduleRoot). A test points it at a small module of the same shape to bundle for another
// architecture without compiling the web server's dependencies for it.
var webServerModule = moduleRoot

// moduleRoot is the directory of the main module's go.mod, found from the working directory
// (the repository root under `cdk synth`, the package directory under `go test`).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside the healthchecklab module")
	}
	return filepath.Dir(gomod), nil
}

// listedPackage is the part of `go list -json` output the hash needs.
type listedPackage struct {
	ImportPath string
	Dir        string
	Standard   bool
	Module     *struct {
		Path    string
		Version string
		Main    bool
	}
	GoFiles, SFiles, EmbedFiles []string
}

// sourceHash digests every input of the web server build for one architecture: the Go
// version (the pinned toolchain's), the build flags, the content of each main-module file compiled or embedded into
// the binary (webserver/ and the internal packages it imports, tests excluded), and the
// path@version of every other module it links (go.sum pins their content). Nothing else in
// the repository affects it.
func sourceHash(moduleDir, arch string) (string, error) {
	toolchain, err := pinnedToolchain(moduleDir)
	if err != nil {
		return "", err
	}
	env := buildEnv(arch, toolchain)
	goEnv := exec.Command("go", "env", "GOVERSION")
	goEnv.Dir, goEnv.Env = moduleDir, env
	goVersion, err := goEnv.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOVERSION with GOTOOLCHAIN=%s: %w", toolchain, err)
	}
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,Standard,Module,GoFiles,SFiles,EmbedFiles", WebServerPackage)
	cmd.Dir = moduleDir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list: %v: %s", err, stderr.String())
	}

	h := sha256.New()
	fmt.Fprintf(h, "go=%s\nGOOS=linux GOARCH=%s CGO_ENABLED=0\nflags=%q\n", strings.TrimSpace(string(goVersion)), arch, buildFlags)
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p listedPackage
		if err := dec.Decode(&p); err != nil {
			return "", fmt.Errorf("go list output: %w", err)
		}
		switch {
		case p.Standard:
			// Covered by the Go version.
		case p.Module != nil && !p.Module.Main:
			fmt.Fprintf(h, "dep %s %s@%s\n", p.ImportPath, p.Module.Path, p.Module.Version)
		default:
			if err := hashFiles(h, moduleDir, p); err != nil {
				return "", err
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashFiles adds the package's compiled and embedded files, by module-relative path and content.
func hashFiles(h io.Writer, moduleDir string, p listedPackage) error {
	files := append(append(append([]string{}, p.GoFiles...), p.SFiles...), p.EmbedFiles...)
	sort.Strings(files)
	for _, f := range files {
		path := filepath.Join(p.Dir, f)
		rel, err := filepath.Rel(moduleDir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "file %s %d\n", filepath.ToSlash(rel), len(data))
		h.Write(data)
	}
	return nil
}
