package desk

import (
	"strings"
	"testing"
	"time"
)

func TestOfficeHours(t *testing.T) {
	h, err := ParseHours("Mo-Fr 08:00-12:00 13:00-16:00; Sa 09:00-12:00", []string{"2026-12-24", " "})
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for when, open := range map[string]bool{
		"2026-12-07 07:59": false, "2026-12-07 08:00": true, "2026-12-07 12:30": false, "2026-12-07 15:59": true,
		"2026-12-07 16:00": false, "2026-12-12 10:00": true, "2026-12-13 10:00": false, "2026-12-24 10:00": false,
	} {
		if h.Open(at(when)) != open {
			t.Errorf("open at %s: %v, want %v", when, !open, open)
		}
	}
	if !h.Open(at("2026-12-07 09:00").UTC()) {
		t.Error("a time in UTC is read in the town's zone")
	}
	for _, c := range []struct {
		from string
		d    time.Duration
		due  string
	}{
		{"2026-12-07 09:00", 2 * time.Hour, "2026-12-07 11:00"},
		{"2026-12-07 11:00", 2 * time.Hour, "2026-12-07 14:00"}, // over lunch
		{"2026-12-11 15:00", 3 * time.Hour, "2026-12-12 11:00"}, // Friday into Saturday
		{"2026-12-12 11:00", 2 * time.Hour, "2026-12-14 09:00"}, // Saturday over Sunday
		{"2026-12-23 15:00", 2 * time.Hour, "2026-12-25 09:00"}, // over the holiday
	} {
		if got := h.Due(at(c.from), c.d); !got.Equal(at(c.due)) {
			t.Errorf("%s + %s: due %s, want %s", c.from, c.d, got.In(berlin).Format("2006-01-02 15:04"), c.due)
		}
	}
	always, _ := ParseHours("Mo-So 00:00-24:00", nil)
	if !always.Open(at("2026-12-13 03:00")) || !always.Due(at("2026-12-13 23:00"), 2*time.Hour).Equal(at("2026-12-14 01:00")) {
		t.Error("always open")
	}
	for _, bad := range []string{"", "Montag 08:00-12:00", "Mo-Fr", "Mo-Fr 8-12", "Mo-Fr 12:00-08:00", "Mo-Fr 08:00-25:00", "Mo-Fr 08:60-09:00"} {
		if _, err := ParseHours(bad, nil); err == nil || !strings.Contains(err.Error(), "Mo-Fr 08:00-18:00") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := ParseHours(DefaultHours, []string{"24.12.2026"}); err == nil {
		t.Error("a holiday not as a date was taken")
	}
}
