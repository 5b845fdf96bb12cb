package readers

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestDurationJSON(t *testing.T) {
	for _, tt := range []struct {
		name, in string
		want     time.Duration
		wantErr  string
	}{
		{"string", `"25ms"`, 25 * time.Millisecond, ""},
		{"null keeps the value", `null`, time.Hour, ""},
		{"bad string", `"soon"`, time.Hour, `duration "soon": want e.g. 60s or 30ms`},
		{"number", `25`, time.Hour, "cannot unmarshal number"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := Duration(time.Hour)
			err := json.Unmarshal([]byte(tt.in), &d)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Unmarshal(%s) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			if time.Duration(d) != tt.want {
				t.Errorf("Unmarshal(%s) = %v, want %v", tt.in, time.Duration(d), tt.want)
			}
		})
	}
	b, err := json.Marshal(Duration(time.Minute))
	if err != nil || string(b) != `"1m0s"` {
		t.Errorf("Marshal(1m) = %s, %v", b, err)
	}
}
