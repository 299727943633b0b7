package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/database/dbtest"
)

// citybotIn runs the command line with stdin.
func citybotIn(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// TestUsersCommand: accounts made, given roles in two towns, listed per town, their password
// reset and the account disabled from the command line, each change in the audit log; every
// kind of bad input refused with what is wrong, and nothing changed by it.
func TestUsersCommand(t *testing.T) {
	url := dbtest.URL(t)
	env := map[string]string{"DATABASE_URL": url, "CITYBOT_LOG_LEVEL": "warn"}
	for _, slug := range []string{"lindenbrueck", "eichenfeld"} {
		if code, out, errOut := citybot(t, env, "towns", "add", slug, "--name", slug); code != 0 {
			t.Fatalf("towns add: %s %s", out, errOut)
		}
	}
	code, out, errOut := citybotIn(t, env, "richtig-langes-Passwort\n", "users", "add", "--town", "lindenbrueck", "--email", "Erika@Lindenbrueck.example",
		"--name", "Erika Muster", "--role", "agent", "--password-stdin")
	if code != 0 || !strings.Contains(out, "erika@lindenbrueck.example") || !strings.Contains(out, "lindenbrueck:agent") {
		t.Fatalf("users add: %d %s %s", code, out, errOut)
	}
	if code, out, _ := citybot(t, env, "users", "add", "--town", "eichenfeld", "--email", "erika@lindenbrueck.example", "--name", "Erika Muster",
		"--role", "reviewer"); code != 0 || !strings.Contains(out, "eichenfeld:reviewer lindenbrueck:agent") || !strings.Contains(out, "active") {
		t.Fatalf("a second town's role: %d %s", code, out)
	}
	citybot(t, env, "users", "add", "--email", "it@kreis.example", "--name", "IT", "--operator")
	if _, out, _ := citybot(t, env, "users", "list", "--town", "eichenfeld"); strings.Contains(out, "it@kreis.example") || !strings.Contains(out, "erika@") {
		t.Errorf("eichenfeld's users: %s", out)
	}
	if _, out, _ := citybot(t, env, "users", "list"); !strings.Contains(out, "it@kreis.example") || !strings.Contains(out, "operator") {
		t.Errorf("all users: %s", out)
	}

	// Bad input: a clear error, and no account or role made.
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"users", "add", "--town", "lindenbrueck", "--email", "keine-adresse", "--name", "X", "--role", "agent"}, "not an e-mail address"},
		{"", []string{"users", "add", "--town", "lindenbrueck", "--email", "x@y.example", "--name", "X", "--role", "chef"}, "want one of admin, editor, agent, reviewer"},
		{"", []string{"users", "add", "--email", "x@y.example", "--name", "X", "--role", "agent"}, "needs --town SLUG and --role ROLE"},
		{"", []string{"users", "add", "--town", "nirgendwo", "--email", "x@y.example", "--name", "X", "--role", "agent"}, "no such town"},
		{"", []string{"users", "add", "--town", "lindenbrueck", "--email", "x@y.example", "--role", "agent"}, "needs --name"},
		{"kurz\n", []string{"users", "add", "--town", "lindenbrueck", "--email", "x@y.example", "--name", "X", "--role", "agent", "--password-stdin"}, "12 to 128 characters"},
		{"", []string{"users", "disable", "--email", "niemand@y.example"}, "no such user"},
		{"", []string{"users", "disable"}, "needs --email"},
		{"", []string{"users", "promote", "--email", "x@y.example"}, `unknown "promote"`},
	} {
		code, out, errOut := citybotIn(t, env, tc.stdin, tc.args...)
		if code == 0 || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("%v: exit %d, %q %q, want %q", tc.args, code, out, errOut, tc.want)
		}
	}
	if _, out, _ := citybot(t, env, "users", "list"); strings.Contains(out, "x@y.example") {
		t.Errorf("bad input made an account: %s", out)
	}

	// A reset prints a new password once; it verifies, the old one does not.
	code, out, _ = citybot(t, env, "users", "reset-password", "--email", "erika@lindenbrueck.example")
	pw := regexp.MustCompile(`new password \(shown once; its holder changes it\): (\S+)`).FindStringSubmatch(out)
	if code != 0 || pw == nil {
		t.Fatalf("reset: %d %s", code, out)
	}
	var hash string
	query(t, url, `SELECT password_hash FROM users WHERE email = 'erika@lindenbrueck.example'`, &hash)
	if ok, _ := auth.VerifyPassword(hash, pw[1]); !ok {
		t.Error("the printed password does not verify")
	}
	if ok, _ := auth.VerifyPassword(hash, "richtig-langes-Passwort"); ok {
		t.Error("the old password still verifies")
	}
	if code, out, _ := citybot(t, env, "users", "disable", "--email", "erika@lindenbrueck.example"); code != 0 || !strings.Contains(out, "disabled") {
		t.Errorf("disable: %d %s", code, out)
	}
	var actions string
	query(t, url, `SELECT string_agg(action || ' ' || target || ' ' || coalesce(town_id::text, '-'), ', ' ORDER BY id) FROM audit_log WHERE actor = 'cli'`, &actions)
	want := regexp.MustCompile(`^user\.add erika@lindenbrueck\.example \d+, user\.add erika@lindenbrueck\.example \d+, user\.add it@kreis\.example -, ` +
		`user\.reset_password erika@lindenbrueck\.example -, user\.disable erika@lindenbrueck\.example -$`)
	if !want.MatchString(actions) {
		t.Errorf("audit log: %s", actions)
	}
}
