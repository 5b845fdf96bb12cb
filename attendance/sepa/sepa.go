// Package sepa writes SEPA Core direct-debit batches (ISO 20022
// pain.008.001.08) for the families who signed a mandate, and checks the
// identifiers they carry (IBAN, BIC, creditor identifier).
//
// Why pain.008.001.08: the EPC SDD Core rulebook of November 2023 moved
// the customer-to-bank implementation guidelines (EPC131-08) from the 2009
// ISO 20022 messages (pain.008.001.02) to the 2019 ones (pain.008.001.08),
// and the Dutch banks' joint guidelines (Betaalvereniging 'IG C2B SCT/SDD
// 2023') and the Belgian banks follow the EPC guidelines with the same
// version. Banks in both countries still accept .02 in a migration period,
// but .08 is the version every bank there must take, and the one whose
// postal address can be structured or hybrid, which the 2025 rulebook
// requires from November 2026 for any address sent (this package sends no
// postal address: within the EEA SEPA needs none). .08 also says BICFI
// where .02 said BIC.
//
// Output is deterministic: the caller supplies the message id and creation
// time, payments come out in the order given, grouped by sequence type and
// collection date in a fixed order. Text is reduced to the SEPA Latin
// character set (Latin), so "Zoë" becomes "Zoe".
package sepa

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/kinderdeur/kiosk/attendance"
)

// Namespace is the message's XML namespace.
const Namespace = "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"

// SequenceType of a collection under its mandate.
type SequenceType string

// Sequence types. OOFF and FNAL exist too; a monthly invoice never is one.
const (
	First     SequenceType = "FRST"
	Recurring SequenceType = "RCUR"
)

// Creditor is the provider collecting.
type Creditor struct {
	Name string
	IBAN string
	BIC  string // optional: IBAN-only is the SEPA default
	ID   string // SEPA creditor identifier
}

// Debit is one collection: one family's invoice.
type Debit struct {
	EndToEndID   string // the invoice number: the family sees it on the statement
	AmountCents  int64
	MandateID    string
	MandateDate  attendance.Date // date of signature
	Sequence     SequenceType
	DebtorName   string
	DebtorIBAN   string
	DebtorBIC    string // optional
	Remittance   string // unstructured, up to 140 characters
	CollectionOn attendance.Date
}

// Batch is one pain.008 message.
type Batch struct {
	MessageID string    // unique per creditor, up to 35 characters
	Created   time.Time // GrpHdr/CreDtTm, written in UTC
	Creditor  Creditor
	Debits    []Debit
}

// Sentinel errors of Write.
var (
	ErrBatch = errors.New("sepa: bad batch")
)

// DebitError names the debit (by index and end-to-end id) a problem is in.
type DebitError struct {
	Index      int
	EndToEndID string
	Err        error
}

func (e *DebitError) Error() string {
	return fmt.Sprintf("sepa: debit %d (%s): %v", e.Index+1, e.EndToEndID, e.Err)
}
func (e *DebitError) Unwrap() error { return e.Err }

const maxAmountCents = 99_999_999_999 // 999,999,999.99: the EPC maximum

// Validate checks the batch: identifiers, amounts, lengths, dates. It
// returns every problem, joined.
func (b *Batch) Validate() error {
	var errs []error
	bad := func(f string, a ...any) { errs = append(errs, fmt.Errorf("%w: "+f, append([]any{ErrBatch}, a...)...)) }
	if !validID(b.MessageID) {
		bad("message id %q: want 1-35 characters of the SEPA set, not starting with '/' and without '//'", b.MessageID)
	}
	if b.Created.IsZero() {
		bad("no creation time")
	}
	c := b.Creditor
	if Latin(c.Name) == "" {
		bad("creditor name empty")
	}
	if err := CheckIBAN(c.IBAN); err != nil {
		bad("creditor: %w", err)
	}
	if c.BIC != "" {
		if err := CheckBIC(c.BIC); err != nil {
			bad("creditor: %w", err)
		}
	}
	if err := CheckCreditorID(c.ID); err != nil {
		bad("creditor: %w", err)
	}
	if len(b.Debits) == 0 {
		bad("no debits")
	}
	seen := map[string]int{}
	for i, d := range b.Debits {
		add := func(f string, a ...any) {
			errs = append(errs, &DebitError{i, d.EndToEndID, fmt.Errorf("%w: "+f, append([]any{ErrBatch}, a...)...)})
		}
		if !validID(d.EndToEndID) {
			add("end-to-end id %q: want 1-35 characters of the SEPA set", d.EndToEndID)
		} else if j, dup := seen[d.EndToEndID]; dup {
			add("end-to-end id also on debit %d", j+1)
		} else {
			seen[d.EndToEndID] = i
		}
		if d.AmountCents <= 0 || d.AmountCents > maxAmountCents {
			add("amount %d cents: want 0.01 to 999999999.99 euro", d.AmountCents)
		}
		if !validID(d.MandateID) {
			add("mandate id %q: want 1-35 characters of the SEPA set", d.MandateID)
		}
		if d.MandateDate.IsZero() {
			add("mandate %s has no date of signature", d.MandateID)
		} else if !d.CollectionOn.IsZero() && d.CollectionOn.Before(d.MandateDate) {
			add("mandate %s signed %s, after the collection date %s", d.MandateID, d.MandateDate, d.CollectionOn)
		}
		if d.Sequence != First && d.Sequence != Recurring {
			add("sequence type %q: want FRST or RCUR", d.Sequence)
		}
		if Latin(d.DebtorName) == "" {
			add("debtor name empty")
		}
		if err := CheckIBAN(d.DebtorIBAN); err != nil {
			add("debtor: %w", err)
		}
		if d.DebtorBIC != "" {
			if err := CheckBIC(d.DebtorBIC); err != nil {
				add("debtor: %w", err)
			}
		}
		if d.CollectionOn.IsZero() {
			add("no collection date")
		}
	}
	return errors.Join(errs...)
}

// validID: the EPC rules for identifiers (MsgId, EndToEndId, MndtId):
// 1-35 characters of the SEPA set, no leading or trailing '/', no "//".
func validID(s string) bool {
	if s == "" || len(s) > 35 || Latin(s) != s || strings.HasPrefix(s, "/") || strings.HasSuffix(s, "/") ||
		strings.Contains(s, "//") || strings.TrimSpace(s) != s {
		return false
	}
	return true
}

// Write validates b and writes it as pain.008.001.08. One PmtInf block per
// sequence type and collection date (FRST before RCUR, dates ascending),
// the debits within in the order given.
func Write(w io.Writer, b Batch) error {
	if err := b.Validate(); err != nil {
		return err
	}
	type key struct {
		seq  SequenceType
		date attendance.Date
	}
	var keys []key
	groups := map[key][]int{}
	for i, d := range b.Debits {
		k := key{d.Sequence, d.CollectionOn}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], i)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].seq != keys[j].seq {
			return keys[i].seq == First
		}
		return keys[i].date.Before(keys[j].date)
	})
	var total int64
	for _, d := range b.Debits {
		total += d.AmountCents
	}
	doc := document{Xmlns: Namespace}
	m := &doc.Init
	m.GrpHdr = grpHdr{MsgID: b.MessageID, CreDtTm: b.Created.UTC().Format("2006-01-02T15:04:05"),
		NbOfTxs: fmt.Sprint(len(b.Debits)), CtrlSum: amount(total), InitgPty: party{Nm: trunc(Latin(b.Creditor.Name), 70)}}
	for _, k := range keys {
		idx := groups[k]
		var sum int64
		for _, i := range idx {
			sum += b.Debits[i].AmountCents
		}
		pi := pmtInf{
			PmtInfID: trunc(fmt.Sprintf("%s-%s-%s", b.MessageID, k.seq, strings.ReplaceAll(k.date.String(), "-", "")), 35),
			PmtMtd:   "DD", BtchBookg: "true", NbOfTxs: fmt.Sprint(len(idx)), CtrlSum: amount(sum),
			PmtTpInf:     pmtTpInf{SvcLvl: code{"SEPA"}, LclInstrm: code{"CORE"}, SeqTp: string(k.seq)},
			ReqdColltnDt: k.date.String(),
			Cdtr:         party{Nm: trunc(Latin(b.Creditor.Name), 70)},
			CdtrAcct:     account{Id: accountID{IBAN: NormalizeIBAN(b.Creditor.IBAN)}},
			CdtrAgt:      agentOf(b.Creditor.BIC),
			ChrgBr:       "SLEV",
		}
		pi.CdtrSchmeID.ID.PrvtID.Othr.ID = strings.ToUpper(strings.ReplaceAll(b.Creditor.ID, " ", ""))
		pi.CdtrSchmeID.ID.PrvtID.Othr.SchmeNm.Prtry = "SEPA"
		for _, i := range idx {
			d := b.Debits[i]
			tx := txInf{
				PmtID:    pmtID{EndToEndID: d.EndToEndID},
				InstdAmt: instdAmt{Ccy: "EUR", Value: amount(d.AmountCents)},
				DbtrAgt:  agentOf(d.DebtorBIC),
				Dbtr:     party{Nm: trunc(Latin(d.DebtorName), 70)},
				DbtrAcct: account{Id: accountID{IBAN: NormalizeIBAN(d.DebtorIBAN)}},
			}
			tx.DrctDbtTx.MndtRltdInf = mandate{MndtID: d.MandateID, DtOfSgntr: d.MandateDate.String()}
			if r := trunc(Latin(d.Remittance), 140); r != "" {
				tx.RmtInf = &rmtInf{Ustrd: r}
			}
			pi.Tx = append(pi.Tx, tx)
		}
		m.PmtInf = append(m.PmtInf, pi)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("sepa: write: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("sepa: write: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("sepa: write: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("sepa: write: %w", err)
	}
	return nil
}

func amount(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

func trunc(s string, n int) string {
	if len(s) > n { // Latin text is ASCII: bytes are characters
		s = strings.TrimSpace(s[:n])
	}
	return s
}

func agentOf(bic string) agent {
	var a agent
	if bic != "" {
		a.FinInstnID.BICFI = bic
	} else {
		a.FinInstnID.Othr = &othrID{ID: "NOTPROVIDED"}
	}
	return a
}

// The message, element by element, in schema order.
type document struct {
	XMLName xml.Name `xml:"Document"`
	Xmlns   string   `xml:"xmlns,attr"`
	Init    struct {
		GrpHdr grpHdr   `xml:"GrpHdr"`
		PmtInf []pmtInf `xml:"PmtInf"`
	} `xml:"CstmrDrctDbtInitn"`
}

type grpHdr struct {
	MsgID    string `xml:"MsgId"`
	CreDtTm  string `xml:"CreDtTm"`
	NbOfTxs  string `xml:"NbOfTxs"`
	CtrlSum  string `xml:"CtrlSum"`
	InitgPty party  `xml:"InitgPty"`
}

type party struct {
	Nm string `xml:"Nm"`
}

type code struct {
	Cd string `xml:"Cd"`
}

type pmtTpInf struct {
	SvcLvl    code   `xml:"SvcLvl"`
	LclInstrm code   `xml:"LclInstrm"`
	SeqTp     string `xml:"SeqTp"`
}

type accountID struct {
	IBAN string `xml:"IBAN"`
}

type account struct {
	Id accountID `xml:"Id"`
}

type othrID struct {
	ID string `xml:"Id"`
}

type agent struct {
	FinInstnID struct {
		BICFI string  `xml:"BICFI,omitempty"`
		Othr  *othrID `xml:"Othr,omitempty"`
	} `xml:"FinInstnId"`
}

type pmtInf struct {
	PmtInfID     string   `xml:"PmtInfId"`
	PmtMtd       string   `xml:"PmtMtd"`
	BtchBookg    string   `xml:"BtchBookg"`
	NbOfTxs      string   `xml:"NbOfTxs"`
	CtrlSum      string   `xml:"CtrlSum"`
	PmtTpInf     pmtTpInf `xml:"PmtTpInf"`
	ReqdColltnDt string   `xml:"ReqdColltnDt"`
	Cdtr         party    `xml:"Cdtr"`
	CdtrAcct     account  `xml:"CdtrAcct"`
	CdtrAgt      agent    `xml:"CdtrAgt"`
	ChrgBr       string   `xml:"ChrgBr"`
	CdtrSchmeID  struct {
		ID struct {
			PrvtID struct {
				Othr struct {
					ID      string `xml:"Id"`
					SchmeNm struct {
						Prtry string `xml:"Prtry"`
					} `xml:"SchmeNm"`
				} `xml:"Othr"`
			} `xml:"PrvtId"`
		} `xml:"Id"`
	} `xml:"CdtrSchmeId"`
	Tx []txInf `xml:"DrctDbtTxInf"`
}

type pmtID struct {
	EndToEndID string `xml:"EndToEndId"`
}

type instdAmt struct {
	Ccy   string `xml:"Ccy,attr"`
	Value string `xml:",chardata"`
}

type mandate struct {
	MndtID    string `xml:"MndtId"`
	DtOfSgntr string `xml:"DtOfSgntr"`
}

type rmtInf struct {
	Ustrd string `xml:"Ustrd"`
}

type txInf struct {
	PmtID     pmtID    `xml:"PmtId"`
	InstdAmt  instdAmt `xml:"InstdAmt"`
	DrctDbtTx struct {
		MndtRltdInf mandate `xml:"MndtRltdInf"`
	} `xml:"DrctDbtTx"`
	DbtrAgt  agent   `xml:"DbtrAgt"`
	Dbtr     party   `xml:"Dbtr"`
	DbtrAcct account `xml:"DbtrAcct"`
	RmtInf   *rmtInf `xml:"RmtInf,omitempty"`
}
