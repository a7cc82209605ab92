package networks

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/atlas-network-tokens/atlas/shared/fault"
)

// Notification is a network's lifecycle message about one token, in a form
// that does not depend on the network. Zero fields carry no change.
type Notification struct {
	Reference string
	Status    Status
	// Reason says why: ReasonStatusUpdate, ReasonRedigitized, ReasonAccountClosed
	// or ReasonExpiryUpdated (the network may send others; they are kept).
	Reason string
	// SuspendedBy names who suspended a suspended token (SuspenderIssuer, …).
	SuspendedBy string
	// StatusAt is the network's own timestamp of the change: the order in
	// which notifications are applied, whatever order they arrive in.
	StatusAt time.Time

	TokenLast4    string
	TokenExpMonth int
	TokenExpYear  int
	CardLast4     string
	CardExpMonth  int
	CardExpYear   int
}

// Reason codes, modelled on MDES notifyTokenUpdated's eventReasonCode.
const (
	ReasonStatusUpdate  = "STATUS_UPDATE"
	ReasonRedigitized   = "REDIGITIZATION_COMPLETE"
	ReasonAccountClosed = "ACCOUNT_CLOSED"
	ReasonExpiryUpdated = "TOKEN_EXPIRY_UPDATED"
)

// Who suspended a token, as MDES names the parties.
const (
	SuspenderIssuer         = "ISSUER"
	SuspenderTokenRequestor = "TOKEN_REQUESTOR"
	SuspenderCardholder     = "CARDHOLDER"
)

// The MDES form (Mastercard; the Amex sandbox speaks it too): a batch of
// token updates. Real MDES encrypts tokenInfo with field-level encryption;
// the sandbox sends it in clear, signed, and holds no PAN in it.
type mdesNotification struct {
	RequestID string      `json:"requestId"`
	Tokens    []mdesToken `json:"tokens"`
}

type mdesToken struct {
	TokenUniqueReference string         `json:"tokenUniqueReference"`
	Status               string         `json:"status"`
	EventReasonCode      string         `json:"eventReasonCode,omitempty"`
	SuspendedBy          []string       `json:"suspendedBy,omitempty"`
	StatusTimestamp      string         `json:"statusTimestamp"`
	TokenInfo            *mdesTokenInfo `json:"tokenInfo,omitempty"`
}

type mdesTokenInfo struct {
	TokenPanSuffix   string `json:"tokenPanSuffix,omitempty"`
	AccountPanSuffix string `json:"accountPanSuffix,omitempty"`
	TokenExpiry      string `json:"tokenExpiry,omitempty"`      // MMYY
	AccountPanExpiry string `json:"accountPanExpiry,omitempty"` // MMYY
}

// The VTS form (Visa): one token per message, keyed by vProvisionedTokenID.
type vtsNotification struct {
	VProvisionedTokenID string         `json:"vProvisionedTokenID"`
	EventType           string         `json:"eventType"`
	EventTimestamp      string         `json:"eventTimeStamp"`
	Reason              string         `json:"reason,omitempty"`
	SuspendedBy         string         `json:"suspendedBy,omitempty"`
	TokenInfo           vtsTokenInfo   `json:"tokenInfo"`
	PaymentInstrument   *vtsInstrument `json:"paymentInstrument,omitempty"`
}

type vtsTokenInfo struct {
	TokenStatus    string   `json:"tokenStatus"`
	Last4          string   `json:"last4,omitempty"`
	ExpirationDate *vtsDate `json:"expirationDate,omitempty"`
}

type vtsInstrument struct {
	Last4          string   `json:"last4,omitempty"`
	ExpirationDate *vtsDate `json:"expirationDate,omitempty"`
}

type vtsDate struct {
	Month string `json:"month"`
	Year  string `json:"year"`
}

// VTS event types the sandbox sends.
const (
	vtsStatusUpdated   = "TOKEN_STATUS_UPDATED"
	vtsMetadataUpdated = "TOKEN_METADATA_UPDATED"
)

var networkStatus = map[string]Status{
	"ACTIVE": StatusActive, "SUSPENDED": StatusSuspended, "DEACTIVATED": StatusDeleted,
}

func wireStatus(s Status) string {
	for k, v := range networkStatus {
		if v == s {
			return k
		}
	}
	return ""
}

func errBadNotification(message string) error {
	return fault.New(fault.ErrInvalid, "invalid_notification", message)
}

// ParseNotification reads a network's lifecycle message.
func ParseNotification(network Network, body []byte) ([]Notification, error) {
	switch network {
	case Visa:
		return parseVTS(body)
	case Mastercard, Amex:
		return parseMDES(body)
	default:
		return nil, fault.New(fault.ErrNotFound, "unknown_network", "No such card network.")
	}
}

func parseMDES(body []byte) ([]Notification, error) {
	var m mdesNotification
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, errBadNotification("The notification is not a valid MDES token update.")
	}
	if len(m.Tokens) == 0 {
		return nil, errBadNotification("The notification names no token.")
	}
	out := make([]Notification, 0, len(m.Tokens))
	for _, t := range m.Tokens {
		n, err := t.notification()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func (t mdesToken) notification() (Notification, error) {
	n := Notification{Reference: t.TokenUniqueReference, Reason: t.EventReasonCode}
	var ok bool
	if n.Status, ok = networkStatus[t.Status]; !ok || n.Reference == "" {
		return Notification{}, errBadNotification("A token update lacks a reference or a known status.")
	}
	at, err := time.Parse(time.RFC3339, t.StatusTimestamp)
	if err != nil {
		return Notification{}, errBadNotification("A token update lacks an RFC 3339 statusTimestamp.")
	}
	n.StatusAt = at
	if len(t.SuspendedBy) > 0 {
		n.SuspendedBy = t.SuspendedBy[0]
	}
	if info := t.TokenInfo; info != nil {
		n.TokenLast4, n.CardLast4 = info.TokenPanSuffix, info.AccountPanSuffix
		if n.TokenExpMonth, n.TokenExpYear, err = parseMMYY(info.TokenExpiry); err != nil {
			return Notification{}, err
		}
		if n.CardExpMonth, n.CardExpYear, err = parseMMYY(info.AccountPanExpiry); err != nil {
			return Notification{}, err
		}
	}
	return n, nil
}

func parseVTS(body []byte) ([]Notification, error) {
	var v vtsNotification
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, errBadNotification("The notification is not a valid VTS lifecycle message.")
	}
	status, ok := networkStatus[v.TokenInfo.TokenStatus]
	if !ok || v.VProvisionedTokenID == "" {
		return nil, errBadNotification("The message lacks a token id or a known token status.")
	}
	at, err := time.Parse(time.RFC3339, v.EventTimestamp)
	if err != nil {
		return nil, errBadNotification("The message lacks an RFC 3339 eventTimeStamp.")
	}
	n := Notification{
		Reference: v.VProvisionedTokenID, Status: status, Reason: v.Reason,
		SuspendedBy: v.SuspendedBy, StatusAt: at, TokenLast4: v.TokenInfo.Last4,
	}
	if n.TokenExpMonth, n.TokenExpYear, err = v.TokenInfo.ExpirationDate.parse(); err != nil {
		return nil, err
	}
	if pi := v.PaymentInstrument; pi != nil {
		n.CardLast4 = pi.Last4
		if n.CardExpMonth, n.CardExpYear, err = pi.ExpirationDate.parse(); err != nil {
			return nil, err
		}
	}
	return []Notification{n}, nil
}

func (d *vtsDate) parse() (int, int, error) {
	if d == nil {
		return 0, 0, nil
	}
	month, errM := strconv.Atoi(d.Month)
	year, errY := strconv.Atoi(d.Year)
	if errM != nil || errY != nil || month < 1 || month > 12 || year < 2000 || year > 2100 {
		return 0, 0, errBadNotification("An expirationDate is not a valid month and year.")
	}
	return month, year, nil
}

// parseMMYY reads MDES's four-digit expiry; "" means not given.
func parseMMYY(s string) (int, int, error) {
	if s == "" {
		return 0, 0, nil
	}
	month, errM := strconv.Atoi(s[:min(2, len(s))])
	year, errY := strconv.Atoi(s[min(2, len(s)):])
	if len(s) != 4 || errM != nil || errY != nil || month < 1 || month > 12 {
		return 0, 0, errBadNotification("An expiry is not in MMYY form.")
	}
	return month, 2000 + year, nil
}

// EncodeNotification writes n in the network's own message form: what the
// sandbox network sends to the inbound notification endpoint.
func EncodeNotification(network Network, n Notification, requestID string) ([]byte, error) {
	at := n.StatusAt.UTC().Format(time.RFC3339Nano)
	switch network {
	case Visa:
		v := vtsNotification{
			VProvisionedTokenID: n.Reference, EventType: vtsStatusUpdated, EventTimestamp: at,
			Reason: n.Reason, SuspendedBy: n.SuspendedBy,
			TokenInfo: vtsTokenInfo{TokenStatus: wireStatus(n.Status), Last4: n.TokenLast4,
				ExpirationDate: vtsDateOf(n.TokenExpMonth, n.TokenExpYear)},
		}
		if n.Reason != ReasonStatusUpdate && n.Reason != ReasonAccountClosed {
			v.EventType = vtsMetadataUpdated
		}
		if n.CardLast4 != "" || n.CardExpMonth != 0 {
			v.PaymentInstrument = &vtsInstrument{Last4: n.CardLast4,
				ExpirationDate: vtsDateOf(n.CardExpMonth, n.CardExpYear)}
		}
		return json.Marshal(v)
	case Mastercard, Amex:
		t := mdesToken{
			TokenUniqueReference: n.Reference, Status: wireStatus(n.Status),
			EventReasonCode: n.Reason, StatusTimestamp: at,
			TokenInfo: &mdesTokenInfo{
				TokenPanSuffix: n.TokenLast4, AccountPanSuffix: n.CardLast4,
				TokenExpiry:      mmyy(n.TokenExpMonth, n.TokenExpYear),
				AccountPanExpiry: mmyy(n.CardExpMonth, n.CardExpYear),
			},
		}
		if n.SuspendedBy != "" {
			t.SuspendedBy = []string{n.SuspendedBy}
		}
		return json.Marshal(mdesNotification{RequestID: requestID, Tokens: []mdesToken{t}})
	default:
		return nil, fmt.Errorf("encoding notification: unknown network %q", network)
	}
}

func vtsDateOf(month, year int) *vtsDate {
	if month == 0 {
		return nil
	}
	return &vtsDate{Month: fmt.Sprintf("%02d", month), Year: strconv.Itoa(year)}
}

func mmyy(month, year int) string {
	if month == 0 {
		return ""
	}
	return fmt.Sprintf("%02d%02d", month, year%100)
}

// ParseNetwork reads a network name from a URL path.
func ParseNetwork(s string) (Network, bool) {
	switch n := Network(strings.ToLower(s)); n {
	case Visa, Mastercard, Amex:
		return n, true
	}
	return "", false
}
