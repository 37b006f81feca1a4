package procgroup

import (
	"testing"
)

// TestChildDiesWithParent: a lab process killed outright (kill -9, a closed terminal that
// took it down) leaves no child behind.
func TestChildDiesWithParent(t *testing.T) {
	c := helper("lab")
	_, readPid := firstLine(t, c)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	child := readPid()
	if err := c.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = c.Wait()
	waitGone(t, "child of the killed process", child)
}
