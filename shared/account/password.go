package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"onboarding/shared/fault"
)

// Params are argon2id cost parameters.
type Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// OWASP's first recommended argon2id configuration (Password Storage Cheat
// Sheet): 19 MiB of memory, 2 iterations, 1 degree of parallelism.
var OWASP = Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

const (
	saltLen = 16
	keyLen  = 32

	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// Hasher hashes and verifies passwords with argon2id, in the PHC string format.
type Hasher struct{ Params Params }

// Hash returns the encoded argon2id hash of password with a fresh salt.
func (h Hasher) Hash(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("read salt: %w", err)
	}
	p := h.Params
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches encoded. It uses the parameters
// stored in the hash, so old hashes keep working after a cost change.
func (Hasher) Verify(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, fmt.Errorf("not an argon2id hash")
	}
	var version int
	var p Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("bad argon2 parameters: %w", err)
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("bad salt: %w", err)
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("bad key: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

//go:embed common-passwords.txt
var commonPasswordList string

var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	for _, line := range strings.Split(commonPasswordList, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			m[strings.ToLower(line)] = true
		}
	}
	return m
}()

// CheckPassword applies the password policy: 12 to 128 characters, not the
// email address, not a commonly used password.
func CheckPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return fault.New(fault.Invalid, "the password is not valid text")
	case n < MinPasswordLen:
		return fault.New(fault.Invalid, "use at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return fault.New(fault.Invalid, "use at most %d characters", MaxPasswordLen)
	case strings.EqualFold(strings.TrimSpace(password), email):
		return fault.New(fault.Invalid, "the password may not be your email address")
	case commonPasswords[strings.ToLower(password)]:
		return fault.New(fault.Invalid, "this password is too common; choose another")
	}
	return nil
}

// WrongPassword is the answer to a password given again (to change it, the
// email address, or to erase the account) that is not the account's: a 422
// naming the field, code "wrong". Not a 401: on a signed-in route that tells a
// client its token is bad, and one that refreshes and retries spends a guess
// each time.
func WrongPassword(field string) error {
	e := fault.New(fault.Invalid, "the request has invalid fields")
	e.Fields = []fault.FieldError{{Field: field, Code: "wrong", Message: "the password is wrong"}}
	return e
}

// GuessReserver reserves a password guess before the password is checked
// (*Guesses): a refused reservation is a 429, a wrong password keeps its
// guess counted, and a right one gives it back (succeeded).
type GuessReserver interface {
	Reserve(ctx context.Context, email, source string) (succeeded func(context.Context) error, err error)
}

// CheckAgain checks the password a signed-in person gives again (to change
// it or the email address, or to erase the account), from source, under
// the sign-in throttle g (nil: none): a stolen access token must not turn
// into a guessing oracle. A wrong password is WrongPassword(field).
func CheckAgain(ctx context.Context, h Hasher, g GuessReserver, a *Account, password, source, field string) error {
	if password == "" || len(password) > 4*MaxPasswordLen {
		return WrongPassword(field)
	}
	succeeded := func(context.Context) error { return nil }
	if g != nil {
		var err error
		if succeeded, err = g.Reserve(ctx, a.Email, source); err != nil {
			return err
		}
	}
	ok, err := h.Verify(a.PasswordHash, password)
	if err != nil {
		return fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return WrongPassword(field) // the reserved guess stays counted
	}
	return succeeded(ctx)
}
