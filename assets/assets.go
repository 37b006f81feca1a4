// Package assets holds the files shipped to AWS that are not Go (seed data, bootstrap
// pieces) and embeds them, so the stack, the web server and the local lab read the same bytes.
package assets

import _ "embed"

// RecommendationsJSON is the seed data of the RecommendationService table.
//
//go:embed recommendations.json
var RecommendationsJSON []byte
