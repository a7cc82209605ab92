package localkms

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/nsmithuk/local-kms/src/handler"
	"github.com/sirupsen/logrus"
)

// maxRequestBytes bounds a request body. KMS requests are small: the largest
// field, a ciphertext blob, is at most 6 KiB before base64.
const maxRequestBytes = 1 << 20

// action is one KMS operation, as a method of local-kms's request handler.
type action func(*handler.RequestHandler) handler.Response

// actions are the KMS operations the service, its tests and the dev server
// call, keyed by the name after "TrentService." in the X-Amz-Target header.
var actions = map[string]action{
	"CancelKeyDeletion":   (*handler.RequestHandler).CancelKeyDeletion,
	"CreateAlias":         (*handler.RequestHandler).CreateAlias,
	"CreateKey":           (*handler.RequestHandler).CreateKey,
	"Decrypt":             (*handler.RequestHandler).Decrypt,
	"DeleteAlias":         (*handler.RequestHandler).DeleteAlias,
	"DescribeKey":         (*handler.RequestHandler).DescribeKey,
	"DisableKey":          (*handler.RequestHandler).DisableKey,
	"EnableKey":           (*handler.RequestHandler).EnableKey,
	"Encrypt":             (*handler.RequestHandler).Encrypt,
	"GenerateDataKey":     (*handler.RequestHandler).GenerateDataKey,
	"ListAliases":         (*handler.RequestHandler).ListAliases,
	"ListKeys":            (*handler.RequestHandler).ListKeys,
	"ScheduleKeyDeletion": (*handler.RequestHandler).ScheduleKeyDeletion,
	"UpdateAlias":         (*handler.RequestHandler).UpdateAlias,
}

// quietLogger is handed to local-kms's handlers. They log key ARNs at Info and,
// on some validation failures, request values at Warn; none of it is wanted in
// our output, so everything goes nowhere.
var quietLogger = &logrus.Logger{
	Out:       io.Discard,
	Formatter: new(logrus.TextFormatter),
	Hooks:     make(logrus.LevelHooks),
	Level:     logrus.ErrorLevel,
}

// Handler returns the http.Handler that speaks the KMS JSON protocol for this
// Server's store, for mounting in another server (the dev server, say). Like
// local-kms's own program it answers only POST / with a JSON content type and
// dispatches on X-Amz-Target; unknown operations get a 501 with a JSON error.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(s.serveKMS)
}

func (s *Server) serveKMS(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path != "/":
		writePlain(w, http.StatusNotFound, "Page not found")
		return
	case r.Method != http.MethodPost:
		writePlain(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	case !strings.Contains(r.Header.Get("Content-Type"), "json"):
		writePlain(w, http.StatusUnsupportedMediaType, "Only JSON based content types accepted")
		return
	}

	target := r.Header.Get("X-Amz-Target")
	service, name, _ := strings.Cut(target, ".")
	call, ok := actions[name]
	if service != "TrentService" || !ok {
		writeError(w, http.StatusNotImplemented, "UnknownOperationException",
			fmt.Sprintf("operation %q is not served by localkms", target))
		return
	}

	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBytes)
	writeResponse(w, s.dispatch(call, r))
}

// dispatch runs one local-kms handler method. A panic inside the emulator
// becomes a 500 InternalFailureException rather than a dropped connection.
func (s *Server) dispatch(call action, r *http.Request) (resp handler.Response) {
	defer func() {
		if recover() != nil {
			resp = handler.NewInternalFailureExceptionResponse("emulator failed on this request")
		}
	}()
	return call(handler.NewRequestHandler(r, quietLogger, s.db))
}

func writeResponse(w http.ResponseWriter, resp handler.Response) {
	if resp.Code < 100 || resp.Code > 999 {
		resp = handler.NewInternalFailureExceptionResponse("emulator returned no status")
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(resp.Code)
	io.WriteString(w, resp.Body)
}

func writeError(w http.ResponseWriter, code int, errType, message string) {
	body, _ := json.Marshal(map[string]string{"__type": errType, "message": message})
	writeResponse(w, handler.Response{Code: code, Body: string(body)})
}

func writePlain(w http.ResponseWriter, code int, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, text)
}
