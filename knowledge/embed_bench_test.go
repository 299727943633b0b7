package knowledge

import (
	"context"
	"testing"
)

func BenchmarkHashEmbedQuestion(b *testing.B) {
	e := NewHashEmbedder(0)
	q := []string{"Unser Kühlschrank ist hinüber. Holt die Stadt den ab und wie lange muss man auf nen Termin warten? Elektroschrott Elektroaltgeräte Kühlgeräte entsorgen"}
	for b.Loop() {
		e.Embed(context.Background(), q)
	}
}
