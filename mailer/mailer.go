// Package mailer sends the service desk's e-mail (new requests to the office, answers to
// citizens) through the town's or its IT provider's SMTP server.
package mailer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/url"
	"strings"
	"time"
)

// Mailer sends plain-text mail.
type Mailer struct {
	addr, host string
	implicit   bool // smtps: TLS from the first byte; smtp: STARTTLS when the server offers it
	user, pass string
	from       *mail.Address
	timeout    time.Duration
}

// New returns a Mailer for an SMTP URL (smtp://user:password@host:587, STARTTLS when offered;
// smtps://…:465, TLS from the start) sending as from (an address, with a display name or not).
func New(rawURL, from string) (*Mailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("want smtp://[user:password@]host[:port] or smtps://…")
	}
	f, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("the sender %q: %w", from, err)
	}
	m := &Mailer{host: u.Hostname(), implicit: u.Scheme == "smtps", from: f, timeout: 30 * time.Second}
	port := u.Port()
	if port == "" {
		port = map[bool]string{false: "587", true: "465"}[m.implicit]
	}
	m.addr = net.JoinHostPort(m.host, port)
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
	}
	return m, nil
}

// Send sends a plain-text message to one address.
func (m *Mailer) Send(ctx context.Context, to, subject, body string) error {
	rcpt, err := mail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("the recipient %q: %w", to, err)
	}
	msg, err := m.message(rcpt, subject, body)
	if err != nil {
		return err
	}
	if err := m.send(ctx, rcpt.Address, msg); err != nil {
		return fmt.Errorf("send mail to %s through %s: %w", rcpt.Address, m.addr, err)
	}
	return nil
}

func (m *Mailer) send(ctx context.Context, to string, msg []byte) error {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	var conn net.Conn
	var err error
	d := &net.Dialer{}
	if m.implicit {
		conn, err = (&tls.Dialer{NetDialer: d, Config: &tls.Config{ServerName: m.host}}).DialContext(ctx, "tcp", m.addr)
	} else {
		conn, err = d.DialContext(ctx, "tcp", m.addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	if deadline, ok := ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	c, err := smtp.NewClient(conn, m.host)
	if err != nil {
		return err
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok && !m.implicit {
		if err := c.StartTLS(&tls.Config{ServerName: m.host}); err != nil {
			return err
		}
	}
	if m.user != "" {
		// PlainAuth refuses to send the password unencrypted, except to localhost.
		if err := c.Auth(smtp.PlainAuth("", m.user, m.pass, m.host)); err != nil {
			return err
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message is the RFC 5322 message: UTF-8 text, quoted-printable, the subject encoded.
func (m *Mailer) message(to *mail.Address, subject, body string) ([]byte, error) {
	id := make([]byte, 12)
	rand.Read(id)
	// A line break in the subject would start a header of the sender's choosing.
	subject = strings.Join(strings.Fields(subject), " ")
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\n", m.from.String())
	fmt.Fprintf(&b, "To: %s\r\n", to.String())
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%x@%s>\r\n", id, m.host)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(body, "\r\n", "\n"), "\n", "\r\n"))); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
