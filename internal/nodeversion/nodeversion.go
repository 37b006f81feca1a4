// Package nodeversion checks the Node.js release that runs the lab's Node tools (the CDK CLI
// and dynalite) against the releases the project supports.
//
// Node.js 22 and 24 are the maintained long-term-support releases the project recommends.
// Node.js 20 reached its end of life in April 2026 (nodejs.org's release schedule); it still
// runs everything here, so it is accepted with a note. Older releases are refused.
package nodeversion

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// Recommended are the maintained releases to install.
const Recommended = "22 or 24"

// Oldest is the oldest major release that still works.
const Oldest = 20

// Check judges a `node --version` answer ("v20.19.2"). A maintained release gets no note; an
// end-of-life one that still works gets a note saying so; an older or unreadable one is an
// error saying what to install.
func Check(version string) (note string, err error) {
	v := strings.TrimSpace(version)
	major, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(v, "v"), ".", 2)[0])
	if err != nil || !strings.HasPrefix(v, "v") {
		return "", fmt.Errorf("cannot read the Node.js version from %q: install Node.js %s", v, Recommended)
	}
	switch {
	case major < Oldest:
		return "", fmt.Errorf("Node.js %s is too old for the lab's Node tools: install Node.js %s", v, Recommended)
	case major == 22 || major == 24:
		return "", nil
	case major < 22:
		return fmt.Sprintf("Node.js %s has reached its end of life; the lab still works on it, but install Node.js %s", v, Recommended), nil
	case major%2 == 1:
		return fmt.Sprintf("Node.js %s is a short-lived odd-numbered release; the lab is tested on 20, 22 and 24, and Node.js %s is recommended", v, Recommended), nil
	}
	return "", nil // a newer long-term-support release
}

// Detect runs `node --version` (node: the executable, "" for node from PATH) and checks it.
func Detect(ctx context.Context, node string) (note string, err error) {
	if node == "" {
		node = "node"
	}
	out, err := exec.CommandContext(ctx, node, "--version").Output()
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return "", fmt.Errorf("node not found: the local lab's DynamoDB (dynalite) runs on Node.js; install Node.js %s, then run make deps", Recommended)
		}
		return "", fmt.Errorf("%s --version: %v: install Node.js %s", node, err, Recommended)
	}
	return Check(string(out))
}
