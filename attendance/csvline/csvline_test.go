package csvline_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance/csvline"
)

var (
	errBad  = errors.New("bad value")
	errKind = errors.New("invalid input")
)

func TestMessages(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  *csvline.Error
		want string
	}{
		{"input", &csvline.Error{Line: 0, Err: errBad}, "bad value"},
		{"line", &csvline.Error{Line: 3, Err: errBad}, "line 3: bad value"},
		{"column", &csvline.Error{Line: 3, Column: "date", Err: errBad}, "line 3, column date: bad value"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	var lines []*csvline.Error
	for i := range 4 {
		lines = append(lines, &csvline.Error{Line: i + 2, Err: fmt.Errorf("%w: %d", errBad, i)})
	}
	e := &csvline.Errors{Summary: "x: %d error(s)", Limit: 2, Kind: errKind, Errs: lines}
	want := "x: 4 error(s)\n  line 2: bad value: 0\n  line 3: bad value: 1\n  ... and 2 more"
	if diff := cmp.Diff(want, e.Error()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	var err error = e
	if !errors.Is(err, errBad) || !errors.Is(err, errKind) {
		t.Error("errors.Is misses a line's sentinel or the kind")
	}
	e.Limit = 0
	if got := strings.Count(e.Error(), "\n"); got != 4 {
		t.Errorf("no limit: %d lines listed, want 4", got)
	}
}
