package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal: what labctl writes to tty arrives at master, as it
// would on a user's screen. Both are closed when the test ends.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

// onTerminal runs one labctl command line with its output on a terminal and returns what
// the terminal received.
func onTerminal(t *testing.T, getenv func(string) string, args ...string) (int, string) {
	t.Helper()
	master, tty := openPTY(t)
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(master) // ends with EIO once tty is closed
		got <- string(b)
	}()
	code := run(t.Context(), args, tty, tty, getenv)
	tty.Close()
	return code, <-got
}
