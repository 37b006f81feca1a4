package main

import (
	"errors"

	"golang.org/x/sys/windows"
)

// isAddrInUse reports whether err is a listen failing on a port that is taken.
func isAddrInUse(err error) bool { return errors.Is(err, windows.WSAEADDRINUSE) }
