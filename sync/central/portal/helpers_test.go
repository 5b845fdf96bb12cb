package portal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/audit"
	"github.com/kinderdeur/kiosk/attendance/roster"
	"github.com/kinderdeur/kiosk/sync/central"
	"github.com/kinderdeur/kiosk/sync/central/auth"
	"github.com/kinderdeur/kiosk/sync/central/centraltest"
	"github.com/kinderdeur/kiosk/sync/central/portal"
)

// Tokens of the test parents: Fatima (Mila, Daan at De Regenboog; Sara at
// BSO De Zon), Ingrid (Julia, Lucas) and Omar (Yara at De Zon).
const (
	tokFatima = "tok-fatima"
	tokIngrid = "tok-ingrid"
	tokOmar   = "tok-omar"
	tokEva    = "tok-eva"  // Eva S. (Tess, Milan)
	tokKees   = "tok-kees" // Kees B., Fatima's co-guardian of Mila and Daan
)

var cheapHasher = auth.Hasher{Params: auth.PasswordParams{Time: 1, Memory: 1024, Threads: 1, KeyLen: 32, SaltLen: 16}}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// mailbox is an in-process SMTP server (go-smtp) that keeps every message.
type mailbox struct {
	mu   sync.Mutex
	msgs []string
	addr string
}

type smtpSession struct{ mb *mailbox }

func (s *smtpSession) AuthPlain(string, string) error       { return nil }
func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Reset()                               {}
func (s *smtpSession) Logout() error                        { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	s.mb.msgs = append(s.mb.msgs, string(b))
	s.mb.mu.Unlock()
	return nil
}

func newMailbox(t testing.TB) *mailbox {
	mb := &mailbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpSession{mb: mb}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.addr = ln.Addr().String()
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return mb
}

var codeRe = regexp.MustCompile(`code[^:]*: (\d{6})`)

// code waits for the newest e-mail to to and returns its code.
func (mb *mailbox) code(t testing.TB, to string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		mb.mu.Lock()
		for i := len(mb.msgs) - 1; i >= 0; i-- {
			if strings.Contains(mb.msgs[i], "To: "+to) {
				if m := codeRe.FindStringSubmatch(mb.msgs[i]); m != nil {
					mb.mu.Unlock()
					return m[1]
				}
			}
		}
		mb.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no code e-mailed to %s", to)
	return ""
}

func (mb *mailbox) count() int { mb.mu.Lock(); defer mb.mu.Unlock(); return len(mb.msgs) }

type env struct {
	db    *central.DB
	audit *audit.Log
	p     *portal.Server
	srv   *httptest.Server
	mb    *mailbox
	clock *clock
	today attendance.Date
}

// newEnv starts the portal on backend b (with an unstarted-then-started
// httptest server on localhost, so passkeys have a valid RP ID), the demo
// organisation, a second location and an in-process SMTP server.
func newEnv(t testing.TB, b centraltest.Backend) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 17, 13, 0, 0, 0, time.UTC)} // Tuesday 14:00 in Amsterdam
	db, err := central.Open(ctx, b.DSN(t), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	day := attendance.DateOf(clk.Now())
	if err := db.Demo.SeedDemo(ctx, day); err != nil {
		t.Fatal(err)
	}
	fatima, err := db.Demo.SeedDemoParents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ingrid, err := db.Parents.Account(ctx, central.DemoGuardianEmails["p-ingrid"])
	if err != nil {
		t.Fatal(err)
	}
	eva, err := db.Parents.Account(ctx, central.DemoGuardianEmails["p-eva"])
	if err != nil {
		t.Fatal(err)
	}
	kees, err := db.Parents.Account(ctx, central.DemoGuardianEmails["p-kees"])
	if err != nil {
		t.Fatal(err)
	}
	// A second location: Fatima's Sara and another family's Yara.
	if err := db.Sites.PutLocation(ctx, "loc-zon", "BSO De Zon", nil); err != nil {
		t.Fatal(err)
	}
	zon := roster.Roster{Location: roster.Location{ID: "loc-zon", Name: "BSO De Zon", TimeZone: "Europe/Amsterdam", Country: "NL", Kind: "bso"},
		Groups:         []roster.Group{{ID: "g-zon", Name: "Zonnetjes", Policy: "nl-bso"}},
		Children:       []roster.Child{{ID: "c-sara", FirstName: "Sara", GroupID: "g-zon"}, {ID: "c-yara", FirstName: "Yara", GroupID: "g-zon"}},
		People:         []roster.Person{{ID: "z-fatima", Name: "Fatima B."}, {ID: "z-omar", Name: "Omar Y."}, {ID: "z-tante", Name: "Nora Y.", Relation: "tante"}},
		Guardianships:  []roster.Guardianship{{ChildID: "c-sara", PersonID: "z-fatima"}, {ChildID: "c-yara", PersonID: "z-omar"}},
		Authorisations: []roster.Authorisation{{ChildID: "c-yara", PersonID: "z-tante"}},
	}
	if _, err := db.Sites.PutRoster(ctx, zon); err != nil {
		t.Fatal(err)
	}
	if err := db.Parents.SetGuardianEmail(ctx, "loc-zon", "z-fatima", "Fatima@Ouders.demo"); err != nil {
		t.Fatal(err)
	}
	if err := db.Parents.SetGuardianEmail(ctx, "loc-zon", "z-omar", "omar@ouders.demo"); err != nil {
		t.Fatal(err)
	}
	omar, err := db.Parents.Account(ctx, "omar@ouders.demo")
	if err != nil {
		t.Fatal(err)
	}
	al, err := db.OpenAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mb := newMailbox(t)
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	srv.Start()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p, err := portal.New(portal.Config{DB: db, Audit: al, Origin: "http://localhost:" + port,
		Mailer:       &portal.SMTPMailer{Addr: mb.addr, From: "ouders@kinderdeur.test", InsecurePlain: true},
		ParentTokens: map[string]string{tokFatima: fatima.ID, tokIngrid: ingrid.ID, tokOmar: omar.ID, tokEva: eva.ID, tokKees: kees.ID},
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, nil)), Now: clk.Now, CodeHasher: cheapHasher, LivePoll: 100 * time.Millisecond,
		CodeLimiter: auth.NewLimiter(100, 1000, nil), VerifyLimiter: auth.NewLimiter(100, 1000, nil)})
	if err != nil {
		t.Fatal(err)
	}
	h = portal.Mount(p.Handler(), http.NotFoundHandler())
	return &env{db: db, audit: al, p: p, srv: srv, mb: mb, clock: clk, today: day}
}

// url is the server's URL with localhost (WebAuthn needs a host name).
func (e *env) url(path string) string {
	return strings.Replace(e.srv.URL, "127.0.0.1", "localhost", 1) + path
}

type answer struct {
	status int
	body   string
	header http.Header
}

func (a answer) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(a.body), v); err != nil {
		t.Fatalf("decode %q: %v", a.body, err)
	}
}

// do sends a request with a bearer token ("" none) and a JSON body.
func (e *env) do(t testing.TB, token, method, path string, body any) answer {
	t.Helper()
	return e.doWith(t, noRedirect, token, "", method, path, body)
}

func (e *env) doWith(t testing.TB, c *http.Client, token, csrf, method, path string, body any) answer {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url(path), rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, string(b), res.Header}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func jarClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) roster(t testing.TB, loc string) roster.Roster {
	t.Helper()
	r, _, err := e.db.Sites.Roster(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
