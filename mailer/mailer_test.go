package mailer

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/mailer/mailtest"
)

func TestSendThroughSMTP(t *testing.T) {
	srv := mailtest.StartServer(t, map[string]string{"citybot": "geheim"})
	m, err := New("smtp://citybot:geheim@"+srv.Addr, "Stadt Lindenbrück <service@lindenbrueck.example>")
	if err != nil {
		t.Fatal(err)
	}
	body := "Guten Tag,\nIhre Anfrage 20261207-00001 ist beantwortet: Die Hundesteuer beträgt 96 €.\n"
	if err := m.Send(context.Background(), "anna@buerger.example", "Ihre Anfrage 20261207-00001\r\nBcc: x@evil.example", body); err != nil {
		t.Fatal(err)
	}
	got := srv.Received()
	if len(got) != 1 || got[0].From != "service@lindenbrueck.example" || got[0].To != "anna@buerger.example" || got[0].User != "citybot" {
		t.Fatalf("received %+v", got)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Ihre Anfrage 20261207-00001 Bcc: x@evil.example" || msg.Header.Get("Bcc") != "" {
		t.Errorf("subject %q, bcc %q: a line break made a header", subject, msg.Header.Get("Bcc"))
	}
	text, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if strings.ReplaceAll(string(text), "\r\n", "\n") != body || !strings.Contains(msg.Header.Get("Content-Type"), "utf-8") {
		t.Errorf("body %q", text)
	}
	if from, _ := mail.ParseAddress(msg.Header.Get("From")); from == nil || from.Name != "Stadt Lindenbrück" {
		t.Errorf("from %q", msg.Header.Get("From"))
	}

	// Wrong credentials, an unreachable server, bad addresses: errors, nothing sent.
	bad, _ := New("smtp://citybot:falsch@"+srv.Addr, "service@lindenbrueck.example")
	if err := bad.Send(context.Background(), "anna@buerger.example", "x", "x"); err == nil {
		t.Error("wrong credentials: sent")
	}
	gone, _ := New("smtp://127.0.0.1:1", "service@lindenbrueck.example")
	if err := gone.Send(context.Background(), "anna@buerger.example", "x", "x"); err == nil {
		t.Error("no server: sent")
	}
	if err := m.Send(context.Background(), "keine adresse", "x", "x"); err == nil {
		t.Error("a bad recipient: sent")
	}
	for _, u := range []string{"http://mail.example", "smtp://", "mail.example:25"} {
		if _, err := New(u, "a@b.example"); err == nil {
			t.Errorf("%q taken as an SMTP URL", u)
		}
	}
	if _, err := New("smtp://mail.example", "kein absender"); err == nil {
		t.Error("a bad sender taken")
	}
	if len(srv.Received()) != 1 {
		t.Errorf("%d messages received, want the one", len(srv.Received()))
	}
}
