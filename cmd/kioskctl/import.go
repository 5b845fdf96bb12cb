package main

import (
	"bytes"
	"context"
	"encoding/csv"
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
	"github.com/kinderdeur/kiosk/attendance/csvline"
	"github.com/kinderdeur/kiosk/attendance/roster"
)

func init() {
	commands["import"] = command{summary: "import a roster from CSV (validated; all or nothing) to JSON or to central", run: runImport}
}

// ImportColumns are the roster CSV columns: one row per child, with up to
// two guardians and two other pickup persons on the child's row. The
// header is required; columns may come in any order; only child_id,
// first_name, group and birth_date are required. A person who appears on
// several rows (siblings) must be written the same way each time.
var ImportColumns = []string{
	"child_id", "first_name", "group", "group_name", "group_policy", "birth_date", "staff_alert", "photo_consent",
	"guardian1_id", "guardian1_name", "guardian1_relation",
	"guardian2_id", "guardian2_name", "guardian2_relation",
	"pickup1_id", "pickup1_name", "pickup1_relation",
	"pickup2_id", "pickup2_name", "pickup2_relation",
	"contract_start", "contract_end",
}

const importHelp = `kioskctl import reads a location's roster from CSV (UTF-8, comma separated,
first line the header) and writes a validated roster JSON (-out) or stores it
at central as a new roster version (-central, -token). Nothing is written or
sent when any line has an error; every error names its line.

Columns (any order; * = required):
  child_id*        unique id of the child, e.g. c-noah
  first_name*      the child's first name (shown on the door screen)
  group*           group id, e.g. g-rupsen
  group_name       the group's name (default: the id); the first row naming it wins,
                   a different name on a later row is an error
  group_policy     ratio policy of the group (nl-kdv, nl-bso, nl-gastouder, vl-kdv,
                   vl-bko, ...; default: nl-kdv, or vl-kdv with -country BE)
  birth_date*      YYYY-MM-DD
  staff_alert      staff-only note (allergy, medication); never shown to parents
  photo_consent    yes/no/ja/nee/true/false/1/0 or empty (= no)
  guardianN_id, guardianN_name, guardianN_relation   (N = 1, 2) parents with authority
  pickupN_id,   pickupN_name,   pickupN_relation     (N = 1, 2) standing pickup persons
  contract_start   YYYY-MM-DD: first day of the child's care contract
  contract_end     YYYY-MM-DD: last contract day (needs contract_start); the
                   retention terms count from it. Both are stored at central only
                   (-central: as the child's care period, keeping a legal name and
                   BSN entered there); they never go into the roster a kiosk gets,
                   and -out leaves them out.
A person's id and name go together; the same id on several rows (siblings)
must carry the same name and relation.

With -central, the current roster's staff, badges, announced pickups, contact
bans and independence permissions are kept; groups, children, guardians and
pickup persons are replaced by the file's. Badges or bans that point to a
child or person no longer in the file make the import fail (nothing stored).

Examples:
  kioskctl import -in roster.csv -location loc-regenboog -name "De Regenboog" -out roster.json
  kioskctl import -in roster.csv -location loc-regenboog -central http://127.0.0.1:8090 -token TOKEN

Flags:
`

// ImportError is one problem of the input, at a line (0: the file as a
// whole, e.g. a roster reference error).
type ImportError = csvline.Error

// ImportErrors are all problems found; the import is refused.
type ImportErrors = csvline.Errors

// ErrImport is matched by errors.Is on ImportErrors.
var ErrImport = errors.New("import: invalid roster CSV")

// importErrors is the error of ParseRosterCSV for errs.
func importErrors(errs ...*ImportError) *ImportErrors {
	return &ImportErrors{Summary: "import: %d error(s), nothing imported:", Kind: ErrImport, Errs: errs}
}

// importError is one problem at line.
func importError(line int, msg string) *ImportError {
	return &ImportError{Line: line, Err: errors.New(msg)}
}

// maxImportBytes bounds the input (a location's roster is a few hundred KB).
const maxImportBytes = 8 << 20

// ParseRosterCSV reads the roster CSV into the groups, children, people,
// guardianships and authorisations of a roster for loc. It reports every
// problem with its line number and returns no roster when there is one.
func ParseRosterCSV(r io.Reader, loc roster.Location) (roster.Roster, error) {
	out, _, err := parseRosterCSV(r, loc)
	return out, err
}

// importContract is a child's contract dates from the optional columns.
type importContract struct {
	ChildID    string
	Start, End attendance.Date
}

// parseRosterCSV is ParseRosterCSV with the contract dates of the rows
// that have them (central's care periods, never in the roster).
func parseRosterCSV(r io.Reader, loc roster.Location) (roster.Roster, []importContract, error) {
	var contracts []importContract
	var errs []*ImportError
	bad := func(line int, format string, a ...any) {
		errs = append(errs, importError(line, fmt.Sprintf(format, a...)))
	}
	data, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return roster.Roster{}, nil, fmt.Errorf("import: read: %w", err)
	}
	if len(data) > maxImportBytes {
		return roster.Roster{}, nil, importErrors(importError(0, fmt.Sprintf("input over %d bytes", maxImportBytes)))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a BOM from spreadsheet exports
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return roster.Roster{}, nil, importErrors(importError(1, "empty file: want a header line"))
		}
		return roster.Roster{}, nil, importErrors(importError(1, "header: "+csvMsg(err)))
	}
	col := map[string]int{}
	known := map[string]bool{}
	for _, c := range ImportColumns {
		known[c] = true
	}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		switch {
		case !known[h]:
			bad(1, "unknown column %q", h)
		case col[h] != 0:
			bad(1, "column %q twice", h)
		default:
			col[h] = i + 1
		}
	}
	for _, req := range []string{"child_id", "first_name", "group", "birth_date"} {
		if col[req] == 0 {
			bad(1, "missing required column %q", req)
		}
	}
	if len(errs) > 0 {
		return roster.Roster{}, nil, importErrors(errs...)
	}
	defPolicy := "nl-kdv"
	if strings.EqualFold(loc.Country, "BE") {
		defPolicy = "vl-kdv"
	}
	out := roster.Roster{Location: loc, Groups: []roster.Group{}, Children: []roster.Child{}, People: []roster.Person{}, Guardianships: []roster.Guardianship{}}
	type seenPerson struct {
		p    roster.Person
		line int
	}
	groups := map[string]int{} // id -> index
	childLine := map[string]int{}
	people := map[string]seenPerson{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line := 0
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			bad(line, "%s (reading stops here)", csvMsg(err))
			break
		}
		line, _ = cr.FieldPos(0)
		if len(rec) != len(header) {
			bad(line, "%d fields, the header has %d", len(rec), len(header))
			continue
		}
		get := func(c string) string {
			if i := col[c]; i > 0 {
				return strings.TrimSpace(rec[i-1])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue // an empty row from a spreadsheet
		}
		id := get("child_id")
		switch {
		case id == "":
			bad(line, "child_id is empty")
		case !validID(id):
			bad(line, "child_id %q: use letters, digits, '-', '_' or '.' (at most 64)", id)
		case childLine[id] != 0:
			bad(line, "child_id %q already on line %d", id, childLine[id])
		}
		if id != "" {
			childLine[id] = line
		}
		c := roster.Child{ID: id, FirstName: get("first_name"), GroupID: get("group"), StaffAlert: get("staff_alert")}
		if c.FirstName == "" {
			bad(line, "first_name is empty")
		} else if len(c.FirstName) > 100 {
			bad(line, "first_name over 100 bytes")
		} else if err := roster.CheckName(c.FirstName); err != nil {
			bad(line, "first_name: %v", err)
		}
		if bd, err := attendance.ParseDate(get("birth_date")); err != nil {
			bad(line, "birth_date %q: want YYYY-MM-DD", get("birth_date"))
		} else {
			c.BirthDate = bd
		}
		if cs, ce := get("contract_start"), get("contract_end"); cs != "" || ce != "" {
			k := importContract{ChildID: id}
			var err error
			if k.Start, err = attendance.ParseDate(cs); err != nil {
				bad(line, "contract_start %q: want YYYY-MM-DD (required with contract_end)", cs)
			}
			if ce != "" {
				if k.End, err = attendance.ParseDate(ce); err != nil {
					bad(line, "contract_end %q: want YYYY-MM-DD or empty", ce)
				} else if !k.Start.IsZero() && k.End.Before(k.Start) {
					bad(line, "contract_end %s is before contract_start %s", ce, cs)
				}
			}
			contracts = append(contracts, k)
		}
		switch strings.ToLower(get("photo_consent")) {
		case "", "no", "nee", "false", "0", "n":
		case "yes", "ja", "true", "1", "y", "j":
			c.PhotoConsent = true
		default:
			bad(line, "photo_consent %q: want yes or no", get("photo_consent"))
		}
		if c.GroupID == "" {
			bad(line, "group is empty")
		} else if !validID(c.GroupID) {
			bad(line, "group %q: use letters, digits, '-', '_' or '.'", c.GroupID)
		} else {
			name, policy := get("group_name"), get("group_policy")
			if err := roster.CheckName(name); err != nil {
				bad(line, "group_name: %v", err)
			}
			if i, ok := groups[c.GroupID]; ok {
				g := &out.Groups[i]
				if name != "" && name != g.Name {
					bad(line, "group %q is named %q on an earlier line, %q here", c.GroupID, g.Name, name)
				}
				if policy != "" && policy != g.Policy {
					bad(line, "group %q has policy %q on an earlier line, %q here", c.GroupID, g.Policy, policy)
				}
			} else {
				if name == "" {
					name = c.GroupID
				}
				if policy == "" {
					policy = defPolicy
				}
				groups[c.GroupID] = len(out.Groups)
				out.Groups = append(out.Groups, roster.Group{ID: c.GroupID, Name: name, Policy: policy})
			}
		}
		out.Children = append(out.Children, c)
		for _, role := range []string{"guardian1", "guardian2", "pickup1", "pickup2"} {
			pid, pname, rel := get(role+"_id"), get(role+"_name"), get(role+"_relation")
			if pid == "" && pname == "" && rel == "" {
				continue
			}
			if pid == "" || pname == "" {
				bad(line, "%s: id and name go together", role)
				continue
			}
			if !validID(pid) {
				bad(line, "%s_id %q: use letters, digits, '-', '_' or '.'", role, pid)
				continue
			}
			if err := errors.Join(roster.CheckName(pname), roster.CheckName(rel)); err != nil {
				bad(line, "%s: %v", role, err)
				continue
			}
			p := roster.Person{ID: pid, Name: pname, Relation: rel}
			if prev, ok := people[pid]; ok {
				if prev.p != p {
					bad(line, "%s %q differs from line %d (%q, %q)", role, pid, prev.line, prev.p.Name, prev.p.Relation)
				}
			} else {
				people[pid] = seenPerson{p, line}
				out.People = append(out.People, p)
			}
			if strings.HasPrefix(role, "guardian") {
				out.Guardianships = append(out.Guardianships, roster.Guardianship{ChildID: id, PersonID: pid})
			} else {
				out.Authorisations = append(out.Authorisations, roster.Authorisation{ChildID: id, PersonID: pid})
			}
		}
	}
	if len(out.Children) == 0 && len(errs) == 0 {
		bad(0, "no children in the file")
	}
	if len(errs) > 0 {
		return roster.Roster{}, nil, importErrors(errs...)
	}
	return out, contracts, nil
}

func validID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func csvMsg(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// mergeRoster puts the imported part into cur (kept: staff, badges,
// announced pickups, contact bans, independence permissions, location
// settings) and validates the result.
func mergeRoster(cur, imp roster.Roster) (roster.Roster, error) {
	cur.Version = 0
	cur.Groups, cur.Children, cur.People = imp.Groups, imp.Children, imp.People
	cur.Guardianships, cur.Authorisations = imp.Guardianships, imp.Authorisations
	if err := cur.Validate(); err != nil {
		return roster.Roster{}, validationErrors(err)
	}
	return cur, nil
}

func validationErrors(err error) *ImportErrors {
	var out []*ImportError
	for _, l := range strings.Split(err.Error(), "\n") {
		if l != "" {
			out = append(out, importError(0, "roster: "+l))
		}
	}
	return importErrors(out...)
}

func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("import", stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), importHelp)
		fs.PrintDefaults()
	}
	in := fs.String("in", "", "roster CSV file (- for stdin)")
	locID := fs.String("location", "", "location id")
	name := fs.String("name", "", "location name (new roster only; default: the id)")
	country := fs.String("country", "NL", "NL or BE (new roster only)")
	tz := fs.String("tz", "Europe/Amsterdam", "IANA time zone (new roster only)")
	kind := fs.String("kind", "kdv", "kdv, bso, gastouder or bko (new roster only)")
	centralURL := fs.String("central", "", "central base URL: merge into the current roster and store a new version")
	token := fs.String("token", "", "admin bearer token for -central (default: $KIOSK_TOKEN)")
	out := fs.String("out", "", "write the roster JSON here (- for stdout)")
	timeout := fs.Duration("timeout", time.Minute, "give up on central after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	case *in == "":
		return usageError{"-in FILE is required"}
	case *locID == "" || !validID(*locID):
		return usageError{"-location ID is required (letters, digits, '-', '_', '.')"}
	case (*centralURL == "") == (*out == ""):
		return usageError{"use exactly one of -central URL or -out FILE"}
	case !strings.EqualFold(*country, "NL") && !strings.EqualFold(*country, "BE"):
		return usageError{"-country: want NL or BE"}
	}
	if _, err := time.LoadLocation(*tz); err != nil {
		return usageError{"-tz: " + err.Error()}
	}
	var src io.Reader = os.Stdin
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		defer f.Close()
		src = f
	}
	locName := *name
	if locName == "" {
		locName = *locID
	}
	loc := roster.Location{ID: *locID, Name: locName, Country: strings.ToUpper(*country), TimeZone: *tz, Kind: *kind}
	imp, contracts, err := parseRosterCSV(src, loc)
	if err != nil {
		return err
	}
	if *out != "" {
		r, err := mergeRoster(roster.Roster{Location: loc}, imp)
		if err != nil {
			return err
		}
		b, _ := json.MarshalIndent(r, "", "  ")
		b = append(b, '\n')
		if err := writeOutput(*out, stdout, func(w io.Writer) error { _, err := w.Write(b); return err }); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "import: %d children, %d groups, %d people\n", len(r.Children), len(r.Groups), len(r.People))
		if len(contracts) > 0 {
			fmt.Fprintf(stderr, "import: %d contract periods not written: contract data is stored at central only (-central)\n", len(contracts))
		}
		return nil
	}
	tok := *token
	if tok == "" {
		tok = os.Getenv("KIOSK_TOKEN")
	}
	if tok == "" {
		return usageError{"-token (or $KIOSK_TOKEN) is required with -central"}
	}
	base, err := url.Parse(strings.TrimRight(*centralURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return usageError{fmt.Sprintf("-central %q: want an http(s) URL", *centralURL)}
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	v, err := putImported(ctx, http.DefaultClient, base.String(), tok, loc, imp)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "import: stored roster v%d of %s: %d children, %d groups, %d people\n", v, loc.ID, len(imp.Children), len(imp.Groups), len(imp.People))
	if len(contracts) > 0 {
		if err := putContracts(ctx, http.DefaultClient, base.String(), tok, loc.ID, contracts); err != nil {
			return fmt.Errorf("import: roster v%d stored, but the contract periods not all: %w", v, err)
		}
		fmt.Fprintf(stderr, "import: stored %d contract periods (care periods) of %s\n", len(contracts), loc.ID)
	}
	return nil
}

// putContracts stores the children's contract dates as their care periods
// at central, keeping what central holds besides (legal name, BSN,
// extended).
func putContracts(ctx context.Context, client *http.Client, base, token, loc string, contracts []importContract) error {
	careURL := base + "/api/v1/admin/locations/" + url.PathEscape(loc) + "/care-periods"
	call := func(method, u string, body []byte) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, fmt.Errorf("central: %w", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		return resp.StatusCode, b, err
	}
	code, body, err := call(http.MethodGet, careURL, nil)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("central: GET care periods: %d %s", code, bytes.TrimSpace(body))
	}
	// central.CarePeriod and central.CareInput, as JSON.
	type carePeriod struct {
		Subject   string `json:"subject"`
		Extended  bool   `json:"extended,omitempty"`
		LegalName string `json:"legal_name,omitempty"`
		BSN       string `json:"bsn,omitempty"`
	}
	type careInput struct {
		Start     string `json:"start"`
		End       string `json:"end"`
		Extended  bool   `json:"extended"`
		LegalName string `json:"legal_name"`
		BSN       string `json:"bsn"`
	}
	var have []carePeriod
	if err := json.Unmarshal(body, &have); err != nil {
		return fmt.Errorf("central's care periods: %w", err)
	}
	held := map[string]carePeriod{}
	for _, p := range have {
		held[p.Subject] = p
	}
	for _, k := range contracts {
		sub := "child:" + k.ChildID
		in := careInput{Start: k.Start.String()}
		if !k.End.IsZero() {
			in.End = k.End.String()
		}
		if p, ok := held[sub]; ok {
			in.LegalName, in.BSN, in.Extended = p.LegalName, p.BSN, p.Extended
		}
		b, _ := json.Marshal(in)
		code, body, err := call(http.MethodPut, careURL+"/"+url.PathEscape(sub), b)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("%s: central: %d %s", k.ChildID, code, bytes.TrimSpace(body))
		}
	}
	return nil
}

// putImported merges the import into central's current roster (or a new
// one) and PUTs it as the next version.
func putImported(ctx context.Context, client *http.Client, base, token string, loc roster.Location, imp roster.Roster) (int64, error) {
	rosterURL := base + "/api/v1/admin/locations/" + url.PathEscape(loc.ID) + "/roster"
	call := func(method string, body []byte) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, method, rosterURL, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, fmt.Errorf("import: central: %w", err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		return resp.StatusCode, b, err
	}
	code, body, err := call(http.MethodGet, nil)
	if err != nil {
		return 0, err
	}
	cur := roster.Roster{Location: loc}
	switch code {
	case http.StatusOK:
		if err := json.Unmarshal(body, &cur); err != nil {
			return 0, fmt.Errorf("import: central's roster: %w", err)
		}
	case http.StatusNotFound:
		// A new roster: the location must exist at central (PUT says so).
	default:
		return 0, fmt.Errorf("import: central: GET roster: %d %s", code, bytes.TrimSpace(body))
	}
	r, err := mergeRoster(cur, imp)
	if err != nil {
		return 0, err
	}
	b, _ := json.Marshal(r)
	code, body, err = call(http.MethodPut, b)
	if err != nil {
		return 0, err
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("import: central refused the roster: %d %s", code, bytes.TrimSpace(body))
	}
	var res struct {
		Version int64 `json:"version"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		return 0, fmt.Errorf("import: central's answer: %w", err)
	}
	return res.Version, nil
}
