// Package trigger holds the handlers of the functions that no HTTP request
// starts, one file a trigger: each decodes its event (an S3 notification, a
// schedule, a direct invocation), calls the domain, and shapes the result,
// the returned error (masked) and the log line. The HTTP functions'
// handlers are httpapi's routers. A function's main builds one of these
// and hands its Handle to lambda.Start; the tests drive each with the
// samples in events/ and fakes.
//
// A handler reaches the domain through function fields, which main sets
// to method values (svc.Provision), not through interfaces: a service held
// in an interface keeps every exported method in the binary (the mail
// templates' reflection), 128 KB more for the provision function.
package trigger
