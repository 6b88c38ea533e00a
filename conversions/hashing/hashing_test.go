package hashing

import "testing"

// The vectors of the published hashing examples (docs/contracts/ad-platforms.md §1.2).
func TestDocumentedVectors(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	f(Hash(Email("John_Smith@gmail.com")), "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f")
	// The documented Google row is the digest of "johnsmith@gmail.com": its dots
	// (not underscores) are what Google's gmail rule removes.
	f(Hash(GoogleEmail("John.Smith@gmail.com")), "3586de92bb3636d0885a12eff961429a32e4ebd764b96f50d85d016f9338d586")
	f(Hash(PhoneDigits("+1 (650) 555-1212", "")), "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176")
	f(Hash(PhoneDigits("(650)555-1212", "1")), "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176")
	f(Hash(PhoneE164("(650)555-1212", "1")), "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8")
	f(Hash(Name("Mary")), "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec")
	f(Hash(Country("US")), "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621")
	f(Hash(Email("  Buyer@Example.COM ")), "6a6c26195c3682faa816966af789717c3bfa834eee6c599d667d2b3429c27cfd")
	f(Hash(PhoneDigits("+44 7700 900123", "")), "033134b911b137918338415ee3d20a064b24773d36a3b02e8b99fdd3fcd6b4cd")
	f(Hash(PhoneE164("+44 7700 900123", "")), "a8acc3a90a7b4e4dc65e93db9240ed26523050ef754d63b75b5161de76781436")
	f(Hash(PhoneE164("07700 900123", "44")), "a8acc3a90a7b4e4dc65e93db9240ed26523050ef754d63b75b5161de76781436")
	f(Hash(PhoneDigits("0044 7700 900123", "")), "033134b911b137918338415ee3d20a064b24773d36a3b02e8b99fdd3fcd6b4cd")
}

func TestNeverHashEmptyNorTwice(t *testing.T) {
	for _, in := range []string{"", "   ", "\t\n"} {
		if got := Hash(Email(in)); got != "" {
			t.Fatalf("Hash(Email(%q)) = %q, want absent", in, got)
		}
		if got := Hash(PhoneE164(in, "1")); got != "" {
			t.Fatalf("Hash(PhoneE164(%q)) = %q, want absent", in, got)
		}
	}
	digest := "62A14E44F765419D10FEA99367361A727C12365E2520F32218D505ED9AA0F62F"
	want := "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
	for name, fn := range map[string]func(string) string{
		"Email": Email, "GoogleEmail": GoogleEmail, "Name": Name, "Zip": Zip, "Country": Country,
		"PhoneDigits": func(s string) string { return PhoneDigits(s, "1") },
		"PhoneE164":   func(s string) string { return PhoneE164(s, "1") },
	} {
		if got := Hash(fn(" " + digest)); got != want {
			t.Fatalf("%s re-hashed a digest: %s", name, got)
		}
	}
}

func TestNormalisers(t *testing.T) {
	f := func(got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
	f(Name("  O'Brien-Smith "), "obriensmith")
	f(Name("Zoë"), "zoë")
	f(City("San Francisco"), "sanfrancisco")
	f(Alnum("New York 10"), "newyork10")
	f(Zip("94025-1234"), "94025")
	f(Zip("SW1A 1AA"), "sw1a1aa")
	f(Country(" GB "), "gb")
	f(Country("GBR"), "")
	f(GoogleEmail("A.B.C@googlemail.com"), "abc@googlemail.com")
	f(GoogleEmail("a.b@example.com"), "a.b@example.com")
	f(PhoneDigits("no digits", "1"), "")
	f(StrictE164("+44 7700 900123", ""), "+447700900123")
	f(StrictE164("07700 900123", "44"), "+447700900123")
	f(StrictE164("07700 900123", ""), "") // national, no country: unknown
	f(StrictE164("+1 555", ""), "")       // too short to be a number
	f(StrictE164("+1234567890123456", ""), "")
	f(TrimLower("  Mary "), "mary")
}

func FuzzNormalise(f *testing.F) {
	for _, s := range []string{"John_Smith@gmail.com", "+44 7700 900123", "", "Zoë", "94025-1234"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, v := range []string{Email(s), GoogleEmail(s), PhoneDigits(s, "1"), PhoneE164(s, ""), Name(s), Zip(s), Country(s), Alnum(s)} {
			h := Hash(v)
			if h == EmptyDigest {
				t.Fatalf("hashed an empty value from %q", s)
			}
			if h != "" && !IsHashed(h) {
				t.Fatalf("Hash(%q) = %q is not a digest", v, h)
			}
			if h != "" && Hash(h) != h {
				t.Fatalf("digest %q hashed again", h)
			}
		}
	})
}
