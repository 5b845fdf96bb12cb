-- Billing at central (issue 15): the provider's details per location, SEPA
-- mandates per family, gap-free invoice numbers per location and year, and
-- the issued invoices of each billing run. An issued invoice is never
-- updated: a correction is a new invoice that references it.
CREATE TABLE billing_providers (
	location_id   TEXT PRIMARY KEY REFERENCES locations (id),
	provider_json TEXT NOT NULL,
	updated_ns    BIGINT NOT NULL,
	updated_by    TEXT NOT NULL
);
CREATE TABLE billing_mandates (
	location_id TEXT NOT NULL REFERENCES locations (id),
	family_id   TEXT NOT NULL,
	mandate_id  TEXT NOT NULL,
	iban        TEXT NOT NULL,
	bic         TEXT NOT NULL DEFAULT '',
	holder      TEXT NOT NULL DEFAULT '',
	signed      TEXT NOT NULL,
	sequence    TEXT NOT NULL CHECK (sequence IN ('FRST', 'RCUR')),
	updated_ns  BIGINT NOT NULL,
	PRIMARY KEY (location_id, family_id)
);
-- The last number issued per location and series (the invoice date's year).
CREATE TABLE invoice_sequences (
	location_id TEXT NOT NULL,
	series      TEXT NOT NULL,
	last        BIGINT NOT NULL CHECK (last >= 0),
	PRIMARY KEY (location_id, series)
);
CREATE TABLE billing_runs (
	id           TEXT PRIMARY KEY,
	location_id  TEXT NOT NULL REFERENCES locations (id),
	kind         TEXT NOT NULL CHECK (kind IN ('invoice', 'correction')),
	period       TEXT NOT NULL,
	profile      TEXT NOT NULL,
	invoice_date TEXT NOT NULL,
	created_ns   BIGINT NOT NULL,
	created_by   TEXT NOT NULL,
	invoices     INTEGER NOT NULL,
	total_cents  BIGINT NOT NULL,
	first_number TEXT NOT NULL,
	last_number  TEXT NOT NULL,
	collected_ns BIGINT
);
-- One month is invoiced once per location; later changes are corrections.
CREATE UNIQUE INDEX billing_runs_month ON billing_runs (location_id, period) WHERE kind = 'invoice';
CREATE INDEX billing_runs_location ON billing_runs (location_id, created_ns);
CREATE TABLE invoices (
	location_id  TEXT NOT NULL REFERENCES locations (id),
	number       TEXT NOT NULL,
	seq          BIGINT NOT NULL,
	run_id       TEXT NOT NULL REFERENCES billing_runs (id),
	family_id    TEXT NOT NULL,
	period       TEXT NOT NULL,
	total_cents  BIGINT NOT NULL,
	corrects     TEXT NOT NULL DEFAULT '',
	invoice_json TEXT NOT NULL,
	pdf          BYTEA NOT NULL,
	pdf_sha256   TEXT NOT NULL,
	PRIMARY KEY (location_id, number)
);
CREATE INDEX invoices_run ON invoices (run_id);
CREATE INDEX invoices_family ON invoices (family_id, period);
