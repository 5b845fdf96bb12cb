// Package csvline reports the problems of a CSV input by line and column,
// all of them at once, so an admin fixes a spreadsheet in one go: the
// attendance CSV (attendance/stays), the contracts and absences CSVs
// (attendance/billing) and the roster import (kioskctl import).
package csvline

import (
	"fmt"
	"strings"
)

// Error is one problem in a CSV input: line 1 is the header, line 0 the
// input as a whole.
type Error struct {
	Line   int
	Column string // "" when the whole line is wrong
	Err    error
}

func (e *Error) Error() string {
	switch {
	case e.Line == 0:
		return e.Err.Error()
	case e.Column == "":
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d, column %s: %v", e.Line, e.Column, e.Err)
}

// Unwrap lets errors.Is find the line's sentinel.
func (e *Error) Unwrap() error { return e.Err }

// Errors is every problem of one input; a reader that returns it returns
// nothing else.
type Errors struct {
	// Summary is the message's first line, with %d for the number of
	// problems ("stays: %d error(s) in csv").
	Summary string
	// Limit bounds the lines listed in the message (not Errs); 0: all.
	Limit int
	// Kind, when set, is matched by errors.Is besides each line's sentinel.
	Kind error
	Errs []*Error
}

func (e *Errors) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, e.Summary, len(e.Errs))
	for i, le := range e.Errs {
		if e.Limit > 0 && i == e.Limit {
			fmt.Fprintf(&b, "\n  ... and %d more", len(e.Errs)-e.Limit)
			break
		}
		b.WriteString("\n  ")
		b.WriteString(le.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is find Kind and the sentinel of any line.
func (e *Errors) Unwrap() []error {
	out := make([]error, 0, len(e.Errs)+1)
	if e.Kind != nil {
		out = append(out, e.Kind)
	}
	for _, le := range e.Errs {
		out = append(out, le)
	}
	return out
}
