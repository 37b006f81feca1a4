package locallab

import (
	"fmt"
	"net/http"
	"time"

	"healthchecklab/internal/awslocal/region"
	"healthchecklab/internal/labclient"
)

// ZonePower cuts zone's power for d, as FIS's power interruption does: the region stops the
// zone's instances (the shell stops their processes) and launches there fail with
// InsufficientInstanceCapacity until d has passed; then the zone has power again and the
// group rebalances into it (region.PowerOff and PowerOn). It returns at once; the lab ends
// the window itself, as the experiment does.
func (l *Lab) ZonePower(zone string, d time.Duration) (until time.Time, err error) {
	letter, err := labclient.ValidZonePower(zone, d)
	if err != nil {
		return time.Time{}, err
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return time.Time{}, fmt.Errorf("lab stopped")
	}
	if l.powerOff == nil {
		l.powerOff = map[string]time.Time{}
	}
	if t, ok := l.powerOff[letter]; ok {
		l.mu.Unlock()
		return time.Time{}, fmt.Errorf("zone %s is already without power until %s", region.ZoneName(letter), t.Format(time.TimeOnly))
	}
	until = time.Now().Add(d)
	l.powerOff[letter] = until
	l.wg.Add(1)
	l.mu.Unlock()
	if err := l.r.PowerOff(letter); err != nil {
		l.mu.Lock()
		delete(l.powerOff, letter)
		l.mu.Unlock()
		l.wg.Done()
		return time.Time{}, err
	}
	l.wake()
	go func() {
		defer l.wg.Done()
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-l.ctx.Done():
			return
		}
		_ = l.r.PowerOn(letter)
		l.mu.Lock()
		delete(l.powerOff, letter)
		l.mu.Unlock()
		l.wake()
	}()
	return until, nil
}

// serveZonePower is POST /v1/zone-power.
func (l *Lab) serveZonePower(w http.ResponseWriter, r *http.Request) {
	var req labclient.ZonePowerRequest
	if !readJSON(w, r, &req) {
		return
	}
	d := time.Duration(req.DurationSeconds * float64(time.Second))
	until, err := l.ZonePower(req.Zone, d)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, labclient.Event{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, labclient.Event{Time: time.Now(), Done: true, Message: labclient.ZonePowerMessage(req.Zone, d, until)})
}
