package review

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/citybot-project/citybot/database"
)

// RollUp recomputes the daily counts of day (in UTC) for every town from the answers still
// stored: answers and handoffs by language and reason, the pages cited, the questions handed
// off. The counts outlive the answers, which the retention purge deletes.
func RollUp(ctx context.Context, pool *pgxpool.Pool, day time.Time) error {
	day = day.UTC().Truncate(24 * time.Hour)
	next := day.Add(24 * time.Hour)
	return database.InTx(ctx, pool, func(ctx context.Context, tx pgx.Tx) error {
		if err := rollUpLive(ctx, tx, day, next); err != nil {
			return err
		}
		// A day whose answers are gone (purged) keeps its counts: only days with answers are
		// counted again.
		var any bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM answers WHERE created_at >= $1 AND created_at < $2)`, day, next).Scan(&any); err != nil || !any {
			return err
		}
		for _, table := range []string{"answer_stats", "cited_stats", "handoff_stats"} {
			if _, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE day = $1::date", day); err != nil {
				return fmt.Errorf("roll up %s: %w", day.Format("2006-01-02"), err)
			}
		}
		for _, q := range []string{
			`INSERT INTO answer_stats (town_id, day, lang, kind, reason, n)
				SELECT town_id, $1::date, lang, kind, coalesce(reason, ''), count(*) FROM answers
				WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2, 3, 4, 5`,
			`INSERT INTO cited_stats (town_id, day, url, title, n)
				SELECT a.town_id, $1::date, s->>'url', max(s->>'title'), count(*) FROM answers a, jsonb_array_elements(a.sources) s
				WHERE a.kind = 'answer' AND a.created_at >= $1 AND a.created_at < $2 AND s->>'url' IS NOT NULL GROUP BY 1, 2, 3`,
			`INSERT INTO handoff_stats (town_id, day, question, n)
				SELECT town_id, $1::date, lower(btrim(question)), count(*) FROM answers
				WHERE kind = 'handoff' AND created_at >= $1 AND created_at < $2 AND btrim(question) <> '' GROUP BY 1, 2, 3`,
		} {
			if _, err := tx.Exec(ctx, q, day, next); err != nil {
				return fmt.Errorf("roll up %s: %w", day.Format("2006-01-02"), err)
			}
		}
		return nil
	})
}

// rollUpLive recomputes the live chat's counts of the day from the chats still stored, like the
// answers' (a day whose chats are gone keeps its counts).
func rollUpLive(ctx context.Context, tx pgx.Tx, day, next time.Time) error {
	var any bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM live_chats WHERE queued_at >= $1 AND queued_at < $2)`, day, next).Scan(&any); err != nil || !any {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM live_stats WHERE day = $1::date`, day); err != nil {
		return fmt.Errorf("roll up the live chats of %s: %w", day.Format("2006-01-02"), err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO live_stats (town_id, day, outcome, n, wait_secs)
		SELECT town_id, $1::date, CASE WHEN accepted_at IS NOT NULL THEN 'accepted' WHEN state <> 'ended' THEN 'waiting'
			WHEN end_reason = 'timeout' THEN 'timeout' ELSE 'left' END,
			count(*), coalesce(sum(extract(epoch FROM accepted_at - queued_at)), 0)
		FROM live_chats WHERE queued_at >= $1 AND queued_at < $2 GROUP BY 1, 2, 3`, day, next); err != nil {
		return fmt.Errorf("roll up the live chats of %s: %w", day.Format("2006-01-02"), err)
	}
	return nil
}

// Day is one day's answers and handoffs.
type Day struct {
	Day               time.Time
	Answers, Handoffs int
}

// Count is a number of something named.
type Count struct {
	Name, Detail string
	N            int
}

// Dashboard is a town's numbers over a span of days.
type Dashboard struct {
	Days                   []Day
	Reasons, Langs         []Count
	Up, Down               int
	Pages                  []Count // Name the title, Detail the address
	HandedOff              []Count
	MostPerDay             int
	TotalAnswers, Handoffs int
	// Live are the live chats by what became of them (accepted, timeout, left, waiting), and
	// MeanWait the mean time an accepted citizen waited.
	Live     []Count
	MeanWait time.Duration
}

// Stats reads a town's dashboard for the days up to and including to.
func Stats(ctx context.Context, pool *pgxpool.Pool, town int, to time.Time, days int) (Dashboard, error) {
	to = to.UTC().Truncate(24 * time.Hour)
	from := to.AddDate(0, 0, -days+1)
	var d Dashboard
	q := func(sql string, scan func(pgx.Rows) error) error {
		// As the town: the roll-ups are behind the wall between towns (migration 0011).
		rows, err := database.Query(ctx, pool, []int{town}, nil, sql, town, from, to)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	byDay := map[string]*Day{}
	for t := from; !t.After(to); t = t.AddDate(0, 0, 1) {
		d.Days = append(d.Days, Day{Day: t})
	}
	for i := range d.Days {
		byDay[d.Days[i].Day.Format("2006-01-02")] = &d.Days[i]
	}
	err := q(`SELECT day, kind, sum(n)::int FROM answer_stats WHERE town_id = $1 AND day BETWEEN $2 AND $3 GROUP BY 1, 2`, func(r pgx.Rows) error {
		var day time.Time
		var kind string
		var n int
		if err := r.Scan(&day, &kind, &n); err != nil {
			return err
		}
		if x := byDay[day.Format("2006-01-02")]; x != nil {
			if kind == "handoff" {
				x.Handoffs += n
				d.Handoffs += n
			} else {
				x.Answers += n
				d.TotalAnswers += n
			}
			d.MostPerDay = max(d.MostPerDay, x.Answers+x.Handoffs)
		}
		return nil
	})
	counts := func(sql string, into *[]Count) error {
		return q(sql, func(r pgx.Rows) error {
			var c Count
			if err := r.Scan(&c.Name, &c.Detail, &c.N); err != nil {
				return err
			}
			*into = append(*into, c)
			return nil
		})
	}
	for _, step := range []func() error{
		func() error { return err },
		func() error {
			return counts(`SELECT reason, '', sum(n)::int FROM answer_stats WHERE town_id = $1 AND day BETWEEN $2 AND $3 AND kind = 'handoff'
				GROUP BY 1 ORDER BY 3 DESC, 1`, &d.Reasons)
		},
		func() error {
			return counts(`SELECT lang, '', sum(n)::int FROM answer_stats WHERE town_id = $1 AND day BETWEEN $2 AND $3 GROUP BY 1 ORDER BY 3 DESC, 1`, &d.Langs)
		},
		func() error {
			return counts(`SELECT max(title), url, sum(n)::int FROM cited_stats WHERE town_id = $1 AND day BETWEEN $2 AND $3
				GROUP BY url ORDER BY 3 DESC, 2 LIMIT 10`, &d.Pages)
		},
		func() error {
			return counts(`SELECT question, '', sum(n)::int FROM handoff_stats WHERE town_id = $1 AND day BETWEEN $2 AND $3
				GROUP BY 1 ORDER BY 3 DESC, 1 LIMIT 10`, &d.HandedOff)
		},
		func() error {
			return counts(`SELECT outcome, '', sum(n)::int FROM live_stats WHERE town_id = $1 AND day BETWEEN $2 AND $3
				GROUP BY 1 ORDER BY array_position(ARRAY['accepted', 'timeout', 'left', 'waiting'], outcome)`, &d.Live)
		},
		func() error {
			return q(`SELECT coalesce(sum(wait_secs) / nullif(sum(n), 0), 0) FROM live_stats WHERE town_id = $1 AND day BETWEEN $2 AND $3
				AND outcome = 'accepted'`, func(r pgx.Rows) error {
				var secs float64
				err := r.Scan(&secs)
				d.MeanWait = time.Duration(secs * float64(time.Second)).Round(time.Second)
				return err
			})
		},
		func() error {
			return q(`SELECT coalesce(sum(n) FILTER (WHERE value = 'up'), 0)::int, coalesce(sum(n) FILTER (WHERE value = 'down'), 0)::int
				FROM rating_stats WHERE town_id = $1 AND day BETWEEN $2 AND $3`, func(r pgx.Rows) error { return r.Scan(&d.Up, &d.Down) })
		},
	} {
		if err := step(); err != nil {
			return Dashboard{}, fmt.Errorf("the dashboard of town %d: %w", town, err)
		}
	}
	return d, nil
}

// RunRollUp rolls up yesterday and today every hour until ctx ends.
func RunRollUp(ctx context.Context, pool *pgxpool.Pool, now func() time.Time, warn func(error)) {
	for {
		t := now()
		for _, day := range []time.Time{t.Add(-24 * time.Hour), t} {
			if err := RollUp(ctx, pool, day); err != nil && ctx.Err() == nil {
				warn(err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}
