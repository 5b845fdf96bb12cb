package rules

import "strconv"

// Count words a number of things in Dutch with the right form, for the
// staff notes: Count(1, "kind", "kinderen") is "1 kind", Count(2, ...) "2
// kinderen" (never "kind(eren)").
func Count(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
