package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/calendar"
	"github.com/kinderdeur/kiosk/attendance/stays"
)

// fakeCentral serves contract-6 attendance built by the real stays package
// from door events, as central's GET /api/v1/attendance does.
func fakeCentral(t *testing.T, token string) (*httptest.Server, *[]string) {
	t.Helper()
	ams, _ := time.LoadLocation("Europe/Amsterdam")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, ams)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	events := []attendance.Event{
		{Seq: 1, Type: attendance.ChildCheckIn, ChildID: "c1", GroupID: "bso", Wall: at("2026-11-16 14:00"), ClockSynced: true},
		{Seq: 2, Type: attendance.ChildCheckOut, ChildID: "c1", GroupID: "bso", Wall: at("2026-11-16 15:40"), ClockSynced: true, ConfirmedBy: "s1"},
		{Seq: 3, Type: attendance.ChildCheckIn, ChildID: "c2", GroupID: "bso", Wall: at("2026-11-18 12:00"), ClockSynced: true},
		{Seq: 4, Type: attendance.ChildCheckOut, ChildID: "c2", GroupID: "bso", Wall: at("2026-11-18 17:00"), ClockSynced: true},
	}
	s, err := stays.Build(events, stays.Options{Calendar: calendar.MustNew(calendar.DefaultConfig()), Location: "burcht",
		Child: func(id string) (stays.Child, bool) {
			return stays.Child{Name: map[string]string{"c1": "Noor", "c2": "Daan"}[id]}, true
		}})
	if err != nil {
		t.Fatal(err)
	}
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		if r.URL.Path != "/api/v1/attendance" {
			http.NotFound(w, r)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		switch r.URL.Query().Get("format") {
		case "json":
			w.Header().Set("Content-Type", "application/json")
			stays.WriteJSON(w, s)
		default:
			w.Header().Set("Content-Type", "text/csv")
			stays.WriteCSV(w, s)
		}
	}))
	t.Cleanup(srv.Close)
	return srv, &queries
}

func TestExportCentral(t *testing.T) {
	srv, queries := fakeCentral(t, "s3cret")
	code, out, errs := runCmd(t, "export", "-central", srv.URL, "-token", "s3cret", "-from", "2026-11-01", "-to", "2026-11-30", "-group", "bso")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want := "child_id,child_name,group,date,check_in,check_out,minutes,day_type,location,guardian_id,time_quality,flags\n" +
		"c1,Noor,bso,2026-11-16,14:00,15:40,100,weekday,burcht,,ok,pickup_confirmed\n" +
		"c2,Daan,bso,2026-11-18,12:00,17:00,300,wednesday,burcht,,ok,\n"
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("export csv (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"format=csv&from=2026-11-01&group=bso&to=2026-11-30"}, *queries); diff != "" {
		t.Errorf("query (-want +got):\n%s", diff)
	}

	// The export feeds kioskctl bill unchanged.
	file := filepath.Join(t.TempDir(), "att.csv")
	if code, _, errs := runCmd(t, "export", "-central", srv.URL+"/", "-token", "s3cret", "-from", "2026-11-01", "-to", "2026-11-30", "-out", file); code != 0 {
		t.Fatalf("export -out: exit %d: %s", code, errs)
	}
	code, out, errs = runCmd(t, "bill", "-profile", "anzegem-bko", "-in", file)
	if code != 0 {
		t.Fatalf("bill: exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "c2,2026-11-18,wednesday,300,300,725,anzegem-bko/forfait-2") {
		t.Errorf("bill of the export:\n%s", out)
	}

	code, out, errs = runCmd(t, "export", "-central", srv.URL, "-token", "s3cret", "-from", "2026-11-01", "-to", "2026-11-30", "-format", "json")
	if code != 0 || !strings.Contains(out, `"day_type": "wednesday"`) {
		t.Errorf("export json: exit %d %s\n%s", code, errs, out)
	}
}

func TestExportErrors(t *testing.T) {
	srv, _ := fakeCentral(t, "s3cret")
	t.Setenv("KIOSK_TOKEN", "")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"wrong token", []string{"-central", srv.URL, "-token", "nope", "-from", "2026-11-01", "-to", "2026-11-30"}, 1, "401 Unauthorized: unauthorized"},
		{"no token", []string{"-central", srv.URL, "-from", "2026-11-01", "-to", "2026-11-30"}, 2, "-token"},
		{"bad date", []string{"-central", srv.URL, "-token", "s3cret", "-from", "2026-11-31", "-to", "2026-11-30"}, 2, "-from: date"},
		{"to before from", []string{"-central", srv.URL, "-token", "s3cret", "-from", "2026-11-02", "-to", "2026-11-01"}, 2, "before -from"},
		{"bad format", []string{"-central", srv.URL, "-token", "s3cret", "-from", "2026-11-01", "-to", "2026-11-30", "-format", "xml"}, 2, "-format"},
		{"no central", []string{"-token", "s3cret", "-from", "2026-11-01", "-to", "2026-11-30"}, 2, "-central URL is required"},
		{"bad url", []string{"-central", "ftp://x", "-token", "s3cret", "-from", "2026-11-01", "-to", "2026-11-30"}, 2, "want an http(s) URL"},
		{"db not here", []string{"-db", "k.sqlite", "-from", "2026-11-01", "-to", "2026-11-30"}, 2, "-db is not available"},
		{"unreachable", []string{"-central", "http://127.0.0.1:1", "-token", "s3cret", "-from", "2026-11-01", "-to", "2026-11-30", "-timeout", "2s"}, 1, "export: GET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "db not here" && exportFromDB != nil {
				t.Skip("a -db exporter is linked in")
			}
			code, _, errs := runCmd(t, append([]string{"export"}, tt.args...)...)
			if code != tt.code || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errs, tt.code, tt.want)
			}
			if strings.Contains(errs, "s3cret") {
				t.Errorf("the token leaked into stderr: %s", errs)
			}
		})
	}
}

func TestExportRejectsInvalidCSV(t *testing.T) {
	out := filepath.Join(t.TempDir(), "x.csv")
	srv2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("child_id,date\nc1,2026-11-16\n"))
	}))
	defer srv2.Close()
	code, _, errs := runCmd(t, "export", "-central", srv2.URL, "-token", "t", "-from", "2026-11-01", "-to", "2026-11-30", "-out", out)
	if code != 1 || !strings.Contains(errs, "not contract-6 attendance") || !strings.Contains(errs, "line 1, column check_in: missing column") {
		t.Errorf("exit %d: %s", code, errs)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("an invalid export was written to %s", out)
	}
}
