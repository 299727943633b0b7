// Command mailsink is mailtest's SMTP server (emersion/go-smtp) as a process of its own, for the
// browser tests. It listens on 127.0.0.1 on a free port, prints its address as the first JSON
// line on standard output ({"addr":"127.0.0.1:PORT"}), then each message it takes as one line:
// {"from","to":[…],"subject","text","data"}, subject and text decoded, data the raw message. It
// ends on SIGTERM or SIGINT, or when its standard input closes.
//
//	mailsink [-user NAME -password PASS]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/citybot-project/citybot/mailer/mailtest"
)

func main() {
	user := flag.String("user", "", "with -password, the account a client must authenticate as (PLAIN)")
	pass := flag.String("password", "", "the account's password")
	flag.Parse()
	var users map[string]string
	if *user != "" {
		users = map[string]string{*user: *pass}
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	go func() { // the test that started it has gone
		io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	srv, err := mailtest.Listen(users)
	if err == nil {
		err = run(ctx, srv, os.Stdout)
		srv.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailsink:", err)
		os.Exit(1)
	}
}

// run prints the server's address, then each message it receives, until ctx ends.
func run(ctx context.Context, srv *mailtest.Server, stdout io.Writer) error {
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(map[string]string{"addr": srv.Addr}); err != nil {
		return err
	}
	printed := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for _, m := range srv.Received()[printed:] {
			if err := enc.Encode(message{From: m.From, To: []string{m.To}, Subject: m.Subject(), Text: m.Text(),
				Data: string(m.Data), User: m.User}); err != nil {
				return err
			}
			printed++
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

type message struct {
	From    string   `json:"from"`
	To      []string `json:"to"`
	Subject string   `json:"subject"`
	Text    string   `json:"text"`
	Data    string   `json:"data"`
	User    string   `json:"user,omitempty"` // who authenticated
}
