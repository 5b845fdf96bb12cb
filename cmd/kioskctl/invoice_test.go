package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestInvoiceEndToEnd(t *testing.T) {
	dir := t.TempDir()
	out, numbers, sepaFile := filepath.Join(dir, "out"), filepath.Join(dir, "numbers.db"), filepath.Join(dir, "sdd.xml")
	args := []string{"invoice", "-profile", "deburcht", "-in", stayGolden, "-month", "2026-11", "-provider", "testdata/provider-deburcht.json",
		"-families", "testdata/families.csv", "-numbers", numbers, "-out", out, "-sepa", sepaFile}
	code, stdout, stderr := runCmd(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "2 invoices DB2026-00001 to DB2026-00002") || !strings.Contains(stdout, "1 direct debits") {
		t.Errorf("stdout: %s", stdout)
	}
	for _, f := range []string{"DB2026-00001-g1.pdf", "DB2026-00002-g2.pdf"} {
		b, err := os.ReadFile(filepath.Join(out, f))
		if err != nil || !strings.HasPrefix(string(b), "%PDF-") {
			t.Errorf("%s: %v", f, err)
		}
	}
	x, err := os.ReadFile(sepaFile)
	if err != nil || !strings.Contains(string(x), "<EndToEndId>DB2026-00001</EndToEndId>") || !strings.Contains(string(x), "<ReqdColltnDt>2026-12-15</ReqdColltnDt>") {
		t.Errorf("sepa: %v\n%s", err, x)
	}
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		if o, err := exec.Command(xmllint, "--noout", "--schema", "../../attendance/sepa/testdata/pain.008.001.08.xsd", sepaFile).CombinedOutput(); err != nil {
			t.Errorf("xmllint: %v\n%s", err, o)
		}
	}
	left, _ := filepath.Glob(filepath.Join(out, ".invoice-*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	// The next run takes the next numbers: no number twice, no gap.
	code, stdout, stderr = runCmd(t, args...)
	if code != 0 || !strings.Contains(stdout, "DB2026-00003 to DB2026-00004") {
		t.Errorf("second run: exit %d %s %s", code, stdout, stderr)
	}
	// Same data and date: same bytes (the number aside, reruns into a fresh sequence).
	a, _ := os.ReadFile(filepath.Join(out, "DB2026-00001-g1.pdf"))
	args2 := append([]string(nil), args...)
	args2[len(args2)-5], args2[len(args2)-3] = filepath.Join(dir, "numbers2.db"), filepath.Join(dir, "out2")
	if code, _, stderr := runCmd(t, args2...); code != 0 {
		t.Fatalf("fresh run: %s", stderr)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "out2", "DB2026-00001-g1.pdf"))
	if string(a) != string(b) || len(a) == 0 {
		t.Error("the same invoice differs between runs")
	}
}

func TestInvoiceErrors(t *testing.T) {
	dir := t.TempDir()
	badFamilies := filepath.Join(dir, "families.csv")
	os.WriteFile(badFamilies, []byte("family_id,guardians,iban,mandate_id,mandate_date\ng1,A,NL21INGB0001234567,M1,2025-08-30\n"), 0o644)
	onlyG1 := filepath.Join(dir, "g1.csv")
	os.WriteFile(onlyG1, []byte("family_id,guardians\ng1,A\n"), 0o644)
	base := func(families string) []string {
		return []string{"invoice", "-profile", "deburcht", "-in", stayGolden, "-month", "2026-11", "-provider", "testdata/provider-deburcht.json",
			"-families", families, "-numbers", filepath.Join(dir, "n.db"), "-out", filepath.Join(dir, "out")}
	}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad IBAN with its line", base(badFamilies), 1, "families.csv: families: 1 error(s)\n  line 2, column iban: families: bad IBAN"},
		{"family missing", base(onlyG1), 1, "no row for family_id g2"},
		{"no month", []string{"invoice", "-profile", "deburcht", "-in", stayGolden}, 2, "-month is required"},
		{"bad month", append(base(onlyG1), "-month", "11-2026"), 2, `-month "11-2026": want YYYY-MM`},
		{"empty month", append(base(onlyG1), "-month", "2026-01"), 1, "no invoice lines in 2026-01"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCmd(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	if n, _ := filepath.Glob(filepath.Join(dir, "out", "*.pdf")); len(n) > 0 {
		t.Errorf("failed runs wrote %v", n)
	}
}
