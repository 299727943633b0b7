package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/citybot-project/citybot/database/dbtest"
)

// previousRelease is the version before the live chat (migration 0011): the older binary of
// the rolling upgrade test, built from the repository's own history.
const previousRelease = "0c42b532566d0245682c41625a535692eb5129ce"

// buildPrevious builds previousRelease's citybot from the repository's history into a
// temporary directory. Without the history (a shallow clone, a tarball) or the modules it needs
// in the module cache (the build may not download) there is nothing to compare with: skipped.
func buildPrevious(t *testing.T) string {
	t.Helper()
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("no git repository to build the previous release from: %v", err)
	}
	if err := exec.Command("git", "-C", strings.TrimSpace(string(root)), "cat-file", "-e", previousRelease+"^{commit}").Run(); err != nil {
		t.Skipf("the previous release %s is not in this clone's history", previousRelease[:12])
	}
	dir := t.TempDir()
	archive := exec.Command("git", "-C", strings.TrimSpace(string(root)), "archive", previousRelease)
	untar := exec.Command("tar", "-x", "-C", dir)
	untar.Stdin, _ = archive.StdoutPipe()
	if err := untar.Start(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Run(); err != nil {
		t.Fatalf("git archive: %v", err)
	}
	if err := untar.Wait(); err != nil {
		t.Fatalf("untar the previous release: %v", err)
	}
	bin := filepath.Join(dir, "citybot-previous")
	build := exec.Command("go", "build", "-o", bin, "./cmd/citybot")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off")
	var out bytes.Buffer
	build.Stdout, build.Stderr = &out, &out
	if err := build.Run(); err != nil {
		if strings.Contains(out.String(), "GOPROXY=off") || strings.Contains(out.String(), "module lookup disabled") {
			t.Skipf("the previous release needs modules this machine does not have: %s", out.String())
		}
		t.Fatalf("build the previous release: %v: %s", err, out.String())
	}
	return bin
}

// startPrevious runs the previous release's `citybot serve` with env until the test ends.
func startPrevious(t *testing.T, bin string, env map[string]string, args ...string) *exec.Cmd {
	t.Helper()
	return startProcess(t, exec.Command(bin, args...), env, args)
}

// TestRollingUpgradeFromThePreviousRelease: the previous release serves citizens; an instance of
// this version starts beside it with --migrate and migrates the database under it; conversations
// go on at the old instance, move to the new one and back, survive the old one restarting on the
// newer schema, and go on once the last old instance is replaced.
func TestRollingUpgradeFromThePreviousRelease(t *testing.T) {
	previous := buildPrevious(t)
	env := map[string]string{"DATABASE_URL": dbtest.URL(t), "CITYBOT_LOG_LEVEL": "warn", "CITYBOT_INGEST_NICE": "0"}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "hundesteuer.html"), []byte(twoTowns["lindenbrueck"]["hundesteuer.html"]), 0o644)
	for _, args := range [][]string{{"migrate"},
		{"towns", "add", "lindenbrueck", "--name", "Lindenbrück", "--set", "privacy_url=https://www.lindenbrueck.example/datenschutz"},
		{"ingest", "--dir", dir, "--base-url", "https://www.lindenbrueck.example"}} {
		cmd := exec.Command(previous, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + env["DATABASE_URL"], "CITYBOT_LOG_LEVEL=warn"}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("previous release %v: %v: %s", args, err, out)
		}
	}
	a, b := freeAddr(t), freeAddr(t)
	old := startPrevious(t, previous, env, "serve", "--addr", a)
	waitReadyAt(t, a)
	first := dialTown(t, a, "lindenbrueck", "?lang=de")
	token := first.welcome["token"].(string)
	before := first.ask(t, "Was kostet die Hundesteuer?")
	if !strings.Contains(str(before["text"]), "96 Euro") {
		t.Fatalf("the previous release answers %v", before)
	}

	// This version starts beside it and migrates.
	startChild(t, env, "serve", "--addr", b, "--migrate")
	waitReadyAt(t, b)
	var newest string
	query(t, env["DATABASE_URL"], `SELECT max(name) FROM schema_migrations`, &newest)
	if newest < "0011" {
		t.Fatalf("the new instance did not migrate: newest migration %s", newest)
	}
	// The old instance's citizen goes on at the old instance, on the new schema.
	if again := first.ask(t, "Wie hoch ist die Hundesteuer?"); again["type"] != "answer" {
		t.Fatalf("the old instance after the migration: %v", again)
	}
	first.c.Close()
	// ... and moves to the new instance (the proxy sent it there): resumed, rated, asked.
	atNew := dialTown(t, b, "lindenbrueck", "?lang=de&resume="+token)
	if atNew.welcome["resumed"] != true || len(atNew.next(t, "history")["messages"].([]any)) != 4 {
		t.Fatalf("the new instance did not resume the old one's conversation: %v", atNew.welcome)
	}
	atNew.c.WriteJSON(map[string]any{"type": "rate", "answer_id": before["id"], "value": "up"})
	if r := atNew.next(t, "rated", "error"); r["type"] != "rated" {
		t.Fatalf("rating the old instance's answer at the new one: %v", r)
	}
	atNew.c.Close()
	// A conversation begun at the new instance resumes at the old one.
	second := dialTown(t, b, "lindenbrueck", "?lang=de")
	second.ask(t, "Was kostet die Hundesteuer?")
	second.c.Close()
	back := dialTown(t, a, "lindenbrueck", "?lang=de&resume="+second.welcome["token"].(string))
	if back.welcome["resumed"] != true {
		t.Fatalf("the old instance did not resume the new one's conversation: %v", back.welcome)
	}
	back.c.Close()

	// The old instance restarts on the newer schema before it is replaced.
	old.Process.Signal(syscall.SIGTERM)
	old.Wait()
	startPrevious(t, previous, env, "serve", "--addr", a)
	waitReadyAt(t, a)
	again := dialTown(t, a, "lindenbrueck", "?lang=de&resume="+token)
	if again.welcome["resumed"] != true {
		t.Fatalf("the restarted old instance did not resume: %v", again.welcome)
	}
	if h := again.next(t, "history"); len(h["messages"].([]any)) != 4 {
		t.Fatalf("history at the restarted old instance: %v", h)
	}
	again.c.Close()
}
