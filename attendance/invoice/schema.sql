-- Invoice numbers without gaps: the last number issued per series (year).
CREATE TABLE IF NOT EXISTS invoice_sequence (
	series TEXT PRIMARY KEY,
	last   INTEGER NOT NULL CHECK (last >= 0)
) STRICT;
