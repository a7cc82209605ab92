// Package card knows what a card number looks like: its brand by issuer
// identification number (IIN) range, the lengths each brand issues, the Luhn
// check digit, and whether an expiry date has passed.
//
// Validate is the one entry point for numbers that arrive from outside. Its
// errors are *fault.Error values whose messages never repeat the number, so
// they are safe to log and to return to the caller.
package card

import (
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
	"github.com/atlas-network-tokens/atlas/shared/secret"
)

// Brand is a card scheme, as named in the public API.
type Brand string

// Brands this package recognises. Unknown is the zero value: a number whose
// IIN falls in none of the known ranges.
const (
	Visa       Brand = "visa"
	Mastercard Brand = "mastercard"
	Amex       Brand = "amex"
	Discover   Brand = "discover"
	Unknown    Brand = ""
)

// Request parameters named by Validate's errors.
const (
	ParamNumber   = "card[number]"
	ParamExpMonth = "card[exp_month]"
	ParamExpYear  = "card[exp_year]"
)

// maxYearsAhead bounds an expiry year: issuers print cards valid for a few
// years, so a year further out than this is a typing error.
const maxYearsAhead = 50

// minLength and maxLength bound every brand's lengths (ISO/IEC 7812 allows
// 8 to 19 digits; no brand here issues fewer than 13).
const (
	minLength = 13
	maxLength = 19
)

// Luhn reports whether digits is a non-empty string of ASCII digits whose
// last digit is the Luhn (mod 10) check digit of the rest.
func Luhn(digits string) bool {
	sum, ok := luhnSum(digits, false)
	return ok && sum%10 == 0
}

// LuhnCheckDigit returns the ASCII digit ('0' to '9') that, appended to
// partial, makes a number that passes Luhn. It returns 0 (not a digit) when
// partial is empty or holds anything but ASCII digits.
func LuhnCheckDigit(partial string) byte {
	// The digit to be appended sits in an undoubled position, so the last
	// digit of partial is doubled.
	sum, ok := luhnSum(partial, true)
	if !ok {
		return 0
	}
	return byte('0' + (10-sum%10)%10)
}

// luhnSum adds up digits from the right, doubling every other one (the
// rightmost too when doubleLast), each doubled digit over 9 less 9. It
// reports false for an empty string or one with anything but ASCII digits.
func luhnSum(digits string, doubleLast bool) (int, bool) {
	if digits == "" {
		return 0, false
	}
	sum, double := 0, doubleLast
	for i := len(digits) - 1; i >= 0; i-- {
		c := digits[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int(c - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum, true
}

// BrandOf returns the brand whose IIN range holds digits, or Unknown. Ranges:
// Visa 4; Mastercard 51–55 and 2221–2720; Amex 34 and 37; Discover 6011,
// 644–649, 65 and 622126–622925. It looks only at the leading digits and does
// not check length or the check digit.
func BrandOf(digits string) Brand {
	switch {
	case prefixIn(digits, 1, 4, 4):
		return Visa
	case prefixIn(digits, 2, 51, 55), prefixIn(digits, 4, 2221, 2720):
		return Mastercard
	case prefixIn(digits, 2, 34, 34), prefixIn(digits, 2, 37, 37):
		return Amex
	case prefixIn(digits, 4, 6011, 6011), prefixIn(digits, 3, 644, 649),
		prefixIn(digits, 2, 65, 65), prefixIn(digits, 6, 622126, 622925):
		return Discover
	}
	return Unknown
}

// prefixIn reports whether the first n characters of s are digits whose value
// lies in [lo, hi].
func prefixIn(s string, n, lo, hi int) bool {
	if len(s) < n {
		return false
	}
	v := 0
	for i := 0; i < n; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		v = v*10 + int(c-'0')
	}
	return v >= lo && v <= hi
}

// ValidLength reports whether brand b issues numbers of n digits: Visa 13,
// 16 or 19; Mastercard 16; Amex 15; Discover 16 to 19.
func ValidLength(b Brand, n int) bool {
	switch b {
	case Visa:
		return n == 13 || n == 16 || n == 19
	case Mastercard:
		return n == 16
	case Amex:
		return n == 15
	case Discover:
		return n >= 16 && n <= 19
	}
	return false
}

// Validate checks a card number and expiry date and returns the number as a
// PAN with its brand.
//
// The number must be ASCII digits only: spaces, dashes and anything else are
// rejected rather than stripped, so what is stored is exactly what was sent.
// Errors are *fault.Error values:
//   - invalid_card_number (ErrInvalid, card[number]): not all digits, an
//     unknown brand, a length the brand does not issue, or a failed Luhn check;
//   - invalid_expiry_month (ErrInvalid, card[exp_month]): not 1 to 12;
//   - invalid_expiry_year (ErrInvalid, card[exp_year]): not four digits, or
//     more than 50 years after now;
//   - card_expired (ErrRefused, card[exp_month]): the expiry month ended
//     before now's month, both read in UTC. A card is good through the last
//     day of its expiry month.
//
// No message repeats the number or any part of it.
func Validate(number string, expMonth, expYear int, now time.Time) (secret.PAN, Brand, error) {
	brand, err := checkNumber(number)
	if err != nil {
		return secret.PAN{}, Unknown, err
	}
	if err := checkExpiry(expMonth, expYear, now); err != nil {
		return secret.PAN{}, Unknown, err
	}
	return secret.NewPAN(number), brand, nil
}

func checkNumber(number string) (Brand, error) {
	if number == "" {
		return Unknown, invalidNumber("the card number is required")
	}
	if len(number) > maxLength {
		return Unknown, invalidNumber("the card number is too long")
	}
	for i := 0; i < len(number); i++ {
		if number[i] < '0' || number[i] > '9' {
			return Unknown, invalidNumber("the card number must contain digits only")
		}
	}
	if len(number) < minLength {
		return Unknown, invalidNumber("the card number is too short")
	}

	brand := BrandOf(number)
	if brand == Unknown {
		return Unknown, invalidNumber("the card number belongs to no supported card brand")
	}
	if !ValidLength(brand, len(number)) {
		return Unknown, invalidNumber("the card number has the wrong length for its brand")
	}
	if !Luhn(number) {
		return Unknown, invalidNumber("the card number is not valid (check digit mismatch)")
	}
	return brand, nil
}

func checkExpiry(month, year int, now time.Time) error {
	if month < 1 || month > 12 {
		return fault.Param(fault.ErrInvalid, "invalid_expiry_month", ParamExpMonth,
			"the expiry month must be a month number from 1 to 12")
	}

	now = now.UTC()
	if year < 1000 || year > 9999 {
		return fault.Param(fault.ErrInvalid, "invalid_expiry_year", ParamExpYear,
			"the expiry year must have four digits")
	}
	if year > now.Year()+maxYearsAhead {
		return fault.Param(fault.ErrInvalid, "invalid_expiry_year", ParamExpYear,
			"the expiry year is too far in the future")
	}

	if year < now.Year() || (year == now.Year() && month < int(now.Month())) {
		return fault.Param(fault.ErrRefused, "card_expired", ParamExpMonth,
			"the card has expired")
	}
	return nil
}

func invalidNumber(message string) error {
	return fault.Param(fault.ErrInvalid, "invalid_card_number", ParamNumber, message)
}
