package web

import (
	"fmt"

	"github.com/kinderdeur/kiosk/attendance/codes"
	"net/http"
	"strconv"
	"strings"
)

// Lang is a UI language: Dutch (default) or English.
type Lang string

const (
	NL Lang = "nl"
	EN Lang = "en"
)

// strings holds every UI text: {Dutch, English}. Keys are what templates
// and handlers ask for; a missing key shows itself (tests catch it).
var texts = map[string][2]string{
	"app":                   {"Kinderdeur beheer", "Kinderdeur admin"},
	"signin":                {"Inloggen", "Sign in"},
	"signout":               {"Uitloggen", "Sign out"},
	"email":                 {"E-mailadres", "E-mail address"},
	"password":              {"Wachtwoord", "Password"},
	"bad_credentials":       {"Onjuist e-mailadres of wachtwoord.", "Wrong e-mail address or password."},
	"too_many":              {"Te veel pogingen; probeer het over een minuut opnieuw.", "Too many attempts; try again in a minute."},
	"need_signin":           {"Log in om deze pagina te zien.", "Sign in to see this page."},
	"forbidden":             {"Uw rol mag deze pagina niet gebruiken.", "Your role may not use this page."},
	"home":                  {"Overzicht", "Overview"},
	"locations":             {"Locaties", "Locations"},
	"location":              {"Locatie", "Location"},
	"roster":                {"Rooster en personen", "Roster and people"},
	"groups":                {"Groepen", "Groups"},
	"group":                 {"Groep", "Group"},
	"children":              {"Kinderen", "Children"},
	"child":                 {"Kind", "Child"},
	"guardians":             {"Ouders/verzorgers", "Guardians"},
	"people":                {"Ouders en ophalers", "Guardians and pickup persons"},
	"pickup_persons":        {"Ophaalpersonen", "Pickup persons"},
	"staff":                 {"Medewerkers", "Staff"},
	"badges":                {"Passen", "Badges"},
	"announced":             {"Aangekondigde ophalers", "Announced pickups"},
	"permissions":           {"Zelfstandigheidstoestemmingen", "Independence permissions"},
	"expiring":              {"Verloopt voor het nieuwe schooljaar", "Expires before the next school year"},
	"bans":                  {"Contactverboden (alleen personeel)", "Contact bans (staff only)"},
	"devices":               {"Kiosken", "Devices"},
	"users":                 {"Gebruikers", "Users"},
	"attendance":            {"Aanwezigheid", "Attendance"},
	"corrections":           {"Correcties", "Corrections"},
	"corrections_intro":     {"Een correctie vervangt een tijd, voegt een gemist bezoek toe of schrapt een onterecht bezoek. De oorspronkelijke tikken blijven bewaard; de correctie gaat naar de kiosk, telt mee in de inspectielijst, de grafiek, de facturen en de jaaropgaven, en staat met wie, wanneer en waarom in het auditlog.", "A correction replaces a time, adds a missed stay or removes a wrong one. The original taps are kept; the correction reaches the kiosk, counts in the inspection list, the chart, invoices and statements, and is in the audit trail with who, when and why."},
	"correct_stay":          {"Bezoek corrigeren", "Correct a stay"},
	"correct":               {"Corrigeren", "Correct"},
	"add_stay":              {"Gemist bezoek toevoegen", "Add a missed stay"},
	"what":                  {"Wat", "What"},
	"kind_set_check_in":     {"Aankomsttijd", "Arrival time"},
	"kind_set_check_out":    {"Vertrektijd", "Departure time"},
	"kind_remove_stay":      {"Bezoek schrappen", "Remove the stay"},
	"kind_add_stay":         {"Bezoek toevoegen", "Add a stay"},
	"reason":                {"Reden", "Reason"},
	"reason_placeholder":    {"bijv. uitchecken vergeten; moeder haalde om 16:45 op", "e.g. forgot to check out; mother collected at 16:45"},
	"correction_note":       {"Tijden in de tijdzone van de locatie. Een bezoek over middernacht: corrigeer via de API met RFC 3339-tijden.", "Times in the location's time zone. A stay across midnight: use the API with RFC 3339 times."},
	"correction_save":       {"Correctie opslaan", "Save correction"},
	"correction_saved":      {"Correctie opgeslagen", "Correction saved"},
	"corrections_made":      {"Gemaakte correcties", "Corrections made"},
	"made_at":               {"Gemaakt", "Made"},
	"corrected_by":          {"Door", "By"},
	"source":                {"Bron", "Source"},
	"source_central":        {"centraal", "central"},
	"source_kiosk":          {"kiosk", "kiosk"},
	"chart":                 {"Grafiek", "Chart"},
	"inspection":            {"Inspectielijst", "Inspection list"},
	"billing":               {"Facturatie", "Billing"},
	"requests":              {"Verzoeken van betrokkenen", "Data subject requests"},
	"retention":             {"Bewaartermijnen", "Retention"},
	"audit":                 {"Audittrail", "Audit trail"},
	"name":                  {"Naam", "Name"},
	"first_name":            {"Voornaam", "First name"},
	"birth_date":            {"Geboortedatum", "Birth date"},
	"role":                  {"Rol", "Role"},
	"id":                    {"Id", "Id"},
	"add":                   {"Toevoegen", "Add"},
	"save":                  {"Opslaan", "Save"},
	"disable":               {"Blokkeren", "Disable"},
	"enable":                {"Deblokkeren", "Enable"},
	"disabled":              {"geblokkeerd", "disabled"},
	"revoke":                {"Intrekken", "Revoke"},
	"revoked":               {"ingetrokken", "revoked"},
	"date":                  {"Datum", "Date"},
	"from":                  {"Van", "From"},
	"until":                 {"Tot", "Until"},
	"show":                  {"Tonen", "Show"},
	"arrival":               {"Aankomst", "Arrival"},
	"departure":             {"Vertrek", "Departure"},
	"minutes":               {"Minuten", "Minutes"},
	"flags":                 {"Bijzonderheden", "Flags"},
	"quality":               {"Tijdkwaliteit", "Time quality"},
	"children_present":      {"Kinderen aanwezig", "Children present"},
	"staff_present":         {"Medewerkers aanwezig", "Staff present"},
	"staff_required":        {"Medewerkers nodig", "Staff required"},
	"time":                  {"Tijd", "Time"},
	"ratio_ok":              {"BKR gehaald", "Ratio met"},
	"ratio_below":           {"onder BKR", "below ratio"},
	"deviations":            {"Afwijkingen (drie-uursregeling)", "Deviations (three-hour rule)"},
	"none":                  {"Geen", "None"},
	"below_minutes":         {"Minuten onder BKR", "Minutes below ratio"},
	"budget":                {"Toegestaan", "Allowed"},
	"print":                 {"Afdrukken", "Print"},
	"download_csv":          {"Download CSV", "Download CSV"},
	"download_json":         {"Download JSON", "Download JSON"},
	"policy":                {"Beleid", "Policy"},
	"hash_prefix":           {"Hash (begin)", "Hash (prefix)"},
	"uid":                   {"Pas-UID (getypt of gelezen)", "Card UID (typed or read)"},
	"holder":                {"Houder", "Holder"},
	"label":                 {"Omschrijving", "Label"},
	"person":                {"Persoon", "Person"},
	"relation":              {"Relatie", "Relation"},
	"scope":                 {"Reikwijdte", "Scope"},
	"note":                  {"Notitie", "Note"},
	"enrol_token":           {"Koppelcode maken", "Create enrolment token"},
	"token_once":            {"Deze code wordt maar één keer getoond:", "This token is shown only once:"},
	"last_seen":             {"Laatst gezien", "Last seen"},
	"subject":               {"Betrokkene", "Subject"},
	"export":                {"Inzage en overdraagbaarheid", "Access and portability"},
	"kind":                  {"Soort", "Kind"},
	"received":              {"Ontvangen", "Received"},
	"deadline":              {"Uiterlijk", "Deadline"},
	"done":                  {"Afgehandeld", "Done"},
	"outcome":               {"Resultaat", "Outcome"},
	"log_request":           {"Verzoek registreren", "Log request"},
	"erase":                 {"Wissen uitvoeren", "Carry out erasure"},
	"dry_run":               {"Proefrun (er verandert niets)", "Dry run (nothing changes)"},
	"apply":                 {"Uitvoeren", "Apply"},
	"delete_now":            {"Nu te verwijderen", "Deleted now"},
	"scheduled":             {"Gepland", "Scheduled"},
	"held":                  {"Bewaarplicht (legal hold)", "Legal hold"},
	"category":              {"Categorie", "Category"},
	"due":                   {"Vervalt", "Due"},
	"records":               {"Gegevens", "Records"},
	"events":                {"Gebeurtenissen", "Events"},
	"stays":                 {"Verblijven", "Stays"},
	"audit_mentions":        {"Vermeldingen in de audittrail", "Audit trail mentions"},
	"chain_ok":              {"Keten intact", "Chain intact"},
	"month":                 {"Maand", "Month"},
	"profile":               {"Tariefprofiel", "Tariff profile"},
	"amount":                {"Bedrag", "Amount"},
	"rule":                  {"Regel", "Rule"},
	"statement_nl":          {"Jaaropgave kinderopvangtoeslag (NL)", "Childcare benefit statement (NL)"},
	"certificate_be":        {"Fiscaal attest 281.86 (BE)", "Tax certificate 281.86 (BE)"},
	"year":                  {"Jaar", "Year"},
	"saved":                 {"Opgeslagen als nieuwe roosterversie", "Saved as a new roster version"},
	"not_permitted":         {"groep niet toegestaan", "group not permitted"},
	"language":              {"English", "Nederlands"},
	"download":              {"Downloaden", "Download"},
	"download_xlsx":         {"Excel (.xlsx)", "Excel (.xlsx)"},
	"download_csv_excel":    {"CSV voor Excel (;)", "CSV for Excel (;)"},
	"download_csv_raw":      {"CSV (systemen)", "CSV (machines)"},
	"period":                {"Periode", "Period"},
	"this_month":            {"Deze maand", "This month"},
	"last_month":            {"Vorige maand", "Last month"},
	"family":                {"Gezin", "Family"},
	"family_total":          {"Totaal gezin", "Family total"},
	"grand_total":           {"Totaal", "Total"},
	"days":                  {"Dagen", "Days"},
	"hours_present":         {"Aanwezig (uren)", "Present (hours)"},
	"hours_billed":          {"Gefactureerd (uren)", "Billed (hours)"},
	"unpriced":              {"Zonder prijs", "Not priced"},
	"to_check":              {"Te controleren", "To check"},
	"summary":               {"Overzicht per kind en gezin", "Summary per child and family"},
	"lines":                 {"Regels per dag", "Lines per day"},
	"lines_shown":           {"Regels", "Lines"},
	"of":                    {"van", "of"},
	"previous":              {"vorige", "previous"},
	"next":                  {"volgende", "next"},
	"page":                  {"pagina", "page"},
	"lines_all_in_download": {"alle regels in de downloads hierboven", "every line in the downloads above"},
	"day_type":              {"Soort dag", "Day type"},
	"preview_note":          {"Voorbeeld op basis van de aanwezigheid; contracturen en -tarieven staan niet in centraal (kioskctl bill -contracts).", "Preview from attendance; contracted hours and rates are not held centrally (kioskctl bill -contracts)."},
	"no_lines":              {"Geen aanwezigheid in deze periode.", "No attendance in this period."},
	"unpriced_note":         {"verblijven met een ontbrekende aankomst- of vertrektijd; corrigeer die eerst in de aanwezigheid.", "stays with a missing arrival or departure; correct them in attendance first."},
	"flagged_note":          {"regels met een gecorrigeerde of onzekere tijd; controleer die voor u factureert.", "lines with a corrected or unverified time; check them before invoicing."},
	"stays_total":           {"verblijven · totaal", "stays · total"},
	"hours_unit":            {"uur", "hours"},
	"month_topup":           {"aanvulling tot maandminimum", "top-up to the month minimum"},
	"printed":               {"Afgedrukt", "Printed"},
	// Codes that exports and pages show: day types, time quality, flags,
	// three-hour-rule alerts, ratio status.
	"code_weekday":               {"doordeweeks", "weekday"},
	"code_wednesday":             {"vrije woensdagmiddag", "free Wednesday afternoon"},
	"code_school_free":           {"schoolvrije dag", "school-free day"},
	"code_vacation":              {"vakantie", "vacation"},
	"code_vacation_activity":     {"vakantie (activiteit)", "vacation (activity)"},
	"code_weekend":               {"weekend", "weekend"},
	"code_public_holiday":        {"feestdag", "public holiday"},
	"code_ok":                    {"ok", "ok"},
	"code_corrected":             {"gecorrigeerd", "corrected"},
	"code_unverified":            {"onzeker", "unverified"},
	"code_missing_checkout":      {"vertrek ontbreekt", "check-out missing"},
	"code_missing_checkin":       {"aankomst ontbreekt", "check-in missing"},
	"code_open":                  {"nog aanwezig", "still present"},
	"code_split_midnight":        {"gesplitst om middernacht", "split at midnight"},
	"code_pickup_confirmed":      {"ophaler bevestigd", "pickup confirmed"},
	"code_activity":              {"activiteit", "activity"},
	"code_unverified_time":       {"tijd onzeker", "time unverified"},
	"code_corrected_time":        {"tijd gecorrigeerd", "time corrected"},
	"code_missing_time":          {"tijd ontbreekt", "time missing"},
	"code_travel_not_billed":     {"reistijd niet gefactureerd", "travel not billed"},
	"code_absence_sick":          {"afwezig: ziek", "absent: sick"},
	"code_absence_late_cancel":   {"afwezig: te laat afgemeld", "absent: cancelled late"},
	"code_absence_cancel":        {"afwezig: tijdig afgemeld", "absent: cancelled in time"},
	"code_absence_provider_away": {"afwezig: opvang gesloten", "absent: provider away"},
	"code_absence_short_day":     {"korter dan afgesproken", "shorter than agreed"},
	"code_outside_window":        {"buiten venster", "outside window"},
	"code_over_budget":           {"boven 3 uur", "over the 3 hours"},
	"code_below_floor":           {"onder de helft", "below half"},
	"code_short_opening":         {"korte openingsdag", "short opening day"},
	"code_not_permitted":         {"groep niet toegestaan", "group not permitted"},
	"code_below":                 {"onder BKR", "below ratio"},
	"code_child":                 {"kind", "child"},
	"code_family":                {"gezin", "family"},
	"unlock_signin":              {"Aanmeldblokkade opheffen", "Lift sign-in lock"},
	"last_run":                   {"Laatste run", "Last run"},
	"billing_runs":               {"Facturen", "Invoices"},
	"billing_run":                {"Factuurrun", "Billing run"},
	"billing_diff":               {"Verschillen met de facturen", "Differences with the invoices"},
	"billing_settings":           {"Factuurgegevens en machtigingen", "Invoice details and mandates"},
	"run_month":                  {"Maand factureren", "Invoice a month"},
	"run_month_note":             {"Prijst de aanwezigheid van de maand, nummert één factuur per gezin zonder gaten en bewaart de PDF's. Een maand wordt één keer gefactureerd; wijzigingen daarna worden correctiefacturen.", "Prices the month's attendance, numbers one invoice per family without gaps and keeps the PDFs. A month is invoiced once; later changes become correction invoices."},
	"issue_invoices":             {"Facturen maken", "Issue invoices"},
	"allow_unpriced":             {"Ook met verblijven zonder prijs (€ 0,00)", "Also with unpriced stays (€ 0.00)"},
	"err_unpriced":               {"Niet gefactureerd: %d verblijven missen een aankomst- of vertrektijd en zouden voor € 0,00 op de factuur komen (waarna het maandminimum kan gelden). Corrigeer ze eerst in de aanwezigheid, of kruis aan dat u toch wilt factureren.", "Not issued: %d stays lack a check-in or check-out time and would be invoiced at € 0.00 (after which the month minimum may apply). Correct them in the attendance first, or tick the box to issue anyway."},
	"no_runs":                    {"Nog geen facturen gemaakt voor deze locatie.", "No invoices issued for this location yet."},
	"no_provider":                {"Vul eerst de factuurgegevens van de organisatie in (naam, adres, KvK/LRK of ondernemingsnummer, IBAN).", "First enter the organisation's invoice details (name, address, KvK/LRK or enterprise number, IBAN)."},
	"err_no_provider":            {"De factuurgegevens van de organisatie ontbreken nog: vul ze eerst in.", "The organisation's invoice details are missing: enter them first."},
	"err_unpriced_one":           {"Niet gefactureerd: %d verblijf mist een aankomst- of vertrektijd en zou voor € 0,00 op de factuur komen (waarna het maandminimum kan gelden). Corrigeer het eerst in de aanwezigheid, of kruis aan dat u toch wilt factureren.", "Not issued: %d stay lacks a check-in or check-out time and would be invoiced at € 0.00 (after which the month minimum may apply). Correct it in the attendance first, or tick the box to issue anyway."},
	"kept":                       {"Bewaard", "Kept"},
	"retention_result":           {"Verwijderd: %d, geanonimiseerd: %d, bewaarplicht: %d", "Deleted: %d, anonymised: %d, held: %d"},
	"left_roster":                {"niet meer op het rooster", "no longer on the roster"},
	"care_periods":               {"Contract (administratie)", "Contract (administration)"},
	"contract_start":             {"Begin contract", "Contract start"},
	"contract_end":               {"Einde contract", "Contract end"},
	"legal_name":                 {"Officiële naam", "Legal name"},
	"contact_details":            {"Contactgegevens", "Contact details"},
	"address":                    {"Adres", "Address"},
	"health_alerts":              {"Gezondheid (waarschuwingen voor medewerkers)", "Health (staff alerts)"},
	"roster_versions":            {"Roosterversies", "Roster versions"},
	"staff_member":               {"Medewerker", "Staff member"},
	"applicant":                  {"Sollicitant", "Applicant"},
	"care":                       {"Contracten en contactgegevens", "Contracts and contact details"},
	"care_intro":                 {"Begin en einde van de opvang (medewerkers: het dienstverband, sollicitanten: de procedure) en de contactgegevens. De bewaartermijnen tellen vanaf het einde.", "Start and end of care (staff: the employment, applicants: the procedure) and the contact details. The retention terms count from the end."},
	"care_terms":                 {"Na het einde: contactgegevens 2 jaar, gezondheid 1 jaar, administratie 7 jaar (medewerkers 2 jaar, 10 bij een arbeidsgeschil; sollicitanten 4 weken, 1 jaar met toestemming).", "After the end: contact details 2 years, health 1 year, administration 7 years (staff 2 years, 10 with a labour dispute; applicants 4 weeks, 1 year with consent)."},
	"care_extended":              {"Verlengd (medewerker: arbeidsgeschil; sollicitant: toestemming)", "Extended (staff: labour dispute; applicant: consent)"},
	"running":                    {"loopt", "running"},
	"stored":                     {"Opgeslagen.", "Saved."},
	"postcode":                   {"Postcode", "Postcode"},
	"city":                       {"Plaats", "City"},
	"view":                       {"Bekijken", "View"},
	"edit":                       {"Bewerken", "Edit"},
	"err_month_not_over":         {"Niet gefactureerd: %s is nog niet voorbij. Een maand kan worden gefactureerd vanaf %s, als alle dagen ervan geweest zijn.", "Not issued: %s has not ended yet. A month can be invoiced from %s, once all of its days have passed."},
	"err_already_billed":         {"Deze maand is al gefactureerd. Bekijk de verschillen en maak zo nodig correctiefacturen.", "This month is already invoiced. Look at the differences and issue corrections if needed."},
	"err_nothing_to_bill":        {"Er is niets te factureren.", "There is nothing to invoice."},
	"err_diff_moved":             {"De verschillen zijn veranderd sinds u ze bekeek (nieuwe aanwezigheid of een andere correctie). Bekijk ze opnieuw; er is niets gemaakt.", "The differences changed since you looked (new attendance or another correction). Look again; nothing was issued."},
	"err_conflict":               {"Dit is al vastgelegd.", "This is already recorded."},
	"kind_invoice":               {"facturen", "invoices"},
	"kind_correction":            {"correcties", "corrections"},
	"numbers":                    {"Nummers", "Numbers"},
	"invoices_n":                 {"Facturen", "Invoices"},
	"created":                    {"Gemaakt", "Issued"},
	"by":                         {"door", "by"},
	"open":                       {"Openen", "Open"},
	"compare":                    {"Vergelijk met nu", "Compare with now"},
	"invoice_number":             {"Factuurnummer", "Invoice number"},
	"invoice_date":               {"Factuurdatum", "Invoice date"},
	"payment":                    {"Betaling", "Payment"},
	"direct_debit":               {"incasso", "direct debit"},
	"transfer":                   {"overmaken", "transfer"},
	"refund":                     {"terugbetalen", "refund"},
	"corrects":                   {"Corrigeert", "Corrects"},
	"all_pdfs":                   {"Alle PDF's (zip)", "All PDFs (zip)"},
	"sepa_batch":                 {"SEPA-incassobestand", "SEPA direct-debit file"},
	"sepa_none":                  {"Geen gezin met een machtiging in deze run.", "No family with a mandate in this run."},
	"mark_collected":             {"Incasso is uitgevoerd", "Direct debits collected"},
	"collected_on":               {"Incasso uitgevoerd op", "Collected on"},
	"collected_note":             {"Na de eerste geslaagde incasso gaan machtigingen van FRST naar RCUR.", "After the first successful collection, mandates move from FRST to RCUR."},
	"run_lines":                  {"Factuurregels", "Invoice lines"},
	"invoiced":                   {"Gefactureerd", "Invoiced"},
	"now":                        {"Nu", "Now"},
	"difference":                 {"Verschil", "Difference"},
	"change":                     {"Wijziging", "Change"},
	"change_added":               {"nieuw", "added"},
	"change_removed":             {"vervallen", "removed"},
	"change_changed":             {"gewijzigd", "changed"},
	"was":                        {"Was", "Was"},
	"becomes":                    {"Wordt", "Becomes"},
	"no_differences":             {"Geen verschillen: de facturen kloppen met de aanwezigheid van nu.", "No differences: the invoices match today's attendance."},
	"diff_note":                  {"Vergelijkt wat er gefactureerd is (de run en eerdere correcties) met de aanwezigheid van nu, met hetzelfde tarief. Een gemaakte factuur wordt nooit gewijzigd: een correctie is een nieuwe factuur met een eigen nummer die naar de oorspronkelijke verwijst. Ook bij € 0,00 verschil worden gewijzigde uren gecorrigeerd: ze tellen voor de kinderopvangtoeslag.", "Compares what was invoiced (the run and earlier corrections) with today's attendance, at the same tariff. An issued invoice is never changed: a correction is a new invoice with its own number that references the original."},
	"issue_corrections":          {"Correctiefacturen maken", "Issue correction invoices"},
	"families_changed":           {"Gezinnen met verschillen", "Families with differences"},
	"families_unchanged":         {"Ongewijzigd", "Unchanged"},
	"new_family":                 {"nieuw gezin", "new family"},
	"provider":                   {"Organisatie (op de factuur)", "Organisation (on the invoice)"},
	"provider_admin_only":        {"Alleen een beheerder kan deze gegevens wijzigen.", "Only an admin can change these details."},
	"address_lines":              {"Adres (één regel per regel)", "Address (one line per line)"},
	"country":                    {"Land", "Country"},
	"kvk":                        {"KvK-nummer", "KvK number"},
	"lrk":                        {"LRK-nummer", "LRK number"},
	"enterprise_number":          {"Ondernemingsnummer (BE)", "Enterprise number (BE)"},
	"iban":                       {"IBAN", "IBAN"},
	"bic":                        {"BIC", "BIC"},
	"phone":                      {"Telefoon", "Phone"},
	"number_prefix":              {"Voorvoegsel factuurnummer", "Invoice number prefix"},
	"creditor_id":                {"Incassant-ID", "Creditor ID"},
	"payment_term":               {"Betaaltermijn", "Payment term"},
	"term_day":                   {"vóór dag … van de volgende maand", "by day … of the next month"},
	"term_days":                  {"dagen na factuurdatum", "days after the invoice date"},
	"vat_text":                   {"Btw-tekst (leeg: standaard vrijstelling)", "VAT text (empty: the standard exemption)"},
	"mandates":                   {"Incassomachtigingen", "Direct-debit mandates"},
	"mandate_id":                 {"Machtigingskenmerk", "Mandate reference"},
	"signed":                     {"Getekend op", "Signed on"},
	"account_holder":             {"Rekeninghouder", "Account holder"},
	"sequence":                   {"Volgorde", "Sequence"},
	"remove":                     {"Verwijderen", "Remove"},
	"no_mandate":                 {"geen machtiging", "no mandate"},
	"settings":                   {"Factuurgegevens", "Invoice details"},
	"correction_run":             {"Correctiefacturen", "Correction invoices"},
	"issued":                     {"Facturen gemaakt", "Invoices issued"},
	"nothing_to_pay":             {"niets te betalen", "nothing to pay"},
	"fleet":                      {"Vloot: hoe gaat het met de deuren", "Fleet: how the doors are"},
	"door":                       {"Deur", "Door"},
	"lag":                        {"Achterstand", "Lag"},
	"pending_events":             {"wachtend", "pending"},
	"problems":                   {"Problemen", "Problems"},
	"version":                    {"Versie", "Version"},
	"readers":                    {"Lezers", "Readers"},
	"open_now":                   {"nu open", "open now"},
	"no_report":                  {"geen gezondheidsrapport (oudere kiosk)", "no health report (older kiosk)"},
	"all_well":                   {"in orde", "all well"},
	"fleet_silent":               {"stil tijdens openingstijd", "silent during opening hours"},
	"fleet_reader_down":          {"lezer werkt niet", "reader not working"},
	"fleet_reader_degraded":      {"lezer verminderd", "reader degraded"},
	"fleet_clock_unsynced":       {"klok niet gesynchroniseerd", "clock not synchronised"},
	"fleet_low_disk":             {"schijf bijna vol", "disk nearly full"},
	"fleet_storage":              {"opslag faalt", "storage failing"},
	"since":                      {"sinds", "since"},
	"free":                       {"vrij", "free"},
	"portal_admin":               {"Ouderportaal", "Parents' portal"},
	"portal_intro":               {"Nodig ouders/verzorgers uit voor het ouderportaal met het e-mailadres dat u van hen heeft. Het adres blijft op de centrale server en komt nooit op een kiosk. Zonder adres kan iemand niet inloggen.", "Invite guardians to the parents' portal with the e-mail address you keep for them. The address stays on the central server and never reaches a kiosk. Without an address nobody can sign in."},
	"portal_state":               {"Toegang", "Access"},
	"portal_invite":              {"Uitnodigen", "Invite"},
	"portal_change":              {"Wijzigen", "Change"},
	"portal_not_invited":         {"niet uitgenodigd", "not invited"},
	"portal_invited":             {"uitgenodigd", "invited"},
	"portal_passkey":             {"heeft een passkey", "has a passkey"},
	"portal_no_passkey":          {"nog geen passkey", "no passkey yet"},
	"portal_notify":              {"e-mail bij ophalen", "e-mail on pickup"},
	"portal_withdrawn":           {"toegang ingetrokken", "access withdrawn"},
	"portal_withdraw":            {"Toegang intrekken", "Withdraw access"},
	"portal_restore":             {"Toegang herstellen", "Restore access"},
	"portal_bad_email":           {"Dat is geen geldig e-mailadres.", "That is not a valid e-mail address."},
	"portal_ok_save":             {"E-mailadres opgeslagen.", "E-mail address saved."},
	"portal_ok_withdraw":         {"Toegang ingetrokken: deze ouder ziet niets meer in het portaal.", "Access withdrawn: this guardian sees nothing in the portal any more."},
	"portal_ok_restore":          {"Toegang hersteld.", "Access restored."},
	"webhooks":                   {"Webhooks", "Webhooks"},
	"webhook":                    {"Webhook", "Webhook"},
	"webhooks_intro":             {"Kinderdeur meldt in- en uitchecks aan uw eigen systemen: elke melding is ondertekend (Kinderdeur-Signature) en wordt herhaald tot uw systeem hem aanneemt, tot 24 uur lang.", "Kinderdeur reports check-ins and check-outs to your own systems: every delivery is signed (Kinderdeur-Signature) and retried until your system accepts it, for up to 24 hours."},
	"webhook_url":                {"Adres (https)", "URL (https)"},
	"webhook_events":             {"Gebeurtenissen", "Events"},
	"webhook_first_name":         {"Voornaam", "First name"},
	"webhook_first_name_opt_in":  {"Voornaam van het kind meesturen (anders alleen het kind-id)", "Send the child's first name (otherwise only the child id)"},
	"webhook_active":             {"Actief", "Active"},
	"webhook_pending":            {"Wachtend", "Pending"},
	"webhook_dead":               {"Opgegeven", "Dead"},
	"webhook_all_locations":      {"Alle locaties", "Every location"},
	"webhook_new":                {"Nieuwe webhook", "New webhook"},
	"webhook_create":             {"Webhook aanmaken", "Create webhook"},
	"webhook_secret_once":        {"Geheime sleutel (wordt maar één keer getoond; bewaar hem in uw systeem):", "Secret (shown only once; store it in your system):"},
	"webhook_secret_hint":        {"Sleutel begint met", "Secret starts with"},
	"webhook_signature_help":     {"controleer HMAC-SHA256(sleutel, t + \".\" + body) uit de kop Kinderdeur-Signature en negeer een Kinderdeur-Delivery die u al had.", "check HMAC-SHA256(secret, t + \".\" + body) from the Kinderdeur-Signature header and drop a Kinderdeur-Delivery you already had."},
	"webhook_url_refused":        {"Dit adres is niet toegestaan: alleen https naar een openbaar adres (geen localhost, privé- of link-local-netwerk).", "This URL is not allowed: https to a public address only (no localhost, private or link-local network)."},
	"webhook_not_retryable":      {"Deze melding is al afgeleverd.", "This delivery was already delivered."},
	"webhook_test":               {"Testmelding sturen", "Send test event"},
	"webhook_rotate":             {"Nieuwe sleutel", "Rotate secret"},
	"webhook_delete":             {"Verwijderen", "Delete"},
	"webhook_log":                {"Afleverlog", "Delivery log"},
	"webhook_all":                {"alle", "all"},
	"webhook_delivery":           {"Aflevering", "Delivery"},
	"webhook_event":              {"Gebeurtenis", "Event"},
	"webhook_status":             {"Status", "Status"},
	"webhook_attempts":           {"Pogingen", "Attempts"},
	"webhook_code":               {"HTTP", "HTTP"},
	"webhook_error":              {"Laatste fout", "Last error"},
	"webhook_last":               {"Laatste poging", "Last attempt"},
	"webhook_next":               {"Volgende poging", "Next attempt"},
	"webhook_retry":              {"Nu opnieuw", "Retry now"},
	"yes":                        {"ja", "yes"},
	"no":                         {"nee", "no"},
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

// Count formats a message about n things: the key's "_one" form when n is
// 1 ("1 verblijf mist"), the key itself otherwise ("2 verblijven missen");
// the text's first verb (%d) is n, then args.
func Count(l Lang, key string, n int, args ...any) string {
	if n == 1 {
		if _, ok := texts[key+"_one"]; ok {
			key += "_one"
		}
	}
	return fmt.Sprintf(T(l, key), append([]any{n}, args...)...)
}

// langOf picks the request's language: the lang cookie, else Dutch.
func langOf(r *http.Request) Lang {
	if c, err := r.Cookie("lang"); err == nil && c.Value == string(EN) {
		return EN
	}
	return NL
}

// Code translates a code the domain writes (a day type, a time quality, a
// flag, an alert kind) for a page; an unknown code shows as it is.
func Code(l Lang, code string) string {
	v, ok := texts["code_"+code]
	if !ok {
		return codes.Text(string(l), code) // the table the invoices and exports share
	}
	if l == EN {
		return v[1]
	}
	return v[0]
}

// Euro formats cents as euros the way the page's language writes them:
// "€ 1.234,56" in Dutch, "€1,234.56" in English.
func Euro(l Lang, cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	thousands, dec, sp := ".", ",", " "
	if l == EN {
		thousands, dec, sp = ",", ".", ""
	}
	whole := strconv.FormatInt(cents/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(thousands)
		}
		b.WriteRune(r)
	}
	return fmt.Sprintf("€%s%s%s%s%02d", sp, sign, b.String(), dec, cents%100)
}

// HM formats minutes as hours and minutes: 485 -> "8:05".
func HM(m int) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d:%02d", sign, m/60, m%60)
}
