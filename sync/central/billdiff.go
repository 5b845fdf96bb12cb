package central

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"

	"github.com/kinderdeur/kiosk/attendance"
	"github.com/kinderdeur/kiosk/attendance/billing"
	"github.com/kinderdeur/kiosk/attendance/invoice"
)

// LineChange is one difference between what a family was invoiced for a
// month and what the attendance prices to now.
type LineChange struct {
	Change     string          `json:"change"` // added | removed | changed
	ChildID    string          `json:"child_id"`
	ChildName  string          `json:"child_name"`
	Date       attendance.Date `json:"date"`
	Old        *billing.Line   `json:"old,omitempty"`
	New        *billing.Line   `json:"new,omitempty"`
	DeltaCents int64           `json:"delta_cents"`
}

// FamilyDiff is a family's differences.
type FamilyDiff struct {
	FamilyID  string   `json:"family_id"`
	Guardians []string `json:"guardians"`
	// Original is the family's invoice of the month's run ("" when the
	// family was not invoiced then); Numbers every invoice of the month.
	Original      string       `json:"original,omitempty"`
	Numbers       []string     `json:"numbers,omitempty"`
	InvoicedCents int64        `json:"invoiced_cents"`
	NowCents      int64        `json:"now_cents"`
	DeltaCents    int64        `json:"delta_cents"`
	Changes       []LineChange `json:"changes"`
}

// RunDiff compares a month's invoices with its attendance priced now.
type RunDiff struct {
	LocationID    string       `json:"location_id"`
	Period        string       `json:"period"`
	Profile       string       `json:"profile"`
	Run           Run          `json:"run"`
	Families      []FamilyDiff `json:"families"` // only those with changes
	Unchanged     int          `json:"unchanged"`
	InvoicedCents int64        `json:"invoiced_cents"`
	NowCents      int64        `json:"now_cents"`
	DeltaCents    int64        `json:"delta_cents"`
	// Seen is how many invoices of the month the diff was made against,
	// Fingerprint a digest of its changes: Correct issues exactly what
	// was shown or nothing.
	Seen        int    `json:"seen"`
	Fingerprint string `json:"fingerprint"`

	drafts []draft
	prov   invoice.Provider
	date   attendance.Date
}

// lineKey identifies a line within a family's month: the child, the day
// and what it is (care, an absence, the month minimum); a second line of
// the same kind on a day gets "#2".
func lineKey(l *billing.Line) string {
	kind := "care"
	if _, ok := billing.IsAbsence(l); ok {
		kind = "absence"
	} else if l.DayType == "" && l.Stays == 0 {
		kind = "minimum"
	}
	return l.ChildID + "|" + l.Date.String() + "|" + kind
}

func keyed(lines []billing.Line) (map[string]billing.Line, []string) {
	m := map[string]billing.Line{}
	var order []string
	for _, l := range lines {
		k := lineKey(&l)
		for n := 2; ; n++ {
			if _, dup := m[k]; !dup {
				break
			}
			k = lineKey(&l) + "#" + strconv.Itoa(n)
		}
		m[k] = l
		order = append(order, k)
	}
	return m, order
}

func sameLine(a, b billing.Line) bool {
	return a.AmountCents == b.AmountCents && a.BilledMinutes == b.BilledMinutes && a.Minutes == b.Minutes &&
		a.Rule == b.Rule && a.DayType == b.DayType && slices.Equal(a.Flags, b.Flags)
}

// Diff prices a month again with the profile of its run and compares it,
// per family and per child and day, with what was invoiced (the run's
// invoices and the corrections issued since).
func (b *Billing) Diff(ctx context.Context, loc, period string) (RunDiff, error) {
	year, month, err := ParseMonth(period)
	if err != nil {
		return RunDiff{}, err
	}
	run, err := b.runOf(ctx, loc, period)
	if err != nil {
		return RunDiff{}, err
	}
	prov, err := b.Provider(ctx, loc)
	if err != nil {
		return RunDiff{}, err
	}
	issued, err := b.invoices(ctx, "location_id = ? AND period = ?", loc, period)
	if err != nil {
		return RunDiff{}, err
	}
	from, to := monthRange(year, month)
	priced, err := b.Price(ctx, loc, run.Profile, from, to)
	if err != nil {
		return RunDiff{}, err
	}
	d := RunDiff{LocationID: loc, Period: period, Profile: run.Profile, Run: run, Seen: len(issued), prov: prov, date: b.today(priced.Roster)}

	// What each family stands invoiced for: the original's lines, then
	// each correction's credits (removed) and lines (set), in order.
	type state struct {
		lines    map[string]billing.Line
		order    []string
		original string
		numbers  []string
		total    int64
		first    invoice.Family
	}
	invoiced := map[string]*state{}
	var famOrder []string
	for _, i := range issued {
		st := invoiced[i.FamilyID]
		if st == nil {
			st = &state{lines: map[string]billing.Line{}, first: i.Invoice.Family}
			invoiced[i.FamilyID] = st
			famOrder = append(famOrder, i.FamilyID)
		}
		if i.Corrects == "" && st.original == "" && i.RunID == run.ID {
			st.original = i.Number
		}
		st.numbers = append(st.numbers, i.Number)
		st.total += i.TotalCents
		var lines []billing.Line
		for _, c := range i.Invoice.Children {
			lines = append(lines, c.Lines...)
		}
		var credits, sets []billing.Line
		for _, l := range lines {
			if slices.Contains(l.Flags, invoice.FlagCredit) {
				l.Flags = slices.DeleteFunc(slices.Clone(l.Flags), func(f string) bool { return f == invoice.FlagCredit })
				l.AmountCents, l.BilledMinutes, l.Minutes = -l.AmountCents, -l.BilledMinutes, -l.Minutes
				credits = append(credits, l)
			} else {
				sets = append(sets, l)
			}
		}
		for _, l := range credits {
			// remove the invoiced line this credit cancels
			for _, k := range st.order {
				if o, ok := st.lines[k]; ok && sameLine(o, l) && lineKey(&o) == lineKey(&l) {
					delete(st.lines, k)
					break
				}
			}
		}
		for _, l := range sets {
			k := lineKey(&l)
			for n := 2; ; n++ {
				if _, taken := st.lines[k]; !taken {
					break
				}
				k = lineKey(&l) + "#" + strconv.Itoa(n)
			}
			st.lines[k] = l
			if !slices.Contains(st.order, k) {
				st.order = append(st.order, k)
			}
		}
	}
	ids, byFamily := invoice.MonthLines(priced.Lines, year, month)
	for _, id := range ids {
		if invoiced[id] == nil {
			famOrder = append(famOrder, id)
		}
	}
	fam, err := b.families(ctx, loc, priced.Roster)
	if err != nil {
		return RunDiff{}, err
	}
	h := sha256.New()
	for _, id := range famOrder {
		st := invoiced[id]
		if st == nil {
			st = &state{lines: map[string]billing.Line{}}
		}
		now, nowOrder := keyed(byFamily[id])
		fd := FamilyDiff{FamilyID: id, Guardians: fam(id).Guardians, Original: st.original, Numbers: st.numbers, InvoicedCents: st.total}
		var dr draft
		for _, k := range nowOrder {
			fd.NowCents += now[k].AmountCents
		}
		for _, k := range st.order {
			o, ok := st.lines[k]
			if !ok {
				continue
			}
			if n, ok := now[k]; !ok {
				fd.Changes = append(fd.Changes, LineChange{Change: "removed", ChildID: o.ChildID, ChildName: o.ChildName, Date: o.Date, Old: ptr(o), DeltaCents: -o.AmountCents})
				dr.lines = append(dr.lines, credit(o))
			} else if !sameLine(o, n) {
				fd.Changes = append(fd.Changes, LineChange{Change: "changed", ChildID: o.ChildID, ChildName: cmp.Or(n.ChildName, o.ChildName), Date: o.Date,
					Old: ptr(o), New: ptr(n), DeltaCents: n.AmountCents - o.AmountCents})
				dr.lines = append(dr.lines, credit(o), n)
			}
		}
		for _, k := range nowOrder {
			if _, ok := st.lines[k]; !ok {
				n := now[k]
				fd.Changes = append(fd.Changes, LineChange{Change: "added", ChildID: n.ChildID, ChildName: n.ChildName, Date: n.Date, New: ptr(n), DeltaCents: n.AmountCents})
				dr.lines = append(dr.lines, n)
			}
		}
		fd.DeltaCents = fd.NowCents - fd.InvoicedCents
		d.InvoicedCents += fd.InvoicedCents
		d.NowCents += fd.NowCents
		if len(fd.Changes) == 0 {
			d.Unchanged++
			continue
		}
		slices.SortStableFunc(fd.Changes, func(a, b LineChange) int {
			return cmp.Or(cmp.Compare(a.ChildName, b.ChildName), cmp.Compare(a.ChildID, b.ChildID), cmp.Compare(a.Date.String(), b.Date.String()))
		})
		for _, c := range fd.Changes {
			fmt.Fprintf(h, "%s|%s|%s|%s|%d\n", id, c.Change, c.ChildID, c.Date, c.DeltaCents)
		}
		dr.family = fam(id)
		if st.first.ID != "" && len(dr.family.Guardians) == 0 {
			dr.family = st.first
		}
		dr.corrects = st.original
		d.drafts = append(d.drafts, dr)
		d.Families = append(d.Families, fd)
	}
	d.DeltaCents = d.NowCents - d.InvoicedCents
	fmt.Fprintf(h, "seen %d\n", d.Seen)
	d.Fingerprint = hex.EncodeToString(h.Sum(nil))[:16]
	return d, nil
}

func ptr(l billing.Line) *billing.Line { return &l }

// credit is the line that cancels an invoiced line on a correction.
func credit(l billing.Line) billing.Line {
	l.AmountCents, l.BilledMinutes, l.Minutes = -l.AmountCents, -l.BilledMinutes, -l.Minutes
	l.Flags = append(slices.Clone(l.Flags), invoice.FlagCredit)
	return l
}

// Correct issues the differences of a month (Diff) as correction
// invoices: one per family with changes, numbered in the same sequence,
// each referencing the family's original invoice; it credits the changed
// and removed lines and bills the changed and added ones. fingerprint is
// the Diff the admin looked at: when the differences are no longer those,
// nothing is issued (ErrDiffMoved).
func (b *Billing) Correct(ctx context.Context, loc, period, fingerprint, actor string) (Run, error) {
	d, err := b.Diff(ctx, loc, period)
	if err != nil {
		return Run{}, err
	}
	if fingerprint != d.Fingerprint {
		return Run{}, ErrDiffMoved
	}
	if len(d.drafts) == 0 {
		return Run{}, ErrNothingToBill
	}
	year, month, _ := ParseMonth(period)
	return b.store(ctx, RunRequest{LocationID: loc, Month: period, Profile: d.Profile, Actor: actor}, "correction", d.Profile,
		d.prov, d.date, year, month, d.drafts, d.Seen)
}
