package sheet

import (
	"encoding/csv"
	"fmt"
	"io"
)

type csvWriter struct {
	cw    *csv.Writer
	excel bool
	rec   []string
}

func newCSV(w io.Writer, t Table, excel bool) (*csvWriter, error) {
	c := &csvWriter{cw: csv.NewWriter(w), excel: excel, rec: make([]string, len(t.Columns))}
	if excel {
		// The BOM tells Excel the file is UTF-8 ("Zoë", not "ZoÃ«"); the
		// semicolon is the list separator of Dutch and Belgian Windows.
		if _, err := io.WriteString(w, "\ufeff"); err != nil {
			return nil, fmt.Errorf("sheet: write csv: %w", err)
		}
		c.cw.Comma = ';'
		c.cw.UseCRLF = true
	}
	for i, col := range t.Columns {
		c.rec[i] = col.Key
		if excel && col.Title != "" {
			c.rec[i] = col.Title
		}
		c.rec[i] = Defuse(c.rec[i])
	}
	if err := c.cw.Write(c.rec); err != nil {
		return nil, fmt.Errorf("sheet: write csv: %w", err)
	}
	return c, nil
}

func (c *csvWriter) Write(row []Cell) error {
	if len(row) != len(c.rec) {
		return fmt.Errorf("sheet: row of %d cells for %d columns", len(row), len(c.rec))
	}
	for i, cell := range row {
		if c.excel {
			c.rec[i] = cell.excel()
		} else {
			c.rec[i] = cell.machine()
		}
	}
	if err := c.cw.Write(c.rec); err != nil {
		return fmt.Errorf("sheet: write csv: %w", err)
	}
	return nil
}

func (c *csvWriter) Close() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return fmt.Errorf("sheet: write csv: %w", err)
	}
	return nil
}
