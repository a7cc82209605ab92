// Package schemas holds the JSON Schemas (draft 2020-12) of everything the
// service publishes, as files consumers can read without Go: events/ has one
// file per event type, named for the type ("network_token.updated.json").
//
// The files live at the top of the repository, where consumers look for
// them; this package exists only to embed them, since go:embed cannot reach
// a parent folder. shared/eventschema compiles and applies them.
package schemas

import "embed"

// Events holds events/<type>.json for every event type.
//
//go:embed events/*.json
var Events embed.FS
