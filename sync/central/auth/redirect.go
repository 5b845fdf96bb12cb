package auth

import (
	"net/url"
	"strings"
	"unicode"
)

// LocalPath reports whether target (an already decoded ?next= value) is a
// same-origin relative path that every browser resolves on this site, and
// returns it. It is the one check behind every redirect to a target the
// client supplied.
//
// Browsers are lenient: they strip tabs and newlines from URLs, treat a
// backslash like a slash, and take "//host" or "/\host" as another host.
// So a target must start with exactly one '/', and neither it nor its
// percent-decoded form may contain a backslash, a control character,
// whitespace or a "//" at the start; parsed, it must have no scheme, host
// or user.
func LocalPath(target string) (string, bool) {
	if !localShape(target) {
		return "", false
	}
	// An encoded variant (/%2F/host, /%5Chost, /%09/host) must be as safe
	// once decoded, in case a proxy or a later hop decodes it.
	if dec, err := url.PathUnescape(target); err != nil || !localShape(dec) {
		return "", false
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	return target, true
}

func localShape(s string) bool {
	if len(s) == 0 || len(s) > 2048 || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for _, r := range s {
		if r == '\\' || r < 0x20 || r == 0x7f || unicode.IsSpace(r) || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar {
			return false
		}
	}
	return true
}

// SafeRedirect returns target when LocalPath accepts it, else fallback.
func SafeRedirect(target, fallback string) string {
	if p, ok := LocalPath(target); ok {
		return p
	}
	return fallback
}
