// Package auth is the central service's access control: roles and their
// permissions, argon2id password hashes, hashed API tokens, server-side
// sessions with CSRF tokens, HTTP middleware that authenticates and
// authorises each request, per-client token-bucket rate limits and security
// headers. Storage of users, tokens and sessions is the service's: this
// package defines small lookup interfaces and ships in-memory
// implementations for tests and the demo.
package auth

import "fmt"

// Role is what a principal may do at central.
type Role string

const (
	RoleAdmin     Role = "admin"     // everything, including users and devices
	RoleManager   Role = "manager"   // location manager: roster, attendance, subject rights
	RoleBilling   Role = "billing"   // invoices and the attendance they are based on
	RoleInspector Role = "inspector" // GGD / Zorginspectie: read-only inspection data
	RoleDevice    Role = "device"    // an enrolled kiosk: sync only
)

// Roles lists every role in a stable order.
var Roles = []Role{RoleAdmin, RoleManager, RoleBilling, RoleInspector, RoleDevice}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	_, ok := grants[r]
	return ok
}

// ParseRole parses a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("auth: unknown role %q", s)
	}
	return r, nil
}

// Permission is one guarded action.
type Permission string

const (
	ReadAttendance     Permission = "read_attendance"      // attendance lists and exports
	ReadInspection     Permission = "read_inspection"      // ratio, three-hour rule, rosters for the inspector
	ReadBilling        Permission = "read_billing"         // invoices, benefit statements
	ManageBilling      Permission = "manage_billing"       // tariffs, invoice runs, SEPA mandates
	ManageProvider     Permission = "manage_provider"      // the provider's invoice details: bank account, creditor id
	ReadPersonalData   Permission = "read_personal_data"   // child and guardian records
	EditPersonalData   Permission = "edit_personal_data"   // correction, completion, restriction
	ExportPersonalData Permission = "export_personal_data" // access and portability exports
	EraseData          Permission = "erase_data"           // erasure requests, legal holds
	EditRoster         Permission = "edit_roster"          // children, guardians, pickups, staff, groups
	ManageDevices      Permission = "manage_devices"       // enrol and revoke kiosks
	ManageUsers        Permission = "manage_users"         // users, roles, tokens
	ReadAudit          Permission = "read_audit"           // the audit trail
	SyncDevice         Permission = "sync_device"          // push events, pull the roster
	// CorrectAttendance: correct a stay of any day (a check-in or check-out
	// time, a missed stay, a wrong one), with a reason; audited.
	CorrectAttendance Permission = "correct_attendance"
)

// Permissions lists every permission in a stable order.
var Permissions = []Permission{
	ReadAttendance, ReadInspection, ReadBilling, ManageBilling, ManageProvider, ReadPersonalData,
	EditPersonalData, ExportPersonalData, EraseData, EditRoster, ManageDevices,
	ManageUsers, ReadAudit, SyncDevice, CorrectAttendance,
}

// grants is the whole policy: need to know (seed 001 §4.1). Admins are
// people, not kiosks, so they do not get SyncDevice; devices get nothing
// else.
var grants = map[Role]map[Permission]bool{
	// Only admins change where the money goes (IBAN, creditor id): the
	// billing role runs invoices but cannot redirect them.
	RoleAdmin: set(ReadAttendance, ReadInspection, ReadBilling, ManageBilling, ManageProvider, ReadPersonalData,
		EditPersonalData, ExportPersonalData, EraseData, EditRoster, ManageDevices, ManageUsers, ReadAudit, CorrectAttendance),
	RoleManager: set(ReadAttendance, ReadInspection, ReadBilling, ReadPersonalData, EditPersonalData,
		ExportPersonalData, EraseData, EditRoster, ReadAudit, CorrectAttendance),
	RoleBilling:   set(ReadAttendance, ReadBilling, ManageBilling),
	RoleInspector: set(ReadAttendance, ReadInspection),
	RoleDevice:    set(SyncDevice),
}

func set(ps ...Permission) map[Permission]bool {
	m := make(map[Permission]bool, len(ps))
	for _, p := range ps {
		m[p] = true
	}
	return m
}

// Can reports whether role may perform p. Unknown roles and permissions
// may do nothing.
func Can(role Role, p Permission) bool {
	return grants[role][p]
}
