package web

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance/sheet"
	"github.com/kinderdeur/kiosk/attendance/stays"
	"github.com/kinderdeur/kiosk/sync/central"
)

// Chart is a server-rendered SVG of one group's day in two panels: children
// present (top) and staff present against staff required (bottom), as step
// lines over the day, with the minutes below the ratio shaded.
type Chart struct {
	W, H                   int
	Left, Right            float64
	TopY0, TopY1           float64 // top panel: y of value 0 and of the max
	BotY0, BotY1           float64
	Children, Staff, Req   string // SVG path data
	Below                  []Rect
	XTicks                 []Tick
	TopTicks, BotTicks     []Tick
	Empty                  bool
	TitleTop, TitleBottom  string
	LegendStaff, LegendReq string
	LegendBelow            string
	FromLabel, UntilLabel  string
}

// Rect is a shaded area.
type Rect struct{ X, Y, W, H float64 }

// Tick is an axis label at a position.
type Tick struct {
	Pos   float64
	Label string
}

// BuildChart lays out the chart of gd. The x axis spans the opening hours
// (or 07:00-19:00) widened to every change point.
func BuildChart(gd central.GroupDay, l Lang) Chart {
	c := Chart{W: 960, H: 420, Left: 48, Right: 930, TopY0: 180, TopY1: 40, BotY0: 380, BotY1: 240,
		TitleTop: T(l, "children_present"), TitleBottom: T(l, "staff_present") + " / " + T(l, "staff_required"),
		LegendStaff: T(l, "staff_present"), LegendReq: T(l, "staff_required"), LegendBelow: T(l, "ratio_below")}
	from, until := 7*60, 19*60
	for _, h := range gd.Location.Hours {
		if h.Weekday == gd.Date.Weekday() {
			if o, err := parseHM(h.Open); err == nil {
				from = o
			}
			if cl, err := parseHM(h.Close); err == nil {
				until = cl
			}
		}
	}
	pts := gd.Timeline
	if len(pts) == 0 {
		c.Empty = true
	}
	maxKids, maxStaff := 1, 1
	for _, p := range pts {
		from = min(from, p.Clock/60*60)
		until = max(until, (p.Clock+59)/60*60)
		maxKids = max(maxKids, p.Children)
		maxStaff = max(maxStaff, p.Staff, p.Required)
	}
	if until <= from {
		until = from + 60
	}
	x := func(m int) float64 {
		return c.Left + (c.Right-c.Left)*float64(m-from)/float64(until-from)
	}
	yTop := func(v int) float64 { return c.TopY0 - (c.TopY0-c.TopY1)*float64(v)/float64(maxKids) }
	yBot := func(v int) float64 { return c.BotY0 - (c.BotY0-c.BotY1)*float64(v)/float64(maxStaff+1) }
	step := func(val func(central.Point) int, y func(int) float64) string {
		var b strings.Builder
		fmt.Fprintf(&b, "M%.1f %.1f", x(from), y(0))
		for i, p := range pts {
			fmt.Fprintf(&b, " H%.1f V%.1f", x(p.Clock), y(val(p)))
			if i == len(pts)-1 {
				fmt.Fprintf(&b, " H%.1f", x(until))
			}
		}
		return b.String()
	}
	c.Children = step(func(p central.Point) int { return p.Children }, yTop)
	c.Staff = step(func(p central.Point) int { return p.Staff }, yBot)
	c.Req = step(func(p central.Point) int { return p.Required }, yBot)
	for i, p := range pts {
		if p.Staff >= p.Required {
			continue
		}
		end := until
		if i+1 < len(pts) {
			end = pts[i+1].Clock
		}
		c.Below = append(c.Below, Rect{X: x(p.Clock), Y: c.BotY1 - 10, W: x(end) - x(p.Clock), H: c.BotY0 - c.BotY1 + 10})
	}
	for h := (from + 59) / 60 * 60; h <= until; h += 60 {
		c.XTicks = append(c.XTicks, Tick{x(h), fmt.Sprintf("%02d:00", h/60)})
	}
	for v := 0; v <= maxKids; v += max(1, maxKids/4) {
		c.TopTicks = append(c.TopTicks, Tick{yTop(v), strconv.Itoa(v)})
	}
	for v := 0; v <= maxStaff+1; v++ {
		c.BotTicks = append(c.BotTicks, Tick{yBot(v), strconv.Itoa(v)})
	}
	return c
}

func parseHM(s string) (int, error) {
	c, err := stays.ParseClock(s)
	return int(c), err
}

// InspectionTable is the inspection list of one group on one day. Rows:
// one per child stay (kind=child), one per staff span (kind=staff), one per
// change of the ratio (kind=ratio: at, children, staff, required, ok), one
// per three-hour-rule alert (kind=deviation) and a summary row.
var InspectionTable = sheet.Table{Name: "Inspectielijst", Columns: []sheet.Column{
	{Key: "kind", Title: "Soort", Kind: sheet.Text, Width: 10},
	{Key: "date", Title: "Datum", Kind: sheet.Date},
	{Key: "location", Title: "Locatie", Kind: sheet.Text},
	{Key: "group", Title: "Groep", Kind: sheet.Text, Width: 14},
	{Key: "id", Title: "Id", Kind: sheet.Text},
	{Key: "name", Title: "Naam", Kind: sheet.Text, Width: 16},
	{Key: "from", Title: "Van", Kind: sheet.Clock},
	{Key: "until", Title: "Tot", Kind: sheet.Clock},
	{Key: "children", Title: "Kinderen", Kind: sheet.Int},
	{Key: "staff", Title: "Medewerkers", Kind: sheet.Int},
	{Key: "required", Title: "Nodig", Kind: sheet.Int},
	{Key: "status", Title: "Status", Kind: sheet.Text, Width: 14},
	{Key: "time_quality", Title: "Tijdkwaliteit", Kind: sheet.Text},
	{Key: "flags", Title: "Bijzonderheden", Kind: sheet.Text, Width: 30},
}}

// InspectionColumns are the columns of the inspection CSV.
var InspectionColumns = func() []string {
	out := make([]string, len(InspectionTable.Columns))
	for i, c := range InspectionTable.Columns {
		out[i] = c.Key
	}
	return out
}()

// WriteInspectionCSV writes the inspection list of one group on one day.
func WriteInspectionCSV(w io.Writer, gd central.GroupDay) error {
	return WriteInspection(w, sheet.CSV, gd)
}

// WriteInspection writes the inspection list in format f.
func WriteInspection(w io.Writer, f sheet.Format, gd central.GroupDay) error {
	sw, err := sheet.NewWriter(w, f, InspectionTable)
	if err != nil {
		return err
	}
	var werr error
	row := func(cells ...sheet.Cell) {
		if werr == nil {
			werr = sw.Write(cells)
		}
	}
	str, clock, num, e := sheet.Str, func(c stays.Clock) sheet.Cell { return sheet.TimeOfDay(int(c)) }, sheet.Num, sheet.Empty()
	d, loc, g := sheet.Day(gd.Date), str(gd.Location.ID), str(gd.Group.Name)
	for _, c := range gd.Children {
		row(str("child"), d, loc, g, str(c.ID), str(c.Name), clock(c.In), clock(c.Out), e, e, e, e, str(string(c.Quality)), str(stays.FlagsString(c.Flags)))
	}
	for _, st := range gd.Staff {
		row(str("staff"), d, loc, g, str(st.ID), str(st.Name), clock(st.In), clock(st.Out), e, e, e, e, str(string(st.Quality)), str(stays.FlagsString(st.Flags)))
	}
	for i, p := range gd.Timeline {
		until := e
		if i+1 < len(gd.Timeline) {
			until = clock(stays.Clock(gd.Timeline[i+1].Clock))
		}
		status := "ok"
		if p.NotPermitted {
			status = "not_permitted"
		} else if p.Staff < p.Required {
			status = "below"
		}
		row(str("ratio"), d, loc, g, e, e, clock(stays.Clock(p.Clock)), until, num(p.Children), num(p.Staff), num(p.Required), str(status), e, e)
	}
	local := func(t time.Time) sheet.Cell {
		t = t.In(gd.TZ)
		return sheet.TimeOfDay(t.Hour()*60 + t.Minute())
	}
	for _, a := range gd.Report.Alerts {
		row(str("deviation"), d, loc, g, e, e, local(a.From), local(a.To), e, num(a.Staff), num(a.Required), str(string(a.Kind)), e, str(a.Message()))
	}
	row(str("summary"), d, loc, g, str(gd.Policy), e, e, e, e, e, e, str(fmt.Sprintf("below=%dmin in_window=%dmin budget=%dmin qualifies=%t",
		gd.Report.BelowMinutes(), int(gd.Report.InWindow.Minutes()), int(gd.Report.Budget.Minutes()), gd.Report.Qualifies)), e, e)
	if werr != nil {
		return werr
	}
	return sw.Close()
}
