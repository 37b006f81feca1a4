package query

import "time"

// Time formats t as the Query protocols write timestamps (ISO 8601, UTC, milliseconds).
func Time(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
