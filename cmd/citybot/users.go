package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/jackc/pgx/v5"

	"github.com/citybot-project/citybot/audit"
	"github.com/citybot-project/citybot/auth"
	"github.com/citybot-project/citybot/database"
	"github.com/citybot-project/citybot/tenant"
)

const usersUsage = `users add --email E --name NAME (--town SLUG --role ROLE | --operator) [--password-stdin]
       users list [--town SLUG]
       users disable --email E
       users reset-password --email E [--password-stdin]

Manages the staff accounts of the consoles. ROLE is a role in one town: admin (the town's
settings and users), editor (sources), agent (live chat, tickets), reviewer (review, export). A
person who works for several towns is one account with a role in each: run users add again with
another --town. --operator manages the deployment's towns. Without --password-stdin, add makes an
account without a password (it signs in through the town's identity provider, or after a
reset-password) and reset-password prints a random password once. Disabling an account or
setting its password ends its sessions. Every change is written to the audit log.`

func cmdUsers(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintln(e.stderr, "usage: citybot "+usersUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	verb, rest := args[0], args[1:]
	fs := newFlags("users "+verb, usersUsage, e.stderr)
	email := fs.String("email", "", "the account's e-mail address")
	name := fs.String("name", "", "the person's name (add)")
	role := fs.String("role", "", "admin, editor, agent or reviewer (add)")
	operator := fs.Bool("operator", false, "the account manages the deployment's towns (add)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	townFlag(fs, e)
	if err := parse(fs, rest); err != nil {
		return err
	}
	needEmail := func() error {
		if *email == "" {
			fmt.Fprintf(e.stderr, "users %s needs --email\n", verb)
			return errUsage
		}
		return nil
	}
	password := func() (string, error) {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read the password: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		return pw, auth.CheckPassword(pw)
	}
	var hash, shown string
	switch verb {
	case "add", "reset-password":
		if err := needEmail(); err != nil {
			return err
		}
		pw := ""
		if *fromStdin {
			var err error
			if pw, err = password(); err != nil {
				return err
			}
		} else if verb == "reset-password" {
			pw = auth.RandomPassword()
			shown = pw
		}
		if pw != "" {
			var err error
			if hash, err = auth.HashPassword(pw); err != nil {
				return err
			}
		}
	case "disable":
		if err := needEmail(); err != nil {
			return err
		}
	case "list":
	default:
		fmt.Fprintf(e.stderr, "users: unknown %q\n", verb)
		fmt.Fprintln(e.stderr, "usage: citybot "+usersUsage)
		return errUsage
	}
	if verb == "add" {
		switch {
		case *name == "":
			fmt.Fprintln(e.stderr, "users add needs --name")
			return errUsage
		case *operator && *role != "":
			fmt.Fprintln(e.stderr, "users add: --operator holds no role in a town; give either it or --town and --role")
			return errUsage
		case !*operator && (*role == "" || e.cfg.Town == ""):
			fmt.Fprintln(e.stderr, "users add needs --town SLUG and --role ROLE (or --operator)")
			return errUsage
		}
		if !*operator {
			if err := auth.CheckRole(*role); err != nil {
				return err
			}
		}
		if _, err := auth.NormalizeEmail(*email); err != nil {
			return err
		}
	}

	db, err := database.Open(ctx, database.Options{URL: e.cfg.DatabaseURL, DataDir: e.cfg.DataDir, Log: e.log, MaxConn: 2})
	if err != nil {
		return err
	}
	defer db.Close()
	var town tenant.Town
	if e.cfg.Town != "" && !*operator {
		if town, err = tenant.NewStore(db.Pool).Get(ctx, e.cfg.Town); err != nil {
			return err
		}
	}
	if verb == "list" {
		users, err := auth.ListUsers(ctx, db.Pool, town.ID)
		if err != nil {
			return err
		}
		printUsers(e.stdout, users)
		return nil
	}
	// The change and its audit entry commit together.
	var u auth.User
	err = database.InTx(ctx, db.Pool, func(ctx context.Context, tx pgx.Tx) error {
		entry := audit.Entry{Actor: audit.ActorCLI, Town: town.ID}
		var err error
		switch verb {
		case "add":
			if u, err = auth.AddUser(ctx, tx, *email, *name, hash, *operator); err != nil {
				return err
			}
			entry.Action, entry.Target = "user.add", u.Email
			entry.Details = map[string]any{"name": u.Name, "operator": *operator}
			if !*operator {
				if err := auth.Grant(ctx, tx, u.ID, town.ID, *role); err != nil {
					return err
				}
				entry.Details["role"] = *role
			}
			if hash != "" {
				// An account that existed keeps its password unless a new one was given.
				if u, err = auth.SetPassword(ctx, tx, u.Email, hash); err != nil {
					return err
				}
			}
		case "disable":
			if u, err = auth.Disable(ctx, tx, *email); err != nil {
				return err
			}
			entry.Action, entry.Target = "user.disable", u.Email
		case "reset-password":
			if u, err = auth.SetPassword(ctx, tx, *email, hash); err != nil {
				return err
			}
			entry.Action, entry.Target = "user.reset_password", u.Email
		}
		return audit.Record(ctx, tx, entry)
	})
	if err != nil {
		return err
	}
	if u, err = auth.GetUser(ctx, db.Pool, u.Email); err != nil {
		return err
	}
	printUsers(e.stdout, []auth.User{u})
	if shown != "" {
		fmt.Fprintf(e.stdout, "\nnew password (shown once; its holder changes it): %s\n", shown)
	}
	return nil
}

func printUsers(w io.Writer, users []auth.User) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLES\tSTATE")
	for _, u := range users {
		var roles []string
		if u.Operator {
			roles = append(roles, "operator")
		}
		for _, r := range u.Roles {
			roles = append(roles, r.TownSlug+":"+r.Role)
		}
		state := "active"
		switch {
		case u.Disabled:
			state = "disabled"
		case !u.HasPassword:
			state = "no password"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", u.Email, u.Name, strings.Join(roles, " "), state)
	}
	tw.Flush()
}
