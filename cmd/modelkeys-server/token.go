package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/modelkeys/terraform-provider-modelkeys/internal/service"
	"github.com/modelkeys/terraform-provider-modelkeys/internal/store"
)

func tokenCreate(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("token create", stdout)
	dsn := dbFlag(fs)
	// --org has no default: a token for an organisation the caller did not mean sees none of its
	// objects, and nothing says why. (Embedded mode keeps its objects in organisation "default".)
	org := fs.String("org", "", "organisation the token belongs to, created if new (required; embedded mode's is default)")
	role := fs.String("role", "", "admin, editor or viewer")
	name := fs.String("name", "", "a name for the token, shown in audit events")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *org == "" {
		return usageError{"token create needs --org NAME, the organisation whose objects the token reaches (created if new); " +
			"a database the Terraform provider's embedded mode made keeps them in organisation default.\n" +
			"usage: modelkeys-server token create --org NAME --role admin|editor|viewer --name NAME"}
	}
	if !service.ValidRole(*role) || *name == "" {
		return usageError{"usage: modelkeys-server token create --org NAME --role admin|editor|viewer --name NAME"}
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	value, tok, err := service.CreateToken(ctx, st, *org, *role, *name, time.Now())
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", value)
	if err == nil {
		_, err = fmt.Fprintf(stdout, "# token %s (%s, role %s, organisation %s): shown once, store it now\n", tok.ID, tok.Name, tok.Role, *org)
	}
	return err
}

func tokenList(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("token list", stdout)
	dsn := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tORGANIZATION\tNAME\tROLE\tCREATED\tREVOKED")
	err = st.Tx(ctx, func(tx store.Tx) error {
		toks, err := tx.ListTokens(ctx)
		if err != nil {
			return err
		}
		orgNames := map[string]string{}
		for _, t := range toks {
			if _, ok := orgNames[t.OrgID]; !ok {
				org, err := tx.GetOrganization(ctx, t.OrgID)
				if err != nil {
					return err
				}
				orgNames[t.OrgID] = org.Name
			}
			revoked := "-"
			if t.RevokedAt != nil {
				revoked = t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, orgNames[t.OrgID], t.Name, t.Role, t.CreatedAt.Format(time.RFC3339), revoked)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

func tokenRevoke(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlagSet("token revoke", stdout)
	dsn := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return usageError{"usage: modelkeys-server token revoke [--db DB] TOKEN_ID"}
	}
	st, err := openStore(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	id := fs.Arg(0)
	if err := st.Tx(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, id, time.Now().UTC()) }); err != nil {
		return fmt.Errorf("revoke %s: %w", id, err)
	}
	_, err = fmt.Fprintf(stdout, "revoked %s\n", id)
	return err
}
