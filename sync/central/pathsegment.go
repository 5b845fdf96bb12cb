package central

import (
	"net/url"
	"strings"
)

// PathSegment escapes s as one URL path segment, "." and ".." too (a
// browser would resolve those). The admin pages and the parents' portal
// put every id into a link's or form's path through it: ids come from
// rosters and devices that others name, and "../" in one must not move a
// button to another route.
func PathSegment(s string) string {
	if s == "." || s == ".." {
		return strings.Repeat("%2E", len(s))
	}
	return url.PathEscape(s)
}
