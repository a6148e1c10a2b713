package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/issuer"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/secrets"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

// rotateSigningKey adds a generation of issuer signing keys (serve --issuer-url). Running servers
// pick it up within a minute without a restart; the keys it replaces stay in the JWKS until every
// token they signed has expired.
func rotateSigningKey(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("rotate-signing-key", stdout)
	dsn := dbFlag(fs)
	var mk masterKeyOptions
	mk.register(fs)
	activateIn := fs.Duration("activate-in", 0, "publish the new keys now and sign with them only after this long (e.g. 10m), so vendors that cache the JWKS already hold them; 0 signs with them at once (after a suspected leak of the old key)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	mk.markFlags(fs)
	if *activateIn < 0 || *activateIn > 24*time.Hour {
		return usageError{"--activate-in must be between 0 and 24h"}
	}
	key, _, _, err := mk.load(*dsn)
	if err != nil {
		return err
	}
	ring, err := secrets.NewKeyring(key)
	if err != nil {
		return err
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	now := time.Now().UTC()
	gen, err := service.RotateSigningKey(ctx, st, ring, now, *activateIn)
	if err != nil {
		return err
	}
	keys, err := issuer.List(ctx, st)
	if err != nil {
		return err
	}
	signsFrom := gen[0].NotBefore
	if _, err := fmt.Fprintf(stdout, "added signing keys %s; they sign from %s.\n", kidsOf(gen), signsFrom.Format(time.RFC3339)); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(tw, "KID\tALG\tSIGNS FROM\tLEAVES THE JWKS")
	for _, k := range keys {
		retire := "-"
		if k.RetireAfter != nil {
			retire = k.RetireAfter.Format(time.RFC3339)
		}
		_, _ = fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", k.KID, k.Alg, k.NotBefore.Format(time.RFC3339), retire)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "Running servers sign with the new keys within %s, without a restart. The keys they replace stay published until every token they signed has expired (%s after the new keys start signing).\n",
		time.Minute, issuer.RetireDelay)
	return err
}

func kidsOf(keys []store.SigningKey) string {
	out := ""
	for n, k := range keys {
		if n > 0 {
			out += ", "
		}
		out += k.KID + " (" + k.Alg + ")"
	}
	return out
}
