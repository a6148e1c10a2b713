package federation

import "testing"

func TestCheckAudiencesNotClientID(t *testing.T) {
	if got := CheckAudiencesNotClientID([]string{"modelkeys", "console"}, ""); got != nil {
		t.Errorf("without a client_id nothing clashes: %v", got)
	}
	got := CheckAudiencesNotClientID([]string{"modelkeys", "console"}, "console")
	if len(got) != 1 || got[0].Index != 1 {
		t.Fatalf("the audience equal to the client_id is refused by its index: %v", got)
	}
}
