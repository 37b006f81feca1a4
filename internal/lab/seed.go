package lab

import (
	"encoding/json"
	"fmt"

	"healthchecklab/assets"
)

// Recommendation is one row of the RecommendationService table.
type Recommendation struct {
	UserID   int    `json:"userID"`
	UserName string `json:"userName"`
	Result   string `json:"result"`
}

// SeedData is the content of assets/recommendations.json.
type SeedData struct {
	ServiceAPI string           `json:"serviceAPI"`
	Items      []Recommendation `json:"items"`
}

// ParseSeed decodes and validates seed data: the ServiceAPI value must be the lab's, user IDs
// unique, and the probe row present with the expected values.
func ParseSeed(data []byte) (SeedData, error) {
	var s SeedData
	if err := json.Unmarshal(data, &s); err != nil {
		return SeedData{}, fmt.Errorf("seed data: %w", err)
	}
	if s.ServiceAPI != ServiceAPI {
		return SeedData{}, fmt.Errorf("seed data: serviceAPI is %q, want %q", s.ServiceAPI, ServiceAPI)
	}
	seen := map[int]bool{}
	probe := false
	for _, it := range s.Items {
		if seen[it.UserID] {
			return SeedData{}, fmt.Errorf("seed data: userID %d appears twice", it.UserID)
		}
		seen[it.UserID] = true
		if it.UserID == ProbeUserID {
			if it.UserName != ProbeValue || it.Result != ProbeValue {
				return SeedData{}, fmt.Errorf("seed data: probe row %d must read %q/%q", ProbeUserID, ProbeValue, ProbeValue)
			}
			probe = true
		}
	}
	if !probe {
		return SeedData{}, fmt.Errorf("seed data: probe row userID %d is missing", ProbeUserID)
	}
	return s, nil
}

// Seed returns the embedded seed data of the lab. It panics only if the embedded file is
// broken, which the package tests rule out.
func Seed() SeedData {
	s, err := ParseSeed(assets.RecommendationsJSON)
	if err != nil {
		panic(err)
	}
	return s
}
