// Package dynalite runs dynalite, a DynamoDB API server written in Node, from the repository's
// node_modules (pinned in package.json), and creates and seeds the lab's table in it through the
// real AWS SDK. A missing table in dynalite is a real ResourceNotFoundException, which is what the
// lab's simulated outage needs.
package dynalite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"healthchecklab/internal/procgroup"
	"healthchecklab/internal/repo"
)

// launcher starts dynalite in memory on an ephemeral loopback port, with no artificial delay on
// table creation, and prints the port it got, so no port is ever guessed. With a token in its
// environment it answers only requests that carry it (TokenHeader), 403 to anything else.
const launcher = `
const dynalite = require('dynalite');
const server = dynalite({createTableMs: 0, deleteTableMs: 0, updateTableMs: 0});
const token = process.env.DYNALITE_TOKEN;
if (token) {
  const handlers = server.listeners('request');
  server.removeAllListeners('request');
  server.on('request', (req, res) => {
    if (req.headers['x-lab-dynalite-token'] !== token) {
      res.statusCode = 403;
      res.end('missing or wrong X-Lab-Dynalite-Token\n');
      return;
    }
    delete req.headers['x-lab-dynalite-token'];
    for (const h of handlers) h.call(server, req, res);
  });
}
server.listen(0, '127.0.0.1', () => { console.log('LISTENING ' + server.address().port); });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`

// Options configure Start.
type Options struct {
	// RepoRoot is the directory holding package.json and node_modules/dynalite. Empty means:
	// walk up from the working directory to the first directory with a package.json.
	RepoRoot string
	// Node is the node executable; empty means "node" from PATH.
	Node string
	// Stderr receives dynalite's own output; nil discards it.
	Stderr io.Writer
	// StartTimeout bounds the wait for dynalite to listen; zero means 15 s.
	StartTimeout time.Duration
	// Token, when set, is required in the TokenHeader of every request: anyone else on the
	// machine who finds the loopback port gets 403. Empty lets every request in.
	Token string
}

// TokenHeader carries Options.Token.
const TokenHeader = "X-Lab-Dynalite-Token"

// Server is a running dynalite process.
type Server struct {
	// URL is the endpoint to give the SDK, e.g. http://127.0.0.1:41234.
	URL string
	// Addr is the host:port dynalite listens on.
	Addr string

	token     string
	cmd       *exec.Cmd
	group     *procgroup.Group
	stdin     io.WriteCloser
	closeOnce sync.Once
	closeErr  error
	exited    chan struct{}
}

// Start runs dynalite and returns once it answers on its port. The process runs in a group of
// its own (package procgroup); Close kills the whole group. It dies with its parent where the
// OS allows (Linux, Windows), and it exits when its stdin closes, so a crashed test leaves no
// orphan behind.
func Start(ctx context.Context, opts Options) (*Server, error) {
	root := opts.RepoRoot
	if root == "" {
		var err error
		if root, err = repo.Root("."); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(filepath.Join(root, "node_modules", "dynalite", "package.json")); err != nil {
		return nil, fmt.Errorf("dynalite: not installed under %s (run `npm ci` there): %w", root, err)
	}
	node := opts.Node
	if node == "" {
		node = "node"
	}
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}

	cmd := exec.Command(node, "-e", launcher)
	cmd.Dir = root
	if opts.Token != "" {
		cmd.Env = append(os.Environ(), "DYNALITE_TOKEN="+opts.Token)
	}
	if opts.Stderr != nil {
		cmd.Stderr = opts.Stderr
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	group, err := procgroup.Start(cmd)
	if err != nil {
		return nil, fmt.Errorf("dynalite: start %s: %w", node, err)
	}
	s := &Server{token: opts.Token, cmd: cmd, group: group, stdin: stdin, exited: make(chan struct{})}

	portc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "LISTENING "); ok && !sent {
				portc <- p
				sent = true
			}
		}
		if !sent {
			close(portc)
		}
	}()
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case p, ok := <-portc:
		if !ok {
			s.Close()
			return nil, errors.New("dynalite: exited before listening (is node_modules complete? run `npm ci`)")
		}
		if _, err := strconv.Atoi(p); err != nil {
			s.Close()
			return nil, fmt.Errorf("dynalite: bad port %q", p)
		}
		s.Addr = "127.0.0.1:" + p
		s.URL = "http://" + s.Addr
		return s, nil
	case <-s.exited:
		s.Close()
		return nil, errors.New("dynalite: exited before listening")
	case <-timer.C:
		s.Close()
		return nil, fmt.Errorf("dynalite: not listening after %s", timeout)
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
}

// Close stops dynalite and every process it started, and waits for it to exit.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		_ = s.stdin.Close()
		_ = s.group.Kill()
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			s.closeErr = errors.New("dynalite: process did not exit after being killed")
		}
	})
	return s.closeErr
}

// Pid is the process id of the dynalite (node) process.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done is closed once the dynalite process has exited, killed or not.
func (s *Server) Done() <-chan struct{} { return s.exited }

// ExitStatus says how the process ended ("signal: killed"); empty while it runs.
func (s *Server) ExitStatus() string {
	select {
	case <-s.exited:
		return s.cmd.ProcessState.String()
	default:
		return ""
	}
}
