package roster

import (
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// DemoBadgeKey is the badge key of the demo site. It is public: never use it
// for a real site (a real site's key comes from central at enrolment).
var DemoBadgeKey = attendance.BadgeKey("kinderdeur-demo-site-key-not-secret")

// DemoCard is a simulated card of the demo roster, with its raw UID so a
// newcomer can tap it (GET /api/v1/sim/cards).
type DemoCard struct {
	UID      string          `json:"uid"` // hex
	Holder   string          `json:"holder"`
	Role     attendance.Role `json:"role"`
	Children []string        `json:"children,omitempty"` // first names, for the card panel
	Note     string          `json:"note,omitempty"`
}

// DemoTimeZone is the demo location's time zone.
const DemoTimeZone = "Europe/Amsterdam"

// DemoToday is the date at the demo location at now. kioskd -demo and
// central -demo both seed roster.Demo(DemoToday(now)): the demo roster's
// version is its date, and a demo kiosk takes central's rosters only when
// their version is newer than its own, so both must count the date in the
// same zone (in UTC central was a day behind from 00:00 to 01:00 in
// Amsterdam, and ignored every announcement made then).
func DemoToday(now time.Time) attendance.Date {
	if tz, err := time.LoadLocation(DemoTimeZone); err == nil {
		now = now.In(tz)
	}
	return attendance.DateOf(now)
}

// Demo returns the demo roster of "Kindercentrum De Regenboog" as it is on
// day today (birth dates are set relative to it, so the babies are babies
// whenever the demo runs), and its cards. The README documents it.
func Demo(today attendance.Date) (Roster, []DemoCard) {
	born := func(years, months int) attendance.Date {
		return attendance.DateOf(today.In(time.UTC).AddDate(-years, -months, -3))
	}
	r := Roster{
		// The version is the day, so a demo restarted tomorrow gets tomorrow's roster
		// and the demo central seeds the very same version.
		Version: int64(today.Year*10000 + int(today.Month)*100 + today.Day),
		Location: Location{
			ID: "loc-regenboog", Name: "Kindercentrum De Regenboog", TimeZone: DemoTimeZone,
			Country: "NL", Kind: "kdv", RatioMode: "warn", MinPickupAge: 16, MaxChildren: 40,
		},
		Groups: []Group{
			{ID: "g-rupsen", Name: "Rupsen", Policy: "nl-kdv", MaxChildren: 12},
			{ID: "g-vlinders", Name: "Vlinders", Policy: "nl-kdv", MaxChildren: 16},
			{ID: "g-bikkels", Name: "BSO Bikkels", Policy: "nl-bso", MaxChildren: 20},
		},
		Children: []Child{
			// The De Vries family: three children.
			{ID: "c-noah", FirstName: "Noah", GroupID: "g-rupsen", BirthDate: born(0, 7)},
			{ID: "c-emma", FirstName: "Emma", GroupID: "g-vlinders", BirthDate: born(3, 1), StaffAlert: "Pinda-allergie: EpiPen in de groepskast"},
			{ID: "c-sem", FirstName: "Sem", GroupID: "g-bikkels", BirthDate: born(9, 2)},
			// The Jansen family: two children.
			{ID: "c-julia", FirstName: "Julia", GroupID: "g-rupsen", BirthDate: born(0, 10)},
			{ID: "c-lucas", FirstName: "Lucas", GroupID: "g-vlinders", BirthDate: born(2, 6)},
			{ID: "c-mila", FirstName: "Mila", GroupID: "g-rupsen", BirthDate: born(1, 4), PhotoConsent: true},
			{ID: "c-daan", FirstName: "Daan", GroupID: "g-rupsen", BirthDate: born(1, 9)},
			{ID: "c-tess", FirstName: "Tess", GroupID: "g-vlinders", BirthDate: born(3, 5), StaffAlert: "Lactose-intolerant"},
			{ID: "c-levi", FirstName: "Levi", GroupID: "g-vlinders", BirthDate: born(2, 1)},
			{ID: "c-zoe", FirstName: "Zoë", GroupID: "g-vlinders", BirthDate: born(3, 9)},
			{ID: "c-finn", FirstName: "Finn", GroupID: "g-bikkels", BirthDate: born(10, 4)},
			{ID: "c-anna", FirstName: "Anna", GroupID: "g-bikkels", BirthDate: born(8, 0)},
			{ID: "c-milan", FirstName: "Milan", GroupID: "g-bikkels", BirthDate: born(6, 3)},
		},
		People: []Person{
			{ID: "p-sanne", Name: "Sanne de V.", Relation: "moeder"},
			{ID: "p-mark", Name: "Mark de V.", Relation: "vader"},
			{ID: "p-ingrid", Name: "Ingrid J.", Relation: "moeder"},
			{ID: "p-oma-riet", Name: "Riet J.", Relation: "oma", BirthDate: attendance.MustDate("1958-04-12")},
			{ID: "p-fatima", Name: "Fatima B.", Relation: "moeder"},
			{ID: "p-kees", Name: "Kees B.", Relation: "vader"},
			{ID: "p-buurvrouw", Name: "Els K.", Relation: "buurvrouw", BirthDate: attendance.MustDate("1979-09-23")},
			{ID: "p-tom", Name: "Tom J.", Relation: "vader (contactverbod)"},
			{ID: "p-youssef", Name: "Youssef A.", Relation: "vader"},
			{ID: "p-linda", Name: "Linda M.", Relation: "moeder"},
			{ID: "p-eva", Name: "Eva S.", Relation: "moeder"},
			{ID: "p-ruben", Name: "Ruben P.", Relation: "vader"},
			{ID: "p-henk", Name: "Henk K.", Relation: "opa", BirthDate: attendance.MustDate("1951-11-02")},
			// Levi's father until a court withdrew his parental authority:
			// his card is refused like a contact ban.
			{ID: "p-rob", Name: "Rob P.", Relation: "vader (gezag beëindigd)"},
		},
		Staff: []Staff{
			{ID: "s-lotte", Name: "Lotte", Groups: []string{"g-rupsen"}},
			{ID: "s-ahmed", Name: "Ahmed", Groups: []string{"g-vlinders"}},
			// Priya's PIN is 1234 (the demo shows the PIN step; Lotte and
			// Ahmed have no PIN). A staffpin argon2id hash, never the PIN.
			{ID: "s-priya", Name: "Priya", Groups: []string{"g-bikkels", "g-vlinders"},
				PINHash: "$argon2id$v=19$m=8192,t=1,p=1$uUjQybFd6Z28ATAuJvZe8g$a+QHoKs+ql4TVwSGFIsQOeRVSnSN1fl8Ut7fe3r9ui0"},
		},
		Guardianships: []Guardianship{
			{ChildID: "c-noah", PersonID: "p-sanne"}, {ChildID: "c-emma", PersonID: "p-sanne"}, {ChildID: "c-sem", PersonID: "p-sanne"},
			{ChildID: "c-noah", PersonID: "p-mark"}, {ChildID: "c-emma", PersonID: "p-mark"}, {ChildID: "c-sem", PersonID: "p-mark"},
			{ChildID: "c-julia", PersonID: "p-ingrid"}, {ChildID: "c-lucas", PersonID: "p-ingrid"},
			{ChildID: "c-mila", PersonID: "p-fatima"}, {ChildID: "c-mila", PersonID: "p-kees"},
			{ChildID: "c-daan", PersonID: "p-fatima"}, {ChildID: "c-daan", PersonID: "p-kees"},
			{ChildID: "c-zoe", PersonID: "p-youssef"},
			{ChildID: "c-finn", PersonID: "p-linda"}, {ChildID: "c-anna", PersonID: "p-linda"},
			{ChildID: "c-tess", PersonID: "p-eva"}, {ChildID: "c-milan", PersonID: "p-eva"},
			{ChildID: "c-levi", PersonID: "p-ruben"},
			{ChildID: "c-levi", PersonID: "p-rob", Withdrawn: true},
		},
		Authorisations: []Authorisation{
			// Grandma Riet may always take Julia and Lucas.
			{ChildID: "c-julia", PersonID: "p-oma-riet"},
			{ChildID: "c-lucas", PersonID: "p-oma-riet"},
		},
		Announced: []AnnouncedPickup{
			// The neighbour is announced to pick up Mila today.
			{ID: "a-1", ChildID: "c-mila", PersonID: "p-buurvrouw", Date: today, CreatedBy: "p-fatima"},
			// Grandpa Henk was announced for Mila yesterday, not today: his tap
			// calls staff (and Mila has photo consent, so staff see her photo).
			{ID: "a-2", ChildID: "c-mila", PersonID: "p-henk", Date: attendance.DateOf(today.In(time.UTC).AddDate(0, 0, -1)), CreatedBy: "p-kees"},
		},
		ContactBans: []ContactBan{
			{ChildID: "c-julia", PersonID: "p-tom", Note: "Contactverbod (beschikking rechtbank); bel moeder en teamleider"},
			{ChildID: "c-lucas", PersonID: "p-tom", Note: "Contactverbod (beschikking rechtbank); bel moeder en teamleider"},
		},
		Permissions: []IndependencePermission{
			// Finn may cycle home on his own on weekdays after 16:00.
			{ChildID: "c-finn", Scope: "home", From: attendance.DateOf(today.In(time.UTC).AddDate(0, -2, 0)),
				Until:     attendance.DateOf(today.In(time.UTC).AddDate(0, 8, 0)),
				GrantedBy: "p-linda", GrantedAt: today.In(time.UTC).AddDate(0, -2, 0)},
		},
	}
	for wd := time.Monday; wd <= time.Friday; wd++ {
		r.Location.Hours = append(r.Location.Hours, Hours{Weekday: wd, Open: "07:00", Close: "18:30"})
		r.Location.ThreeHourWindows = append(r.Location.ThreeHourWindows,
			Window{Weekday: wd, From: "07:00", Until: "08:30"},
			Window{Weekday: wd, From: "13:00", Until: "14:00"},
			Window{Weekday: wd, From: "17:30", Until: "18:00"})
	}
	cards := []DemoCard{
		{UID: "04A11C2A6B5E80", Holder: "Sanne de V.", Role: attendance.RoleGuardian, Children: []string{"Noah", "Emma", "Sem"}, Note: "moeder van drie"},
		{UID: "04B22D3B7C6F81", Holder: "Mark de V.", Role: attendance.RoleGuardian, Children: []string{"Noah", "Emma", "Sem"}},
		{UID: "3A5F19C2", Holder: "Ingrid J.", Role: attendance.RoleGuardian, Children: []string{"Julia", "Lucas"}},
		{UID: "4B6E2AD3", Holder: "Fatima B.", Role: attendance.RoleGuardian, Children: []string{"Mila", "Daan"}},
		{UID: "5C7F3BE4", Holder: "Kees B.", Role: attendance.RoleGuardian, Children: []string{"Mila", "Daan"}},
		{UID: "2B3C4D5E", Holder: "Youssef A.", Role: attendance.RoleGuardian, Children: []string{"Zoë"}, Note: "één kind: direct in- of uitchecken"},
		{UID: "1C2D3E4F", Holder: "Ruben P.", Role: attendance.RoleGuardian, Children: []string{"Levi"}},
		{UID: "9A2B3C4D", Holder: "Linda M.", Role: attendance.RoleGuardian, Children: []string{"Finn", "Anna"}},
		{UID: "5D6E7F80", Holder: "Eva S.", Role: attendance.RoleGuardian, Children: []string{"Tess", "Milan"}},
		{UID: "04C33E4C8D7092", Holder: "Riet J. (oma)", Role: attendance.RolePickup, Children: []string{"Julia", "Lucas"}, Note: "vaste ophaler"},
		{UID: "6D804CF5", Holder: "Els K. (buurvrouw)", Role: attendance.RolePickup, Children: []string{"Mila"}, Note: "vandaag aangemeld voor Mila; voor Daan niet"},
		{UID: "8E9FA0B1", Holder: "Henk K. (opa)", Role: attendance.RolePickup, Children: []string{"Mila"}, Note: "gisteren aangemeld, vandaag niet: medewerker komt"},
		{UID: "7E915D06", Holder: "Tom J.", Role: attendance.RolePickup, Note: "contactverbod voor Julia en Lucas"},
		{UID: "3D4E5F60", Holder: "Rob P.", Role: attendance.RoleGuardian, Children: []string{"Levi"}, Note: "gezag ingetrokken: geweigerd als een contactverbod"},
		{UID: "E1A20B3C", Holder: "Lotte", Role: attendance.RoleStaff},
		{UID: "E2B31C4D", Holder: "Ahmed", Role: attendance.RoleStaff},
		{UID: "E3C42D5E", Holder: "Priya", Role: attendance.RoleStaff},
		{UID: "04D44F5D9E81A3", Holder: "Finn", Role: attendance.RoleChild, Note: "mag zelfstandig naar huis"},
		{UID: "04E5506EAF92B4", Holder: "Anna", Role: attendance.RoleChild, Note: "mag niet alleen weg"},
		{UID: "A1B2C3D4", Holder: "onbekende kaart", Role: "", Note: "niet in het rooster"},
	}
	holders := map[string]string{ // card holder -> roster id
		"Sanne de V.": "p-sanne", "Mark de V.": "p-mark", "Ingrid J.": "p-ingrid", "Fatima B.": "p-fatima",
		"Kees B.": "p-kees", "Youssef A.": "p-youssef", "Ruben P.": "p-ruben", "Linda M.": "p-linda", "Eva S.": "p-eva", "Riet J. (oma)": "p-oma-riet", "Els K. (buurvrouw)": "p-buurvrouw", "Henk K. (opa)": "p-henk", "Tom J.": "p-tom", "Rob P.": "p-rob",
		"Lotte": "s-lotte", "Ahmed": "s-ahmed", "Priya": "s-priya", "Finn": "c-finn", "Anna": "c-anna",
	}
	for _, c := range cards {
		id, ok := holders[c.Holder]
		if !ok {
			continue // the unknown card stays unknown
		}
		uid, err := attendance.ParseUID(c.UID)
		if err != nil {
			panic(err) // demo data is code: a bad UID here is a programming error
		}
		r.Badges = append(r.Badges, Badge{Hash: DemoBadgeKey.Hash(uid), Role: c.Role, HolderID: id})
	}
	return r, cards
}
