// Package codes turns the machine codes the attendance and billing
// packages write (day types, stay and line flags, time qualities, absence
// kinds, tariff rules such as "bernefertier/hourly+weekend-150%") into
// words for people, in Dutch or English. It is the one table the invoice
// PDF (attendance/invoice) and the people's spreadsheets (attendance/sheet:
// xlsx and csv-excel) share; the machines' CSV of contracts 6 and 8 keeps
// the codes as they are. An unknown code is shown as it is.
package codes

import (
	"strings"
)

// English selects English; any other language is Dutch.
const English = "en"

// words: code -> {Dutch, English}.
var words = map[string][2]string{
	// day types (attendance/calendar)
	"weekday":           {"werkdag", "weekday"},
	"wednesday":         {"woensdag", "Wednesday"},
	"school_free":       {"schoolvrije dag", "school-free day"},
	"vacation":          {"vakantie", "holiday"},
	"vacation_activity": {"vakantie, activiteit", "holiday, activity"},
	"weekend":           {"weekend", "weekend"},
	"public_holiday":    {"feestdag", "public holiday"},
	// time quality (attendance/stays)
	"ok":         {"ok", "ok"},
	"corrected":  {"gecorrigeerd", "corrected"},
	"unverified": {"niet geverifieerd", "unverified"},
	// stay flags (attendance/stays)
	"missing_checkout": {"uitchecken ontbreekt", "check-out missing"},
	"missing_checkin":  {"inchecken ontbreekt", "check-in missing"},
	"open":             {"nog aanwezig", "still present"},
	"split_midnight":   {"gesplitst om middernacht", "split at midnight"},
	"pickup_confirmed": {"ophalen bevestigd", "pickup confirmed"},
	"activity":         {"activiteit", "activity"},
	// line flags (attendance/billing)
	"unverified_time":   {"tijd niet geverifieerd", "time not verified"},
	"corrected_time":    {"tijd gecorrigeerd", "time corrected"},
	"missing_time":      {"tijd ontbreekt", "time missing"},
	"travel_not_billed": {"reistijd niet gefactureerd", "travel not billed"},
	"credit":            {"creditering", "credit"},
	// absence kinds, as flags ("absence_sick") and alone
	"absence_sick":          {"afwezig: ziek", "absent: sick"},
	"absence_late_cancel":   {"afwezig: te laat afgemeld", "absent: cancelled late"},
	"absence_cancel":        {"afwezig: tijdig afgemeld", "absent: cancelled in time"},
	"absence_provider_away": {"afwezig: opvang gesloten", "absent: provider closed"},
	"absence_short_day":     {"korter dan afgesproken", "shorter than agreed"},
	"sick":                  {"ziek", "sick"},
	"late_cancel":           {"te laat afgemeld", "cancelled late"},
	"cancel":                {"tijdig afgemeld", "cancelled in time"},
	"provider_away":         {"opvang gesloten", "provider closed"},
	"short_day":             {"korter dan afgesproken", "shorter than agreed"},
	// tariff methods and rule parts (attendance/billing presets)
	"hourly":                {"per uur", "hourly"},
	"quarter-hour":          {"per kwartier", "per quarter hour"},
	"half-hour":             {"per begonnen half uur", "per started half hour"},
	"forfait":               {"forfait", "flat rate"},
	"forfait-1":             {"forfait 1 (< 3 u)", "flat rate 1 (< 3 h)"},
	"forfait-2":             {"forfait 2 (3-6 u)", "flat rate 2 (3-6 h)"},
	"forfait-3":             {"forfait 3 (> 6 u)", "flat rate 3 (> 6 h)"},
	"day-minimum":           {"dagminimum", "daily minimum"},
	"travel":                {"incl. reistijd", "incl. travel"},
	"settling-in":           {"wennen", "settling in"},
	"unpriced-missing-time": {"niet geprijsd: tijd ontbreekt", "not priced: time missing"},
	"sick-week":             {"ziek (eerste week)", "sick (first week)"},
	"sick-after-week":       {"ziek (na een week)", "sick (after a week)"},
	"sick-first-two-days":   {"ziek (eerste twee dagen)", "sick (first two days)"},
	"sick-after-two-days":   {"ziek (na twee dagen)", "sick (after two days)"},
	"sick-sent-home":        {"ziek naar huis", "sent home sick"},
	"agreed-hours":          {"afgesproken uren", "agreed hours"},
	"late-cancel":           {"te laat afgemeld", "cancelled late"},
	"late-notice":           {"te laat doorgegeven", "late notice"},
	"cancel-in-time":        {"tijdig afgemeld", "cancelled in time"},
	"provider-away":         {"opvang gesloten", "provider closed"},
	"month-minimum":         {"maandminimum", "monthly minimum"},
	"pro-rata":              {"naar rato", "pro rata"},
	"dagopvang":             {"dagopvang", "day care"},
	"bso":                   {"bso", "out-of-school care"},
	"morning":               {"ochtend", "morning"},
	"afternoon":             {"middag", "afternoon"},
}

func pick(lang string, w [2]string) string {
	if lang == English {
		return w[1]
	}
	return w[0]
}

// Text is code in words ("missing_checkout" -> "uitchecken ontbreekt").
func Text(lang, code string) string {
	if w, ok := words[code]; ok {
		return pick(lang, w)
	}
	return code
}

// List is codes in words, joined by ", " (the flags column).
func List(lang string, codes []string) string {
	out := make([]string, 0, len(codes))
	for _, c := range codes {
		if c = strings.TrimSpace(c); c != "" {
			out = append(out, Text(lang, c))
		}
	}
	return strings.Join(out, ", ")
}

// Rule is a tariff rule in words, without the profile's name:
// "bernefertier/hourly+weekend-150%" -> "per uur + weekend 150%",
// "bernefertier/month-minimum-bso-pro-rata" -> "maandminimum bso naar
// rato". Each "+" part is translated on its own; a part the table does not
// know stays as it is.
func Rule(lang, rule string) string {
	_, r, ok := strings.Cut(rule, "/")
	if !ok {
		r = rule
	}
	parts := strings.Split(r, "+")
	for i, p := range parts {
		parts[i] = rulePart(lang, p)
	}
	return strings.Join(parts, " + ")
}

func rulePart(lang, p string) string {
	if w, ok := words[p]; ok {
		return pick(lang, w)
	}
	// "weekend-150%": a day type and its multiplier.
	if i := strings.LastIndexByte(p, '-'); i > 0 && strings.HasSuffix(p, "%") {
		return Text(lang, p[:i]) + " " + p[i+1:]
	}
	// "morning-half-hour", "afternoon-forfait-2": a half of a split day.
	for _, half := range []string{"morning-", "afternoon-"} {
		if rest, ok := strings.CutPrefix(p, half); ok {
			return Text(lang, strings.TrimSuffix(half, "-")) + ": " + rulePart(lang, rest)
		}
	}
	// "month-minimum-dagopvang-pro-rata"
	if rest, ok := strings.CutPrefix(p, "month-minimum"); ok {
		out := Text(lang, "month-minimum")
		pro := strings.HasSuffix(rest, "-pro-rata")
		rest = strings.TrimPrefix(strings.TrimSuffix(rest, "-pro-rata"), "-")
		if rest != "" {
			out += " " + Text(lang, rest)
		}
		if pro {
			out += " " + Text(lang, "pro-rata")
		}
		return out
	}
	return p
}
