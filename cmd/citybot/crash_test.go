package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/database/dbtest"
)

// dbConn connects to the database at url until the test ends.
func dbConn(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// startChild runs citybot's command line (args) in a process of its own, the test binary
// re-executed (TestMain), with env as its environment, until the test ends.
func startChild(t *testing.T, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = []string{"CITYBOT_TEST_MAIN=1", "CITYBOT_TEST_ARGS=" + strings.Join(args, " ")}
	return startProcess(t, cmd, env, args)
}

// startProcess starts cmd with PATH and env added to its environment, until the test ends:
// then it is killed if still running, and what it wrote to standard error is logged if the test
// failed. args name it in that log.
func startProcess(t *testing.T, cmd *exec.Cmd, env map[string]string, args []string) *exec.Cmd {
	t.Helper()
	cmd.Env = append(cmd.Env, "PATH="+os.Getenv("PATH"))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("%s %v: %s", filepath.Base(cmd.Path), args, stderr.String())
		}
	})
	return cmd
}

func waitReadyAt(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve at %s not ready", addr)
		}
	}
}

// TestServeKilledLosesNothingAcknowledged: a `serve` killed with SIGKILL in the middle of a
// conversation, and started again: the resumed conversation's history holds every question and
// every answer that had reached the citizen.
func TestServeKilledLosesNothingAcknowledged(t *testing.T) {
	env := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_LOG_LEVEL": "warn", "CITYBOT_INGEST_NICE": "0"}
	dir := t.TempDir()
	for name, html := range map[string]string{
		"hundesteuer.html": townPage("Hundesteuer", "Lindenbrück", "Die Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund."),
		"reisepass.html":   townPage("Reisepass", "Lindenbrück", "Einen Reisepass beantragen Sie im Bürgerbüro. Er kostet 70 Euro."),
	} {
		os.WriteFile(filepath.Join(dir, name), []byte(html), 0o644)
	}
	for _, args := range [][]string{{"towns", "add", "lindenbrueck", "--name", "Lindenbrück", "--set", "privacy_url=https://www.lindenbrueck.example/datenschutz"},
		{"ingest", "--dir", dir, "--base-url", "https://www.lindenbrueck.example"}} {
		if code, out, errOut := citybot(t, env, args...); code != 0 {
			t.Fatalf("%v: %s %s", args, out, errOut)
		}
	}
	addr := freeAddr(t)
	first := startChild(t, env, "serve", "--addr", addr)
	waitReadyAt(t, addr)
	cv := dialTown(t, addr, "lindenbrueck", "?lang=de")
	token, _ := cv.welcome["token"].(string)
	var acknowledged []string
	for i, q := range []string{"Was kostet die Hundesteuer?", "Wo beantrage ich einen Reisepass?", "Was kostet der Reisepass?"} {
		if err := cv.c.WriteJSON(map[string]any{"type": "ask", "id": fmt.Sprint("q", i), "text": q}); err != nil {
			t.Fatal(err)
		}
		a := cv.next(t, "answer", "handoff")
		acknowledged = append(acknowledged, q, a["text"].(string))
	}
	// No goodbye: the process is gone at once, as in a power cut or the OOM killer.
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	cv.c.Close()

	second := startChild(t, env, "serve", "--addr", addr)
	waitReadyAt(t, addr)
	again := dialTown(t, addr, "lindenbrueck", "?lang=de&resume="+token)
	if again.welcome["resumed"] != true {
		t.Fatalf("not resumed after the kill: %v", again.welcome)
	}
	history := again.next(t, "history")
	msgs, _ := history["messages"].([]any)
	var got []string
	for _, m := range msgs {
		mm := m.(map[string]any)
		got = append(got, mm["text"].(string))
	}
	if strings.Join(got, "\n") != strings.Join(acknowledged, "\n") {
		t.Errorf("history after the kill:\n%q\nwant what had reached the citizen:\n%q", got, acknowledged)
	}
	second.Process.Signal(syscall.SIGTERM)
	second.Wait()
}

// TestIngestKilledLeavesWholePages: an ingest killed with SIGKILL part way leaves every page it
// stored whole (all its chunks, as a finished ingest stores them) and no page half; the next
// ingest brings in the rest and changes nothing of what was there.
func TestIngestKilledLeavesWholePages(t *testing.T) {
	url := dbtest.URL(t)
	env := map[string]string{"DATABASE_URL": url, "CITYBOT_LOG_LEVEL": "warn", "CITYBOT_INGEST_NICE": "0"}
	if code, out, errOut := citybot(t, env, "towns", "add", "lindenbrueck", "--name", "Lindenbrück"); code != 0 {
		t.Fatalf("%s %s", out, errOut)
	}
	dir := t.TempDir()
	const pages = 400
	want := map[string]int{} // page address -> its chunks
	for i := range pages {
		var body strings.Builder
		for s := range 1 + i%5 {
			fmt.Fprintf(&body, "</p><h2>Abschnitt %d</h2><p>Leistung %d, Abschnitt %d: Unterlagen, Gebühren und Fristen für Vorgang %d.", s, i, s, i*7+s)
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("leistung-%03d.html", i)), []byte(townPage(fmt.Sprintf("Leistung %d", i), "Lindenbrück", body.String())), 0o644)
		want[fmt.Sprintf("https://www.lindenbrueck.example/leistung-%03d", i)] = 1 + i%5
	}
	ingest := startChild(t, env, "ingest", "--dir", dir, "--base-url", "https://www.lindenbrueck.example")
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		query(t, url, `SELECT count(*) FROM pages`, &n)
		if n >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the ingest stored nothing")
		}
	}
	ingest.Process.Signal(syscall.SIGKILL)
	ingest.Wait()

	check := func(when string) int {
		t.Helper()
		conn := dbConn(t, url)
		rows, err := conn.Query(context.Background(), `SELECT p.url, count(c.id) FROM pages p LEFT JOIN chunks c ON c.town_id = p.town_id AND c.page_id = p.id GROUP BY p.url`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var u string
			var chunks int
			rows.Scan(&u, &chunks)
			if chunks != want[u] {
				t.Errorf("%s: %s has %d chunks, want %d", when, u, chunks, want[u])
			}
			n++
		}
		return n
	}
	stored := check("after the kill")
	if stored >= pages {
		t.Fatalf("the ingest finished before it was killed (%d pages): nothing was tested", stored)
	}
	code, out, errOut := citybot(t, env, "ingest", "--dir", dir, "--base-url", "https://www.lindenbrueck.example")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("%d new", pages-stored)) || !strings.Contains(out, fmt.Sprintf("%d unchanged", stored)) {
		t.Errorf("the next ingest (after %d pages): exit %d, %s %s", stored, code, out, errOut)
	}
	if n := check("after the next ingest"); n != pages {
		t.Errorf("%d pages after the next ingest, want %d", n, pages)
	}
}

// TestEmbeddedDatabaseKilledIsStartedAgain: the embedded PostgreSQL killed under a running
// serve (SIGKILL to its postmaster, as the OOM killer would) is started again by serve, which
// then answers as before; the restart is counted in the metrics.
func TestEmbeddedDatabaseKilledIsStartedAgain(t *testing.T) {
	data, err := os.MkdirTemp("", "citybot-supervise-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	os.Chmod(data, 0o755) // as root the cluster runs as postgres, which must reach it
	env := map[string]string{"CITYBOT_DATA": data, "CITYBOT_LOG_LEVEL": "warn", "CITYBOT_INGEST_NICE": "0",
		"CITYBOT_CITY": "Lindenbrück", "CITYBOT_PRIVACY_URL": "https://www.lindenbrueck.example/datenschutz"}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hundesteuer.html"), []byte(townPage("Hundesteuer", "Lindenbrück",
		"Die Hundesteuer beträgt 96 Euro im Jahr für den ersten Hund.")), 0o644)
	if code, out, errOut := citybot(t, env, "ingest", "--dir", dir, "--base-url", "https://www.lindenbrueck.example"); code != 0 {
		t.Fatalf("ingest: %s %s", out, errOut)
	}
	addr, metrics := freeAddr(t), freeAddr(t)
	env["CITYBOT_METRICS_ADDR"] = metrics
	serve := startChild(t, env, "serve", "--addr", addr)
	waitReadyAt(t, addr)
	ask := func() map[string]any {
		cv := dialTown(t, addr, "lindenbrueck", "?lang=de")
		defer cv.c.Close()
		return cv.ask(t, "Was kostet die Hundesteuer?")
	}
	if a := ask(); !strings.Contains(a["text"].(string), "96 Euro") {
		t.Fatalf("before: %v", a)
	}
	pidFile, err := os.ReadFile(filepath.Join(data, "pg", "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(strings.SplitN(string(pidFile), "\n", 2)[0], &pid)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill the postmaster %d: %v", pid, err)
	}
	restarted := func() bool {
		_, text := httpGet(t, "http://"+metrics+"/metrics")
		return strings.Contains(text, `citybot_database_restarts_total{outcome="ok"}`)
	}
	eventually(t, 60*time.Second, restarted, "serve starts the killed database again")
	waitReadyAt(t, addr)
	// The pool's connections to the dead server are dropped as they fail; the answers come back.
	// A connection or a question may fail on a pooled connection that died with the server:
	// each try is a new citizen.
	eventually(t, 30*time.Second, func() bool {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/t/lindenbrueck/ws?lang=de", nil)
		if err != nil {
			return false
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if err := c.WriteJSON(map[string]any{"type": "ask", "id": "q", "text": "Was kostet die Hundesteuer?"}); err != nil {
			return false
		}
		for {
			var m map[string]any
			if err := c.ReadJSON(&m); err != nil || m["type"] == "error" {
				return false
			}
			if m["type"] == "answer" || m["type"] == "handoff" {
				text, _ := m["text"].(string)
				return strings.Contains(text, "96 Euro")
			}
		}
	}, "an answer after the restart")
	serve.Process.Signal(syscall.SIGTERM)
	serve.Wait()
}

// TestOlderInstanceOnNewerSchema: in a rolling upgrade the new version migrates the database
// while instances of the old one still serve, and one of those may restart before it is
// replaced. An instance whose binary does not know a migration the database has (here a
// future one that adds a column, as migrations do) starts, says so in its log, and carries on
// the conversations begun before.
func TestOlderInstanceOnNewerSchema(t *testing.T) {
	env := setupTwoTowns(t)
	url := env["DATABASE_URL"]
	addr := freeAddr(t)
	old := startChild(t, env, "serve", "--addr", addr)
	waitReadyAt(t, addr)
	cv := dialTown(t, addr, "lindenbrueck", "?lang=de")
	token, _ := cv.welcome["token"].(string)
	first := cv.ask(t, "Was kostet die Hundesteuer?")
	cv.c.Close()

	// The new version's migration, applied while the old instance serves.
	conn := dbConn(t, url)
	for _, sql := range []string{`ALTER TABLE conversations ADD COLUMN channel text NOT NULL DEFAULT 'widget'`,
		`INSERT INTO schema_migrations (name) VALUES ('9999_future.sql')`} {
		if _, err := conn.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
	old.Process.Signal(syscall.SIGTERM)
	old.Wait()
	restarted := startChild(t, env, "serve", "--addr", addr)
	waitReadyAt(t, addr)
	again := dialTown(t, addr, "lindenbrueck", "?lang=de&resume="+token)
	if again.welcome["resumed"] != true {
		t.Fatalf("not resumed on the newer schema: %v", again.welcome)
	}
	if h := again.next(t, "history"); len(h["messages"].([]any)) != 2 {
		t.Errorf("history: %v", h)
	}
	if a := again.ask(t, "Was kostet die Hundesteuer?"); a["text"] != first["text"] {
		t.Errorf("answers on the newer schema: %v, before %v", a["text"], first["text"])
	}
	restarted.Process.Signal(syscall.SIGTERM)
	restarted.Wait()
}
