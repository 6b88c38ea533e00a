package fakeads

import "testing"

func TestDigests(t *testing.T) {
	// Published SHA-256 vectors: "" and "abc".
	if Digest("") != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" ||
		Digest("abc") != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatal("Digest is not SHA-256 hex")
	}
	if EmailDigest("  Ada@Example.COM ") != Digest("ada@example.com") {
		t.Fatal("EmailDigest must trim and lower-case")
	}
	if PhoneDigest("+1 (555) 123-0000") != Digest("15551230000") {
		t.Fatal("PhoneDigest must keep digits only")
	}
	upper := "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
	if !LooksHashed(upper) || IsDigest(upper) || !IsDigest(Digest("x")) || LooksHashed("abc") {
		t.Fatal("digest shape checks wrong")
	}
	if !IsEmptyDigest(Digest("")) || IsEmptyDigest(Digest(" ")) {
		t.Fatal("IsEmptyDigest wrong")
	}
}
