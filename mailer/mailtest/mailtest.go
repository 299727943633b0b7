// Package mailtest is an in-process SMTP server for tests of what sends mail.
package mailtest

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Received is a message an in-process SMTP server took.
type Received struct {
	From, To string
	Data     []byte
	User     string // who authenticated, "" for nobody
}

// Subject is the message's subject, decoded.
func (r Received) Subject() string {
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return ""
	}
	s, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	return s
}

// Text is the message's body, decoded from quoted-printable, with plain line ends.
func (r Received) Text() string {
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		return ""
	}
	body := io.Reader(msg.Body)
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, _ := io.ReadAll(body)
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// Server is an in-process SMTP server (emersion/go-smtp) for tests: it accepts mail on
// loopback, optionally only after PLAIN authentication, and keeps what it received.
type Server struct {
	Addr string
	mu   sync.Mutex
	got  []Received
	// Users, when not empty, are the accounts it requires: user -> password.
	Users map[string]string
	close func() error
}

// Received returns the messages taken so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.got...)
}

type session struct {
	s    *Server
	r    Received
	user string
}

func (x *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (x *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if x.s.Users[user] != pass || pass == "" {
			return errors.New("invalid credentials")
		}
		x.user = user
		return nil
	}), nil
}
func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(x.s.Users) > 0 && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.r.From = from
	return nil
}
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error { x.r.To = to; return nil }
func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.r.Data, x.r.User = b, x.user
	x.s.mu.Lock()
	x.s.got = append(x.s.got, x.r)
	x.s.mu.Unlock()
	return nil
}
func (x *session) Reset()        { x.r = Received{} }
func (x *session) Logout() error { return nil }

// StartServer runs an SMTP server on loopback until the test ends.
func StartServer(t testing.TB, users map[string]string) *Server {
	t.Helper()
	s, err := Listen(users)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Listen runs an SMTP server on a free loopback port until Close: for a process of its own
// (mailsink) rather than a test.
func Listen(users map[string]string) (*Server, error) {
	s := &Server{Users: users}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.Addr, s.close = ln.Addr().String(), srv.Close
	go srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.close() }
