// Package widget holds the web assets citybot serves: for now the plain demo page, until the
// embeddable widget replaces it.
package widget

import "embed"

// FS holds the assets.
//
//go:embed demo.html
var FS embed.FS
