package ratio

import (
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

func benchRequired(b *testing.B, policy string, group []Child) {
	p := mustLookup(b, policy)
	if _, err := p.Required(group); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Required(group); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequired: the cost the door rules pay per ratio check.
func BenchmarkRequired(b *testing.B) {
	b.Run("nl-kdv/typical-10", func(b *testing.B) { benchRequired(b, "nl-kdv", kids(2, 3, 3, 2)) })
	b.Run("nl-kdv/13-rule3", func(b *testing.B) { benchRequired(b, "nl-kdv", kids(0, 1, 11, 1)) })
	b.Run("nl-kdv/16", func(b *testing.B) { benchRequired(b, "nl-kdv", kids(3, 5, 8, 0)) })
	b.Run("nl-kdv/16-babies", func(b *testing.B) { benchRequired(b, "nl-kdv", kids(8, 4, 2, 2)) })
	b.Run("nl-bso/typical-20", func(b *testing.B) { benchRequired(b, "nl-bso", ages(append(repeat(5, 8), repeat(9, 12)...)...)) })
	b.Run("nl-gastouder/5", func(b *testing.B) { benchRequired(b, "nl-gastouder", join(ages(0, 1, 4, 7), own(3))) })
	b.Run("be-vl-kdv/16", func(b *testing.B) { benchRequired(b, "be-vl-kdv", kids(4, 4, 4, 4)) })
}

// BenchmarkEvaluateDay: a busy day of 200 state changes.
func BenchmarkEvaluateDay(b *testing.B) {
	loc := amsterdam(b)
	rule := DefaultRule()
	rule.Windows = mustWindows(b, "mon-fri=07:00-08:30,12:30-14:00,17:00-18:30")
	day := Day{Date: monday, Open: 7 * 60, Close: 18 * 60}
	var tl []Sample
	start := at(loc, monday, "07:00")
	for i := range 200 {
		tl = append(tl, Sample{At: start.Add(time.Duration(i) * 3 * time.Minute), Staff: 2 + i%2, Required: 3})
	}
	end := attendance.MustDate("2026-11-24").In(loc)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EvaluateDay(rule, loc, day, tl, end); err != nil {
			b.Fatal(err)
		}
	}
}
