package web

import "net/http"

// Lang is a UI language: Dutch (default) or English.
type Lang string

const (
	NL Lang = "nl"
	EN Lang = "en"
)

// strings holds every UI text: {Dutch, English}. Keys are what templates
// and handlers ask for; a missing key shows itself (tests catch it).
var texts = map[string][2]string{
	"app":              {"Kinderdeur beheer", "Kinderdeur admin"},
	"signin":           {"Inloggen", "Sign in"},
	"signout":          {"Uitloggen", "Sign out"},
	"email":            {"E-mailadres", "E-mail address"},
	"password":         {"Wachtwoord", "Password"},
	"bad_credentials":  {"Onjuist e-mailadres of wachtwoord.", "Wrong e-mail address or password."},
	"too_many":         {"Te veel pogingen; probeer het over een minuut opnieuw.", "Too many attempts; try again in a minute."},
	"need_signin":      {"Log in om deze pagina te zien.", "Sign in to see this page."},
	"forbidden":        {"Uw rol mag deze pagina niet gebruiken.", "Your role may not use this page."},
	"home":             {"Overzicht", "Overview"},
	"locations":        {"Locaties", "Locations"},
	"location":         {"Locatie", "Location"},
	"roster":           {"Rooster en personen", "Roster and people"},
	"groups":           {"Groepen", "Groups"},
	"group":            {"Groep", "Group"},
	"children":         {"Kinderen", "Children"},
	"child":            {"Kind", "Child"},
	"guardians":        {"Ouders/verzorgers", "Guardians"},
	"people":           {"Ouders en ophalers", "Guardians and pickup persons"},
	"pickup_persons":   {"Ophaalpersonen", "Pickup persons"},
	"staff":            {"Medewerkers", "Staff"},
	"badges":           {"Passen", "Badges"},
	"announced":        {"Aangekondigde ophalers", "Announced pickups"},
	"permissions":      {"Zelfstandigheidstoestemmingen", "Independence permissions"},
	"expiring":         {"Verloopt voor het nieuwe schooljaar", "Expires before the next school year"},
	"bans":             {"Contactverboden (alleen personeel)", "Contact bans (staff only)"},
	"devices":          {"Kiosken", "Devices"},
	"users":            {"Gebruikers", "Users"},
	"attendance":       {"Aanwezigheid", "Attendance"},
	"chart":            {"Grafiek", "Chart"},
	"inspection":       {"Inspectielijst", "Inspection list"},
	"billing":          {"Facturatie", "Billing"},
	"requests":         {"Verzoeken van betrokkenen", "Data subject requests"},
	"retention":        {"Bewaartermijnen", "Retention"},
	"last_run":         {"Laatste run", "Last run"},
	"audit":            {"Audittrail", "Audit trail"},
	"name":             {"Naam", "Name"},
	"first_name":       {"Voornaam", "First name"},
	"birth_date":       {"Geboortedatum", "Birth date"},
	"role":             {"Rol", "Role"},
	"id":               {"Id", "Id"},
	"add":              {"Toevoegen", "Add"},
	"save":             {"Opslaan", "Save"},
	"disable":          {"Blokkeren", "Disable"},
	"enable":           {"Deblokkeren", "Enable"},
	"disabled":         {"geblokkeerd", "disabled"},
	"revoke":           {"Intrekken", "Revoke"},
	"revoked":          {"ingetrokken", "revoked"},
	"date":             {"Datum", "Date"},
	"from":             {"Van", "From"},
	"until":            {"Tot", "Until"},
	"show":             {"Tonen", "Show"},
	"arrival":          {"Aankomst", "Arrival"},
	"departure":        {"Vertrek", "Departure"},
	"minutes":          {"Minuten", "Minutes"},
	"flags":            {"Bijzonderheden", "Flags"},
	"quality":          {"Tijdkwaliteit", "Time quality"},
	"children_present": {"Kinderen aanwezig", "Children present"},
	"staff_present":    {"Medewerkers aanwezig", "Staff present"},
	"staff_required":   {"Medewerkers nodig", "Staff required"},
	"time":             {"Tijd", "Time"},
	"ratio_ok":         {"BKR gehaald", "Ratio met"},
	"ratio_below":      {"onder BKR", "below ratio"},
	"deviations":       {"Afwijkingen (drie-uursregeling)", "Deviations (three-hour rule)"},
	"none":             {"Geen", "None"},
	"below_minutes":    {"Minuten onder BKR", "Minutes below ratio"},
	"budget":           {"Toegestaan", "Allowed"},
	"print":            {"Afdrukken", "Print"},
	"download_csv":     {"Download CSV", "Download CSV"},
	"download_json":    {"Download JSON", "Download JSON"},
	"policy":           {"Beleid", "Policy"},
	"hash_prefix":      {"Hash (begin)", "Hash (prefix)"},
	"uid":              {"Pas-UID (getypt of gelezen)", "Card UID (typed or read)"},
	"holder":           {"Houder", "Holder"},
	"label":            {"Omschrijving", "Label"},
	"person":           {"Persoon", "Person"},
	"relation":         {"Relatie", "Relation"},
	"scope":            {"Reikwijdte", "Scope"},
	"note":             {"Notitie", "Note"},
	"enrol_token":      {"Koppelcode maken", "Create enrolment token"},
	"token_once":       {"Deze code wordt maar één keer getoond:", "This token is shown only once:"},
	"last_seen":        {"Laatst gezien", "Last seen"},
	"subject":          {"Betrokkene", "Subject"},
	"export":           {"Inzage en overdraagbaarheid", "Access and portability"},
	"kind":             {"Soort", "Kind"},
	"received":         {"Ontvangen", "Received"},
	"deadline":         {"Uiterlijk", "Deadline"},
	"done":             {"Afgehandeld", "Done"},
	"outcome":          {"Resultaat", "Outcome"},
	"log_request":      {"Verzoek registreren", "Log request"},
	"erase":            {"Wissen uitvoeren", "Carry out erasure"},
	"dry_run":          {"Proefrun (er verandert niets)", "Dry run (nothing changes)"},
	"apply":            {"Uitvoeren", "Apply"},
	"delete_now":       {"Nu te verwijderen", "Deleted now"},
	"scheduled":        {"Gepland", "Scheduled"},
	"held":             {"Bewaarplicht (legal hold)", "Legal hold"},
	"category":         {"Categorie", "Category"},
	"due":              {"Vervalt", "Due"},
	"records":          {"Gegevens", "Records"},
	"events":           {"Gebeurtenissen", "Events"},
	"stays":            {"Verblijven", "Stays"},
	"audit_mentions":   {"Vermeldingen in de audittrail", "Audit trail mentions"},
	"chain_ok":         {"Keten intact", "Chain intact"},
	"month":            {"Maand", "Month"},
	"profile":          {"Tariefprofiel", "Tariff profile"},
	"amount":           {"Bedrag", "Amount"},
	"rule":             {"Regel", "Rule"},
	"statement_nl":     {"Jaaropgave kinderopvangtoeslag (NL)", "Childcare benefit statement (NL)"},
	"certificate_be":   {"Fiscaal attest 281.86 (BE)", "Tax certificate 281.86 (BE)"},
	"year":             {"Jaar", "Year"},
	"saved":            {"Opgeslagen als nieuwe roosterversie", "Saved as a new roster version"},
	"not_permitted":    {"groep niet toegestaan", "group not permitted"},
	"language":         {"English", "Nederlands"},
	"unlock_signin":    {"Aanmeldblokkade opheffen", "Lift sign-in lock"},
}

// T returns the text for key in l.
func T(l Lang, key string) string {
	v, ok := texts[key]
	if !ok {
		return "?" + key + "?"
	}
	if l == EN {
		return v[1]
	}
	return v[0]
}

// langOf picks the request's language: the lang cookie, else Dutch.
func langOf(r *http.Request) Lang {
	if c, err := r.Cookie("lang"); err == nil && c.Value == string(EN) {
		return EN
	}
	return NL
}
