package web

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

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

// InspectionColumns are the columns of the inspection CSV. Rows: one per
// child stay (kind=child), one per staff span (kind=staff), one per change
// of the ratio (kind=ratio: at, children, staff, required, ok), one per
// three-hour-rule alert (kind=deviation) and a summary row.
var InspectionColumns = []string{"kind", "date", "location", "group", "id", "name", "from", "until", "children", "staff", "required", "status", "time_quality", "flags"}

// WriteInspectionCSV writes the inspection list of one group on one day.
func WriteInspectionCSV(w io.Writer, gd central.GroupDay) error {
	cw := csv.NewWriter(w)
	row := func(vals ...string) {
		cw.Write(append([]string{}, vals...))
	}
	row(InspectionColumns...)
	d, loc, g := gd.Date.String(), gd.Location.ID, gd.Group.Name
	for _, c := range gd.Children {
		row("child", d, loc, g, c.ID, safeCell(c.Name), c.In.String(), c.Out.String(), "", "", "", "", string(c.Quality), stays.FlagsString(c.Flags))
	}
	for _, st := range gd.Staff {
		row("staff", d, loc, g, st.ID, safeCell(st.Name), st.In.String(), st.Out.String(), "", "", "", "", string(st.Quality), stays.FlagsString(st.Flags))
	}
	for i, p := range gd.Timeline {
		until := ""
		if i+1 < len(gd.Timeline) {
			until = stays.Clock(gd.Timeline[i+1].Clock).String()
		}
		status := "ok"
		if p.NotPermitted {
			status = "not_permitted"
		} else if p.Staff < p.Required {
			status = "below"
		}
		row("ratio", d, loc, g, "", "", stays.Clock(p.Clock).String(), until, strconv.Itoa(p.Children), strconv.Itoa(p.Staff), strconv.Itoa(p.Required), status, "", "")
	}
	for _, a := range gd.Report.Alerts {
		at, to := a.From.In(gd.TZ).Format("15:04"), a.To.In(gd.TZ).Format("15:04")
		row("deviation", d, loc, g, "", "", at, to, "", strconv.Itoa(a.Staff), strconv.Itoa(a.Required), string(a.Kind), "", safeCell(a.Message()))
	}
	row("summary", d, loc, g, gd.Policy, "", "", "", "", "", "", fmt.Sprintf("below=%dmin in_window=%dmin budget=%dmin qualifies=%t",
		gd.Report.BelowMinutes(), int(gd.Report.InWindow.Minutes()), int(gd.Report.Budget.Minutes()), gd.Report.Qualifies), "", "")
	cw.Flush()
	return cw.Error()
}

// safeCell defuses spreadsheet formula injection: a cell starting with
// = + - @ (or a tab/CR) is prefixed with a quote.
func safeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
