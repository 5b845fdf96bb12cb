package e2e

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The words on the glass (issue 14, item 10): what a parent in a hurry and
// staff with a queue read on the 7-inch screen.

// fakeAtJS rewrites the "at" of every decision the page receives to
// window.__fakeAt while that is set: the server's clock stays real, the
// page sees a decision made at the location at the time under test.
const fakeAtJS = `(() => {
  const rewrite = (e) => {
    if (!window.__fakeAt) return e;
    try {
      const m = JSON.parse(e.data);
      if (m.type === "decision" && m.decision) { m.decision.at = window.__fakeAt; return new MessageEvent("message", { data: JSON.stringify(m) }); }
    } catch {}
    return e;
  };
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    set onmessage(f) { super.onmessage = f ? (e) => f.call(this, rewrite(e)) : f; }
    get onmessage() { return super.onmessage; }
    addEventListener(type, f, o) {
      if (type === "message" && typeof f === "function") return super.addEventListener(type, (e) => f.call(this, rewrite(e)), o);
      return super.addEventListener(type, f, o);
    }
  };
})()`

// openPageAt opens the kiosk page like openPage, in a browser whose own
// time zone is tz (not the location's) and with the decision-time hook.
func openPageAt(t testing.TB, s *suite, d *daemon, tz string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(s.browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil { // opens the tab: no timeout
		t.Fatalf("open tab: %v", err)
	}
	cctx, ccancel := context.WithTimeout(ctx, 10*time.Second)
	defer ccancel()
	if _, err := chromedp.Call(cctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: tz}); err != nil {
		t.Fatalf("Emulation.setTimezoneOverride: %v", err)
	}
	if _, err := chromedp.Call(cctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: fakeAtJS}); err != nil {
		t.Fatalf("Page.addScriptToEvaluateOnNewDocument: %v", err)
	}
	p := &page{t: t, ctx: ctx, d: d, art: artefacts(t), w: 800, h: 480}
	p.do(chromedp.EmulateViewport(p.w, p.h, chromedp.EmulateTouch), chromedp.Navigate(d.url()+"/"))
	p.waitJS(`document.body.dataset.conn === "up" && document.body.dataset.screen === "idle"`)
	return p
}

// TestWordsGreetingByLocationTime: the check-in greeting follows the time
// of day at the location (the snapshot's zone), not the browser's: a
// check-in at 18:58 in Amsterdam is "Goedenavond" on a screen whose own
// clock says 02:58 (Tokyo). Also: the result screen names each child once.
func TestWordsGreetingByLocationTime(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPageAt(t, s, d, "Asia/Tokyo")
	if got := eval[string](p, `new Intl.DateTimeFormat().resolvedOptions().timeZone`); got != "Asia/Tokyo" {
		t.Fatalf("browser zone %q, want the Tokyo override", got)
	}
	cases := []struct {
		at, lang, guardian, child, want string
	}{
		{"2026-03-02T18:58:00+01:00", "nl", "Youssef", "Zoë", "Goedenavond, Youssef"},
		{"2026-03-02T11:59:00+01:00", "nl", "Ruben", "Levi", "Goedemorgen, Ruben"},
		{"2026-07-02T12:00:00+02:00", "en", "Fatima", "Mila", "Good afternoon, Fatima"},
	}
	for _, tc := range cases {
		t.Run(tc.guardian, func(t *testing.T) {
			p.t = t
			if got := eval[string](p, `document.body.dataset.lang`); got != tc.lang {
				p.tapEl("#lang")
				p.waitJS(fmt.Sprintf(`document.body.dataset.lang === %q`, tc.lang))
			}
			eval[bool](p, fmt.Sprintf(`(window.__fakeAt = %q, true)`, tc.at))
			checkInAll(t, p, d.uid(tc.guardian))
			got := eval[string](p, `(document.querySelector("#screen .greeting") || {}).textContent || ""`)
			if got != tc.want {
				t.Errorf("check-in at %s (location time) on a Tokyo screen: greeting %q, want %q", tc.at, got, tc.want)
			}
			txt := p.text()
			if n := strings.Count(txt, tc.child); n != 1 {
				t.Errorf("result screen names %s %d times, want once: %q", tc.child, n, txt)
			}
			p.shots("greeting-" + tc.lang)
		})
	}
	p.t = t
	eval[bool](p, `(window.__fakeAt = "", true)`)
	// Two children: each named once.
	v := d.tap(d.uid("Ingrid"))
	p.waitScreen("choose", v.ID)
	p.tapEl("#choose-confirm")
	p.waitScreen("ok", "")
	txt := p.text()
	for _, c := range []string{"Julia", "Lucas"} {
		if n := strings.Count(txt, c); n != 1 {
			t.Errorf("result screen names %s %d times, want once: %q", c, n, txt)
		}
	}
	p.shots("two-children")
}

// TestWordsChooseHintPerDirection: the hint on the choose screen says what
// tapping a child does in this direction: not checking it in at drop-off,
// leaving it here at pick-up, and with both directions: pick the children.
//
// Without the undo guard: the other parent taps seconds after the first
// here. With it, that tap asks with nothing selected (its hint:
// TestReviewSecondParentAtDropOff).
func TestWordsChooseHintPerDirection(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s, withUndoGuard("0s"))
	p := openPage(t, s, d)
	hint := func() string {
		return eval[string](p, `(document.querySelector(".choose-head .sub") || {}).textContent || ""`)
	}

	// Drop-off: Fatima brings Mila and Daan; Mila only.
	v := d.tap(d.uid("Fatima"))
	p.waitScreen("choose", v.ID)
	if got, want := hint(), "Tik op een kind om het niet in te checken"; got != want {
		t.Errorf("drop-off hint %q, want %q", got, want)
	}
	p.shots("choose-in")
	p.tapEl(`.child-card[data-child="c-daan"]`)
	p.waitJS(`document.querySelector('.child-card[data-child="c-daan"]').getAttribute("aria-pressed") === "false"`)
	p.tapEl("#choose-confirm")
	p.waitScreen("ok", "")

	// Both directions: Kees (the other guardian) finds Mila in, Daan out.
	v = d.tap(d.uid("Kees"))
	if v.Outcome != "choose_children" {
		t.Fatalf("Kees's tap: outcome %q, want choose_children", v.Outcome)
	}
	p.waitScreen("choose", v.ID)
	if got, want := hint(), "Tik op de kinderen die je brengt of ophaalt"; got != want {
		t.Errorf("mixed hint %q, want %q", got, want)
	}
	p.shots("choose-mixed")
	p.tapEl("#lang")
	p.waitJS(`document.body.dataset.lang === "en"`)
	if got, want := hint(), "Tap the children you are dropping off or picking up"; got != want {
		t.Errorf("mixed hint (EN) %q, want %q", got, want)
	}
	p.tapEl("#lang")
	p.waitJS(`document.body.dataset.lang === "nl"`)
	p.tapEl("#choose-cancel")
	p.waitScreen("idle", "")

	// Pick-up: Sanne brings all three, Mark (the other parent) takes them.
	checkInAll(t, p, d.uid("Sanne"))
	v = d.tap(d.uid("Mark"))
	p.waitScreen("choose", v.ID)
	if got, want := hint(), "Tik op een kind om het niet mee te nemen"; got != want {
		t.Errorf("pick-up hint %q, want %q", got, want)
	}
	p.shots("choose-out")
	p.tapEl("#choose-cancel")
}

// i18nStrings loads the page's words (ui/web/i18n.js) as the browser sees
// them.
func i18nStrings(p *page) map[string]map[string]string {
	return eval[map[string]map[string]string](p, `import("/i18n.js").then(m => m.strings)`)
}

// TestWordsPlurals: one helper words counts in NL and EN (1 kind, 2
// kinderen; 1 child, 2 children); no "kind(eren)" or "1 kinderen" on the
// glass or in the door's notes.
func TestWordsPlurals(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	got := eval[[]string](p, `import("/i18n.js").then(m => typeof m.count !== "function" ? ["i18n.js has no count helper"] :
	  [m.count("nl", 0, "child"), m.count("nl", 1, "child"), m.count("nl", 2, "child"), m.count("en", 1, "child"), m.count("en", 2, "child"),
	   m.count("nl", 1, "staff"), m.count("nl", 3, "staff"), m.count("en", 1, "staff"), m.count("en", 3, "staff")])`)
	want := []string{"0 kinderen", "1 kind", "2 kinderen", "1 child", "2 children", "1 medewerker", "3 medewerkers", "1 staff member", "3 staff members"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("count helper:\n got %q\nwant %q", got, want)
	}
	bracket := regexp.MustCompile(`\w\((s|en|eren|ren)\)`)
	for lang, m := range i18nStrings(p) {
		for k, v := range m {
			if bracket.MatchString(v) {
				t.Errorf("i18n %s %s = %q: a bracketed plural", lang, k, v)
			}
		}
	}
	for _, lit := range goStringLiterals(t) {
		if bracket.MatchString(lit.value) {
			t.Errorf("%s: %q: a bracketed plural in a staff note", lit.pos, lit.value)
		}
	}

	// The staff panel: one child in a group is "1 kind", in EN "1 child".
	checkInAll(t, p, d.uid("Youssef")) // Zoë, Vlinders
	checkInAll(t, p, d.uid("Sanne"))   // Noah (Rupsen), Emma (Vlinders), Sem (BSO)
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	cards := func() []string {
		return eval[[]string](p, `[...document.querySelectorAll(".group-card")].map(g => g.dataset.group + ":" + g.querySelector(".group-nums").innerText.replace(/\s+/g, " "))`)
	}
	wantNL := []string{"g-rupsen:1 kind 1 / 1 medewerker (nodig)", "g-vlinders:2 kinderen 0 / 1 medewerker (nodig)", "g-bikkels:1 kind 0 / 1 medewerker (nodig)"}
	if got := cards(); strings.Join(got, "|") != strings.Join(wantNL, "|") {
		t.Errorf("group cards:\n got %q\nwant %q", got, wantNL)
	}
	p.tapEl("#lang")
	p.waitJS(`document.body.dataset.lang === "en"`)
	wantEN := []string{"g-rupsen:1 child 1 / 1 staff member (required)", "g-vlinders:2 children 0 / 1 staff member (required)", "g-bikkels:1 child 0 / 1 staff member (required)"}
	if got := cards(); strings.Join(got, "|") != strings.Join(wantEN, "|") {
		t.Errorf("group cards (EN):\n got %q\nwant %q", got, wantEN)
	}
	p.shots("staff-plurals-en")
	p.tapEl("#lang")
	p.waitJS(`document.body.dataset.lang === "nl"`)
	if txt := p.text(); regexp.MustCompile(`\b1 (kinderen|medewerkers)\b|\(eren\)|\(s\)`).MatchString(txt) {
		t.Errorf("staff overview has a wrong plural: %q", txt)
	}
}

// TestWordsAppel: the roll call is "appèl" in Dutch, everywhere.
func TestWordsAppel(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	wrong := regexp.MustCompile(`(?i)\bappel`)
	for k, v := range i18nStrings(p)["nl"] {
		if wrong.MatchString(v) {
			t.Errorf("nl %s = %q: the roll call is appèl", k, v)
		}
	}
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	p.tapEl(`.tab[data-tab="roll"]`)
	p.waitJS(`document.getElementById("roll-start") !== null`)
	if got := eval[string](p, `document.getElementById("roll-start").textContent`); !strings.Contains(got, "appèl") {
		t.Errorf("roll call button %q, want appèl", got)
	}
}

// goLiteral is a string literal in the Go source.
type goLiteral struct{ pos, value string }

// repoRoot is the module root.
func repoRoot(t testing.TB) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(gomod)))
}

// goFiles parses the non-test Go files of the door's packages and the
// screen's.
func goFiles(t testing.TB) (*token.FileSet, []*ast.File) {
	t.Helper()
	root := repoRoot(t)
	fset := token.NewFileSet()
	var files []*ast.File
	walk := func(dir string, recurse bool) {
		filepath.WalkDir(filepath.Join(root, dir), func(path string, e os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.IsDir() {
				if !recurse && path != filepath.Join(root, dir) || e.Name() == "testdata" {
					return filepath.SkipDir
				}
				return nil
			}
			if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatalf("parse %s: %v", path, err)
			}
			files = append(files, f)
			return nil
		})
	}
	// The door and what it shows: not the admins' exports and tools.
	for _, dir := range []string{"attendance", "attendance/door", "attendance/rules", "attendance/ratio", "attendance/roster", "ui"} {
		walk(dir, false)
	}
	return fset, files
}

func goStringLiterals(t testing.TB) []goLiteral {
	fset, files := goFiles(t)
	var out []goLiteral
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if v, err := strconv.Unquote(lit.Value); err == nil {
					out = append(out, goLiteral{fset.Position(lit.Pos()).String(), v})
				}
			}
			return true
		})
	}
	return out
}

// serverCodes lists, from the Go source, every reason and warning code the
// server can put on the staff panel or a decision, and every three-hour
// alert kind:
//   - the rules' Reason* constants and the ratio package's AlertKind ones;
//   - string literals given as Code: or Reason: in a composite literal;
//   - string literals assigned to a variable named reason or to a field
//     .Reason (the door's "storage"/"disk_full", the view's "not_allowed").
func serverCodes(t testing.TB) (codes, kinds map[string]string) {
	fset, files := goFiles(t)
	codes, kinds = map[string]string{}, map[string]string{}
	str := func(e ast.Expr) (string, bool) {
		lit, ok := e.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return "", false
		}
		v, err := strconv.Unquote(lit.Value)
		return v, err == nil && v != ""
	}
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if i >= len(n.Values) {
						continue
					}
					v, ok := str(n.Values[i])
					if !ok {
						continue
					}
					if id, isID := n.Type.(*ast.Ident); isID && id.Name == "AlertKind" {
						kinds[v] = fset.Position(name.Pos()).String()
					} else if strings.HasPrefix(name.Name, "Reason") {
						codes[v] = fset.Position(name.Pos()).String()
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && (k.Name == "Code" || k.Name == "Reason") {
					if v, ok := str(n.Value); ok {
						codes[v] = fset.Position(n.Pos()).String()
					}
				}
			case *ast.AssignStmt:
				for i, l := range n.Lhs {
					if i >= len(n.Rhs) {
						continue
					}
					v, ok := str(n.Rhs[i])
					if !ok {
						continue
					}
					switch l := l.(type) {
					case *ast.Ident:
						if l.Name == "reason" {
							codes[v] = fset.Position(n.Pos()).String()
						}
					case *ast.SelectorExpr:
						if l.Sel.Name == "Reason" {
							codes[v] = fset.Position(n.Pos()).String()
						}
					}
				}
			}
			return true
		})
	}
	return codes, kinds
}

// TestWordsEveryServerCodeHasText: every reason and warning code the server
// can send has words in NL and EN (staff.reason.code.*), and so has every
// three-hour alert kind (staff.three_hour.*): the staff panel never shows
// below_floor or outside_window raw.
func TestWordsEveryServerCodeHasText(t *testing.T) {
	codes, kinds := serverCodes(t)
	for _, must := range []string{"ratio", "contact_ban", "storage", "disk_full", "not_allowed", "forgotten_check_out", "three_hour"} {
		if _, ok := codes[must]; !ok {
			t.Errorf("the code scan missed %q: the scan is broken", must)
		}
	}
	if len(kinds) < 4 {
		t.Errorf("the code scan found %d three-hour alert kinds, want 4 or more", len(kinds))
	}
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	words := i18nStrings(p)
	check := func(prefix string, set map[string]string) {
		names := make([]string, 0, len(set))
		for c := range set {
			names = append(names, c)
		}
		sort.Strings(names)
		for _, c := range names {
			for _, lang := range []string{"nl", "en"} {
				if w := words[lang][prefix+c]; w == "" || w == c {
					t.Errorf("%s %s%s: no words for the code %q (from %s)", lang, prefix, c, c, set[c])
				}
			}
		}
		t.Logf("%s: %d codes: %s", prefix, len(names), strings.Join(names, ", "))
	}
	check("staff.reason.code.", codes)
	check("staff.three_hour.", kinds)
}

// TestWordsStatusLineReadable: the idle status line is at least 18 px and
// has a contrast of at least 4.5:1 (WCAG AA), computed from the page's
// computed styles.
func TestWordsStatusLineReadable(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	type item struct {
		Text     string
		Size     float64
		Contrast float64
	}
	items := eval[[]item](p, `(() => {
	  const rgb = (c) => { const m = c.match(/[\d.]+/g).map(Number); return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 }; };
	  const lum = ({ r, g, b }) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
	  const bg = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.a > 0) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
	  const out = [];
	  for (const el of document.querySelectorAll("#statusline, #statusline *")) {
	    const own = [...el.childNodes].filter((n) => n.nodeType === 3 && n.textContent.trim()).map((n) => n.textContent.trim()).join(" ");
	    if (!own) continue;
	    const cs = getComputedStyle(el);
	    const fg = rgb(cs.color), b = bg(el);
	    const a = fg.a, mix = { r: fg.r * a + b.r * (1 - a), g: fg.g * a + b.g * (1 - a), b: fg.b * a + b.b * (1 - a) };
	    const [l1, l2] = [lum(mix), lum(b)].sort((x, y) => y - x);
	    out.push({ Text: own, Size: parseFloat(cs.fontSize), Contrast: Math.round((l1 + 0.05) / (l2 + 0.05) * 100) / 100 });
	  }
	  return out;
	})()`)
	if len(items) < 3 {
		t.Fatalf("status line has %d text items: %+v", len(items), items)
	}
	for _, it := range items {
		if it.Size < 18 {
			t.Errorf("status %q: %.0f px, want at least 18 px", it.Text, it.Size)
		}
		if it.Contrast < 4.5 {
			t.Errorf("status %q: contrast %.2f:1, want at least 4.5:1", it.Text, it.Contrast)
		}
	}
	t.Logf("status line: %+v", items)
	p.shots("idle-status")
}

// TestWordsPINErrorClearOfKeypad: "Pincode onjuist" never covers a key of
// the keypad (bounding boxes), at 800x480 and 1280x800.
func TestWordsPINErrorClearOfKeypad(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	d.tap(d.uid("Priya"))
	p.waitScreen("pin", "")
	for _, k := range "9999" {
		p.tapEl(fmt.Sprintf(`.keypad [data-key="%c"]`, k))
	}
	p.tapEl(`.keypad [data-key="ok"]`)
	errEl := `[...document.querySelectorAll("#screen *")].find(el => el.childElementCount === 0 && el.textContent.trim() === "Pincode onjuist")`
	p.waitJS(errEl + ` !== undefined`)
	for _, size := range [][2]int64{{800, 480}, {1280, 800}} {
		p.do(chromedp.EmulateViewport(size[0], size[1], chromedp.EmulateTouch))
		eval[bool](p, `new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))`)
		bad := eval[[]string](p, `(() => {
		  const el = `+errEl+`;
		  if (!el) return ["the error is gone"];
		  const e = el.getBoundingClientRect(), bad = [];
		  if (e.top < 0 || e.left < 0 || e.bottom > innerHeight || e.right > innerWidth) bad.push("error outside the viewport");
		  for (const k of document.querySelectorAll(".keypad .btn")) {
		    const r = k.getBoundingClientRect();
		    if (e.left < r.right && r.left < e.right && e.top < r.bottom && r.top < e.bottom) bad.push("error covers key " + k.dataset.key);
		  }
		  return bad;
		})()`)
		if len(bad) > 0 {
			t.Errorf("at %dx%d: %s", size[0], size[1], strings.Join(bad, "; "))
		}
	}
	p.do(chromedp.EmulateViewport(p.w, p.h, chromedp.EmulateTouch))
	p.shots("pin-wrong")
}

// TestWordsStaffAlerts: the staff notes carry a time (HH:MM), repeat as
// "2x" instead of twice, come newest first with a contact ban on top, and
// word their code (no raw below_floor, contact_ban, ...).
func TestWordsStaffAlerts(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	tom := d.uid("Tom")
	d.tap(tom) // contact ban: a note
	d.tap(tom) // again: the same note counts up
	// Zoë and Levi check in with no staff present: Vlinders below ratio.
	checkInAll(t, p, d.uid("Youssef"))
	checkInAll(t, p, d.uid("Ruben"))
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	p.waitJS(`document.querySelectorAll(".warnings .warning").length > 0`)
	type note struct{ Code, At, What, Count, Text string }
	notes := eval[[]note](p, `[...document.querySelectorAll(".staff-body .warnings .warning")].map(li => ({
	  Code: li.dataset.code || (li.className.match(/w-(\S+)/) || [])[1] || "",
	  At: (li.querySelector(".warning-at") || {}).textContent || "",
	  What: (li.querySelector(".warning-what") || li).textContent,
	  Count: (li.querySelector(".warning-count") || {}).textContent || "",
	  Text: (li.querySelector(".warning-text") || li).textContent }))`)
	t.Logf("notes: %+v", notes)
	if len(notes) < 2 {
		t.Fatalf("%d notes, want the contact ban and the ratio", len(notes))
	}
	if notes[0].Code != "contact_ban" || notes[0].Count != "2x" {
		t.Errorf("first note %+v, want the contact ban, counted 2x", notes[0])
	}
	seen := map[string]bool{}
	raw := regexp.MustCompile(`\b[a-z]+_[a-z_]+\b`)
	prev := "99:99"
	for i, n := range notes {
		if !regexpClock.MatchString(n.At) {
			t.Errorf("note %d %+v has no time HH:MM", i, n)
		}
		if i > 0 && n.At > prev {
			t.Errorf("note %d at %s after one at %s: want newest first", i, n.At, prev)
		}
		if i > 0 {
			prev = n.At
		}
		key := n.Code + "|" + n.What + "|" + n.Text
		if seen[key] {
			t.Errorf("note %+v listed twice", n)
		}
		seen[key] = true
		if w := raw.FindString(n.What + " " + n.Text); w != "" {
			t.Errorf("note %+v shows the raw code %q", n, w)
		}
	}
	p.shots("staff-alerts")
}

// TestWordsRollCall: in the roll call an uncounted person has a big
// "Aanwezig" button (not "Geteld"), a counted one shows "Geteld ✓" as its
// state, the head counts "1 van 5 geteld", and ending with people
// uncounted asks first, naming them.
func TestWordsRollCall(t *testing.T) {
	s := setup(t)
	d := startDaemon(t, s)
	p := openPage(t, s, d)
	checkInAll(t, p, d.uid("Sanne"))   // Noah, Emma, Sem
	checkInAll(t, p, d.uid("Youssef")) // Zoë
	d.tap(d.uid("Lotte"))
	p.waitScreen("staff", "")
	p.tapEl(`.tab[data-tab="roll"]`)
	p.tapEl("#roll-start")
	p.waitJS(`document.querySelectorAll("#roll [data-person]").length === 5`)
	type row struct {
		ID, Name, Button, State string
		H                       float64
	}
	rows := func() []row {
		return eval[[]row](p, `[...document.querySelectorAll("#roll [data-person]")].map(li => { const b = li.querySelector("button"); return {
		  ID: li.dataset.person, Name: li.querySelector(".row-name").textContent,
		  Button: b ? b.textContent : "", H: b ? b.getBoundingClientRect().height : 0,
		  State: (li.querySelector(".marked") || {}).textContent || "" }; })`)
	}
	head := func() string { return eval[string](p, `document.getElementById("roll-missing").textContent`) }
	for _, r := range rows() {
		if r.Button != "Aanwezig" || r.H < 56 {
			t.Errorf("uncounted %s: button %q (%.0f px high), want a big \"Aanwezig\"", r.Name, r.Button, r.H)
		}
	}
	if got := head(); got != "0 van 5 geteld" {
		t.Errorf("roll call head %q, want \"0 van 5 geteld\"", got)
	}
	p.shots("roll-call")
	p.tapEl(`[data-mark="c-emma"]`)
	p.waitJS(`document.querySelector('#roll [data-person="c-emma"].accounted') !== null`)
	for _, r := range rows() {
		if r.ID == "c-emma" && (r.State != "Geteld ✓" || r.Button != "") {
			t.Errorf("counted Emma: state %q, button %q; want the state \"Geteld ✓\" only", r.State, r.Button)
		}
	}
	if got := head(); got != "1 van 5 geteld" {
		t.Errorf("roll call head %q, want \"1 van 5 geteld\"", got)
	}
	p.tapEl(`[data-mark="s-lotte"]`)
	p.tapEl(`[data-mark="c-zoe"]`)
	p.waitJS(`document.querySelectorAll("#roll .accounted").length === 3`)

	p.tapEl("#roll-end")
	ask := `(document.querySelector("[role=alertdialog], [role=dialog]") || {}).innerText || ""`
	p.waitJS(ask + ` !== ""`)
	if got, want := eval[string](p, ask), "Nog 2 kinderen niet geteld: Noah, Sem. Toch afsluiten?"; !strings.Contains(got, want) {
		t.Errorf("ending with children uncounted asks %q, want %q", got, want)
	}
	p.shots("roll-call-end-ask")
	p.tapEl("#roll-keep")
	p.waitJS(`document.getElementById("roll") !== null && document.getElementById("roll-end-ask") === null`)
	p.tapEl("#roll-end")
	p.tapEl("#roll-end-sure")
	p.waitJS(`document.getElementById("roll-start") !== null`)
}
