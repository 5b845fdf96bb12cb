package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

func init() {
	commands["export"] = command{summary: "attendance export (contract 6) from central's /api/v1/attendance", run: runExport}
}

// ExportQuery is what an export asks for; central's GET /api/v1/attendance
// takes the same parameters.
type ExportQuery struct {
	From, To                 attendance.Date
	Format                   string // csv or json
	Location, Group, ChildID string
}

// exportFromDB exports from a local kiosk database (-db). Another file of
// this command may set it; while it is nil, -db is refused.
var exportFromDB func(ctx context.Context, dbPath string, q ExportQuery, w io.Writer) error

// maxExportBytes bounds a response held in memory for validation.
const maxExportBytes = 1 << 30

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", stderr)
	central := fs.String("central", "", "central service base URL, e.g. http://127.0.0.1:8090")
	token := fs.String("token", "", "admin bearer token (default: $KIOSK_TOKEN)")
	db := fs.String("db", "", "export from a local kiosk database instead of central")
	from := fs.String("from", "", "first day, YYYY-MM-DD")
	to := fs.String("to", "", "last day, YYYY-MM-DD (inclusive)")
	format := fs.String("format", "csv", "csv (contract 6), csv-excel (; BOM, decimal comma), xlsx (needs -out or a redirect) or json")
	location := fs.String("location", "", "only this location id")
	group := fs.String("group", "", "only this group id")
	child := fs.String("child", "", "only this child id")
	out := fs.String("out", "", "write to this file instead of stdout")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	q := ExportQuery{Format: *format, Location: *location, Group: *group, ChildID: *child}
	var err error
	if q.From, err = attendance.ParseDate(*from); err != nil {
		return usageError{"-from: " + err.Error()}
	}
	if q.To, err = attendance.ParseDate(*to); err != nil {
		return usageError{"-to: " + err.Error()}
	}
	if q.To.Before(q.From) {
		return usageError{fmt.Sprintf("-to %s is before -from %s", q.To, q.From)}
	}
	sf, err := outputFormat(q.Format, *out, stdout, true)
	if err != nil {
		return err
	}
	if sf != "" && sf != sheet.CSV {
		// Central is asked for contract-6 CSV (checked before anything is
		// written) and the spreadsheet is made here.
		q.Format = string(sheet.CSV)
	}
	convert := func(w io.Writer, body []byte) error {
		if sf == "" || sf == sheet.CSV {
			_, err := w.Write(body)
			return err
		}
		st, err := stays.ReadCSV(bytes.NewReader(body))
		if err != nil {
			return err
		}
		return stays.Write(w, sf, st)
	}
	switch {
	case *db != "" && *central != "":
		return usageError{"use -central or -db, not both"}
	case *db != "":
		if exportFromDB == nil {
			return usageError{"-db is not available in this build; use -central"}
		}
		return writeOutput(*out, stdout, func(w io.Writer) error {
			var buf bytes.Buffer
			if err := exportFromDB(ctx, *db, q, &buf); err != nil {
				return err
			}
			return convert(w, buf.Bytes())
		})
	case *central == "":
		return usageError{"-central URL is required"}
	}
	tok := *token
	if tok == "" {
		tok = os.Getenv("KIOSK_TOKEN")
	}
	if tok == "" {
		return usageError{"-token (or $KIOSK_TOKEN) is required"}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	body, err := fetchAttendance(ctx, http.DefaultClient, *central, tok, q)
	if err != nil {
		return err
	}
	return writeOutput(*out, stdout, func(w io.Writer) error { return convert(w, body) })
}

// ErrCentral marks an answer from central that is not a valid export.
var ErrCentral = errors.New("export: central")

// fetchAttendance GETs the export and checks it before anything is written:
// a CSV must be valid contract-6 attendance, a JSON answer valid JSON.
func fetchAttendance(ctx context.Context, client *http.Client, base, token string, q ExportQuery) ([]byte, error) {
	u, err := url.Parse(strings.TrimRight(base, "/") + "/api/v1/attendance")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError{fmt.Sprintf("-central %q: want an http(s) URL", base)}
	}
	v := url.Values{"from": {q.From.String()}, "to": {q.To.String()}, "format": {q.Format}}
	for k, s := range map[string]string{"location": q.Location, "group": q.Group, "child": q.ChildID} {
		if s != "" {
			v.Set(k, s)
		}
	}
	u.RawQuery = v.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if q.Format == "json" {
		req.Header.Set("Accept", "application/json")
	} else {
		req.Header.Set("Accept", "text/csv")
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("export: GET %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxExportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("export: reading the answer of %s: %w", u.Host, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return nil, fmt.Errorf("%w answered %s: %s", ErrCentral, resp.Status, msg)
	}
	if len(body) > maxExportBytes {
		return nil, fmt.Errorf("%w: answer larger than %d bytes; export a shorter period", ErrCentral, maxExportBytes)
	}
	switch q.Format {
	case "csv":
		if _, err := stays.ReadCSV(bytes.NewReader(body)); err != nil {
			return nil, fmt.Errorf("%w returned CSV that is not contract-6 attendance: %w", ErrCentral, err)
		}
	case "json":
		var rows []map[string]any
		if err := json.Unmarshal(body, &rows); err != nil {
			return nil, fmt.Errorf("%w returned invalid JSON: %w", ErrCentral, err)
		}
	}
	return body, nil
}
