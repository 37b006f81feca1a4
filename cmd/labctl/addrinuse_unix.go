//go:build unix

package main

import (
	"errors"
	"syscall"
)

// isAddrInUse reports whether err is a listen failing on a port that is taken.
func isAddrInUse(err error) bool { return errors.Is(err, syscall.EADDRINUSE) }
