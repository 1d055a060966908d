package signer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"onboarding/infra/testenv"
	"onboarding/shared/authtoken"
	"onboarding/shared/signer"
)

// TestKMSSignerAgainstKMS signs through a KMS API (moto's server) with an
// ECC_NIST_P256 key, as the template creates it, and verifies the token with
// the public key KMS hands out.
func TestKMSSignerAgainstKMS(t *testing.T) {
	testenv.Integration(t)
	ctx := context.Background()
	client := kms.NewFromConfig(testenv.AWSConfig(), func(o *kms.Options) { o.BaseEndpoint = aws.String(testenv.KMSEndpoint()) })
	key, err := client.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		t.Fatalf("KMS at %s: %v (start it with `make emulators`)", testenv.KMSEndpoint(), err)
	}
	kmsSigner, pub, err := signer.Load(ctx, "", client, aws.ToString(key.KeyMetadata.KeyId))
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := authtoken.NewIssuer(ctx, kmsSigner, "urn:kms-test", 15*time.Minute, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ { // ECDSA signatures vary; each must verify
		token, _, err := issuer.Issue(ctx, "u1", "kari@example.no", "")
		if err != nil {
			t.Fatal(err)
		}
		claims, err := authtoken.NewVerifier("urn:kms-test", pub).Verify(token)
		if err != nil || claims.Subject != "u1" {
			t.Fatalf("verify a KMS-signed token: %v", err)
		}
	}
	if _, _, err := signer.Load(ctx, "", client, "no-such-key"); err == nil || !strings.Contains(err.Error(), "kms") {
		t.Fatalf("an unknown key must fail at start: %v", err)
	}
}
