package bot

import (
	"regexp"
	"strings"

	"github.com/citybot-project/citybot/knowledge"
)

// Contact sections as city pages write them: "Telefon: 0123 456-0", "E-Mail: x@y", "Öffnungszeiten: ...".
var (
	reContactPhone = regexp.MustCompile(`(?i)(?:telefon|tel\.|phone)\s*:?\s*([+0-9][0-9 ()/\-]{4,}[0-9](?:\s+oder\s+(?:Behördennummer\s+)?\d+)?)`)
	reContactEmail = regexp.MustCompile(`(?i)(?:e-mail|email)\s*:?\s*([a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,})`)
	reContactHours = regexp.MustCompile(`(?i)(?:öffnungszeiten|sprechzeiten|opening hours|telefonisch erreichbar)\s*:?\s*([^\n]+)`)
	contactHeads   = []string{"zuständige stelle", "kontakt", "ansprechpartner", "contact", "responsible office", "wer hilft"}
)

// contactOf finds the responsible office's contact on a page: the chunk under a contact heading,
// else the first chunk that names a phone number.
func contactOf(url string, chunks []knowledge.ChunkHit) *Contact {
	var best *knowledge.ChunkHit
	for i, c := range chunks {
		h := strings.ToLower(c.Headings[len(c.Headings)-1])
		for _, k := range contactHeads {
			if strings.Contains(h, k) {
				best = &chunks[i]
				break
			}
		}
		if best != nil {
			break
		}
	}
	if best == nil {
		for i, c := range chunks {
			if reContactPhone.MatchString(c.Text) {
				best = &chunks[i]
				break
			}
		}
	}
	if best == nil {
		return nil
	}
	c := &Contact{URL: url}
	if lines := strings.Split(best.Text, "\n"); len(lines) > 0 && !reContactPhone.MatchString(lines[0]) {
		c.Office = strings.TrimSpace(lines[0])
	}
	if m := reContactPhone.FindStringSubmatch(best.Text); m != nil {
		c.Phone = strings.TrimSpace(m[1])
	}
	if m := reContactEmail.FindStringSubmatch(best.Text); m != nil {
		c.Email = m[1]
	}
	if m := reContactHours.FindStringSubmatch(best.Text); m != nil {
		c.Hours = strings.TrimSpace(m[1])
	}
	if c.Phone == "" && c.Email == "" {
		return nil
	}
	return c
}
