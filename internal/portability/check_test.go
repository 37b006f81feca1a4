package portability

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckFindsWhatDoesNotCompileForAnOS type-checks tiny modules written for the test: each
// case names every problem Check must report for an OS, as a file, package and message.
func TestCheckFindsWhatDoesNotCompileForAnOS(t *testing.T) {
	// kill.go stops a process the Unix way, with no build constraint: it compiles for darwin,
	// not for windows, whose syscall package has neither Kill nor SIGSTOP.
	const kill = `package tiny

import "syscall"

// Pause stops process pid.
func Pause(pid int) error { return syscall.Kill(pid, syscall.SIGSTOP) }
`
	const clean = `package tiny

import "os"

// Name is the program's name.
func Name() string { return os.Args[0] }
`
	// withDep is the go.mod of a module that requires example.com/dep from its dep directory.
	const withDep = "module example.com/tiny\n\ngo 1.22\n\nrequire example.com/dep v0.0.0\n\nreplace example.com/dep => ./dep\n"
	type want struct{ file, pkg, msg string }
	cases := []struct {
		name  string
		files map[string]string
		goos  string
		want  []want
	}{
		{
			name:  "clean module on windows",
			files: map[string]string{"tiny.go": clean, "tiny_test.go": "package tiny\n\nimport \"testing\"\n\nfunc TestName(t *testing.T) { _ = Name() }\n"},
			goos:  "windows",
		},
		{
			name:  "syscall.Kill without a build constraint on darwin",
			files: map[string]string{"kill.go": kill},
			goos:  "darwin",
		},
		{
			name:  "syscall.Kill without a build constraint on windows",
			files: map[string]string{"kill.go": kill},
			goos:  "windows",
			want: []want{
				{"kill.go", "example.com/tiny", "undefined: syscall.Kill"},
				{"kill.go", "example.com/tiny", "undefined: syscall.SIGSTOP"},
			},
		},
		{
			name:  "syscall.Kill on windows, reported once for the package and its test variant",
			files: map[string]string{"kill.go": kill, "kill_test.go": "package tiny\n\nimport \"testing\"\n\nfunc TestPause(t *testing.T) { _ = Pause }\n"},
			goos:  "windows",
			want: []want{
				{"kill.go", "example.com/tiny", "undefined: syscall.Kill"},
				{"kill.go", "example.com/tiny", "undefined: syscall.SIGSTOP"},
			},
		},
		{
			name:  "syscall.Kill behind //go:build !windows on windows",
			files: map[string]string{"kill.go": "//go:build !windows\n\n" + kill, "tiny.go": clean},
			goos:  "windows",
		},
		{
			name: "an internal test file that does not compile on windows",
			files: map[string]string{
				"tiny.go":       clean,
				"pause_test.go": "package tiny\n\nimport (\n\t\"syscall\"\n\t\"testing\"\n)\n\nfunc TestPause(t *testing.T) { _ = syscall.SIGSTOP }\n",
			},
			goos: "windows",
			want: []want{{"pause_test.go", "example.com/tiny [example.com/tiny.test]", "undefined: syscall.SIGSTOP"}},
		},
		{
			name: "an external test package that does not compile on windows",
			files: map[string]string{
				"tiny.go":       clean,
				"pause_test.go": "package tiny_test\n\nimport (\n\t\"syscall\"\n\t\"testing\"\n)\n\nfunc TestPause(t *testing.T) { _ = syscall.Kill }\n",
			},
			goos: "windows",
			want: []want{{"pause_test.go", "example.com/tiny_test [example.com/tiny.test]", "undefined: syscall.Kill"}},
		},
		{
			// A dependency's function bodies are its own concern: only its declarations are
			// checked, which keeps the check of a module with large dependencies fast.
			name: "a dependency's function body that does not compile on windows",
			files: map[string]string{
				"go.mod":     withDep,
				"tiny.go":    "package tiny\n\nimport \"example.com/dep\"\n\nvar Pause = dep.Pause\n",
				"dep/go.mod": "module example.com/dep\n\ngo 1.22\n",
				"dep/dep.go": "package dep\n\n" + strings.TrimPrefix(kill, "package tiny\n\n"),
			},
			goos: "windows",
		},
		{
			name: "a dependency's declaration that does not compile on windows",
			files: map[string]string{
				"go.mod":     withDep,
				"tiny.go":    "package tiny\n\nimport \"example.com/dep\"\n\nvar Stop = dep.Stop\n",
				"dep/go.mod": "module example.com/dep\n\ngo 1.22\n",
				"dep/dep.go": "package dep\n\nimport \"syscall\"\n\nvar Stop = syscall.SIGSTOP\n",
			},
			goos: "windows",
			want: []want{{"", "example.com/dep", "undefined: syscall.SIGSTOP"}},
		},
		{
			// npm packages such as the CDK's init templates ship Go files of their own.
			name: "Go files under node_modules are not the module's",
			files: map[string]string{
				"tiny.go":                          clean,
				"node_modules/aws-cdk/init/app.go": "package app\n\nimport \"syscall\"\n\nvar stop = syscall.SIGSTOP\n",
			},
			goos: "windows",
		},
		{
			name: "a package importing one whose files all exclude windows",
			files: map[string]string{
				"tiny.go":         "package tiny\n\nimport \"example.com/tiny/unixonly\"\n\nvar Pid = unixonly.Pid\n",
				"unixonly/pid.go": "//go:build unix\n\npackage unixonly\n\nvar Pid = 1\n",
			},
			goos: "windows",
			want: []want{
				{"", "example.com/tiny/unixonly", "build constraints exclude all Go files"},
				{"tiny.go", "example.com/tiny", "could not import example.com/tiny/unixonly"},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"go.mod": "module example.com/tiny\n\ngo 1.22\n"}
			for name, src := range tc.files {
				files[name] = src
			}
			for name, src := range files {
				path := filepath.Join(dir, filepath.FromSlash(name))
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			problems, err := Check(dir, tc.goos, "./...")
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range problems {
				t.Logf("%s", p)
				if p.GOOS != tc.goos {
					t.Errorf("problem for GOOS %q, want %q: %s", p.GOOS, tc.goos, p)
				}
			}
			for _, w := range tc.want {
				found := false
				for _, p := range problems {
					if (w.file == "" || strings.HasPrefix(p.Pos, w.file+":")) && p.Package == w.pkg && strings.Contains(p.Msg, w.msg) {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem in %s, package %s, saying %q", w.file, w.pkg, w.msg)
				}
			}
			if len(problems) != len(tc.want) {
				t.Errorf("%d problems, want %d", len(problems), len(tc.want))
			}
		})
	}
}
