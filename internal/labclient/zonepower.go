package labclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"healthchecklab/internal/awslocal/region"
)

// MaxZonePower bounds a zone's power interruption on the local lab.
const MaxZonePower = time.Hour

// ZonePowerRequest is the body of POST PathZonePower.
type ZonePowerRequest struct {
	Zone            string  `json:"zone"`             // a letter or zone name
	DurationSeconds float64 `json:"duration_seconds"` // how long the zone stays off
}

// ValidZonePower checks a power interruption's zone and duration and returns the zone's
// letter; the errors name what is valid.
func ValidZonePower(zone string, d time.Duration) (string, error) {
	l, err := region.ParseLetter(zone)
	if err != nil {
		return "", err
	}
	if d <= 0 || d > MaxZonePower {
		return "", fmt.Errorf("bad --duration %s: use a positive duration up to %s, such as 5m", d, MaxZonePower)
	}
	return l, nil
}

// ZonePower asks the lab to cut zone's power for d; it answers at once with what it did.
func (c *Client) ZonePower(ctx context.Context, zone string, d time.Duration) (string, error) {
	resp, err := c.do(ctx, http.MethodPost, PathZonePower, ZonePowerRequest{Zone: zone, DurationSeconds: d.Seconds()})
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

// ZonePowerMessage is what the lab answers a power interruption with.
func ZonePowerMessage(zone string, d time.Duration, until time.Time) string {
	letter, _ := region.ParseLetter(zone)
	return fmt.Sprintf("%s lost power for %s (until %s): its instance stops, launches there fail with InsufficientInstanceCapacity, "+
		"Auto Scaling launches its replacement in another zone and rebalances when the power is back",
		region.ZoneName(letter), d, until.Format(time.TimeOnly))
}
