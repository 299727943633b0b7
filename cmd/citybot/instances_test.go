package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestTwoInstancesOnOneDatabase runs two `citybot serve` on one database, as two instances behind
// a proxy that spreads citizens over them: a conversation begun at one goes on at the other
// (resumed, rated, asked again), what `towns set` and `towns remove` change reaches both within
// CITYBOT_TOWN_CHECK, and a conversation forgotten at one cannot be resumed at the other.
func TestTwoInstancesOnOneDatabase(t *testing.T) {
	env := setupTwoTowns(t)
	env["CITYBOT_TOWN_CHECK"] = "200ms"
	a, b := freeAddr(t), freeAddr(t)
	// Both may migrate at start: the migration lock lets one do it while the other waits.
	startServe(t, env, "--addr", a, "--migrate")
	startServe(t, env, "--addr", b, "--migrate")

	// Begun at A.
	atA := dialTown(t, a, "lindenbrueck", "?lang=de")
	first := atA.ask(t, "Was kostet die Hundesteuer?")
	if first["type"] != "answer" || !strings.Contains(first["text"].(string), "96 Euro") {
		t.Fatalf("A answers %v", first)
	}
	token, _ := atA.welcome["token"].(string)
	atA.c.Close()

	// Goes on at B: resumed with its history, the answer A gave rated, a question asked.
	atB := dialTown(t, b, "lindenbrueck", "?lang=de&resume="+token)
	if atB.welcome["resumed"] != true || atB.welcome["conversation_id"] != atA.welcome["conversation_id"] {
		t.Fatalf("B did not resume A's conversation: %v", atB.welcome)
	}
	if h := atB.next(t, "history"); len(h["messages"].([]any)) != 2 {
		t.Errorf("B's history of the conversation: %v", h)
	}
	if err := atB.c.WriteJSON(map[string]any{"type": "rate", "answer_id": first["id"], "value": "up"}); err != nil {
		t.Fatal(err)
	}
	if r := atB.next(t, "rated", "error"); r["type"] != "rated" {
		t.Errorf("rating A's answer at B: %v", r)
	}
	if second := atB.ask(t, "Wie hoch ist die Hundesteuer?"); second["type"] != "answer" || second["id"] == first["id"] {
		t.Errorf("B answers %v after A's %v", second, first["id"])
	}
	url := env["DATABASE_URL"]
	var convs, answers, ratings int
	query(t, url, `SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM answers), (SELECT count(*) FROM ratings)`,
		&convs, &answers, &ratings)
	if convs != 1 || answers != 2 || ratings != 1 {
		t.Errorf("stored by the two instances: %d conversations, %d answers, %d ratings; want one conversation, its two answers and one rating",
			convs, answers, ratings)
	}

	// Forgotten at B: A cannot resume it.
	if err := atB.c.WriteJSON(map[string]any{"type": "forget"}); err != nil {
		t.Fatal(err)
	}
	atB.next(t, "forgotten")
	if w := dialTown(t, a, "lindenbrueck", "?resume="+token).welcome; w["refused"] != true {
		t.Errorf("A resumed a conversation forgotten at B: %v", w)
	}

	// A change of settings made elsewhere reaches both instances.
	if code, out, errOut := citybot(t, env, "towns", "set", "lindenbrueck", "texts.de.ui.title=Fragen an die Stadt"); code != 0 {
		t.Fatalf("towns set: %d %s %s", code, out, errOut)
	}
	for _, addr := range []string{a, b} {
		eventually(t, 5*time.Second, func() bool {
			return strings.Contains(bundleOf(t, addr, "lindenbrueck"), "Fragen an die Stadt")
		}, "the new title in "+addr+"'s bundle")
	}
	// And a town removed is gone from both, its sockets closed.
	stay := dialTown(t, b, "eichenfeld", "?lang=de")
	if code, out, errOut := citybot(t, env, "towns", "remove", "eichenfeld", "--yes"); code != 0 {
		t.Fatalf("towns remove: %d %s %s", code, out, errOut)
	}
	for _, addr := range []string{a, b} {
		eventually(t, 5*time.Second, func() bool {
			code, _ := httpGet(t, "http://"+addr+"/t/eichenfeld/widget.js")
			return code == http.StatusNotFound
		}, "a 404 for the removed town at "+addr)
	}
	stay.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m map[string]any
		err := stay.c.ReadJSON(&m)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatal("a socket of the removed town is still open")
		}
		if err != nil {
			break // closed, as it should be
		}
	}
}

// bundleOf fetches a town's widget bundle through its loader.
func bundleOf(t *testing.T, addr, slug string) string {
	t.Helper()
	code, loader := httpGet(t, "http://"+addr+"/t/"+slug+"/widget.js")
	path := regexp.MustCompile(`/t/` + slug + `/widget/app\.[0-9a-f]{16}\.js`).FindString(loader)
	if code != http.StatusOK || path == "" {
		t.Fatalf("%s's loader at %s: %d %q", slug, addr, code, loader)
	}
	_, bundle := httpGet(t, "http://"+addr+path)
	return bundle
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond until it holds or within passes.
func eventually(t *testing.T, within time.Duration, cond func() bool, what string) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
	}
}

// query reads one row from the database at url.
func query(t *testing.T, url, sql string, dest ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, sql).Scan(dest...); err != nil {
		t.Fatal(err)
	}
}
