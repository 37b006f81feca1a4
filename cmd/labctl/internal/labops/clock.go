package labops

import (
	"context"
	"time"

	"healthchecklab/internal/clock"
)

// Clock tells the time and waits. The verbs' waits (repair, reset's check, following a
// deploy or an experiment) read and wait on the Lab's Clock, so that tests run them on a
// fake clock that moves a modelled lab on instead of sleeping.
type Clock = clock.Clock

// clock is l.Clock, or the wall clock when none is set.
func (l *Lab) clock() Clock {
	if l.Clock == nil {
		return clock.Real{}
	}
	return l.Clock
}

// now is the lab clock's time.
func (l *Lab) now() time.Time { return l.clock().Now() }

// since is the lab clock's time since t.
func (l *Lab) since(t time.Time) time.Duration { return l.clock().Now().Sub(t) }

// sleep waits d on the lab's clock or until ctx ends.
func (l *Lab) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return l.clock().Sleep(ctx, d)
}

// sleepBefore is sleep for a wait with a deadline on the lab's clock: it fails with
// context.DeadlineExceeded once the clock has reached deadline, and sleeps no further.
func (l *Lab) sleepBefore(ctx context.Context, d time.Duration, deadline time.Time) error {
	left := deadline.Sub(l.now())
	if left <= 0 {
		return context.DeadlineExceeded
	}
	return l.sleep(ctx, min(d, left))
}
