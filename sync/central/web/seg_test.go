package web

import (
	"testing"

	"github.com/kinderdeur/kiosk/sync/central/centraltest"
)

// TestFormPathsEscapeIDs: every id put into a link or form path of a page
// goes through seg (see centraltest.CheckPathsEscaped).
func TestFormPathsEscapeIDs(t *testing.T) { centraltest.CheckPathsEscaped(t, assets) }
