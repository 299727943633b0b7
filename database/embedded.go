package database

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a private PostgreSQL cluster under citybot's data directory, run with the machine's
// own PostgreSQL binaries. Several citybot processes may share one: each holds a shared lock on
// clients.lock while it runs, and whoever leaves last stops the server.
type Cluster struct {
	dataDir string // the cluster's PGDATA
	sockDir string
	binDir  string
	runAs   string // "postgres" when we are root, since PostgreSQL refuses to run as root
	lock    *os.File
	log     *slog.Logger
}

const (
	clusterUser = "citybot"
	clusterDB   = "citybot"
)

// StartCluster starts (or joins) the private cluster under dir, creating it on first use.
func StartCluster(ctx context.Context, dir string, log *slog.Logger) (*Cluster, error) {
	bin, err := findPGBin()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	c := &Cluster{dataDir: filepath.Join(abs, "pg"), binDir: bin, log: log}
	if os.Geteuid() == 0 {
		c.runAs = "postgres"
	}
	c.sockDir = socketDir(abs)
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	if c.runAs != "" {
		if out, err := c.run("test", "-x", abs); err != nil {
			return nil, fmt.Errorf("data directory %s: running as root, the cluster runs as %q, which cannot reach it "+
				"(make its parents reachable, or set CITYBOT_DATA elsewhere, e.g. /var/lib/citybot): %v %s",
				abs, c.runAs, err, out)
		}
	}
	if err := c.acquire(); err != nil {
		return nil, err
	}
	if err := c.ensure(ctx); err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

// URL is the connection string of the cluster's citybot database.
func (c *Cluster) URL() string {
	return fmt.Sprintf("host=%s user=%s dbname=%s sslmode=disable", c.sockDir, clusterUser, clusterDB)
}

// Stop stops the server unless another citybot process still uses it.
func (c *Cluster) Stop() {
	if c.lock == nil {
		return
	}
	// Trade the shared lock for an exclusive one: granted only when no other process holds one.
	_ = syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
	if err := syscall.Flock(int(c.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err == nil {
		if out, err := c.pgctl("stop", "-m", "fast", "-w"); err != nil {
			c.log.Warn("stop embedded postgres", "err", err, "output", out)
		}
	}
	c.release()
}

func (c *Cluster) acquire() error {
	f, err := os.OpenFile(filepath.Join(filepath.Dir(c.dataDir), "clients.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("open cluster lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH); err != nil {
		f.Close()
		return fmt.Errorf("lock cluster: %w", err)
	}
	c.lock = f
	return nil
}

func (c *Cluster) release() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

func (c *Cluster) ensure(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := c.initdb(); err != nil {
			return err
		}
	}
	if c.ready(ctx) {
		return nil
	}
	if err := os.MkdirAll(c.sockDir, 0o755); err != nil {
		return fmt.Errorf("create socket directory: %w", err)
	}
	if err := c.chown(c.sockDir); err != nil {
		return err
	}
	// Unix socket only: the cluster is private to this machine and listens on no TCP port.
	opts := fmt.Sprintf("-k %s -c listen_addresses='' -c shared_buffers=128MB -c max_connections=200", c.sockDir)
	out, err := c.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(c.dataDir, "server.log"), "-o", opts)
	if err != nil && !c.ready(ctx) {
		return fmt.Errorf("start embedded postgres in %s: %w: %s (see %s)", c.dataDir, err, strings.TrimSpace(out),
			filepath.Join(c.dataDir, "server.log"))
	}
	return c.createDB(ctx)
}

func (c *Cluster) initdb() error {
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return fmt.Errorf("create cluster directory: %w", err)
	}
	if err := c.chown(c.dataDir); err != nil {
		return err
	}
	c.log.Info("creating embedded postgres cluster", "dir", c.dataDir)
	out, err := c.run(filepath.Join(c.binDir, "initdb"), "-D", c.dataDir, "-U", clusterUser,
		"--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
	if err != nil {
		// A half-made cluster would fail every later start: remove it so the next try starts clean.
		os.RemoveAll(c.dataDir)
		return fmt.Errorf("initdb %s: %w: %s", c.dataDir, err, strings.TrimSpace(out))
	}
	return nil
}

func (c *Cluster) ready(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, fmt.Sprintf("host=%s user=%s dbname=postgres sslmode=disable", c.sockDir, clusterUser))
	if err != nil {
		return false
	}
	conn.Close(ctx)
	return true
}

func (c *Cluster) createDB(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, fmt.Sprintf("host=%s user=%s dbname=postgres sslmode=disable", c.sockDir, clusterUser))
	if err != nil {
		return fmt.Errorf("connect to embedded postgres: %w", err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", clusterDB).Scan(&exists); err != nil {
		return fmt.Errorf("look up database: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+clusterDB); err != nil {
			var again bool
			// Another citybot process may have created it in the meantime.
			if qerr := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", clusterDB).Scan(&again); qerr != nil || !again {
				return fmt.Errorf("create database: %w", err)
			}
		}
	}
	return nil
}

func (c *Cluster) pgctl(args ...string) (string, error) {
	return c.run(filepath.Join(c.binDir, "pg_ctl"), append([]string{"-D", c.dataDir}, args...)...)
}

func (c *Cluster) run(bin string, args ...string) (string, error) {
	var cmd *exec.Cmd
	if c.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", c.runAs, "--", bin}, args...)...)
	} else {
		cmd = exec.Command(bin, args...)
	}
	// The server outlives this process when another citybot still uses it: its own process group
	// keeps a Ctrl-C on our terminal from reaching it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *Cluster) chown(path string) error {
	if c.runAs == "" {
		return nil
	}
	u, err := user.Lookup(c.runAs)
	if err != nil {
		return fmt.Errorf("running as root needs the %q user to own the cluster: %w", c.runAs, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		return fmt.Errorf("chown %s to %s: %w", path, c.runAs, err)
	}
	return nil
}

// socketDir keeps the Unix socket path under the kernel's 107-byte limit: beside the data when
// that is short enough, else in /tmp under a name derived from the data directory.
func socketDir(dataDir string) string {
	d := filepath.Join(dataDir, "run")
	if len(d)+len("/.s.PGSQL.5432") < 100 {
		return d
	}
	sum := sha256.Sum256([]byte(dataDir))
	return filepath.Join(os.TempDir(), "citybot-"+hex.EncodeToString(sum[:6]))
}

// PGBinDir is the folder of the PostgreSQL binaries the embedded cluster runs with: its pg_dump
// and pg_restore match the cluster's version.
func PGBinDir() (string, error) { return findPGBin() }

// findPGBin finds the PostgreSQL server binaries: CITYBOT_PG_BIN, pg_config --bindir when that
// directory has initdb, else the newest /usr/lib/postgresql/*/bin (Debian's layout).
func findPGBin() (string, error) {
	if d := os.Getenv("CITYBOT_PG_BIN"); d != "" {
		return d, nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return pgMajor(dirs[i]) > pgMajor(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries found (run 'make setup', or set DATABASE_URL or CITYBOT_PG_BIN)")
}

func pgMajor(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Supervise keeps the cluster running until ctx ends: every interval it checks that the server
// answers, and when it does not (the postmaster was killed, or crashed), starts it again, with
// a backoff doubling up to a minute while starts fail. restarted is told of every start and its
// outcome (for the log and the metrics).
func (c *Cluster) Supervise(ctx context.Context, interval time.Duration, restarted func(error)) {
	wait := interval
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if c.ready(ctx) {
			wait = interval
			continue
		}
		if ctx.Err() != nil {
			return
		}
		err := c.ensure(ctx)
		restarted(err)
		if err != nil {
			wait = min(2*wait, time.Minute)
		} else {
			wait = interval
		}
	}
}
