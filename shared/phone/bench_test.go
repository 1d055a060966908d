package phone

import (
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// What reading a roster pays per worker (each worker's own number is new):
// go test -bench . ./shared/phone. The README quotes these.

func BenchmarkNormalize(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		if _, err := Normalize(strconv.Itoa(90000000+i%1000000), "NO"); err != nil {
			b.Fatal(err)
		}
	}
}

// libphonenumber's two steps on their own.
func BenchmarkLibrary(b *testing.B) {
	b.Run("Parse", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			if _, err := phonenumbers.Parse(strconv.Itoa(90000000+i%1000000), "NO"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("IsValidNumber", func(b *testing.B) {
		n, _ := phonenumbers.Parse("91512345", "NO")
		for b.Loop() {
			phonenumbers.IsValidNumber(n)
		}
	})
}
