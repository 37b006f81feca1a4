//go:build race

package main

// raceEnabled is true when the test binary is built with -race; the harness then builds the
// server processes it starts with -race too, so they are race-checked as well.
const raceEnabled = true
