package sheet

import (
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"
)

// Number formats of the typed cells. Excel shows the separators of the
// reader's locale: "€ 1.234,56" in a Dutch or Flemish office.
const (
	fmtDate  = "dd-mm-yyyy"
	fmtClock = "[hh]:mm"
	fmtEuro  = `"€ "#,##0.00;"€ -"#,##0.00`
	fmtHours = "0.00"
	fmtInt   = "0"
)

// excelEpoch is day 0 of Excel's 1900 date system (as corrected for its
// 1900 leap-year bug: serials from 1 March 1900 on count from here).
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

type xlsxWriter struct {
	w      io.Writer
	f      *excelize.File
	sw     *excelize.StreamWriter
	sheet  string
	cols   []Column
	style  map[Kind]int
	row    int
	values []any
}

func newXLSX(w io.Writer, t Table) (x *xlsxWriter, err error) {
	f := excelize.NewFile()
	defer func() {
		if err != nil {
			f.Close()
			err = fmt.Errorf("sheet: write xlsx: %w", err)
		}
	}()
	name := t.Name
	if name == "" {
		name = "Blad1"
	}
	if len(name) > 31 {
		name = name[:31]
	}
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return nil, err
	}
	x = &xlsxWriter{w: w, f: f, sheet: name, cols: t.Columns, style: map[Kind]int{}, values: make([]any, len(t.Columns))}
	for k, code := range map[Kind]string{Date: fmtDate, Clock: fmtClock, Money: fmtEuro, Hours: fmtHours, Int: fmtInt, Minutes: fmtInt} {
		code := code
		if x.style[k], err = f.NewStyle(&excelize.Style{CustomNumFmt: &code}); err != nil {
			return nil, err
		}
	}
	header, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E8EEF4"}},
		Border:    []excelize.Border{{Type: "bottom", Color: "7F8C99", Style: 1}},
		Alignment: &excelize.Alignment{Vertical: "center"}})
	if err != nil {
		return nil, err
	}
	if x.sw, err = f.NewStreamWriter(name); err != nil {
		return nil, err
	}
	for i, c := range t.Columns {
		if err := x.sw.SetColWidth(i+1, i+1, width(c)); err != nil {
			return nil, err
		}
	}
	if err := x.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return nil, err
	}
	for i, c := range t.Columns {
		title := c.Title
		if title == "" {
			title = c.Key
		}
		x.values[i] = excelize.Cell{StyleID: header, Value: Defuse(title)}
	}
	if err := x.sw.SetRow("A1", x.values, excelize.RowOpts{Height: 20}); err != nil {
		return nil, err
	}
	x.row = 1
	return x, nil
}

// width is a column's width in characters: the caller's, else one that fits
// the header and the kind's usual values.
func width(c Column) float64 {
	if c.Width > 0 {
		return c.Width
	}
	title := c.Title
	if title == "" {
		title = c.Key
	}
	w := float64(len([]rune(title))) + 3 // room for the filter button
	min := map[Kind]float64{Text: 12, Int: 8, Minutes: 9, Money: 13, Date: 12, Clock: 8, Hours: 9, Code: 14, Codes: 16, Rule: 18}[c.Kind]
	return max(w, min)
}

func (x *xlsxWriter) Write(row []Cell) error {
	if len(row) != len(x.cols) {
		return fmt.Errorf("sheet: row of %d cells for %d columns", len(row), len(x.cols))
	}
	for i, c := range row {
		x.values[i] = x.value(c)
	}
	x.row++
	cell, err := excelize.CoordinatesToCellName(1, x.row)
	if err != nil {
		return fmt.Errorf("sheet: write xlsx: %w", err)
	}
	if err := x.sw.SetRow(cell, x.values); err != nil {
		return fmt.Errorf("sheet: write xlsx: %w", err)
	}
	return nil
}

// value is the typed cell excelize writes for c.
func (x *xlsxWriter) value(c Cell) any {
	if !c.set {
		return nil
	}
	switch c.kind {
	case Int, Minutes:
		return excelize.Cell{StyleID: x.style[c.kind], Value: c.n}
	case Money:
		// Cents are exact; a double holds every amount we bill to the cent.
		return excelize.Cell{StyleID: x.style[Money], Value: float64(c.n) / 100}
	case Hours:
		return excelize.Cell{StyleID: x.style[Hours], Value: float64(c.n) / 60}
	case Date:
		days := time.Date(c.d.Year, c.d.Month, c.d.Day, 0, 0, 0, 0, time.UTC).Sub(excelEpoch).Hours() / 24
		return excelize.Cell{StyleID: x.style[Date], Value: days}
	case Clock:
		return excelize.Cell{StyleID: x.style[Clock], Value: float64(c.n) / 1440}
	}
	return Defuse(c.human())
}

func (x *xlsxWriter) Close() error {
	defer x.f.Close()
	last, err := excelize.CoordinatesToCellName(max(len(x.cols), 1), max(x.row, 2))
	if err != nil {
		return fmt.Errorf("sheet: write xlsx: %w", err)
	}
	// Set on the worksheet the stream writer holds, before Flush writes it.
	if err := x.f.AutoFilter(x.sheet, "A1:"+last, nil); err != nil {
		return fmt.Errorf("sheet: write xlsx: autofilter: %w", err)
	}
	if err := x.sw.Flush(); err != nil {
		return fmt.Errorf("sheet: write xlsx: %w", err)
	}
	if _, err := x.f.WriteTo(x.w); err != nil {
		return fmt.Errorf("sheet: write xlsx: %w", err)
	}
	return nil
}
