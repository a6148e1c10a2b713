package federation

import "fmt"

// AudienceProblem is an audience (by its index in the list) that an identity provider may not have.
type AudienceProblem struct {
	Index   int
	Message string
}

// CheckAudiencesNotClientID refuses a workload audience equal to the provider's console client_id:
// the ID tokens people get for the console carry that aud, and anyone with an account at the issuer
// can get one (a public PKCE client needs no secret), so they would pass the workload exchange. The
// server refuses it on write and the Terraform provider at plan, both through this function.
func CheckAudiencesNotClientID(audiences []string, clientID string) []AudienceProblem {
	if clientID == "" {
		return nil
	}
	var out []AudienceProblem
	for i, a := range audiences {
		if a == clientID {
			out = append(out, AudienceProblem{Index: i, Message: fmt.Sprintf("audience %q is this provider's client_id: people's ID tokens for the console carry it as their aud, "+
				"so any person with an account at the issuer could exchange one as a workload. Use an audience only workloads ask for "+
				"(GitHub Actions: the audience input of the OIDC token request).", a)})
		}
	}
	return out
}
