package card

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

func TestLuhn(t *testing.T) {
	tests := []struct {
		digits string
		want   bool
	}{
		{"4242424242424242", true},
		{"4111111111111111", true},
		{"5555555555554444", true},
		{"378282246310005", true},
		{"6011111111111117", true},
		{"79927398713", true},
		{"0", true},
		{"4242424242424241", false},
		{"79927398710", false},
		{"", false},
		{"4242 4242 4242 4242", false},
		{"42424242424242a2", false},
		{"-4242424242424242", false},
	}
	for _, tt := range tests {
		if got := Luhn(tt.digits); got != tt.want {
			t.Errorf("Luhn(%q) = %v, want %v", tt.digits, got, tt.want)
		}
	}
}

func TestLuhnCheckDigit(t *testing.T) {
	tests := []struct {
		partial string
		want    byte
	}{
		{"424242424242424", '2'},
		{"411111111111111", '1'},
		{"37828224631000", '5'},
		{"7992739871", '3'},
		{"0", '0'},
		{"", 0},
		{"4x", 0},
	}
	for _, tt := range tests {
		if got := LuhnCheckDigit(tt.partial); got != tt.want {
			t.Errorf("LuhnCheckDigit(%q) = %q, want %q", tt.partial, got, tt.want)
		}
	}
}

// Every digit string completed with LuhnCheckDigit passes Luhn, and no other
// final digit does.
func TestLuhnCheckDigitCompletes(t *testing.T) {
	partials := []string{"1", "12", "400000000000000", "52008282828282", "6221260000000"}
	for _, p := range partials {
		check := LuhnCheckDigit(p)
		for d := byte('0'); d <= '9'; d++ {
			if got := Luhn(p + string(d)); got != (d == check) {
				t.Errorf("Luhn(%q+%q) = %v; check digit is %q", p, d, got, check)
			}
		}
	}
}

func TestBrandOf(t *testing.T) {
	tests := []struct {
		digits string
		want   Brand
	}{
		{"4242424242424242", Visa},
		{"4", Visa},
		{"5105105105105100", Mastercard},
		{"5555555555554444", Mastercard},
		{"2221000000000009", Mastercard},
		{"2720999999999996", Mastercard},
		{"2220999999999999", Unknown},
		{"2721000000000000", Unknown},
		{"5000000000000000", Unknown},
		{"5600000000000000", Unknown},
		{"340000000000009", Amex},
		{"378282246310005", Amex},
		{"350000000000000", Unknown},
		{"6011111111111117", Discover},
		{"6440000000000000", Discover},
		{"6490000000000000", Discover},
		{"6500000000000000", Discover},
		{"6221260000000000", Discover},
		{"6229250000000000", Discover},
		{"6221250000000000", Unknown},
		{"6229260000000000", Unknown},
		{"6012000000000000", Unknown},
		{"62212", Unknown},
		{"", Unknown},
		{"x4242", Unknown},
		{"3", Unknown},
	}
	for _, tt := range tests {
		if got := BrandOf(tt.digits); got != tt.want {
			t.Errorf("BrandOf(%q) = %q, want %q", tt.digits, got, tt.want)
		}
	}
}

func TestValidLength(t *testing.T) {
	want := map[Brand][]int{
		Visa:       {13, 16, 19},
		Mastercard: {16},
		Amex:       {15},
		Discover:   {16, 17, 18, 19},
		Unknown:    nil,
	}
	for brand, lengths := range want {
		for n := 0; n <= 25; n++ {
			ok := false
			for _, l := range lengths {
				ok = ok || l == n
			}
			if got := ValidLength(brand, n); got != ok {
				t.Errorf("ValidLength(%q, %d) = %v, want %v", brand, n, got, ok)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	now := time.Date(2026, time.March, 15, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name   string
		number string
		month  int
		year   int
		brand  Brand
		kind   error
		code   string
		param  string
	}{
		{"visa", "4242424242424242", 12, 2030, Visa, nil, "", ""},
		{"visa 13 digits", "4222222222222", 1, 2027, Visa, nil, "", ""},
		{"mastercard 2-series", "2223003122003222", 3, 2026, Mastercard, nil, "", ""},
		{"amex", "378282246310005", 1, 2076, Amex, nil, "", ""},
		{"discover", "6011111111111117", 6, 2028, Discover, nil, "", ""},
		{"empty", "", 12, 2030, "", fault.ErrInvalid, "invalid_card_number", ParamNumber},
		{"spaces", "4242 4242 4242 4242", 12, 2030, "", fault.ErrInvalid,
			"invalid_card_number", ParamNumber},
		{"dashes", "4242-4242-4242-4242", 12, 2030, "", fault.ErrInvalid,
			"invalid_card_number", ParamNumber},
		{"unicode digits", "４２４２４２４２４２４２４２４２", 12, 2030, "", fault.ErrInvalid,
			"invalid_card_number", ParamNumber},
		{"too short", "424242424242", 12, 2030, "", fault.ErrInvalid,
			"invalid_card_number", ParamNumber},
		{"too long", "42424242424242424242", 12, 2030, "", fault.ErrInvalid,
			"invalid_card_number", ParamNumber},
		{"luhn", "4242424242424241", 12, 2030, "", fault.ErrInvalid,
			"invalid_card_number", ParamNumber},
		{"unknown brand", "9999999999999995", 12, 2030, "", fault.ErrInvalid,
			"invalid_card_number", ParamNumber},
		{"amex length 16", "3782822463100005", 12, 2030, "", fault.ErrInvalid,
			"invalid_card_number", ParamNumber},
		{"mastercard length 19", "5555555555554444000", 12, 2030, "", fault.ErrInvalid,
			"invalid_card_number", ParamNumber},
		{"month 0", "4242424242424242", 0, 2030, "", fault.ErrInvalid,
			"invalid_expiry_month", ParamExpMonth},
		{"month 13", "4242424242424242", 13, 2030, "", fault.ErrInvalid,
			"invalid_expiry_month", ParamExpMonth},
		{"two-digit year", "4242424242424242", 12, 30, "", fault.ErrInvalid,
			"invalid_expiry_year", ParamExpYear},
		{"five-digit year", "4242424242424242", 12, 20300, "", fault.ErrInvalid,
			"invalid_expiry_year", ParamExpYear},
		{"51 years ahead", "4242424242424242", 12, 2077, "", fault.ErrInvalid,
			"invalid_expiry_year", ParamExpYear},
		{"last month", "4242424242424242", 2, 2026, "", fault.ErrRefused,
			"card_expired", ParamExpMonth},
		{"last year", "4242424242424242", 12, 2025, "", fault.ErrRefused,
			"card_expired", ParamExpMonth},
		{"this month is still good", "4242424242424242", 3, 2026, Visa, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pan, brand, err := Validate(tt.number, tt.month, tt.year, now)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if pan.Reveal() != tt.number || brand != tt.brand {
					t.Fatalf("got %v %q, want ****%s %q", pan, brand, pan.Last4(), tt.brand)
				}
				return
			}
			var fe *fault.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *fault.Error", err)
			}
			if !errors.Is(err, tt.kind) || fe.Code != tt.code || fe.Param != tt.param {
				t.Fatalf("got kind %v code %q param %q, want %v %q %q",
					fe.Kind, fe.Code, fe.Param, tt.kind, tt.code, tt.param)
			}
			if !pan.IsZero() || brand != Unknown {
				t.Fatalf("an error came with a PAN or a brand")
			}
			assertNoDigits(t, err.Error(), tt.number)
		})
	}
}

// The expiry check reads now in UTC: late on the last day of a month in a
// zone west of UTC is already the next month.
func TestValidateExpiryUsesUTC(t *testing.T) {
	zone := time.FixedZone("UTC-5", -5*3600)
	now := time.Date(2026, time.March, 31, 22, 0, 0, 0, zone) // 1 April 03:00 UTC
	_, _, err := Validate("4242424242424242", 3, 2026, now)
	if !errors.Is(err, fault.ErrRefused) {
		t.Fatalf("got %v, want card_expired", err)
	}
}

var longDigitRun = regexp.MustCompile(`[0-9]{4,}`)

// assertNoDigits fails when an error text repeats the input's digits or holds
// any run of four or more digits.
func assertNoDigits(t *testing.T, text, input string) {
	t.Helper()
	var digits strings.Builder
	for _, r := range input {
		if r >= '0' && r <= '9' {
			digits.WriteRune(r)
		}
	}
	if digits.Len() >= 4 && strings.Contains(text, digits.String()) {
		t.Fatalf("error text %q repeats the input digits", text)
	}
	if len(input) >= 4 && strings.Contains(text, input) {
		t.Fatalf("error text %q repeats the input", text)
	}
	if run := longDigitRun.FindString(text); run != "" {
		t.Fatalf("error text %q holds the digit run %q", text, run)
	}
}

func FuzzValidate(f *testing.F) {
	f.Add("4242424242424242", 12, 2030)
	f.Add("4242424242424241", 12, 2030)
	f.Add("", 0, 0)
	f.Add("6011111111111117", 13, 99)
	f.Add("3782 8224 6310 005", 1, 2020)
	f.Add("2223003122003222", 2, 3000)
	now := time.Date(2026, time.March, 15, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, number string, month, year int) {
		pan, brand, err := Validate(number, month, year, now)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *fault.Error", err)
			}
			assertNoDigits(t, err.Error(), number)
			return
		}
		if pan.Reveal() != number || !Luhn(number) || !ValidLength(brand, len(number)) {
			t.Fatalf("accepted an invalid number of brand %q", brand)
		}
	})
}
