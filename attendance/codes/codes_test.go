package codes

import "testing"

func TestRule(t *testing.T) {
	for _, tt := range []struct{ lang, in, want string }{
		{"nl", "bernefertier/hourly", "per uur"},
		{"en", "bernefertier/hourly+weekend-150%", "hourly + weekend 150%"},
		{"nl", "bernefertier/hourly+day-minimum+public_holiday-150%", "per uur + dagminimum + feestdag 150%"},
		{"nl", "bernefertier/month-minimum-bso-pro-rata", "maandminimum bso naar rato"},
		{"en", "bernefertier/month-minimum-dagopvang", "monthly minimum day care"},
		{"nl", "anzegem-bko/morning-half-hour+afternoon-forfait-2", "ochtend: per begonnen half uur + middag: forfait 2 (3-6 u)"},
		{"nl", "bernefertier/sick-week", "ziek (eerste week)"},
		{"nl", "deburcht/quarter-hour+travel", "per kwartier + incl. reistijd"},
		{"nl", "x/something-new", "something-new"},
	} {
		if got := Rule(tt.lang, tt.in); got != tt.want {
			t.Errorf("Rule(%s, %q) = %q, want %q", tt.lang, tt.in, got, tt.want)
		}
	}
}

func TestTextAndList(t *testing.T) {
	if got := Text("nl", "missing_checkout"); got != "uitchecken ontbreekt" {
		t.Errorf("Text = %q", got)
	}
	if got := Text("en", "weekday"); got != "weekday" {
		t.Errorf("Text en weekday = %q", got)
	}
	if got := List("nl", []string{"unverified_time", "absence_sick", "new_flag"}); got != "tijd niet geverifieerd, afwezig: ziek, new_flag" {
		t.Errorf("List = %q", got)
	}
}
