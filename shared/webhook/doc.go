// Package webhook sends the service's events to merchants' HTTPS endpoints,
// signed so that the merchant can tell them from forgeries.
//
// # Endpoints
//
// A merchant registers an endpoint with its secret key (POST
// /functions/v1/webhook-endpoints {"url", "events"}). Registration answers
// with a signing secret, "whsec_" and 64 hex digits, once; the Registry
// keeps it sealed with envelope encryption (it must be able to sign with
// it, so a hash would not do). An endpoint with no event types gets every
// type. Policy decides which URLs are accepted: absolute https, no
// credentials, not in a private or reserved address range; loopback only
// for local development.
//
// # Delivery
//
// In AWS the EventBridge publisher puts each event on the bus, a rule sends
// it to the dispatcher function, and Dispatcher.HandleEventBridge delivers
// it. Locally, Publisher delivers in process. Each delivery is
//
//	POST <url>
//	Content-Type: application/json
//	User-Agent: Atlas-Webhooks/1
//	Atlas-Event-Id: evt_…
//	Atlas-Event-Type: network_token.created
//	Atlas-Signature: t=1737461400,v1=5f2b…
//
//	{"id":"evt_…","type":"network_token.created","createdAt":"…","merchantId":"…","data":{…}}
//
// Any 2xx answer is success. A network error, a timeout (5 seconds), 408,
// 429 or a 5xx is retried twice, after about 1 and 2 seconds; other
// statuses, redirects included, are not retried. If an endpoint still has
// not taken the event, the invocation fails, Lambda retries it, and after
// that the event waits in the dead-letter queue. Delivery is at least once
// and unordered: an endpoint can get an event twice (drop repeats by id)
// and a later event before an earlier one (compare createdAt).
//
// # Verifying a delivery
//
// Atlas-Signature holds the time of sending, t, in Unix seconds, and one or
// more v1 entries: each the hex HMAC-SHA256, keyed with the whole signing
// secret string, of t, a full stop, and the raw body. A receiver should
//
//  1. take the body as raw bytes, before any JSON parsing;
//  2. compute the HMAC and compare it with each v1 in constant time;
//  3. refuse a t more than a few minutes from its own clock (a replay);
//  4. answer 2xx quickly and do the work afterwards, dropping event ids it
//     has already handled.
//
// In Go, with this package:
//
//	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
//	if err != nil {
//		http.Error(w, "unreadable body", http.StatusBadRequest)
//		return
//	}
//	err = webhook.Verify(secret, r.Header.Get("Atlas-Signature"), body, time.Now(), 5*time.Minute)
//	if err != nil {
//		http.Error(w, "bad signature", http.StatusBadRequest)
//		return
//	}
//	// body is authentic: decode it and queue the work.
//
// Without it, in Go's standard library only:
//
//	func verified(secret, header string, body []byte, now time.Time) bool {
//		var ts string
//		var sigs []string
//		for _, part := range strings.Split(header, ",") {
//			k, v, _ := strings.Cut(part, "=")
//			switch k {
//			case "t":
//				ts = v
//			case "v1":
//				sigs = append(sigs, v)
//			}
//		}
//		sent, err := strconv.ParseInt(ts, 10, 64)
//		if err != nil || now.Sub(time.Unix(sent, 0)).Abs() > 5*time.Minute {
//			return false
//		}
//		m := hmac.New(sha256.New, []byte(secret))
//		m.Write([]byte(ts + "."))
//		m.Write(body)
//		want := m.Sum(nil)
//		for _, s := range sigs {
//			if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
//				return true
//			}
//		}
//		return false
//	}
//
// In Node.js (Express: route the webhook path through express.raw so that
// req.body is the raw Buffer):
//
//	const crypto = require("node:crypto");
//
//	function verified(secret, header, rawBody, toleranceSeconds = 300) {
//	  const fields = (header || "").split(",").map((p) => p.split("="));
//	  const t = fields.find(([k]) => k === "t")?.[1];
//	  const sigs = fields.filter(([k]) => k === "v1").map(([, v]) => v);
//	  if (!/^\d+$/.test(t || "")) return false;
//	  if (Math.abs(Date.now() / 1000 - Number(t)) > toleranceSeconds) return false;
//	  const want = crypto.createHmac("sha256", secret)
//	    .update(t + ".").update(rawBody).digest();
//	  return sigs.some((s) => {
//	    const got = Buffer.from(s, "hex");
//	    return got.length === want.length && crypto.timingSafeEqual(got, want);
//	  });
//	}
//
// # What it does not do yet
//
// Endpoints cannot be updated, paused or given a new secret; rotate by
// registering a second endpoint and deleting the first. Every failed
// invocation sends the event again to the endpoints that had taken it.
// Parked events are not redriven automatically.
package webhook
