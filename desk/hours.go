package desk

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the office's time zone even on a server without zoneinfo
)

// Hours are a town's office hours: when its service desk works. Due times of requests count
// them, and (to come) live chat is offered within them.
type Hours struct {
	days     [7][]span // by time.Weekday
	holidays map[string]bool
	loc      *time.Location
}

type span struct{ from, to int } // minutes since midnight, to ≤ 1440

var weekdays = map[string]time.Weekday{"mo": time.Monday, "di": time.Tuesday, "mi": time.Wednesday, "do": time.Thursday,
	"fr": time.Friday, "sa": time.Saturday, "so": time.Sunday}

// DefaultHours are an office's usual hours when a town names none.
const DefaultHours = "Mo-Fr 08:00-16:00"

// ParseHours reads office hours as a town writes them: "Mo-Fr 08:00-18:00; Sa 09:00-12:00",
// "Mo-So 00:00-24:00" for always, "Mo,Mi 08:00-12:00 13:00-16:00" for two spans a day, with
// holidays as dates (YYYY-MM-DD) on which the office is closed. Times are the town's, in
// Europe/Berlin.
func ParseHours(spec string, holidays []string) (Hours, error) {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		return Hours{}, err
	}
	h := Hours{holidays: map[string]bool{}, loc: loc}
	bad := func(part, why string) error {
		return fmt.Errorf("office hours %q: %s; write them as \"Mo-Fr 08:00-18:00; Sa 09:00-12:00\"", part, why)
	}
	any := false
	for _, part := range strings.Split(spec, ";") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 2 {
			return Hours{}, bad(part, "days and times are needed")
		}
		var days []time.Weekday
		for _, d := range strings.Split(strings.ToLower(fields[0]), ",") {
			from, to, isRange := strings.Cut(d, "-")
			a, ok1 := weekdays[from]
			b, ok2 := weekdays[to]
			if !isRange {
				b, ok2 = a, ok1
			}
			if !ok1 || !ok2 {
				return Hours{}, bad(part, "days are Mo, Di, Mi, Do, Fr, Sa, So")
			}
			for w := a; ; w = (w + 1) % 7 {
				days = append(days, w)
				if w == b {
					break
				}
			}
		}
		for _, t := range fields[1:] {
			from, to, ok := strings.Cut(t, "-")
			f, err1 := minutes(from)
			e, err2 := minutes(to)
			if !ok || err1 != nil || err2 != nil || f >= e {
				return Hours{}, bad(part, "a time is HH:MM-HH:MM, the end after the start")
			}
			for _, w := range days {
				h.days[w] = append(h.days[w], span{f, e})
			}
			any = true
		}
	}
	if !any {
		return Hours{}, bad(spec, "no hours")
	}
	for _, d := range holidays {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d); err != nil {
			return Hours{}, fmt.Errorf("holiday %q: want a date such as 2026-12-24", d)
		}
		h.holidays[d] = true
	}
	return h, nil
}

func minutes(hhmm string) (int, error) {
	hh, mm, ok := strings.Cut(hhmm, ":")
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if !ok || err1 != nil || err2 != nil || len(mm) != 2 || h < 0 || m < 0 || m > 59 || h*60+m > 24*60 {
		return 0, fmt.Errorf("bad time %q", hhmm)
	}
	return h*60 + m, nil
}

// Open tells whether the office works at t.
func (h Hours) Open(t time.Time) bool {
	t = t.In(h.loc)
	if h.holidays[t.Format("2006-01-02")] {
		return false
	}
	m := t.Hour()*60 + t.Minute()
	for _, s := range h.days[t.Weekday()] {
		if m >= s.from && m < s.to {
			return true
		}
	}
	return false
}

// Due is the time when d of office hours have passed since t: a request taken at Friday 17:00
// with eight hours to go is due on Monday afternoon, not on Saturday morning.
func (h Hours) Due(t time.Time, d time.Duration) time.Time {
	t = t.In(h.loc)
	left := d
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, h.loc)
	for i := 0; i < 3660; i++ { // ten years of days: hours that never open have no due time
		if !h.holidays[day.Format("2006-01-02")] {
			for _, s := range h.days[day.Weekday()] {
				start := day.Add(time.Duration(s.from) * time.Minute)
				end := day.Add(time.Duration(s.to) * time.Minute)
				if end.Before(t) || end.Equal(t) {
					continue
				}
				if start.Before(t) {
					start = t
				}
				if avail := end.Sub(start); avail >= left {
					return start.Add(left)
				} else {
					left -= avail
				}
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}
}
