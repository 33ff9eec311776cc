package socket

import "testing"

func TestMayRecover(t *testing.T) {
	alice := &Identity{UserID: "u1", Role: "customer", Proof: ProofToken}
	aliceCookie := &Identity{UserID: "u1", Role: "customer", Proof: ProofCookie}
	aliceAdmin := &Identity{UserID: "u1", Role: "admin"}
	bob := &Identity{UserID: "u2", Role: "customer"}
	cases := map[string]struct {
		saved savedIdentity
		proof *Identity
		want  bool
	}{
		"token session, same token":            {savedIdentity{Proven: alice, Registered: alice}, alice, true},
		"token session, another user's token":  {savedIdentity{Proven: alice, Registered: alice}, bob, false},
		"token session, same user's cookie":    {savedIdentity{Proven: alice, Registered: alice}, aliceCookie, true},
		"token session, same user, other role": {savedIdentity{Proven: alice}, aliceAdmin, false},
		"token session, no proof":              {savedIdentity{Proven: alice}, nil, false},
		"claimed session, no proof":            {savedIdentity{Registered: alice}, nil, true},
		"claimed session, its user's token":    {savedIdentity{Registered: alice}, alice, true},
		"claimed session, another user's":      {savedIdentity{Registered: alice}, bob, false},
		"anonymous session, any proof":         {savedIdentity{}, bob, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.saved.mayRecover(tc.proof); got != tc.want {
				t.Errorf("mayRecover = %v, want %v", got, tc.want)
			}
		})
	}
}
