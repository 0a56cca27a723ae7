package blind_test

import (
	"crypto/rand"
	"crypto/sha256"
	"fmt"

	"github.com/unionvote/eballot/crypto/blind"
)

func Example() {
	// Issuer (one key per ballot style); the SPKI goes into the manifest.
	sk, err := blind.GenerateIssuerKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	spki, _ := blind.MarshalPublicKey(&sk.PublicKey)
	pub, _ := blind.ParsePublicKey(spki)

	// Phone: T is the tracker of the encrypted ballot.
	T := sha256.Sum256([]byte("ballot bytes"))
	prepared, _ := blind.Prepare(rand.Reader, T[:])
	blinded, state, _ := blind.Blind(rand.Reader, pub, prepared)

	// Issuance (after the register checks): sign blindly.
	blindSig, _ := blind.BlindSign(sk, blinded)

	// Phone: unblind; cast (ballot, authorisation) anonymously.
	auth, err := state.Finalize(blindSig)
	if err != nil {
		panic(err)
	}

	// Ledger / scrutineer.
	fmt.Println(blind.Verify(pub, T[:], auth[:]) == nil)
	// Output: true
}
