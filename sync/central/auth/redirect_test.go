package auth

import "testing"

func TestLocalPath(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"/", true},
		{"/locations/loc-1/roster?ok=3", true},
		{"/a/b#frag", true},
		{"/a%20b", false}, // decodes to whitespace
		{"", false},
		{"evil.example", false},
		{"//evil.example", false},
		{"///evil.example", false},
		{"/\\evil.example", false},
		{"\\/evil.example", false},
		{"\\\\evil.example", false},
		{"/a\\b", false},
		{"/\t/evil.example", false},
		{"/\n/evil.example", false},
		{"/\r\n/evil.example", false},
		{"/ /evil.example", false},
		{"/\x00/evil.example", false},
		{"/\x7f/evil.example", false},
		{"/\u00a0/evil.example", false},
		{"/\u2028/evil.example", false},
		{"/\u3000/evil.example", false},
		{"https:evil.example", false},
		{"https://evil.example", false},
		{"http:/evil.example", false},
		{"javascript:alert(1)", false},
		{"/%2F/evil.example", false},
		{"/%2f/evil.example", false},
		{"/%5Cevil.example", false},
		{"/%5cevil.example", false},
		{"/%09/evil.example", false},
		{"/%0a/evil.example", false},
		{"/%E2%80%A8/evil.example", false},
		{"/%zz", false},
		{"/%", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := LocalPath(tt.in)
			if ok != tt.ok || ok && got != tt.in {
				t.Errorf("LocalPath(%q) = %q, %v; want ok=%v", tt.in, got, ok, tt.ok)
			}
			if want := map[bool]string{true: tt.in, false: "/"}[tt.ok]; SafeRedirect(tt.in, "/") != want {
				t.Errorf("SafeRedirect(%q) = %q, want %q", tt.in, SafeRedirect(tt.in, "/"), want)
			}
		})
	}
}

func FuzzLocalPath(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "/%09/x", "https:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := LocalPath(s)
		if !ok {
			return
		}
		if len(p) > 1 && (p[1] == '/' || p[1] == '\\') || p[0] != '/' {
			t.Fatalf("accepted %q", s)
		}
	})
}
