package locallab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"healthchecklab/internal/awslocal/region"
)

// pathZonePower starts chapter 12's fault, which AWS runs as the FIS scenario "AZ
// Availability: Power Interruption" and has no other API for.
const pathZonePower = "/v1/zone-power"

// MaxZonePower bounds a zone's power interruption on the local lab.
const MaxZonePower = time.Hour

// ZonePowerRequest is the body of POST /v1/zone-power.
type ZonePowerRequest struct {
	Zone            string  `json:"zone"`             // a letter or zone name
	DurationSeconds float64 `json:"duration_seconds"` // how long the zone stays off
}

// ValidZonePower checks a power interruption's zone and duration and returns the zone's
// letter; the errors name what is valid.
func ValidZonePower(zone string, d time.Duration) (string, error) {
	l, err := region.ParseZone(zone)
	if err != nil {
		return "", err
	}
	if d <= 0 || d > MaxZonePower {
		return "", fmt.Errorf("bad --duration %s: use a positive duration up to %s, such as 5m", d, MaxZonePower)
	}
	return l, nil
}

// ZonePower cuts zone's power for d, as FIS's power interruption does: the region stops the
// zone's instances (the shell stops their processes) and launches there fail with
// InsufficientInstanceCapacity until d has passed; then the zone has power again and the
// group rebalances into it (region.PowerOff and PowerOn). It returns at once; the lab ends
// the window itself, as the experiment does.
func (l *Lab) ZonePower(zone string, d time.Duration) (until time.Time, err error) {
	letter, err := ValidZonePower(zone, d)
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
	var req ZonePowerRequest
	if !readJSON(w, r, &req) {
		return
	}
	d := time.Duration(req.DurationSeconds * float64(time.Second))
	until, err := l.ZonePower(req.Zone, d)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, Event{Error: err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, Event{Time: time.Now(), Done: true, Message: ZonePowerMessage(req.Zone, d, until)})
}

// ZonePowerMessage is what the lab answers a power interruption with.
func ZonePowerMessage(zone string, d time.Duration, until time.Time) string {
	letter, _ := region.ParseZone(zone)
	return fmt.Sprintf("%s lost power for %s (until %s): its instance stops, launches there fail with InsufficientInstanceCapacity, "+
		"Auto Scaling launches its replacement in another zone and rebalances when the power is back",
		region.ZoneName(letter), d, until.Format(time.TimeOnly))
}

// ZonePower asks the lab to cut zone's power for d; it answers at once with what it did.
func (c *Client) ZonePower(ctx context.Context, zone string, d time.Duration) (string, error) {
	resp, err := c.do(ctx, http.MethodPost, pathZonePower, ZonePowerRequest{Zone: zone, DurationSeconds: d.Seconds()})
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var ev Event
	if err := json.NewDecoder(resp.Body).Decode(&ev); err != nil {
		return "", fmt.Errorf("zone power: %w", err)
	}
	if ev.Error != "" {
		return "", fmt.Errorf("%s", ev.Error)
	}
	return ev.Message, nil
}
