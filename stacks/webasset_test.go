package stacks

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
)

// writeModule creates a small module shaped like this repository: a webserver command that
// imports one internal package (which embeds a file), plus files the build never reads.
func writeModule(t *testing.T, dir string) {
	t.Helper()
	toolchain, err := pinnedToolchain("..")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"go.mod":                    "module example.com/lab\n\ngo " + strings.TrimPrefix(toolchain, "go") + "\n",
		"webserver/main.go":         "package main\n\nimport \"example.com/lab/internal/used\"\n\nfunc main() { println(used.Text) }\n",
		"webserver/main_test.go":    "package main\n",
		"internal/used/used.go":     "package used\n\nimport _ \"embed\"\n\n//go:embed text.txt\nvar Text string\n",
		"internal/used/text.txt":    "hello\n",
		"internal/unused/unused.go": "package unused\n",
		"README.md":                 "# lab\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mustHash(t *testing.T, dir, arch string) string {
	t.Helper()
	h, err := sourceHash(dir, arch)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestSourceHashCoversExactlyTheBuildInputs(t *testing.T) {
	dir := t.TempDir()
	writeModule(t, dir)
	base := mustHash(t, dir, "amd64")
	if again := mustHash(t, dir, "amd64"); again != base {
		t.Fatalf("hash not stable: %s then %s", base, again)
	}
	if arm := mustHash(t, dir, "arm64"); arm == base {
		t.Errorf("arm64 and amd64 builds share a hash")
	}

	tests := []struct {
		file    string
		changes bool
	}{
		{"README.md", false},
		{"internal/unused/unused.go", false},
		{"webserver/main_test.go", false},
		{"webserver/main.go", true},
		{"internal/used/used.go", true},
		{"internal/used/text.txt", true}, // embedded
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join(dir, tt.file)
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			defer os.WriteFile(path, orig, 0o644)
			edited := append(append([]byte{}, orig...), "// edited\n"...)
			if err := os.WriteFile(path, edited, 0o644); err != nil {
				t.Fatal(err)
			}
			if got := mustHash(t, dir, "amd64") != base; got != tt.changes {
				t.Errorf("editing %s changed the hash: %v, want %v", tt.file, got, tt.changes)
			}
		})
	}
}

// TestToolchainIsPinned checks that the web server is built and hashed with exactly the Go
// release go.mod names, whatever Go runs the app: GOTOOLCHAIN is in the build environment,
// and `go env GOVERSION` there (the version the asset hash records) reports that release.
func TestToolchainIsPinned(t *testing.T) {
	toolchain, err := pinnedToolchain("..")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^go1\.[0-9]+\.[0-9]+$`).MatchString(toolchain) {
		t.Fatalf("pinned toolchain %q is not one release", toolchain)
	}
	env := buildEnv("amd64", toolchain)
	if got := env[len(env)-1]; got != "GOTOOLCHAIN="+toolchain {
		t.Errorf("the build environment ends with %q, want GOTOOLCHAIN=%s to override the caller's", got, toolchain)
	}
	cmd := exec.Command("go", "env", "GOVERSION")
	cmd.Dir, cmd.Env = "..", env
	if out, err := cmd.Output(); err != nil || strings.TrimSpace(string(out)) != toolchain {
		t.Errorf("go env GOVERSION in the build environment: %q, %v; want %s", out, err, toolchain)
	}

	dir := t.TempDir()
	writeModule(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/lab\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := sourceHash(dir, "amd64"); err == nil || !strings.Contains(err.Error(), "must name a release") {
		t.Errorf("a go line without a patch release: %v, want an error asking for one", err)
	}
}

// TestGoBuildIsReproducible builds the same source from two different directories: the
// binaries must be byte-identical, static, and for the requested architecture.
func TestGoBuildIsReproducible(t *testing.T) {
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		t.Run(arch, func(t *testing.T) {
			var bins [][]byte
			for i := 0; i < 2; i++ {
				dir, out := t.TempDir(), t.TempDir()
				writeModule(t, dir)
				b := &goBuild{moduleDir: dir, arch: arch}
				if ok := b.TryBundle(&out, nil); !*ok {
					t.Fatal("build failed")
				}
				data, err := os.ReadFile(filepath.Join(out, WebServerBinary))
				if err != nil {
					t.Fatal(err)
				}
				bins = append(bins, data)
			}
			if !bytes.Equal(bins[0], bins[1]) {
				t.Errorf("two builds of the same source differ")
			}
			f, err := elf.NewFile(bytes.NewReader(bins[0]))
			if err != nil {
				t.Fatal(err)
			}
			if f.Machine != machine {
				t.Errorf("machine %v, want %v", f.Machine, machine)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("binary is dynamically linked")
				}
			}
		})
	}
}

// TestBundlingRunsOnceAndIsSkippedWhenCached synthesizes the real app twice into the same
// output directory, as two `cdk synth` runs do: the first bundles the web server for the
// instance architecture, the second finds the asset by its hash and does not build.
//
// For t4g (arm64) the asset is this package's small module shaped like the repository
// (writeModule), so that the test compiles the standard library for arm64, as
// TestGoBuildIsReproducible does, and not every dependency of the web server: the
// architecture's path from the InstanceType to the binary is the same. `make cross-build`
// links the real web server for linux/arm64.
func TestBundlingRunsOnceAndIsSkippedWhenCached(t *testing.T) {
	for _, tc := range []struct {
		instanceType string
		machine      elf.Machine
		small        bool // bundle writeModule's module instead of the repository's
	}{{"t3.micro", elf.EM_X86_64, false}, {"t4g.micro", elf.EM_AARCH64, true}} {
		t.Run(tc.instanceType, func(t *testing.T) {
			if tc.small {
				dir := t.TempDir()
				writeModule(t, dir)
				webServerModule = func() (string, error) { return dir, nil }
				t.Cleanup(func() { webServerModule = moduleRoot })
			}
			// Forget assets staged earlier in this process: only cdk.out may serve as a cache.
			awscdk.AssetStaging_ClearAssetHashCache()
			overrides := map[string]any{"InstanceType": tc.instanceType}
			first := newTestApp(t, overrides, true)
			before := bundleRuns.Load() // the CDK bundles while the asset is declared
			l, err := NewLab(first, nil)
			if err != nil {
				t.Fatal(err)
			}
			first.Synth(nil)
			if n := bundleRuns.Load() - before; n != 1 {
				t.Errorf("first synthesis built %d times, want 1", n)
			}
			hash := *l.Service.Node().FindChild(stringp("WebServerBinary")).(interface{ AssetHash() *string }).AssetHash()
			data, err := os.ReadFile(filepath.Join(*first.Outdir(), "asset."+hash+"_noext"))
			if err != nil {
				t.Fatal(err)
			}
			if f, err := elf.NewFile(bytes.NewReader(data)); err != nil || f.Machine != tc.machine {
				t.Errorf("bundled binary: %v, %v; want %v", f, err, tc.machine)
			}

			ctx := cdkJSONContext(t)
			ctx["InstanceType"] = tc.instanceType
			awscdk.AssetStaging_ClearAssetHashCache()
			second := newTestAppIn(t, ctx, *first.Outdir())
			before = bundleRuns.Load()
			if _, err := NewLab(second, nil); err != nil {
				t.Fatal(err)
			}
			second.Synth(nil)
			if n := bundleRuns.Load() - before; n != 0 {
				t.Errorf("second synthesis built %d times, want 0 (asset cached by hash)", n)
			}
		})
	}
}

func stringp(s string) *string { return &s }
