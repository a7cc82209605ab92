// Package networks is the service's port to the card networks' token
// services, and the sandbox simulators of Visa (VTS), Mastercard (MDES) and
// American Express (AETS) that stand behind it until real adapters exist.
//
// A Provider provisions a token from a card, reads it, issues cryptograms,
// checks them, and suspends, resumes or deletes the token. Sandbox.Provider
// returns the simulator of one network. The simulators run in process but
// keep their memory in a State (the DynamoDB store in production), because
// every Lambda function is its own process.
//
// # What the simulators return
//
// Token PANs come from sandbox token BIN ranges, never the card's BIN, and
// pass the Luhn check:
//
//	network     token BINs (16 or 15 digits)   reference                 PAR prefix
//	Visa        489537, 489538  (16)           32 hex digits             V001
//	Mastercard  522450, 522451  (16)           DM4MMC + 32 hex digits    5001
//	Amex        374800, 374801  (15)           AETS + 32 hex digits      A001
//
// The first BIN of a network is used unless the card's own BIN equals it.
// The reference carries 128 random bits. VTS names it vProvisionedTokenID;
// MDES names it tokenUniqueReference and starts it with a letter code such as
// DM4MMC; AETS's format is not public, so the AETS prefix is this sandbox's
// invention. The token expiry is three years ahead, in a month the network
// picks, independent of the card's expiry (MDES reports them apart as
// tokenExpiry and accountPanExpiry).
//
// The Payment Account Reference follows EMVCo's layout: 29 upper-case
// letters and digits, the first four a BIN controller identifier. V001 is
// the prefix of the Visa PAR in bePaid's published VTS sample
// (https://docs.bepaid.by/en/dev_tools/tokenization/vts); 5001 and A001 are
// this sandbox's choices. The other 25 characters are a keyed hash of the
// PAN under the sandbox root key, so every token of a card shares one PAR and
// the PAR reveals nothing of the PAN.
//
// # Cryptograms
//
// All three cryptograms are 20 bytes sent as 28 standard Base64 characters,
// the form Cybersource's paymentInformation.tokenizedCard.cryptogram field
// takes for every network ("28-character Base64 or 40-character hex binary",
// https://developer.cybersource.com/docs/cybs/en-us/api-fields/reference/all/so/api-fields/payment-info-tokenized-card-cryptogram.html).
//
//   - Visa: type TAVV, the Token Authentication Verification Value VTS
//     returns in cryptogramInfo with an ECI. ECI 07 (e-commerce, no
//     cardholder authentication), the default Clearhaus applies to VTS
//     cryptograms (github.com/clearhaus/gateway-api-docs, token payment
//     method) and Visa's 07 in Cybersource's ECI table (below).
//   - Mastercard: type UCAF, the Digital Secure Remote Payment (DSRP)
//     cryptogram that MDES transact returns when asked for dsrpType UCAF, in
//     encryptedData.de48se43Data, and that the acquirer carries in DE 48
//     subelement 43 (MDES Digital Enablement API, TransactEncryptedData).
//     Clearhaus accepts a Mastercard value as DSRP only if it starts with A
//     to P, so the first byte is below 0x40. MDES returns no ECI; this
//     sandbox returns 06, the value Cybersource lists for a Mastercard
//     "network token without 3-D Secure"
//     (https://developer.cybersource.com/docs/cybs/en-us/credentials/developer/smartfdc/rest/credentials/credentials-ref-info-payerauth.html).
//     Mastercard's ECIs (00, 01, 02, 06, 07) are not Visa's: sending Visa's
//     05 or 07 for Mastercard is the bug behind
//     github.com/activemerchant/active_merchant/pull/5055.
//   - American Express: type TOKEN_DATA_BLOCK_A. Amex token cryptograms
//     are 20 bytes (or 40, split into blocks A and B); acquirers call the
//     first 20 bytes Token Data Block A (Valitor/Teya's token transaction
//     guide, https://audur-docs-authorization-collect-eu1.valitor.com/online-payments/token-transactions/)
//     and Cybersource puts them in its CAVV field. This sandbox issues block
//     A only. ECI 05: Cybersource requires commerce indicator aesk, its name
//     for ECI 05, on Amex network token cryptograms
//     (https://developer.cybersource.com/docs/cybs/en-us/samsung-pay/developer/ctv/rest/samsungpay/samsungpay-auth-merdecypt-amex-mandatory.html).
//     AEVV, by contrast, is the SafeKey (3-D Secure) value, not a token
//     cryptogram.
//
// The 20 bytes are laid out by this sandbox, since the schemes keep their
// own layouts and keys private: a format byte, the application transaction
// counter (ATC) as four big-endian bytes, and 15 bytes of HMAC-SHA256 under a
// per-token key over the reference and the ATC. The per-token key is
// HMAC-SHA256 of the network and the reference under the sandbox root key,
// so Verify recomputes a value from the root key and the ATC it carries;
// cryptograms are never stored. State raises the ATC atomically with every
// cryptogram, so every call gives a new value.
//
// # What the simulators do not do
//
// They do not bind a cryptogram to an amount, a merchant or an unpredictable
// number, as real DSRP and TAVV cryptograms can. Verify does not remember
// which ATCs were used; single use is enforced by whoever authorizes. Step-up
// authentication (OTP) after requires_additional_authentication is not
// simulated. Token PAN replacement (a new Generation) has no method yet.
package networks
