package audit

import (
	"context"
	"database/sql"
	_ "embed"
	"fmt"
)

// SchemaSQLite creates the audit table and its append-only triggers on SQLite.
//
//go:embed schema_sqlite.sql
var SchemaSQLite string

// SchemaPostgres creates the audit table and its append-only triggers on
// PostgreSQL (14 or newer: CREATE OR REPLACE TRIGGER).
//
//go:embed schema_postgres.sql
var SchemaPostgres string

// Schema returns the schema for d.
func Schema(d Dialect) string {
	if d == Postgres {
		return SchemaPostgres
	}
	return SchemaSQLite
}

// Migrate creates the audit table and triggers if they do not exist. It is
// safe to run at every start-up.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) error {
	if _, err := db.ExecContext(ctx, Schema(d)); err != nil {
		return fmt.Errorf("audit: migrate (%s): %w", d, err)
	}
	return nil
}
