package portal

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Mailer sends one plain-text e-mail.
type Mailer interface {
	Send(ctx context.Context, to, subject, body string) error
}

// SMTPMailer sends through an SMTP server (central's -smtp-addr): STARTTLS
// when the server offers it (required unless InsecurePlain), PLAIN
// authentication when Username is set.
type SMTPMailer struct {
	Addr     string // host:port
	From     string
	Username string
	Password string
	// ImplicitTLS connects with TLS from the start (port 465).
	ImplicitTLS bool
	// InsecurePlain allows a server without STARTTLS (a relay on
	// localhost, tests). Never across a network.
	InsecurePlain bool
	TLS           *tls.Config
}

// Send implements Mailer.
func (m *SMTPMailer) Send(ctx context.Context, to, subject, body string) error {
	if strings.ContainsAny(to+m.From, "\r\n") {
		return errors.New("portal: mail: bad address")
	}
	host, _, _ := net.SplitHostPort(m.Addr)
	cfg := m.TLS
	if cfg == nil {
		cfg = &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	}
	var c *smtp.Client
	var err error
	switch {
	case m.ImplicitTLS:
		c, err = smtp.DialTLS(m.Addr, cfg)
	case m.InsecurePlain:
		c, err = smtp.Dial(m.Addr)
	default:
		c, err = smtp.DialStartTLS(m.Addr, cfg) // refuses a server without STARTTLS
	}
	if err != nil {
		return fmt.Errorf("portal: mail: dial %s: %w", m.Addr, err)
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		c.CommandTimeout = time.Until(dl)
	}
	if err := c.Hello("kinderdeur"); err != nil {
		return fmt.Errorf("portal: mail: hello: %w", err)
	}
	if m.Username != "" {
		if err := c.Auth(sasl.NewPlainClient("", m.Username, m.Password)); err != nil {
			return fmt.Errorf("portal: mail: auth: %w", err)
		}
	}
	msg := "From: " + m.From + "\r\nTo: " + to + "\r\nSubject: " + mime.QEncoding.Encode("utf-8", subject) +
		"\r\nDate: " + time.Now().Format(time.RFC1123Z) + "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
	if err := c.SendMail(m.From, []string{to}, strings.NewReader(msg)); err != nil {
		return fmt.Errorf("portal: mail: send: %w", err)
	}
	return c.Quit()
}

// LogMailer writes codes to the log instead of sending them: the demo
// only (central -demo without -smtp-addr).
type LogMailer struct{ Log *slog.Logger }

// Send implements Mailer.
func (m LogMailer) Send(_ context.Context, to, subject, body string) error {
	m.Log.Warn("demo: e-mail not sent (no -smtp-addr); its text follows", "to", to, "subject", subject, "body", body)
	return nil
}
