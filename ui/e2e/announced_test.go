package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestAnnouncedPickupAndExpectedOnStaffPanel (issue 17, the door side): a
// real central (-demo -parent-token) with the kiosk enrolled; Fatima
// announces Henk K. for Daan now and the neighbour for Daan at another time
// and reports Mila sick in the parents' API. The staff panel shows the
// group's expected children ("verwacht: 3, afgemeld: Mila (ziek)"), the
// announcement under Daan ("aangekondigd door Fatima B. om HH:MM"), in the
// neighbour's request "aangekondigd voor ..."; Henk takes Daan without
// staff; the public screen never shows any of it.
func TestAnnouncedPickupAndExpectedOnStaffPanel(t *testing.T) {
	s := setup(t)
	centralURL := startCentral(t, s)
	d := startDaemon(t, s, withArgs("-central", centralURL), withUndoGuard("0s")) // Daan is brought in seconds before Henk takes him
	waitRoster(t, d, 0)
	v0 := rosterVersion(t, d)

	tz, _ := time.LoadLocation("Europe/Amsterdam")
	now := time.Now().In(tz)
	if now.Hour() == 23 && now.Minute() >= 50 {
		t.Skip("needs a pickup window of at least ten minutes left today")
	}
	today := now.Format("2006-01-02")
	w := pickupWindowsAt(now)
	parent := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, centralURL+path, bytes.NewBufferString(body))
		req.Header.Set("Authorization", "Bearer p-token")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, m)
		}
		return m
	}
	announcedAt := time.Now().In(tz).Format("15:04")
	parent("POST", "/api/v1/parent/pickups", fmt.Sprintf(`{"children":["c-daan"],"person_name":"Henk K.","date":%q,"from":%q,"until":%q,"id_document":"rijbewijs"}`,
		today, w.henkFrom, w.henkUntil))
	early := fmt.Sprintf("%s–%s", w.neighbourFrom, w.neighbourUntil)
	parent("POST", "/api/v1/parent/pickups", fmt.Sprintf(`{"children":["c-daan"],"person_id":"p-buurvrouw","date":%q,"from":%q,"until":%q}`,
		today, w.neighbourFrom, w.neighbourUntil))
	parent("POST", "/api/v1/parent/absences", fmt.Sprintf(`{"child":"c-mila","date":%q,"kind":"sick","note":"koorts, blijft thuis"}`, today))
	waitRoster(t, d, v0+2)

	p := openPage(t, s, d)
	// Fatima brings Daan only (Mila is sick at home).
	v := d.tap(d.uid("Fatima"))
	p.waitScreen("choose", v.ID)
	p.tapEl(`.child-card[data-child="c-mila"]`)
	p.waitJS(`document.querySelector('.child-card[data-child="c-mila"]').getAttribute("aria-pressed") === "false"`)
	p.tapEl("#choose-confirm")
	p.waitScreen("ok", "")
	assertPublicQuiet(t, p)

	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")

	t.Run("expected per group", func(t *testing.T) {
		p.t = t
		got := eval[string](p, `(document.querySelector('.group-card[data-group="g-rupsen"] .expected') || {}).innerText || ""`)
		if got != "verwacht: 3, afgemeld: Mila (ziek)" {
			t.Errorf("Rupsen's expected line = %q", got)
		}
		if txt := p.text(); strings.Contains(txt, "koorts") {
			t.Error("the parent's note reached the kiosk")
		}
		p.shots("staff-expected")
	})

	t.Run("announcement under the child", func(t *testing.T) {
		p.t = t
		p.tapEl(`.tab[data-tab="present"]`)
		p.waitJS(`document.getElementById("present") !== null`)
		lines := eval[[]string](p, `[...document.querySelectorAll('#present [data-child="c-daan"] .announced')].map(e => e.innerText)`)
		joined := strings.Join(lines, " | ")
		for _, want := range []string{"Ophalen: Henk K. (opa), ", "aangekondigd door Fatima B. om " + announcedAt, "toont rijbewijs", "Els K. (buurvrouw), " + early} {
			if !strings.Contains(joined, want) {
				t.Errorf("Daan's announcements %q lack %q", joined, want)
			}
		}
		if got := eval[string](p, `(document.querySelector('#absent [data-child="c-mila"] .absence-pill') || {}).innerText || ""`); got != "ziek" {
			t.Errorf("Mila in the absent list: %q, want the pill ziek", got)
		}
		p.shots("staff-announced")

		p.tapEl("#lang")
		p.waitJS(`document.body.dataset.lang === "en"`)
		if txt := p.text(); !strings.Contains(txt, "announced by Fatima B. at "+announcedAt) || !strings.Contains(txt, "reported absent") && !strings.Contains(txt, "sick") {
			t.Errorf("English staff panel lacks the announcement: %q", txt)
		}
		p.shots("staff-announced-en")
		p.tapEl("#lang")
		p.waitJS(`document.body.dataset.lang === "nl"`)
	})
	p.tapEl("#staff-lock")

	t.Run("request outside the window", func(t *testing.T) {
		p.t = t
		v := d.tap(d.uid("Els K."))
		if v.Outcome != "needs_staff" || v.Reason != "not_announced" {
			t.Fatalf("Els K.: %s %s", v.Outcome, v.Reason)
		}
		assertPublicQuiet(t, p)
		d.tap(d.uid("Lotte"))
		p.waitJS(`document.getElementById("request") !== null`)
		got := eval[string](p, `[...document.querySelectorAll('#request .announced')].map(e => e.innerText).join(" | ")`)
		if !strings.Contains(got, "aangekondigd voor "+early) || !strings.Contains(got, "aangekondigd door Fatima B. om "+announcedAt) {
			t.Errorf("request's announcement = %q, want aangekondigd voor %s", got, early)
		}
		p.shots("staff-request-announced")
		p.tapEl("#staff-lock")
	})

	t.Run("released without staff", func(t *testing.T) {
		p.t = t
		v := d.tap(d.uid("Henk"))
		if v.Outcome != "check_out" || !v.Committed {
			t.Fatalf("Henk K.: %s %s (want Daan checked out without staff)", v.Outcome, v.Reason)
		}
		p.waitScreen("ok", v.ID)
		assertPublicQuiet(t, p)
		p.shots("public-released")
		d.tap(d.uid("Lotte"))
		p.waitScreen("staff", "")
		p.tapEl(`.tab[data-tab="present"]`)
		got := eval[string](p, `[...document.querySelectorAll('#absent [data-child="c-daan"] .announced')].map(e => e.innerText).join(" | ")`)
		if !strings.Contains(got, "aangekondigd door Fatima B. om "+announcedAt) {
			t.Errorf("Daan after the pickup: %q", got)
		}
		p.shots("staff-after-pickup")
	})
}

// assertPublicQuiet: the public screen shows no announcement, announcer,
// absence or surname.
func assertPublicQuiet(t *testing.T, p *page) {
	t.Helper()
	if got := eval[string](p, `document.body.dataset.public`); got == "false" {
		return
	}
	txt := p.text()
	for _, secret := range []string{"aangekondigd", "Fatima B.", "Henk K.", "Els K.", "ziek", "afgemeld", "verwacht", "rijbewijs", "opa"} {
		if strings.Contains(txt, secret) {
			t.Errorf("public screen shows %q: %q", secret, txt)
		}
	}
}

// startCentral builds and starts central -demo with the parent token
// p-token; it returns its URL.
func startCentral(t *testing.T, s *suite) string {
	t.Helper()
	bin := filepath.Join(s.tmp, "central")
	if _, err := os.Stat(bin); err != nil {
		gomod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			t.Fatal(err)
		}
		build := exec.Command("go", "build", "-o", bin, "./cmd/central")
		build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build ./cmd/central: %v\n%s", err, out)
		}
	}
	addr := freePort(t)
	var log bytes.Buffer
	cmd := exec.Command(bin, "-demo", "-admin-token", "a-token", "-parent-token", "p-token", "-listen", addr,
		"-db", filepath.Join(t.TempDir(), "central.db"), "-data", t.TempDir(), "-log-level", "warn")
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGKILL); <-done })
	url := "http://" + addr
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		select {
		case <-done:
			t.Fatalf("central exited:\n%s", log.String())
		default:
		}
		if resp, err := http.Get(url + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
	}
	t.Fatal("central not healthy")
	return ""
}

func rosterVersion(t *testing.T, d *daemon) int64 {
	t.Helper()
	var st struct {
		Sync struct {
			RosterVersion int64 `json:"roster_version"`
		} `json:"sync"`
	}
	d.getJSON("/api/v1/status", &st)
	return st.Sync.RosterVersion
}

// waitRoster waits until the kiosk has a roster version above v from
// central.
func waitRoster(t *testing.T, d *daemon, v int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if rosterVersion(t, d) > v {
			return
		}
	}
	t.Fatalf("the kiosk has no roster above v%d from central:\n%s", v, d.logs())
}

// pickupWindows are the announced windows of the test, as HH:MM of today.
type pickupWindows struct{ henkFrom, henkUntil, neighbourFrom, neighbourUntil string }

// pickupWindowsAt picks them for local time now (before 23:50) on the wall
// clock, as the door compares them (roster.Index.Announcement): Henk's from
// a minute ago (00:00 at most) to an hour on (23:59 at least); the
// neighbour's another hour of today, three hours ago or, before 03:00, two
// hours on. Adding durations instead gave windows that end before they
// start: 23:59-01:00 at midnight, and 02:xx-02:xx around the hour a
// clock going back repeats.
func pickupWindowsAt(now time.Time) pickupWindows {
	m := now.Hour()*60 + now.Minute()
	hm := func(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
	w := pickupWindows{henkFrom: hm(max(m-1, 0)), henkUntil: hm(min(m+60, 23*60+59))}
	if m >= 3*60 {
		w.neighbourFrom, w.neighbourUntil = hm(m-3*60), hm(m-2*60)
	} else {
		w.neighbourFrom, w.neighbourUntil = hm(m+2*60), hm(m+3*60)
	}
	return w
}

// TestPickupWindowsEveryMinute: at every minute the announced-pickup test
// runs (00:00-23:49), on an ordinary day and on both days the clocks
// change, Henk's window holds now and the neighbour's does not, and both
// are a window of today the parents' API accepts (until after from).
func TestPickupWindowsEveryMinute(t *testing.T) {
	tz, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Skip(err)
	}
	clock := func(s string) int {
		var h, m int
		fmt.Sscanf(s, "%d:%d", &h, &m)
		return h*60 + m
	}
	for _, day := range []string{"2026-06-10", "2026-03-29", "2026-10-25"} {
		d, _ := time.ParseInLocation("2006-01-02", day, tz)
		for now := d; now.Format("2006-01-02") == day; now = now.Add(time.Minute) {
			if now.Hour() == 23 && now.Minute() >= 50 {
				break
			}
			w := pickupWindowsAt(now)
			m := now.Hour()*60 + now.Minute()
			hf, hu, nf, nu := clock(w.henkFrom), clock(w.henkUntil), clock(w.neighbourFrom), clock(w.neighbourUntil)
			if hu <= hf || m < hf || m > hu || hu-m < 9 {
				t.Errorf("%s: Henk's window %s-%s", now.Format("2006-01-02 15:04 MST"), w.henkFrom, w.henkUntil)
			}
			if nu <= nf || m >= nf && m <= nu {
				t.Errorf("%s: the neighbour's window %s-%s", now.Format("2006-01-02 15:04 MST"), w.neighbourFrom, w.neighbourUntil)
			}
		}
	}
}
