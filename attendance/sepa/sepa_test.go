package sepa

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestIBAN: the check digits, the length per country, spaces allowed.
func TestCheckIBAN(t *testing.T) {
	for _, ok := range []string{"NL91ABNA0417164300", "nl91 abna 0417 1643 00", "BE68539007547034", "DE89370400440532013000",
		"FR1420041010050500013M02606", MakeIBAN("NL", "INGB0001234567")} {
		if err := CheckIBAN(ok); err != nil {
			t.Errorf("CheckIBAN(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "NL", "NL92ABNA0417164300", "NL91ABNA041716430", "BE68539007547035", "US64SVBKUS6S3300958879",
		"NL91ABNA04171643O0", "NLX1ABNA0417164300"} {
		if err := CheckIBAN(bad); !errors.Is(err, ErrIBAN) {
			t.Errorf("CheckIBAN(%q) = %v, want ErrIBAN", bad, err)
		}
	}
}

func TestCheckCreditorIDAndBIC(t *testing.T) {
	for _, ok := range []string{MakeCreditorID("NL", "ZZZ", "123456780000"), MakeCreditorID("BE", "ZZZ", "0207435867"), "DE98ZZZ09999999999"} {
		if err := CheckCreditorID(ok); err != nil {
			t.Errorf("CheckCreditorID(%q) = %v", ok, err)
		}
	}
	// The business code does not count: the same id with another code is valid.
	if err := CheckCreditorID("DE98ABC09999999999"); err != nil {
		t.Errorf("business code counted: %v", err)
	}
	for _, bad := range []string{"DE99ZZZ09999999999", "XX98ZZZ09999999999", "DE9"} {
		if err := CheckCreditorID(bad); !errors.Is(err, ErrCreditorID) {
			t.Errorf("CheckCreditorID(%q) = %v, want ErrCreditorID", bad, err)
		}
	}
	for _, ok := range []string{"ABNANL2A", "INGBNL2AXXX", "GEBABEBB"} {
		if err := CheckBIC(ok); err != nil {
			t.Errorf("CheckBIC(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"ABNANL2", "ABNA1L2A", "abnanl2a"} {
		if err := CheckBIC(bad); !errors.Is(err, ErrBIC) {
			t.Errorf("CheckBIC(%q) = %v, want ErrBIC", bad, err)
		}
	}
}

func TestLatin(t *testing.T) {
	for in, want := range map[string]string{"Zoë de Vries": "Zoe de Vries", "Çağlar Şahin": "Caglar Sahin", "Łukasz  Wójcik": "Lukasz Wojcik",
		"Factuur 2026-00001 – november": "Factuur 2026-00001 - november", "Jansen & Zn.": "Jansen + Zn.", "名前 Li": "Li"} {
		if got := Latin(in); got != want {
			t.Errorf("Latin(%q) = %q, want %q", in, got, want)
		}
	}
}

func sampleBatch() Batch {
	d := attendance.MustDate
	return Batch{
		MessageID: "KD-2026-11-SDD",
		Created:   time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Creditor:  Creditor{Name: "Kinderopvang Bernefertier", IBAN: "NL91 ABNA 0417 1643 00", BIC: "ABNANL2A", ID: MakeCreditorID("NL", "ZZZ", "123456780000")},
		Debits: []Debit{
			{EndToEndID: "2026-00001", AmountCents: 14309, MandateID: "BF-M-0001", MandateDate: d("2025-08-30"), Sequence: Recurring,
				DebtorName: "Zoë de Vries", DebtorIBAN: MakeIBAN("NL", "INGB0001234567"), Remittance: "Factuur 2026-00001 november 2026",
				CollectionOn: d("2026-12-20")},
			{EndToEndID: "2026-00002", AmountCents: 8800, MandateID: "BF-M-0002", MandateDate: d("2026-11-01"), Sequence: First,
				DebtorName: "Jan Peeters", DebtorIBAN: "BE68539007547034", DebtorBIC: "GEBABEBB", Remittance: "Factuur 2026-00002 november 2026",
				CollectionOn: d("2026-12-20")},
			{EndToEndID: "2026-00003", AmountCents: 123456, MandateID: "BF-M-0003", MandateDate: d("2024-01-15"), Sequence: Recurring,
				DebtorName: "Fatima el Amrani", DebtorIBAN: MakeIBAN("NL", "RABO0123456789"), Remittance: "Factuur 2026-00003 november 2026",
				CollectionOn: d("2026-12-20")},
		},
	}
}

// TestWriteGoldenAndDeterministic: the same batch gives the same bytes, the
// golden file shows the layout.
func TestWriteGoldenAndDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := Write(&a, sampleBatch()); err != nil {
		t.Fatal(err)
	}
	if err := Write(&b, sampleBatch()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two writes of one batch differ")
	}
	golden := filepath.Join("testdata", "batch.golden.xml")
	if *update {
		if err := os.WriteFile(golden, a.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(want, a.Bytes()) {
		t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, a.String())
	}
	for _, s := range []string{"<SeqTp>FRST</SeqTp>", "<SeqTp>RCUR</SeqTp>", "<CtrlSum>1465.65</CtrlSum>", `<InstdAmt Ccy="EUR">143.09</InstdAmt>`,
		"<Nm>Zoe de Vries</Nm>", "<Id>NOTPROVIDED</Id>", "<BICFI>GEBABEBB</BICFI>", "<DtOfSgntr>2025-08-30</DtOfSgntr>"} {
		if !strings.Contains(a.String(), s) {
			t.Errorf("output lacks %s", s)
		}
	}
}

// TestValidatesAgainstXSD checks the output against the official
// pain.008.001.08 schema with xmllint (Debian: libxml2-utils). Without
// xmllint the test skips, except under CI=true where it fails.
func TestValidatesAgainstXSD(t *testing.T) {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("xmllint not found: install libxml2-utils (CI needs it to check pain.008 output against its XSD)")
		}
		t.Skip("xmllint not found: install libxml2-utils to check the pain.008 output against its XSD")
	}
	big := sampleBatch()
	for i := 0; i < 40; i++ {
		big.Debits = append(big.Debits, Debit{EndToEndID: fmt.Sprintf("2026-%05d", 100+i), AmountCents: int64(1000 + i), MandateID: fmt.Sprintf("M-%d", i),
			MandateDate: attendance.MustDate("2025-01-01"), Sequence: Recurring, DebtorName: "Ouder " + fmt.Sprint(i),
			DebtorIBAN: MakeIBAN("BE", fmt.Sprintf("%012d", 539007547000+i)), CollectionOn: attendance.MustDate("2026-12-05")})
	}
	for name, b := range map[string]Batch{"sample": sampleBatch(), "two dates": big} {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, b); err != nil {
				t.Fatal(err)
			}
			f := filepath.Join(t.TempDir(), "batch.xml")
			if err := os.WriteFile(f, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "pain.008.001.08.xsd"), f).CombinedOutput()
			if err != nil {
				t.Fatalf("xmllint: %v\n%s", err, out)
			}
		})
	}
	// And the schema check bites: a message with an element out of order fails.
	var buf bytes.Buffer
	if err := Write(&buf, sampleBatch()); err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(buf.String(), "<ChrgBr>SLEV</ChrgBr>", "<ChrgBr>NOPE</ChrgBr>", 1)
	f := filepath.Join(t.TempDir(), "broken.xml")
	if err := os.WriteFile(f, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", filepath.Join("testdata", "pain.008.001.08.xsd"), f).CombinedOutput(); err == nil {
		t.Errorf("xmllint accepted a bad ChrgBr:\n%s", out)
	}
}

func TestValidateNamesTheDebit(t *testing.T) {
	b := sampleBatch()
	b.Debits[1].DebtorIBAN = "BE68539007547035"
	b.Debits[2].AmountCents = 0
	b.Debits[0].MandateDate = attendance.Date{}
	err := Write(&bytes.Buffer{}, b)
	var de *DebitError
	if !errors.As(err, &de) || !errors.Is(err, ErrIBAN) {
		t.Fatalf("err = %v, want a DebitError wrapping ErrIBAN", err)
	}
	for _, s := range []string{"debit 2 (2026-00002)", "debit 3 (2026-00003): sepa: bad batch: amount 0 cents", "debit 1 (2026-00001)", "no date of signature"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error lacks %q:\n%v", s, err)
		}
	}
}
